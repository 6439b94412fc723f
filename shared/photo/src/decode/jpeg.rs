//! JPEG decoding with libjpeg-turbo (the `turbojpeg` crate), scaled in the DCT domain.
//!
//! A JPEG stores 8 × 8 blocks of frequencies; decoding only the lowest 4 × 4, 2 × 2 or 1 × 1 of them yields the
//! image at 1/2, 1/4 or 1/8 size for a fraction of the inverse-DCT, upsampling and colour-conversion work
//! (libjpeg's `scale_denom`, Pillow's `draft`). The scale chosen is the smallest whose long edge still covers the
//! largest rendition, so the resampler only ever shrinks. Only power-of-two scales are used: libjpeg-turbo has
//! SIMD inverse DCTs for those, while 3/8, 5/8… run scalar code that costs more than it saves.
//!
//! The C decoder is only handed files the Rust walk in [`super::jpeg_structure`] accepted, at a size the limits
//! accept, into a buffer Rust allocated.

use image::metadata::Orientation;
use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat, ScalingFactor};

use super::Decoded;
use super::jpeg_structure::{self, Frame, StructureError};
use crate::buffers;
use crate::error::{PhotoError, Unsupported};
use crate::pixels::{Channels, Pixels};
use crate::{Format, Limits};

pub(super) fn decode(input: &[u8], limits: &Limits, largest_long_edge: u32) -> Result<Decoded, PhotoError> {
    let structure = jpeg_structure::walk(input).map_err(|e| match e {
        StructureError::TooManyScans => unsupported(format!("more than {} scans", jpeg_structure::MAX_SCANS)),
        e => PhotoError::corrupt(Format::Jpeg, e),
    })?;
    let frame = &structure.frame;
    check_frame(frame)?;
    let (width, height) = (u32::from(frame.width), u32::from(frame.height));
    limits.check_dimensions(width, height)?;

    let lossless = matches!(frame.process, 3 | 11);
    let scale = if lossless { ScalingFactor::ONE } else { dct_scale(width.max(height), largest_long_edge) };
    let (out_width, out_height) = (scale.scale(width as usize), scale.scale(height as usize));
    let mut decoder = Decompressor::new().map_err(corrupt)?;
    let multi_scan = structure.scans > 1;
    limits.check_decoded_bytes(decoder_memory(frame, multi_scan, out_width, out_height))?;
    decoder.set_scaling_factor(scale).map_err(corrupt)?;
    decoder.set_scan_limit(jpeg_structure::MAX_SCANS as u32).map_err(corrupt)?;

    let header = decoder.read_header(input).map_err(corrupt)?;
    if (header.width, header.height) != (width as usize, height as usize) {
        return Err(PhotoError::corrupt(Format::Jpeg, "the decoder read another frame size than the frame header's"));
    }
    let (format, channels) = match header.colorspace {
        Colorspace::Gray => (PixelFormat::GRAY, 1),
        Colorspace::CMYK | Colorspace::YCCK => (PixelFormat::CMYK, 4),
        Colorspace::RGB | Colorspace::YCbCr => (PixelFormat::RGB, 3),
    };
    let mut data = buffers::take(out_width * out_height * channels);
    let image =
        Image { pixels: &mut data[..], width: out_width, pitch: out_width * channels, height: out_height, format };
    // libjpeg-turbo reports a warning (premature end, corrupt data) as an error too: such a file is refused
    // rather than accepted with grey where the data was missing.
    decoder.decompress(input, image).map_err(corrupt)?;

    let (w, h) = (out_width as u32, out_height as u32);
    let pixels = match format {
        PixelFormat::GRAY => Pixels::new(w, h, Channels::Grey, data),
        PixelFormat::CMYK => Pixels::new(w, h, Channels::Rgb, cmyk_to_rgb(data, structure.adobe)),
        _ => Pixels::new(w, h, Channels::Rgb, data),
    }
    .ok_or_else(|| PhotoError::corrupt(Format::Jpeg, "the decoder returned fewer pixels than the frame declares"))?;

    let orientation = structure.exif.and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    Ok(Decoded { pixels, stored_width: width, stored_height: height, orientation, icc_profile: structure.icc_profile })
}

/// The smallest of 1/8, 1/4, 1/2 and 1 at which the long edge is still at least `target` pixels.
fn dct_scale(long_edge: u32, target: u32) -> ScalingFactor {
    [ScalingFactor::ONE_EIGHTH, ScalingFactor::ONE_QUARTER, ScalingFactor::ONE_HALF]
        .into_iter()
        .find(|scale| scale.scale(long_edge as usize) >= target as usize)
        .unwrap_or(ScalingFactor::ONE)
}

/// What libjpeg-turbo cannot do, said before it is asked to.
fn check_frame(frame: &Frame) -> Result<(), PhotoError> {
    if matches!(frame.process, 5..=7 | 13..=15) {
        return Err(unsupported("hierarchical coding".into()));
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

fn corrupt(e: turbojpeg::Error) -> PhotoError {
    PhotoError::corrupt(Format::Jpeg, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dct_scale_never_goes_below_the_largest_rendition() {
        assert_eq!(dct_scale(4000, 1600), ScalingFactor::ONE_HALF);
        assert_eq!(dct_scale(4000, 2000), ScalingFactor::ONE_HALF);
        assert_eq!(dct_scale(4000, 2001), ScalingFactor::ONE);
        assert_eq!(dct_scale(12_800, 1600), ScalingFactor::ONE_EIGHTH);
        assert_eq!(dct_scale(1599, 1600), ScalingFactor::ONE);
        // 4001 / 2 rounds up to 2001: libjpeg keeps the partial block.
        assert_eq!(dct_scale(4001, 2001), ScalingFactor::ONE_HALF);
    }

    #[test]
    fn adobe_cmyk_is_read_inverted() {
        // Pure red: no cyan ink, full magenta and yellow, no black.
        assert_eq!(cmyk_to_rgb(vec![0, 255, 255, 0], false), vec![255, 0, 0]);
        assert_eq!(cmyk_to_rgb(vec![255, 0, 0, 255], true), vec![255, 0, 0]);
    }
}
