//! [`render`] from a file into a directory, for `local photos render <file> --out <dir>`.
//!
//! The file's size is checked before it is read, so a 10 GB file is refused without reading it. Nothing is
//! written unless every rendition succeeded: a refused photo leaves the directory as it was.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Limits, PhotoError, RenditionSpec, render};

/// What was written for one rendition (`<out_dir>/<name>.jpg`): the command prints these as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenditionSummary {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Size of the JPEG file.
    pub bytes: u64,
}

/// Why [`render_file`] failed: the photo was refused, or the file system said no.
#[derive(Debug, thiserror::Error)]
pub enum RenderFileError {
    /// The photo itself was refused; its `Display` is the reason for the user.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

impl RenderFileError {
    /// The exit status for a command line: 2 when the photo was refused (corrupt, unsupported, too large), 1 when
    /// reading or writing failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            RenderFileError::Photo(_) => 2,
            RenderFileError::Read { .. } | RenderFileError::Write { .. } => 1,
        }
    }
}

/// Renders the photo at `path` and writes each rendition to `<out_dir>/<name>.jpg` (creating `out_dir`), in the
/// order of `specs`.
pub fn render_file(
    path: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
    specs: &[RenditionSpec],
    limits: &Limits,
) -> Result<Vec<RenditionSummary>, RenderFileError> {
    let (path, out_dir) = (path.as_ref(), out_dir.as_ref());
    let read_error = |source| RenderFileError::Read { path: path.to_owned(), source };
    let file = fs::File::open(path).map_err(read_error)?;
    limits.check_input(file.metadata().map_err(read_error)?.len())?;
    // `take` guards against a file that grows between the size check and the read.
    let mut input = Vec::new();
    file.take(limits.max_input_bytes.saturating_add(1)).read_to_end(&mut input).map_err(read_error)?;

    let renditions = render(&input, specs, limits)?;
    let write_error = |path: &Path, source| RenderFileError::Write { path: path.to_owned(), source };
    fs::create_dir_all(out_dir).map_err(|e| write_error(out_dir, e))?;
    renditions
        .into_iter()
        .map(|r| {
            let target = out_dir.join(format!("{}.jpg", r.name));
            fs::write(&target, &r.jpeg).map_err(|e| write_error(&target, e))?;
            Ok(RenditionSummary { name: r.name, width: r.width, height: r.height, bytes: r.jpeg.len() as u64 })
        })
        .collect()
}
