//! The emulated AWS services through the whole stack's one endpoint (front door, routing, the services as
//! `local up` wires them), with the real Rust SDK as the client, in a release build:
//! - S3 PUT and GET of 1 MiB and 64 KiB objects, 4 concurrent clients (targets ≥ 300/s and ≥ 1,500/s);
//! - a 1 GiB multipart upload (128 × 8 MiB parts): the peak RSS it adds to the process (target ≤ 64 MiB);
//! - from a completed PUT to the notified function's handler starting, through S3's notification outbox and
//!   Lambda's durable asynchronous queue (target p99 ≤ 20 ms);
//! - SQS SendMessage and ReceiveMessage+DeleteMessage rates.
//!
//! Run: `cargo bench -p local --bench aws_services`. `BENCH_SECONDS` sets each rate's duration (default 5).

use aws_sdk_s3::{
    config::{BehaviorVersion, Credentials, Region},
    primitives::ByteStream,
    types::{CompletedMultipartUpload, CompletedPart},
};
use local::{
    Stack, StackConfig,
    local_core::BoxFuture,
    local_lambda::{FunctionError, Handler},
};
use serde_json::Value;
use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Records when each event's handler started, by object key.
#[derive(Default)]
struct Started(Mutex<Vec<(String, Instant)>>);

impl Handler for Started {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let at = Instant::now();
        let key = event["Records"][0]["s3"]["object"]["key"].as_str().unwrap_or_default().to_owned();
        self.0.lock().unwrap().push((key, at));
        Box::pin(async { Ok(Value::Null) })
    }
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `op` from every client until `seconds` pass; prints and returns the rate.
async fn rate<C: Clone>(
    label: &str,
    clients: &[C],
    seconds: f64,
    op: impl Fn(C, usize) -> BoxFuture<'static, ()>,
) -> f64 {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let op = &op;
    let counts = futures::future::join_all(clients.iter().enumerate().map(|(w, c)| async move {
        let mut n = 0;
        while Instant::now() < deadline {
            op(c.clone(), w * 1_000_000 + n).await;
            n += 1;
        }
        n
    }))
    .await;
    let total: usize = counts.iter().sum();
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    println!(
        "{label:<34} {per_second:>8.0} ops/s  ({total} in {:.1} s, {} clients)",
        started.elapsed().as_secs_f64(),
        clients.len()
    );
    per_second
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let seconds: f64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let dir = tempfile::tempdir().unwrap();
    let started = Arc::new(Started::default());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut config = StackConfig::new(root.join("tests/templates/async.yaml"), dir.path());
    config.extra_handlers.0.insert("test-recorder".into(), started.clone());
    config.extra_handlers.0.insert("test-always-fails".into(), started.clone());
    let stack = Stack::load(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(local::server::run(listener, stack.clone(), std::future::pending()));

    let creds = Credentials::new("test", "test", None, None, "bench");
    let s3_config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&base)
        .force_path_style(true)
        .region(Region::new("us-east-1"))
        .credentials_provider(creds.clone())
        .build();
    let s3: Vec<aws_sdk_s3::Client> = (0..4).map(|_| aws_sdk_s3::Client::from_conf(s3_config.clone())).collect();
    let bucket = "test-uploads";
    println!(
        "\nthrough the stack's one endpoint, release build, {} cores shared by client and stack",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );

    // 1 GiB multipart: the part bodies are one shared buffer, so the client holds no copies; VmHWM is reset first
    // so the peak measured is this upload's alone.
    let part = bytes::Bytes::from(vec![7u8; 8 * 1024 * 1024]);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS:");
    let t = Instant::now();
    let c = s3[0].clone();
    let id =
        c.create_multipart_upload().bucket(bucket).key("gib").send().await.unwrap().upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    for chunk in (1..=128).collect::<Vec<i32>>().chunks(4) {
        parts.extend(
            futures::future::join_all(chunk.iter().map(|&n| {
                let (c, id, body) = (s3[n as usize % 4].clone(), id.clone(), part.clone());
                async move {
                    let out = c.upload_part().bucket(bucket).key("gib").upload_id(id).part_number(n);
                    let out = out.body(ByteStream::from(body)).send().await.unwrap();
                    CompletedPart::builder().part_number(n).e_tag(out.e_tag().unwrap()).build()
                }
            }))
            .await,
        );
    }
    c.complete_multipart_upload()
        .bucket(bucket)
        .key("gib")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    println!(
        "{:<34} {:>8.1} s, peak RSS growth {} MiB (target <= 64)",
        "S3 1 GiB multipart upload",
        t.elapsed().as_secs_f64(),
        status_kib("VmHWM:").saturating_sub(before) / 1024
    );
    c.delete_object().bucket(bucket).key("gib").send().await.unwrap();

    for (label, size) in [("1 MiB", 1024 * 1024), ("64 KiB", 64 * 1024)] {
        let body = bytes::Bytes::from(vec![1u8; size]);
        rate(&format!("S3 PUT {label}"), &s3, seconds, |c, n| {
            let b = body.clone();
            Box::pin(async move {
                c.put_object()
                    .bucket(bucket)
                    .key(format!("{size}/{}", n % 200))
                    .body(ByteStream::from(b))
                    .send()
                    .await
                    .unwrap();
            })
        })
        .await;
        rate(&format!("S3 GET {label}"), &s3, seconds, |c, n| {
            Box::pin(async move {
                let got = c.get_object().bucket(bucket).key(format!("{size}/{}", n % 100)).send().await.unwrap();
                got.body.collect().await.unwrap();
            })
        })
        .await;
    }

    // A completed PUT → the notified function's handler starting, one PUT at a time.
    let mut latencies = Vec::new();
    for i in 0..300 {
        let key = format!("uploads/{i}.jpg");
        c.put_object().bucket(bucket).key(&key).body(ByteStream::from_static(b"x")).send().await.unwrap();
        let done = Instant::now();
        let handled = loop {
            if let Some((_, at)) = started.0.lock().unwrap().iter().find(|(k, _)| *k == key) {
                break *at;
            }
            tokio::time::sleep(Duration::from_micros(100)).await;
        };
        latencies.push(handled.saturating_duration_since(done));
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "{:<34} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 20)",
        "PUT done -> handler started",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );

    let sqs_config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&base)
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .build();
    let sqs: Vec<aws_sdk_sqs::Client> = (0..4).map(|_| aws_sdk_sqs::Client::from_conf(sqs_config.clone())).collect();
    let url = sqs[0].get_queue_url().queue_name("failures").send().await.unwrap().queue_url().unwrap().to_owned();
    let u = url.clone();
    rate("SQS SendMessage (1 KiB)", &sqs, seconds, move |c, _| {
        let u = u.clone();
        Box::pin(async move {
            c.send_message().queue_url(u).message_body("x".repeat(1024)).send().await.unwrap();
        })
    })
    .await;
    rate("SQS Receive(10) + DeleteBatch", &sqs, seconds, move |c, _| {
        let u = url.clone();
        Box::pin(async move {
            let got = c.receive_message().queue_url(&u).max_number_of_messages(10).send().await.unwrap();
            let entries: Vec<_> = got
                .messages()
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap())
                        .build()
                        .unwrap()
                })
                .collect();
            if !entries.is_empty() {
                c.delete_message_batch().queue_url(&u).set_entries(Some(entries)).send().await.unwrap();
            }
        })
    })
    .await;
}
