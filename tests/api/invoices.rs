//! The invoice pipeline end to end on the local stack: a PDF put into the uploads bucket under `invoices/<user>/`
//! (by the AWS CLI, the Rust SDK, or the presigned PUT of `POST /invoices/upload`) → S3 notifies `start-invoice` →
//! the state machine of `statemachines/invoice.asl.json` runs parse → validate → store → email → `GET /invoices`
//! and `GET /invoices/{id}` show the result, and the outbox holds the mail. Then the failure paths: a damaged PDF,
//! a second copy of an invoice, a store that fails once, and the same object notified twice.

use local::StackConfig;
use local::local_lambda::{FunctionError, Handler};
use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use system_tests::{TestApp, repo_root, spawn_stack};

const SETTLE: Duration = Duration::from_secs(60);

async fn spawn_app_with(configure: impl FnOnce(&mut StackConfig)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StackConfig::new(repo_root().join("template.yaml"), dir.path());
    configure(&mut config);
    spawn_stack(config, dir).await
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("shared/invoice-pdf/tests/corpus").join(name)).unwrap()
}

fn bucket(app: &TestApp) -> String {
    app.stack.template().physical_name("UploadsBucket").unwrap()
}

/// `ada`'s profile (and with it her address, ada@example.com, from the token).
async fn ada(app: &TestApp) -> String {
    let r = app.request(Method::GET, "/me", "ada").send().await.unwrap();
    assert_eq!(r.status(), 200);
    local::auth::sub_for("ada")
}

/// PutObject with the Rust SDK, as any S3 client would drop an invoice into the bucket.
async fn put(app: &TestApp, key: &str, pdf: Vec<u8>) {
    crate::sdk_s3::client(app, "test")
        .put_object()
        .bucket(bucket(app))
        .key(key)
        .content_type("application/pdf")
        .body(pdf.into())
        .send()
        .await
        .expect("PutObject");
}

async fn list(app: &TestApp, query: &str) -> Value {
    let r = app.request(Method::GET, &format!("/invoices{query}"), "ada").send().await.unwrap();
    assert_eq!(r.status(), 200, "GET /invoices{query}");
    r.json().await.unwrap()
}

async fn get(app: &TestApp, id: &str) -> Value {
    let r = app.request(Method::GET, &format!("/invoices/{id}"), "ada").send().await.unwrap();
    assert_eq!(r.status(), 200, "GET /invoices/{id}");
    r.json().await.unwrap()
}

/// The only invoice ada has, in full.
async fn only_invoice(app: &TestApp) -> Value {
    let page = list(app, "").await;
    let invoices = page["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{page}");
    get(app, invoices[0]["id"].as_str().unwrap()).await
}

/// The outbox's mails to `to`, with their raw MIME text.
fn mails_to(app: &TestApp, to: &str) -> Vec<(String, String)> {
    let outbox = app.stack.ses().outbox();
    let mut out = Vec::new();
    for envelope in outbox.list().unwrap() {
        if envelope.to.iter().any(|t| t == to) {
            let raw =
                std::fs::read(app.data_dir.path().join("ses/outbox").join(format!("{}.eml", envelope.id.as_str())))
                    .unwrap_or_default();
            out.push((envelope.subject.clone(), String::from_utf8_lossy(&raw).into_owned()));
        }
    }
    out
}

fn execution_status(app: &TestApp, arn: &str) -> (String, Value) {
    let record = app.stack.executions().describe(arn).unwrap();
    let record = serde_json::to_value(&record).unwrap();
    (record["status"].as_str().unwrap_or_default().to_owned(), record)
}

