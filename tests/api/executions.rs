//! The template's state machines on the local stack, through Step Functions' own API (AWS JSON 1.0 on the same
//! port): the task-reminder machine end to end through the in-process `check-task` function, idempotent starts,
//! the shapes of list/describe/history, restarts, and bad requests.

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use system_tests::{TestApp, spawn_app, spawn_app_in};

pub const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine";

/// One Step Functions API call: (HTTP status, body).
pub async fn sfn(app: &TestApp, operation: &str, body: Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/"))
        .header("x-amz-target", format!("AWSStepFunctions.{operation}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn start(app: &TestApp, name: &str, input: Value) -> Value {
    let (status, body) =
        sfn(app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": name, "input": input.to_string()})).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn describe(app: &TestApp, arn: &str) -> Value {
    let (status, body) = sfn(app, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls until the execution is no longer RUNNING (at most 20 s) and returns its description.
async fn until_done(app: &TestApp, arn: &str) -> Value {
    for _ in 0..200 {
        let d = describe(app, arn).await;
        if d["status"] != "RUNNING" {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{arn} is still RUNNING after 20 s");
}

async fn history(app: &TestApp, arn: &str) -> Vec<Value> {
    let (status, body) = sfn(app, "GetExecutionHistory", json!({"executionArn": arn, "maxResults": 1000})).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn count(events: &[Value], ty: &str) -> usize {
    events.iter().filter(|e| e["type"] == ty).count()
}

/// The reminder machine's input for `user`'s task.
fn reminder(user: &str, task_id: &str, delay_seconds: u64) -> Value {
    json!({"owner": local::auth::sub_for(user), "task_id": task_id, "delay_seconds": delay_seconds})
}

#[tokio::test]
async fn the_reminder_machine_runs_end_to_end_through_the_check_task_function() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "Write report"})).await;
    let id = task["id"].as_str().unwrap();

    let pending = start(&app, "pending", reminder("alice", id, 0)).await;
    let d = until_done(&app, pending["executionArn"].as_str().unwrap()).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let output: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["reminder"]["task_id"], id);
    assert_eq!(output["reminder"]["message"], "Reminder: Write report is still pending");

    let r = app
        .request(Method::PUT, &format!("/tasks/{id}"), "alice")
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = start(&app, "done", reminder("alice", id, 0)).await;
    let d = until_done(&app, done["executionArn"].as_str().unwrap()).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let output: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!((output["task"]["status"].as_str(), output.get("reminder")), (Some("done"), None), "{output}");

    // Someone else's task is not found either: the function reads as the owner in the input.
    let missing = start(&app, "missing", reminder("bob", id, 0)).await;
    let d = until_done(&app, missing["executionArn"].as_str().unwrap()).await;
    assert_eq!((d["status"].as_str(), d["error"].as_str()), (Some("FAILED"), Some("TaskNotFound")), "{d}");
    let events = history(&app, missing["executionArn"].as_str().unwrap()).await;
    assert!(
        events.iter().any(|e| e["type"] == "FailStateEntered" && e["stateEnteredEventDetails"]["name"] == "TaskGone"),
        "caught: {events:?}"
    );
}

#[tokio::test]
async fn starting_again_with_the_same_name_and_input_returns_the_running_execution_and_runs_nothing_new() {
    let app = spawn_app().await;
    let input = reminder("alice", "01JD5Q8X3N7V2K4M6P9R0S1T2W", 3600);
    let first = start(&app, "once", input.clone()).await;
    let again = start(&app, "once", input.clone()).await;
    assert_eq!(first, again, "same ARN and start date");
    let (_, list) = sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE})).await;
    assert_eq!(list["executions"].as_array().unwrap().len(), 1);
    assert_eq!(count(&history(&app, first["executionArn"].as_str().unwrap()).await, "ExecutionStarted"), 1);

    let (status, body) =
        sfn(&app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": "once", "input": "{}"})).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("ExecutionAlreadyExists")), "{body}");

    let arn = first["executionArn"].as_str().unwrap();
    let (status, body) = sfn(
        &app,
        "StopExecution",
        json!({"executionArn": arn, "error": "Cancelled", "cause": "the user deleted the reminder"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["stopDate"].is_f64());
    let d = describe(&app, arn).await;
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str(), d["cause"].as_str()),
        (Some("ABORTED"), Some("Cancelled"), Some("the user deleted the reminder"))
    );
    // As on AWS, a closed execution's name is taken even for the same input.
    let (status, body) =
        sfn(&app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": "once", "input": input.to_string()}))
            .await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("ExecutionAlreadyExists")), "{body}");
}

