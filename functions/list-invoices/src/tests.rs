//! The handler against the SQLite invoice store, as the local stack keeps it, seeded through the store's own
//! ports the way the pipeline writes (stored invoices, and rejected or failed ones with their problem).

use super::*;
use domain::invoice::ports::{InvoiceRefuse, InvoiceStore};
use domain::invoice::{Invoice, InvoiceId, InvoiceRecord, InvoiceStatus, ObjectFingerprint, Problem, StoreOutcome};
use domain::{StoreError, UserId};
use local_adapters::{LocalStore, SqliteInvoices};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const BOB: &str = "9b8a7f6e-5d4c-3b2a-1908-f7e6d5c4b3a2";

struct App {
    invoices: SqliteInvoices,
    key: PageKey,
    /// Seconds after the first upload of the next one, so uploads are newer in the order they are seeded.
    clock: AtomicI64,
    _dir: tempfile::TempDir,
}

/// The invoice of the pipeline's samples, numbered `number`.
fn invoice(number: &str) -> Invoice {
    let path = format!("{}/../../events/store-invoice/valid.json", env!("CARGO_MANIFEST_DIR"));
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    Invoice { number: number.to_owned(), ..serde_json::from_value(sample["invoice"].clone()).unwrap() }
}

impl App {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            invoices: LocalStore::open(&dir.path().join("local.db")).unwrap().invoices("InvoicesTable").unwrap(),
            key: PageKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
            clock: AtomicI64::new(0),
            _dir: dir,
        }
    }

    /// An upload of `owner`'s that went as far as `status`; its id.
    async fn seed(&self, owner: &str, status: InvoiceStatus) -> InvoiceId {
        let tick = self.clock.fetch_add(1, Ordering::SeqCst);
        let at = time::macros::datetime!(2026-11-01 08:00 UTC) + time::Duration::seconds(tick);
        let object = ObjectFingerprint {
            bucket: "task-platform-uploads".into(),
            key: format!("invoices/{owner}/upload-{tick}.pdf"),
            etag: format!("{tick:032x}"),
            version_id: None,
        };
        let id = InvoiceId::derive(at, &object);
        let mut record = InvoiceRecord {
            id,
            owner: UserId::parse(owner).unwrap(),
            status,
            object,
            received_at: at,
            updated_at: at,
            execution_arn: Some(format!("arn:aws:states:us-east-1:123456789012:execution:InvoicePipeline:{id}")),
            invoice: Some(invoice(&format!("R-{tick}"))),
            problem: None,
        };
        if status == InvoiceStatus::Stored {
            assert_eq!(self.invoices.store_invoice(&record).await.unwrap(), StoreOutcome::Stored);
        } else {
            let problem =
                Problem { state: "Validate".into(), code: "BR-CO-15".into(), reason: "the total is off".into() };
            if status == InvoiceStatus::Failed {
                record.invoice = None;
            }
            self.invoices.refuse_invoice(&record, status, &problem, at).await.unwrap();
        }
        id
    }

    /// `GET /invoices` as `sub`, with these query parameters: the status and the JSON body.
    async fn get(&self, sub: &str, params: &[(&str, &str)]) -> (i64, Value) {
        let mut event = sample("first-page");
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!(sub);
        event["queryStringParameters"] = params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let event: HttpEvent = serde_json::from_value(event).unwrap();
        response(handle(&self.invoices, &self.key, event).await)
    }

    /// Every id of `sub`'s list with these parameters, following `next` to the end, `limit` at a time.
    async fn walk(&self, sub: &str, status: Option<&str>, limit: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut params = vec![("limit", limit)];
            if let Some(status) = status {
                params.push(("status", status));
            }
            if let Some(token) = &next {
                params.push(("next", token));
            }
            let (status, page) = self.get(sub, &params).await;
            assert_eq!(status, 200, "{page}");
            ids.extend(page["invoices"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            match page["next"].as_str() {
                Some(token) => next = Some(token.to_owned()),
                None => return ids,
            }
        }
    }
}

/// `events/list-invoices/<case>.json`, as JSON.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/list-invoices/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn response(response: HttpResponse) -> (i64, Value) {
    let response = serde_json::to_value(response).unwrap();
    let body = response["body"].as_str().map_or(Value::Null, |b| serde_json::from_str(b).unwrap());
    (response["statusCode"].as_i64().unwrap(), body)
}

/// A store that is down.
struct Down;

