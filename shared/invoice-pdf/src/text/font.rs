//! A font as text extraction needs it: how to cut a string into codes, what text each code stands for, and how
//! far each glyph advances (so that positions, and so columns, come out right).
//!
//! Text comes from the font's ToUnicode map first; for the codes it does not map, from the simple font's
//! encoding (`/Encoding`, `/Differences` and glyph names), or for a composite font from a Unicode CMap
//! (`…-UCS2-…`) or the embedded TrueType program's own `cmap` (best effort for Identity-H without ToUnicode).
//! Widths come from `/Widths` or `/W`, else from the metrics of the standard fonts.

use lopdf::{Dictionary, Object};

use super::cmap::{CodeSpace, ToUnicode};
use super::encoding::{BaseEncoding, glyph_name_text, win_ansi_code};
use super::tables::{HELVETICA_BOLD_WIDTHS, HELVETICA_WIDTHS, TIMES_BOLD_WIDTHS, TIMES_WIDTHS};
use crate::document::Pdf;
use crate::error::ParseError;
use crate::limits::DecodeBudget;

/// Width entries kept from a composite font's `/W` array.
const MAX_WIDTH_ENTRIES: usize = 1 << 16;

/// One glyph of a shown string: the text it stands for (a range of the caller's buffer) and its advance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    pub start: usize,
    pub end: usize,
    /// The advance in text space for a font size of 1, before character and word spacing.
    pub width: f64,
    /// A one-byte code 32, to which word spacing (`Tw`) applies.
    pub word_space: bool,
}

#[derive(Debug)]
pub(crate) struct Font {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Simple {
        /// The character per code (`'\0'`: unknown, or more than one character, then in `extra`).
        chars: Box<[char; 256]>,
        /// Codes standing for several characters (a ligature's ToUnicode entry, `f_f_i`).
        extra: Vec<(u8, String)>,
        /// Advance per code, in text space units (already divided by 1000, or scaled by a Type3 FontMatrix).
        widths: Vec<f64>,
    },
    Composite {
        code_length: CodeLength,
        to_unicode: Option<ToUnicode>,
        /// The codes are UTF-16 (a `…-UCS2-…` or `…-UTF16-…` CMap).
        unicode_codes: bool,
        /// CID → glyph id (`None`: identity), for the font program's `cmap`.
        cid_to_gid: Option<Vec<u16>>,
        glyph_chars: Vec<char>,
        default_width: f64,
        /// (first CID, last CID, width), sorted.
        widths: Vec<(u32, u32, f64)>,
    },
}

#[derive(Debug)]
enum CodeLength {
    Two,
    Space(CodeSpace),
}

impl Font {
    /// The font for `dict` (a `/Font` resource). Never fails on a malformed font: what cannot be read is left out.
    pub(crate) fn load(pdf: &Pdf, dict: &Dictionary, budget: &mut DecodeBudget) -> Result<Font, ParseError> {
        let to_unicode = match dict.get(b"ToUnicode").ok().and_then(|o| pdf.stream(o)) {
            Some(stream) => pdf.decode(stream, budget)?.map(|data| ToUnicode::parse(&data)),
            None => None,
        };
        let kind = if dict.get(b"Subtype").ok().and_then(|s| pdf.name(s)) == Some(b"Type0") {
            composite(pdf, dict, to_unicode, budget)?
        } else {
            simple(pdf, dict, to_unicode)
        };
        Ok(Font { kind })
    }

    /// Cuts `bytes` into glyphs, appending their text to `text` and the glyphs to `glyphs` (both cleared first).
    pub(crate) fn decode(&self, bytes: &[u8], text: &mut String, glyphs: &mut Vec<Glyph>) {
        text.clear();
        glyphs.clear();
        match &self.kind {
            Kind::Simple { chars, extra, widths } => {
                for &b in bytes {
                    let start = text.len();
                    match chars[usize::from(b)] {
                        '\0' => {
                            if let Some((_, more)) = extra.iter().find(|(code, _)| *code == b) {
                                text.push_str(more);
                            }
                        }
                        c => text.push(c),
                    }
                    glyphs.push(Glyph { start, end: text.len(), width: widths[usize::from(b)], word_space: b == 32 });
                }
            }
            Kind::Composite {
                code_length,
                to_unicode,
                unicode_codes,
                cid_to_gid,
                glyph_chars,
                default_width,
                widths,
            } => {
                let mut at = 0;
                while at < bytes.len() {
                    let n = match code_length {
                        CodeLength::Two => 2.min(bytes.len() - at),
                        CodeLength::Space(space) => space.code_length(&bytes[at..]).min(bytes.len() - at),
                    };
                    let code = bytes[at..at + n].iter().fold(0_u32, |v, &b| v << 8 | u32::from(b));
                    at += n;
                    let start = text.len();
                    match to_unicode.as_ref().is_some_and(|map| map.append(code, text)) {
                        true => {}
                        false if *unicode_codes => text.extend(char::from_u32(code).filter(|c| !c.is_control())),
                        false => {
                            // Identity: the code is the CID; the glyph id comes through CIDToGIDMap.
                            let gid = match cid_to_gid {
                                None => Some(code as usize),
                                Some(map) => map.get(code as usize).map(|&g| usize::from(g)),
                            };
                            text.extend(gid.and_then(|g| glyph_chars.get(g)).copied().filter(|&c| c != '\0'));
                        }
                    }
                    let i = widths.partition_point(|(lo, _, _)| *lo <= code);
                    let width = widths[..i].last().filter(|(_, hi, _)| code <= *hi).map_or(*default_width, |w| w.2);
                    glyphs.push(Glyph { start, end: text.len(), width, word_space: n == 1 && code == 32 });
                }
            }
        }
    }
}

