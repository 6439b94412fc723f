//! Opening a PDF with lopdf without trusting it: the checks before, the bounds during and the walk after loading.
//!
//! lopdf parses the whole object graph eagerly and leniently: it rebuilds a broken cross-reference table by
//! scanning, skips objects it cannot parse, and decrypts files whose user password is empty. That is what a
//! reader of real-world invoices needs, but it also means "lopdf opened it" says little, so this module adds what
//! lopdf leaves to its caller:
//!
//! - before loading: a `%PDF-` header near the start, and a file end (`%%EOF`/`startxref`) near the end, so a
//!   cut-off attachment is refused as truncated instead of yielding half a document;
//! - during loading: a load filter (lopdf's hook, called for every object) that counts objects against
//!   [`Limits::max_objects`] and inflates object streams itself, under the file's decode budget, so that neither
//!   a file of millions of tiny objects nor one of many flate bombs costs more than the limits;
//! - after loading: the password check, and a page-tree walk of our own (lopdf's follows cycles), with the
//!   inherited `/Resources` and `/Rotate`, a depth bound and a visited set.
//!
//! Every dereference here is bounded: an object that is a reference to itself resolves to nothing.

use std::cell::RefCell;
use std::collections::HashSet;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};

use crate::error::{Exceeded, Invalid, ParseError};
use crate::limits::{DecodeBudget, Limits};
use crate::objects::Lazy;

/// How many references in a row are followed before giving up (real files use one).
const MAX_REFERENCE_CHAIN: usize = 16;
/// How deep the page tree may nest (real files: 1–4 levels).
const MAX_PAGE_TREE_DEPTH: usize = 64;
/// Encrypted files are loaded by lopdf without the load filter, so their object streams are only bounded one by
/// one; this many at most (real encrypted invoices have a handful).
const MAX_ENCRYPTED_OBJECT_STREAMS: usize = 64;

/// A PDF being read: objects parsed on use ([`Lazy`]) for a well-formed file, or all loaded by lopdf.
pub(crate) struct Pdf {
    store: Store,
}

// One per parse, so the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Store {
    Lazy(Lazy),
    Loaded(Document),
}

/// A page to read: its content streams and the resources they draw with.
pub(crate) struct Page<'a> {
    pub resources: Option<&'a Dictionary>,
    pub contents: Vec<&'a Stream>,
    /// `/Rotate` in degrees, a multiple of 90 in 0..360.
    pub rotate: i64,
}

impl Pdf {
    /// Opens `bytes`, refusing what is not a PDF, truncated, password-protected or over `limits`.
    pub(crate) fn open(bytes: &[u8], limits: &Limits, budget: &mut DecodeBudget) -> Result<Pdf, ParseError> {
        check_framing(bytes)?;
        let encrypted = memchr::memmem::find(bytes, b"/Encrypt").is_some();
        if !encrypted {
            // Offsets count from the header, as lopdf counts them too.
            let header = memchr::memmem::find(bytes, b"%PDF-").unwrap_or(0);
            if let Some(lazy) = Lazy::open(&bytes[header..], limits)? {
                let pdf = Pdf { store: Store::Lazy(lazy) };
                if pdf.page_tree_root().is_some() {
                    return Ok(pdf);
                }
            }
        }
        if encrypted {
            let object_streams = memchr::memmem::find_iter(bytes, b"/ObjStm").count();
            if object_streams > MAX_ENCRYPTED_OBJECT_STREAMS {
                return Err(ParseError::exceeded(Exceeded::ObjectStreams { max: MAX_ENCRYPTED_OBJECT_STREAMS }));
            }
        }
        let doc = load(bytes, limits, budget, false)?;
        if doc.trailer.has(b"Encrypt") {
            // lopdf tried the empty user password and it did not open the file.
            return Err(ParseError::InvalidDocument(Invalid::PasswordProtected));
        }
        let mut pdf = Pdf { store: Store::Loaded(doc) };
        if pdf.page_tree_root().is_none() {
            // The cross-reference data read, but points at the wrong bytes: scan for the objects instead, as lopdf
            // itself would without a load filter.
            pdf = Pdf { store: Store::Loaded(load(bytes, limits, budget, true)?) };
        }
        if let Store::Loaded(doc) = &pdf.store
            && doc.objects.len() > limits.max_objects
        {
            return Err(ParseError::exceeded(Exceeded::Objects { max: limits.max_objects }));
        }
        Ok(pdf)
    }

    /// A limit reached while objects were parsed on use (an object stream bomb), which the parse must report.
    pub(crate) fn check(&self) -> Result<(), ParseError> {
        match &self.store {
            Store::Lazy(lazy) => lazy.exceeded().map_or(Ok(()), |e| Err(ParseError::exceeded(e))),
            Store::Loaded(_) => Ok(()),
        }
    }

