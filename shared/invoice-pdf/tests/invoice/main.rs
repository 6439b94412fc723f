//! The invoice reader from the outside: what a Lambda function or `local invoices parse` sees.
//!
//! One test binary (the `mod`s below) sharing the helpers here. Most inputs are the corpus in `tests/corpus/`
//! (made by `make_corpus.py`, each PDF with `expected/<name>.json`); the rest are PDFs built here with lopdf, for
//! limits and hostile structures that are clearest written out in a test.

mod corpus;
mod file;
mod hostile;
mod properties;
mod text;

use std::path::PathBuf;

use invoice_pdf::{Limits, ParseError, parse};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// A corpus PDF by name (without `.pdf`).
pub fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(format!("{name}.pdf"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the corpus PDFs with their expected JSON, sorted.
pub fn corpus_names() -> Vec<(String, serde_json::Value)> {
    let mut names: Vec<_> = std::fs::read_dir(corpus_dir().join("expected"))
        .expect("the expected directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
            let json = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            (name, json)
        })
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

/// Parses with the default limits, expecting a refusal; returns it.
pub fn refused(pdf: &[u8], limits: &Limits) -> ParseError {
    match parse(pdf, limits) {
        Ok(invoice) => panic!("accepted: {invoice:?}"),
        Err(e) => e,
    }
}

/// A one-page PDF whose page draws `content` with Helvetica as /F1 and has `xobjects` as its /XObject resources.
pub fn pdf_with_page(content: &[u8], xobjects: Vec<(&str, Stream)>) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let mut xobject_dict = Dictionary::new();
    for (name, stream) in xobjects {
        let id = doc.add_object(stream);
        xobject_dict.set(name, id);
    }
    let resources = dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => xobject_dict };
    finish(&mut doc, content, resources)
}

/// Adds the page tree and catalog for one page with `content` and `resources`, and saves.
pub fn finish(doc: &mut Document, content: &[u8], resources: Dictionary) -> Vec<u8> {
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id, "Resources" => resources,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save the test PDF");
    out
}

/// A Form XObject stream drawing `content`, with `resources`.
pub fn form(content: &[u8], resources: Dictionary) -> Stream {
    Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Resources" => resources,
        },
        content.to_vec(),
    )
}

/// The content of a small English invoice in Helvetica (/F1), every field on its own line.
pub const SMALL_INVOICE: &[u8] = b"BT /F1 14 Tf 56 790 Td (Kestrel Tools Ltd) Tj ET
BT /F1 10 Tf 56 760 Td (Invoice No: KT-7) Tj ET
BT /F1 10 Tf 56 746 Td (Invoice Date: 2026-03-31) Tj ET
BT /F1 10 Tf 56 680 Td (Description) Tj 250 0 Td (Qty) Tj 80 0 Td (Unit Price) Tj 100 0 Td (Amount) Tj ET
BT /F1 10 Tf 56 664 Td (Chisel set) Tj 250 0 Td (2) Tj 80 0 Td (40.00) Tj 100 0 Td (80.00) Tj ET
BT /F1 10 Tf 336 630 Td (Subtotal) Tj 150 0 Td (80.00) Tj ET
BT /F1 10 Tf 336 616 Td (VAT 20%) Tj 150 0 Td (16.00) Tj ET
BT /F1 10 Tf 336 602 Td (Total GBP) Tj 150 0 Td (96.00) Tj ET";
