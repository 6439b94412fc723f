//! CMaps: a font's `/ToUnicode` (code → text) and the code spaces that say how many bytes a code has.
//!
//! This is where lopdf's own text extraction goes wrong on LibreOffice's output: LibreOffice writes compact
//! ToUnicode maps, `bfrange` entries whose destination is an array (`<01> <05> [<0049> <006E> …]`), and 1-byte
//! code spaces. Both forms of `bfrange`, `bfchar`, 1- to 4-byte code spaces and UTF-16BE destinations with
//! surrogate pairs (or ligatures: several characters for one code) are read here. Ranges are kept as ranges, so
//! a hostile `<0000> <FFFF>` costs nothing.

use std::collections::HashMap;

use crate::fnv::FnvBuild;

/// Entries kept from one CMap.
const MAX_ENTRIES: usize = 1 << 17;

/// The code space of a CMap: byte ranges, each of a fixed length.
#[derive(Debug, Clone, Default)]
pub(crate) struct CodeSpace {
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

impl CodeSpace {
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The length of the code starting `bytes` (1–4; never past the end; at least 1).
    pub(crate) fn code_length(&self, bytes: &[u8]) -> usize {
        for (lo, hi) in &self.ranges {
            let n = lo.len();
            if n <= bytes.len() && (0..n).all(|i| lo[i] <= bytes[i] && bytes[i] <= hi[i]) {
                return n;
            }
        }
        // No range matches: take the length of the shortest range, as viewers do.
        self.ranges.iter().map(|(lo, _)| lo.len()).min().unwrap_or(1).clamp(1, bytes.len().max(1))
    }
}

/// What a ToUnicode CMap maps codes to.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToUnicode {
    pub(crate) code_space: CodeSpace,
    /// Codes mapped to one character (nearly all), and to several (ligatures).
    chars: HashMap<u32, char, FnvBuild>,
    strings: HashMap<u32, String, FnvBuild>,
    /// (first code, last code, destination) — sorted by first code after parsing.
    ranges: Vec<(u32, u32, RangeTarget)>,
}

#[derive(Debug, Clone)]
enum RangeTarget {
    /// The first code maps to these UTF-16 units; each next code to the last unit plus one.
    Incrementing(Vec<u16>),
    /// One destination per code.
    Array(Vec<String>),
}

impl ToUnicode {
    /// Reads the `codespacerange`, `bfchar` and `bfrange` blocks; everything else in the CMap (its PostScript
    /// dictionary set-up, `usecmap`, CID ranges) is passed over. One pass over the bytes, hex strings decoded in
    /// place: a font's map is read once per document, but documents with a dozen subset fonts are common.
    pub(crate) fn parse(data: &[u8]) -> ToUnicode {
        #[derive(Clone, Copy, PartialEq)]
        enum Block {
            None,
            CodeSpace,
            Char,
            Range,
        }
        let mut map = ToUnicode::default();
        let mut block = Block::None;
        // The tokens of the entry being read: hex strings (as bytes) and, for a range, its array of destinations.
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let mut array: Option<Vec<String>> = None;
        let mut entries = 0_usize;
        let mut at = 0;
        while at < data.len() && entries < MAX_ENTRIES {
            match data[at] {
                b'<' if data.get(at + 1) != Some(&b'<') => {
                    let (bytes, end) = hex(data, at + 1);
                    at = end;
                    if block == Block::None {
                        continue;
                    }
                    strings.push(bytes);
                }
                b'[' if block == Block::Range => {
                    // An array of destinations: hex strings (or glyph names) up to `]`.
                    let mut items = Vec::new();
                    at += 1;
                    while at < data.len() && data[at] != b']' {
                        match data[at] {
                            b'<' => {
                                let (bytes, end) = hex(data, at + 1);
                                items.push(decode_utf16(&utf16_units(&bytes)));
                                at = end;
                            }
                            b'/' => {
                                let end = data[at + 1..]
                                    .iter()
                                    .position(|&b| !is_name_char(b))
                                    .map_or(data.len(), |i| at + 1 + i);
                                items.push(super::encoding::glyph_name_text(&data[at + 1..end]).unwrap_or_default());
                                at = end;
                            }
                            _ => at += 1,
                        }
                    }
                    at += 1;
                    array = Some(items);
                }
                b'/' if block == Block::Char && strings.len() == 1 => {
                    // A glyph name as a destination (`<20> /space`).
                    let end = data[at + 1..].iter().position(|&b| !is_name_char(b)).map_or(data.len(), |i| at + 1 + i);
                    let text = super::encoding::glyph_name_text(&data[at + 1..end]).unwrap_or_default();
                    at = end;
                    if let Some(code) = code_value(&strings[0]) {
                        map.insert_char(code, text);
                        entries += 1;
                    }
                    strings.clear();
                    continue;
                }
                b'%' => {
                    at = data[at..].iter().position(|&b| b == b'\n' || b == b'\r').map_or(data.len(), |i| at + i);
                    continue;
                }
                b if b.is_ascii_alphabetic() => {
                    let end =
                        data[at..].iter().position(|&b| !b.is_ascii_alphanumeric()).map_or(data.len(), |i| at + i);
                    let word = &data[at..end];
                    at = end;
                    let next = match word {
                        b"begincodespacerange" => Block::CodeSpace,
                        b"beginbfchar" => Block::Char,
                        b"beginbfrange" => Block::Range,
                        b"endcodespacerange" | b"endbfchar" | b"endbfrange" => Block::None,
                        _ => block,
                    };
                    if next != block {
                        block = next;
                        strings.clear();
                        array = None;
                    }
                    continue;
                }
                _ => {
                    at += 1;
                    continue;
                }
            }
            // An entry is complete: two strings for a code space or a character, three (or two and an array)
            // for a range.
            match block {
                Block::CodeSpace if strings.len() == 2 => {
                    let (lo, hi) = (&strings[0], &strings[1]);
                    if lo.len() == hi.len() && (1..=4).contains(&lo.len()) && map.code_space.ranges.len() < 256 {
                        map.code_space.ranges.push((lo.clone(), hi.clone()));
                    }
                    strings.clear();
                }
                Block::Char if strings.len() == 2 => {
                    if let Some(code) = code_value(&strings[0]) {
                        let text = decode_utf16(&utf16_units(&strings[1]));
                        map.insert_char(code, text);
                        entries += 1;
                    }
                    strings.clear();
                }
                Block::Range if strings.len() == 3 || (strings.len() == 2 && array.is_some()) => {
                    if let (Some(lo), Some(hi)) = (code_value(&strings[0]), code_value(&strings[1]))
                        && lo <= hi
                    {
                        let target = match array.take() {
                            Some(items) => RangeTarget::Array(items),
                            None => RangeTarget::Incrementing(utf16_units(&strings[2])),
                        };
                        map.ranges.push((lo, hi, target));
                        entries += 1;
                    }
                    strings.clear();
                    array = None;
                }
                _ => {}
            }
        }
        map.ranges.sort_by_key(|(lo, _, _)| *lo);
        map
    }

