//! Broken, hostile and unsupported files are refused with the right error, quickly, without a panic and without
//! allocating what they declare.

use image::RgbImage;
use photo::{Exceeded, Unsupported};

use crate::*;

fn assert_code(error: &PhotoError, code: &str) {
    assert_eq!(error.code(), code, "{error} ({error:?})");
}

/// The offset of the first segment with `marker` (the 0xFF byte), walking the segments before the first scan.
fn segment(jpeg: &[u8], marker: u8) -> usize {
    let mut at = 2;
    while jpeg[at + 1] != marker {
        assert_ne!(jpeg[at + 1], 0xDA, "no segment {marker:#x} before the scan");
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    at
}

fn photo_jpeg() -> Vec<u8> {
    jpeg(800, 600, |x, y| [(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
}

/// CRC-32 as PNG computes it, to forge chunks that pass the checksum.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        (0..8).fold(crc ^ u32::from(b), |c, _| (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg()))
    })
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&[&kind[..], data].concat()).to_be_bytes());
    chunk
}

/// A PNG whose header declares `width × height` RGB pixels but whose data is a few zero bytes.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // zlib: a stored block of 6 zero bytes, with its Adler-32.
    let idat = [0x78, 0x01, 0x01, 0x06, 0x00, 0xF9, 0xFF, 0, 0, 0, 0, 0, 0, 0x00, 0x06, 0x00, 0x01];
    [&b"\x89PNG\r\n\x1a\n"[..], &png_chunk(b"IHDR", &ihdr), &png_chunk(b"IDAT", &idat), &png_chunk(b"IEND", &[])]
        .concat()
}

#[test]
fn a_png_declaring_100000_by_100000_pixels_is_refused_from_its_header() {
    let error = refused(&png_declaring(100_000, 100_000), &Limits::default());
    assert_code(&error, "too_large");
    assert_eq!(error.reason(), "the image is 100000 × 100000 pixels; at most 64 megapixels are accepted");
}

#[test]
fn a_jpeg_declaring_65500_by_65500_pixels_is_refused_from_its_frame_header() {
    let mut input = photo_jpeg();
    let sof = segment(&input, 0xC0);
    input[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xDC, 0xFF, 0xDC]); // height, width = 65,500
    let error = refused(&input, &Limits::default());
    assert_code(&error, "too_large");
    assert_eq!(error.reason(), "the image is 65500 × 65500 pixels; at most 64 megapixels are accepted");
}

#[test]
fn an_image_wider_than_the_side_limit_is_refused_even_with_few_pixels() {
    let error = refused(&png_declaring(20_000, 10), &Limits::default());
    assert!(
        matches!(error, PhotoError::TooLarge { exceeded: Exceeded::Dimensions { width: 20_000, .. } }),
        "{error:?}"
    );
}

#[test]
fn a_png_declaring_more_pixels_than_it_holds_is_corrupt() {
    assert_code(&refused(&png_declaring(4000, 4000), &Limits::default()), "corrupt");
}

#[test]
fn a_jpeg_needing_more_decoder_memory_than_allowed_is_refused_before_decoding() {
    let limits = Limits { max_decoded_bytes: 1 << 20, ..Limits::default() };
    let error = refused(&photo_jpeg(), &limits);
    assert!(matches!(error, PhotoError::TooLarge { exceeded: Exceeded::DecodedBytes { .. } }), "{error:?}");
    assert!(error.reason().starts_with("decoding the image would need"), "{error}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_looked_at() {
    let error = refused(&vec![0u8; (20 << 20) + 1], &Limits::default());
    assert_code(&error, "too_large");
    assert_eq!(error.reason(), "the file is 20.0 MiB; at most 20 MiB are accepted");
}

#[test]
fn a_truncated_jpeg_is_corrupt_not_half_grey() {
    let whole = photo_jpeg();
    for keep in [whole.len() * 3 / 5, whole.len() - 2, segment(&whole, 0xDA) + 20] {
        assert_code(&refused(&whole[..keep], &Limits::default()), "corrupt");
    }
}

#[test]
fn a_truncated_jpeg_with_an_end_marker_glued_on_is_still_corrupt() {
    // Passes the structure walk; libjpeg-turbo's "premature end of data" warning must still refuse it.
    let whole = photo_jpeg();
    let glued = [&whole[..whole.len() / 2], &[0xFF, 0xD9][..]].concat();
    let error = refused(&glued, &Limits::default());
    assert_code(&error, "corrupt");
    // libjpeg's warning made an error: its default is to carry on and fill the rest with grey.
    let source = std::error::Error::source(&error).map(|s| s.to_string());
    assert_eq!(source.as_deref(), Some("Corrupt JPEG data: premature end of data segment"));
}

#[test]
fn a_truncated_png_and_a_truncated_webp_are_corrupt() {
    let picture = RgbImage::from_fn(300, 200, |x, y| image::Rgb([(x * y % 256) as u8, (x % 256) as u8, 7]));
    for input in [png(picture.clone()), lossless_webp(picture)] {
        assert_code(&refused(&input[..input.len() * 2 / 3], &Limits::default()), "corrupt");
    }
}

#[test]
fn a_png_with_a_bad_crc_is_corrupt() {
    let mut input = png(RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, 0])));
    let idat = input.windows(4).position(|w| w == b"IDAT").expect("an IDAT chunk");
    let length = u32::from_be_bytes(input[idat - 4..idat].try_into().unwrap()) as usize;
    input[idat + 4 + length] ^= 0x55; // first byte of the CRC
    assert_code(&refused(&input, &Limits::default()), "corrupt");
}

