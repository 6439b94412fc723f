//! The last resort for a composite font without a ToUnicode map: the embedded TrueType program's own `cmap`
//! table, read backwards (glyph → character).
//!
//! fpdf2 and other subsetting generators write Identity-H fonts whose codes are glyph numbers; when the
//! ToUnicode map is missing, the subset's `cmap` still says which character each glyph draws. Only the table
//! directory and the `cmap` subtables are read (formats 4, 12 and 6/0), every offset checked against the data.

/// Mappings kept from one font (a full CJK font has ~50,000).
const MAX_MAPPINGS: usize = 1 << 17;

/// Glyph id → character, from a TrueType/OpenType font program. Empty when the font cannot be read.
pub(crate) fn glyph_to_char(font: &[u8]) -> Vec<char> {
    let mut map = Vec::new();
    let Some(cmap) = table(font, b"cmap") else { return map };
    let (Some(_), Some(count)) = (u16_at(cmap, 0), u16_at(cmap, 2)) else { return map };
    // The best subtable: Unicode full repertoire, then Unicode BMP, then symbol (codes F0xx), then Mac Roman.
    let mut best: Option<(u8, &[u8], u16, u16)> = None;
    for i in 0..usize::from(count) {
        let record = 4 + i * 8;
        let (Some(platform), Some(encoding), Some(offset)) =
            (u16_at(cmap, record), u16_at(cmap, record + 2), u32_at(cmap, record + 4))
        else {
            break;
        };
        let rank = match (platform, encoding) {
            (3, 10) | (0, 4) | (0, 6) => 4,
            (3, 1) | (0, _) => 3,
            (3, 0) => 2,
            (1, 0) => 1,
            _ => 0,
        };
        let Some(subtable) = cmap.get(offset as usize..) else { continue };
        if rank > best.map_or(0, |b| b.0) {
            best = Some((rank, subtable, platform, encoding));
        }
    }
    let Some((_, subtable, platform, encoding)) = best else { return map };
    let mut add = |code: u32, glyph: u32| {
        if glyph == 0 || glyph > 0xFFFF || map.len() > MAX_MAPPINGS {
            return;
        }
        let code = match (platform, encoding) {
            // Symbol fonts put their characters at F000 + the one-byte code.
            (3, 0) if (0xF000..=0xF0FF).contains(&code) => code - 0xF000,
            (1, 0) => super::encoding::BaseEncoding::MacRoman.char(code as u8).map_or(code, u32::from),
            _ => code,
        };
        let Some(c) = char::from_u32(code).filter(|c| !c.is_control()) else { return };
        let glyph = glyph as usize;
        if map.len() <= glyph {
            map.resize(glyph + 1, '\0');
        }
        // Several characters can share a glyph (space and no-break space); keep the first, the lower.
        if map[glyph] == '\0' {
            map[glyph] = c;
        }
    };
    match u16_at(subtable, 0) {
        Some(4) => format4(subtable, &mut add),
        Some(12) => format12(subtable, &mut add),
        Some(6) => {
            let (Some(first), Some(entries)) = (u16_at(subtable, 6), u16_at(subtable, 8)) else { return map };
            for i in 0..u32::from(entries) {
                if let Some(glyph) = u16_at(subtable, 10 + i as usize * 2) {
                    add(u32::from(first) + i, u32::from(glyph));
                }
            }
        }
        Some(0) => {
            for code in 0..256_u32 {
                if let Some(&glyph) = subtable.get(6 + code as usize) {
                    add(code, u32::from(glyph));
                }
            }
        }
        _ => {}
    }
    map
}

fn format4(subtable: &[u8], add: &mut impl FnMut(u32, u32)) {
    let Some(seg_x2) = u16_at(subtable, 6).map(usize::from) else { return };
    let ends = 14;
    let starts = ends + seg_x2 + 2;
    let deltas = starts + seg_x2;
    let range_offsets = deltas + seg_x2;
    for segment in 0..seg_x2 / 2 {
        let at = segment * 2;
        let (Some(end), Some(start), Some(delta), Some(range_offset)) = (
            u16_at(subtable, ends + at),
            u16_at(subtable, starts + at),
            u16_at(subtable, deltas + at),
            u16_at(subtable, range_offsets + at),
        ) else {
            return;
        };
        for code in start..=end {
            if code == 0xFFFF {
                break;
            }
            let glyph = if range_offset == 0 {
                code.wrapping_add(delta)
            } else {
                let index = range_offsets + at + usize::from(range_offset) + 2 * usize::from(code - start);
                match u16_at(subtable, index) {
                    Some(0) | None => 0,
                    Some(g) => g.wrapping_add(delta),
                }
            };
            add(u32::from(code), u32::from(glyph));
        }
    }
}

fn format12(subtable: &[u8], add: &mut impl FnMut(u32, u32)) {
    let Some(groups) = u32_at(subtable, 12) else { return };
    let mut added = 0_usize;
    for group in 0..groups as usize {
        let at = 16 + group * 12;
        let (Some(first), Some(last), Some(glyph)) =
            (u32_at(subtable, at), u32_at(subtable, at + 4), u32_at(subtable, at + 8))
        else {
            return;
        };
        for code in first..=last.min(0x10FFFF) {
            add(code, glyph + (code - first));
            added += 1;
            if added > MAX_MAPPINGS {
                return;
            }
        }
    }
}

/// A table of the font, by tag.
fn table<'a>(font: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let count = usize::from(u16_at(font, 4)?);
    (0..count).find_map(|i| {
        let record = 12 + i * 16;
        if font.get(record..record + 4)? != tag {
            return None;
        }
        let offset = u32_at(font, record + 8)? as usize;
        let length = u32_at(font, record + 12)? as usize;
        font.get(offset..offset.checked_add(length)?)
    })
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A font with only a `cmap` table holding one format 4 subtable: 'A'..'C' → glyphs 1..3.
    fn tiny_font() -> Vec<u8> {
        let mut sub = vec![0, 4, 0, 32, 0, 0, 0, 4, 0, 4, 0, 1, 0, 0];
        sub.extend([0, 0x43, 0xFF, 0xFF, 0, 0, 0, 0x41, 0xFF, 0xFF]); // ends, pad, starts
        sub.extend([0xFF, 0xC0, 0, 1, 0, 0, 0, 0]); // deltas (1 - 0x41 mod 2^16), 1; range offsets
        let mut cmap = vec![0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12];
        cmap.extend(&sub);
        let mut font = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        font.extend(b"cmap");
        font.extend([0, 0, 0, 0, 0, 0, 0, 28]);
        font.extend((cmap.len() as u32).to_be_bytes());
        font.extend(&cmap);
        font
    }

    #[test]
    fn a_format_4_cmap_reads_backwards() {
        let map = glyph_to_char(&tiny_font());
        assert_eq!(&map[1..4], ['A', 'B', 'C']);
    }

    #[test]
    fn garbage_gives_an_empty_map() {
        assert!(glyph_to_char(b"not a font at all").is_empty());
        assert!(glyph_to_char(&tiny_font()[..40]).is_empty());
    }
}
