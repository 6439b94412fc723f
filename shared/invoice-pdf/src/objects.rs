//! The fast way into a well-formed PDF: read the cross-reference data, then parse only the objects that are
//! asked for, when they are asked for.
//!
//! lopdf parses every object of a file up front, with nom, which for a Factur-X file (XMP metadata, an ICC
//! profile, font programs, all parsed and copied) was over a third of the whole time of [`parse`](crate::parse).
//! Reading an invoice touches a dozen objects: the catalog, the page tree, a page, its fonts and content, or the
//! attachment. So for a file whose cross-reference table (or stream) reads cleanly and whose entries point where
//! they say, objects are parsed here on first use (a hand-written parser producing lopdf's `Object`s, so the
//! rest of the crate does not know which way a file was read) and kept. Anything else (a damaged or
//! encrypted file, an entry that points at the wrong bytes) goes the lopdf way, which repairs and decrypts.
//!
//! The same bounds apply as on the lopdf path: the number of entries against [`Limits::max_objects`], object
//! and cross-reference streams against a decode budget, nesting depth, `/Prev` chains, and references that lead
//! back to the object being parsed (a `/Length` pointing at its own stream) resolve to nothing.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};

use crate::error::{Exceeded, ParseError};
use crate::fnv::FnvBuild;
use crate::limits::{DecodeBudget, Limits};
use crate::text::lexer::Lexer;

/// Cross-reference sections followed through `/Prev` (incremental updates; real files have a few).
const MAX_XREF_SECTIONS: usize = 32;
/// Arrays and dictionaries nested deeper than this make the object unreadable (lopdf's bound is similar).
const MAX_NESTING: usize = 64;
/// Objects whose parsing needs another object (a `/Length`, an object stream) nest at most this deep.
const MAX_LOAD_DEPTH: usize = 8;

#[derive(Debug, Clone, Copy)]
enum Entry {
    Free,
    Offset(usize),
    InStream { container: u32 },
}

/// An object stream, decoded: where each of its objects starts.
struct ObjectStream {
    data: Vec<u8>,
    offsets: HashMap<u32, usize>,
}

pub(crate) struct Lazy {
    bytes: Box<[u8]>,
    entries: HashMap<u32, (Entry, OnceCell<Option<Object>>), FnvBuild>,
    trailer: Dictionary,
    /// Objects being parsed right now, to cut reference cycles.
    loading: RefCell<Vec<u32>>,
    object_streams: RefCell<HashMap<u32, Option<Rc<ObjectStream>>>>,
    budget: RefCell<DecodeBudget>,
    exceeded: Cell<Option<Exceeded>>,
    max_objects: usize,
}

impl Lazy {
    /// The file's objects, to be parsed on use; `Ok(None)` when the file is not one this reader takes (it is
    /// then read with lopdf), an error when its cross-reference data is over the limits.
    pub(crate) fn open(bytes: &[u8], limits: &Limits) -> Result<Option<Lazy>, ParseError> {
        let mut lazy = Lazy {
            bytes: bytes.into(),
            entries: HashMap::default(),
            trailer: Dictionary::new(),
            loading: RefCell::new(Vec::new()),
            object_streams: RefCell::new(HashMap::new()),
            budget: RefCell::new(DecodeBudget::new(limits)),
            exceeded: Cell::new(None),
            max_objects: limits.max_objects,
        };
        let Some((entries, trailer)) = lazy.cross_references()? else { return Ok(None) };
        if trailer.has(b"Encrypt") {
            return Ok(None);
        }
        // Every entry must point at its own object ("12 0 obj"); a file that lost or gained bytes is repaired
        // by lopdf instead.
        for (&number, entry) in &entries {
            if let Entry::Offset(offset) = entry
                && !lazy.object_header_at(*offset, number)
            {
                return Ok(None);
            }
        }
        lazy.entries = entries.into_iter().map(|(n, e)| (n, (e, OnceCell::new()))).collect();
        lazy.trailer = trailer;
        Ok(Some(lazy))
    }

    pub(crate) fn trailer(&self) -> &Dictionary {
        &self.trailer
    }

