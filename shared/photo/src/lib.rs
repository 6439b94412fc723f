//! The photo resizer: a user's uploaded JPEG, PNG or WebP becomes JPEG renditions (`thumbnail` 200 px, `medium`
//! 800 px, `large` 1600 px on the long edge, or whatever the configuration asks), upright, never enlarged,
//! aspect kept. No AWS here: the Lambda functions read the upload, call [`render`], and store what it returns.
//!
//! # Layout
//!
//! - [`format`](mod@format): which format the bytes are, from their magic numbers ([`sniff`]), never from the
//!   content type the client claimed.
//! - [`limits`]: the [`Limits`] an input must fit, checked from the header before any pixel buffer is allocated.
//! - `decode`: JPEG through mozjpeg's libjpeg-turbo with DCT-domain scaling, after a walk over its markers in
//!   Rust; PNG and WebP through the `image` crate. Both give 8-bit grey or RGB pixels (`pixels`: alpha flattened
//!   onto white, CMYK and 16-bit converted) plus the EXIF orientation and ICC profile.
//! - `pipeline`: the sizes, the chain large → medium → thumbnail, and the threads; `resize` (Lanczos3) and
//!   `encode` (JPEG quality [`JPEG_QUALITY`]) do the pixel work; `buffers` lets one render reuse the memory of
//!   the last; `libjpeg` turns the C library's errors, and its warnings when decoding, into Rust errors.
//! - [`error`]: [`PhotoError`], whose `Display` is the reason shown to the user and whose [`PhotoError::code`] a
//!   program matches.
//! - [`file`](mod@file): [`render_file`], the same from a path into a directory, for `local photos render`.
//!
//! # Why these crates
//!
//! The target: three renditions of a 12 MP EXIF-rotated phone JPEG in at most 0.35× the time Pillow takes
//! (`draft` decode, `LANCZOS`, quality 85), with less memory. `cargo bench -p photo` measures both in one run.
//! On the 2-core development machine, for the benchmark photo (2.5 MiB, 4000 × 3000), single-threaded minimums
//! of 30 runs (ranges over several such measurements, as other builds shared the machine):
//!
//! | step                                   | pure Rust                       | mozjpeg (chosen) | Pillow   |
//! |----------------------------------------|---------------------------------|------------------|----------|
//! | decode at 1/2 scale (2000 × 1500)      | `jpeg-decoder` 61–66 ms         | 43–47 ms         | 42–55 ms |
//! | encode the 1600 × 1200 rendition       | `jpeg-encoder` (AVX2) 16–18 ms  | 6 ms             | 6–9 ms   |
//! | Lanczos3 to 1600 × 1200                | `fast_image_resize` 10–11 ms    | (same)           | 52–56 ms |
//!
//! With `jpeg-decoder` and `jpeg-encoder` the whole render measured 0.55× Pillow; even with every step after
//! decoding spread over both cores it cannot go below about 0.42×, because the decode alone is 0.3× and
//! `jpeg-encoder` spends almost three times libjpeg-turbo's time on the large rendition. With mozjpeg, twelve runs
//! on the 2-core machine gave 0.30–0.38× Pillow's best time and 0.30–0.37× its median time (0.42× both, once,
//! when another build took the second core; medians move with the load other builds put on the machine: the
//! decode is serial, the rest wants the second core), at half Pillow's peak RSS (26–29 vs 58 MiB) and the same
//! PSNR (within 0.01 dB). So:
//!
//! - **`mozjpeg`** (Mozilla's fork of libjpeg-turbo, compiled from source by `mozjpeg-sys` with the `cc` crate:
//!   no cmake, no system library) decodes JPEG at 1/2, 1/4 or 1/8 scale in the DCT domain (Pillow's `draft`): a
//!   12 MP photo needed for a 1600-pixel rendition is decoded at 2000 × 1500, a quarter of the inverse-DCT and
//!   colour-conversion work and memory. It also encodes every rendition, in its "fastest" profile, which is plain
//!   libjpeg-turbo: the same quantisation and settings Pillow uses, and byte for byte the file Pillow writes. It
//!   replaced the `turbojpeg` crate (libjpeg-turbo 3.1), whose build needs cmake: measured side by side,
//!   mozjpeg decodes to the same pixels and encodes to the same bytes in the same time (within 1 ms). Given up with
//!   it: lossless JPEG (libjpeg-turbo 3.0's), which cameras and phones do not write; arithmetic-coded JPEG is
//!   still decoded (mozjpeg-sys's `arith_dec`). The cost is a C build: a C compiler on the build machine, and a C
//!   cross-compiler for an arm64 Lambda, where the NEON code is C and GNU assembler. On x86-64 the SIMD code
//!   needs nasm; without it the build still succeeds (with a warning), but decodes about 1.4× and encodes 5–7×
//!   slower.
//!   The C decoder only sees files a Rust walk over the markers accepted, at a size the limits accept.
//! - **`image`**, with only its `png` and `webp` codecs (`default-features = false`), for PNG and WebP: header
//!   first, `image::Limits` for its internal allocations, the EXIF orientation of PNG `eXIf` and WebP `EXIF`
//!   chunks, 16-bit and palette expansion. Pure Rust, so hostile PNG and WebP files meet no C code.
//! - **`fast_image_resize`**: Lanczos3 convolution in fixed point with AVX2/SSE4.1/NEON chosen at run time;
//!   several times faster than Pillow's resampling, which is most of Pillow's time.
//!
//! # Gamma
//!
//! Resampling is done on the gamma-encoded sRGB values, not in linear light, like Pillow, libvips and browsers by
//! default. It is consistent across every rendition (each is shrunk the same way from the next larger one), it
//! keeps all the arithmetic in 8 bits, and for photos shrunk 2–8× the visible difference is limited to fine
//! high-contrast patterns. Transparent pixels are composited onto white, also in sRGB, before resampling.
//!
//! # Safety against hostile files
//!
//! The size a file declares is checked against [`Limits`] before the decoder allocates (a PNG declaring
//! 100,000 × 100,000 is refused in microseconds); a JPEG's marker structure is walked first to refuse truncated
//! files, unsupported coding and scan bombs, and libjpeg's warnings (corrupt or missing data) are errors; a
//! decoder panic, should one happen, is caught and reported as [`PhotoError::Corrupt`]. EXIF (and so GPS
//! positions) is not copied into renditions; ICC profiles are.

