//! Every EXIF orientation comes out upright, whichever container carries it.
//!
//! The fixtures hold one upright 48 × 32 picture (top left red, top right green, bottom left blue, bottom right
//! white) stored as a camera stores it for each orientation; Pillow's `exif_transpose` checked each of them.

use photo::RenditionSpec;

use crate::*;

/// Asserts the rendition shows the upright picture of the fixtures.
#[track_caller]
fn assert_upright(rendition: &Rendition, what: &str) {
    let image = Decoded::of(rendition);
    assert!(image.width > image.height, "{what}: {} × {} is not landscape", image.width, image.height);
    assert_colour(image.at_fraction(0.2, 0.2), RED, 40, &format!("{what}, top left"));
    assert_colour(image.at_fraction(0.8, 0.2), GREEN, 40, &format!("{what}, top right"));
    assert_colour(image.at_fraction(0.2, 0.8), BLUE, 40, &format!("{what}, bottom left"));
    assert_colour(image.at_fraction(0.8, 0.8), WHITE, 40, &format!("{what}, bottom right"));
}

#[test]
fn all_eight_exif_orientations_come_out_upright() {
    for orientation in 1..=8 {
        let renditions = render_ok(&fixture(&format!("orientation-{orientation}.jpg")), &specs(&[("large", 1600)]));
        assert_eq!(sizes(&renditions), [("large", 48, 32)], "orientation {orientation}");
        assert_upright(&renditions[0], &format!("orientation {orientation}"));
    }
}

#[test]
fn shrunk_renditions_of_a_rotated_photo_are_upright_too() {
    for orientation in 1..=8 {
        let renditions =
            render_ok(&fixture(&format!("orientation-{orientation}.jpg")), &specs(&[("large", 40), ("small", 24)]));
        assert_eq!(sizes(&renditions), [("large", 40, 27), ("small", 24, 16)], "orientation {orientation}");
        for rendition in &renditions {
            assert_upright(rendition, &format!("orientation {orientation}, {}", rendition.name));
        }
    }
}

#[test]
fn the_orientation_of_a_png_exif_chunk_is_applied() {
    let renditions = render_ok(&fixture("orientation-6.png"), &specs(&[("large", 1600)]));
    assert_upright(&renditions[0], "PNG eXIf");
}

#[test]
fn the_orientation_of_a_webp_exif_chunk_is_applied() {
    let renditions = render_ok(&fixture("orientation-6.webp"), &specs(&[("large", 1600)]));
    assert_upright(&renditions[0], "WebP EXIF");
}

#[test]
fn a_big_endian_exif_block_built_by_hand_is_honoured() {
    // Pillow writes little-endian ("II") EXIF; cameras also write big-endian ("MM"). Swap the fixture's APP1 for
    // a hand-built big-endian one saying orientation 6.
    let little = fixture("orientation-6.jpg");
    let (start, end) = app1_exif(&little);
    let tiff: &[u8] = &[
        b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at offset 8
        0, 1, // one entry
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation (0x0112), SHORT, count 1, value 6
        0, 0, 0, 0, // no next IFD
    ];
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(tiff);
    let big = [&little[..start], &segment[..], &little[end..]].concat();
    assert_upright(&render_ok(&big, &specs(&[("large", 1600)]))[0], "big-endian EXIF");
}

#[test]
fn a_photo_without_exif_is_kept_as_stored() {
    let renditions = render_ok(&jpeg(60, 20, |x, _| red_blue(x, 60)), &[RenditionSpec::new("large", 1600)]);
    assert_eq!(sizes(&renditions), [("large", 60, 20)]);
    let image = Decoded::of(&renditions[0]);
    assert_colour(image.at(5, 10), RED, 30, "left");
    assert_colour(image.at(55, 10), BLUE, 30, "right");
}

/// The byte range of the first APP1 Exif segment.
fn app1_exif(jpeg: &[u8]) -> (usize, usize) {
    let mut at = 2;
    while jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let end = at + 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] == 0xE1 && jpeg[at + 4..].starts_with(b"Exif\0\0") {
            return (at, end);
        }
        at = end;
    }
    panic!("no APP1 Exif segment");
}