impl InvoiceList for Down {
    async fn list_invoices(
        &self,
        _: &UserId,
        _: Option<InvoiceStatus>,
        _: domain::Limit,
        _: Option<InvoiceId>,
    ) -> Result<domain::invoice::InvoicePage, StoreError> {
        Err(StoreError::unavailable(std::io::Error::other("connection refused to 10.0.0.7")))
    }
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_status() {
    let app = App::new();
    app.seed(ALICE, InvoiceStatus::Stored).await;
    app.seed(ALICE, InvoiceStatus::Rejected).await;
    for (case, want) in [
        ("first-page", 200),
        ("by-status", 200),
        ("limit-too-large", 400),
        ("forged-next", 400),
        ("unknown-status", 422),
        ("no-claims", 401),
    ] {
        let event: HttpEvent = serde_json::from_value(sample(case)).unwrap();
        let (status, body) = response(handle(&app.invoices, &app.key, event).await);
        assert_eq!(status, want, "{case}: {body}");
    }
    let event: HttpEvent = serde_json::from_value(sample("by-status")).unwrap();
    let (_, body) = response(handle(&app.invoices, &app.key, event).await);
    assert_eq!(body["invoices"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn the_list_is_newest_first_in_pages_that_reach_every_invoice_once() {
    let app = App::new();
    let mut seeded = Vec::new();
    for status in [InvoiceStatus::Stored, InvoiceStatus::Rejected, InvoiceStatus::Failed].repeat(4) {
        seeded.push(app.seed(ALICE, status).await.to_string());
    }
    seeded.reverse();
    assert_eq!(app.walk(ALICE, None, "5").await, seeded);
    assert_eq!(app.walk(ALICE, None, "12").await, seeded, "a page that ends with the list has no next");
    let (status, all) = app.get(ALICE, &[]).await;
    assert_eq!((status, all["invoices"].as_array().unwrap().len(), all["next"].is_null()), (200, 12, true));
}

#[tokio::test]
async fn each_invoice_is_summarised_with_its_fields_and_problem() {
    let app = App::new();
    let stored = app.seed(ALICE, InvoiceStatus::Stored).await;
    let failed = app.seed(ALICE, InvoiceStatus::Failed).await;
    let (_, page) = app.get(ALICE, &[]).await;
    assert_eq!(
        page,
        json!({
            "invoices": [
                {
                    "id": failed.to_string(),
                    "status": "failed",
                    "number": null,
                    "seller": null,
                    "total": null,
                    "currency": null,
                    "received_at": "2026-11-01T08:00:01Z",
                    "problem": {"state": "Validate", "code": "BR-CO-15", "reason": "the total is off"},
                },
                {
                    "id": stored.to_string(),
                    "status": "stored",
                    "number": "R-0",
                    "seller": "ACME GmbH",
                    "total": "1428.00",
                    "currency": "EUR",
                    "received_at": "2026-11-01T08:00:00Z",
                    "problem": null,
                },
            ],
            "next": null,
        })
    );
}

#[tokio::test]
async fn a_status_filter_lists_only_that_status_and_its_tokens_only_for_it_and_its_owner() {
    let app = App::new();
    let mut rejected = Vec::new();
    for _ in 0..5 {
        app.seed(ALICE, InvoiceStatus::Stored).await;
        rejected.push(app.seed(ALICE, InvoiceStatus::Rejected).await.to_string());
    }
    rejected.reverse();
    assert_eq!(app.walk(ALICE, Some("rejected"), "2").await, rejected);

    let (_, page) = app.get(ALICE, &[("status", "rejected"), ("limit", "2")]).await;
    let next = page["next"].as_str().unwrap();
    for (sub, params) in [
        (ALICE, vec![("next", next)]),
        (ALICE, vec![("status", "stored"), ("next", next)]),
        (BOB, vec![("status", "rejected"), ("next", next)]),
        (ALICE, vec![("next", "forged.token")]),
        (ALICE, vec![("limit", "0")]),
        (ALICE, vec![("limit", "ten")]),
    ] {
        let (status, body) = app.get(sub, &params).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{params:?}: {body}");
    }
    let (status, body) = app.get(ALICE, &[("status", "Stored")]).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation_failed")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("stored, rejected or failed"), "{body}");
}

#[tokio::test]
async fn a_caller_sees_only_their_own_invoices() {
    let app = App::new();
    app.seed(ALICE, InvoiceStatus::Stored).await;
    let bobs = app.seed(BOB, InvoiceStatus::Stored).await;
    assert_eq!(app.walk(BOB, None, "25").await, [bobs.to_string()]);
    let (status, page) = app.get("c0ffee00-0000-4000-8000-000000000000", &[]).await;
    assert_eq!((status, page), (200, json!({"invoices": [], "next": null})));
}

#[tokio::test]
async fn a_store_outage_is_a_500_that_names_no_internal_detail() {
    let app = App::new();
    let event: HttpEvent = serde_json::from_value(sample("first-page")).unwrap();
    let (status, body) = response(handle(&Down, &app.key, event).await);
    assert_eq!(status, 500);
    assert!(!body.to_string().contains("10.0.0.7"), "{body}");
}
