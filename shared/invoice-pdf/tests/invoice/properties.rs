//! Damaged input never panics: random mutations of valid corpus PDFs, and random bytes where a content stream,
//! a ToUnicode CMap or the embedded XML should be.
//!
//! `parse` catches panics as a last line of defence and reports them as a damaged document, so "no panic" is
//! checked with a panic hook that counts panics on this thread: a caught panic fails the property too.

use std::cell::Cell;
use std::sync::Once;

use invoice_pdf::{Limits, parse};
use lopdf::{Document, Stream, dictionary};
use proptest::prelude::*;

use crate::{SMALL_INVOICE, corpus, finish, pdf_with_page};

thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
}

/// Parses `pdf` and fails if anything panicked on the way, caught or not.
fn parse_without_panic(pdf: &[u8]) -> Result<(), TestCaseError> {
    count_panics();
    let before = PANICS.with(Cell::get);
    let _ = parse(pdf, &Limits::default());
    let _ = invoice_pdf::read_text(pdf, &Limits::default());
    prop_assert_eq!(PANICS.with(Cell::get), before, "a panic while parsing");
    Ok(())
}

/// A mutation: overwrite, delete or insert bytes, or cut the file.
#[derive(Debug, Clone)]
enum Mutation {
    Overwrite { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        2 => (any::<usize>(), 1..64_usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(pdf: &mut Vec<u8>, mutation: &Mutation) {
    let len = pdf.len().max(1);
    match mutation {
        Mutation::Overwrite { at, bytes } => {
            let at = at % len;
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = pdf.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        Mutation::Delete { at, len: n } => {
            let at = at % len;
            let end = (at + n).min(pdf.len());
            pdf.drain(at.min(end)..end);
        }
        Mutation::Insert { at, bytes } => {
            let at = at % len;
            pdf.splice(at.min(pdf.len())..at.min(pdf.len()), bytes.iter().copied());
        }
        Mutation::Truncate { at } => pdf.truncate(at % len),
    }
}

const VALID: [&str; 6] = [
    "text-en-classic",
    "text-libreoffice-cmap",
    "text-operators-fr",
    "facturx-en16931",
    "zugferd1-comfort",
    "text-identity-h-no-tounicode",
];

proptest! {
    // 192 cases by default (a few seconds); PROPTEST_CASES=5000 for a longer hunt.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(192)
    ))]

    #[test]
    fn mutated_corpus_pdfs_never_panic(which in 0..VALID.len(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let mut pdf = corpus(VALID[which]);
        for m in &mutations {
            apply(&mut pdf, m);
        }
        parse_without_panic(&pdf)?;
    }

    #[test]
    fn any_bytes_as_page_content_never_panic(content in prop::collection::vec(any::<u8>(), 0..2000)) {
        parse_without_panic(&pdf_with_page(&content, vec![]))?;
    }

    #[test]
    fn text_operators_with_junk_operands_never_panic(
        ops in prop::collection::vec(
            (prop::sample::select(vec!["Tj", "TJ", "'", "\"", "Td", "TD", "Tm", "T*", "TL", "Tf", "Tc", "Tw", "Tz", "Ts",
                "cm", "q", "Q", "BT", "ET", "Do", "BI", "ID", "EI"]),
             prop::collection::vec(prop::sample::select(vec!["1e308", "-0", "(x)", "<00ff>", "[(a) -1e9 (b)]", "/F1",
                "/F0", "NaN", "3", "0", "-5.5", "[", "]", "<<", ">>"]), 0..7)),
            0..60),
    ) {
        let mut content = SMALL_INVOICE.to_vec();
        for (op, operands) in &ops {
            content.push(b'\n');
            content.extend(operands.join(" ").into_bytes());
            content.push(b' ');
            content.extend(op.as_bytes());
        }
        parse_without_panic(&pdf_with_page(&content, vec![]))?;
    }

    #[test]
    fn any_bytes_as_a_tounicode_map_never_panic(cmap in prop::collection::vec(any::<u8>(), 0..800), prefix in 0..3_usize) {
        let header: &[&[u8]] = &[b"", b"1 begincodespacerange <00> <FF> endcodespacerange 2 beginbfrange ",
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange 3 beginbfchar "];
        let mut data = header[prefix].to_vec();
        data.extend(&cmap);
        let mut doc = Document::with_version("1.7");
        let to_unicode = doc.add_object(Stream::new(lopdf::Dictionary::new(), data));
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "X", "Encoding" => "Identity-H",
            "ToUnicode" => to_unicode,
            "DescendantFonts" => vec![dictionary! { "Type" => "Font", "Subtype" => "CIDFontType2", "W" => vec![1.into(), vec![500.into()].into()] }.into()],
        });
        let pdf = finish(&mut doc, b"BT /F1 10 Tf 50 700 Td <0001000200410042ffff> Tj [<01> 300 <4142>] TJ ET",
            dictionary! { "Font" => dictionary! { "F1" => font } });
        parse_without_panic(&pdf)?;
    }

    #[test]
    fn mutated_embedded_xml_never_panics(mutations in prop::collection::vec(mutation(), 1..8)) {
        // The XML of the Factur-X EN 16931 file, mutated and attached again.
        let source = Document::load_mem(&corpus("facturx-en16931")).expect("the corpus file loads");
        let mut xml = source.objects.values().find_map(|o| {
            let stream = o.as_stream().ok()?;
            let data = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
            data.starts_with(b"<?xml").then_some(data)
        }).expect("the XML is in the file");
        for m in &mutations {
            apply(&mut xml, m);
        }
        parse_without_panic(&with_attachment("factur-x.xml", xml))?;
    }
}

/// A page with the small invoice and `xml` attached under `name`.
fn with_attachment(name: &str, xml: Vec<u8>) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let file = doc.add_object(Stream::new(dictionary! { "Type" => "EmbeddedFile" }, xml));
    let spec = doc.add_object(dictionary! {
        "Type" => "Filespec", "F" => lopdf::Object::string_literal(name), "EF" => dictionary! { "F" => file },
    });
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let mut pdf = finish(&mut doc, SMALL_INVOICE, dictionary! { "Font" => dictionary! { "F1" => font } });
    // The catalog finish() wrote gets an /AF entry: reload, add it, save.
    let mut doc = Document::load_mem(&pdf).expect("reload");
    let root = doc.trailer.get(b"Root").and_then(lopdf::Object::as_reference).expect("a catalog");
    doc.get_dictionary_mut(root).expect("the catalog").set("AF", vec![spec.into()]);
    pdf.clear();
    doc.save_to(&mut pdf).expect("save");
    pdf
}

#[test]
fn an_attached_cii_xml_is_found_through_af() {
    let xml = br#"<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="r" xmlns:udt="u"><rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:factur-x.eu:1p0:minimum</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext><rsm:ExchangedDocument><ram:ID>A&amp;B-1</ram:ID><ram:IssueDateTime><udt:DateTimeString format="102">20260331</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty><ram:Name>S</ram:Name></ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>B</ram:Name></ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode><ram:SpecifiedTradeSettlementHeaderMonetarySummation><ram:TaxBasisTotalAmount>10</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">2</ram:TaxTotalAmount><ram:GrandTotalAmount>12</ram:GrandTotalAmount><ram:DuePayableAmount>12</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"#;
    let invoice = parse(&with_attachment("factur-x.xml", xml.to_vec()), &Limits::default()).expect("parses");
    assert_eq!(invoice.number, "A&B-1");
    assert_eq!(invoice.source, domain::invoice::Source::Facturx);
    assert_eq!(invoice.profile, Some(domain::invoice::Profile::Minimum));
}
