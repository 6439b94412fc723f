//! S3 throughput on loopback, with the Rust SDK against the service alone: PUT and GET of 1 MiB and 64 KiB objects
//! by a few concurrent clients, the peak memory a 1 GiB multipart upload costs the process, and the latency from a
//! completed PUT to the notification reaching the invoker. Run with `cargo bench -p local-s3`.

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    primitives::ByteStream,
    types::{CompletedMultipartUpload, CompletedPart},
};
use axum::extract::{ConnectInfo, Request};
use bytes::Bytes;
use local_core::{
    BoxFuture,
    endpoint::{CallContext, Service},
    invoke::{EventInvoker, FunctionError},
};
use local_s3::S3;
use local_template::{NoSecrets, Template};
use serde_json::Value;
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const TEMPLATE: &str = r#"
Resources:
  Bench:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: bench
  OnPut:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Created:
          Type: S3
          Properties:
            Bucket: !Ref Bench
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: notify/}]}}
"#;

/// Records when each event arrived, by key.
#[derive(Default)]
struct Clock(Mutex<Vec<(String, Instant)>>);

impl EventInvoker for Clock {
    fn invoke_async<'a>(&'a self, _: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>> {
        let key = event["Records"][0]["s3"]["object"]["key"].as_str().unwrap_or_default().to_owned();
        self.0.lock().unwrap().push((key, Instant::now()));
        Box::pin(async { Ok(String::new()) })
    }
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn rate(
    label: &str,
    clients: &[Client],
    seconds: f64,
    op: impl Fn(Client, usize) -> BoxFuture<'static, ()> + Sync,
) {
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
    println!(
        "{label:<28} {:>8.0} ops/s ({total} in {:.1}s, {} clients)",
        total as f64 / started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64(),
        clients.len()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let template = Template::parse(TEMPLATE, Arc::new(NoSecrets)).unwrap();
    let clock = Arc::new(Clock::default());
    let s3 = S3::open(dir.path(), &template, Default::default(), Default::default(), clock.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = s3.clone();
    let app = axum::Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request| {
        let s3 = service.clone();
        async move { s3.serve(req, CallContext { peer, request_id: ulid::Ulid::generate().to_string() }).await }
    });
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .force_path_style(true)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .build();
    let clients: Vec<Client> = (0..4).map(|_| Client::from_conf(config.clone())).collect();
    let c = clients[0].clone();

    // 1 GiB multipart: the peak RSS it adds (the part bodies are one shared buffer, so the client holds no copies).
    let part = Bytes::from(vec![7u8; 8 * 1024 * 1024]);
    // Resets VmHWM to the current RSS, so the peak measured is this upload's alone.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let upload = c.create_multipart_upload().bucket("bench").key("gib").send().await.unwrap();
    let id = upload.upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    for chunk in (1..=128).collect::<Vec<i32>>().chunks(4) {
        let sent = futures::future::join_all(chunk.iter().map(|&n| {
            let c = clients[n as usize % 4].clone();
            let (id, body) = (id.clone(), part.clone());
            async move {
                let out = c.upload_part().bucket("bench").key("gib").upload_id(id).part_number(n);
                let out = out.body(ByteStream::from(body)).send().await.unwrap();
                CompletedPart::builder().part_number(n).e_tag(out.e_tag().unwrap()).build()
            }
        }))
        .await;
        parts.extend(sent);
    }
    c.complete_multipart_upload()
        .bucket("bench")
        .key("gib")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    let peak = status_kib("VmHWM:");
    println!(
        "1 GiB multipart upload       {:>8.1} s, peak RSS growth {} MiB (target <= 64)",
        started.elapsed().as_secs_f64(),
        peak.saturating_sub(before) / 1024
    );
    c.delete_object().bucket("bench").key("gib").send().await.unwrap();

    for (label, size, seconds) in [("1 MiB", 1024 * 1024, 5.0), ("64 KiB", 64 * 1024, 5.0)] {
        let body = Bytes::from(vec![1u8; size]);
        let b = body.clone();
        rate(&format!("PUT {label}"), &clients, seconds, move |c, n| {
            let b = b.clone();
            Box::pin(async move {
                c.put_object()
                    .bucket("bench")
                    .key(format!("{size}/{}", n % 200))
                    .body(ByteStream::from(b))
                    .send()
                    .await
                    .unwrap();
            })
        })
        .await;
        rate(&format!("GET {label}"), &clients, seconds, move |c, n| {
            Box::pin(async move {
                let got = c.get_object().bucket("bench").key(format!("{size}/{}", n % 100)).send().await.unwrap();
                got.body.collect().await.unwrap();
            })
        })
        .await;
    }

    // PUT → invoker latency, one PUT at a time.
    let mut latencies = Vec::new();
    for i in 0..300 {
        let key = format!("notify/{i}");
        c.put_object().bucket("bench").key(&key).body(ByteStream::from_static(b"x")).send().await.unwrap();
        let done = Instant::now();
        let arrived = loop {
            if let Some((_, at)) = clock.0.lock().unwrap().iter().find(|(k, _)| *k == key) {
                break *at;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        latencies.push(arrived.saturating_duration_since(done));
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!("PUT -> invoker latency       p50 {:.2} ms, p99 {:.2} ms (target p99 <= 20)", pct(0.5), pct(0.99));
}
