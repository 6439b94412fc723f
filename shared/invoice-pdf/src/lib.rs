//! A supplier's PDF invoice read into the domain's [`Invoice`]: the embedded e-invoice when the PDF carries one,
//! else what its text layer shows. No AWS here: a Lambda function or `local invoices parse` hands [`parse`] the
//! bytes and stores or prints what it returns.
//!
//! # Layout
//!
//! - [`limits`]: the [`Limits`] a PDF must fit, so that a damaged or hostile file ends in an error, never in a
//!   hang or gigabytes of memory.
//! - `document` and `objects`: the objects of a well-formed, unencrypted file are parsed on first use from its
//!   cross-reference data (`objects`, our own parser producing lopdf's `Object`s); any other file is loaded
//!   whole by lopdf (leniently, as readers must: it repairs cross-reference tables and decrypts), under our load
//!   filter, which counts objects and inflates object streams within the limits. Then the framing, password and
//!   page-tree checks lopdf leaves to its caller.
//! - `embedded` and `cii`: a Factur-X, ZUGFeRD (1.0 and 2.x) or XRechnung CII XML attached to the PDF, found
//!   through `/AF` or `/Names /EmbeddedFiles`, read with quick-xml. It is the invoice (the PDF pages are its
//!   picture), so when there is one the text layer is not read at all.
//! - `text`: our own content-stream walk (lopdf's `extract_text` garbles compact ToUnicode maps and skips Form
//!   XObjects): fonts and CMaps to text, every glyph placed, runs grouped into lines of cells by position.
//! - `fields`: invoice fields found in those cells by their labels (English, German, French), the line-item
//!   table by its header, totals from the summary block.
//! - [`error`]: [`ParseError`], whose `Display` is the reason for the user and whose [`ParseError::code`] a
//!   program matches.
//! - [`file`](mod@file): [`parse_file`], the same from a path, for `local invoices parse <file.pdf>`.
//!
//! # Corpus, accuracy, speed
//!
//! `tests/corpus/make_corpus.py` makes the test corpus (committed, so tests need no Python): Factur-X in all five
//! profiles, ZUGFeRD 1.0 and 2.x, XRechnung, text-only invoices in several layouts, languages, fonts and
//! encodings, and damaged and hostile files, each with the fields it must give (`expected/*.json`). Four
//! "held-out" text invoices were written after the field finder: before any change for them it got 31 of their
//! 84 fields (two of the four were refused for want of an invoice-number label it knew: "INVOICE #10234",
//! "N° : FA-0042"); the fixes were general (labels ending in a sign, "N°", "Total GST", one unknown table
//! column, a net that does not add up read as the line total) and all 84 are now right. Every corpus field is
//! asserted by `tests/invoice/corpus.rs`, which prints the accuracy per source.
//!
//! `cargo bench -p invoice-pdf` compares [`parse`] with pypdf's `extract_text` on the corpus invoices, in one
//! run, interleaved, and reports per document the median and the fastest of 60 runs on each side. On the shared
//! 2-core development machine, with other builds running (load average 2–7), the median speed-up per document
//! came out at 18×, 28× and 30× by median times in three runs (the load moves it that much) and 25×, 26× and 37×
//! by fastest runs: from ~5× for an Identity-H font decoded through its embedded font program to 40–50× for
//! small e-invoices. Peak RSS is 4 MiB against pypdf's 38 MiB. Per parse of a 2 KB text invoice (~1.0 M instructions, callgrind):
//! inflating the page content ~20 % (mostly flate2 setting up its state, through lopdf), the content walk ~15 %,
//! objects ~10 %, field finding ~25 %. Reading objects on use rather than lopdf's eager load took a third off a
//! Factur-X file.
//!
//! # Safety against hostile files
//!
//! Every cost has a limit checked while the work is done: input size, objects, decoded bytes per stream and in
//! all (flate bombs), content operators, glyphs, pages, Form XObject depth (and no form is drawn inside
//! itself), reference chains, name-tree depth. lopdf itself bounds nesting and decompression; everything it
//! does is also run under `catch_unwind` as a last line of defence, so a panic in a dependency on a malformed
//! file becomes [`ParseError::InvalidDocument`] instead of taking the process down.

pub mod error;
pub mod file;
pub mod limits;

mod cii;
mod document;
mod embedded;
mod fields;
mod fnv;
mod objects;
mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};

use domain::invoice::Invoice;

pub use error::{Exceeded, Invalid, ParseError};
pub use file::{ParseFileError, parse_file};
pub use limits::Limits;

use document::Pdf;
use limits::DecodeBudget;

/// The invoice in `pdf`.
///
/// An embedded Factur-X, ZUGFeRD or XRechnung CII XML is read first and is authoritative; without one, the
/// fields are found in the text layer (`source: text`, no profile). Fails with the reason to show the user,
/// never panics; a file over `limits` is refused as soon as a limit is reached.
pub fn parse(pdf: &[u8], limits: &Limits) -> Result<Invoice, ParseError> {
    limits.check_input(pdf.len() as u64)?;
    guarded(|| {
        let mut budget = DecodeBudget::new(limits);
        let document = Pdf::open(pdf, limits, &mut budget)?;
        // A limit reached while objects were parsed on use is the reason, whatever came of the rest.
        let checked = |result: Result<Invoice, ParseError>| document.check().and(result);
        if let Some(attachment) = embedded::find(&document, &mut budget)? {
            return checked(
                cii::parse(&attachment)
                    .map_err(|reason| ParseError::InvalidEmbeddedInvoice { file: attachment.name.clone(), reason }),
            );
        }
        checked(
            text::lines(&document, limits, &mut budget)
                .and_then(|lines| if lines.is_empty() { Err(ParseError::NoText) } else { fields::extract(&lines) }),
        )
    })
}

/// The text layer of `pdf` as `parse` reads it: one line of text per line on the page, its cells separated by a
/// tab, pages in order. For looking into why a PDF's fields were not found, and for comparing with other text
/// extractors.
pub fn read_text(pdf: &[u8], limits: &Limits) -> Result<String, ParseError> {
    limits.check_input(pdf.len() as u64)?;
    guarded(|| {
        let mut budget = DecodeBudget::new(limits);
        let document = Pdf::open(pdf, limits, &mut budget)?;
        let lines = text::lines(&document, limits, &mut budget);
        document.check()?;
        let lines = lines?;
        let mut out = String::new();
        for line in &lines {
            out.push_str(&line.to_string());
            out.push('\n');
        }
        Ok(out)
    })
}

/// Runs `work`, turning a panic (in lopdf or in our code, on a file nobody foresaw) into a refusal.
fn guarded<T>(work: impl FnOnce() -> Result<T, ParseError>) -> Result<T, ParseError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| Err(ParseError::damaged("its structure cannot be read")))
}
