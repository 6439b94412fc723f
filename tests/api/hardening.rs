//! What a hostile probe of the local stack broke, one test each: a signing key too short to protect tokens, headers
//! that are there but unreadable, tokens from the future and the `Bearer` scheme's spelling, a data directory
//! others could read, and the Step Functions API answering whatever name it was reached by.

use crate::async_invoke::Recorder;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local::{Stack, StackConfig, local_core::invoke::EventInvoker};
use reqwest::{Method, header::HeaderValue};
use serde_json::{Value, json};
use std::{path::Path, sync::Arc, time::Duration};
use system_tests::{TestApp, repo_root, sdk_config, spawn_app, spawn_stack};

#[tokio::test]
async fn a_stack_over_a_token_signing_key_shorter_than_32_bytes_refuses_to_start_naming_the_file() {
    for len in [0, 16] {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("keys").join("token-signing.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        std::fs::write(&key, vec![b'k'; len]).unwrap();
        let Err(e) = Stack::load(StackConfig::new(repo_root().join("template.yaml"), dir.path())) else {
            panic!("a stack started with a {len}-byte signing key, with which anyone can sign tokens");
        };
        let message = format!("{e}");
        assert!(message.contains(&key.display().to_string()) && message.contains("delete it"), "{message}");
    }
}

/// A PUT of `alice`'s task at `path` with the raw `If-Match` bytes given.
async fn put_if_match(app: &TestApp, path: &str, if_match: &[u8]) -> reqwest::Response {
    app.request(Method::PUT, path, "alice")
        .header("if-match", HeaderValue::from_bytes(if_match).unwrap())
        .json(&json!({"title": "overwritten"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_if_match_that_is_not_text_is_a_400_not_an_unconditional_write() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "a"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    assert_eq!(put_if_match(&app, &path, b"1").await.status(), 200, "the task is now at version 2");
    for if_match in [&b"\"1\xff\""[..], "\"1é\"".as_bytes()] {
        let r = put_if_match(&app, &path, if_match).await;
        let (status, body) = (r.status(), r.text().await.unwrap());
        assert_eq!(status, 400, "If-Match {if_match:?}: {body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "bad_request", "{body}");
        let del = app
            .request(Method::DELETE, &path, "alice")
            .header("if-match", HeaderValue::from_bytes(if_match).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 400, "DELETE with If-Match {if_match:?}");
    }
    let now: Value = app.request(Method::GET, &path, "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!((now["title"].as_str(), now["version"].as_u64()), (Some("overwritten"), Some(2)));
}

#[tokio::test]
async fn an_authorization_or_content_type_that_is_not_text_is_a_400_from_the_gateway() {
    let app = spawn_app().await;
    let token = app.token("alice");
    let unreadable_auth = HeaderValue::from_bytes(format!("Bearer {token}\u{e9}").as_bytes()).unwrap();
    let r = app.client.post(app.url("/tasks")).header("authorization", unreadable_auth).body("{\"title\":\"x\"}");
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "Bad Request");
    let r = app
        .request(Method::POST, "/tasks", "alice")
        .header("content-type", HeaderValue::from_bytes(b"application/json; charset=\xff").unwrap())
        .body("{\"title\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(app.list_all("alice", "").await.is_empty(), "no refused request stored anything");
}

/// A token signed with `app`'s key: the claims of one `local token` issues, with `changes` over them.
fn token_with(app: &TestApp, changes: Value) -> String {
    let issued = app.token("alice");
    let payload = issued.split('.').nth(1).unwrap();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let key = std::fs::read(app.data_dir.path().join("keys").join("token-signing.key")).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&key)).unwrap()
}

async fn status_with(app: &TestApp, authorization: &str) -> u16 {
    let r = app.client.get(app.url("/tasks")).header("authorization", authorization).send().await.unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn a_token_not_valid_before_or_issued_at_a_time_ten_minutes_ahead_is_a_401() {
    let app = spawn_app().await;
    let ahead = time::OffsetDateTime::now_utc().unix_timestamp() + 600;
    for changes in [json!({"nbf": ahead}), json!({"iat": ahead}), json!({"iat": ahead, "auth_time": ahead})] {
        assert_eq!(status_with(&app, &format!("Bearer {}", token_with(&app, changes.clone()))).await, 401, "{changes}");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let valid = token_with(&app, json!({"nbf": now - 5, "iat": now - 5}));
    assert_eq!(status_with(&app, &format!("Bearer {valid}")).await, 200);
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case_and_after_a_tab_as_well_as_a_bare_token() {
    let app = spawn_app().await;
    let t = app.token("alice");
    for authorization in
        [format!("Bearer {t}"), format!("bearer {t}"), format!("BEARER {t}"), format!("Bearer\t{t}"), t]
    {
        assert_eq!(status_with(&app, &authorization).await, 200, "{authorization:?}");
    }
}

/// Every file and directory under `dir` that its group or others may read, write or enter.
#[cfg(unix)]
fn shared_with_others(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            found.push(format!("{:o} {}", mode, path.display()));
        }
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    found
}

#[cfg(unix)]
#[tokio::test]
async fn nothing_the_stack_writes_in_its_data_directory_is_readable_by_other_users() {
    // The stack creates its data directory itself (`.local/` by default), so it is given one not there yet.
    let dir = tempfile::tempdir().unwrap();
    std::fs::remove_dir(dir.path()).unwrap();
    let data_dir = dir.path().to_owned();
    let mut config = StackConfig::new(repo_root().join("template.yaml"), &data_dir);
    // The profile function always fails and is retried an hour later, so its queued event stays on disk.
    config.extra_handlers.0.insert("get-profile".into(), Arc::new(Recorder { fail: true, ..Default::default() }));
    config.async_retry_delay = Duration::from_secs(3600);
    let app = spawn_stack(config, dir).await;

    let task = app.create_task("alice", json!({"title": "private"})).await;
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine";
    let input = json!({"owner": local::auth::sub_for("alice"), "task_id": task["id"], "delay_seconds": 0});
    let started = app
        .client
        .post(app.url("/"))
        .header("x-amz-target", "AWSStepFunctions.StartExecution")
        .header("content-type", "application/x-amz-json-1.0")
        .body(json!({"stateMachineArn": machine, "name": "private", "input": input.to_string()}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    crate::sdk_s3::client(&app, "test")
        .put_object()
        .bucket(&bucket)
        .key("a.txt")
        .body(b"private".to_vec().into())
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::from_conf(sdk_config!(aws_sdk_sqs, app, "test"));
    let queue = app.stack.template().physical_name("DeadLetterQueue").unwrap();
    let url = sqs.get_queue_url().queue_name(queue).send().await.unwrap().queue_url().unwrap().to_owned();
    sqs.send_message().queue_url(url).message_body("private").send().await.unwrap();
    let ses = aws_sdk_sesv2::Client::from_conf(sdk_config!(aws_sdk_sesv2, app, "test"));
    let raw = b"From: noreply@example.com\r\nTo: bob@example.com\r\nSubject: private\r\n\r\nhello\r\n";
    let message = aws_sdk_sesv2::types::RawMessage::builder().data(raw.to_vec().into()).build().unwrap();
    let content = aws_sdk_sesv2::types::EmailContent::builder().raw(message).build();
    ses.send_email().content(content).send().await.unwrap();
    app.stack.async_invoker().invoke_async("GetProfileFunction", json!({"private": true})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await; // the execution and the first attempt run meanwhile

    for written in ["store.sqlite3", "store.sqlite3-wal", "executions", "s3/index.sqlite3", "s3/objects", "sqs", "ses"]
    {
        assert!(data_dir.join(written).exists(), "{written} was not written; the test proves nothing about it");
    }
    let queued = std::fs::read_dir(data_dir.join("lambda/async")).unwrap().count();
    assert_eq!(queued, 1, "the failing invocation is queued for its retry");
    let shared = shared_with_others(&data_dir);
    assert!(shared.is_empty(), "readable by others:\n{}", shared.join("\n"));
}

#[tokio::test]
async fn the_step_functions_api_refuses_a_request_addressed_to_a_name_other_than_this_machine() {
    let app = spawn_app().await;
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let call = |host: String| {
        app.client
            .post(app.url("/"))
            .header("host", host)
            .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
            .header("content-type", "application/x-amz-json-1.0")
            .body("{}")
            .send()
    };
    for host in [format!("rebound.example:{port}"), "rebound.example".into(), format!("localhost.example:{port}")] {
        let r = call(host.clone()).await.unwrap();
        assert_eq!(r.status(), 403, "Host: {host}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["__type"], "AccessDeniedException", "{body}");
        assert!(body["message"].as_str().unwrap().contains("localhost"), "{body}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}"), "localhost".into()]
    {
        assert_eq!(call(host.clone()).await.unwrap().status(), 200, "Host: {host}");
    }
}

#[tokio::test]
async fn an_aws_service_call_addressed_to_a_foreign_domain_is_refused_as_dns_rebinding() {
    let app = spawn_app().await;
    let call = |host: &'static str| {
        app.client
            .post(app.url("/"))
            .header("host", host)
            .header("x-amz-target", "AmazonSQS.ListQueues")
            .header("content-type", "application/x-amz-json-1.0")
            .body("{}")
            .send()
    };
    let rebound = call("attacker.example:3000").await.unwrap();
    assert_eq!(rebound.status(), 403);
    assert_eq!(rebound.json::<Value>().await.unwrap()["__type"], "AccessDeniedException");
    // Addressed to this machine, the same call goes on to authentication (and is refused there, unsigned).
    for host in ["127.0.0.1:3000", "localhost:3000", "s3.localhost"] {
        let local = call(host).await.unwrap();
        assert_eq!(local.json::<Value>().await.unwrap()["__type"], "MissingAuthenticationTokenException", "{host}");
    }
}
