//! The handler against the SQLite invoice store, as the local stack keeps it (its conditional writes are what make
//! a repeated state harmless), and a store that is down.

use super::*;
use domain::invoice::ports::InvoiceGet;
use domain::invoice::{InvoiceRecord, Problem, StoreOutcome};
use domain::{StoreError, Timestamp};
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

impl World {
    /// The record of the sample submission (all samples are the same upload).
    async fn record(&self) -> Option<InvoiceRecord> {
        let input = StepInput::parse(sample("valid")).unwrap();
        self.invoices.get_invoice(&input.submission.owner, input.submission.invoice_id).await.unwrap()
    }

    async fn run(&self, event: Value) -> Value {
        serde_json::to_value(handle(&self.invoices, event).await.unwrap()).unwrap()
    }
}

/// `events/store-invoice/<case>.json`.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/store-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A store that is down.
struct Down;

fn down() -> StoreError {
    StoreError::unavailable(std::io::Error::other("connection reset by peer"))
}

impl InvoiceStore for Down {
    async fn store_invoice(&self, _: &InvoiceRecord) -> Result<StoreOutcome, StoreError> {
        Err(down())
    }
}

impl InvoiceRefuse for Down {
    async fn refuse_invoice(
        &self,
        _: &InvoiceRecord,
        _: InvoiceStatus,
        _: &Problem,
        _: Timestamp,
    ) -> Result<InvoiceRecord, StoreError> {
        Err(down())
    }
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_answer_in_a_fresh_store() {
    for (case, want) in [
        ("valid", json!({"outcome": "stored"})),
        ("rejected", json!({"recorded": "rejected"})),
        ("failed-to-parse", json!({"recorded": "failed"})),
    ] {
        assert_eq!(world().run(sample(case)).await, want, "{case}");
    }
    let (error_type, message) = handle(&world().invoices, sample("no-invoice")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "InvalidInput");
    assert!(message.contains("invoice"), "{message}");
}

#[tokio::test]
async fn a_valid_invoice_is_stored_once_with_its_execution_however_often_the_state_runs() {
    let world = world();
    assert_eq!(world.run(sample("valid")).await, json!({"outcome": "stored"}));
    let first = world.record().await.expect("stored");
    assert_eq!(first.status, InvoiceStatus::Stored);
    assert_eq!(first.execution_arn.as_deref(), sample("valid")["execution_arn"].as_str());
    assert_eq!(first.invoice.as_ref().unwrap().number, "R-2024-0042");
    assert_eq!(first.problem, None);
    assert_eq!(first.received_at, time::macros::datetime!(2026-11-30 12:00 UTC));

    assert_eq!(world.run(sample("valid")).await, json!({"outcome": "stored"}), "a retried Store");
    assert_eq!(world.record().await.unwrap(), first, "nothing rewritten");
}

#[tokio::test]
async fn the_same_sellers_number_stored_first_by_another_upload_makes_this_one_a_recorded_duplicate() {
    let world = world();
    world.run(sample("valid")).await;
    let mut other = sample("valid");
    other["invoice_id"] = json!("01M8P5A0000000000000000000");
    other["object"]["etag"] = json!("0cc175b9c0f1b6a831c399e269772661");
    let answer = world.run(other.clone()).await;
    assert_eq!(answer["outcome"], "duplicate", "{answer}");
    assert_eq!(answer["rejection"]["rule"], "duplicate");
    assert!(answer["rejection"]["message"].as_str().unwrap().contains("01M8P570G01HKJW862H590RWEN"), "{answer}");

    let input = StepInput::parse(other).unwrap();
    let record = world.invoices.get_invoice(&input.submission.owner, input.submission.invoice_id).await.unwrap();
    let record = record.expect("the duplicate is recorded");
    assert_eq!(record.status, InvoiceStatus::Rejected);
    let problem = record.problem.unwrap();
    assert_eq!((problem.state.as_str(), problem.code.as_str()), ("Store", "duplicate"));
}

#[tokio::test]
async fn a_failure_is_recorded_with_the_lambda_errors_message_as_its_reason_and_no_fields() {
    let world = world();
    assert_eq!(world.run(sample("failed-to-parse")).await, json!({"recorded": "failed"}));
    let record = world.record().await.expect("recorded");
    assert_eq!(record.status, InvoiceStatus::Failed);
    assert_eq!(record.invoice, None);
    assert_eq!(
        record.problem.unwrap(),
        Problem {
            state: "Parse".into(),
            code: "InvalidDocument".into(),
            reason:
                "not_an_invoice: the PDF does not look like an invoice: no invoice number, issue date or total found"
                    .into(),
        }
    );
}

#[tokio::test]
async fn the_first_refusal_recorded_stays_and_a_refusal_never_says_stored() {
    let world = world();
    assert_eq!(world.run(sample("rejected")).await, json!({"recorded": "rejected"}));
    let rejected = world.record().await.unwrap();
    assert_eq!(rejected.problem.as_ref().unwrap().code, "BR-CO-15");
    assert_eq!(rejected.invoice.as_ref().unwrap().total.to_string(), "1428.01");
    // A later failure of the same execution (the mail, say) does not overwrite why it was rejected.
    assert_eq!(world.run(sample("failed-to-parse")).await, json!({"recorded": "rejected"}));
    assert_eq!(world.record().await.unwrap().problem, rejected.problem);

    let mut stored = sample("rejected");
    stored["refusal"]["status"] = json!("stored");
    let (error_type, _) = handle(&world.invoices, stored).await.unwrap_err().into_parts();
    assert_eq!(error_type, "InvalidInput");
}

#[tokio::test]
async fn a_store_outage_is_retryable_on_both_branches() {
    for case in ["valid", "rejected"] {
        let (error_type, message) = handle(&Down, sample(case)).await.unwrap_err().into_parts();
        assert_eq!(error_type, "Retryable", "{case}");
        assert!(message.contains("invoice store"), "{case}: {message}");
    }
}

#[tokio::test]
async fn an_input_that_is_not_a_step_input_is_invalid_input_never_a_panic() {
    let world = world();
    let mut unknown_status = sample("rejected");
    unknown_status["refusal"]["status"] = json!("lost");
    let mut no_reason = sample("rejected");
    no_reason["refusal"].as_object_mut().unwrap().remove("reason");
    let mut bad_owner = sample("valid");
    bad_owner["owner"] = json!("not a user");
    for bad in [json!("Store"), json!({}), unknown_status, no_reason, bad_owner] {
        let (error_type, _) = handle(&world.invoices, bad.clone()).await.unwrap_err().into_parts();
        assert_eq!(error_type, "InvalidInput", "{bad}");
    }
    assert!(world.record().await.is_none(), "nothing written");
}