    fn insert_char(&mut self, code: u32, text: String) {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => {
                self.chars.insert(code, c);
                self.strings.remove(&code);
            }
            _ => {
                self.strings.insert(code, text);
                self.chars.remove(&code);
            }
        }
    }

    /// The text for `code`, if the CMap maps it. Empty destinations count as unmapped.
    pub(crate) fn get(&self, code: u32) -> Option<String> {
        let mut out = String::new();
        self.append(code, &mut out).then_some(out)
    }

    /// Appends the text for `code` to `out`; `false` (and nothing appended) when the CMap does not map it.
    pub(crate) fn append(&self, code: u32, out: &mut String) -> bool {
        let before = out.len();
        if let Some(&c) = self.chars.get(&code) {
            out.push(c);
            return true;
        }
        if let Some(text) = self.strings.get(&code) {
            out.push_str(text);
            return out.len() > before;
        }
        // The last range starting at or before `code` that contains it (ranges may overlap; later wins).
        let end = self.ranges.partition_point(|(lo, _, _)| *lo <= code);
        let Some((lo, _, target)) = self.ranges[..end].iter().rev().find(|(_, hi, _)| code <= *hi) else {
            return false;
        };
        let offset = code - lo;
        match target {
            RangeTarget::Array(items) => {
                if let Some(text) = items.get(offset as usize) {
                    out.push_str(text);
                }
            }
            RangeTarget::Incrementing(units) => {
                let Some((&last, head)) = units.split_last() else { return false };
                let Some(last) = u16::try_from(offset).ok().and_then(|o| last.checked_add(o)) else { return false };
                let units = head.iter().copied().chain(std::iter::once(last));
                out.extend(char::decode_utf16(units).filter_map(Result::ok).filter(|&c| c != '\0'));
            }
        }
        out.len() > before
    }
}

/// The bytes of a hex string whose digits start at `at`, and where it ends (after its `>`).
fn hex(data: &[u8], mut at: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    while let Some(&b) = data.get(at) {
        at += 1;
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b'>' => break,
            _ => continue,
        };
        match high.take() {
            Some(h) => out.push(h << 4 | digit),
            None => high = Some(digit),
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    (out, at)
}

fn is_name_char(b: u8) -> bool {
    !b.is_ascii_whitespace() && !matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

/// A code's numeric value (big-endian, up to 4 bytes).
fn code_value(bytes: &[u8]) -> Option<u32> {
    (1..=4).contains(&bytes.len()).then(|| bytes.iter().fold(0_u32, |v, &b| v << 8 | u32::from(b)))
}

/// UTF-16BE code units; a single byte (a malformed but common destination) is taken as one unit.
fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    if bytes.len() == 1 {
        return vec![u16::from(bytes[0])];
    }
    bytes.chunks(2).map(|pair| u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])).collect()
}

/// UTF-16 to text, dropping NULs and unpaired surrogates (which some generators write for unmapped glyphs).
fn decode_utf16(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied()).filter_map(Result::ok).filter(|&c| c != '\0').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBREOFFICE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar <01> <0049> <0A> <00660066> endbfchar
2 beginbfrange <02> <04> [<006E> <0076> <006F>] <10> <12> <0061> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn compact_maps_with_range_arrays_read_as_libreoffice_means_them() {
        let map = ToUnicode::parse(LIBREOFFICE);
        let text: String = [1, 2, 3, 4].iter().filter_map(|&c| map.get(c)).collect();
        assert_eq!(text, "Invo");
        assert_eq!(map.get(0x11).as_deref(), Some("b"));
        assert_eq!(map.get(0x0A).as_deref(), Some("ff"));
        assert_eq!(map.get(0x05), None);
        assert_eq!(map.code_space.code_length(&[0x01, 0x02]), 1);
    }

    #[test]
    fn two_byte_codes_map_to_surrogate_pairs() {
        let map = ToUnicode::parse(
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfchar <0007> <D83CDFD4> endbfchar",
        );
        assert_eq!(map.get(7).as_deref(), Some("🏔"));
        assert_eq!(map.code_space.code_length(&[0, 7, 0, 8]), 2);
    }

    #[test]
    fn a_range_over_every_code_costs_one_entry() {
        let map = ToUnicode::parse(b"1 beginbfrange <0000> <FFFF> <0000> endbfrange");
        assert_eq!(map.get(0x41).as_deref(), Some("A"));
        assert_eq!(map.ranges.len(), 1);
    }
}
