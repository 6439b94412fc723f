//! From a photo's upload to the user's profile showing its renditions, through the whole local pipeline: the
//! presigned `PUT` lands in S3 → S3 notifies `resize-photo` (decode, three renditions, written back to S3) → S3
//! notifies `record-photo` for each rendition → the third completes the set and points the profile at it →
//! `GET /me` shows `photo.status = "ready"` for this upload.
//!
//! The release `local` binary serves the template over a fresh data directory (JSON logs drained). One client asks
//! `POST /me/photo` for an upload URL, PUTs a 12 MP EXIF-rotated phone JPEG to it, and polls `GET /me` every 2 ms
//! until the profile names this upload as ready; the time is taken from just before the `PUT`. Uploads are made one
//! after another, each settled before the next: the latency of one photo through an idle pipeline.
//!
//! The photo is the one `cargo bench -p photo` uses (4000 × 3000, 2.5 MiB, EXIF orientation 6), made by
//! `shared/photo/benches/compare_pillow.py generate` (python3 with Pillow and numpy) on first use.
//!
//! Run: `cargo bench -p local --bench photo_pipeline`. `UPLOADS` (default 40).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Percentiles, ReleaseStack};

fn main() {
    let uploads: usize = std::env::var("UPLOADS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let photo = std::env::temp_dir().join("photo-bench/photo-12mp-orientation-6.jpg");
    if !photo.exists() {
        std::fs::create_dir_all(photo.parent().unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/photo/benches/compare_pillow.py");
        let made = Command::new("python3").arg(script).arg("generate").arg(&photo).status().expect("python3 runs");
        assert!(made.success(), "generating the photo needs python3 with Pillow and numpy");
    }
    let bytes = std::fs::read(&photo).unwrap();
    let stack = ReleaseStack::start("photo-pipeline-bench", &[]);
    let (base, token) = (stack.base.clone(), stack.token("bench"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let latencies = runtime.block_on(async {
        let client = reqwest::Client::new();
        let me = || async {
            let r = client.get(format!("{base}/me")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        };
        me().await; // the profile exists before the first upload
        let mut latencies = Vec::with_capacity(uploads);
        for n in 0..uploads {
            let ticket: Value = client
                .post(format!("{base}/me/photo"))
                .bearer_auth(&token)
                .json(&json!({"content_type": "image/jpeg", "size": bytes.len()}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let upload_id = ticket["upload_id"].as_str().expect("an upload id").to_owned();
            let mut put = client.put(ticket["upload_url"].as_str().unwrap()).body(bytes.clone());
            for (name, value) in ticket["headers"].as_object().unwrap() {
                if name != "content-length" {
                    put = put.header(name, value.as_str().unwrap());
                }
            }
            let started = Instant::now();
            let r = put.send().await.unwrap();
            assert!(r.status().is_success(), "upload {n}: {}", r.status());
            loop {
                let photo = me().await["photo"].clone();
                if photo["upload_id"] == upload_id.as_str() && photo["status"] != "processing" {
                    assert_eq!(photo["status"], "ready", "upload {n}: {photo}");
                    assert_eq!(photo["large"]["height"], 1600, "portrait, upright: {photo}");
                    latencies.push(started.elapsed());
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(20), "upload {n} never reached the profile");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        latencies
    });
    drop(stack);

    println!(
        "PUT of a 12 MP photo ({:.1} MiB) -> GET /me shows its three renditions, {} uploads, one at a time ({} cores): {}",
        bytes.len() as f64 / (1024.0 * 1024.0),
        uploads,
        support::cores(),
        Percentiles::new(latencies).summary()
    );
}
