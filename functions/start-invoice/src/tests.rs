//! The handler against an in-memory Step Functions that keeps execution names as the service does: a name is
//! taken once per state machine.

use super::*;
use domain::ServiceError;
use domain::ports::StartedExecution;
use serde_json::{Value, json};
use std::sync::Mutex;

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:InvoicePipeline";

/// How the fake service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// Throttled or unreachable.
    Down,
}

/// Step Functions with one state machine, [`MACHINE`]: its executions as (name, input), in start order.
struct StepFunctions {
    mode: Mode,
    executions: Mutex<Vec<(String, Value)>>,
}

impl StepFunctions {
    fn new(mode: Mode) -> Self {
        Self { mode, executions: Mutex::new(Vec::new()) }
    }

    fn started(&self) -> Vec<(String, Value)> {
        self.executions.lock().unwrap().clone()
    }
}

impl ExecutionStart for StepFunctions {
    async fn start_execution(&self, arn: &str, name: &str, input: &Value) -> Result<StartedExecution, ServiceError> {
        if self.mode == Mode::Down {
            return Err(ServiceError::Unavailable("ThrottlingException: rate exceeded for 10.0.0.7".into()));
        }
        if arn != MACHINE {
            return Err(ServiceError::NotFound(format!("StateMachineDoesNotExist: {arn}").into()));
        }
        let mut executions = self.executions.lock().unwrap();
        if executions.iter().any(|(n, _)| n == name) {
            return Ok(StartedExecution::AlreadyExists);
        }
        executions.push((name.to_owned(), input.clone()));
        Ok(StartedExecution::Started {
            execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:InvoicePipeline:{name}"),
        })
    }
}

fn starter(mode: Mode) -> Starter<StepFunctions> {
    Starter { executions: StepFunctions::new(mode), state_machine_arn: MACHINE.to_owned() }
}