fn simple(pdf: &Pdf, dict: &Dictionary, to_unicode: Option<ToUnicode>) -> Kind {
    let subtype = dict.get(b"Subtype").ok().and_then(|s| pdf.name(s)).unwrap_or(b"Type1");
    let base_font = dict.get(b"BaseFont").ok().and_then(|s| pdf.name(s)).unwrap_or(b"");
    let base_font = String::from_utf8_lossy(base_font);
    // "ABCDEF+Helvetica-Bold": the part after the subset tag.
    let base_font = base_font.split_once('+').map_or(&*base_font, |(_, name)| name);

    let encoding = dict.get(b"Encoding").ok().and_then(|e| pdf.resolve(e));
    let default_base =
        if subtype == b"TrueType" && !is_symbolic(pdf, dict) { BaseEncoding::WinAnsi } else { BaseEncoding::Standard };
    let (base, differences) = match encoding {
        Some(Object::Name(name)) => (BaseEncoding::from_name(name).unwrap_or(default_base), None),
        Some(Object::Dictionary(enc)) => (
            enc.get(b"BaseEncoding")
                .ok()
                .and_then(|b| pdf.name(b))
                .and_then(BaseEncoding::from_name)
                .unwrap_or(default_base),
            enc.get(b"Differences").ok().and_then(|d| pdf.array(d)),
        ),
        _ => (default_base, None),
    };
    let symbol_font = base_font.starts_with("Symbol") || base_font.starts_with("ZapfDingbats");
    let mut chars = Box::new([' '; 256]);
    for (code, slot) in chars.iter_mut().enumerate() {
        *slot = base.char(code as u8).filter(|_| !symbol_font).unwrap_or('\0');
    }
    let mut extra: Vec<(u8, String)> = Vec::new();
    let mut set = |code: usize, text: Option<String>, chars: &mut [char; 256]| {
        let Ok(code) = u8::try_from(code) else { return };
        extra.retain(|(c, _)| *c != code);
        let mut it = text.as_deref().unwrap_or("").chars();
        chars[usize::from(code)] = match (it.next(), it.next()) {
            (Some(c), None) => c,
            (None, _) => '\0',
            (Some(_), Some(_)) => {
                extra.push((code, text.unwrap_or_default()));
                '\0'
            }
        };
    };
    if let Some(differences) = differences {
        let mut code = 0_usize;
        for item in differences {
            match pdf.resolve(item) {
                Some(Object::Integer(n)) => code = usize::try_from(*n).unwrap_or(256),
                Some(Object::Name(name)) => {
                    set(code, glyph_name_text(name), &mut chars);
                    code = code.saturating_add(1);
                }
                _ => {}
            }
        }
    }
    if let Some(map) = &to_unicode {
        for code in 0..256 {
            if let Some(mapped) = map.get(code as u32) {
                set(code, Some(mapped), &mut chars);
            }
        }
    }

    // Widths: /Widths from /FirstChar, in glyph space (1/1000 of text space, or a Type3 font's own matrix).
    let scale = if subtype == b"Type3" {
        dict.get(b"FontMatrix")
            .ok()
            .and_then(|m| pdf.array(m))
            .and_then(|m| m.first())
            .and_then(|a| pdf.number(a))
            .map_or(0.001, f64::abs)
    } else {
        0.001
    };
    let descriptor = dict.get(b"FontDescriptor").ok().and_then(|d| pdf.dict(d));
    let missing = descriptor.and_then(|d| d.get(b"MissingWidth").ok()).and_then(|w| pdf.number(w));
    let standard = standard_widths(base_font);
    let mut widths: Vec<f64> = chars
        .iter()
        .map(|&c| {
            let standard = win_ansi_code(c).map(&standard);
            standard.or(missing).unwrap_or(500.0) * 0.001
        })
        .collect();
    let first = dict.get(b"FirstChar").ok().and_then(|f| pdf.number(f)).unwrap_or(0.0);
    if let Some(list) = dict.get(b"Widths").ok().and_then(|w| pdf.array(w))
        && (0.0..256.0).contains(&first)
    {
        for (i, w) in list.iter().enumerate() {
            let code = first as usize + i;
            if code >= 256 {
                break;
            }
            if let Some(w) = pdf.number(w) {
                widths[code] = w * scale;
            }
        }
    }
    Kind::Simple { chars, extra, widths }
}