#[tokio::test]
async fn list_describe_and_history_answer_in_the_shapes_of_the_step_functions_api() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "t"})).await;
    let ok = start(&app, "a-ok", reminder("alice", task["id"].as_str().unwrap(), 0)).await;
    let ok_arn = ok["executionArn"].as_str().unwrap();
    assert_eq!(ok_arn, "arn:aws:states:us-east-1:123456789012:execution:TaskReminderStateMachine:a-ok");
    assert!(ok["startDate"].is_f64());
    until_done(&app, ok_arn).await;
    let failed = start(&app, "b-failed", reminder("alice", "01JD5Q8X3N7V2K4M6P9R0S1T2Z", 0)).await;
    until_done(&app, failed["executionArn"].as_str().unwrap()).await;
    let (_, unnamed) = sfn(&app, "StartExecution", json!({"stateMachineArn": MACHINE})).await;
    let unnamed_arn = unnamed["executionArn"].as_str().unwrap();
    let name = unnamed_arn.rsplit(':').next().unwrap();
    assert_eq!(name.len(), 36, "a default name is a UUID: {name}");
    let d = until_done(&app, unnamed_arn).await;
    assert_eq!((d["status"].as_str(), d["input"].as_str()), (Some("FAILED"), Some("{}")), "no delay_seconds: {d}");

    let (status, list) = sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE})).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["executions"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, [name, "b-failed", "a-ok"], "newest first");
    let first = &list["executions"][2];
    for field in ["executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate"] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    let (_, only_ok) =
        sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE, "statusFilter": "SUCCEEDED"})).await;
    assert_eq!(only_ok["executions"].as_array().unwrap().len(), 1);
    let (_, page) = sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE, "maxResults": 2})).await;
    assert_eq!(page["executions"].as_array().unwrap().len(), 2);
    let (_, rest) = sfn(
        &app,
        "ListExecutions",
        json!({"stateMachineArn": MACHINE, "maxResults": 2, "nextToken": page["nextToken"]}),
    )
    .await;
    assert_eq!((rest["executions"][0]["name"].as_str(), rest.get("nextToken")), (Some("a-ok"), None));

    let d = describe(&app, ok_arn).await;
    assert_eq!(d["stateMachineArn"], MACHINE);
    assert!(d["stopDate"].as_f64().unwrap() >= d["startDate"].as_f64().unwrap());
    assert!(d["output"].is_string() && d["input"].is_string(), "input and output are JSON text: {d}");

    let events = history(&app, ok_arn).await;
    assert_eq!((events[0]["type"].as_str(), events[0]["id"].as_u64()), (Some("ExecutionStarted"), Some(1)));
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    assert!(events.iter().all(|e| e["timestamp"].is_f64() && e["previousEventId"].is_u64()), "{events:?}");
    assert!(events.iter().any(|e| e["type"] == "TaskStateEntered"));
    let (_, reversed) =
        sfn(&app, "GetExecutionHistory", json!({"executionArn": ok_arn, "reverseOrder": true, "maxResults": 1})).await;
    assert_eq!(reversed["events"][0]["type"], "ExecutionSucceeded");
    assert!(reversed["nextToken"].is_string());

    let (_, machines) = sfn(&app, "ListStateMachines", json!({})).await;
    let listed: Vec<&str> =
        machines["stateMachines"].as_array().unwrap().iter().filter_map(|m| m["stateMachineArn"].as_str()).collect();
    assert!(listed.contains(&MACHINE), "{machines}");
    let (_, machine) = sfn(&app, "DescribeStateMachine", json!({"stateMachineArn": MACHINE})).await;
    let definition = machine["definition"].as_str().unwrap();
    assert!(
        definition.contains("arn:aws:lambda:us-east-1:123456789012:function:CheckTaskFunction"),
        "substituted: {definition}"
    );
}

#[tokio::test]
async fn a_running_execution_survives_a_restart_of_the_stack_and_runs_once() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "across restarts"})).await;
    let started = start(&app, "restart", reminder("alice", task["id"].as_str().unwrap(), 2)).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(describe(&app, &arn).await["status"], "RUNNING");
    let dir = app.stop().await; // mid-Wait: the stack stops with the execution in flight

    let app = spawn_app_in(dir).await;
    let d = until_done(&app, &arn).await;
    assert_eq!(d["status"], "SUCCEEDED", "resumed and finished: {d}");
    assert_eq!(d["startDate"], started["startDate"], "the same execution, not a new one");
    assert_eq!(app.stack.executions().describe(&arn).unwrap().resumed, 1);
    let events = history(&app, &arn).await;
    assert_eq!(count(&events, "ExecutionStarted"), 1);
    assert_eq!(count(&events, "TaskStateEntered"), 1, "the task ran once: {events:?}");
    assert_eq!(count(&events, "ExecutionSucceeded"), 1);
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids continue across the restart: {ids:?}");
}

