//! An event flattened to what the patterns read: for each read field path, the scalar leaves found there, each
//! with its *trail* — the arrays crossed on the way and the element taken in each. Two readers build it: one
//! walks a `serde_json::Value`, the other reads JSON bytes directly and skips every value no pattern reads
//! without building anything for it.
//!
//! Flattening follows event-ruler: arrays are transparent (a leaf inside `[[1, 2], 3]` is a leaf of the field),
//! objects continue the dotted path, and an empty array or an object at a read path contributes no leaf, so the
//! field counts as absent there.

use std::borrow::Cow;

use serde_json::Value;

use crate::condition::Leaf;
use crate::error::EventError;
use crate::fields::{FieldSet, NodeId};

/// serde_json refuses input nested this deep; the byte reader does the same.
pub const MAX_EVENT_DEPTH: usize = 128;

const NONE: u32 = u32::MAX;

/// One array crossed on the way to a leaf: which array (numbered in reading order) and which element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    array: u32,
    element: u32,
}

#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub(crate) leaf: Leaf<'a>,
    trail_start: u32,
    trail_len: u32,
    next: u32,
}

/// The leaves of an event, per slot of a [`FieldSet`].
#[derive(Debug, Default)]
pub(crate) struct FlatEvent<'a> {
    entries: Vec<Entry<'a>>,
    heads: Vec<u32>,
    steps: Vec<Step>,
}

impl<'a> FlatEvent<'a> {
    fn with_slots(slots: usize) -> Self {
        Self { entries: Vec::with_capacity(16), heads: vec![NONE; slots], steps: Vec::new() }
    }

    fn push(&mut self, slot: u32, leaf: Leaf<'a>, trail: &[Step]) {
        let trail_start = self.steps.len() as u32;
        self.steps.extend_from_slice(trail);
        let head = &mut self.heads[slot as usize];
        self.entries.push(Entry { leaf, trail_start, trail_len: trail.len() as u32, next: *head });
        *head = (self.entries.len() - 1) as u32;
    }

    /// Indices of the entries at a slot.
    pub(crate) fn at(&self, slot: u32) -> impl Iterator<Item = u32> + '_ {
        let mut cursor = self.heads.get(slot as usize).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            (cursor != NONE).then(|| {
                let here = cursor;
                cursor = self.entries[here as usize].next;
                here
            })
        })
    }

    pub(crate) fn entry(&self, index: u32) -> &Entry<'a> {
        &self.entries[index as usize]
    }

    pub(crate) fn is_constrained(&self, index: u32) -> bool {
        self.entries[index as usize].trail_len > 0
    }

    fn trail(&self, index: u32) -> &[Step] {
        let e = &self.entries[index as usize];
        &self.steps[e.trail_start as usize..(e.trail_start + e.trail_len) as usize]
    }

    /// Whether two leaves can be used together: not inside different elements of one array (event-ruler's
    /// "array-consistent" matching).
    pub(crate) fn compatible(&self, a: u32, b: u32) -> bool {
        for (x, y) in self.trail(a).iter().zip(self.trail(b)) {
            if x.array != y.array {
                return true;
            }
            if x.element != y.element {
                return false;
            }
        }
        true
    }

    /// Flattens a parsed event. A root that is not an object has no fields.
    pub(crate) fn from_value(event: &'a Value, fields: &FieldSet) -> Self {
        let mut walk = ValueWalk { fields, trail: Vec::new(), arrays: 0, flat: Self::with_slots(fields.slots()) };
        if let Value::Object(map) = event {
            for (key, value) in map {
                walk.key(FieldSet::ROOT, key, value, 1);
            }
        }
        walk.flat
    }

    /// Reads and flattens an event from its JSON text.
    pub(crate) fn from_json(bytes: &'a [u8], fields: &FieldSet) -> Result<Self, EventError> {
        let mut reader = ByteWalk {
            r: Reader { bytes, at: 0 },
            fields,
            trail: Vec::new(),
            arrays: 0,
            flat: Self::with_slots(fields.slots()),
        };
        reader.r.ws();
        if reader.r.peek() == Some(b'{') {
            reader.object(FieldSet::ROOT, 1)?;
        } else {
            reader.r.skip_value(0)?;
        }
        reader.r.ws();
        if reader.r.at != bytes.len() {
            return Err(reader.r.error("trailing characters"));
        }
        Ok(reader.flat)
    }
}

struct ValueWalk<'a, 'f> {
    fields: &'f FieldSet,
    trail: Vec<Step>,
    arrays: u32,
    flat: FlatEvent<'a>,
}

