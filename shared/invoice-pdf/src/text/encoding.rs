//! What a simple font's one-byte codes mean: the named base encodings, `/Differences`, and glyph names.
//!
//! A glyph name is looked up in the Adobe Glyph List For New Fonts; names not in it are read the way other
//! readers read them: `uniXXXX` (one or more UTF-16 code units), `uXXXX`–`uXXXXXX`, ligatures joined by `_`
//! (`f_f_i`), variants after a dot (`one.oldstyle`), and the numbered forms some generators write, taken as the
//! character's code as pdf.js does: `gXX`/`GXX` and `g00XX` in hexadecimal, `cDD`/`cDDD` in decimal.

use super::tables::{GLYPH_NAMES, MAC_ROMAN, STANDARD, WIN_ANSI};

/// A named base encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseEncoding {
    Standard,
    WinAnsi,
    MacRoman,
}

impl BaseEncoding {
    pub(crate) fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"StandardEncoding" => Some(BaseEncoding::Standard),
            b"WinAnsiEncoding" => Some(BaseEncoding::WinAnsi),
            b"MacRomanEncoding" | b"MacExpertEncoding" => Some(BaseEncoding::MacRoman),
            _ => None,
        }
    }

    /// The character for `code`, if the encoding defines one.
    pub(crate) fn char(self, code: u8) -> Option<char> {
        let table = match self {
            BaseEncoding::Standard => &STANDARD,
            BaseEncoding::WinAnsi => &WIN_ANSI,
            BaseEncoding::MacRoman => &MAC_ROMAN,
        };
        match table[usize::from(code)] {
            0 => None,
            u => char::from_u32(u32::from(u)),
        }
    }
}

/// The WinAnsi code of `c`, to find its width in the standard fonts' tables (which are in WinAnsi order).
pub(crate) fn win_ansi_code(c: char) -> Option<u8> {
    let u = u32::from(c);
    if (0x20..0x7F).contains(&u) || (0xA0..=0xFF).contains(&u) {
        return Some(u as u8);
    }
    (0x80..0xA0).find(|&code| u32::from(WIN_ANSI[code]) == u).map(|code| code as u8)
}

/// The text a glyph name stands for.
pub(crate) fn glyph_name_text(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    if let Some(c) = lookup(name) {
        return Some(c.to_string());
    }
    // "one.oldstyle" is a variant of "one"; "f_f_i" the ligature of its parts.
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base != name
        && let Some(text) = glyph_name_text(base.as_bytes())
    {
        return Some(text);
    }
    if base.contains('_') {
        let parts: Option<String> = base.split('_').map(single).collect();
        return parts;
    }
    single(base).map(String::from).or_else(|| uni_sequence(base))
}

fn lookup(name: &str) -> Option<char> {
    let i = GLYPH_NAMES.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    char::from_u32(u32::from(GLYPH_NAMES[i].1))
}

/// One character from a name that is not a ligature.
fn single(name: &str) -> Option<char> {
    if let Some(c) = lookup(name) {
        return Some(c);
    }
    let hex = |digits: &str| u32::from_str_radix(digits, 16).ok();
    let all_hex = |digits: &str| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit());
    let value = if let Some(digits) = name.strip_prefix("uni").filter(|d| d.len() == 4 && all_hex(d)) {
        hex(digits)
    } else if let Some(digits) = name.strip_prefix('u').filter(|d| (4..=6).contains(&d.len()) && all_hex(d)) {
        hex(digits)
    } else if let Some(digits) =
        name.strip_prefix(['g', 'G']).filter(|d| (d.len() == 2 || (d.len() == 4 && d.starts_with("00"))) && all_hex(d))
    {
        hex(digits)
    } else if let Some(digits) =
        name.strip_prefix(['c', 'C']).filter(|d| (2..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
    {
        digits.parse().ok()
    } else {
        None
    };
    value.and_then(char::from_u32).filter(|c| !c.is_control())
}

/// `uniXXXXYYYY…`: several UTF-16 code units (surrogate pairs allowed).
fn uni_sequence(name: &str) -> Option<String> {
    let digits = name.strip_prefix("uni")?;
    if digits.len() < 8 || !digits.len().is_multiple_of(4) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let units = digits
        .as_bytes()
        .chunks(4)
        .map(|chunk| u16::from_str_radix(std::str::from_utf8(chunk).unwrap_or("0"), 16).unwrap_or(0xFFFD));
    char::decode_utf16(units).collect::<Result<String, _>>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str) -> Option<String> {
        glyph_name_text(name.as_bytes())
    }

    #[test]
    fn glyph_names_read_from_the_list_and_the_numbered_forms() {
        assert_eq!(text("adieresis").as_deref(), Some("ä"));
        assert_eq!(text("Euro").as_deref(), Some("€"));
        assert_eq!(text("uni20AC").as_deref(), Some("€"));
        assert_eq!(text("u1F3D4").as_deref(), Some("🏔"));
        assert_eq!(text("uniD83CDFD4").as_deref(), Some("🏔"));
        assert_eq!(text("g45").as_deref(), Some("E"));
        assert_eq!(text("g0041").as_deref(), Some("A"));
        assert_eq!(text("c65").as_deref(), Some("A"));
        assert_eq!(text("f_f_i").as_deref(), Some("ffi"));
        assert_eq!(text("one.oldstyle").as_deref(), Some("1"));
        assert_eq!(text("nonsense"), None);
    }

    #[test]
    fn base_encodings_differ_where_they_should() {
        assert_eq!(BaseEncoding::WinAnsi.char(0x80), Some('€'));
        assert_eq!(BaseEncoding::Standard.char(0x27), Some('’'));
        assert_eq!(BaseEncoding::MacRoman.char(0x8A), Some('ä'));
        assert_eq!(BaseEncoding::WinAnsi.char(0x81), None);
        assert_eq!(win_ansi_code('€'), Some(0x80));
    }
}
