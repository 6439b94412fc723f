//! Renditions to baseline JPEG with mozjpeg's libjpeg-turbo, quality 85.
//!
//! The encoder Pillow uses (libjpeg-turbo), with the settings Pillow uses (quality 85, 4:2:0 chroma subsampling,
//! accurate integer DCT, the standard quantisation and Huffman tables): from the same pixels it writes the very
//! bytes Pillow writes, so file sizes and artefacts match what a Pillow pipeline would produce. mozjpeg's own
//! defaults (progressive, trellis quantisation, optimised Huffman tables, its own quantisation tables) make the
//! large rendition 18% smaller but take 30 times as long (184 ms against 6); its "fastest" profile turns them all
//! off and is libjpeg-turbo.
//! Baseline rather than progressive: renditions are small, and baseline decodes faster on phones. The source's ICC
//! profile is copied so colours stay right; its EXIF is not: the pixels are already upright, and a photo's EXIF
//! carries its GPS position, which a public rendition must not.

use mozjpeg::{ColorSpace, Compress, Marker};

use crate::PhotoError;
use crate::libjpeg::{self, LibjpegError, Warnings};
use crate::pixels::{Channels, Pixels};

/// The JPEG quality of every rendition.
pub const JPEG_QUALITY: u8 = 85;

pub(crate) fn encode(pixels: &Pixels, icc_profile: Option<&[u8]>) -> Result<Vec<u8>, PhotoError> {
    let colour = match pixels.channels {
        Channels::Grey => ColorSpace::JCS_GRAYSCALE,
        Channels::Rgb => ColorSpace::JCS_RGB,
    };
    let (width, height) = (pixels.width as usize, pixels.height as usize);
    let encode_error = |reason: String| PhotoError::Encode { source: reason.into() };
    libjpeg::run(|| {
        let mut compressor = Compress::new_err(Box::new(libjpeg::error_manager(Warnings::Ignored)), colour);
        // Resets every parameter, so it comes first.
        compressor.set_fastest_defaults();
        compressor.set_size(width, height);
        compressor.set_quality(f32::from(JPEG_QUALITY));
        if colour == ColorSpace::JCS_RGB {
            // YCbCr with both chroma planes at half width and height (4:2:0); grey input gives one component.
            compressor.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
        }
        // About a fifth of the pixel bytes is a generous guess at quality 85; the vector grows if needed.
        let output = Vec::with_capacity(pixels.data.len() / 5);
        let mut started = compressor.start_compress(output).map_err(|e| e.to_string())?;
        if let Some(profile) = icc_profile {
            write_icc_profile(&mut started, profile);
        }
        started.write_scanlines(&pixels.data).map_err(|e| e.to_string())?;
        started.finish().map_err(|e| e.to_string())
    })
    .map_err(|e: LibjpegError| encode_error(e.0))?
    .map_err(encode_error)
}