impl<'a> ValueWalk<'a, '_> {
    fn key(&mut self, parent: NodeId, key: &str, value: &'a Value, depth: usize) {
        if let Some(node) = self.fields.descend(parent, key.as_bytes()) {
            self.value(node, value, depth);
        }
    }

    fn value(&mut self, node: NodeId, value: &'a Value, depth: usize) {
        // A Value built in code can be deeper than any parser allows; past the bound the rest is not read.
        if depth > MAX_EVENT_DEPTH {
            return;
        }
        let leaf = match value {
            Value::Object(map) => {
                if self.fields.is_interior(node) {
                    for (key, value) in map {
                        self.key(node, key, value, depth + 1);
                    }
                }
                return;
            }
            Value::Array(items) => {
                let array = self.arrays;
                self.arrays += 1;
                for (element, item) in items.iter().enumerate() {
                    self.trail.push(Step { array, element: element as u32 });
                    self.value(node, item, depth + 1);
                    self.trail.pop();
                }
                return;
            }
            Value::String(s) => Leaf::Str(Cow::Borrowed(s)),
            Value::Number(n) => Leaf::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Null => Leaf::Null,
        };
        if let Some(slot) = self.fields.slot(node) {
            self.flat.push(slot, leaf, &self.trail);
        }
    }
}

/// The first `"` or `\\`. Eight bytes at a time with the classic "has a zero byte" bit trick (the lowest flagged
/// byte is always a true match), handing long strings to memchr.
fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        if at >= 64 {
            return memchr::memchr2(b'"', b'\\', &bytes[at..]).map(|p| p + at);
        }
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let (q, b) = (word ^ QUOTES, word ^ BACKSLASHES);
        let hits = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGHS;
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == b'"' || b == b'\\').map(|p| p + at)
}

/// The f64 a parsed `Value` would hold for this (grammatical) number text. Short integers are exact in f64 and
/// done here; anything else goes through serde_json, so both readers agree to the bit.
fn number_value(text: &[u8]) -> Option<f64> {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
        let magnitude = digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        return Some(if digits.len() < text.len() { -(magnitude as f64) } else { magnitude as f64 });
    }
    serde_json::from_slice::<f64>(text).ok()
}

/// A cursor over JSON bytes that validates what it passes over (structure, literals, numbers, escapes) without
/// building values. Strings it skips are not checked for UTF-8 or control characters; strings it reads are.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: &'static str) -> EventError {
        EventError::InvalidJson { reason, offset: self.at }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), EventError> {
        self.ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    /// At a `"`: the span of the string's content and whether it has escapes.
    fn string(&mut self) -> Result<(usize, usize, bool), EventError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            match find_quote_or_backslash(&self.bytes[self.at..]) {
                None => {
                    self.at = self.bytes.len();
                    return Err(self.error("unterminated string"));
                }
                Some(offset) => {
                    self.at += offset;
                    if self.bytes[self.at] == b'"' {
                        let end = self.at;
                        self.at += 1;
                        return Ok((start, end, escaped));
                    }
                    escaped = true;
                    match self.bytes.get(self.at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 2,
                        Some(b'u') => {
                            let hex = self.bytes.get(self.at + 2..self.at + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.error("invalid unicode escape"));
                            }
                            self.at += 6;
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
            }
        }
    }

    /// A string's text: borrowed when it has no escapes, decoded (by serde_json, so both readers agree) when it has.
    fn text(&self, start: usize, end: usize, escaped: bool) -> Result<Cow<'a, str>, EventError> {
        if escaped {
            serde_json::from_slice::<String>(&self.bytes[start - 1..end + 1])
                .map(Cow::Owned)
                .map_err(|_| EventError::InvalidJson { reason: "invalid string", offset: start })
        } else {
            std::str::from_utf8(&self.bytes[start..end])
                .map(Cow::Borrowed)
                .map_err(|_| EventError::InvalidJson { reason: "invalid UTF-8 in string", offset: start })
        }
    }

    /// At the first byte of a number: its span, checked against JSON's number grammar.
    fn number(&mut self) -> Result<(usize, usize), EventError> {
        let start = self.at;
        let digits = |r: &mut Self| {
            let from = r.at;
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                r.at += 1;
            }
            r.at - from
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok((start, self.at))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), EventError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// Skips one value, containers included, without recursion. `depth` is the nesting already entered.
    fn skip_value(&mut self, depth: usize) -> Result<(), EventError> {
        // Closing bytes of the open containers: one bit per level (1 = object).
        let mut open: u128 = 0;
        let mut levels = 0usize;
        loop {
            // A value.
            self.ws();
            match self.peek() {
                Some(b'{' | b'[') => {
                    let object = self.peek() == Some(b'{');
                    self.at += 1;
                    if depth + levels + 1 >= MAX_EVENT_DEPTH {
                        return Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH });
                    }
                    open = open << 1 | u128::from(object);
                    levels += 1;
                    self.ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                        open >>= 1;
                        levels -= 1;
                    } else {
                        if object {
                            self.string()?;
                            self.expect(b':', "expected ':'")?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                _ => return Err(self.error("expected a value")),
            }
            // After a value: close containers until one continues with a comma.
            loop {
                if levels == 0 {
                    return Ok(());
                }
                let object = open & 1 == 1;
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if object {
                            self.ws();
                            self.string()?;
                            self.expect(b':', "expected ':'")?;
                        }
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(self.error("expected ',' or the end of a container")),
                }
                self.at += 1;
                open >>= 1;
                levels -= 1;
            }
        }
    }
}

