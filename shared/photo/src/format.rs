//! Which format an upload is, read from its first bytes.
//!
//! The content type a client claims is not evidence: a browser labels files by extension and an attacker labels
//! them however they like, so the decoder is chosen from the magic bytes alone. Formats we cannot read are still
//! recognised by name, so the user is told "GIF images are not accepted" rather than "not an image".

use std::fmt;

/// An input format the renderer decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    /// The media type of this format (`image/jpeg`, …).
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::WebP => "WebP",
        })
    }
}

/// The format of `input` from its magic bytes; `None` when it is none of JPEG, PNG or WebP.
pub fn sniff(input: &[u8]) -> Option<Format> {
    if input.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if input.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if input.len() >= 12 && &input[..4] == b"RIFF" && &input[8..12] == b"WEBP" {
        Some(Format::WebP)
    } else {
        None
    }
}

/// The name of a well-known image format that is not accepted, for the message that refuses it.
pub(crate) fn sniff_other(input: &[u8]) -> Option<&'static str> {
    const ISO_BMFF_BRANDS: [(&[u8; 4], &str); 6] = [
        (b"heic", "HEIC"),
        (b"heix", "HEIC"),
        (b"mif1", "HEIF"),
        (b"msf1", "HEIF"),
        (b"avif", "AVIF"),
        (b"avis", "AVIF"),
    ];
    if input.starts_with(b"GIF87a") || input.starts_with(b"GIF89a") {
        Some("GIF")
    } else if input.starts_with(b"II*\0") || input.starts_with(b"MM\0*") {
        Some("TIFF")
    } else if input.starts_with(b"BM") && input.len() >= 14 {
        Some("BMP")
    } else if input.starts_with(&[0xFF, 0x0A]) || input.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        Some("JPEG XL")
    } else if input.len() >= 12 && &input[4..8] == b"ftyp" {
        ISO_BMFF_BRANDS.iter().find(|(brand, _)| &input[8..12] == *brand).map(|(_, name)| *name)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_riff_file_that_is_not_webp_is_not_sniffed_as_webp() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
    }

    #[test]
    fn a_jpeg_needs_the_third_marker_byte() {
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
    }

    #[test]
    fn heic_is_named_from_its_brand() {
        assert_eq!(sniff_other(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("HEIC"));
        assert_eq!(sniff_other(b"\0\0\0\x18ftypisom\0\0\0\0"), None);
    }
}
