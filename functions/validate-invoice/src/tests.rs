//! The handler against the SQLite invoice store, as the local stack keeps it, and a store that is down.

use super::*;
use domain::invoice::ports::InvoiceStore;
use domain::invoice::{InvoiceId, InvoiceRecord, InvoiceStatus};
use domain::{StoreError, UserId};
use local_adapters::{LocalStore, SqliteInvoices};
use serde_json::json;

struct World {
    invoices: SqliteInvoices,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let invoices = LocalStore::open(&dir.path().join("local.db")).unwrap().invoices("InvoicesTable").unwrap();
    World { invoices, _dir: dir }
}

/// `events/validate-invoice/<case>.json`.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/validate-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The valid sample as stored under another id: an earlier upload of the same invoice.
fn stored_earlier(id: &str) -> InvoiceRecord {
    let input = StepInput::parse(sample("valid")).unwrap();
    let at = time::macros::datetime!(2026-11-29 09:00 UTC);
    InvoiceRecord {
        id: InvoiceId::parse(id).unwrap(),
        owner: input.submission.owner.clone(),
        status: InvoiceStatus::Stored,
        object: input.submission.object.clone(),
        received_at: at,
        updated_at: at,
        execution_arn: None,
        invoice: input.invoice.clone(),
        problem: None,
    }
}

/// A store that is down.
struct Down;

impl InvoiceNumberFind for Down {
    async fn find_invoice_number(&self, _: &UserId, _: &str, _: &str) -> Result<Option<InvoiceId>, StoreError> {
        Err(StoreError::unavailable(std::io::Error::other("connection reset by peer")))
    }
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_verdict_or_error() {
    let world = world();
    assert_eq!(handle(&world.invoices, sample("valid")).await.unwrap(), Verdict { valid: true, rejection: None });
    let off = handle(&world.invoices, sample("totals-off")).await.unwrap();
    assert!(!off.valid);
    assert_eq!(off.rejection.as_ref().unwrap().rule.to_string(), "BR-CO-15", "{off:?}");
    let (error_type, message) = handle(&world.invoices, sample("no-invoice")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "InvalidInput");
    assert!(message.contains("invoice"), "{message}");
}

#[tokio::test]
async fn the_verdict_is_the_json_the_is_valid_choice_reads() {
    let world = world();
    let valid = serde_json::to_value(handle(&world.invoices, sample("valid")).await.unwrap()).unwrap();
    assert_eq!(valid, json!({"valid": true}));
    let off = serde_json::to_value(handle(&world.invoices, sample("totals-off")).await.unwrap()).unwrap();
    assert_eq!(off["valid"], false);
    assert_eq!(off["rejection"]["rule"], "BR-CO-15");
    assert!(off["rejection"]["message"].as_str().is_some_and(|m| m.contains("1428.01")), "{off}");
}

#[tokio::test]
async fn a_number_the_owner_stored_under_another_invoice_is_a_duplicate_and_the_same_invoice_again_is_not() {
    let first = world();
    let earlier = "01KB0Y6C000000000000000000";
    first.invoices.store_invoice(&stored_earlier(earlier)).await.unwrap();
    let verdict = handle(&first.invoices, sample("valid")).await.unwrap();
    let rejection = verdict.rejection.expect("a duplicate");
    assert_eq!(rejection.rule.to_string(), "duplicate");
    assert!(rejection.message.contains(earlier), "{}", rejection.message);

    // A retried Validate of the invoice that holds the number finds itself, not a duplicate.
    let again = world();
    let own_id = StepInput::parse(sample("valid")).unwrap().submission.invoice_id.to_string();
    again.invoices.store_invoice(&stored_earlier(&own_id)).await.unwrap();
    assert!(handle(&again.invoices, sample("valid")).await.unwrap().valid);

    // Someone else's invoice with that seller and number is theirs alone.
    let mut bobs = sample("valid");
    bobs["owner"] = json!("9b8a7f6e-5d4c-3b2a-1908-f7e6d5c4b3a2");
    assert!(handle(&first.invoices, bobs).await.unwrap().valid);
}

#[tokio::test]
async fn a_store_outage_is_retryable_and_an_invalid_invoice_is_rejected_without_asking_the_store() {
    let (error_type, _) = handle(&Down, sample("valid")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "Retryable");
    assert!(!handle(&Down, sample("totals-off")).await.unwrap().valid);
}

#[tokio::test]
async fn an_input_that_is_not_a_step_input_is_invalid_input_never_a_panic() {
    let world = world();
    let mut bad_id = sample("valid");
    bad_id["invoice_id"] = json!("not-an-id");
    let mut bad_amount = sample("valid");
    bad_amount["invoice"]["total"] = json!(1428.0);
    for bad in [json!(null), json!([]), json!({"owner": "x"}), bad_id, bad_amount] {
        let (error_type, message) = handle(&world.invoices, bad.clone()).await.unwrap_err().into_parts();
        assert_eq!(error_type, "InvalidInput", "{bad}");
        assert!(!message.is_empty());
    }
}