struct ByteWalk<'a, 'f> {
    r: Reader<'a>,
    fields: &'f FieldSet,
    trail: Vec<Step>,
    arrays: u32,
    flat: FlatEvent<'a>,
}

impl<'a> ByteWalk<'a, '_> {
    /// At a `{` whose path is `parent`; `depth` counts it.
    fn object(&mut self, parent: NodeId, depth: usize) -> Result<(), EventError> {
        if depth >= MAX_EVENT_DEPTH {
            return Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH });
        }
        self.r.at += 1;
        self.r.ws();
        if self.r.peek() == Some(b'}') {
            self.r.at += 1;
            return Ok(());
        }
        loop {
            self.r.ws();
            let (start, end, escaped) = self.r.string()?;
            self.r.expect(b':', "expected ':'")?;
            let node = if escaped {
                self.fields.descend(parent, self.r.text(start, end, true)?.as_bytes())
            } else {
                self.fields.descend(parent, &self.r.bytes[start..end])
            };
            match node {
                Some(node) => self.value(node, depth)?,
                None => self.r.skip_value(depth)?,
            }
            self.r.ws();
            match self.r.peek() {
                Some(b',') => self.r.at += 1,
                Some(b'}') => {
                    self.r.at += 1;
                    return Ok(());
                }
                _ => return Err(self.r.error("expected ',' or '}'")),
            }
        }
    }

    /// A value at a read path; `depth` counts the containers around it.
    fn value(&mut self, node: NodeId, depth: usize) -> Result<(), EventError> {
        self.r.ws();
        let slot = self.fields.slot(node);
        let leaf = match self.r.peek() {
            Some(b'{') if self.fields.is_interior(node) => return self.object(node, depth + 1),
            Some(b'{') => return self.r.skip_value(depth),
            Some(b'[') => return self.array(node, depth + 1),
            _ if slot.is_none() => return self.r.skip_value(depth),
            Some(b'"') => {
                let (start, end, escaped) = self.r.string()?;
                Leaf::Str(self.r.text(start, end, escaped)?)
            }
            Some(b't') => self.r.literal(b"true").map(|()| Leaf::Bool(true))?,
            Some(b'f') => self.r.literal(b"false").map(|()| Leaf::Bool(false))?,
            Some(b'n') => self.r.literal(b"null").map(|()| Leaf::Null)?,
            Some(b'-' | b'0'..=b'9') => {
                let (start, end) = self.r.number()?;
                Leaf::Num(
                    number_value(&self.r.bytes[start..end])
                        .ok_or(EventError::InvalidJson { reason: "number out of range", offset: start })?,
                )
            }
            _ => return Err(self.r.error("expected a value")),
        };
        if let Some(slot) = slot {
            self.flat.push(slot, leaf, &self.trail);
        }
        Ok(())
    }

    /// At a `[`; `depth` counts it.
    fn array(&mut self, node: NodeId, depth: usize) -> Result<(), EventError> {
        if depth >= MAX_EVENT_DEPTH {
            return Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH });
        }
        self.r.at += 1;
        let array = self.arrays;
        self.arrays += 1;
        self.r.ws();
        if self.r.peek() == Some(b']') {
            self.r.at += 1;
            return Ok(());
        }
        let mut element = 0;
        loop {
            self.trail.push(Step { array, element });
            self.value(node, depth)?;
            self.trail.pop();
            self.r.ws();
            match self.r.peek() {
                Some(b',') => {
                    self.r.at += 1;
                    element += 1;
                }
                Some(b']') => {
                    self.r.at += 1;
                    return Ok(());
                }
                _ => return Err(self.r.error("expected ',' or ']'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_at_a_time_search_finds_the_first_quote_or_backslash() {
        for len in 0..150 {
            for at in 0..=len {
                for stop in [b'"', b'\\'] {
                    let mut bytes = vec![b'a'; len];
                    bytes.extend_from_slice(&[0xe2, 0x82, 0xac]);
                    if at < len {
                        bytes[at] = stop;
                        bytes.push(b'"');
                    }
                    let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\');
                    assert_eq!(find_quote_or_backslash(&bytes), naive, "len {len} at {at}");
                }
            }
        }
        assert_eq!(find_quote_or_backslash(b"\x22\x5c"), Some(0));
        assert_eq!(find_quote_or_backslash(b"#!\x5b\x5d"), None);
    }

    #[test]
    fn short_integers_read_as_the_same_f64_serde_json_reads() {
        for text in ["0", "-0", "7", "-42", "123456789012345", "1234567890123456789", "1.5", "-2e3", "1E400"] {
            let serde = serde_json::from_str::<f64>(text).ok();
            assert_eq!(number_value(text.as_bytes()), serde, "{text}");
        }
    }
}
