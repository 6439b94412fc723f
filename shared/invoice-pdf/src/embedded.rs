//! Finding the e-invoice a PDF carries: Factur-X, ZUGFeRD and XRechnung attach their CII XML as an embedded
//! file, listed in the catalog's `/AF` array (PDF/A-3, what Factur-X requires) and in the `/Names
//! /EmbeddedFiles` name tree (what every viewer shows, and all that older ZUGFeRD tools write).
//!
//! The standard file names are tried first (`factur-x.xml`, `zugferd-invoice.xml`, `ZUGFeRD-invoice.xml`,
//! `xrechnung.xml`), then any other `.xml` attachment whose root element is a CII invoice, so that a delivery
//! note or a UBL file attached beside the invoice is not taken for it. The name tree is walked with a depth
//! bound, a visited set and an entry cap.

use std::collections::HashSet;

use lopdf::{Dictionary, Object, ObjectId, Stream};

use quick_xml::events::Event;

use crate::document::{Pdf, text_string};
use crate::error::ParseError;
use crate::limits::DecodeBudget;

/// The names the Factur-X, ZUGFeRD and XRechnung specifications give the XML, in the order tried.
const STANDARD_NAMES: [&str; 3] = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"];
const MAX_NAME_TREE_DEPTH: usize = 16;
const MAX_ATTACHMENTS: usize = 1024;

/// An embedded CII XML, decoded.
pub(crate) struct Attachment {
    /// The file name, as the PDF gives it.
    pub name: String,
    pub xml: Vec<u8>,
    /// The root is ZUGFeRD 1.0's `CrossIndustryDocument` (else CII D16B's `CrossIndustryInvoice`).
    pub zugferd1: bool,
}

/// The embedded CII invoice, if the PDF has one.
pub(crate) fn find(pdf: &Pdf, budget: &mut DecodeBudget) -> Result<Option<Attachment>, ParseError> {
    let Some(catalog) = pdf.catalog() else { return Ok(None) };
    // The same file is usually listed in both places: keep it once.
    let mut files: Vec<(String, &Stream)> = Vec::new();
    let mut streams_seen: HashSet<*const Stream> = HashSet::new();
    let mut specs: Vec<(String, &Object)> = Vec::new();
    if let Some(af) = catalog.get(b"AF").ok().and_then(|a| pdf.array(a)) {
        specs.extend(af.iter().take(MAX_ATTACHMENTS).map(|spec| (String::new(), spec)));
    }
    if let Some(tree) = pdf.get_dict(catalog, b"Names").and_then(|names| names.get(b"EmbeddedFiles").ok()) {
        name_tree(pdf, tree, 0, &mut HashSet::new(), &mut specs);
    }
    for (key, spec) in specs {
        if let Some((name, stream)) = file_spec(pdf, spec)
            && streams_seen.insert(stream as *const Stream)
        {
            files.push((if name.is_empty() { key } else { name }, stream));
        }
    }

    let is_standard = |name: &str| STANDARD_NAMES.iter().any(|s| name.eq_ignore_ascii_case(s));
    files.sort_by_key(|(name, _)| {
        STANDARD_NAMES.iter().position(|s| name.eq_ignore_ascii_case(s)).unwrap_or(STANDARD_NAMES.len())
    });
    for (name, stream) in files {
        let standard = is_standard(&name);
        if !standard && !name.to_ascii_lowercase().ends_with(".xml") {
            continue;
        }
        let Some(xml) = pdf.decode(stream, budget)? else {
            if standard {
                return Err(invalid(&name, "its compressed data cannot be decoded"));
            }
            continue;
        };
        match root(&xml) {
            Ok(root) if root == "CrossIndustryInvoice" || root == "CrossIndustryDocument" => {
                return Ok(Some(Attachment { name, zugferd1: root == "CrossIndustryDocument", xml }));
            }
            // Another kind of XML (an Order-X order, a UBL invoice, a delivery note): not a CII invoice.
            Ok(_) => continue,
            Err(reason) if standard => return Err(invalid(&name, &reason)),
            Err(_) => continue,
        }
    }
    Ok(None)
}

fn invalid(name: &str, reason: &str) -> ParseError {
    ParseError::InvalidEmbeddedInvoice { file: name.to_owned(), reason: reason.to_owned() }
}

/// A file specification's name (`/UF`, else `/F`) and embedded stream (`/EF /UF` or `/EF /F`).
fn file_spec<'a>(pdf: &'a Pdf, spec: &'a Object) -> Option<(String, &'a Stream)> {
    let spec = pdf.dict(spec)?;
    let name = [b"UF".as_slice(), b"F"]
        .iter()
        .find_map(|key| match spec.get(key).ok().and_then(|n| pdf.resolve(n)) {
            Some(Object::String(bytes, _)) => Some(text_string(bytes)),
            _ => None,
        })
        .unwrap_or_default();
    let ef = pdf.get_dict(spec, b"EF")?;
    let stream = [b"UF".as_slice(), b"F"].iter().find_map(|key| ef.get(key).ok().and_then(|s| pdf.stream(s)))?;
    Some((name, stream))
}

/// The `(key, value)` pairs of a name tree, in order.
fn name_tree<'a>(
    pdf: &'a Pdf,
    node: &'a Object,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<(String, &'a Object)>,
) {
    if depth > MAX_NAME_TREE_DEPTH || out.len() >= MAX_ATTACHMENTS {
        return;
    }
    if let Some(id) = Pdf::id_of(node)
        && !seen.insert(id)
    {
        return;
    }
    let Some(dict): Option<&Dictionary> = pdf.dict(node) else { return };
    if let Some(names) = dict.get(b"Names").ok().and_then(|n| pdf.array(n)) {
        for pair in names.chunks_exact(2) {
            let key = match pdf.resolve(&pair[0]) {
                Some(Object::String(bytes, _)) => text_string(bytes),
                _ => String::new(),
            };
            out.push((key, &pair[1]));
        }
    }
    if let Some(kids) = dict.get(b"Kids").ok().and_then(|k| pdf.array(k)) {
        for kid in kids {
            name_tree(pdf, kid, depth + 1, seen, out);
        }
    }
}

/// The local name of the XML's root element.
fn root(xml: &[u8]) -> Result<String, String> {
    let text = crate::cii::xml_text(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => return Ok(e.local_name().as_ref().to_owned()),
            Ok(Event::Eof) => return Err("it is empty".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(format!("it is not well-formed XML ({e})")),
        }
    }
}
