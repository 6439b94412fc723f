//! PNG and WebP decoding with the `image` crate (its `png` and `webp` codecs only).
//!
//! Neither format can be decoded at a reduced scale, so the full image is decoded; the header is read first and
//! the limits checked before `image` allocates the pixel buffer. The decoder exposes the EXIF orientation of a
//! PNG `eXIf` chunk placed before the image data and of a WebP `EXIF` chunk.

use std::io::Cursor;

use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::error::{ImageError, UnsupportedErrorKind};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder};

use super::Decoded;
use crate::error::{Exceeded, PhotoError, Unsupported};
use crate::pixels::{Channels, Pixels};
use crate::{Format, Limits};

pub(super) fn decode(input: &[u8], format: Format, limits: &Limits) -> Result<Decoded, PhotoError> {
    let error = |e| image_error(e, format, limits);
    // Only the allocation cap at first: the size limits are checked by `finish`, which can say which one.
    let mut header_limits = image::Limits::no_limits();
    header_limits.max_alloc = Some(limits.max_decoded_bytes);
    match format {
        Format::Png => {
            finish(PngDecoder::with_limits(Cursor::new(input), header_limits).map_err(error)?, format, limits)
        }
        Format::WebP => {
            let mut decoder = WebPDecoder::new(Cursor::new(input)).map_err(error)?;
            decoder.set_limits(header_limits).map_err(error)?;
            finish(decoder, format, limits)
        }
        Format::Jpeg => unreachable!("JPEG is decoded by decode::jpeg"),
    }
}

fn finish(mut decoder: impl ImageDecoder, format: Format, limits: &Limits) -> Result<Decoded, PhotoError> {
    let error = |e| image_error(e, format, limits);
    let (width, height) = decoder.dimensions();
    limits.check_dimensions(width, height)?;
    let colour = decoder.color_type();
    // 16-bit samples are converted into a new 8-bit RGB or grey buffer; 8-bit ones in place.
    let conversion =
        if colour.bytes_per_pixel() > colour.channel_count() { u64::from(width) * u64::from(height) * 3 } else { 0 };
    limits.check_decoded_bytes(decoder.total_bytes().saturating_add(conversion))?;
    decoder.set_limits(limits.for_image_crate()).map_err(error)?;

    // Metadata that cannot be read is ignored rather than costing the user their photo.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc_profile = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(error)?;
    let pixels = to_pixels(image)
        .ok_or_else(|| PhotoError::corrupt(format, "the decoder returned fewer pixels than the header declares"))?;
    Ok(Decoded { pixels, stored_width: width, stored_height: height, orientation, icc_profile })
}

fn to_pixels(image: DynamicImage) -> Option<Pixels> {
    let (w, h) = (image.width(), image.height());
    match image {
        DynamicImage::ImageLuma8(b) => Pixels::new(w, h, Channels::Grey, b.into_raw()),
        DynamicImage::ImageLumaA8(b) => Pixels::from_grey_alpha(w, h, b.into_raw()),
        DynamicImage::ImageRgb8(b) => Pixels::new(w, h, Channels::Rgb, b.into_raw()),
        DynamicImage::ImageRgba8(b) => Pixels::from_rgba(w, h, b.into_raw()),
        DynamicImage::ImageLuma16(b) => Pixels::from_u16(w, h, Channels::Grey, false, b.as_raw()),
        DynamicImage::ImageLumaA16(b) => Pixels::from_u16(w, h, Channels::Grey, true, b.as_raw()),
        DynamicImage::ImageRgb16(b) => Pixels::from_u16(w, h, Channels::Rgb, false, b.as_raw()),
        DynamicImage::ImageRgba16(b) => Pixels::from_u16(w, h, Channels::Rgb, true, b.as_raw()),
        // Floating-point images come from HDR and EXR decoders, which are not compiled in.
        other => Pixels::from_rgba(w, h, other.to_rgba8().into_raw()),
    }
}

fn image_error(e: ImageError, format: Format, limits: &Limits) -> PhotoError {
    match e {
        ImageError::Limits(_) => {
            PhotoError::too_large(Exceeded::DecodedBytes { needed: None, max: limits.max_decoded_bytes })
        }
        ImageError::Unsupported(u) => {
            let feature = match u.kind() {
                UnsupportedErrorKind::Color(colour) => format!("the colour type {colour:?}"),
                UnsupportedErrorKind::GenericFeature(feature) => feature,
                _ => u.to_string(),
            };
            PhotoError::unsupported(Unsupported::Feature { format, feature })
        }
        e => PhotoError::corrupt(format, e),
    }
}
