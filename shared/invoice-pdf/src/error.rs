//! Why a PDF did not give an invoice, in words a user can read, and as a stable code a program can match.
//!
//! `Display` is the reason shown to whoever uploaded or mailed the file ("the PDF is protected by a password");
//! [`ParseError::code`] is what a Lambda function puts in its response or its Step Functions error type. The
//! codes say what the caller should do: `invalid_document` (the file cannot be read: ask for another one),
//! `no_text` (a scan: only OCR would help), `not_an_invoice` (readable, but no invoice in it) and
//! `invalid_embedded_invoice` (an e-invoice whose authoritative XML is broken: the sender must fix it).

use std::fmt;

/// Why [`parse`](crate::parse) gave no invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The file is not a readable PDF: not a PDF, damaged, password-protected, or over a [`Limits`](crate::Limits).
    #[error("{0}")]
    InvalidDocument(Invalid),
    /// The PDF is readable but has no text layer to read (a scanned image, say).
    #[error("the PDF has no text to read (is it a scan?); an invoice needs a text layer or an embedded e-invoice")]
    NoText,
    /// The PDF has text, but not the fields that make it an invoice.
    #[error("the PDF does not look like an invoice: no {} found", list(missing))]
    NotAnInvoice {
        /// The fields not found, by name (`"invoice number"`, `"issue date"`, `"total"`, …).
        missing: Vec<&'static str>,
    },
    /// The PDF carries a Factur-X, ZUGFeRD or XRechnung XML, which is the invoice, and that XML cannot be read.
    /// The text layer is not used instead: it is only a picture of the authoritative XML.
    #[error("the embedded e-invoice {file} cannot be read: {reason}")]
    InvalidEmbeddedInvoice { file: String, reason: String },
}

impl ParseError {
    /// The reason for the user (the same text as `Display`).
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// A stable machine-readable name: `invalid_document`, `no_text`, `not_an_invoice` or
    /// `invalid_embedded_invoice`. All four are the sender's problem (HTTP 422, do not retry).
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::InvalidDocument(_) => "invalid_document",
            ParseError::NoText => "no_text",
            ParseError::NotAnInvoice { .. } => "not_an_invoice",
            ParseError::InvalidEmbeddedInvoice { .. } => "invalid_embedded_invoice",
        }
    }

    pub(crate) fn damaged(what: impl Into<String>) -> Self {
        ParseError::InvalidDocument(Invalid::Damaged(what.into()))
    }

    pub(crate) fn exceeded(exceeded: Exceeded) -> Self {
        ParseError::InvalidDocument(Invalid::TooLarge(exceeded))
    }
}

/// Why a file is not a readable PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Zero bytes.
    Empty,
    /// No `%PDF-` header.
    NotAPdf,
    /// The end of the file is missing (no `startxref` / `%%EOF` at the end): a cut-off download or attachment.
    Truncated,
    /// A structure that cannot be read, described for a person ("it has no pages").
    Damaged(String),
    /// Encrypted with a user password (one that opening the file requires).
    PasswordProtected,
    /// Over one of the [`Limits`](crate::Limits).
    TooLarge(Exceeded),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Empty => f.write_str("the file is empty"),
            Invalid::NotAPdf => f.write_str("the file is not a PDF"),
            Invalid::Truncated => f.write_str("the PDF is truncated: its end is missing"),
            Invalid::Damaged(what) => write!(f, "the PDF is damaged: {what}"),
            Invalid::PasswordProtected => f.write_str("the PDF is protected by a password; send it without one"),
            Invalid::TooLarge(exceeded) => exceeded.fmt(f),
        }
    }
}

/// Which limit a PDF is over, with the numbers to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    InputBytes {
        actual: u64,
        max: u64,
    },
    Objects {
        max: usize,
    },
    /// One stream decodes to more than this.
    StreamBytes {
        max: usize,
    },
    /// All decoded streams together.
    DecodedBytes {
        max: usize,
    },
    Operations {
        max: usize,
    },
    Pages {
        max: usize,
    },
    Glyphs {
        max: usize,
    },
    ObjectStreams {
        max: usize,
    },
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exceeded::InputBytes { actual, max } => {
                write!(f, "the PDF is {}; at most {} are accepted", Mib(actual), Mib(max))
            }
            Exceeded::Objects { max } => write!(f, "the PDF has more than {max} objects"),
            Exceeded::StreamBytes { max } => {
                write!(f, "a stream in the PDF decodes to more than {}", Mib(max as u64))
            }
            Exceeded::DecodedBytes { max } => {
                write!(f, "the PDF's streams decode to more than {} in all", Mib(max as u64))
            }
            Exceeded::Operations { max } => write!(f, "the PDF's pages have more than {max} drawing operations"),
            Exceeded::Pages { max } => write!(f, "the PDF has more than {max} pages"),
            Exceeded::Glyphs { max } => write!(f, "the PDF's pages show more than {max} characters"),
            Exceeded::ObjectStreams { max } => write!(f, "the encrypted PDF has more than {max} object streams"),
        }
    }
}

/// Bytes as MiB, with one decimal only when it is not whole ("20 MiB", "25.3 MiB").
struct Mib(u64);

impl fmt::Display for Mib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        if self.0.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.0 / MIB)
        } else if self.0 < MIB / 10 {
            write!(f, "{} bytes", self.0)
        } else {
            write!(f, "{:.1} MiB", self.0 as f64 / MIB as f64)
        }
    }
}

/// "a", "a or b", "a, b or c".
fn list(items: &[&str]) -> String {
    match items {
        [] => "invoice fields".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_read_as_a_list() {
        let e = ParseError::NotAnInvoice { missing: vec!["invoice number", "issue date", "total"] };
        assert_eq!(e.reason(), "the PDF does not look like an invoice: no invoice number, issue date or total found");
        assert_eq!(e.code(), "not_an_invoice");
    }

    #[test]
    fn limits_name_their_numbers() {
        let e = ParseError::exceeded(Exceeded::InputBytes { actual: 40 << 20, max: 32 << 20 });
        assert_eq!(e.reason(), "the PDF is 40 MiB; at most 32 MiB are accepted");
        assert_eq!(e.code(), "invalid_document");
    }
}
