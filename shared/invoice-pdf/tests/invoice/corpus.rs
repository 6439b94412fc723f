//! Every corpus PDF gives its expected fields, or its expected refusal; and the JSON has the issue's keys.
//!
//! Fields are compared one by one (amounts as numbers, so "100.00" equals "100"); a failure lists every field
//! that differs in every file, not just the first. The accuracy per source is printed
//! (`cargo test -p invoice-pdf corpus -- --nocapture`).

use std::collections::BTreeMap;
use std::str::FromStr;

use invoice_pdf::{Limits, parse};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{corpus, corpus_names};

/// Compares `expected` with `actual` at `path`, adding `(path, expected, actual)` for each leaf that differs and
/// counting the leaves compared.
fn compare(
    path: &str,
    expected: &Value,
    actual: &Value,
    diffs: &mut Vec<(String, String, String)>,
    leaves: &mut usize,
) {
    // An object or array is compared field by field even when the actual value is missing, so that a refused
    // invoice counts every one of its fields as wrong.
    match expected {
        Value::Object(e) => {
            for (key, value) in e {
                compare(&format!("{path}.{key}"), value, actual.get(key).unwrap_or(&Value::Null), diffs, leaves);
            }
        }
        Value::Array(e) => {
            for (i, value) in e.iter().enumerate() {
                compare(&format!("{path}[{i}]"), value, actual.get(i).unwrap_or(&Value::Null), diffs, leaves);
            }
            let extra = actual.as_array().map_or(0, |a| a.len().saturating_sub(e.len()));
            if extra > 0 {
                *leaves += 1;
                diffs.push((format!("{path}.len()"), e.len().to_string(), (e.len() + extra).to_string()));
            }
        }
        _ => {
            *leaves += 1;
            let same_number = match (expected.as_str(), actual.as_str()) {
                (Some(e), Some(a)) => Decimal::from_str(e).ok().is_some_and(|e| Decimal::from_str(a).ok() == Some(e)),
                _ => false,
            };
            if expected != actual && !same_number {
                diffs.push((path.to_owned(), expected.to_string(), actual.to_string()));
            }
        }
    }
}

#[test]
fn every_corpus_invoice_parses_to_its_expected_fields() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    // Per source: (fields right, fields compared).
    let mut accuracy: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut invoices = 0;
    for (name, expected) in corpus_names() {
        if expected.get("error").is_some() {
            continue;
        }
        invoices += 1;
        // Held-out documents (written after the field finder) are counted apart from the rest.
        let source = expected["source"].as_str().expect("a source").to_owned();
        let source = if name.starts_with("heldout-") { format!("{source} (held out)") } else { source };
        let actual = match parse(&corpus(&name), &limits) {
            Ok(invoice) => serde_json::to_value(&invoice).expect("the invoice serialises"),
            Err(e) => {
                failures.push(format!("{name}: refused: {e} ({})", e.code()));
                Value::Null
            }
        };
        let (mut diffs, mut leaves) = (Vec::new(), 0);
        compare("", &expected, &actual, &mut diffs, &mut leaves);
        let entry = accuracy.entry(source).or_default();
        entry.0 += leaves - diffs.len().min(leaves);
        entry.1 += leaves;
        for (path, e, a) in diffs {
            failures.push(format!("{name}{path}: expected {e}, got {a}"));
        }
    }
    println!("field accuracy on the corpus ({invoices} invoices):");
    for (source, (right, total)) in &accuracy {
        println!("  {source:<18} {right:>4} / {total:<4} ({:.1} %)", 100.0 * *right as f64 / *total as f64);
    }
    assert!(invoices >= 17, "the corpus has only {invoices} invoices");
    assert!(failures.is_empty(), "{} fields differ:\n  {}", failures.len(), failures.join("\n  "));
}

#[test]
fn every_refused_corpus_file_gets_its_expected_error() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for (name, expected) in corpus_names() {
        let Some(code) = expected.get("error").and_then(Value::as_str) else { continue };
        let contains = expected["reason_contains"].as_str().expect("reason_contains");
        match parse(&corpus(&name), &limits) {
            Ok(invoice) => failures.push(format!("{name}: accepted as {}", invoice.number)),
            Err(e) if e.code() != code || !e.reason().contains(contains) => {
                failures.push(format!(
                    "{name}: {} ({}), expected {code} containing {contains:?}",
                    e.reason(),
                    e.code()
                ));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n  {}", failures.join("\n  "));
}

#[test]
fn the_json_has_the_keys_the_issue_promises() {
    let invoice = parse(&corpus("text-en-classic"), &Limits::default()).expect("parses");
    let json = serde_json::to_value(&invoice).expect("serialises");
    for key in
        ["number", "issue_date", "due_date", "currency", "seller", "buyer", "lines", "net", "tax", "total", "source"]
    {
        assert!(json.get(key).is_some(), "no {key} in {json}");
    }
    assert_eq!(json["issue_date"], "2026-03-31");
    assert_eq!(json["seller"].as_object().map(|o| o.contains_key("vat_id")), Some(true));
    assert_eq!(json["buyer"].as_object().map(|o| o.contains_key("email")), Some(true));
    let line = &json["lines"][0];
    for key in ["description", "quantity", "unit_price", "amount"] {
        assert!(line[key].is_string(), "lines[0].{key} is {}", line[key]);
    }
    // Amounts are strings, never floats.
    assert_eq!(json["total"], "978.00");
    assert_eq!(json["source"], "text");
}

#[test]
fn an_absent_due_date_is_null() {
    let invoice = parse(&corpus("facturx-minimum"), &Limits::default()).expect("parses");
    let json = serde_json::to_value(&invoice).expect("serialises");
    assert_eq!(json["due_date"], Value::Null);
    assert_eq!(json["lines"], Value::Array(Vec::new()));
}

#[test]
fn the_embedded_xml_wins_over_the_text_layer() {
    // The visible page of this file says "Net", "VAT" and "Total" too; the profile shows the XML was read.
    let invoice = parse(&corpus("facturx-en16931"), &Limits::default()).expect("parses");
    assert_eq!(invoice.profile, Some(domain::invoice::Profile::En16931));
    assert_eq!(invoice.vat.len(), 2);
}

#[test]
fn the_tax_total_is_the_one_in_the_invoice_currency() {
    let invoice = parse(&corpus("facturx-extended"), &Limits::default()).expect("parses");
    assert_eq!(invoice.currency, "USD");
    assert_eq!(invoice.tax, Decimal::from_str("83.36").expect("a decimal"));
}
