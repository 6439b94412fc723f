//! The handler against the SQLite invoice store, as the local stack keeps it, holding the pipeline's sample upload
//! (`events/store-invoice/valid.json`) as the store-invoice step writes it.

use super::*;
use domain::invoice::ports::{InvoiceRefuse, InvoiceStore};
use domain::invoice::service::StepInput;
use domain::invoice::{InvoiceId, InvoiceRecord, InvoiceStatus, Problem};
use domain::{StoreError, UserId};
use local_adapters::{LocalStore, SqliteInvoices};
use serde_json::{Value, json};

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const SAMPLE_ID: &str = "01M8P570G01HKJW862H590RWEN";

struct App {
    invoices: SqliteInvoices,
    _dir: tempfile::TempDir,
}

impl App {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let invoices = LocalStore::open(&dir.path().join("local.db")).unwrap().invoices("InvoicesTable").unwrap();
        Self { invoices, _dir: dir }
    }

    /// `GET /invoices/{id}` as `sub`: the status and the JSON body.
    async fn get(&self, sub: &str, id: &str) -> (i64, Value) {
        let mut event = sample("stored");
        event["pathParameters"]["id"] = json!(id);
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!(sub);
        response(handle(&self.invoices, serde_json::from_value(event).unwrap()).await)
    }
}

/// The pipeline's sample upload as Store writes it (uploaded 12:00, stored a minute later).
fn sample_record() -> InvoiceRecord {
    let path = format!("{}/../../events/store-invoice/valid.json", env!("CARGO_MANIFEST_DIR"));
    let input = StepInput::parse(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()).unwrap();
    InvoiceRecord {
        id: input.submission.invoice_id,
        owner: input.submission.owner.clone(),
        status: InvoiceStatus::Stored,
        object: input.submission.object.clone(),
        received_at: input.submission.received_at,
        updated_at: time::macros::datetime!(2026-11-30 12:01 UTC),
        execution_arn: input.execution_arn.clone(),
        invoice: input.invoice.clone(),
        problem: None,
    }
}

/// `events/get-invoice/<case>.json`, as JSON.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/get-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn response(response: HttpResponse) -> (i64, Value) {
    let response = serde_json::to_value(response).unwrap();
    let body = response["body"].as_str().map_or(Value::Null, |b| serde_json::from_str(b).unwrap());
    (response["statusCode"].as_i64().unwrap(), body)
}

/// A store that is down.
struct Down;

impl InvoiceGet for Down {
    async fn get_invoice(&self, _: &UserId, _: InvoiceId) -> Result<Option<InvoiceRecord>, StoreError> {
        Err(StoreError::unavailable(std::io::Error::other("connection refused to 10.0.0.7")))
    }
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_status_with_the_sample_invoice_stored() {
    let app = App::new();
    app.invoices.store_invoice(&sample_record()).await.unwrap();
    for (case, want) in
        [("stored", 200), ("missing", 404), ("someone-elses", 404), ("not-an-invoice-id", 400), ("no-claims", 401)]
    {
        let event: HttpEvent = serde_json::from_value(sample(case)).unwrap();
        let (status, body) = response(handle(&app.invoices, event).await);
        assert_eq!(status, want, "{case}: {body}");
    }
}

#[tokio::test]
async fn the_owner_gets_the_whole_record_but_the_owner_and_the_objects_bucket_and_etag() {
    let app = App::new();
    let record = sample_record();
    app.invoices.store_invoice(&record).await.unwrap();
    let (status, body) = app.get(ALICE, SAMPLE_ID).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "id": SAMPLE_ID,
            "status": "stored",
            "invoice": serde_json::to_value(record.invoice.as_ref().unwrap()).unwrap(),
            "key": format!("invoices/{ALICE}/01JF2X4C5Q8V3N7K2M4P6R8T0W-R-2024-0042.pdf"),
            "received_at": "2026-11-30T12:00:00Z",
            "updated_at": "2026-11-30T12:01:00Z",
            "execution_arn": record.execution_arn,
            "problem": null,
        })
    );
    assert_eq!(body["invoice"]["total"], "1428.00", "amounts as exact decimal strings");
    let (status, same) = app.get(ALICE, &SAMPLE_ID.to_ascii_lowercase()).await;
    assert_eq!((status, &same["id"]), (200, &json!(SAMPLE_ID)), "ids read in any case, answered canonical");
}

#[tokio::test]
async fn a_refused_invoice_says_why_and_where_and_one_never_read_has_no_fields() {
    let app = App::new();
    let problem = Problem { state: "Parse".into(), code: "InvalidDocument".into(), reason: "no_text: a scan".into() };
    let record = InvoiceRecord { status: InvoiceStatus::Failed, invoice: None, ..sample_record() };
    app.invoices.refuse_invoice(&record, InvoiceStatus::Failed, &problem, record.updated_at).await.unwrap();
    let (status, body) = app.get(ALICE, SAMPLE_ID).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["invoice"], Value::Null);
    assert_eq!(body["problem"], json!({"state": "Parse", "code": "InvalidDocument", "reason": "no_text: a scan"}));
}

#[tokio::test]
async fn someone_elses_invoice_and_a_missing_one_are_the_same_404_and_a_bad_id_a_400() {
    let app = App::new();
    app.invoices.store_invoice(&sample_record()).await.unwrap();
    let (status, elses) = app.get("9b8a7f6e-5d4c-3b2a-1908-f7e6d5c4b3a2", SAMPLE_ID).await;
    let (_, missing) = app.get(ALICE, "01M8P5A0000000000000000000").await;
    assert_eq!((status, &elses), (404, &missing), "indistinguishable");
    for bad in ["R-2024-0042", "81M8P570G01HKJW862H590RWEN", "01M8P570G01HKJW862H590RWE", "01M8P570G01HKJW862H590RWEN "]
    {
        let (status, body) = app.get(ALICE, bad).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad:?}: {body}");
    }
}

#[tokio::test]
async fn a_store_outage_is_a_500_that_names_no_internal_detail() {
    let event: HttpEvent = serde_json::from_value(sample("stored")).unwrap();
    let (status, body) = response(handle(&Down, event).await);
    assert_eq!(status, 500);
    assert!(!body.to_string().contains("10.0.0.7"), "{body}");
}
