//! Why a photo was refused, in words a user can read, and as a stable code a program can match.
//!
//! `Display` is the reason shown to the person who uploaded the file ("the image is 65500 × 65500 pixels; at most
//! 64 megapixels are accepted"): short, no decoder jargon. The decoder's own error stays reachable as the
//! `source()` of [`PhotoError::Corrupt`] for logs. [`PhotoError::code`] is what a Lambda function puts in its
//! response or its Step Functions error type.

use std::error::Error as StdError;
use std::fmt;

use crate::Format;

/// Why [`render`](crate::render) refused an input.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Not a JPEG, PNG or WebP file, or one using a feature the decoders do not implement.
    #[error("{what}")]
    Unsupported { what: Unsupported },
    /// Claims to be a supported format but cannot be decoded: truncated, failed checksum, broken structure.
    #[error("the {format} file is damaged or incomplete")]
    Corrupt {
        format: Format,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// Over one of the [`Limits`](crate::Limits); found from the header, before any pixel was decoded.
    #[error("{exceeded}")]
    TooLarge { exceeded: Exceeded },
    /// The renditions asked for are not valid: a configuration bug, not the uploader's doing.
    #[error("invalid rendition configuration: {reason}")]
    InvalidSpec { reason: String },
    /// The JPEG encoder refused the pixels (or could not allocate); our fault, not the uploader's.
    #[error("the renditions could not be encoded")]
    Encode {
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl PhotoError {
    /// The reason for the user (the same text as `Display`).
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// A stable machine-readable name: `unsupported`, `corrupt`, `too_large`, `invalid_spec` or `encode_failed`.
    ///
    /// The first three are the uploader's problem (HTTP 4xx, do not retry); the last two are ours.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::Unsupported { .. } => "unsupported",
            PhotoError::Corrupt { .. } => "corrupt",
            PhotoError::TooLarge { .. } => "too_large",
            PhotoError::InvalidSpec { .. } => "invalid_spec",
            PhotoError::Encode { .. } => "encode_failed",
        }
    }

    pub(crate) fn corrupt(format: Format, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        PhotoError::Corrupt { format, source: source.into() }
    }

    pub(crate) fn too_large(exceeded: Exceeded) -> Self {
        PhotoError::TooLarge { exceeded }
    }

    pub(crate) fn unsupported(what: Unsupported) -> Self {
        PhotoError::Unsupported { what }
    }
}

/// What kind of input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// Zero bytes.
    Empty,
    /// Not any image format we recognise.
    Unknown,
    /// A recognised image format that is not accepted (`"GIF"`, `"TIFF"`, `"HEIC"`, …).
    OtherFormat(&'static str),
    /// A JPEG, PNG or WebP using something the decoder does not implement ("arithmetic coding").
    Feature { format: Format, feature: String },
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::Empty => f.write_str("the file is empty"),
            Unsupported::Unknown => f.write_str("the file is not a JPEG, PNG or WebP image"),
            Unsupported::OtherFormat(name) => {
                write!(f, "{name} images are not accepted; upload a JPEG, PNG or WebP image")
            }
            Unsupported::Feature { format, feature } => {
                write!(f, "this {format} uses {feature}, which is not supported; save it as a standard {format}")
            }
        }
    }
}

/// Which limit an input is over, with the numbers to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    InputBytes {
        actual: u64,
        max: u64,
    },
    Pixels {
        width: u32,
        height: u32,
        max: u64,
    },
    Dimensions {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    /// `needed` is `None` when the decoder itself stopped at its allocation limit.
    DecodedBytes {
        needed: Option<u64>,
        max: u64,
    },
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exceeded::InputBytes { actual, max } => {
                write!(f, "the file is {}; at most {} are accepted", Mib(actual), Mib(max))
            }
            Exceeded::Pixels { width, height, max } => {
                write!(f, "the image is {width} × {height} pixels; at most {} megapixels are accepted", Mp(max))
            }
            Exceeded::Dimensions { width, height, max_width, max_height } => {
                write!(f, "the image is {width} × {height} pixels; at most {max_width} × {max_height} are accepted")
            }
            Exceeded::DecodedBytes { needed: Some(needed), max } => {
                write!(f, "decoding the image would need {} of memory; at most {} are allowed", Mib(needed), Mib(max))
            }
            Exceeded::DecodedBytes { needed: None, max } => {
                write!(f, "decoding the image would need more than {} of memory", Mib(max))
            }
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

/// A pixel count as megapixels ("64", "12.5").
struct Mp(u64);

impl fmt::Display for Mp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1_000_000) {
            write!(f, "{}", self.0 / 1_000_000)
        } else {
            write!(f, "{:.1}", self.0 as f64 / 1e6)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bomb_is_described_by_its_size_and_the_limit() {
        let e = PhotoError::too_large(Exceeded::Pixels { width: 65500, height: 65500, max: 64_000_000 });
        assert_eq!(e.reason(), "the image is 65500 × 65500 pixels; at most 64 megapixels are accepted");
        assert_eq!(e.code(), "too_large");
    }

    #[test]
    fn sizes_read_as_mib() {
        let e = Exceeded::InputBytes { actual: 26_500_000, max: 20 << 20 };
        assert_eq!(e.to_string(), "the file is 25.3 MiB; at most 20 MiB are accepted");
    }

    #[test]
    fn the_decoder_error_stays_the_source_of_a_corrupt_file() {
        let e = PhotoError::corrupt(Format::Png, "CRC error");
        assert_eq!(e.reason(), "the PNG file is damaged or incomplete");
        assert_eq!(e.source().map(|s| s.to_string()).as_deref(), Some("CRC error"));
    }
}
