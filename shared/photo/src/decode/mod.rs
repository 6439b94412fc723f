//! From the uploaded bytes to upright-able 8-bit pixels, within the limits.
//!
//! One entry point per format family: [`jpeg`] (libjpeg-turbo, DCT-domain scaling) and [`png_webp`] (the `image`
//! crate). Both read the header, check the [`Limits`], and only then decode; both hand back the pixels as stored,
//! with the EXIF orientation still to apply, because turning a 1600-pixel rendition costs less than turning the
//! decoded image.

mod jpeg;
mod jpeg_structure;
mod png_webp;

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::metadata::Orientation;

use crate::pixels::Pixels;
use crate::{Format, Limits, PhotoError};

/// A decoded image, as stored in the file.
pub(crate) struct Decoded {
    /// Possibly smaller than `stored_width × stored_height` (a JPEG decoded at 1/2, 1/4 or 1/8 scale).
    pub pixels: Pixels,
    /// The size the file declares, which the renditions' sizes are computed from.
    pub stored_width: u32,
    pub stored_height: u32,
    pub orientation: Orientation,
    /// Kept so the renditions look the same in a colour-managed viewer (a phone's Display P3 photo, say).
    pub icc_profile: Option<Vec<u8>>,
}

/// Decodes `input`, at a scale whose long edge is at least `largest_long_edge` when the format allows scaling.
pub(crate) fn decode(
    input: &[u8],
    format: Format,
    limits: &Limits,
    largest_long_edge: u32,
) -> Result<Decoded, PhotoError> {
    // The decoders are written not to panic, but they read hostile bytes: should one still panic, the upload is
    // refused as corrupt instead of taking the caller (a Lambda invocation serving other work) down with it.
    catch_unwind(AssertUnwindSafe(|| match format {
        Format::Jpeg => jpeg::decode(input, limits, largest_long_edge),
        Format::Png | Format::WebP => png_webp::decode(input, format, limits),
    }))
    .unwrap_or_else(|_| Err(PhotoError::corrupt(format, "the decoder panicked")))
}