#[tokio::test]
async fn an_execution_a_restart_cannot_resume_is_failed_with_a_clear_cause() {
    let app = spawn_app().await;
    let started = start(&app, "torn", reminder("alice", "01JD5Q8X3N7V2K4M6P9R0S1T2W", 3600)).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let dir = app.stop().await;
    let history_file = dir.path().join("executions/TaskReminderStateMachine/torn/history.jsonl");
    let mut text = std::fs::read_to_string(&history_file).unwrap();
    text.insert_str(0, "this is not an event\n");
    std::fs::write(&history_file, text).unwrap();

    let app = spawn_app_in(dir).await;
    let d = until_done(&app, &arn).await;
    assert_eq!((d["status"].as_str(), d["error"].as_str()), (Some("FAILED"), Some("States.Runtime")), "{d}");
    let cause = d["cause"].as_str().unwrap();
    assert!(cause.contains("stopped while this execution was running") && cause.contains("history"), "{cause}");
}

#[tokio::test]
async fn bad_requests_to_the_step_functions_api_are_400s_with_an_aws_error_type() {
    let app = spawn_app().await;
    let exec = "arn:aws:states:us-east-1:123456789012:execution:TaskReminderStateMachine:nope";
    let cases: Vec<(&str, Value, &str)> = vec![
        ("NoSuchOperation", json!({}), "UnknownOperationException"),
        ("StartExecution", json!({}), "ValidationException"),
        ("StartExecution", json!({"stateMachineArn": 7}), "ValidationException"),
        ("StartExecution", json!({"stateMachineArn": "not-an-arn"}), "InvalidArn"),
        (
            "StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Nope"}),
            "StateMachineDoesNotExist",
        ),
        ("StartExecution", json!({"stateMachineArn": MACHINE, "name": "has space"}), "InvalidName"),
        ("StartExecution", json!({"stateMachineArn": MACHINE, "name": "x".repeat(81)}), "InvalidName"),
        ("StartExecution", json!({"stateMachineArn": MACHINE, "input": "{not json"}), "InvalidExecutionInput"),
        (
            "StartExecution",
            json!({"stateMachineArn": MACHINE, "input": format!("\"{}\"", "x".repeat(300 * 1024))}),
            "InvalidExecutionInput",
        ),
        ("DescribeExecution", json!({"executionArn": exec}), "ExecutionDoesNotExist"),
        (
            "DescribeExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:M/../x:y"}),
            "InvalidArn",
        ),
        ("GetExecutionHistory", json!({"executionArn": exec}), "ExecutionDoesNotExist"),
        ("StopExecution", json!({"executionArn": exec}), "ExecutionDoesNotExist"),
        ("ListExecutions", json!({"stateMachineArn": MACHINE, "statusFilter": "SLEEPING"}), "ValidationException"),
        ("ListExecutions", json!({"stateMachineArn": MACHINE, "maxResults": -1}), "ValidationException"),
        ("ListExecutions", json!({"stateMachineArn": MACHINE, "nextToken": "forged"}), "InvalidToken"),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Nope"}),
            "StateMachineDoesNotExist",
        ),
    ];
    for (operation, body, want) in cases {
        let (status, answer) = sfn(&app, operation, body.clone()).await;
        assert_eq!((status, answer["__type"].as_str()), (400, Some(want)), "{operation} {body}: {answer}");
        assert!(answer["message"].is_string());
    }
    let raw = app
        .client
        .post(app.url("/"))
        .header("x-amz-target", "AWSStepFunctions.StartExecution")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let get =
        app.client.get(app.url("/")).header("x-amz-target", "AWSStepFunctions.ListStateMachines").send().await.unwrap();
    assert_eq!(get.status(), 400);
}

#[tokio::test]
async fn an_execution_stopped_before_its_first_event_simply_begins_after_a_restart() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "t"})).await;
    let started = start(&app, "early", reminder("alice", task["id"].as_str().unwrap(), 1)).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let dir = app.stop().await;
    // As if the process had died between writing the record and the first event.
    std::fs::write(dir.path().join("executions/TaskReminderStateMachine/early/history.jsonl"), "").unwrap();

    let app = spawn_app_in(dir).await;
    let d = until_done(&app, &arn).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let events = history(&app, &arn).await;
    assert_eq!((events[0]["type"].as_str(), count(&events, "ExecutionStarted")), (Some("ExecutionStarted"), 1));
}

