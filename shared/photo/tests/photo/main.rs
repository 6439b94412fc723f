//! The photo resizer from the outside: what a Lambda function or `local photos render` sees.
//!
//! One test binary (the `mod`s below) sharing the helpers here: inputs are made in memory with `jpeg-encoder` (a
//! pure-Rust encoder, so the decoder under test meets another implementation's files) and the `image` crate, and
//! renditions are read back with mozjpeg; except the few inputs that need an independent implementation (EXIF
//! orientations, Adobe CMYK, progressive and arithmetic-coded JPEG, lossy WebP), which `fixtures/make_fixtures.py`
//! made with Pillow and jpegtran.

mod file;
mod formats;
mod hostile;
mod orientation;
mod properties;
mod sizes;

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use mozjpeg::{ColorSpace, Decompress};
use photo::{Limits, PhotoError, Rendition, RenditionSpec, render};

/// The configuration of the photo pipeline: thumbnail 200, medium 800, large 1600.
pub fn standard() -> Vec<RenditionSpec> {
    specs(&[("thumbnail", 200), ("medium", 800), ("large", 1600)])
}

pub fn specs(list: &[(&str, u32)]) -> Vec<RenditionSpec> {
    list.iter().map(|&(name, edge)| RenditionSpec::new(name, edge)).collect()
}

/// Renders with the default limits, failing the test with the reason if the photo is refused.
pub fn render_ok(input: &[u8], specs: &[RenditionSpec]) -> Vec<Rendition> {
    render(input, specs, &Limits::default()).unwrap_or_else(|e| panic!("refused: {e} ({e:?})"))
}

/// Renders with `limits`, expecting a refusal within a second; returns it.
pub fn refused(input: &[u8], limits: &Limits) -> PhotoError {
    let start = Instant::now();
    let result = render(input, &standard(), limits);
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    match result {
        Ok(renditions) => panic!("accepted: {:?}", renditions.iter().map(|r| (r.width, r.height)).collect::<Vec<_>>()),
        Err(e) => e,
    }
}

pub fn sizes(renditions: &[Rendition]) -> Vec<(&str, u32, u32)> {
    renditions.iter().map(|r| (r.name.as_str(), r.width, r.height)).collect()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/photo/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An RGB JPEG (quality 95, no chroma subsampling, so colours stay crisp) of `f(x, y)`.
pub fn jpeg(width: usize, height: usize, f: impl Fn(usize, usize) -> [u8; 3]) -> Vec<u8> {
    let pixels: Vec<u8> =
        (0..height).flat_map(|y| (0..width).map(move |x| (x, y))).flat_map(|(x, y)| f(x, y)).collect();
    encode_jpeg(&pixels, width, height, ColorType::Rgb)
}

/// A baseline JPEG (quality 95, no chroma subsampling) of `pixels`, packed rows of `colour`.
pub fn encode_jpeg(pixels: &[u8], width: usize, height: usize, colour: ColorType) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 95);
    encoder.set_sampling_factor(SamplingFactor::R_4_4_4);
    encoder.encode(pixels, width as u16, height as u16, colour).expect("encode a test JPEG");
    out
}

/// The colour space a JPEG declares (from its JFIF or Adobe marker and its number of components).
pub fn jpeg_colour_space(jpeg: &[u8]) -> ColorSpace {
    Decompress::new_mem(jpeg).expect("a JPEG header").color_space()
}

pub fn png(image: impl Into<DynamicImage>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.into().write_to(&mut out, ImageFormat::Png).expect("encode a test PNG");
    out.into_inner()
}

pub fn lossless_webp(image: impl Into<DynamicImage>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.into().write_to(&mut out, ImageFormat::WebP).expect("encode a test WebP");
    out.into_inner()
}

/// A rendition's pixels, decoded as RGB.
pub struct Decoded {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Decoded {
    pub fn of(rendition: &Rendition) -> Self {
        let mut image = Decompress::new_mem(&rendition.jpeg).and_then(|d| d.rgb()).expect("a rendition decodes");
        let (width, height) = (image.width(), image.height());
        assert_eq!((width, height), (rendition.width as usize, rendition.height as usize));
        let rgb = image.read_scanlines::<u8>().expect("a rendition decodes");
        image.finish().expect("a rendition ends well");
        Decoded { width, height, rgb }
    }

    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The pixel at fractions of the width and height (0.25, 0.25 is the middle of the top-left quadrant).
    pub fn at_fraction(&self, fx: f64, fy: f64) -> [u8; 3] {
        self.at((fx * self.width as f64) as usize, (fy * self.height as f64) as usize)
    }
}

/// Asserts two colours are within `tolerance` on every channel.
#[track_caller]
pub fn assert_colour(actual: [u8; 3], expected: [u8; 3], tolerance: u8, what: &str) {
    let close = actual.iter().zip(expected).all(|(&a, e)| a.abs_diff(e) <= tolerance);
    assert!(close, "{what}: {actual:?}, expected about {expected:?}");
}

pub const RED: [u8; 3] = [255, 0, 0];
pub const GREEN: [u8; 3] = [0, 255, 0];
pub const BLUE: [u8; 3] = [0, 0, 255];
pub const WHITE: [u8; 3] = [255, 255, 255];

/// Left half red, right half blue: colour order and horizontal orientation in one picture.
pub fn red_blue(x: usize, width: usize) -> [u8; 3] {
    if x < width / 2 { RED } else { BLUE }
}
