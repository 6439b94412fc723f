//! How large an input may be, checked from the header before any pixel buffer exists.
//!
//! A decompression bomb is a few kilobytes that declare an enormous image; the defence is to read the declared
//! size, refuse it, and only then let the decoder allocate. Each check has its own error so the user learns which
//! number was too big.

use crate::error::{Exceeded, PhotoError};

/// The largest input [`render`](crate::render) accepts.
///
/// The defaults ([`Limits::default`]) fit a Lambda function with 1 GiB of memory; see there for why each number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the uploaded file.
    pub max_input_bytes: u64,
    /// Width of the image as stored (before the EXIF orientation is applied).
    pub max_width: u32,
    /// Height of the image as stored.
    pub max_height: u32,
    /// Width × height.
    pub max_pixels: u64,
    /// The most memory the decoder may need for the image: its output pixels, plus for JPEG the component planes
    /// and (progressive JPEG) the coefficients, plus any 16-to-8-bit or CMYK conversion copy.
    pub max_decoded_bytes: u64,
}

impl Default for Limits {
    /// - 20 MiB input: the upload limit of the photo API.
    /// - 16,384 pixels a side: phone panoramas reach about 16,000 × 4,000, and 16,383 is WebP's own maximum.
    /// - 64 megapixels: the 50 MP modes of current phones store 8,160 × 6,144 (50.1 MP), full-frame cameras reach
    ///   61 MP; 64 MP leaves that headroom while bounding the time a PNG of that size takes to inflate (under a
    ///   second).
    /// - 256 MiB decoded: a 64 MP RGBA image (the largest 8-bit buffer the pixel limit allows). 16-bit PNGs and
    ///   progressive 4:4:4 JPEGs need more per pixel and are refused above ~33 and ~44 MP. With the renditions and
    ///   the input that is about 450 MiB at peak, within a 1 GiB Lambda.
    fn default() -> Self {
        Limits {
            max_input_bytes: 20 << 20,
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 64_000_000,
            max_decoded_bytes: 256 << 20,
        }
    }
}

impl Limits {
    pub(crate) fn check_input(&self, len: u64) -> Result<(), PhotoError> {
        if len > self.max_input_bytes {
            return Err(PhotoError::too_large(Exceeded::InputBytes { actual: len, max: self.max_input_bytes }));
        }
        Ok(())
    }

    /// The declared size. Pixels first: a bomb is over every limit, and the pixel count is the one that explains why.
    pub(crate) fn check_dimensions(&self, width: u32, height: u32) -> Result<(), PhotoError> {
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(PhotoError::too_large(Exceeded::Pixels { width, height, max: self.max_pixels }));
        }
        if width > self.max_width || height > self.max_height {
            return Err(PhotoError::too_large(Exceeded::Dimensions {
                width,
                height,
                max_width: self.max_width,
                max_height: self.max_height,
            }));
        }
        Ok(())
    }

    pub(crate) fn check_decoded_bytes(&self, needed: u64) -> Result<(), PhotoError> {
        if needed > self.max_decoded_bytes {
            return Err(PhotoError::too_large(Exceeded::DecodedBytes {
                needed: Some(needed),
                max: self.max_decoded_bytes,
            }));
        }
        Ok(())
    }

    /// The same limits for the `image` crate's decoders, which also bound their internal allocations (PNG text
    /// chunks, ICC profiles) that no header check can see.
    pub(crate) fn for_image_crate(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_decoded_bytes);
        limits
    }
}
