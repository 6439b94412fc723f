//! The one pixel layout the pipeline works in: 8-bit grey or 8-bit RGB, rows packed, alpha already flattened.
//!
//! Every decoder's output is brought to this form once, right after decoding, so resizing, orientation and
//! encoding each handle two cases instead of a dozen. Greyscale stays one channel all the way to a greyscale JPEG:
//! a third of the work and of the bytes, and no chance of a colour cast. Conversions happen in place where the
//! result is no larger than the input, so a 64 MP RGBA PNG does not need a second 192 MiB buffer.

use image::metadata::Orientation;

use crate::buffers;

/// Samples per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channels {
    Grey = 1,
    Rgb = 3,
}

/// An 8-bit image: `data.len() == width * height * channels`. Its buffer goes back to the pool when dropped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: Channels,
    pub data: Vec<u8>,
}

impl Clone for Pixels {
    fn clone(&self) -> Self {
        let mut data = buffers::take(self.data.len());
        data.copy_from_slice(&self.data);
        Pixels { data, ..*self }
    }
}

impl Drop for Pixels {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.data));
    }
}

impl Pixels {
    /// `None` when the buffer does not hold exactly `width × height` pixels: a decoder that returned fewer samples
    /// than it declared must not make the pipeline index out of bounds.
    pub fn new(width: u32, height: u32, channels: Channels, data: Vec<u8>) -> Option<Self> {
        let expected = (width as usize).checked_mul(height as usize)?.checked_mul(channels as usize)?;
        (data.len() == expected && width > 0 && height > 0).then_some(Pixels { width, height, channels, data })
    }

    /// Grey + alpha samples, composited onto white in place.
    pub fn from_grey_alpha(width: u32, height: u32, mut data: Vec<u8>) -> Option<Self> {
        let pixels = data.len() / 2;
        for i in 0..pixels {
            data[i] = over_white(data[2 * i], data[2 * i + 1]);
        }
        data.truncate(pixels);
        Pixels::new(width, height, Channels::Grey, data)
    }

    /// RGBA samples, composited onto white in place (a JPEG has no alpha, and white is what a page shows behind a
    /// transparent PNG).
    pub fn from_rgba(width: u32, height: u32, mut data: Vec<u8>) -> Option<Self> {
        let pixels = data.len() / 4;
        // Writing pixel i at 3i while reading it at 4i never overtakes the reads.
        for i in 0..pixels {
            let a = data[4 * i + 3];
            for c in 0..3 {
                data[3 * i + c] = over_white(data[4 * i + c], a);
            }
        }
        data.truncate(pixels * 3);
        Pixels::new(width, height, Channels::Rgb, data)
    }

    /// 16-bit samples (native order, as the `image` crate gives them) with `channels` colour channels and an
    /// optional trailing alpha, to 8 bits composited onto white.
    pub fn from_u16(width: u32, height: u32, channels: Channels, has_alpha: bool, samples: &[u16]) -> Option<Self> {
        let colour = channels as usize;
        let stride = colour + usize::from(has_alpha);
        let mut data = Vec::with_capacity(samples.len() / stride * colour);
        for px in samples.chunks_exact(stride) {
            let a = if has_alpha { u32::from(px[colour]) } else { 65535 };
            for &c in &px[..colour] {
                // Composite at 16 bits, then round once to 8 bits (v / 257 is the exact 16-to-8-bit scale).
                let v = (u32::from(c) * a + 65535 * (65535 - a) + 32767) / 65535;
                data.push(((v + 128) / 257) as u8);
            }
        }
        Pixels::new(width, height, channels, data)
    }

    /// The pixels as an upright image: the stored image turned by the EXIF orientation.
    pub fn oriented(&self, orientation: Orientation) -> Pixels {
        let (w, h) = (self.width as isize, self.height as isize);
        // Output pixel (x, y) comes from stored pixel `origin + x * step_x + y * step_y` (counted in pixels):
        // each orientation is an affine map, so the loop below needs no per-pixel branch or call.
        let (out_w, out_h, origin, step_x, step_y) = match orientation {
            Orientation::NoTransforms => return self.clone(),
            Orientation::FlipHorizontal => (w, h, w - 1, -1, w),
            Orientation::Rotate180 => (w, h, h * w - 1, -1, -w),
            Orientation::FlipVertical => (w, h, (h - 1) * w, 1, -w),
            Orientation::Rotate90FlipH => (h, w, 0, w, 1),
            Orientation::Rotate90 => (h, w, (h - 1) * w, -w, 1),
            Orientation::Rotate270FlipH => (h, w, h * w - 1, -w, -1),
            Orientation::Rotate270 => (h, w, w - 1, w, -1),
        };
        let map = Affine { origin, step_x, step_y };
        let mut data = buffers::take(self.data.len());
        match self.channels {
            Channels::Grey => turn::<1>(&self.data, &mut data, out_w as usize, map),
            Channels::Rgb => turn::<3>(&self.data, &mut data, out_w as usize, map),
        }
        Pixels { width: out_w as u32, height: out_h as u32, channels: self.channels, data }
    }
}

