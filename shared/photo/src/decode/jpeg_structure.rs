//! A walk over a JPEG's marker segments in safe Rust, before the C decoder sees the file.
//!
//! The walk (a millisecond for a 20 MiB file: it only looks for 0xFF bytes in the entropy-coded data) gives the
//! pipeline what it must know before allocating anything: the frame size and sampling factors (to bound the
//! decoder's memory), the sample precision and coding process (to refuse what cannot be decoded with a clear
//! reason), the number of scans (each progressive scan is another pass over every block, so thousands of tiny
//! scans are a CPU bomb), and whether the file reaches its end-of-image marker at all (a truncated upload must be
//! refused, not decoded into a half-grey picture). It also collects the metadata the C decoder is not asked for:
//! the EXIF block (for the orientation), the ICC profile and Adobe's APP14 marker (which says CMYK is inverted).

use memchr::memchr;

/// More scans than any encoder writes (libjpeg's progressive script has 10, mozjpeg's optimised ones about 20),
/// few enough that a file made of scans alone still decodes in well under a second.
pub(crate) const MAX_SCANS: usize = 64;

/// What the decoder will face, and the metadata it would not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Structure<'a> {
    pub frame: Frame,
    pub scans: usize,
    /// The first EXIF block, from its TIFF header on.
    pub exif: Option<&'a [u8]>,
    /// The ICC profile, reassembled from its APP2 chunks; `None` if absent or its chunks are inconsistent.
    pub icc_profile: Option<Vec<u8>>,
    /// An Adobe APP14 segment is present: Photoshop's convention of storing CMYK inverted.
    pub adobe: bool,
}

/// The first frame header (SOFn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The n of SOFn: 0 and 1 sequential, 2 progressive, 3 lossless, 5–7 hierarchical; plus 8 when
    /// arithmetic-coded.
    pub process: u8,
    pub precision: u8,
    pub width: u16,
    pub height: u16,
    /// Horizontal and vertical sampling factor of each component.
    pub sampling: Vec<(u8, u8)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StructureError {
    #[error("the file ends before its end-of-image marker")]
    Truncated,
    #[error("{0}")]
    Malformed(&'static str),
    #[error("more than {MAX_SCANS} scans")]
    TooManyScans,
}

pub(crate) fn walk(input: &[u8]) -> Result<Structure<'_>, StructureError> {
    if !input.starts_with(&[0xFF, 0xD8]) {
        return Err(StructureError::Malformed("no start-of-image marker"));
    }
    let mut pos = 2;
    let mut frame = None;
    let mut scans = 0;
    let (mut exif, mut icc_chunks, mut adobe) = (None, Vec::new(), false);
    loop {
        // Bytes between segments are tolerated, as libjpeg does (some cameras write them).
        pos += memchr(0xFF, input.get(pos..).unwrap_or_default()).ok_or(StructureError::Truncated)?;
        while input.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *input.get(pos).ok_or(StructureError::Truncated)?;
        pos += 1;
        match marker {
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(StructureError::Malformed("a second start-of-image marker")),
            0xD9 => break,
            _ => {}
        }
        let length = match input.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(StructureError::Truncated),
        };
        if length < 2 {
            return Err(StructureError::Malformed("a segment shorter than its length field"));
        }
        let segment = input.get(pos + 2..pos + length).ok_or(StructureError::Truncated)?;
        pos += length;
        match marker {
            // SOFn; 0xC4 (DHT), 0xC8 (reserved) and 0xCC (DAC) share the range but are not frames.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && frame.is_none() => {
                frame = Some(parse_frame(marker - 0xC0, segment)?);
            }
            0xDA => {
                scans += 1;
                if scans > MAX_SCANS {
                    return Err(StructureError::TooManyScans);
                }
                pos = skip_entropy_coded_data(input, pos)?;
            }
            0xE1 if exif.is_none() => exif = segment.strip_prefix(b"Exif\0\0"),
            0xE2 => {
                if let Some([seq, count, data @ ..]) = segment.strip_prefix(b"ICC_PROFILE\0") {
                    icc_chunks.push((*seq, *count, data));
                }
            }
            0xEE => adobe |= segment.starts_with(b"Adobe"),
            _ => {}
        }
    }
    let frame = frame.ok_or(StructureError::Malformed("no frame header"))?;
    Ok(Structure { frame, scans, exif, icc_profile: assemble_icc(icc_chunks), adobe })
}

