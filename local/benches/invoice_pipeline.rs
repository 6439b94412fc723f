//! From an invoice's upload to it being stored and mailed, through the whole local pipeline: the presigned `PUT`
//! lands in S3 → S3 notifies `start-invoice` → StartExecution of `InvoiceStateMachine` → Parse (the embedded
//! Factur-X XML) → Validate → Store → Email (SES v2 raw MIME, the PDF attached) → the execution succeeds.
//!
//! The release `local` binary serves the template over a fresh data directory (JSON logs drained). For each upload
//! a new user (so no upload is a duplicate of the last) asks `POST /invoices/upload` for a URL and PUTs the corpus's
//! EN 16931 Factur-X invoice to it; the client then polls `GET /invoices?limit=1` and the outbox directory every
//! 2 ms until the invoice is `stored` and its mail is in the outbox. The time is taken from just before the `PUT`.
//! Uploads are made one after another, each finished before the next: the latency of one invoice through an idle
//! pipeline.
//!
//! Run: `cargo bench -p local --bench invoice_pipeline`. `UPLOADS` (default 100).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Percentiles, ReleaseStack};

fn main() {
    let uploads: usize = std::env::var("UPLOADS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let pdf = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/invoice-pdf/tests/corpus/facturx-en16931.pdf"),
    )
    .unwrap();
    let stack = ReleaseStack::start("invoice-pipeline-bench", &[]);
    let base = stack.base.clone();
    let tokens: Vec<String> = (0..uploads).map(|n| stack.token(&format!("bench-{n}"))).collect();
    let outbox = stack.data.join("ses/outbox");
    let mails = || std::fs::read_dir(&outbox).map(|d| d.filter_map(Result::ok).count()).unwrap_or(0);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let latencies = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut latencies = Vec::with_capacity(uploads);
        for (n, token) in tokens.iter().enumerate() {
            let ticket: Value = client
                .post(format!("{base}/invoices/upload"))
                .bearer_auth(token)
                .json(&json!({"size": pdf.len(), "file_name": "invoice.pdf"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut put = client.put(ticket["upload_url"].as_str().expect("an upload URL")).body(pdf.clone());
            for (name, value) in ticket["headers"].as_object().unwrap() {
                if name != "content-length" {
                    put = put.header(name, value.as_str().unwrap());
                }
            }
            let mails_before = mails();
            let started = Instant::now();
            let r = put.send().await.unwrap();
            assert!(r.status().is_success(), "upload {n}: {}", r.status());
            let mut stored = false;
            loop {
                if !stored {
                    let page: Value = client
                        .get(format!("{base}/invoices?limit=1"))
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let status = page["invoices"][0]["status"].as_str().map(str::to_owned);
                    assert!(matches!(status.as_deref(), None | Some("stored")), "upload {n}: {page}");
                    stored = status.is_some();
                }
                // The outbox holds an `.eml` and a `.json` per message.
                if stored && mails() > mails_before {
                    latencies.push(started.elapsed());
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(20), "upload {n} was never stored and mailed");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        latencies
    });
    drop(stack);

    println!(
        "PUT of a Factur-X invoice ({:.1} KiB) -> stored and mailed, {} uploads, one at a time ({} cores): {}",
        pdf.len() as f64 / 1024.0,
        uploads,
        support::cores(),
        Percentiles::new(latencies).summary()
    );
}
