//! `parse_file`, for `local invoices parse <file.pdf>`: exit 2 for a refused PDF, 1 for an unreadable file.

use invoice_pdf::{Limits, ParseFileError, parse_file};

use crate::corpus;

#[test]
fn a_file_on_disk_parses_like_its_bytes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, corpus("text-de-din")).expect("write");
    let invoice = parse_file(&path, &Limits::default()).expect("parses");
    assert_eq!(invoice.number, "RE-2026-117");
}

#[test]
fn a_refused_pdf_exits_2_and_a_missing_file_exits_1() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, corpus("letter-not-an-invoice")).expect("write");
    let error = parse_file(&path, &Limits::default()).expect_err("refused");
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().starts_with("the PDF does not look like an invoice"), "{error}");

    let error = parse_file(dir.path().join("missing.pdf"), &Limits::default()).expect_err("missing");
    assert!(matches!(error, ParseFileError::Read { .. }));
    assert_eq!(error.exit_code(), 1);
}

#[test]
fn a_file_over_the_limit_is_refused_from_its_size() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("big.pdf");
    std::fs::write(&path, vec![b' '; 4096]).expect("write");
    let error = parse_file(&path, &Limits { max_input_bytes: 1024, ..Limits::default() }).expect_err("refused");
    assert_eq!(error.exit_code(), 2);
    assert_eq!(error.to_string(), "the PDF is 4096 bytes; at most 1024 bytes are accepted");
}