/// Chunks numbered 1..=count, each once, all agreeing on the count (the ICC spec's rule for JPEG).
fn assemble_icc(mut chunks: Vec<(u8, u8, &[u8])>) -> Option<Vec<u8>> {
    let count = chunks.first()?.1;
    chunks.sort_by_key(|c| c.0);
    let complete = chunks.len() == usize::from(count)
        && chunks.iter().enumerate().all(|(i, c)| c.1 == count && usize::from(c.0) == i + 1);
    complete.then(|| chunks.iter().flat_map(|c| c.2.iter().copied()).collect())
}

fn parse_frame(process: u8, segment: &[u8]) -> Result<Frame, StructureError> {
    let malformed = StructureError::Malformed("a frame header shorter than its components");
    let [precision, h1, h0, w1, w0, count, components @ ..] = segment else { return Err(malformed) };
    let components = components.get(..3 * usize::from(*count)).ok_or(malformed)?;
    let sampling: Vec<(u8, u8)> = components.chunks_exact(3).map(|c| (c[1] >> 4, c[1] & 0x0F)).collect();
    if sampling.iter().any(|&(h, v)| !(1..=4).contains(&h) || !(1..=4).contains(&v)) {
        return Err(StructureError::Malformed("a sampling factor outside 1–4"));
    }
    Ok(Frame {
        process,
        precision: *precision,
        width: u16::from_be_bytes([*w1, *w0]),
        height: u16::from_be_bytes([*h1, *h0]),
        sampling,
    })
}

/// The position of the marker that ends the entropy-coded data starting at `pos`. Inside it 0xFF is followed by
/// 0x00 (a stuffed byte) or a restart marker; anything else is the next marker.
fn skip_entropy_coded_data(input: &[u8], mut pos: usize) -> Result<usize, StructureError> {
    loop {
        pos += memchr(0xFF, input.get(pos..).unwrap_or_default()).ok_or(StructureError::Truncated)?;
        match input.get(pos + 1) {
            None => return Err(StructureError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            Some(_) => return Ok(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    fn jpeg(scan_data: &[u8], scans: usize, end: bool) -> Vec<u8> {
        let mut f = vec![0xFF, 0xD8];
        f.extend(segment(0xE1, b"Exif\0\0MM \xFF\xD9 inside a segment is not a marker"));
        f.extend(segment(0xE2, b"ICC_PROFILE\0\x02\x02def"));
        f.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x02abc"));
        f.extend(segment(0xEE, b"Adobe\0\x64\0\0\0\0\x02"));
        f.extend(segment(0xC2, &[8, 0x0B, 0xB8, 0x0F, 0xA0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]));
        for _ in 0..scans {
            f.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
            f.extend_from_slice(scan_data);
        }
        if end {
            f.extend_from_slice(&[0xFF, 0xD9]);
        }
        f
    }

    #[test]
    fn the_frame_header_and_scans_are_read_past_stuffed_bytes_and_restarts() {
        let file = jpeg(&[1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3], 2, true);
        let s = walk(&file).unwrap();
        assert_eq!(s.scans, 2);
        assert_eq!(s.exif, Some(&b"MM \xFF\xD9 inside a segment is not a marker"[..]));
        assert_eq!(s.icc_profile.as_deref(), Some(&b"abcdef"[..]));
        assert!(s.adobe);
        assert_eq!(
            s.frame,
            Frame { process: 2, precision: 8, width: 4000, height: 3000, sampling: vec![(2, 2), (1, 1), (1, 1)] }
        );
    }

    #[test]
    fn a_file_without_its_end_marker_is_truncated() {
        assert_eq!(walk(&jpeg(&[1, 2, 3], 1, false)), Err(StructureError::Truncated));
        let full = jpeg(&[1, 2, 3], 1, true);
        for cut in 2..full.len() - 1 {
            assert!(walk(&full[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn an_icc_profile_missing_a_chunk_is_dropped() {
        assert_eq!(assemble_icc(vec![(1, 2, b"abc")]), None);
        assert_eq!(assemble_icc(vec![(1, 2, b"abc"), (1, 2, b"abc")]), None);
        assert_eq!(assemble_icc(vec![(2, 2, b"d"), (1, 2, b"a")]), Some(b"ad".to_vec()));
    }

    #[test]
    fn thousands_of_scans_are_refused() {
        assert_eq!(walk(&jpeg(&[0], MAX_SCANS + 1, true)), Err(StructureError::TooManyScans));
        assert!(walk(&jpeg(&[0], MAX_SCANS, true)).is_ok());
    }
}
