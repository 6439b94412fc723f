//! The AWS CLI (v1 or v2) against the service, when `aws` is on PATH; skipped with a note otherwise.

use crate::helpers::spawn_app;
use std::process::Command;

#[tokio::test]
async fn aws_cli_sesv2_sends_email_into_the_outbox_and_lists_identities() {
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("note: `aws` is not on PATH; skipping the AWS CLI test");
        return;
    }
    let app = spawn_app().await;
    let output = aws(
        &app.url,
        &[
            "send-email",
            "--from-email-address",
            "noreply@example.com",
            "--destination",
            "ToAddresses=ann@example.org",
            "--content",
            r#"{"Simple":{"Subject":{"Data":"From the CLI — ünïcode"},"Body":{"Text":{"Data":"hello"}}}}"#,
        ],
    )
    .await;
    let id = output["MessageId"].as_str().unwrap();
    assert_eq!(app.ses.outbox().envelope(id).unwrap().subject, "From the CLI — ünïcode");

    let listed = aws(&app.url, &["list-email-identities"]).await;
    let names: Vec<_> =
        listed["EmailIdentities"].as_array().unwrap().iter().map(|i| i["IdentityName"].clone()).collect();
    assert_eq!(names, ["brand.test", "noreply@example.com"]);
}

/// `aws sesv2 <args>` against `url`; its JSON answer.
async fn aws(url: &str, args: &[&str]) -> serde_json::Value {
    let mut command = Command::new("aws");
    command.arg("sesv2").args(args).args(["--endpoint-url", url, "--output", "json"]);
    let output = tokio::task::spawn_blocking(move || {
        command
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            // The user's own profiles must not change what is tested.
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}