/// Where output pixel (x, y) is in the stored image: `origin + x * step_x + y * step_y`, in pixels.
#[derive(Clone, Copy)]
struct Affine {
    origin: isize,
    step_x: isize,
    step_y: isize,
}

/// Fills `out` from the stored pixels `src`. `N` is the pixel size, constant so each pixel is one fixed-size move
/// rather than a `memcpy` call. About a millisecond for a 1600-pixel rendition.
fn turn<const N: usize>(src: &[u8], out: &mut [u8], out_w: usize, map: Affine) {
    let rows = out.len() / (out_w * N);
    // Tiles keep both the rows written and the columns read in cache when the map transposes.
    const TILE: usize = 32;
    for ty in (0..rows).step_by(TILE) {
        for tx in (0..out_w).step_by(TILE) {
            for y in ty..(ty + TILE).min(rows) {
                let row_start = map.origin + y as isize * map.step_y;
                for x in tx..(tx + TILE).min(out_w) {
                    let from = (row_start + x as isize * map.step_x) as usize * N;
                    let pixel: [u8; N] = src[from..from + N].try_into().expect("N bytes");
                    let to = (y * out_w + x) * N;
                    out[to..to + N].copy_from_slice(&pixel);
                }
            }
        }
    }
}

/// A sample with alpha composited onto white, rounded.
fn over_white(c: u8, a: u8) -> u8 {
    let (c, a) = (u32::from(c), u32::from(a));
    ((c * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Whether this orientation swaps width and height.
pub(crate) fn transposes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 2 grey image with distinct values, rows `[1 2 3] [4 5 6]`.
    fn sample() -> Pixels {
        Pixels::new(3, 2, Channels::Grey, vec![1, 2, 3, 4, 5, 6]).unwrap()
    }

    #[test]
    fn rotating_90_clockwise_puts_the_first_column_on_top_read_bottom_up() {
        let p = sample().oriented(Orientation::Rotate90);
        assert_eq!((p.width, p.height), (2, 3));
        assert_eq!(p.data, vec![4, 1, 5, 2, 6, 3]);
    }

    #[test]
    fn rotating_270_clockwise_puts_the_last_column_on_top() {
        let p = sample().oriented(Orientation::Rotate270);
        assert_eq!(p.data, vec![3, 6, 2, 5, 1, 4]);
    }

    #[test]
    fn transpose_and_transverse_mirror_across_the_diagonals() {
        assert_eq!(sample().oriented(Orientation::Rotate90FlipH).data, vec![1, 4, 2, 5, 3, 6]);
        assert_eq!(sample().oriented(Orientation::Rotate270FlipH).data, vec![6, 3, 5, 2, 4, 1]);
    }

    #[test]
    fn flips_and_half_turn_keep_the_size() {
        assert_eq!(sample().oriented(Orientation::FlipHorizontal).data, vec![3, 2, 1, 6, 5, 4]);
        assert_eq!(sample().oriented(Orientation::FlipVertical).data, vec![4, 5, 6, 1, 2, 3]);
        assert_eq!(sample().oriented(Orientation::Rotate180).data, vec![6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn transparent_pixels_become_white_and_opaque_ones_keep_their_colour() {
        let p = Pixels::from_rgba(2, 1, vec![10, 20, 30, 0, 10, 20, 30, 255]).unwrap();
        assert_eq!(p.data, vec![255, 255, 255, 10, 20, 30]);
        let half = Pixels::from_rgba(1, 1, vec![0, 0, 0, 128]).unwrap();
        assert_eq!(half.data, vec![127, 127, 127]);
    }

    #[test]
    fn sixteen_bit_samples_round_to_the_nearest_eight_bit_value() {
        let p = Pixels::from_u16(1, 1, Channels::Rgb, false, &[0, 65535, 257 * 100 + 128]).unwrap();
        assert_eq!(p.data, vec![0, 255, 100]);
    }

    #[test]
    fn a_buffer_shorter_than_declared_is_refused() {
        assert!(Pixels::new(3, 3, Channels::Rgb, vec![0; 26]).is_none());
    }
}