/// The S3 notification of `key` as S3 delivers it to `start-invoice` (`events/start-invoice/invoice-upload.json`).
fn notification(bucket: &str, key: &str, etag: &str) -> Value {
    let path = repo_root().join("events/start-invoice/invoice-upload.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    event["Records"][0]["s3"]["object"]["key"] = json!(key);
    event["Records"][0]["s3"]["object"]["eTag"] = json!(etag);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factur_x_invoice_copied_with_the_aws_cli_is_stored_and_mailed_to_the_buyer_with_the_pdf_once() {
    let app = spawn_app_with(|_| {}).await;
    let owner = ada(&app).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("march.pdf");
    std::fs::write(&file, corpus("facturx-en16931.pdf")).unwrap();
    let out = Command::new("aws")
        .arg("--endpoint-url")
        .arg(&app.base)
        .args(["s3", "cp"])
        .arg(&file)
        .arg(format!("s3://{}/invoices/{owner}/", bucket(&app)))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the AWS CLI (`pip install awscli`; ./run-tests installs it)");
    assert!(out.status.success(), "aws s3 cp: {}", String::from_utf8_lossy(&out.stderr));
    assert!(app.stack.settle(SETTLE).await, "the pipeline did not come to rest");

    let invoice = only_invoice(&app).await;
    assert_eq!(invoice["status"], "stored", "{invoice}");
    assert_eq!(invoice["invoice"]["number"], "FX-EN-2026-004");
    assert_eq!(invoice["invoice"]["total"], "867.16", "amounts are exact decimal strings");
    assert_eq!(invoice["invoice"]["source"], "facturx");
    assert!(invoice["problem"].is_null(), "{invoice}");
    let arn = invoice["execution_arn"].as_str().expect("the execution that stored it").to_owned();
    assert_eq!(execution_status(&app, &arn).0, "SUCCEEDED");

    let mails = mails_to(&app, "einkauf@roesterei-nord.de");
    assert_eq!(mails.len(), 1, "one mail to the buyer: {mails:?}");
    let (subject, mime) = &mails[0];
    assert!(subject.contains("FX-EN-2026-004"), "{subject}");
    assert!(mime.contains("application/pdf") && mime.contains("march.pdf"), "the PDF is attached");

    // S3 delivers the notification again: the execution's name is the object's, so nothing new runs.
    let key = invoice["key"].as_str().unwrap().to_owned();
    let head = crate::sdk_s3::client(&app, "test").head_object().bucket(bucket(&app)).key(&key).send().await;
    let etag = head.expect("HeadObject").e_tag().unwrap().to_owned();
    let again = app.stack.invoke("StartInvoiceFunction", "again", notification(&bucket(&app), &key, &etag)).await;
    assert!(again.is_ok(), "{again:?}");
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(list(&app, "").await["invoices"].as_array().unwrap().len(), 1, "still one invoice");
    assert_eq!(mails_to(&app, "einkauf@roesterei-nord.de").len(), 1, "still one mail");
    let machine = arn.replace(":execution:", ":stateMachine:");
    let machine = machine.rsplit_once(':').unwrap().0;
    let executions = app.stack.executions().list(machine, None, 100, None).unwrap();
    assert_eq!(executions.items.len(), 1, "one execution for one object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_pdf_fails_at_parse_with_its_reason_and_the_submitter_is_told() {
    let app = spawn_app_with(|_| {}).await;
    let owner = ada(&app).await;
    put(&app, &format!("invoices/{owner}/broken.pdf"), corpus("damaged-truncated.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);

    let invoice = only_invoice(&app).await;
    assert_eq!(invoice["status"], "failed", "{invoice}");
    assert_eq!(invoice["problem"]["state"], "Parse", "{invoice}");
    assert_eq!(invoice["problem"]["code"], "InvalidDocument");
    assert!(invoice["problem"]["reason"].as_str().unwrap().contains("truncated"), "{invoice}");
    let (status, record) = execution_status(&app, invoice["execution_arn"].as_str().unwrap());
    assert_eq!(status, "FAILED", "{record}");
    assert_eq!(record["error"], "InvoiceFailed", "{record}");

    let mails = mails_to(&app, "ada@example.com");
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].1.contains("truncated") && mails[0].1.contains("Parse"), "{}", mails[0].1);
    assert_eq!(list(&app, "?status=failed").await["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(list(&app, "?status=stored").await["invoices"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_copy_of_an_invoice_is_rejected_at_validate_naming_the_original() {
    let app = spawn_app_with(|_| {}).await;
    let owner = ada(&app).await;
    put(&app, &format!("invoices/{owner}/first.pdf"), corpus("facturx-en16931.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);
    let original = only_invoice(&app).await;
    assert_eq!(original["status"], "stored", "{original}");

    put(&app, &format!("invoices/{owner}/copy.pdf"), corpus("facturx-en16931.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);
    let rejected = list(&app, "?status=rejected").await;
    let rejected = get(&app, rejected["invoices"][0]["id"].as_str().expect("a rejected invoice")).await;
    assert_eq!(rejected["problem"]["state"], "Validate", "{rejected}");
    assert_eq!(rejected["problem"]["code"], "duplicate");
    let reason = rejected["problem"]["reason"].as_str().unwrap();
    assert!(reason.contains(original["id"].as_str().unwrap()), "the reason names the original: {reason}");
    assert_eq!(rejected["invoice"]["number"], "FX-EN-2026-004", "the parsed fields are kept: {rejected}");
    let (status, record) = execution_status(&app, rejected["execution_arn"].as_str().unwrap());
    assert_eq!((status.as_str(), &record["error"]), ("FAILED", &json!("InvoiceRejected")), "{record}");
    assert_eq!(mails_to(&app, "ada@example.com").len(), 1, "the submitter is told");
    assert_eq!(mails_to(&app, "einkauf@roesterei-nord.de").len(), 1, "the buyer got the original only");
}

/// `store-invoice` failing its first call with `Retryable` (a throttled table), then the real handler.
struct FailsOnce {
    calls: AtomicUsize,
    real: Arc<dyn Handler>,
}

impl Handler for FailsOnce {
    fn call(&self, event: Value) -> local::local_core::BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(FunctionError::new("Retryable", "the invoice store failed: throttled (injected)"));
            }
            self.real.call(event).await
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_store_failure_is_retried_and_the_invoice_stored_once() {
    // The real handler, on the same data directory's store, built as the stack builds it.
    let dir = tempfile::tempdir().unwrap();
    let probe = local::Stack::load_idle(StackConfig::new(repo_root().join("template.yaml"), dir.path())).unwrap();
    let real = probe.lambda().function("StoreInvoiceFunction").unwrap().handler.clone();
    let handler = Arc::new(FailsOnce { calls: AtomicUsize::new(0), real });
    let mut config = StackConfig::new(repo_root().join("template.yaml"), dir.path());
    config.extra_handlers.0.insert("store-invoice".into(), handler.clone());
    let app = spawn_stack(config, dir).await;
    let owner = ada(&app).await;
    put(&app, &format!("invoices/{owner}/retry.pdf"), corpus("facturx-en16931.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);

    let invoice = only_invoice(&app).await;
    assert_eq!(invoice["status"], "stored", "{invoice}");
    assert_eq!(handler.calls.load(Ordering::SeqCst), 2, "one failure, one retry");
    let arn = invoice["execution_arn"].as_str().unwrap();
    assert_eq!(execution_status(&app, arn).0, "SUCCEEDED");
    assert_eq!(mails_to(&app, "einkauf@roesterei-nord.de").len(), 1);
    drop(probe);
}

#[tokio::test]
async fn an_invoice_upload_url_puts_a_pdf_that_the_pipeline_stores() {
    let app = spawn_app_with(|_| {}).await;
    ada(&app).await;
    let pdf = corpus("zugferd2-en16931.pdf");
    let r = app
        .request(Method::POST, "/invoices/upload", "ada")
        .json(&json!({"size": pdf.len(), "file_name": "supplier.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ticket: Value = r.json().await.unwrap();
    assert_eq!(ticket["method"], "PUT");
    let mut put = app.client.put(ticket["upload_url"].as_str().unwrap()).body(pdf);
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    let r = put.send().await.unwrap();
    assert!(r.status().is_success(), "the presigned PUT: {}", r.status());
    assert!(app.stack.settle(SETTLE).await);
    let invoice = only_invoice(&app).await;
    assert_eq!(invoice["key"], ticket["key"], "{invoice}");
    assert!(matches!(invoice["status"].as_str(), Some("stored" | "rejected")), "{invoice}");
    assert!(!invoice["invoice"].is_null(), "parsed: {invoice}");
}

#[tokio::test]
async fn invoices_are_the_owners_own() {
    let app = spawn_app_with(|_| {}).await;
    let owner = ada(&app).await;
    put(&app, &format!("invoices/{owner}/mine.pdf"), corpus("facturx-en16931.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);
    let id = only_invoice(&app).await["id"].as_str().unwrap().to_owned();
    let r = app.request(Method::GET, &format!("/invoices/{id}"), "bob").send().await.unwrap();
    assert_eq!(r.status(), 404, "another user's invoice does not exist for bob");
    let r = app.request(Method::GET, "/invoices", "bob").send().await.unwrap();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["invoices"], json!([]), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_whose_totals_do_not_add_up_is_rejected_at_validate_with_the_rule_and_the_numbers() {
    let app = spawn_app_with(|_| {}).await;
    let owner = ada(&app).await;
    let pdf = std::fs::read(repo_root().join("tests/fixtures/invoices/facturx-totals-off.pdf")).unwrap();
    put(&app, &format!("invoices/{owner}/off.pdf"), pdf).await;
    assert!(app.stack.settle(SETTLE).await);

    let invoice = only_invoice(&app).await;
    assert_eq!(invoice["status"], "rejected", "{invoice}");
    assert_eq!(invoice["problem"]["state"], "Validate", "{invoice}");
    assert_eq!(invoice["problem"]["code"], "BR-CO-15", "total = net + VAT: {invoice}");
    let reason = invoice["problem"]["reason"].as_str().unwrap();
    assert!(reason.contains("876.16") && reason.contains("867.16"), "the reason gives the numbers: {reason}");
    let (status, record) = execution_status(&app, invoice["execution_arn"].as_str().unwrap());
    assert_eq!((status.as_str(), &record["error"]), ("FAILED", &json!("InvoiceRejected")), "{record}");
    assert_eq!(record["cause"].as_str(), Some(reason), "the execution's cause is the reason");
    let mails = mails_to(&app, "ada@example.com");
    assert_eq!(mails.len(), 1, "the submitter is told");
    assert!(mails[0].1.contains("BR-CO-15"), "{}", mails[0].1);
    assert!(mails_to(&app, "einkauf@roesterei-nord.de").is_empty(), "nothing goes to the buyer");
}
