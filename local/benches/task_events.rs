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

mod support;

use std::time::{Duration, Instant};

use support::{Percentiles, ReleaseStack};

fn main() {
    let changes: usize = std::env::var("CHANGES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let stack = ReleaseStack::start("task-events-bench", &[]);
    let (base, token) = (stack.base.clone(), stack.token("bench"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let latencies = runtime.block_on(async {
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
    drop(stack);

    let latencies = Percentiles::new(latencies);
    println!(
        "PUT /tasks/{{id}} -> activity entry readable, {} changes, one at a time ({} cores): {}",
        changes,
        support::cores(),
        latencies.summary()
    );
}