    fn object(&self, id: ObjectId) -> Option<&Object> {
        match &self.store {
            Store::Lazy(lazy) => lazy.get(id),
            Store::Loaded(doc) => doc.objects.get(&id),
        }
    }

    fn trailer(&self) -> &Dictionary {
        match &self.store {
            Store::Lazy(lazy) => lazy.trailer(),
            Store::Loaded(doc) => &doc.trailer,
        }
    }

    pub(crate) fn catalog(&self) -> Option<&Dictionary> {
        self.dict(self.trailer().get(b"Root").ok()?)
    }

    /// `object`, with references followed (a bounded number of times).
    pub(crate) fn resolve<'a>(&'a self, mut object: &'a Object) -> Option<&'a Object> {
        for _ in 0..MAX_REFERENCE_CHAIN {
            match object {
                Object::Reference(id) => object = self.object(*id)?,
                other => return Some(other),
            }
        }
        None
    }

    pub(crate) fn dict<'a>(&'a self, object: &'a Object) -> Option<&'a Dictionary> {
        match self.resolve(object)? {
            Object::Dictionary(dict) => Some(dict),
            Object::Stream(stream) => Some(&stream.dict),
            _ => None,
        }
    }

    pub(crate) fn get_dict<'a>(&'a self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
        self.dict(dict.get(key).ok()?)
    }

    pub(crate) fn stream<'a>(&'a self, object: &'a Object) -> Option<&'a Stream> {
        match self.resolve(object)? {
            Object::Stream(stream) => Some(stream),
            _ => None,
        }
    }

    pub(crate) fn array<'a>(&'a self, object: &'a Object) -> Option<&'a [Object]> {
        match self.resolve(object)? {
            Object::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn number(&self, object: &Object) -> Option<f64> {
        match self.resolve(object)? {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(f64::from(*r)).filter(|r| r.is_finite()),
            _ => None,
        }
    }

    pub(crate) fn name<'a>(&'a self, object: &'a Object) -> Option<&'a [u8]> {
        match self.resolve(object)? {
            Object::Name(name) => Some(name),
            _ => None,
        }
    }

    /// The object id of `object` when it is a reference (to tell shared objects apart, e.g. in cycle checks).
    pub(crate) fn id_of(object: &Object) -> Option<ObjectId> {
        object.as_reference().ok()
    }

    /// The decoded content of `stream`, charged to `budget`. `Ok(None)` when the stream cannot be decoded
    /// (an unsupported filter such as an image codec, or corrupt data): a damaged part is skipped, not fatal.
    pub(crate) fn decode(&self, stream: &Stream, budget: &mut DecodeBudget) -> Result<Option<Vec<u8>>, ParseError> {
        decode(stream, budget).map_err(ParseError::exceeded)
    }

    /// The pages in order. Cycles are skipped; more than [`Limits::max_pages`] is an error.
    pub(crate) fn pages(&self, limits: &Limits) -> Result<Vec<Page<'_>>, ParseError> {
        let root = self.page_tree_root().ok_or_else(|| ParseError::damaged("it has no pages"))?;
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        // Depth-first, kids in order: a stack of (node, inherited resources, inherited rotation, depth).
        let mut stack = vec![(root, None, 0_i64, 0_usize)];
        while let Some((node, resources, rotate, depth)) = stack.pop() {
            let Some(dict) = self.dict(node) else { continue };
            if let Some(id) = Pdf::id_of(node)
                && !seen.insert(id)
            {
                continue;
            }
            let resources = self.get_dict(dict, b"Resources").or(resources);
            let rotate = dict.get(b"Rotate").ok().and_then(|r| self.number(r)).map_or(rotate, |r| r as i64);
            let kids = dict.get(b"Kids").ok().and_then(|k| self.array(k));
            match kids {
                Some(kids) if !dict.has_type(b"Page") => {
                    if depth >= MAX_PAGE_TREE_DEPTH {
                        continue;
                    }
                    stack.extend(kids.iter().rev().map(|kid| (kid, resources, rotate, depth + 1)));
                }
                _ => {
                    if pages.len() == limits.max_pages {
                        return Err(ParseError::exceeded(Exceeded::Pages { max: limits.max_pages }));
                    }
                    pages.push(Page { resources, contents: self.contents(dict), rotate: rotate.rem_euclid(360) });
                }
            }
        }
        if pages.is_empty() {
            return Err(ParseError::damaged("it has no pages"));
        }
        Ok(pages)
    }

    fn contents<'a>(&'a self, page: &'a Dictionary) -> Vec<&'a Stream> {
        let Some(contents) = page.get(b"Contents").ok() else { return Vec::new() };
        match self.resolve(contents) {
            Some(Object::Stream(stream)) => vec![stream],
            Some(Object::Array(parts)) => parts.iter().filter_map(|part| self.stream(part)).collect(),
            _ => Vec::new(),
        }
    }

    fn page_tree_root(&self) -> Option<&Object> {
        let root = self.catalog()?.get(b"Pages").ok()?;
        self.dict(root).is_some().then_some(root)
    }
}

