//! The AWS CLI (v1, botocore's JSON protocol for SQS) against the service, when `aws` is installed.

use crate::spawn_app;
use serde_json::Value;

fn aws_on_path() -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("aws").is_file()))
}

async fn aws(endpoint: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new("aws")
        .args(["sqs"])
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .await
        .expect("aws runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_aws_cli_creates_a_queue_sends_and_receives_and_reads_errors() {
    if !aws_on_path() {
        eprintln!("skipped: `aws` is not on PATH");
        return;
    }
    let app = spawn_app().await;
    let (ok, out, err) = aws(&app.endpoint, &["create-queue", "--queue-name", "cli"]).await;
    assert!(ok, "{err}");
    let url = serde_json::from_str::<Value>(&out).unwrap()["QueueUrl"].as_str().unwrap().to_owned();

    let attributes = r#"{"kind": {"DataType": "String", "StringValue": "greeting"}}"#;
    let (ok, out, err) = aws(
        &app.endpoint,
        &[
            "send-message",
            "--queue-url",
            &url,
            "--message-body",
            "hello from the cli",
            "--message-attributes",
            attributes,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let sent: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sent["MD5OfMessageBody"], local_sqs::message::md5_hex(b"hello from the cli"));
    assert!(sent["MD5OfMessageAttributes"].is_string());

    let (ok, out, err) = aws(
        &app.endpoint,
        &["receive-message", "--queue-url", &url, "--attribute-names", "All", "--message-attribute-names", "All"],
    )
    .await;
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    let m = &got["Messages"][0];
    assert_eq!(m["Body"], "hello from the cli");
    assert_eq!(m["MessageId"], sent["MessageId"]);
    assert_eq!(m["MessageAttributes"]["kind"]["StringValue"], "greeting");
    assert_eq!(m["Attributes"]["ApproximateReceiveCount"], "1");
    assert_eq!(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);

    let (ok, _, err) = aws(&app.endpoint, &["get-queue-url", "--queue-name", "missing"]).await;
    assert!(!ok);
    assert!(err.contains("NonExistentQueue") || err.contains("QueueDoesNotExist"), "{err}");
}