#[test]
fn random_bytes_are_unsupported() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..10_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let error = refused(&noise, &Limits::default());
    assert!(matches!(error, PhotoError::Unsupported { what: Unsupported::Unknown }), "{error:?}");
    assert_eq!(error.reason(), "the file is not a JPEG, PNG or WebP image");
}

#[test]
fn random_bytes_behind_a_jpeg_signature_are_corrupt() {
    let input: Vec<u8> = [0xFF, 0xD8, 0xFF].into_iter().chain((0..5000u32).map(|i| (i * 7919 % 251) as u8)).collect();
    assert_code(&refused(&input, &Limits::default()), "corrupt");
}

#[test]
fn an_empty_upload_is_unsupported_and_says_so() {
    let error = refused(&[], &Limits::default());
    assert_code(&error, "unsupported");
    assert_eq!(error.reason(), "the file is empty");
}

#[test]
fn gif_tiff_and_heic_are_refused_by_name() {
    let cases: [(&[u8], &str); 3] = [
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,", "GIF"),
        (b"II*\x00\x08\x00\x00\x00\x0b\x00\x00\x01\x03\x00\x01\x00\x00\x00\x01\x00", "TIFF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    ];
    for (input, name) in cases {
        let error = refused(input, &Limits::default());
        assert!(
            matches!(error, PhotoError::Unsupported { what: Unsupported::OtherFormat(n) } if n == name),
            "{error:?}"
        );
        assert_eq!(error.reason(), format!("{name} images are not accepted; upload a JPEG, PNG or WebP image"));
    }
}

#[test]
fn a_jpeg_of_thousands_of_scans_is_refused_before_decoding() {
    let base = fixture("progressive.jpg");
    let first_scan = segment(&base, 0xDA);
    let scan_length = 2 + usize::from(u16::from_be_bytes([base[first_scan + 2], base[first_scan + 3]]));
    let mut input = base[..first_scan].to_vec();
    for _ in 0..5000 {
        input.extend_from_slice(&base[first_scan..first_scan + scan_length]);
        input.push(0); // one byte of entropy-coded data
    }
    input.extend_from_slice(&[0xFF, 0xD9]);
    let error = refused(&input, &Limits::default());
    assert_code(&error, "unsupported");
    assert!(error.reason().contains("more than 64 scans"), "{error}");
}

#[test]
fn a_twelve_bit_jpeg_is_refused_as_unsupported() {
    let mut input = photo_jpeg();
    let sof = segment(&input, 0xC0);
    input[sof + 4] = 12;
    let error = refused(&input, &Limits::default());
    assert_code(&error, "unsupported");
    assert_eq!(error.reason(), "this JPEG uses 12-bit samples, which is not supported; save it as a standard JPEG");
}

#[test]
fn a_hierarchical_jpeg_is_refused_as_unsupported() {
    let mut input = photo_jpeg();
    let sof = segment(&input, 0xC0);
    input[sof + 1] = 0xC5;
    assert_code(&refused(&input, &Limits::default()), "unsupported");
}

#[test]
fn a_lossless_jpeg_is_refused_as_unsupported() {
    let mut input = photo_jpeg();
    let sof = segment(&input, 0xC0);
    input[sof + 1] = 0xC3;
    let error = refused(&input, &Limits::default());
    assert_code(&error, "unsupported");
    assert_eq!(error.reason(), "this JPEG uses lossless coding, which is not supported; save it as a standard JPEG");
}

#[test]
fn invalid_rendition_specs_are_a_configuration_error() {
    let input = photo_jpeg();
    for bad in [vec![], specs(&[("large", 0)]), specs(&[("a", 10), ("a", 20)]), specs(&[("../etc", 10)])] {
        let error = render(&input, &bad, &Limits::default()).unwrap_err();
        assert_code(&error, "invalid_spec");
    }
}