/// A PDF starts with `%PDF-` (in the first kilobyte: some generators put junk before it) and ends with
/// `%%EOF` or at least `startxref` (in the last few kilobytes, after any padding).
fn check_framing(bytes: &[u8]) -> Result<(), ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::InvalidDocument(Invalid::Empty));
    }
    if memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
        return Err(ParseError::InvalidDocument(Invalid::NotAPdf));
    }
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    if memchr::memmem::rfind(tail, b"%%EOF").is_none() && memchr::memmem::rfind(tail, b"startxref").is_none() {
        return Err(ParseError::InvalidDocument(Invalid::Truncated));
    }
    Ok(())
}

/// What the load filter counts, for the one load running on this thread. lopdf takes the filter as a plain
/// `fn` pointer, so its state cannot be captured and lives here instead.
struct LoadState {
    objects_left: usize,
    max_objects: usize,
    budget: DecodeBudget,
    exceeded: Option<Exceeded>,
    /// The object numbers the last object stream holds, which lopdf passes to the filter right after it.
    members: HashSet<u32>,
}

thread_local! {
    static LOAD: RefCell<Option<LoadState>> = const { RefCell::new(None) };
}

/// Clears the thread's load state however the load ends (an error, or a panic caught further up).
struct LoadGuard;

impl Drop for LoadGuard {
    fn drop(&mut self) {
        LOAD.with_borrow_mut(|state| *state = None);
    }
}

fn load(
    bytes: &[u8],
    limits: &Limits,
    budget: &mut DecodeBudget,
    force_reconstruct: bool,
) -> Result<Document, ParseError> {
    let state = LoadState {
        objects_left: limits.max_objects,
        max_objects: limits.max_objects,
        // Inflating object streams is charged to the whole parse's budget, lent to the filter for the load.
        budget: std::mem::replace(budget, DecodeBudget::new(limits)),
        exceeded: None,
        members: HashSet::new(),
    };
    LOAD.with_borrow_mut(|slot| *slot = Some(state));
    let _guard = LoadGuard;
    let options = LoadOptions {
        password: None,
        filter: Some(count_and_inflate),
        strict: false,
        max_decompressed_size: Some(limits.max_stream_bytes),
        force_reconstruct,
    };
    let result = Document::load_mem_with_options(bytes, options);
    let Some(state) = LOAD.with_borrow_mut(Option::take) else {
        return Err(ParseError::damaged("its objects cannot be read"));
    };
    *budget = state.budget;
    if let Some(exceeded) = state.exceeded {
        return Err(ParseError::exceeded(exceeded));
    }
    result.map_err(|error| match error {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            ParseError::exceeded(Exceeded::StreamBytes { max: limits.max_stream_bytes })
        }
        lopdf::Error::Parse(lopdf::ParseError::InvalidFileHeader) => ParseError::InvalidDocument(Invalid::NotAPdf),
        lopdf::Error::Decryption(_) | lopdf::Error::UnsupportedSecurityHandler(_) => {
            ParseError::damaged("it is encrypted in a way that is not supported")
        }
        _ => ParseError::damaged("its objects and cross-reference table cannot be read"),
    })
}

/// lopdf's load filter: called for each object parsed, top-level or from an object stream. Returning `None`
/// drops the object. The two kinds are used differently: a top-level object is kept in place after the call
/// (what is returned is ignored), an object-stream member is replaced by what is returned. Members are told apart
/// by their numbers, read from the header of the object stream just before (lopdf passes them to the filter
/// right after their stream, and a member it skips ends the run of members at the next object), so neither kind
/// is copied.
fn count_and_inflate(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let member = LOAD.with_borrow_mut(|state| {
        let Some(state) = state.as_mut() else { return Some(false) };
        if state.exceeded.is_some() {
            return None;
        }
        let Some(left) = state.objects_left.checked_sub(1) else {
            state.exceeded = Some(Exceeded::Objects { max: state.max_objects });
            return None;
        };
        state.objects_left = left;
        let member = state.members.remove(&id.0);
        if !member {
            state.members.clear();
        }
        if let Object::Stream(stream) = object
            && stream.dict.has_type(b"ObjStm")
        {
            return inflate_object_stream(stream, state).then_some(false);
        }
        Some(member)
    })?;
    let returned = if member { std::mem::replace(object, Object::Null) } else { Object::Null };
    Some((id, returned))
}

