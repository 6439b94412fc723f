//! The rendering plan: which size each rendition gets, which image it is shrunk from, and which thread finishes it.
//!
//! Sizes come from the image as displayed (after the EXIF orientation), so a portrait phone photo stored sideways
//! gets a portrait thumbnail. Shrinking happens in the stored orientation: the largest rendition from the decoded
//! image, every other one from the next larger rendition's pixels (so the thumbnail costs a pass over the medium
//! rendition, not over the photo). Resampling commutes with turning an image, so turning each rendition at the
//! end gives the same pixels as turning first, on the smallest images possible.
//!
//! Two threads share the work after decoding (the shrinking of the decoded image is itself split in two bands):
//! the calling thread turns and encodes the largest rendition, the longest job, while a second one makes every
//! smaller rendition from it, one after the other. On one core this costs nothing; on two, the medium rendition
//! and the thumbnail are done by the time the large one is encoded.

use std::borrow::Cow;
use std::thread;

use image::metadata::Orientation;

use crate::decode::Decoded;
use crate::encode::encode;
use crate::pixels::{Pixels, transposes};
use crate::resize::{Bands, resize};
use crate::{PhotoError, Rendition, RenditionSpec};

/// The size of a rendition with `long_edge` for an image of `width × height`: the long side becomes `long_edge`,
/// the short side keeps the aspect (rounded, at least 1 pixel), and an image already within `long_edge` keeps
/// its size.
pub(crate) fn fit(width: u32, height: u32, long_edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= long_edge {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled = (u64::from(side) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        (scaled as u32).max(1)
    };
    if width >= height { (long_edge, scale(height)) } else { (scale(width), long_edge) }
}

pub(crate) fn render(decoded: Decoded, specs: &[RenditionSpec]) -> Result<Vec<Rendition>, PhotoError> {
    let Decoded { pixels, stored_width, stored_height, orientation, icc_profile } = decoded;
    let turned = transposes(orientation);
    let (display_width, display_height) =
        if turned { (stored_height, stored_width) } else { (stored_width, stored_height) };
    // The size of rendition `i`, as stored (before turning).
    let stored_size = |i: usize| {
        let (width, height) = fit(display_width, display_height, specs[i].long_edge);
        if turned { (height, width) } else { (width, height) }
    };

    // Largest first; equal sizes end up next to each other and share one buffer.
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(specs[i].long_edge));
    let Some((&largest, smaller)) = order.split_first() else { return Ok(Vec::new()) };

    let (width, height) = stored_size(largest);
    // Moving the decoded image in drops it right after: it is the largest buffer of all.
    let largest_pixels = shrink(pixels, width, height, Bands::Two);
    let icc_profile = icc_profile.as_deref();
    let (first, rest) = thread::scope(|scope| {
        let rest = scope.spawn(|| {
            let mut previous = Cow::Borrowed(&largest_pixels);
            let mut done = Vec::with_capacity(smaller.len());
            for &i in smaller {
                let (width, height) = stored_size(i);
                if (previous.width, previous.height) != (width, height) {
                    previous = Cow::Owned(resize(&previous, width, height, Bands::One));
                }
                done.push((i, finish(&previous, orientation, icc_profile)?));
            }
            Ok::<_, PhotoError>(done)
        });
        let first = finish(&largest_pixels, orientation, icc_profile);
        (first, rest.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });

    let mut renditions: Vec<Option<Rendition>> = (0..specs.len()).map(|_| None).collect();
    for (i, (width, height, jpeg)) in std::iter::once((largest, first?)).chain(rest?) {
        renditions[i] = Some(Rendition { name: specs[i].name.clone(), width, height, jpeg });
    }
    Ok(renditions.into_iter().flatten().collect())
}

/// `pixels` at `width × height`, without a copy when it already is.
fn shrink(pixels: Pixels, width: u32, height: u32, bands: Bands) -> Pixels {
    if (pixels.width, pixels.height) == (width, height) { pixels } else { resize(&pixels, width, height, bands) }
}

/// Turns a rendition upright and encodes it: its width, height and JPEG.
fn finish(
    stored: &Pixels,
    orientation: Orientation,
    icc_profile: Option<&[u8]>,
) -> Result<(u32, u32, Vec<u8>), PhotoError> {
    if orientation == Orientation::NoTransforms {
        return Ok((stored.width, stored.height, encode(stored, icc_profile)?));
    }
    let upright = stored.oriented(orientation);
    Ok((upright.width, upright.height, encode(&upright, icc_profile)?))
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn the_long_edge_is_fitted_and_the_aspect_kept() {
        assert_eq!(fit(4000, 3000, 1600), (1600, 1200));
        assert_eq!(fit(3000, 4000, 200), (150, 200));
        assert_eq!(fit(1001, 1001, 800), (800, 800));
    }

    #[test]
    fn a_smaller_image_keeps_its_size() {
        assert_eq!(fit(640, 480, 800), (640, 480));
        assert_eq!(fit(800, 600, 800), (800, 600));
    }

    #[test]
    fn a_sliver_keeps_at_least_one_pixel() {
        assert_eq!(fit(1, 10_000, 200), (1, 200));
        assert_eq!(fit(10_000, 3, 200), (200, 1));
    }

    #[test]
    fn odd_sizes_round_to_the_nearest_pixel() {
        assert_eq!(fit(1999, 1001, 800), (800, 401));
        assert_eq!(fit(333, 999, 200), (67, 200));
    }
}