#[tokio::test]
async fn a_history_line_cut_short_by_a_crash_is_repaired_and_the_execution_resumes_with_a_readable_history() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "torn tail"})).await;
    let started = start(&app, "torn-tail", reminder("alice", task["id"].as_str().unwrap(), 2)).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let dir = app.stop().await; // mid-Wait
    // As if the process had died halfway through writing an event.
    let history_file = dir.path().join("executions/TaskReminderStateMachine/torn-tail/history.jsonl");
    let mut text = std::fs::read_to_string(&history_file).unwrap();
    text.push_str(r#"{"timestamp":"2026-11-27T04:00:00Z","type":"WaitSta"#);
    std::fs::write(&history_file, text).unwrap();

    let app = spawn_app_in(dir).await;
    let d = until_done(&app, &arn).await;
    assert_eq!(d["status"], "SUCCEEDED", "resumed and finished: {d}");
    let events = history(&app, &arn).await;
    assert_eq!(count(&events, "ExecutionSucceeded"), 1, "{events:?}");
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids continue past the repaired line: {ids:?}");
    let text = std::fs::read_to_string(
        app.data_dir.path().join("executions/TaskReminderStateMachine/torn-tail/history.jsonl"),
    )
    .unwrap();
    assert!(text.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "every line is whole: {text}");
}

#[tokio::test]
async fn paging_executions_while_new_ones_start_neither_repeats_nor_skips_any() {
    let app = spawn_app().await;
    let waiting = |n: usize| reminder("alice", "01JD5Q8X3N7V2K4M6P9R0S1T2W", 3600 + n as u64);
    for n in 0..5 {
        start(&app, &format!("before-{n}"), waiting(n)).await;
    }
    let (mut seen, mut token, mut added) = (Vec::new(), Value::Null, 0);
    loop {
        let (status, page) =
            sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE, "maxResults": 2, "nextToken": token})).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["executions"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()));
        if page["nextToken"].is_null() {
            break;
        }
        token = page["nextToken"].clone();
        // Newer executions sort first: before, they shifted every later page.
        start(&app, &format!("during-{added}"), waiting(added)).await;
        added += 1;
    }
    assert_eq!(seen, ["before-4", "before-3", "before-2", "before-1", "before-0"], "each once, in order");

    let (_, page) = sfn(&app, "ListExecutions", json!({"stateMachineArn": MACHINE, "maxResults": 1})).await;
    let token = &page["nextToken"];
    let (status, body) = sfn(
        &app,
        "ListExecutions",
        json!({"stateMachineArn": MACHINE, "statusFilter": "RUNNING", "maxResults": 1, "nextToken": token}),
    )
    .await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidToken")), "another filter: {body}");

    let arn = |name: &str| format!("arn:aws:states:us-east-1:123456789012:execution:TaskReminderStateMachine:{name}");
    let (_, page) = sfn(&app, "GetExecutionHistory", json!({"executionArn": arn("before-0"), "maxResults": 1})).await;
    let token = &page["nextToken"];
    assert!(token.is_string(), "{page}");
    for other in [
        json!({"executionArn": arn("before-1"), "maxResults": 1, "nextToken": token}),
        json!({"executionArn": arn("before-0"), "reverseOrder": true, "maxResults": 1, "nextToken": token}),
        json!({"executionArn": arn("before-0"), "nextToken": "forged"}),
    ] {
        let (status, body) = sfn(&app, "GetExecutionHistory", other.clone()).await;
        assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidToken")), "{other}: {body}");
    }
}

#[tokio::test]
async fn a_corrupted_execution_record_is_a_storage_failure_not_a_missing_execution() {
    let app = spawn_app().await;
    let started = start(&app, "corrupt", reminder("alice", "01JD5Q8X3N7V2K4M6P9R0S1T2W", 3600)).await;
    let arn = started["executionArn"].as_str().unwrap();
    let record = app.data_dir.path().join("executions/TaskReminderStateMachine/corrupt/record.json");
    std::fs::write(&record, "{\"executionArn\": ").unwrap();
    for operation in ["DescribeExecution", "GetExecutionHistory"] {
        let (status, body) = sfn(&app, operation, json!({"executionArn": arn})).await;
        assert_eq!((status, body["__type"].as_str()), (500, Some("InternalFailure")), "{operation}: {body}");
    }
}