/// Flag 3 of the font descriptor: the font uses its own character set, so no standard encoding applies.
fn is_symbolic(pdf: &Pdf, dict: &Dictionary) -> bool {
    let flags = dict
        .get(b"FontDescriptor")
        .ok()
        .and_then(|d| pdf.dict(d))
        .and_then(|d| d.get(b"Flags").ok())
        .and_then(|f| pdf.number(f))
        .unwrap_or(0.0) as i64;
    flags & 4 != 0 && flags & 32 == 0
}

/// The widths of the standard font a base font name stands for (Arial is metric-compatible with Helvetica),
/// by WinAnsi code; Helvetica's for any other font without widths.
fn standard_widths(base_font: &str) -> Box<dyn Fn(u8) -> f64> {
    let name = base_font.to_ascii_lowercase();
    let bold = name.contains("bold") || name.contains("black") || name.contains("heavy");
    if name.contains("courier") || name.contains("mono") {
        return Box::new(|_| 600.0);
    }
    let table = match (name.contains("times") || name.contains("serif") && !name.contains("sans"), bold) {
        (true, false) => &TIMES_WIDTHS,
        (true, true) => &TIMES_BOLD_WIDTHS,
        (false, false) => &HELVETICA_WIDTHS,
        (false, true) => &HELVETICA_BOLD_WIDTHS,
    };
    Box::new(move |code| f64::from(table[usize::from(code)]))
}

fn composite(
    pdf: &Pdf,
    dict: &Dictionary,
    to_unicode: Option<ToUnicode>,
    budget: &mut DecodeBudget,
) -> Result<Kind, ParseError> {
    let encoding = dict.get(b"Encoding").ok().and_then(|e| pdf.resolve(e));
    let (code_length, unicode_codes) = match encoding {
        Some(Object::Name(name)) => {
            let name = String::from_utf8_lossy(name);
            let unicode = name.contains("UCS2") || name.contains("UTF16");
            let length = match &to_unicode {
                Some(map) if !name.starts_with("Identity") && !unicode && !map.code_space.is_empty() => {
                    CodeLength::Space(map.code_space.clone())
                }
                _ => CodeLength::Two,
            };
            (length, unicode)
        }
        Some(Object::Stream(stream)) => {
            let space = pdf.decode(stream, budget)?.map(|data| ToUnicode::parse(&data).code_space).unwrap_or_default();
            (if space.is_empty() { CodeLength::Two } else { CodeLength::Space(space) }, false)
        }
        _ => (CodeLength::Two, false),
    };
    let descendant = dict
        .get(b"DescendantFonts")
        .ok()
        .and_then(|d| pdf.array(d))
        .and_then(|fonts| fonts.first())
        .and_then(|f| pdf.dict(f));
    let default_width =
        descendant.and_then(|d| d.get(b"DW").ok()).and_then(|w| pdf.number(w)).unwrap_or(1000.0) * 0.001;
    let widths = descendant
        .and_then(|d| d.get(b"W").ok())
        .and_then(|w| pdf.array(w))
        .map_or_else(Vec::new, |w| cid_widths(pdf, w));

    // Only without a ToUnicode map: the font program's cmap, through CIDToGIDMap.
    let (mut cid_to_gid, mut glyph_chars) = (None, Vec::new());
    if to_unicode.is_none()
        && !unicode_codes
        && let Some(descendant) = descendant
    {
        let program = descendant
            .get(b"FontDescriptor")
            .ok()
            .and_then(|d| pdf.dict(d))
            .and_then(|d| d.get(b"FontFile2").ok().or_else(|| d.get(b"FontFile3").ok()))
            .and_then(|f| pdf.stream(f));
        if let Some(program) = program
            && let Some(data) = pdf.decode(program, budget)?
        {
            glyph_chars = super::truetype::glyph_to_char(&data);
        }
        if let Some(map) = descendant.get(b"CIDToGIDMap").ok().and_then(|m| pdf.stream(m))
            && let Some(data) = pdf.decode(map, budget)?
        {
            cid_to_gid = Some(data.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect());
        }
    }
    Ok(Kind::Composite { code_length, to_unicode, unicode_codes, cid_to_gid, glyph_chars, default_width, widths })
}

/// `/W`: `c [w1 w2 …]` gives consecutive CIDs from c their widths; `c_first c_last w` gives a range one width.
fn cid_widths(pdf: &Pdf, list: &[Object]) -> Vec<(u32, u32, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < list.len() && out.len() < MAX_WIDTH_ENTRIES {
        let Some(first) = pdf.number(&list[i]).filter(|n| *n >= 0.0).map(|n| n as u32) else { break };
        match list.get(i + 1).and_then(|o| pdf.resolve(o)) {
            Some(Object::Array(ws)) => {
                for (k, w) in ws.iter().enumerate().take(MAX_WIDTH_ENTRIES) {
                    if let Some(w) = pdf.number(w) {
                        let cid = first.saturating_add(k as u32);
                        out.push((cid, cid, w * 0.001));
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(w)) = (pdf.number(last), list.get(i + 2).and_then(|w| pdf.number(w))) else {
                    break;
                };
                out.push((first, last.max(0.0) as u32, w * 0.001));
                i += 3;
            }
            None => break,
        }
    }
    out.sort_by_key(|(lo, _, _)| *lo);
    out
}
