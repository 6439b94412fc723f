//! Each input format and pixel layout ends up as the right colours: RGB order, alpha on white, grey, 16-bit,
//! CMYK, progressive and arithmetic-coded JPEG, lossy and lossless WebP; ICC profiles kept, EXIF not.

use image::{GrayAlphaImage, GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use jpeg_encoder::ColorType;
use mozjpeg::ColorSpace;

use crate::*;

/// Asserts the rendition shows red on its left and blue on its right.
#[track_caller]
fn assert_red_then_blue(rendition: &Rendition, tolerance: u8) {
    let image = Decoded::of(rendition);
    assert_colour(image.at_fraction(0.2, 0.5), RED, tolerance, "left half");
    assert_colour(image.at_fraction(0.8, 0.5), BLUE, tolerance, "right half");
}

fn large() -> Vec<photo::RenditionSpec> {
    specs(&[("large", 1600)])
}

#[test]
fn colours_keep_their_order_through_a_jpeg() {
    let renditions = render_ok(&jpeg(2400, 1200, |x, _| red_blue(x, 2400)), &standard());
    for rendition in &renditions {
        assert_red_then_blue(rendition, 30);
    }
}

#[test]
fn colours_keep_their_order_through_a_png() {
    let input = png(RgbImage::from_fn(64, 48, |x, _| Rgb(red_blue(x as usize, 64))));
    assert_red_then_blue(&render_ok(&input, &large())[0], 30);
}

#[test]
fn transparent_png_pixels_are_flattened_onto_white() {
    // Left third transparent, middle third opaque red, right third black at half opacity.
    let input = png(RgbaImage::from_fn(90, 30, |x, _| match x / 30 {
        0 => Rgba([0, 255, 0, 0]),
        1 => Rgba([255, 0, 0, 255]),
        _ => Rgba([0, 0, 0, 128]),
    }));
    let image = Decoded::of(&render_ok(&input, &large())[0]);
    assert_colour(image.at(10, 15), WHITE, 6, "transparent");
    assert_colour(image.at(45, 15), RED, 30, "opaque red");
    assert_colour(image.at(80, 15), [127, 127, 127], 6, "half-transparent black");
}

#[test]
fn a_greyscale_png_becomes_a_greyscale_jpeg() {
    let input = png(GrayImage::from_fn(64, 48, |x, _| Luma([if x < 32 { 40 } else { 220 }])));
    let rendition = &render_ok(&input, &large())[0];
    assert_eq!(jpeg_colour_space(&rendition.jpeg), ColorSpace::JCS_GRAYSCALE);
    let image = Decoded::of(rendition);
    assert_colour(image.at(10, 24), [40; 3], 4, "dark half");
    assert_colour(image.at(54, 24), [220; 3], 4, "light half");
}

#[test]
fn a_grey_png_with_alpha_is_flattened_onto_white() {
    let input = png(GrayAlphaImage::from_fn(40, 20, |x, _| image::LumaA([0, if x < 20 { 0 } else { 255 }])));
    let image = Decoded::of(&render_ok(&input, &large())[0]);
    assert_colour(image.at(5, 10), WHITE, 4, "transparent");
    assert_colour(image.at(35, 10), [0; 3], 4, "opaque black");
}

#[test]
fn a_sixteen_bit_png_is_brought_to_eight_bits() {
    let rgb16: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_fn(64, 48, |x, _| if x < 32 { Rgb([65535, 0, 0]) } else { Rgb([0, 0, 65535]) });
    assert_red_then_blue(&render_ok(&png(rgb16), &large())[0], 30);

    let rgba16: ImageBuffer<Rgba<u16>, Vec<u16>> =
        ImageBuffer::from_fn(64, 48, |x, _| if x < 32 { Rgba([65535, 0, 0, 65535]) } else { Rgba([0, 0, 0, 0]) });
    let image = Decoded::of(&render_ok(&png(rgba16), &large())[0]);
    assert_colour(image.at(10, 24), RED, 30, "opaque red");
    assert_colour(image.at(54, 24), WHITE, 6, "transparent");

    let grey16: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(64, 48, |_, _| Luma([257 * 100]));
    assert_colour(Decoded::of(&render_ok(&png(grey16), &large())[0]).at(32, 24), [100; 3], 3, "grey");
}

#[test]
fn a_greyscale_jpeg_stays_greyscale() {
    let pixels: Vec<u8> = (0..64 * 48).map(|i| if i % 64 < 32 { 30 } else { 200 }).collect();
    let input = encode_jpeg(&pixels, 64, 48, ColorType::Luma);
    assert_eq!(jpeg_colour_space(&input), ColorSpace::JCS_GRAYSCALE);
    let rendition = &render_ok(&input, &large())[0];
    assert_eq!(jpeg_colour_space(&rendition.jpeg), ColorSpace::JCS_GRAYSCALE);
    assert_colour(Decoded::of(rendition).at(10, 24), [30; 3], 6, "dark half");
}

#[test]
fn an_adobe_cmyk_jpeg_is_converted_to_rgb() {
    assert_red_then_blue(&render_ok(&fixture("cmyk-adobe.jpg"), &large())[0], 40);
}

#[test]
fn a_progressive_jpeg_is_decoded() {
    assert_red_then_blue(&render_ok(&fixture("progressive.jpg"), &large())[0], 30);
}

#[test]
fn an_arithmetic_coded_jpeg_is_decoded() {
    assert_red_then_blue(&render_ok(&fixture("arithmetic.jpg"), &large())[0], 30);
}

#[test]
fn a_lossy_webp_is_decoded() {
    assert_red_then_blue(&render_ok(&fixture("lossy.webp"), &large())[0], 40);
}

#[test]
fn a_lossless_webp_is_decoded() {
    let input = lossless_webp(RgbaImage::from_fn(64, 48, |x, _| {
        let [r, g, b] = red_blue(x as usize, 64);
        Rgba([r, g, b, 255])
    }));
    assert_red_then_blue(&render_ok(&input, &large())[0], 30);
}

#[test]
fn the_icc_profile_is_carried_into_every_rendition() {
    let profile: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect(); // two APP2 chunks
    let plain = jpeg(800, 600, |x, _| red_blue(x, 800));
    let mut input = plain[..2].to_vec();
    for (i, chunk) in profile.chunks(60_000).enumerate() {
        input.extend_from_slice(&[0xFF, 0xE2]);
        input.extend_from_slice(&((chunk.len() + 16) as u16).to_be_bytes());
        input.extend_from_slice(b"ICC_PROFILE\0");
        input.extend_from_slice(&[i as u8 + 1, 2]);
        input.extend_from_slice(chunk);
    }
    input.extend_from_slice(&plain[2..]);
    for rendition in render_ok(&input, &standard()) {
        assert_eq!(icc_profile(&rendition.jpeg).as_deref(), Some(&profile[..]), "{}", rendition.name);
        Decoded::of(&rendition);
    }
}

#[test]
fn exif_metadata_such_as_gps_is_not_copied_into_renditions() {
    for rendition in render_ok(&fixture("orientation-6.jpg"), &standard()) {
        assert!(!rendition.jpeg.windows(6).any(|w| w == b"Exif\0\0"), "{} carries EXIF", rendition.name);
    }
}

/// The ICC profile of a JPEG, reassembled from its APP2 chunks in file order.
fn icc_profile(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut at = 2;
    let mut profile: Option<Vec<u8>> = None;
    while jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let end = at + 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] == 0xE2 && jpeg[at + 4..].starts_with(b"ICC_PROFILE\0") {
            profile.get_or_insert_with(Vec::new).extend_from_slice(&jpeg[at + 18..end]);
        }
        at = end;
    }
    profile
}
