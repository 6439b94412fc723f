//! The text layer reads what a person sees: columns kept apart, fonts without ToUnicode decoded, Form XObjects
//! followed, every text operator placed.

use invoice_pdf::{Limits, read_text};

use crate::{SMALL_INVOICE, corpus, pdf_with_page};

fn text(name: &str) -> String {
    read_text(&corpus(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn columns_stay_apart_as_cells() {
    assert!(text("text-en-classic").contains("Widget, large (blue)\t10\t£12.50\t£125.00\n"));
    assert!(text("text-two-column").contains("Brightside Design LLC\tGlobex Corporation\n"));
}

#[test]
fn libreoffice_style_compact_cmaps_and_surrogate_pairs_decode() {
    let text = text("text-libreoffice-cmap");
    assert!(text.starts_with("Alpenblick Beratung 🏔 AG\tInvoice\n"), "{text}");
    assert!(text.contains("Consulting (days)\t3\t1'450.00\t4'350.00\n"), "{text}");
}

#[test]
fn lopdf_extract_text_garbles_the_compact_cmap_that_we_read() {
    // Why the walk is our own: lopdf falls back to StandardEncoding for these 1-byte codes.
    let doc = lopdf::Document::load_mem(&corpus("text-libreoffice-cmap")).expect("loads");
    let theirs = doc.extract_text(&[1]).unwrap_or_default();
    assert!(!theirs.contains("Consulting"), "lopdf now reads it: {theirs}");
}

#[test]
fn differences_with_glyph_names_and_every_text_operator_are_read() {
    let text = text("text-operators-fr");
    for line in [
        "Torréfaction Étoile SAS\tFACTURE\n",
        "TVA : FR 83 404833048\n",
        "Hôtel du Parc\tFacture N°\tF-2026-0412\n",
        "compta@hotelduparc.fr\tDate d’échéance\t30/04/2026\n",
        "Café en grains, 1 kg\t24\t16,40 €\t393,60 €\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

#[test]
fn identity_h_without_tounicode_is_read_through_the_font_program() {
    assert!(
        text("text-identity-h-no-tounicode").contains("Contoso Pharmaceuticals Ltd\tInvoice Date:\tApril 2, 2026\n")
    );
}

#[test]
fn text_in_nested_form_xobjects_is_read_once_and_in_place() {
    let text = text("text-form-xobject");
    assert_eq!(text.matches("Nordlicht Software GmbH").count(), 2, "letterhead and footer:\n{text}");
    assert!(text.contains("5\tAnnual licence, Analytics Pro\t240.00\t1,200.00\n"), "{text}");
}

#[test]
fn kerning_inside_a_word_is_not_a_space_but_a_wide_gap_is_a_column() {
    let pdf = pdf_with_page(b"BT /F1 10 Tf 50 700 Td [(Tot) 30 (al) -3000 (96.00)] TJ ET", vec![]);
    assert_eq!(read_text(&pdf, &Limits::default()).expect("reads"), "Total\t96.00\n");
    let pdf = pdf_with_page(b"BT /F1 10 Tf 50 700 Td [(Net) -300 (amount)] TJ ET", vec![]);
    assert_eq!(read_text(&pdf, &Limits::default()).expect("reads"), "Net amount\n");
}

#[test]
fn rotated_pages_read_upright() {
    // The whole page drawn a quarter turn round, as a landscape scan-to-PDF does.
    let mut content = b"q 0 1 -1 0 595 0 cm\n".to_vec();
    content.extend_from_slice(SMALL_INVOICE);
    content.extend_from_slice(b"\nQ");
    let text = read_text(&pdf_with_page(&content, vec![]), &Limits::default()).expect("reads");
    assert!(text.starts_with("Kestrel Tools Ltd\nInvoice No: KT-7\n"), "{text}");
}
