//! Each limit stops the work it bounds: shown with small limits on PDFs built here, so that "it does not hang"
//! is asserted by the error that names the limit, not by a stopwatch. The corpus's damaged files are checked by
//! `corpus::every_refused_corpus_file_gets_its_expected_error`.

use invoice_pdf::{Exceeded, Invalid, Limits, ParseError, parse};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

use crate::{SMALL_INVOICE, corpus, finish, form, pdf_with_page, refused};

fn exceeded(error: &ParseError) -> Exceeded {
    match error {
        ParseError::InvalidDocument(Invalid::TooLarge(exceeded)) => *exceeded,
        other => panic!("not over a limit: {other:?}"),
    }
}

#[test]
fn the_small_invoice_used_below_parses() {
    let invoice = parse(&pdf_with_page(SMALL_INVOICE, vec![]), &Limits::default()).expect("parses");
    assert_eq!(invoice.number, "KT-7");
}

#[test]
fn a_file_over_the_input_limit_is_refused_before_it_is_read() {
    let limits = Limits { max_input_bytes: 1000, ..Limits::default() };
    let error = refused(&corpus("text-de-din"), &limits);
    assert!(matches!(exceeded(&error), Exceeded::InputBytes { max: 1000, .. }), "{error}");
}

#[test]
fn operators_are_counted_across_pages_and_forms() {
    let limits = Limits { max_operations: 50, ..Limits::default() };
    let content = b"q Q ".repeat(100);
    let error = refused(&pdf_with_page(&content, vec![]), &limits);
    assert_eq!(exceeded(&error), Exceeded::Operations { max: 50 });
    assert_eq!(error.reason(), "the PDF's pages have more than 50 drawing operations");
}

#[test]
fn forms_nested_past_the_depth_limit_are_not_followed() {
    // /X0 draws /X1 … draws /X19, which shows the invoice; with a depth limit of 12 its text is never reached.
    let mut doc = Document::with_version("1.7");
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let mut next = doc.add_object(form(SMALL_INVOICE, dictionary! { "Font" => dictionary! { "F1" => font } }));
    for _ in 0..19 {
        next = doc.add_object(form(b"/X Do", dictionary! { "XObject" => dictionary! { "X" => next } }));
    }
    let pdf = finish(&mut doc, b"/X Do", dictionary! { "XObject" => dictionary! { "X" => next } });
    assert_eq!(refused(&pdf, &Limits::default()).code(), "no_text");
    let deep = Limits { max_xobject_depth: 25, ..Limits::default() };
    assert_eq!(parse(&pdf, &deep).expect("parses with a deeper limit").number, "KT-7");
}

#[test]
fn a_form_drawing_itself_is_drawn_once() {
    let mut doc = Document::with_version("1.7");
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let id = doc.new_object_id();
    let mut content = SMALL_INVOICE.to_vec();
    content.extend_from_slice(b"\n/Me Do /Me Do");
    let resources = dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Me" => id } };
    doc.objects.insert(id, Object::Stream(form(&content, resources)));
    let pdf = finish(&mut doc, b"/Me Do", dictionary! { "XObject" => dictionary! { "Me" => id } });
    let text = invoice_pdf::read_text(&pdf, &Limits::default()).expect("reads");
    assert_eq!(text.matches("Kestrel Tools Ltd").count(), 1, "{text}");
}

#[test]
fn characters_are_counted() {
    let limits = Limits { max_glyphs: 100, ..Limits::default() };
    let content = b"BT /F1 10 Tf (0123456789) Tj ET ".repeat(20);
    assert_eq!(exceeded(&refused(&pdf_with_page(&content, vec![]), &limits)), Exceeded::Glyphs { max: 100 });
}

#[test]
fn objects_are_counted_while_loading() {
    let mut doc = Document::with_version("1.7");
    for i in 0..500 {
        doc.add_object(Object::Integer(i));
    }
    let pdf = finish(&mut doc, SMALL_INVOICE, Dictionary::new());
    let limits = Limits { max_objects: 100, ..Limits::default() };
    assert_eq!(exceeded(&refused(&pdf, &limits)), Exceeded::Objects { max: 100 });
}

#[test]
fn one_stream_over_the_stream_limit_is_refused() {
    let limits = Limits { max_stream_bytes: 1000, ..Limits::default() };
    let mut content = SMALL_INVOICE.to_vec();
    content.extend(std::iter::repeat_n(b' ', 2000));
    let mut stream = Stream::new(Dictionary::new(), content);
    stream.compress().expect("compress");
    let error = refused(&pdf_with_page(b"/F Do", vec![("F", form_from(stream))]), &limits);
    assert_eq!(exceeded(&error), Exceeded::StreamBytes { max: 1000 });
}

#[test]
fn many_streams_are_refused_at_the_total_decode_limit() {
    let limits = Limits { max_decoded_bytes: 4000, ..Limits::default() };
    let forms: Vec<_> = (0..10).map(|_| ("F", form(&[b' '; 1000], Dictionary::new()))).collect();
    let names: Vec<(String, Stream)> = forms.into_iter().enumerate().map(|(i, (_, s))| (format!("F{i}"), s)).collect();
    let content: Vec<u8> = (0..10).flat_map(|i| format!("/F{i} Do ").into_bytes()).collect();
    let pdf = pdf_with_page(&content, names.iter().map(|(n, s)| (n.as_str(), s.clone())).collect());
    assert_eq!(exceeded(&refused(&pdf, &limits)), Exceeded::DecodedBytes { max: 4000 });
}

#[test]
fn pages_are_counted() {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let kids: Vec<Object> =
        (0..20).map(|_| doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id }).into()).collect();
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => 20 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).expect("save");
    let limits = Limits { max_pages: 10, ..Limits::default() };
    assert_eq!(exceeded(&refused(&pdf, &limits)), Exceeded::Pages { max: 10 });
}

#[test]
fn a_deeply_nested_array_is_not_a_stack_overflow() {
    let mut content = SMALL_INVOICE.to_vec();
    content.extend(b"[".repeat(100_000));
    content.extend(b" TJ");
    let invoice = parse(&pdf_with_page(&content, vec![]), &Limits::default()).expect("parses");
    assert_eq!(invoice.number, "KT-7");
}

fn form_from(mut stream: Stream) -> Stream {
    stream.dict.extend(&dictionary! {
        "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "Font" => dictionary! {
            "F1" => dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
        } },
    });
    stream
}
