//! The handler against an in-memory bucket and the real parser, on PDFs of the `invoice-pdf` crate's corpus: an
//! e-invoice, a text-layer invoice, and files that are no invoice (not a PDF, a letter, a flate bomb).

use super::*;
use domain::ServiceError;
use domain::object::{ETag, Object, ObjectKey};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

const BUCKET: &str = "local-uploads-123456789012";
const ETAG: &str = "9e107d9d372bb6826bd81d3542a419d6";

/// How the bucket answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S3 {
    Up,
    Down,
    Denied,
}

/// Objects by key in [`BUCKET`].
struct Bucket {
    s3: S3,
    objects: Mutex<HashMap<String, Object>>,
}

impl ObjectGet for Bucket {
    async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<Object>, ServiceError> {
        match self.s3 {
            S3::Down => return Err(ServiceError::Unavailable("SlowDown: reduce your request rate".into())),
            S3::Denied => return Err(ServiceError::AccessDenied("AccessDenied".into())),
            S3::Up if bucket.as_str() != BUCKET => return Err(ServiceError::NotFound("NoSuchBucket".into())),
            S3::Up => {}
        }
        Ok(self.objects.lock().unwrap().get(key.as_str()).cloned())
    }
}

fn reader(s3: S3) -> Reader<Bucket, PdfParser> {
    Reader {
        objects: Bucket { s3, objects: Mutex::new(HashMap::new()) },
        parser: PdfParser::default(),
        bucket: BucketName::parse(BUCKET).unwrap(),
    }
}

impl Reader<Bucket, PdfParser> {
    /// `bytes` uploaded at the samples' key, under `etag`.
    fn upload(&self, bytes: Vec<u8>, etag: &str) {
        let object =
            Object { bytes, content_type: None, metadata: Default::default(), etag: ETag::new(format!("\"{etag}\"")) };
        self.objects.objects.lock().unwrap().insert(key(), object);
    }
}

fn key() -> String {
    sample("uploaded-pdf")["object"]["key"].as_str().unwrap().to_owned()
}

/// A PDF of the parser's corpus.
fn corpus(name: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/invoice-pdf/tests/corpus/{name}.pdf", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `events/parse-invoice/<case>.json`.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/parse-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `(errorType, errorMessage)` of a failed parse of the sample upload.
async fn failure(reader: &Reader<Bucket, PdfParser>, event: Value) -> (&'static str, String) {
    handle(reader, event).await.unwrap_err().into_parts()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_answer_with_and_without_the_pdf_uploaded() {
    let reader = reader(S3::Up);
    // A fresh stack: nothing at the key.
    let (error_type, message) = failure(&reader, sample("uploaded-pdf")).await;
    assert_eq!(error_type, "InvalidDocument");
    assert!(message.starts_with("missing: "), "{message}");
    for case in ["other-bucket", "not-a-step-input"] {
        assert_eq!(failure(&reader, sample(case)).await.0, "InvalidInput", "{case}");
    }
    reader.upload(corpus("facturx-en16931"), ETAG);
    let invoice = handle(&reader, sample("uploaded-pdf")).await.unwrap();
    assert_eq!(invoice.number, "FX-EN-2026-004");
}

#[tokio::test]
async fn an_e_invoice_and_a_text_layer_invoice_are_read_and_their_json_is_the_next_states_input() {
    for (pdf, number, source) in
        [("facturx-en16931", "FX-EN-2026-004", "facturx"), ("text-en-classic", "INV-2026-0042", "text")]
    {
        let reader = reader(S3::Up);
        reader.upload(corpus(pdf), ETAG);
        let invoice = handle(&reader, sample("uploaded-pdf")).await.unwrap();
        let answer = serde_json::to_value(&invoice).unwrap();
        assert_eq!((answer["number"].as_str(), answer["source"].as_str()), (Some(number), Some(source)), "{pdf}");
        assert!(answer["total"].is_string(), "amounts stay exact decimal strings: {answer}");
        // What the state machine makes of it: the answer at `$.invoice` of the Validate state's input.
        let mut next = sample("uploaded-pdf");
        next["invoice"] = answer;
        assert_eq!(StepInput::parse(next).unwrap().invoice, Some(invoice), "{pdf}");
    }
}

#[tokio::test]
async fn a_file_that_is_no_invoice_is_an_invalid_document_with_the_parsers_code_and_reason() {
    for (pdf, code, says) in [
        ("not-a-pdf", "invalid_document", "not a PDF"),
        ("letter-not-an-invoice", "not_an_invoice", "invoice number"),
        ("hostile-flate-bomb", "invalid_document", "MiB"),
        ("encrypted-user-password", "invalid_document", "password"),
        ("facturx-broken-xml", "invalid_embedded_invoice", "cannot be read"),
    ] {
        let reader = reader(S3::Up);
        reader.upload(corpus(pdf), ETAG);
        let (error_type, message) = failure(&reader, sample("uploaded-pdf")).await;
        assert_eq!(error_type, "InvalidDocument", "{pdf}");
        assert!(message.starts_with(&format!("{code}: ")) && message.contains(says), "{pdf}: {message}");
    }
}

#[tokio::test]
async fn only_the_version_the_notification_named_is_read_and_only_up_to_twenty_mib() {
    let replaced = reader(S3::Up);
    replaced.upload(corpus("facturx-en16931"), "a-later-upload");
    let (error_type, message) = failure(&replaced, sample("uploaded-pdf")).await;
    assert_eq!((error_type, message.split(':').next()), ("InvalidDocument", Some("superseded")), "{message}");

    let huge = reader(S3::Up);
    let mut bytes = corpus("facturx-en16931");
    bytes.resize(20 * 1024 * 1024 + 1, b' ');
    huge.upload(bytes, ETAG);
    let (error_type, message) = failure(&huge, sample("uploaded-pdf")).await;
    assert_eq!((error_type, message.split(':').next()), ("InvalidDocument", Some("too_large")), "{message}");
}

#[tokio::test]
async fn s3_unavailable_is_retryable_and_a_denied_read_or_a_missing_bucket_is_misconfigured() {
    assert_eq!(failure(&reader(S3::Down), sample("uploaded-pdf")).await.0, "Retryable");
    assert_eq!(failure(&reader(S3::Denied), sample("uploaded-pdf")).await.0, "Misconfigured");
    let elsewhere = Reader { bucket: BucketName::parse("another-uploads-bucket").unwrap(), ..reader(S3::Up) };
    let mut event = sample("uploaded-pdf");
    event["object"]["bucket"] = json!("another-uploads-bucket");
    assert_eq!(failure(&elsewhere, event).await.0, "Misconfigured");
}

#[tokio::test]
async fn an_input_that_is_not_a_submission_is_invalid_input_never_a_panic() {
    let reader = reader(S3::Up);
    let mut bad_time = sample("uploaded-pdf");
    bad_time["received_at"] = json!("yesterday");
    let mut no_etag = sample("uploaded-pdf");
    no_etag["object"].as_object_mut().unwrap().remove("etag");
    let mut empty_key = sample("uploaded-pdf");
    empty_key["object"]["key"] = json!("");
    for bad in [json!(null), json!(42), bad_time, no_etag, empty_key] {
        assert_eq!(failure(&reader, bad.clone()).await.0, "InvalidInput", "{bad}");
    }
}

#[test]
fn the_parser_also_runs_outside_a_runtime() {
    let parsed = block_on(PdfParser::default().parse(corpus("text-en-classic")));
    assert_eq!(parsed.unwrap().number, "INV-2026-0042");
}

/// Polls `future` to completion on this thread, without a runtime (the parser must not need one).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
