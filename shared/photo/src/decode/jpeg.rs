//! JPEG decoding with mozjpeg's libjpeg-turbo (the `mozjpeg` crate), scaled in the DCT domain.
//!
//! A JPEG stores 8 × 8 blocks of frequencies; decoding only the lowest 4 × 4, 2 × 2 or 1 × 1 of them yields the
//! image at 1/2, 1/4 or 1/8 size for a fraction of the inverse-DCT, upsampling and colour-conversion work
//! (libjpeg's `scale_num / scale_denom`, Pillow's `draft`). The scale chosen is the smallest whose long edge still
//! covers the largest rendition, so the resampler only ever shrinks. Only power-of-two scales are used:
//! libjpeg-turbo has SIMD inverse DCTs for those, while 3/8, 5/8… run scalar code that costs more than it saves.
//!
//! The C decoder is only handed files the Rust walk in [`super::jpeg_structure`] accepted, at a size the limits
//! accept, into a buffer Rust allocated; its warnings (missing or corrupt data) are errors ([`crate::libjpeg`]).

use image::metadata::Orientation;
use mozjpeg::{ColorSpace, ColorSpaceExt, Decompress};

use super::Decoded;
use super::jpeg_structure::{self, Frame, StructureError};
use crate::buffers;
use crate::error::{PhotoError, Unsupported};
use crate::libjpeg::{self, LibjpegError, Warnings};
use crate::pixels::{Channels, Pixels};
use crate::{Format, Limits};

pub(super) fn decode(input: &[u8], limits: &Limits, largest_long_edge: u32) -> Result<Decoded, PhotoError> {
    // The walk also refuses more than MAX_SCANS scans, which TurboJPEG's scan limit used to: libjpeg never sees a
    // scan bomb.
    let structure = jpeg_structure::walk(input).map_err(|e| match e {
        StructureError::TooManyScans => unsupported(format!("more than {} scans", jpeg_structure::MAX_SCANS)),
        e => PhotoError::corrupt(Format::Jpeg, e),
    })?;
    let frame = &structure.frame;
    check_frame(frame)?;
    let (width, height) = (u32::from(frame.width), u32::from(frame.height));
    limits.check_dimensions(width, height)?;

    let scale = dct_scale(width.max(height), largest_long_edge);
    let (out_width, out_height) = (scale.of(width) as usize, scale.of(height) as usize);
    let multi_scan = structure.scans > 1;
    limits.check_decoded_bytes(decoder_memory(frame, multi_scan, out_width, out_height))?;

    let (data, colour) = libjpeg::run(|| {
        let mut decoder = Decompress::builder()
            .with_err(libjpeg::error_manager(Warnings::Fatal))
            .from_mem(input)
            .map_err(|e| corrupt(e.to_string()))?;
        if decoder.size() != (width as usize, height as usize) {
            return Err(corrupt("the decoder read another frame size than the frame header's"));
        }
        let colour = match decoder.color_space() {
            ColorSpace::JCS_GRAYSCALE => ColorSpace::JCS_GRAYSCALE,
            ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => ColorSpace::JCS_CMYK,
            ColorSpace::JCS_RGB | ColorSpace::JCS_YCbCr => ColorSpace::JCS_RGB,
            other => return Err(unsupported(format!("the colour space {other:?}"))),
        };
        decoder.scale(scale.0);
        let mut decoder = decoder.to_colorspace(colour).map_err(|e| corrupt(e.to_string()))?;
        if (decoder.width(), decoder.height()) != (out_width, out_height) {
            return Err(corrupt("the decoder chose another output size than the scale gives"));
        }
        let mut data = buffers::take(out_width * out_height * colour.num_components());
        decoder.read_scanlines_into(&mut data[..]).map_err(|e| corrupt(e.to_string()))?;
        // Reads on to the end-of-image marker, where libjpeg still warns of corrupt data it skips.
        decoder.finish().map_err(|e| corrupt(e.to_string()))?;
        Ok((data, colour))
    })
    .map_err(|e: LibjpegError| PhotoError::corrupt(Format::Jpeg, e))??;

    let (w, h) = (out_width as u32, out_height as u32);
    let pixels = match colour {
        ColorSpace::JCS_GRAYSCALE => Pixels::new(w, h, Channels::Grey, data),
        ColorSpace::JCS_CMYK => Pixels::new(w, h, Channels::Rgb, cmyk_to_rgb(data, structure.adobe)),
        _ => Pixels::new(w, h, Channels::Rgb, data),
    }
    .ok_or_else(|| PhotoError::corrupt(Format::Jpeg, "the decoder returned fewer pixels than the frame declares"))?;

    let orientation = structure.exif.and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    Ok(Decoded { pixels, stored_width: width, stored_height: height, orientation, icc_profile: structure.icc_profile })
}

/// A DCT-domain scale in eighths: libjpeg's `scale_num` over a `scale_denom` of 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scale(u8);

impl Scale {
    const ONE_EIGHTH: Scale = Scale(1);
    const ONE_QUARTER: Scale = Scale(2);
    const ONE_HALF: Scale = Scale(4);
    const ONE: Scale = Scale(8);