/// `events/start-invoice/<case>.json`.
fn sample(case: &str) -> S3Event {
    let path = format!("{}/../../events/start-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The sample upload with the object's key, ETag and event name replaced.
fn upload(key: &str, etag: Option<&str>, event_name: &str) -> S3Event {
    let mut event = serde_json::to_value(sample("invoice-upload")).unwrap();
    let record = &mut event["Records"][0];
    record["eventName"] = json!(event_name);
    record["s3"]["object"]["key"] = json!(key);
    record["s3"]["object"]["eTag"] = json!(etag);
    serde_json::from_value(event).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_outcome() {
    let starter = starter(Mode::Up);
    for (case, want) in [
        ("invoice-upload", Outcome::Started),
        ("encoded-name", Outcome::Started),
        ("not-a-pdf", Outcome::Ignored),
        ("object-removed", Outcome::Ignored),
    ] {
        let handled = handle(&starter, sample(case)).await.unwrap();
        assert_eq!(handled.outcomes, [want], "{case}: {handled:?}");
    }
    assert_eq!(starter.executions.started().len(), 2, "one execution per upload");
    let handled = handle(&starter, sample("encoded-name")).await.unwrap();
    assert_eq!(handled.records[0].key, format!("invoices/{ALICE}/Rechnung März 2026.PDF"), "the key is decoded");
}

#[tokio::test]
async fn the_execution_is_named_from_the_object_and_gets_the_submission_with_no_invoice_yet() {
    let starter = starter(Mode::Up);
    let handled = handle(&starter, sample("invoice-upload")).await.unwrap();
    let record = &handled.records[0];
    let started = starter.executions.started();
    let (name, input) = &started[0];
    assert!(name.starts_with("invoice-") && name.len() == 48, "{name}");
    assert_eq!(record.execution_name.as_deref(), Some(name.as_str()));
    assert!(record.execution_arn.as_deref().unwrap().ends_with(name.as_str()));
    assert_eq!(
        *input,
        json!({
            "invoice_id": record.invoice_id.unwrap().to_string(),
            "owner": ALICE,
            "object": {
                "bucket": "task-platform-uploads",
                "key": format!("invoices/{ALICE}/01JF2X4C5Q8V3N7K2M4P6R8T0W-R-2024-0042.pdf"),
                "etag": "9e107d9d372bb6826bd81d3542a419d6",
            },
            "received_at": "2026-11-30T12:00:00Z",
            "invoice": null,
        })
    );
    // The id's time is the upload's, so ids sort by upload time.
    let id = record.invoice_id.unwrap().to_string();
    let mut later = serde_json::to_value(sample("invoice-upload")).unwrap();
    later["Records"][0]["eventTime"] = json!("2026-11-30T12:00:01.000Z");
    later["Records"][0]["s3"]["object"]["eTag"] = json!("another");
    let later: S3Event = serde_json::from_value(later).unwrap();
    let second = handle(&starter, later).await.unwrap();
    assert!(second.records[0].invoice_id.unwrap().to_string() > id);
}

#[tokio::test]
async fn a_repeated_notification_starts_nothing_new_and_another_upload_to_the_same_key_is_another_invoice() {
    let starter = starter(Mode::Up);
    let first = handle(&starter, sample("invoice-upload")).await.unwrap();
    let again = handle(&starter, sample("invoice-upload")).await.unwrap();
    assert_eq!(again.outcomes, [Outcome::AlreadyStarted]);
    assert_eq!(again.records[0].invoice_id, first.records[0].invoice_id);
    assert_eq!(again.records[0].execution_name, first.records[0].execution_name);
    assert_eq!(again.records[0].execution_arn, None);

    let key = format!("invoices/{ALICE}/01JF2X4C5Q8V3N7K2M4P6R8T0W-R-2024-0042.pdf");
    let replaced = handle(&starter, upload(&key, Some("\"0cc175b9c0f1b6a831c399e269772661\""), "ObjectCreated:Put"))
        .await
        .unwrap();
    assert_eq!(replaced.outcomes, [Outcome::Started]);
    assert_ne!(replaced.records[0].invoice_id, first.records[0].invoice_id);
    assert_eq!(starter.executions.started().len(), 2);
}

#[tokio::test]
async fn records_that_are_no_invoice_upload_are_ignored_with_a_reason_and_start_nothing() {
    let starter = starter(Mode::Up);
    let pdf = format!("invoices/{ALICE}/R-1.pdf");
    for (key, etag, name) in [
        (format!("uploads/{ALICE}/01JF2X4C5Q8V3N7K2M4P6R8T0W"), Some("e"), "ObjectCreated:Put"),
        (format!("invoices/{ALICE}/R-1.pdf.exe"), Some("e"), "ObjectCreated:Put"),
        ("invoices/R-1.pdf".to_owned(), Some("e"), "ObjectCreated:Put"),
        ("invoices/not a user/R-1.pdf".to_owned(), Some("e"), "ObjectCreated:Put"),
        (format!("invoices/{ALICE}/%FF.pdf"), Some("e"), "ObjectCreated:Put"),
        (pdf.clone(), None, "ObjectCreated:Put"),
        (pdf.clone(), Some("e"), "ObjectRestore:Completed"),
    ] {
        let handled = handle(&starter, upload(&key, etag, name)).await.unwrap();
        assert_eq!(handled.outcomes, [Outcome::Ignored], "{key} {name}");
        assert!(handled.records[0].reason.as_deref().is_some_and(|r| !r.is_empty()), "{key}: {handled:?}");
    }
    assert!(starter.executions.started().is_empty());
}

#[tokio::test]
async fn step_functions_unavailable_is_retryable_and_a_missing_state_machine_is_misconfigured() {
    let (error_type, message) = handle(&starter(Mode::Down), sample("invoice-upload")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "Retryable");
    assert!(message.contains("StartExecution"), "{message}");

    let elsewhere = Starter {
        executions: StepFunctions::new(Mode::Up),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:Gone".to_owned(),
    };
    let failed = handle(&elsewhere, sample("invoice-upload")).await.unwrap_err();
    assert!(failed.key.ends_with("-R-2024-0042.pdf"), "{}", failed.key);
    assert_eq!(failed.into_parts().0, "Misconfigured");
}

#[tokio::test]
async fn a_retried_batch_starts_each_upload_once() {
    let starter = starter(Mode::Up);
    let mut event = sample("invoice-upload");
    event.records.extend(sample("encoded-name").records);
    let handled = handle(&starter, event.clone()).await.unwrap();
    assert_eq!(handled.outcomes, [Outcome::Started, Outcome::Started]);
    let retried = handle(&starter, event).await.unwrap();
    assert_eq!(retried.outcomes, [Outcome::AlreadyStarted, Outcome::AlreadyStarted]);
    assert_eq!(starter.executions.started().len(), 2);
}