pub mod error;
pub mod file;
pub mod format;
pub mod limits;

mod buffers;
mod decode;
mod encode;
mod libjpeg;
mod pipeline;
mod pixels;
mod resize;

pub use encode::JPEG_QUALITY;
pub use error::{Exceeded, PhotoError, Unsupported};
pub use file::{RenderFileError, RenditionSummary, render_file};
pub use format::{Format, sniff};
pub use limits::Limits;

/// A rendition to produce: its name (`"large"`) and the length of its long edge in pixels (`1600`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenditionSpec {
    pub name: String,
    pub long_edge: u32,
}

impl RenditionSpec {
    pub fn new(name: impl Into<String>, long_edge: u32) -> Self {
        RenditionSpec { name: name.into(), long_edge }
    }
}

/// A rendition produced: its name, its size, and the JPEG file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// The renditions of the photo in `input`, in the order of `specs`.
///
/// The format is sniffed from the bytes; the file must be within `limits`; the EXIF orientation is applied; a
/// rendition is never larger than the photo. Fails with the reason to show the user, never panics.
pub fn render(input: &[u8], specs: &[RenditionSpec], limits: &Limits) -> Result<Vec<Rendition>, PhotoError> {
    let largest = check_specs(specs)?;
    limits.check_input(input.len() as u64)?;
    let format = sniff(input).ok_or_else(|| {
        PhotoError::unsupported(match format::sniff_other(input) {
            _ if input.is_empty() => Unsupported::Empty,
            Some(name) => Unsupported::OtherFormat(name),
            None => Unsupported::Unknown,
        })
    })?;
    let decoded = decode::decode(input, format, limits, largest)?;
    pipeline::render(decoded, specs)
}

/// The specs are configuration: a mistake in them is reported as such, before the upload is looked at. Returns
/// the largest long edge.
fn check_specs(specs: &[RenditionSpec]) -> Result<u32, PhotoError> {
    let invalid = |reason: String| Err(PhotoError::InvalidSpec { reason });
    for (i, spec) in specs.iter().enumerate() {
        // Names become file names and object keys (`large.jpg`), so nothing that could climb a directory.
        let name_ok =
            !spec.name.is_empty() && spec.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return invalid(format!("rendition name {:?} is not made of letters, digits, '-' and '_'", spec.name));
        }
        if specs[..i].iter().any(|earlier| earlier.name == spec.name) {
            return invalid(format!("rendition name {:?} is given twice", spec.name));
        }
        if !(1..=u32::from(u16::MAX)).contains(&spec.long_edge) {
            return invalid(format!("rendition {:?} has a long edge of {} pixels", spec.name, spec.long_edge));
        }
    }
    specs.iter().map(|s| s.long_edge).max().map_or_else(|| invalid("no renditions are configured".into()), Ok)
}
