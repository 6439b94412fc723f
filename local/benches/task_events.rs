//! From a task write to its activity entry being readable, through the whole local event pipeline: `PUT
//! /tasks/{id}` commits the change and its stream record → the stream mapping invokes `publish-task-events` →
//! EventBridge matches the rules and queues the deliveries → Lambda's asynchronous invocation runs
//! `record-task-activity` → the entry is in the store → `GET /tasks/{id}/activity` shows it.
//!
//! The release `local` binary serves the template over a fresh data directory (JSON logs to /dev/null); one client
//! changes a task's title, then polls the activity route every millisecond until the new version is listed, and
//! times that from just before the `PUT`. Changes are made one after another (each one settled before the next),
//! so this is the latency of one change through an idle pipeline, not under load.
//!
//! Run: `cargo bench -p local --bench task_events`. `CHANGES` (default 300).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "--release", "-p", "local", "--bin", "local"])
            .status()
            .unwrap()
            .success()
    );
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let local = target.join("release/local");
    let changes: usize = std::env::var("CHANGES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let data = std::env::temp_dir().join(format!("task-events-bench-{}", std::process::id()));

    let mut server = Command::new(&local)
        .current_dir(&root)
        .args(["up", "--port", "0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "local exited before listening");
        if let Some(rest) = line.strip_prefix("local stack: ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let token = String::from_utf8(
        Command::new(&local)
            .current_dir(&root)
            .args(["token", "bench", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut latencies = runtime.block_on(async {
        let client = reqwest::Client::new();
        let created: serde_json::Value = client
            .post(format!("{base}/tasks"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"title": "v1"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let activity = format!("{base}/tasks/{id}/activity?limit=1");
        let mut latencies = Vec::with_capacity(changes);
        for n in 0..changes {
            let version = n as u64 + 2;
            let started = Instant::now();
            let r = client
                .put(format!("{base}/tasks/{id}"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"title": format!("v{version}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            loop {
                let page: serde_json::Value =
                    client.get(&activity).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
                if page["items"][0]["version"].as_u64() == Some(version) {
                    latencies.push(started.elapsed());
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(10), "change {version} never reached the log");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        latencies
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);

    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "PUT /tasks/{{id}} -> activity entry readable, {} changes, one at a time ({} cores): \
         p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        latencies.len(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
}
