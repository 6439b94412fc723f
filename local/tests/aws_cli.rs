//! The emulated AWS services as a user drives them: the AWS CLI against `local up` with nothing but
//! `--endpoint-url` (and the `test`/`test` credentials `local up` prints), then the stack's own commands that read
//! what the services stored (`local outbox`, `local resources`). Skipped, with a note, where `aws` is not
//! installed; the SDK tests in `tests/` cover the same protocols either way.

mod common;

use common::{local, up};
use serde_json::Value;
use std::process::{Command, Output};

fn aws_installed() -> bool {
    let found = Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: `aws` is not on PATH; skipping the AWS CLI checks");
    }
    found
}

/// `aws <args> --endpoint-url http://<addr>` with the local stack's credentials.
fn aws(addr: &str, args: &[&str]) -> Output {
    Command::new("aws")
        .args(args)
        .args(["--endpoint-url", &format!("http://{addr}")])
        .envs([("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")])
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sesv2_send_email_lands_in_the_outbox_that_local_outbox_lists_and_shows() {
    if !aws_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = up(dir.path());
    let sent: Value = serde_json::from_str(&ok(aws(
        &addr,
        &[
            "sesv2",
            "send-email",
            "--from-email-address",
            "noreply@example.com",
            "--destination",
            "ToAddresses=carol@example.com",
            "--content",
            r#"{"Simple": {"Subject": {"Data": "Weekly report"}, "Body": {"Text": {"Data": "All tasks done."}}}}"#,
        ],
    )))
    .unwrap();
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    let rejected = aws(
        &addr,
        &[
            "sesv2",
            "send-email",
            "--from-email-address",
            "someone@else.test",
            "--destination",
            "ToAddresses=carol@example.com",
            "--content",
            r#"{"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "y"}}}}"#,
        ],
    );
    assert!(!rejected.status.success());
    assert!(String::from_utf8_lossy(&rejected.stderr).contains("MessageRejected"));
    child.kill().unwrap();
    child.wait().unwrap();

    let listed = ok(local().args(["outbox", "list", "--data-dir"]).arg(dir.path()).output().unwrap());
    let lines: Vec<Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{listed}");
    assert_eq!(lines[0]["id"], id.as_str());
    assert_eq!(lines[0]["from"], "noreply@example.com");
    assert_eq!(lines[0]["subject"], "Weekly report");
    assert!(lines[0]["date"].is_string() && lines[0]["to"].to_string().contains("carol@example.com"));
    let shown = ok(local().args(["outbox", "show", &id, "--data-dir"]).arg(dir.path()).output().unwrap());
    assert!(shown.contains("Subject: Weekly report") && shown.contains("All tasks done."), "{shown}");
    let hostile = local().args(["outbox", "show", "../../etc/passwd", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!hostile.status.success() && hostile.stdout.is_empty());
}

#[test]
fn local_resources_lists_every_template_resource_with_names_urls_and_arns() {
    let out = ok(local().args(["resources", "--port", "4566"]).output().unwrap());
    let v: Value = serde_json::from_str(&out).unwrap();
    let all = v["resources"].as_array().unwrap();
    let find = |id: &str| all.iter().find(|r| r["logicalId"] == id).unwrap_or_else(|| panic!("{id}: {out}"));
    assert_eq!(find("UploadsBucket")["type"], "AWS::S3::Bucket");
    assert!(find("DeadLetterQueue")["url"].as_str().unwrap().starts_with("http://127.0.0.1:4566/123456789012/"));
    assert_eq!(find("SenderIdentity")["arn"], "arn:aws:ses:us-east-1:123456789012:identity/noreply@example.com");
    assert_eq!(find("TasksTable")["arn"], "arn:aws:dynamodb:us-east-1:123456789012:table/TasksTable");
}

#[test]
fn sqs_send_and_receive_message_work_on_the_templates_queue_with_only_the_endpoint_url() {
    if !aws_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = up(dir.path());
    let resources: Value = serde_json::from_str(&ok(local().args(["resources"]).output().unwrap())).unwrap();
    let name = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["logicalId"] == "DeadLetterQueue")
        .and_then(|r| r["physicalId"].as_str())
        .unwrap()
        .to_owned();
    let url: Value = serde_json::from_str(&ok(aws(&addr, &["sqs", "get-queue-url", "--queue-name", &name]))).unwrap();
    let url = url["QueueUrl"].as_str().unwrap().to_owned();
    ok(aws(&addr, &["sqs", "send-message", "--queue-url", &url, "--message-body", "from the CLI"]));
    let received: Value = serde_json::from_str(&ok(aws(
        &addr,
        &["sqs", "receive-message", "--queue-url", &url, "--wait-time-seconds", "2", "--attribute-names", "All"],
    )))
    .unwrap();
    assert_eq!(received["Messages"][0]["Body"], "from the CLI");
    assert_eq!(received["Messages"][0]["Attributes"]["ApproximateReceiveCount"], "1");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A plain HTTP GET of `url` (`http://host:port/path?query`), as curl would make it: (status, body).
fn http_get(url: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

#[test]
fn s3_mb_cp_small_and_multipart_ls_and_presign_work_with_only_the_endpoint_url() {
    if !aws_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = up(dir.path());
    ok(aws(&addr, &["s3", "mb", "s3://cli-bucket"]));
    let small = dir.path().join("note.txt");
    std::fs::write(&small, "hello from the CLI").unwrap();
    // 20 MB: over the CLI's 8 MB threshold, so it uploads in parts.
    let big = dir.path().join("big.bin");
    let big_bytes: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &big_bytes).unwrap();
    ok(aws(&addr, &["s3", "cp", small.to_str().unwrap(), "s3://cli-bucket/docs/note.txt"]));
    ok(aws(&addr, &["s3", "cp", big.to_str().unwrap(), "s3://cli-bucket/big.bin"]));
    let listing = ok(aws(&addr, &["s3", "ls", "s3://cli-bucket/", "--recursive"]));
    assert!(listing.contains("docs/note.txt") && listing.contains("big.bin"), "{listing}");
    let head: Value =
        serde_json::from_str(&ok(aws(&addr, &["s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin"])))
            .unwrap();
    assert!(head["ETag"].as_str().unwrap().ends_with("-3\""), "a multipart ETag: {head}");
    let back = dir.path().join("back.bin");
    ok(aws(&addr, &["s3", "cp", "s3://cli-bucket/big.bin", back.to_str().unwrap()]));
    assert!(std::fs::read(&back).unwrap() == big_bytes, "the 20 MB object comes back byte for byte");

    let url = ok(aws(&addr, &["s3", "presign", "s3://cli-bucket/docs/note.txt", "--expires-in", "60"]));
    let (status, body) = http_get(url.trim());
    assert_eq!((status, body.as_slice()), (200, b"hello from the CLI".as_slice()));
    let tampered = url.trim().replace("docs/note.txt", "big.bin");
    assert_eq!(http_get(&tampered).0, 403, "a presigned URL is good for its own object only");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn events_put_events_test_event_pattern_and_list_rules_work_from_the_aws_cli() {
    if !aws_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = up(dir.path());
    let resources: Value =
        serde_json::from_str(&ok(local().args(["resources", "--data-dir"]).arg(dir.path()).output().unwrap()))
            .unwrap_or(Value::Null);
    let bus = resources["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["logicalId"] == "TaskEventBus"))
        .and_then(|r| r["physicalId"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("local resources lists TaskEventBus: {resources}"));

    let rules: Value =
        serde_json::from_str(&ok(aws(&addr, &["events", "list-rules", "--event-bus-name", &bus]))).unwrap();
    let names: Vec<_> = rules["Rules"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    for rule in ["RecordTaskActivityFunctionTaskEvents", "NotifyTaskDoneFunctionTaskDone"] {
        assert!(names.contains(&rule), "{rule} is on the task bus: {rules}");
    }

    let entries = serde_json::json!([{
        "EventBusName": bus, "Source": "task-platform.tasks", "DetailType": "TaskCreated", "Detail": "{\"note\": 1}"
    }, {
        "EventBusName": bus, "Source": "task-platform.tasks", "DetailType": "TaskCreated", "Detail": "not json"
    }])
    .to_string();
    let put: Value = serde_json::from_str(&ok(aws(&addr, &["events", "put-events", "--entries", &entries]))).unwrap();
    assert_eq!(put["FailedEntryCount"], 1, "{put}");
    assert!(put["Entries"][0]["EventId"].is_string());
    assert_eq!(put["Entries"][1]["ErrorCode"], "MalformedDetail");

    let event = r#"{"id": "1", "account": "123456789012", "source": "task-platform.tasks", "time": "2026-11-30T12:00:00Z", "region": "us-east-1", "detail-type": "TaskStatusChanged", "detail": {"n": 7}}"#;
    let tested: Value = serde_json::from_str(&ok(aws(
        &addr,
        &[
            "events",
            "test-event-pattern",
            "--event-pattern",
            r#"{"detail": {"n": [{"numeric": [">", 5]}]}}"#,
            "--event",
            event,
        ],
    )))
    .unwrap();
    assert_eq!(tested["Result"], true);
    let refused = aws(
        &addr,
        &[
            "events",
            "test-event-pattern",
            "--event-pattern",
            r#"{"detail": {"n": [{"numeric": [">", "5"]}]}}"#,
            "--event",
            event,
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("InvalidEventPatternException"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
