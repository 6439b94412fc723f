//! Rendition sizes: the long edge fitted, the aspect kept, never enlarged, in the order asked for.

use image::{GrayImage, RgbImage};

use crate::*;

/// A JPEG of a smooth gradient, cheap to make at any size.
fn gradient(width: usize, height: usize) -> Vec<u8> {
    jpeg(width, height, |x, y| [(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
}

#[test]
fn a_landscape_photo_gets_its_long_edge_fitted_to_each_rendition() {
    let renditions = render_ok(&gradient(2000, 1500), &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 200, 150), ("medium", 800, 600), ("large", 1600, 1200)]);
}

#[test]
fn a_portrait_photo_fits_its_height() {
    let renditions = render_ok(&gradient(1500, 2000), &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 150, 200), ("medium", 600, 800), ("large", 1200, 1600)]);
}

#[test]
fn a_square_photo_smaller_than_the_large_rendition_is_not_enlarged() {
    let renditions = render_ok(&gradient(1000, 1000), &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 200, 200), ("medium", 800, 800), ("large", 1000, 1000)]);
}

#[test]
fn a_photo_smaller_than_every_rendition_but_one_keeps_its_size() {
    let renditions = render_ok(&gradient(640, 480), &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 200, 150), ("medium", 640, 480), ("large", 640, 480)]);
}

#[test]
fn odd_sizes_round_the_short_edge_to_the_nearest_pixel() {
    let renditions = render_ok(&gradient(1999, 1001), &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 200, 100), ("medium", 800, 401), ("large", 1600, 801)]);
}

#[test]
fn a_jpeg_decoded_at_a_reduced_scale_still_reaches_the_exact_rendition_size() {
    // 3201 × 2401 decodes at 1/2 scale to 1601 × 1201 (libjpeg keeps partial blocks), then shrinks to 1600.
    let renditions = render_ok(&gradient(3201, 2401), &specs(&[("large", 1600), ("tiny", 50)]));
    assert_eq!(sizes(&renditions), [("large", 1600, 1200), ("tiny", 50, 38)]);
    // 1/8 scale: 12,800 wide decodes to 1600 exactly, with nothing left to shrink.
    let renditions = render_ok(&gradient(12_800, 400), &specs(&[("large", 1600)]));
    assert_eq!(sizes(&renditions), [("large", 1600, 50)]);
}

#[test]
fn a_one_pixel_wide_strip_keeps_one_pixel() {
    let tall = png(GrayImage::from_fn(1, 3000, |_, y| image::Luma([(y % 256) as u8])));
    assert_eq!(sizes(&render_ok(&tall, &standard())), [("thumbnail", 1, 200), ("medium", 1, 800), ("large", 1, 1600)]);
    let wide = png(RgbImage::from_fn(3000, 1, |x, _| image::Rgb([(x % 256) as u8, 0, 0])));
    assert_eq!(sizes(&render_ok(&wide, &standard())), [("thumbnail", 200, 1), ("medium", 800, 1), ("large", 1600, 1)]);
}

#[test]
fn a_single_pixel_photo_is_rendered_as_a_single_pixel() {
    let dot = png(RgbImage::from_pixel(1, 1, image::Rgb([10, 200, 30])));
    let renditions = render_ok(&dot, &standard());
    assert_eq!(sizes(&renditions), [("thumbnail", 1, 1), ("medium", 1, 1), ("large", 1, 1)]);
    assert_colour(Decoded::of(&renditions[0]).at(0, 0), [10, 200, 30], 8, "the pixel");
}

#[test]
fn renditions_come_back_in_the_order_of_the_specs_and_equal_sizes_are_all_returned() {
    let renditions =
        render_ok(&gradient(900, 600), &specs(&[("small", 300), ("big", 600), ("also-small", 300), ("same", 900)]));
    assert_eq!(
        sizes(&renditions),
        [("small", 300, 200), ("big", 600, 400), ("also-small", 300, 200), ("same", 900, 600)]
    );
    assert_eq!(renditions[0].jpeg, renditions[2].jpeg);
}

#[test]
fn every_rendition_is_a_jpeg_of_the_size_it_reports() {
    for rendition in render_ok(&gradient(2000, 1500), &standard()) {
        assert!(rendition.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "{} is not a JPEG", rendition.name);
        Decoded::of(&rendition); // asserts the decoded size
    }
}
