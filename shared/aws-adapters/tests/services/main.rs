//! The S3, SQS, SES and EventBridge adapters against `moto_server` over HTTP: each port's round trip, the errors it maps by
//! meaning, and, for presigned requests, a plain HTTP client doing what a browser would.
//!
//! One moto per test binary ([`MotoServer::shared`]); each test makes its own clients (its own tokio runtime) and
//! its own bucket, queue or sender, so tests run concurrently without seeing each other's data.

mod events;
mod mail;
mod messages;
mod objects;

use aws_adapters::testing::MotoServer;

/// The SDK configuration for the shared moto.
fn sdk_config() -> aws_config::SdkConfig {
    MotoServer::shared().sdk_config()
}

/// A fresh name part, so tests never share a bucket, queue or sender.
fn unique() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Moto's record of what it holds (`/moto-api/data.json`): every model instance by service and kind.
async fn moto_data() -> serde_json::Value {
    let url = format!("{}/moto-api/data.json", MotoServer::shared().endpoint());
    reqwest::get(&url).await.expect("moto answers").json().await.expect("moto's data is JSON")
}