/// Writes `profile` as APP2 `ICC_PROFILE` chunks, which libjpeg puts after the JFIF header. A profile too large
/// for 255 chunks is left out rather than losing the rendition. (mozjpeg's own `write_icc_profile` numbers the
/// chunks from 0, where the ICC specification and every reader start at 1.)
fn write_icc_profile<W>(started: &mut mozjpeg::compress::CompressStarted<W>, profile: &[u8]) {
    // A segment holds at most 65,535 bytes, counting its length field (2) and the chunk header (14).
    const CHUNK: usize = 65_535 - 2 - 14;
    let Ok(count) = u8::try_from(profile.len().div_ceil(CHUNK)) else { return };
    let mut segment = Vec::with_capacity(14 + CHUNK.min(profile.len()));
    for (i, chunk) in profile.chunks(CHUNK).enumerate() {
        segment.clear();
        segment.extend_from_slice(b"ICC_PROFILE\0");
        segment.extend_from_slice(&[i as u8 + 1, count]);
        segment.extend_from_slice(chunk);
        started.write_marker(Marker::APP(2), &segment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marker segments before the first scan: (marker, contents after the length field).
    fn segments(jpeg: &[u8]) -> Vec<(u8, &[u8])> {
        let mut at = 2;
        let mut found = Vec::new();
        while jpeg[at + 1] != 0xDA {
            let end = at + 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            found.push((jpeg[at + 1], &jpeg[at + 4..end]));
            at = end;
        }
        found
    }

    fn gradient(channels: Channels) -> Pixels {
        let (width, height) = (96u32, 64u32);
        let data = (0..width * height * channels as u32).map(|i| (i % 251) as u8).collect();
        Pixels::new(width, height, channels, data).expect("a buffer of the right length")
    }

    #[test]
    fn renditions_are_baseline_with_libjpegs_standard_tables_at_quality_85() {
        let jpeg = encode(&gradient(Channels::Rgb), None).unwrap();
        let segments = segments(&jpeg);
        let frame = segments.iter().find(|(m, _)| (0xC0..=0xCF).contains(m)).expect("a frame header");
        assert_eq!(frame.0, 0xC0, "baseline (SOF0), not progressive or extended");
        // Components: 3, Y sampled 2 × 2 and the chroma 1 × 1, that is 4:2:0.
        assert_eq!((frame.1[5], frame.1[7], frame.1[10], frame.1[13]), (3, 0x22, 0x11, 0x11));
        // The luminance table of JPEG Annex K scaled to quality 85 (libjpeg: 200 - 2 × 85 = 30 %), in zigzag
        // order; mozjpeg's default profile would use another table.
        let dqt = segments.iter().find(|(m, _)| *m == 0xDB).expect("a quantisation table").1;
        let annex_k_zigzag_start = [16u16, 11, 12, 14, 12, 10, 16, 14];
        let expected: Vec<u8> = annex_k_zigzag_start.iter().map(|q| ((q * 30 + 50) / 100).max(1) as u8).collect();
        assert_eq!(dqt[0], 0, "table 0, 8-bit");
        assert_eq!(&dqt[1..9], &expected[..]);
        // The standard Huffman tables, not optimised ones: the luminance DC table has 12 symbols.
        let dht = segments.iter().find(|(m, _)| *m == 0xC4).expect("a Huffman table").1;
        assert_eq!(dht[0], 0x00);
        assert_eq!(dht[1..17].iter().map(|&n| usize::from(n)).sum::<usize>(), 12);
    }

    #[test]
    fn grey_pixels_become_a_one_component_jpeg() {
        let jpeg = encode(&gradient(Channels::Grey), None).unwrap();
        let frame = segments(&jpeg).into_iter().find(|(m, _)| *m == 0xC0).expect("SOF0").1;
        assert_eq!(frame[5], 1);
    }

    #[test]
    fn the_icc_profile_follows_the_jfif_header_in_chunks_numbered_from_one() {
        let profile: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
        let jpeg = encode(&gradient(Channels::Rgb), Some(&profile)).unwrap();
        let segments = segments(&jpeg);
        assert_eq!(segments[0].0, 0xE0, "JFIF first");
        let chunks: Vec<&[u8]> = segments[1..4].iter().map(|&(m, data)| if m == 0xE2 { data } else { &[] }).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            assert!(chunk.starts_with(b"ICC_PROFILE\0"), "chunk {i}");
            assert_eq!(chunk[12..14], [i as u8 + 1, 3], "chunk {i}");
        }
        assert_eq!(chunks.iter().flat_map(|c| &c[14..]).copied().collect::<Vec<u8>>(), profile);
    }

    #[test]
    fn a_profile_too_large_for_255_chunks_is_left_out() {
        let profile = vec![7u8; 256 * 65_519];
        let jpeg = encode(&gradient(Channels::Rgb), Some(&profile)).unwrap();
        assert!(segments(&jpeg).iter().all(|&(m, _)| m != 0xE2));
    }
}