/// Inflates an object stream under the load's budget and leaves it decoded, so lopdf parses it without
/// inflating it again. Its declared object count is charged up front.
fn inflate_object_stream(stream: &mut Stream, state: &mut LoadState) -> bool {
    let declared = stream.dict.get(b"N").ok().and_then(|n| n.as_i64().ok()).unwrap_or(0);
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    match state.objects_left.checked_sub(declared) {
        Some(left) => state.objects_left = left,
        None => {
            state.exceeded = Some(Exceeded::Objects { max: state.max_objects });
            return false;
        }
    }
    match decode(stream, &mut state.budget) {
        Ok(Some(plain)) => {
            let first = stream.dict.get(b"First").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0);
            let header = plain.get(..usize::try_from(first).unwrap_or(0)).unwrap_or(&[]);
            // "num offset num offset …": every other number is a member's object number.
            state.members = header
                .split(|b| b.is_ascii_whitespace())
                .filter(|t| !t.is_empty())
                .step_by(2)
                .take(declared)
                .filter_map(|t| std::str::from_utf8(t).ok()?.parse().ok())
                .collect();
            stream.set_plain_content(plain);
            true
        }
        // lopdf will fail on it too and skip it.
        Ok(None) => true,
        Err(exceeded) => {
            state.exceeded = Some(exceeded);
            false
        }
    }
}

/// `stream` decoded within `budget`; `Ok(None)` for a filter lopdf cannot decode or corrupt data.
fn decode(stream: &Stream, budget: &mut DecodeBudget) -> Result<Option<Vec<u8>>, Exceeded> {
    let limit = budget.next_limit();
    let filtered = stream.filters().is_ok_and(|filters| !filters.is_empty());
    if !filtered {
        if stream.content.len() > limit {
            return Err(budget.over_limit());
        }
        budget.charge(stream.content.len())?;
        return Ok(Some(stream.content.clone()));
    }
    match stream.decompressed_content_with_limit(limit) {
        Ok(data) => {
            budget.charge(data.len())?;
            Ok(Some(data))
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => Err(budget.over_limit()),
        Err(_) => Ok(None),
    }
}

/// A PDF text string (a file name, say): UTF-16BE or UTF-8 with their byte-order marks, else PDFDocEncoding.
pub(crate) fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units = utf16.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
        return char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes
        .iter()
        .map(|&b| match crate::text::tables::PDF_DOC[usize::from(b)] {
            0 if b < 0x80 => char::from(b),
            0 => char::REPLACEMENT_CHARACTER,
            u => char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_its_end_is_truncated() {
        let mut bytes = b"%PDF-1.7\n1 0 obj << >> endobj\n".to_vec();
        bytes.extend(std::iter::repeat_n(b' ', 5000));
        assert_eq!(check_framing(&bytes), Err(ParseError::InvalidDocument(Invalid::Truncated)));
    }

    #[test]
    fn junk_before_the_header_is_tolerated_but_not_a_missing_header() {
        assert!(check_framing(b"junk\n%PDF-1.4\ntrailer\nstartxref\n0\n%%EOF").is_ok());
        assert_eq!(check_framing(b"GIF89a...%%EOF"), Err(ParseError::InvalidDocument(Invalid::NotAPdf)));
    }

    #[test]
    fn well_formed_files_are_read_lazily_and_damaged_or_encrypted_ones_by_lopdf() {
        let limits = Limits::default();
        for (name, lazily) in [
            ("text-en-classic", true),
            ("facturx-en16931", true),
            ("hostile-objstm-bomb-unused", true),
            ("repaired-xref-offsets", false),
            ("encrypted-owner-only", false),
        ] {
            let bytes = std::fs::read(format!("{}/tests/corpus/{name}.pdf", env!("CARGO_MANIFEST_DIR"))).expect("read");
            let pdf = Pdf::open(&bytes, &limits, &mut DecodeBudget::new(&limits)).expect("opens");
            assert_eq!(matches!(pdf.store, Store::Lazy(_)), lazily, "{name}");
        }
    }

    #[test]
    fn text_strings_decode_from_utf16_and_pdfdoc() {
        assert_eq!(text_string(b"\xFE\xFF\x00f\x00.\x00x"), "f.x");
        assert_eq!(text_string(b"factur-x.xml"), "factur-x.xml");
        assert_eq!(text_string(b"\xA0"), "€");
    }
}