    /// A limit reached while parsing objects on use (a bomb in an object stream), to report after the fact.
    pub(crate) fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded.get()
    }

    /// The object `id`, parsed on first use.
    pub(crate) fn get(&self, id: ObjectId) -> Option<&Object> {
        let (entry, cell) = self.entries.get(&id.0)?;
        if let Some(value) = cell.get() {
            return value.as_ref();
        }
        {
            let loading = self.loading.borrow();
            if loading.contains(&id.0) || loading.len() >= MAX_LOAD_DEPTH {
                return None;
            }
        }
        self.loading.borrow_mut().push(id.0);
        let value = self.load(*entry, id.0);
        self.loading.borrow_mut().pop();
        let _ = cell.set(value);
        cell.get()?.as_ref()
    }

    fn load(&self, entry: Entry, number: u32) -> Option<Object> {
        match entry {
            Entry::Free => None,
            Entry::Offset(offset) => self.indirect_object(offset, Some(number)).map(|(_, object)| object),
            Entry::InStream { container } => {
                let stream = self.object_stream(container)?;
                let offset = *stream.offsets.get(&number)?;
                let mut lexer = Lexer::at(&stream.data, offset);
                self.object(&stream.data, &mut lexer, 0)
            }
        }
    }

    fn object_stream(&self, container: u32) -> Option<Rc<ObjectStream>> {
        if let Some(cached) = self.object_streams.borrow().get(&container) {
            return cached.clone();
        }
        let parsed = self.parse_object_stream(container).map(Rc::new);
        self.object_streams.borrow_mut().insert(container, parsed.clone());
        parsed
    }

    fn parse_object_stream(&self, container: u32) -> Option<ObjectStream> {
        let Object::Stream(stream) = self.get((container, 0))? else { return None };
        if !stream.dict.has_type(b"ObjStm") {
            return None;
        }
        let data = self.decode(stream)?;
        let first = usize::try_from(stream.dict.get(b"First").ok()?.as_i64().ok()?).ok()?;
        let count = usize::try_from(stream.dict.get(b"N").ok()?.as_i64().ok()?).ok()?;
        let header = data.get(..first)?;
        let numbers: Vec<usize> = header
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
            .take(count.min(self.max_objects).saturating_mul(2))
            .filter_map(|t| std::str::from_utf8(t).ok()?.parse().ok())
            .collect();
        let offsets = numbers
            .chunks_exact(2)
            .filter_map(|pair| Some((u32::try_from(pair[0]).ok()?, first.checked_add(pair[1])?)))
            .filter(|(_, at)| *at < data.len())
            .collect();
        Some(ObjectStream { data, offsets })
    }

    /// A stream decoded within the budget; a limit reached is remembered and reported after the parse.
    fn decode(&self, stream: &Stream) -> Option<Vec<u8>> {
        let mut budget = self.budget.borrow_mut();
        let limit = budget.next_limit();
        let result = match stream.filters() {
            Ok(filters) if !filters.is_empty() => stream.decompressed_content_with_limit(limit),
            _ if stream.content.len() > limit => {
                Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit }))
            }
            _ => Ok(stream.content.clone()),
        };
        match result {
            Ok(data) => match budget.charge(data.len()) {
                Ok(()) => Some(data),
                Err(exceeded) => {
                    self.exceeded.set(Some(exceeded));
                    None
                }
            },
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
                self.exceeded.set(Some(budget.over_limit()));
                None
            }
            Err(_) => None,
        }
    }

    // ---- cross-reference data -------------------------------------------------------------------------------

    /// All entries (the newest section's entry for each object wins) and the newest trailer.
    #[allow(clippy::type_complexity)]
    fn cross_references(&self) -> Result<Option<(HashMap<u32, Entry>, Dictionary)>, ParseError> {
        let bytes = &self.bytes[..];
        let tail = bytes.len().saturating_sub(4096);
        let Some(at) = memchr::memmem::rfind(&bytes[tail..], b"startxref") else { return Ok(None) };
        let mut lexer = Lexer::at(bytes, tail + at + 9);
        lexer.peek();
        let Some(mut next) = integer(lexer.read_regular()).and_then(|o| usize::try_from(o).ok()) else {
            return Ok(None);
        };
        let mut entries = HashMap::new();
        let mut trailer = None;
        let mut seen = HashSet::new();
        loop {
            if !seen.insert(next) || seen.len() > MAX_XREF_SECTIONS || next >= bytes.len() {
                return Ok(None);
            }
            let section = if bytes[next..].starts_with(b"xref") {
                self.xref_table(next, &mut entries)?
            } else {
                self.xref_stream(next, &mut entries)?
            };
            let Some(dict) = section else { return Ok(None) };
            // A hybrid file lists its compressed objects in a stream the table points at.
            if let Some(at) =
                dict.get(b"XRefStm").ok().and_then(|o| o.as_i64().ok()).and_then(|o| usize::try_from(o).ok())
                && self.xref_stream(at, &mut entries)?.is_none()
            {
                return Ok(None);
            }
            let previous = dict.get(b"Prev").ok().and_then(|o| o.as_i64().ok()).and_then(|o| usize::try_from(o).ok());
            trailer.get_or_insert(dict);
            match previous {
                Some(previous) => next = previous,
                None => break,
            }
        }
        Ok(trailer.map(|trailer| (entries, trailer)))
    }

    fn add(&self, entries: &mut HashMap<u32, Entry>, number: u32, entry: Entry) -> Result<(), ParseError> {
        entries.entry(number).or_insert(entry);
        if entries.len() > self.max_objects {
            return Err(ParseError::exceeded(Exceeded::Objects { max: self.max_objects }));
        }
        Ok(())
    }

    /// A classic table: subsections of "start count" and 20-byte lines, then `trailer <<…>>`.
    fn xref_table(&self, at: usize, entries: &mut HashMap<u32, Entry>) -> Result<Option<Dictionary>, ParseError> {
        let bytes = &self.bytes[..];
        let mut lexer = Lexer::at(bytes, at + 4);
        loop {
            lexer.peek();
            let token = lexer.read_regular();
            if token == b"trailer" {
                return Ok(match self.object(bytes, &mut lexer, 0) {
                    Some(Object::Dictionary(dict)) => Some(dict),
                    _ => None,
                });
            }
            let (Some(start), Some(count)) = (integer(token), {
                lexer.peek();
                integer(lexer.read_regular())
            }) else {
                return Ok(None);
            };
            for i in 0..count {
                lexer.peek();
                let offset = integer(lexer.read_regular());
                lexer.peek();
                let generation = integer(lexer.read_regular());
                lexer.peek();
                let kind = lexer.read_regular();
                let (Some(offset), Some(_)) = (offset, generation) else { return Ok(None) };
                let Ok(number) = u32::try_from(start + i) else { return Ok(None) };
                let entry = match kind {
                    b"n" => Entry::Offset(usize::try_from(offset).unwrap_or(usize::MAX)),
                    b"f" => Entry::Free,
                    _ => return Ok(None),
                };
                self.add(entries, number, entry)?;
            }
        }
    }

    /// A cross-reference stream: rows of `/W` widths for the objects `/Index` names.
    fn xref_stream(&self, at: usize, entries: &mut HashMap<u32, Entry>) -> Result<Option<Dictionary>, ParseError> {
        let Some((_, Object::Stream(stream))) = self.indirect_object(at, None) else { return Ok(None) };
        if !stream.dict.has_type(b"XRef") {
            return Ok(None);
        }
        let Some(data) = self.decode(&stream) else {
            return match self.exceeded.get() {
                Some(exceeded) => Err(ParseError::exceeded(exceeded)),
                None => Ok(None),
            };
        };
        let widths: Vec<usize> = match stream.dict.get(b"W").ok().and_then(|w| w.as_array().ok()) {
            Some(w) => w.iter().filter_map(|x| x.as_i64().ok()).filter_map(|x| usize::try_from(x).ok()).collect(),
            None => return Ok(None),
        };
        if widths.len() != 3 || widths.iter().any(|&w| w > 8) || widths.iter().sum::<usize>() == 0 {
            return Ok(None);
        }
        let size = stream.dict.get(b"Size").ok().and_then(|s| s.as_i64().ok()).unwrap_or(0);
        let index: Vec<i64> = match stream.dict.get(b"Index").ok().and_then(|i| i.as_array().ok()) {
            Some(index) => index.iter().filter_map(|x| x.as_i64().ok()).collect(),
            None => vec![0, size],
        };
        let row = widths.iter().sum::<usize>();
        let mut rows = data.chunks_exact(row);
        let field = |bytes: &[u8]| bytes.iter().fold(0_u64, |v, &b| v << 8 | u64::from(b));
        for pair in index.chunks_exact(2) {
            let (Ok(start), Ok(count)) = (u32::try_from(pair[0]), u64::try_from(pair[1])) else { return Ok(None) };
            for i in 0..count {
                let Some(bytes) = rows.next() else { return Ok(Some(stream.dict)) };
                let (a, rest) = bytes.split_at(widths[0]);
                let (b, c) = rest.split_at(widths[1]);
                let kind = if widths[0] == 0 { 1 } else { field(a) };
                let Some(number) = u32::try_from(i).ok().and_then(|i| start.checked_add(i)) else { return Ok(None) };
                let entry = match kind {
                    0 => Entry::Free,
                    1 => Entry::Offset(usize::try_from(field(b)).unwrap_or(usize::MAX)),
                    2 => Entry::InStream { container: u32::try_from(field(b)).unwrap_or(u32::MAX) },
                    _ => continue,
                };
                let _ = c;
                self.add(entries, number, entry)?;
            }
        }
        Ok(Some(stream.dict))
    }

    // ---- objects --------------------------------------------------------------------------------------------

    /// Whether `at` holds "`number` `generation` obj".
    fn object_header_at(&self, at: usize, number: u32) -> bool {
        let mut lexer = Lexer::at(&self.bytes, at);
        lexer.peek();
        integer(lexer.read_regular()) == Some(i64::from(number))
    }

    /// The indirect object at `at` ("n g obj … endobj"), if it is object `expected` (when given).
    fn indirect_object(&self, at: usize, expected: Option<u32>) -> Option<(u32, Object)> {
        let bytes = &self.bytes[..];
        let mut lexer = Lexer::at(bytes, at);
        lexer.peek();
        let number = u32::try_from(integer(lexer.read_regular())?).ok()?;
        if expected.is_some_and(|e| e != number) {
            return None;
        }
        lexer.peek();
        integer(lexer.read_regular())?;
        lexer.peek();
        if lexer.read_regular() != b"obj" {
            return None;
        }
        let object = self.object(bytes, &mut lexer, 0)?;
        let object = match object {
            Object::Dictionary(dict) => self.stream_after(bytes, &mut lexer, dict),
            other => other,
        };
        Some((number, object))
    }

    /// A dictionary followed by `stream` is a stream: its content runs `/Length` bytes (found by looking for
    /// `endstream` when the length is missing or wrong).
    fn stream_after<'b>(&self, bytes: &'b [u8], lexer: &mut Lexer<'b>, dict: Dictionary) -> Object {
        lexer.peek();
        let at = lexer.pos();
        if !bytes[at..].starts_with(b"stream") {
            return Object::Dictionary(dict);
        }
        let mut start = at + 6;
        if bytes[start..].starts_with(b"\r\n") {
            start += 2;
        } else if bytes.get(start).is_some_and(|&b| b == b'\n' || b == b'\r') {
            start += 1;
        }
        let length = match dict.get(b"Length").ok() {
            Some(Object::Integer(n)) => Some(*n),
            Some(Object::Reference(id)) => self.get(*id).and_then(|o| o.as_i64().ok()),
            _ => None,
        };
        let stated = length
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= bytes.len())
            .filter(|&end| {
                let after = &bytes[end..];
                let skipped = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
                after[skipped..].starts_with(b"endstream")
            });
        let end = stated.unwrap_or_else(|| {
            let found = memchr::memmem::find(&bytes[start..], b"endstream").map_or(bytes.len(), |i| start + i);
            let mut end = found;
            while end > start && matches!(bytes[end - 1], b'\r' | b'\n') {
                end -= 1;
            }
            end
        });
        let mut stream = Stream::new(dict, bytes[start..end].to_vec());
        // Stream::new wrote the true length; keep it, and the start, as lopdf's reader would.
        stream.start_position = Some(start);
        Object::Stream(stream)
    }

    /// A direct object at the lexer (`None` for what is not one).
    fn object<'b>(&self, bytes: &'b [u8], lexer: &mut Lexer<'b>, depth: usize) -> Option<Object> {
        if depth > MAX_NESTING {
            return None;
        }
        match lexer.peek()? {
            b'<' if bytes.get(lexer.pos() + 1) == Some(&b'<') => {
                lexer.advance(2);
                let mut dict = Dictionary::new();
                loop {
                    match lexer.peek()? {
                        b'>' => {
                            lexer.advance(if bytes.get(lexer.pos() + 1) == Some(&b'>') { 2 } else { 1 });
                            return Some(Object::Dictionary(dict));
                        }
                        b'/' => {
                            let key = lexer.read_name();
                            let value = self.object(bytes, lexer, depth + 1)?;
                            dict.set(key, value);
                        }
                        _ => {
                            // A stray token where a key should be: skip it.
                            if lexer.read_regular().is_empty() {
                                lexer.advance(1);
                            }
                        }
                    }
                }
            }
            b'<' => Some(Object::String(lexer.read_hex_string(), StringFormat::Hexadecimal)),
            b'(' => Some(Object::String(lexer.read_literal_string(), StringFormat::Literal)),
            b'[' => {
                lexer.advance(1);
                let mut items = Vec::new();
                loop {
                    match lexer.peek()? {
                        b']' => {
                            lexer.advance(1);
                            return Some(Object::Array(items));
                        }
                        // Numbers are read one token at a time and "n g R" is recognised at its "R", so long
                        // arrays of numbers (font widths) are not read twice by looking ahead for references.
                        b'+' | b'-' | b'.' | b'0'..=b'9' => items.push(number(lexer.read_regular())),
                        b'R' if matches!(items.as_slice(), [.., Object::Integer(_), Object::Integer(_)]) => {
                            lexer.advance(1);
                            let (Some(Object::Integer(generation)), Some(Object::Integer(number))) =
                                (items.pop(), items.pop())
                            else {
                                return None;
                            };
                            items.push(match (u32::try_from(number), u16::try_from(generation)) {
                                (Ok(n), Ok(g)) => Object::Reference((n, g)),
                                _ => Object::Null,
                            });
                        }
                        _ => items.push(self.object(bytes, lexer, depth + 1)?),
                    }
                }
            }
            b'/' => Some(Object::Name(lexer.read_name())),
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let token = lexer.read_regular();
                let Object::Integer(n) = number(token) else { return Some(number(token)) };
                // "n g R" is a reference; anything else leaves the lexer after the number.
                let after = lexer.pos();
                if let Ok(number) = u32::try_from(n)
                    && lexer.peek().is_some_and(|b| b.is_ascii_digit())
                    && let Some(generation) = integer(lexer.read_regular()).and_then(|g| u16::try_from(g).ok())
                    && lexer.peek() == Some(b'R')
                    && lexer.read_regular() == b"R"
                {
                    return Some(Object::Reference((number, generation)));
                }
                *lexer = Lexer::at(bytes, after);
                Some(Object::Integer(n))
            }
            _ => match lexer.read_regular() {
                b"true" => Some(Object::Boolean(true)),
                b"false" => Some(Object::Boolean(false)),
                b"null" => Some(Object::Null),
                _ => None,
            },
        }
    }
}

