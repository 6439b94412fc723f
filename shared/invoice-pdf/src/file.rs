//! [`parse`] from a file, for `local invoices parse <file.pdf>`.
//!
//! The file's size is checked before it is read, so a 10 GB file is refused without reading it.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use domain::invoice::Invoice;

use crate::{Limits, ParseError, parse};

/// Why [`parse_file`] failed: the PDF was refused, or the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseFileError {
    /// The PDF itself was refused; its `Display` is the reason for the user.
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

impl ParseFileError {
    /// The exit status for a command line: 2 when the PDF was refused, 1 when the file could not be read.
    pub fn exit_code(&self) -> i32 {
        match self {
            ParseFileError::Parse(_) => 2,
            ParseFileError::Read { .. } => 1,
        }
    }
}

/// The invoice in the PDF at `path`.
pub fn parse_file(path: impl AsRef<Path>, limits: &Limits) -> Result<Invoice, ParseFileError> {
    let path = path.as_ref();
    let read_error = |source| ParseFileError::Read { path: path.to_owned(), source };
    let file = fs::File::open(path).map_err(read_error)?;
    limits.check_input(file.metadata().map_err(read_error)?.len())?;
    // `take` guards against a file that grows between the size check and the read.
    let mut input = Vec::new();
    file.take(limits.max_input_bytes.saturating_add(1)).read_to_end(&mut input).map_err(read_error)?;
    Ok(parse(&input, limits)?)
}
