//! Renditions to baseline JPEG with libjpeg-turbo, quality 85.
//!
//! The same encoder Pillow uses, with the same settings (quality 85, 4:2:0 chroma subsampling, accurate integer
//! DCT, standard Huffman tables), so file sizes and artefacts match what a Pillow pipeline would produce.
//! Baseline rather than progressive: renditions are small, and baseline decodes faster on phones. The source's
//! ICC profile is copied so colours stay right; its EXIF is not: the pixels are already upright, and a photo's
//! EXIF carries its GPS position, which a public rendition must not.

use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

use crate::PhotoError;
use crate::pixels::{Channels, Pixels};

/// The JPEG quality of every rendition.
pub const JPEG_QUALITY: u8 = 85;

pub(crate) fn encode(pixels: &Pixels, icc_profile: Option<&[u8]>) -> Result<Vec<u8>, PhotoError> {
    let (format, subsampling) = match pixels.channels {
        Channels::Grey => (PixelFormat::GRAY, Subsamp::Gray),
        Channels::Rgb => (PixelFormat::RGB, Subsamp::Sub2x2),
    };
    let encode_error = |e: turbojpeg::Error| PhotoError::Encode { source: e.into() };
    let mut compressor = Compressor::new().map_err(encode_error)?;
    compressor.set_quality(i32::from(JPEG_QUALITY)).map_err(encode_error)?;
    compressor.set_subsamp(subsampling).map_err(encode_error)?;
    let width = pixels.width as usize;
    let image = Image {
        pixels: &pixels.data[..],
        width,
        pitch: width * pixels.channels as usize,
        height: pixels.height as usize,
        format,
    };
    let jpeg = compressor.compress_to_vec(image).map_err(encode_error)?;
    Ok(match icc_profile {
        Some(profile) => with_icc_profile(jpeg, profile),
        None => jpeg,
    })
}

/// `jpeg` with `profile` inserted as APP2 `ICC_PROFILE` chunks after the JFIF header (where libjpeg puts them).
/// A profile too large for 255 chunks is left out rather than losing the rendition.
fn with_icc_profile(jpeg: Vec<u8>, profile: &[u8]) -> Vec<u8> {
    // A segment holds at most 65,535 bytes, counting its length field (2) and the chunk header (14).
    const CHUNK: usize = 65_535 - 2 - 14;
    let chunks: Vec<&[u8]> = profile.chunks(CHUNK).collect();
    let Ok(count) = u8::try_from(chunks.len()) else { return jpeg };
    // After SOI, skip the APP0 JFIF segment if libjpeg wrote one.
    let mut at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0])
        && let Some(&[hi, lo]) = jpeg.get(4..6)
    {
        at = 4 + usize::from(u16::from_be_bytes([hi, lo]));
    }
    let Some(tail) = jpeg.get(at..) else { return jpeg };
    let mut out = Vec::with_capacity(jpeg.len() + profile.len() + 18 * chunks.len());
    out.extend_from_slice(&jpeg[..at]);
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((chunk.len() + 16) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, count]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(tail);
    out
}
