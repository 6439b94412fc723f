//! The cost page's measurements from a real local stack (in-process, on port 0): invoices, a photo and a task
//! go through the real functions, each invocation writes its EMF line, and `local::measure` reads them back into
//! GB-seconds, cold starts, business counts and state transitions, which the estimate turns into dollars.

mod common;

use common::{InProcess, corpus};
use local_console::cost::{self, Prices, Volume};
use serde_json::{Value, json};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(60);

struct App(InProcess);

impl std::ops::Deref for App {
    type Target = InProcess;
    fn deref(&self) -> &InProcess {
        &self.0
    }
}

async fn spawn() -> App {
    App(InProcess::spawn(|_| {}).await)
}

impl App {
    async fn call(&self, method: reqwest::Method, path: &str, user: &str, body: Option<Value>) -> Value {
        let mut request =
            reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(self.token(user));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    async fn put_invoice(&self, owner: &str, name: &str, corpus_file: &str) {
        self.put(&format!("invoices/{owner}/{name}"), corpus(corpus_file)).await;
    }

    /// A photo uploaded as a client does: an upload URL from `POST /me/photo`, then the bytes to it.
    async fn upload_photo(&self, user: &str) {
        let mut jpeg = Vec::new();
        let pixels: Vec<u8> = (0..64 * 48 * 3).map(|i| (i % 251) as u8).collect();
        jpeg_encoder::Encoder::new(&mut jpeg, 80).encode(&pixels, 64, 48, jpeg_encoder::ColorType::Rgb).unwrap();
        let upload = self
            .call(
                reqwest::Method::POST,
                "/me/photo",
                user,
                Some(json!({"content_type": "image/jpeg", "size": jpeg.len()})),
            )
            .await;
        let mut put = reqwest::Client::new().put(upload["upload_url"].as_str().unwrap());
        for (name, value) in upload["headers"].as_object().into_iter().flatten() {
            put = put.header(name.as_str(), value.as_str().unwrap_or_default());
        }
        let response = put.body(jpeg).send().await.unwrap();
        assert!(response.status().is_success(), "photo PUT: {}", response.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_through_the_stack_are_measured_in_gb_seconds_business_counts_and_transitions() {
    let app = spawn().await;
    app.call(reqwest::Method::GET, "/me", "ada", None).await;
    let owner = local::auth::sub_for("ada");
    app.call(reqwest::Method::POST, "/tasks", "ada", Some(json!({"title": "measure me"}))).await;
    app.put_invoice(&owner, "march.pdf", "facturx-en16931.pdf").await;
    assert!(app.stack.settle(SETTLE).await);
    app.put_invoice(&owner, "broken.pdf", "damaged-truncated.pdf").await;
    app.upload_photo("ada").await;
    assert!(app.stack.settle(SETTLE).await);

    let m = local::measure::measurements(&app.stack).expect("measured");
    let count = |name: &str| m.counts.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| *v);
    assert_eq!(count("InvoicesStored"), 1.0, "{m:#?}");
    assert_eq!(count("InvoicesFailed"), 1.0, "the truncated PDF: {m:#?}");
    assert_eq!(count("TasksCreated"), 1.0);
    assert_eq!(count("PhotosResized"), 1.0, "{m:#?}");
    assert!(count("InvoiceMailsSent") >= 1.0, "{m:#?}");

    let store = m.functions.iter().find(|f| f.function == "StoreInvoiceFunction").expect("StoreInvoiceFunction ran");
    assert_eq!(store.architecture, "arm64");
    assert_eq!(store.cold_starts, 1, "only its first invocation in this stack is cold");
    assert!(store.invocations >= 2, "Store, then RecordRefusal: {store:?}");
    assert!(store.gb_seconds > 0.0 && store.duration_p99_ms >= store.duration_p50_ms, "{store:?}");
    let resize = m.functions.iter().find(|f| f.function == "ResizePhotoFunction").expect("the photo was resized");
    assert_eq!(resize.memory_mb, 1024, "the template's MemorySize");
    assert!(m.functions.iter().all(|f| f.gb_seconds > 0.0 && f.invocations > 0));

    let (_, transitions, executions) =
        m.state_transitions.iter().find(|(name, _, _)| name == "InvoiceStateMachine").expect("the invoice machine");
    assert_eq!(*executions, 2);
    assert!(*transitions > 2 * 3, "every state entered counts: {transitions}");
    assert!(m.metric_series >= 5, "ColdStart and the counts, one dimension set: {}", m.metric_series);
    assert!(m.requests.iter().any(|(r, n)| r == "sesv2:SendEmail" && *n >= 1), "{:?}", m.requests);

    // A second read sees only what was appended since: nothing, so the same.
    let again = local::measure::measurements(&app.stack).unwrap();
    assert_eq!(
        again.functions.iter().map(|f| f.invocations).sum::<u64>(),
        m.functions.iter().map(|f| f.invocations).sum::<u64>()
    );

    let volume = Volume { invoices_per_month: 500, photos_per_month: 10_000, api_requests_per_month: 100_000 };
    let estimate = cost::estimate(&m, &volume, &Prices::default());
    assert!(estimate.total_usd.is_finite() && estimate.total_usd > 0.0);
    for line in &estimate.lines {
        eprintln!(
            "{:<15} {:<42} {:>14.3} {:<12} ${:<14.10} ${:>10.4}  {}",
            line.service, line.item, line.quantity, line.unit, line.unit_price, line.monthly_usd, line.basis
        );
    }
    eprintln!("total: ${:.4} a month", estimate.total_usd);
}
