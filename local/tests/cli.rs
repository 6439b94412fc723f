//! The `local` command as a user runs it: `token`, `routes`, `invoke`, and `up` — including a `kill -9` in the
//! middle of writes, after which every acknowledged write is still there — then `states validate|run` on their own
//! and `executions …` (and the AWS CLI, when installed) against a running stack.

use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Command,
};

mod common;

use common::{local, repo, up};

fn token(data: &Path, user: &str) -> String {
    let out = local().args(["token", user, "--email", "u@example.com", "--data-dir"]).arg(data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A minimal HTTP/1.1 exchange, so this test needs no client library: returns (status, body).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn token_prints_a_jwt_and_routes_lists_every_route_with_its_handler() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    assert_eq!(t.split('.').count(), 3, "{t}");
    let out = local().arg("routes").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["POST    /tasks", "GET     /tasks/{id}", "create_task::handle", "list_tasks::handle", "[jwt]"] {
        assert!(text.contains(want), "`{want}` missing from:\n{text}");
    }
}

#[test]
fn invoke_runs_one_function_on_an_event_file_and_prints_its_response() {
    let dir = tempfile::tempdir().unwrap();
    let out = local()
        .args([
            "invoke",
            "CreateTaskFunction",
            "--event",
            "events/create-task/valid.json",
            "--log-level",
            "off",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["statusCode"], 201);
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["title"], "Write the quarterly report");

    let missing = local()
        .args(["invoke", "NoSuchFunction", "--event", "events/create-task/valid.json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("CreateTaskFunction"),
        "the error lists the functions there are"
    );
}

#[test]
fn a_kill_9_during_writes_loses_no_acknowledged_task() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    let (mut child, addr) = up(dir.path());
    // A writer keeps creating tasks on 4 connections' worth of threads while the stack is killed under it.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, t, acked) = (addr.clone(), t.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let Ok(mut s) = TcpStream::connect(&addr) else { return };
                    let body = format!("{{\"title\":\"writer {w} task {i}\"}}");
                    let req = format!("POST /tasks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                    let mut out = String::new();
                    if s.write_all(req.as_bytes()).is_err() || s.read_to_string(&mut out).is_err() {
                        return;
                    }
                    let Some((_, json)) = out.split_once("\r\n\r\n") else { return };
                    if !out.starts_with("HTTP/1.1 201") {
                        return;
                    }
                    let v: Value = serde_json::from_str(json).unwrap();
                    acked.lock().unwrap().push(v["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL, with writes in flight: no shutdown hook runs
    child.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (mut child, addr) = up(dir.path());
    for id in &acknowledged {
        let (status, body) = http(&addr, "GET", &format!("/tasks/{id}"), &t, "");
        assert_eq!(status, 200, "task {id} was acknowledged before the kill but is gone: {body}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Writes `text` to a file in `dir` and returns its path.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const CHARGE: &str = r#"{"StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
               "Retry": [{"ErrorEquals": ["Retryable"], "IntervalSeconds": 1}],
               "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refused"}], "End": true},
    "Refused": {"Type": "Fail", "Error": "PaymentRefused", "Cause": "the card was declined"}}}"#;

#[test]
fn states_validate_accepts_a_valid_definition_and_lists_the_problems_of_an_invalid_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = local().args(["states", "validate"]).arg(file(dir.path(), "good.json", CHARGE)).output().unwrap();
    assert!(good.status.success());
    assert_eq!(stdout_json(&good), serde_json::json!({"valid": true}));

    let bad =
        file(dir.path(), "bad.json", r#"{"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}"#);
    let out = local().args(["states", "validate"]).arg(bad).output().unwrap();
    assert!(!out.status.success());
    let v = stdout_json(&out);
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().unwrap();
    assert!(
        problems.len() >= 2 && problems.iter().all(|p| p["message"].is_string() && p["location"].is_string()),
        "{v}"
    );
}

#[test]
fn states_run_uses_the_mocked_task_results_and_adds_the_history_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let definition = file(dir.path(), "charge.json", CHARGE);
    let ok_mock = file(
        dir.path(),
        "ok.json",
        r#"{"Charge": [{"Throw": {"Error": "Retryable", "Cause": "busy"}}, {"Return": {"charged": 42}}]}"#,
    );
    let input = file(dir.path(), "input.json", r#"{"amount": 42}"#);
    let out = local()
        .args(["states", "run"])
        .arg(&definition)
        .arg("--input")
        .arg(format!("@{}", input.display()))
        .arg("--mock")
        .arg(&ok_mock)
        .arg("--history")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = stdout_json(&out);
    assert_eq!(
        (&v["status"], &v["output"]),
        (&serde_json::json!("SUCCEEDED"), &serde_json::json!({"charged": 42})),
        "{v}"
    );
    let types: Vec<&str> = v["history"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.iter().filter(|t| **t == "TaskStateEntered").count(), 1);
    assert!(
        types.contains(&"LambdaFunctionFailed") || types.contains(&"TaskFailed"),
        "the retried failure is in the history: {types:?}"
    );

    let declined = file(
        dir.path(),
        "declined.json",
        r#"{"Charge": {"Throw": {"Error": "Declined", "Cause": "insufficient funds"}}}"#,
    );
    let out = local()
        .args(["states", "run"])
        .arg(&definition)
        .args(["--input", r#"{"amount": 1}"#, "--mock"])
        .arg(&declined)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v = stdout_json(&out);
    assert_eq!(v, serde_json::json!({"status": "FAILED", "error": "PaymentRefused", "cause": "the card was declined"}));

    let out = local().args(["states", "run"]).arg(&definition).args(["--input", "{not json"]).output().unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--input"),
        "a clear error for bad input"
    );
}

/// A Step Functions API call over plain HTTP: (status, body).
fn sfn(addr: &str, operation: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.{operation}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body =
        out.split_once("\r\n\r\n").map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null)).unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn executions_start_wait_list_describe_and_history_drive_the_running_stack() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    let (mut child, addr) = up(dir.path());
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let (status, body) = http(&addr, "POST", "/tasks", &t, r#"{"title": "Water the plants"}"#);
    assert_eq!(status, 201, "{body}");
    let task: Value = serde_json::from_str(&body).unwrap();
    let input = serde_json::json!({"owner": local::auth::sub_for("alice"), "task_id": task["id"], "delay_seconds": 0})
        .to_string();

    let out = local()
        .args([
            "executions",
            "start",
            "TaskReminderStateMachine",
            "--name",
            "cli-1",
            "--wait",
            "--input",
            &input,
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let described = stdout_json(&out);
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let arn = described["executionArn"].as_str().unwrap().to_owned();

    let out = local()
        .args(["executions", "list", "TaskReminderStateMachine", "--status", "succeeded", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out)["executions"][0]["executionArn"], arn.as_str());
    let out = local().args(["executions", "describe", &arn, "--port", &port]).output().unwrap();
    assert_eq!(stdout_json(&out)["name"], "cli-1");
    let out = local().args(["executions", "history", &arn, "--port", &port]).output().unwrap();
    assert_eq!(stdout_json(&out)["events"].as_array().unwrap().last().unwrap()["type"], "ExecutionSucceeded");
    let (status, body) = sfn(&addr, "DescribeExecution", &serde_json::json!({"executionArn": arn}).to_string());
    assert_eq!((status, body["status"].as_str()), (200, Some("SUCCEEDED")));

    // The real AWS CLI, when it is installed, speaks to the same API unchanged.
    match Command::new("aws").arg("--version").output() {
        Ok(v) if v.status.success() => {
            let out = Command::new("aws")
                .args([
                    "stepfunctions",
                    "describe-execution",
                    "--execution-arn",
                    &arn,
                    "--endpoint-url",
                    &format!("http://{addr}"),
                ])
                .envs([
                    ("AWS_ACCESS_KEY_ID", "test"),
                    ("AWS_SECRET_ACCESS_KEY", "test"),
                    ("AWS_DEFAULT_REGION", "us-east-1"),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(stdout_json(&out)["status"], "SUCCEEDED");
            // The CLI signs its calls; a signature made with another secret is refused, not ignored.
            let forged = Command::new("aws")
                .args(["stepfunctions", "describe-execution", "--execution-arn", &arn])
                .args(["--endpoint-url", &format!("http://{addr}")])
                .envs([
                    ("AWS_ACCESS_KEY_ID", "test"),
                    ("AWS_SECRET_ACCESS_KEY", "wrong"),
                    ("AWS_DEFAULT_REGION", "us-east-1"),
                ])
                .output()
                .unwrap();
            assert!(!forged.status.success());
            assert!(
                String::from_utf8_lossy(&forged.stderr).contains("SignatureDoesNotMatch"),
                "{}",
                String::from_utf8_lossy(&forged.stderr)
            );
        }
        _ => eprintln!("note: `aws` is not on PATH; skipping the AWS CLI check"),
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let refused = local().args(["executions", "describe", &arn, "--port", &port]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("local up"), "says the stack is not running");
}

#[test]
fn an_execution_in_flight_when_the_stack_is_killed_is_resumed_by_the_next_one_and_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    let (mut child, addr) = up(dir.path());
    let (_, body) = http(&addr, "POST", "/tasks", &t, r#"{"title": "Survive a kill -9"}"#);
    let task: Value = serde_json::from_str(&body).unwrap();
    let input = serde_json::json!({"owner": local::auth::sub_for("alice"), "task_id": task["id"], "delay_seconds": 1})
        .to_string();
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine";
    let start = serde_json::json!({"stateMachineArn": machine, "name": "killed", "input": input}).to_string();
    let (status, started) = sfn(&addr, "StartExecution", &start);
    assert_eq!(status, 200, "{started}");
    child.kill().unwrap(); // SIGKILL in the middle of the Wait
    child.wait().unwrap();

    let (mut child, addr) = up(dir.path());
    let arn = serde_json::json!({"executionArn": started["executionArn"]}).to_string();
    let mut described = Value::Null;
    for _ in 0..100 {
        described = sfn(&addr, "DescribeExecution", &arn).1;
        if described["status"] != "RUNNING" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let (_, history) = sfn(&addr, "GetExecutionHistory", &arn);
    let types: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "ExecutionStarted").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "TaskStateEntered").count(), 1, "{types:?}");
    // Same name and input again: the execution is closed, so the name is taken, as on AWS.
    assert_eq!(sfn(&addr, "StartExecution", &start).1["__type"], "ExecutionAlreadyExists");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Every case of the engine's conformance suite (`shared/states/tests/conformance/*.json`), run through the
/// `local states` command a user runs: valid machines give the expected status, output, error and cause; invalid
/// ones are refused with problems naming the state and field.
#[test]
fn local_states_run_gives_the_expected_result_for_every_conformance_case() {
    let dir = tempfile::tempdir().unwrap();
    let suite = repo().join("shared/states/tests/conformance");
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut files: Vec<_> = std::fs::read_dir(&suite).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let cases: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let cases = match cases {
            Value::Array(a) => a,
            one => vec![one],
        };
        for case in cases {
            ran += 1;
            let name =
                format!("{}/{}", file.file_name().unwrap().to_string_lossy(), case["name"].as_str().unwrap_or("?"));
            let def = dir.path().join("definition.json");
            std::fs::write(&def, case["definition"].to_string()).unwrap();
            let expected = &case["expected"];
            if let Some(invalid) = expected.get("invalid") {
                let out = local().args(["states", "validate"]).arg(&def).output().unwrap();
                let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                let problems = v["problems"].as_array().cloned().unwrap_or_default();
                let named = invalid.as_array().unwrap().iter().all(|want| {
                    problems
                        .iter()
                        .any(|p| ["state", "field"].iter().all(|k| want.get(*k).is_none_or(|w| p.get(*k) == Some(w))))
                });
                if out.status.success() || !named {
                    failures.push(format!("{name}: not refused as expected: {v}"));
                }
                continue;
            }
            let input = dir.path().join("input.json");
            std::fs::write(&input, case.get("input").cloned().unwrap_or(serde_json::json!({})).to_string()).unwrap();
            let mut cmd = local();
            cmd.args(["states", "run", "--virtual-clock", "--name", "conformance", "--input"])
                .arg(format!("@{}", input.display()))
                .arg(&def);
            if let Some(mock) = case.get("mock") {
                let m = dir.path().join("mock.json");
                std::fs::write(&m, mock.to_string()).unwrap();
                cmd.arg("--mock").arg(&m);
            }
            let out = cmd.output().unwrap();
            let got: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            for key in ["status", "output", "error", "cause"] {
                if let Some(want) = expected.get(key)
                    && got.get(key).unwrap_or(&Value::Null) != want
                {
                    failures.push(format!("{name}: {key} expected {want}, got {got}"));
                }
            }
            if let Some(part) = expected.get("cause_contains").and_then(Value::as_str)
                && !got["cause"].as_str().unwrap_or("").contains(part)
            {
                failures.push(format!("{name}: cause does not contain {part:?}: {got}"));
            }
        }
    }
    assert!(ran > 300, "only {ran} conformance cases found");
    assert!(failures.is_empty(), "{} of {ran} cases differ:\n{}", failures.len(), failures.join("\n"));
}

/// Polls `GET /tasks/{id}/activity` until it lists `n` entries (at most 20 s); returns the page.
fn activity_with(addr: &str, t: &str, id: &str, n: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, body) = http(addr, "GET", &format!("/tasks/{id}/activity"), t, "");
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        if page["count"].as_u64() == Some(n as u64) || std::time::Instant::now() > deadline {
            return page;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn done_mails(data: &Path) -> usize {
    let out = local().args(["outbox", "list", "--data-dir"]).arg(data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| l.contains("\"Done: ")).count()
}

#[test]
fn a_kill_9_between_a_write_and_its_delivery_loses_no_task_event_and_repeats_none() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    // Lambda's retries after 6 s, then 12 s more: a kill in the middle of a send leaves its claim behind, which
    // lapses after 15 s, and a retry then sends the mail.
    let flags = ["--async-retry-delay-seconds", "6"];
    let (mut child, mut addr) = common::up_with(dir.path(), &flags);
    assert_eq!(http(&addr, "GET", "/me", &t, "").0, 200);
    // Three rounds: a task is made done, the change is acknowledged, and the stack is killed at once, while the
    // change is on its way from the stream through EventBridge to the functions (or just after: either way nothing
    // may be lost or done twice). The next stack delivers what was pending.
    for round in 0..3 {
        let (status, body) = http(&addr, "POST", "/tasks", &t, &format!("{{\"title\": \"Round {round}\"}}"));
        assert_eq!(status, 201, "{body}");
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
        let (status, _) = http(&addr, "PUT", &format!("/tasks/{id}"), &t, r#"{"status": "done"}"#);
        assert_eq!(status, 200);
        child.kill().unwrap(); // SIGKILL: no shutdown hook runs
        child.wait().unwrap();

        (child, addr) = common::up_with(dir.path(), &flags);
        let page = activity_with(&addr, &t, &id, 2);
        let kinds: Vec<_> = page["items"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
        assert_eq!(kinds, ["TaskStatusChanged", "TaskCreated"], "round {round}, task {id}: {page}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
        while done_mails(dir.path()) < round + 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // Give a duplicate every chance to show up before counting.
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(done_mails(dir.path()), round + 1, "round {round}: one mail per task done");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn events_test_pattern_prints_the_result_and_refuses_a_bad_pattern_or_event_with_exit_code_2() {
    let event = r#"{"id": "1", "account": "123456789012", "source": "task-platform.tasks", "time": "2026-11-30T12:00:00Z", "region": "us-east-1", "detail-type": "TaskStatusChanged", "detail": {"changed": {"status": {"new": "done"}}}}"#;
    let run = |pattern: &str, event: &str| {
        local().args(["events", "test-pattern", "--pattern", pattern, "--event", event]).output().unwrap()
    };
    let done = r#"{"detail-type": ["TaskStatusChanged"], "detail": {"changed": {"status": {"new": ["done"]}}}}"#;
    let out = run(done, event);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout_json(&out), serde_json::json!({"result": true}));
    let dir = tempfile::tempdir().unwrap();
    let pattern_file = file(dir.path(), "p.json", r#"{"source": [{"prefix": "billing."}]}"#);
    let out = run(&format!("@{}", pattern_file.display()), event);
    assert_eq!(stdout_json(&out), serde_json::json!({"result": false}));

    let out = run(r#"{"source": [{"prefx": "task"}]}"#, event);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prefx"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(done, r#"{"source": "x", "detail": {}}"#);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("id") && stderr.contains("detail-type"), "{stderr}");
}

#[test]
fn events_put_puts_an_event_on_a_bus_of_the_running_stack_and_rules_route_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = up(dir.path());
    let port = addr.rsplit(':').next().unwrap();
    let put = |bus: &str, detail: &str| {
        local()
            .args(["events", "put", "--port", port, "--bus", bus, "--source", "task-platform.tasks"])
            .args(["--detail-type", "TaskCreated", "--detail", detail, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    // Not a task event: record-task-activity's rule matches on the source, takes it, and ignores it.
    let out = put("TaskEventBus", r#"{"note": "hello"}"#);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer = stdout_json(&out);
    assert_eq!(answer["FailedEntryCount"], 0);
    assert!(answer["Entries"][0]["EventId"].is_string(), "{answer}");

    let out = put("TaskEventBus", r#"["not", "an", "object"]"#);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_json(&out)["Entries"][0]["ErrorCode"], "MalformedDetail");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn photos_render_writes_three_renditions_and_refuses_a_bomb_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = (1200u16, 900u16);
    let pixels: Vec<u8> = (0..u32::from(width) * u32::from(height)).flat_map(|i| [(i % 251) as u8, 90, 200]).collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, &jpeg).unwrap();
    let out_dir = dir.path().join("out");
    let out = local().args(["photos", "render"]).arg(&photo).arg("--out").arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer = stdout_json(&out);
    let sizes: Vec<(String, u64, u64)> = answer["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()))
        .collect();
    // Never upscaled: the large rendition of a 1200-px photo stays 1200 px.
    assert_eq!(sizes, [("thumbnail".into(), 200, 150), ("medium".into(), 800, 600), ("large".into(), 1200, 900)]);
    for r in answer["renditions"].as_array().unwrap() {
        let file = out_dir.join(format!("{}.jpg", r["name"].as_str().unwrap()));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), r["bytes"].as_u64().unwrap());
    }

    // A JPEG whose header declares 65,500 × 65,500 pixels.
    let mut bomb = jpeg.clone();
    let sof = bomb.windows(2).position(|w| w == [0xff, 0xc0]).expect("a baseline SOF0 marker");
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xff, 0xdc, 0xff, 0xdc]);
    let bomb_file = dir.path().join("bomb.jpg");
    std::fs::write(&bomb_file, &bomb).unwrap();
    let refused = dir.path().join("refused");
    let out = local().args(["photos", "render"]).arg(&bomb_file).arg("--out").arg(&refused).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty(), "the reason is printed");
    assert!(!refused.exists(), "nothing is written for a refused photo");
}

#[test]
fn invoices_parse_prints_the_invoice_as_json_and_refuses_what_is_not_one_with_exit_code_2() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/invoice-pdf/tests/corpus");
    let out = local().args(["invoices", "parse"]).arg(corpus.join("facturx-en16931.pdf")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let invoice = stdout_json(&out);
    assert_eq!(invoice["number"], "FX-EN-2026-004");
    assert_eq!((&invoice["issue_date"], &invoice["due_date"]), (&json!("2026-03-31"), &json!("2026-04-30")));
    assert_eq!(
        (&invoice["net"], &invoice["tax"], &invoice["total"]),
        (&json!("751.80"), &json!("115.36"), &json!("867.16"))
    );
    assert_eq!(invoice["seller"]["vat_id"], "FR32123456789");
    assert_eq!(invoice["buyer"]["email"], "einkauf@roesterei-nord.de");
    assert_eq!(invoice["lines"][1]["quantity"], "2", "decimal strings: {invoice}");
    assert_eq!(invoice["source"], "facturx");

    let text = local().args(["invoices", "parse"]).arg(corpus.join("text-en-classic.pdf")).output().unwrap();
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    assert_eq!(stdout_json(&text)["source"], "text");

    for refused in ["damaged-truncated.pdf", "letter-not-an-invoice.pdf", "encrypted-user-password.pdf", "missing.pdf"]
    {
        let out = local().args(["invoices", "parse"]).arg(corpus.join(refused)).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{refused}");
        assert!(out.stdout.is_empty(), "{refused}: nothing on stdout");
        assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty(), "{refused}: the reason is printed");
    }
}