/// A number token: an integer, else a real, else (malformed) null.
fn number(token: &[u8]) -> Object {
    match integer(token) {
        Some(n) => Object::Integer(n),
        None => std::str::from_utf8(token).ok().and_then(|t| t.parse::<f32>().ok()).map_or(Object::Null, Object::Real),
    }
}

fn integer(token: &[u8]) -> Option<i64> {
    let digits = token.strip_prefix(b"+").or_else(|| token.strip_prefix(b"-")).unwrap_or(token);
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0_i64, |v, &d| v * 10 + i64::from(d - b'0'));
    Some(if token.first() == Some(&b'-') { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lazy(bytes: &[u8]) -> Lazy {
        Lazy::open(bytes, &Limits::default()).expect("within limits").expect("read lazily")
    }

    /// A PDF of `objects` (bodies by number from 1) with a correct xref table.
    fn pdf(objects: &[&str]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj {body} endobj\n", i + 1).into_bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").into_bytes());
        }
        out.extend(
            format!("trailer << /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF", objects.len() + 1).into_bytes(),
        );
        out
    }

    const OBJECTS: [&str; 4] = [
        "<< /Type /Catalog /Pages 2 0 R /List [1 2.5 -3 (a\\)b) <4142> /N#20x true null 4 0 R] >>",
        "<< /Type /Pages /Kids [] /Count 0 >>",
        "<< /Length 4 0 R >> stream\nhello\nendstream",
        "5",
    ];
    #[test]
    fn objects_are_parsed_on_use_with_their_references() {
        let lazy = lazy(&pdf(&OBJECTS));
        let Some(Object::Dictionary(catalog)) = lazy.get((1, 0)) else { panic!("no catalog") };
        let list = catalog.get(b"List").and_then(Object::as_array).expect("a list");
        assert_eq!(list[0], Object::Integer(1));
        assert_eq!(list[1], Object::Real(2.5));
        assert_eq!(list[3], Object::String(b"a)b".to_vec(), StringFormat::Literal));
        assert_eq!(list[5], Object::Name(b"N x".to_vec()));
        assert_eq!(list[8], Object::Reference((4, 0)));
        let Some(Object::Stream(stream)) = lazy.get((3, 0)) else { panic!("no stream") };
        assert_eq!(stream.content, b"hello");
    }

    #[test]
    fn a_length_that_refers_to_its_own_stream_is_not_a_cycle() {
        let mut objects = OBJECTS;
        objects[2] = "<< /Length 3 0 R >> stream\nhello\nendstream";
        let lazy = lazy(&pdf(&objects));
        let Some(Object::Stream(stream)) = lazy.get((3, 0)) else { panic!("no stream") };
        assert_eq!(stream.content, b"hello");
    }
}