    /// A side of `size` pixels at this scale, rounded up as libjpeg does (a partial block still gives pixels).
    fn of(self, size: u32) -> u32 {
        (u64::from(size) * u64::from(self.0)).div_ceil(8) as u32
    }
}

/// The smallest of 1/8, 1/4, 1/2 and 1 at which the long edge is still at least `target` pixels.
fn dct_scale(long_edge: u32, target: u32) -> Scale {
    [Scale::ONE_EIGHTH, Scale::ONE_QUARTER, Scale::ONE_HALF]
        .into_iter()
        .find(|scale| scale.of(long_edge) >= target)
        .unwrap_or(Scale::ONE)
}

/// What mozjpeg's libjpeg-turbo cannot do, said before it is asked to.
fn check_frame(frame: &Frame) -> Result<(), PhotoError> {
    if matches!(frame.process, 5..=7 | 13..=15) {
        return Err(unsupported("hierarchical coding".into()));
    }
    // mozjpeg's libjpeg-turbo has no lossless decoder (libjpeg-turbo gained one in 3.0).
    if matches!(frame.process, 3 | 11) {
        return Err(unsupported("lossless coding".into()));
    }
    if frame.precision != 8 {
        return Err(unsupported(format!("{}-bit samples", frame.precision)));
    }
    if ![1, 3, 4].contains(&frame.sampling.len()) {
        return Err(unsupported(format!("{} colour components", frame.sampling.len())));
    }
    if frame.height == 0 {
        return Err(unsupported("a height given only after the first scan (DNL)".into()));
    }
    if frame.width == 0 {
        return Err(PhotoError::corrupt(Format::Jpeg, "a frame zero pixels wide"));
    }
    Ok(())
}

/// The bytes the decoder needs for this frame decoded at `out_width × out_height`: the output buffer, and for a
/// file of several scans (progressive, or one scan per component) every coefficient of every block at full size,
/// an `i16` each, held until the last scan. A single-scan file is decoded one MCU row at a time.
fn decoder_memory(frame: &Frame, multi_scan: bool, out_width: usize, out_height: usize) -> u64 {
    let channels = if frame.sampling.len() == 1 { 1 } else { frame.sampling.len().max(3) } as u64;
    let mut bytes = out_width as u64 * out_height as u64 * channels;
    if multi_scan {
        let max_h = frame.sampling.iter().map(|s| u64::from(s.0)).max().unwrap_or(1);
        let max_v = frame.sampling.iter().map(|s| u64::from(s.1)).max().unwrap_or(1);
        let mcus_x = u64::from(frame.width).div_ceil(8 * max_h);
        let mcus_y = u64::from(frame.height).div_ceil(8 * max_v);
        for &(h, v) in &frame.sampling {
            bytes += mcus_x * u64::from(h) * mcus_y * u64::from(v) * 64 * 2;
        }
    }
    bytes
}

/// CMYK to RGB, in place (pixel i is written at 3i after reading 4i). Photoshop, which writes the Adobe marker,
/// stores CMYK inverted (255 = no ink); without the marker 0 means no ink. The naive conversion is what browsers
/// do for CMYK JPEGs without a colour profile.
fn cmyk_to_rgb(mut data: Vec<u8>, inverted: bool) -> Vec<u8> {
    let ink_free = |v: u8| u32::from(if inverted { v } else { 255 - v });
    let pixels = data.len() / 4;
    for i in 0..pixels {
        let k = ink_free(data[4 * i + 3]);
        for c in 0..3 {
            data[3 * i + c] = ((ink_free(data[4 * i + c]) * k + 127) / 255) as u8;
        }
    }
    data.truncate(pixels * 3);
    data
}

fn unsupported(feature: String) -> PhotoError {
    PhotoError::unsupported(Unsupported::Feature { format: Format::Jpeg, feature })
}

fn corrupt(reason: impl Into<String>) -> PhotoError {
    PhotoError::corrupt(Format::Jpeg, reason.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dct_scale_never_goes_below_the_largest_rendition() {
        assert_eq!(dct_scale(4000, 1600), Scale::ONE_HALF);
        assert_eq!(dct_scale(4000, 2000), Scale::ONE_HALF);
        assert_eq!(dct_scale(4000, 2001), Scale::ONE);
        assert_eq!(dct_scale(12_800, 1600), Scale::ONE_EIGHTH);
        assert_eq!(dct_scale(6400, 1600), Scale::ONE_QUARTER);
        assert_eq!(dct_scale(1599, 1600), Scale::ONE);
        // 4001 / 2 rounds up to 2001: libjpeg keeps the partial block.
        assert_eq!(dct_scale(4001, 2001), Scale::ONE_HALF);
        assert_eq!(Scale::ONE_EIGHTH.of(4001), 501);
    }

    #[test]
    fn adobe_cmyk_is_read_inverted() {
        // Pure red: no cyan ink, full magenta and yellow, no black.
        assert_eq!(cmyk_to_rgb(vec![0, 255, 255, 0], false), vec![255, 0, 0]);
        assert_eq!(cmyk_to_rgb(vec![255, 0, 0, 255], true), vec![255, 0, 0]);
    }
}
