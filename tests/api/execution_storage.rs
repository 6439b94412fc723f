//! How executions are kept on disk, seen through Step Functions' API: any name AWS accepts works whatever bytes it
//! takes (an 80-character name of 4-byte characters is 320 bytes, over a file name's 255), directories an earlier
//! version made under the raw name are still found, histories are paged in both directions, and a storage failure
//! answers `InternalFailure` without naming a server path.

use crate::executions::{MACHINE, sfn};
use serde_json::{Value, json};
use system_tests::{TestApp, spawn_app, spawn_app_in};

/// Starts the reminder machine waiting an hour, so the execution stays RUNNING with a short history.
async fn start_waiting(app: &TestApp, name: &str) -> String {
    let input =
        json!({"owner": local::auth::sub_for("alice"), "task_id": "01JD5Q8X3N7V2K4M6P9R0S1T2W", "delay_seconds": 3600});
    let (status, body) =
        sfn(app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": name, "input": input.to_string()})).await;
    assert_eq!(status, 200, "{name}: {body}");
    body["executionArn"].as_str().unwrap().to_owned()
}

/// Waits until the execution's history has at least `n` events.
async fn history_of_at_least(app: &TestApp, arn: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (status, body) = sfn(app, "GetExecutionHistory", json!({"executionArn": arn})).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().unwrap().clone();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{arn}: fewer than {n} events after 5 s");
}

/// Describes, lists and pages the history of the execution `name`, one event a page both ways.
async fn assert_usable(app: &TestApp, arn: &str, name: &str) {
    let (status, described) = sfn(app, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!((status, described["name"].as_str()), (200, Some(name)), "{described}");
    let (status, list) = sfn(app, "ListExecutions", json!({"stateMachineArn": MACHINE})).await;
    assert_eq!(status, 200, "{list}");
    assert!(list["executions"].as_array().unwrap().iter().any(|e| e["name"] == name), "{name} listed: {list}");

    let all = history_of_at_least(app, arn, 2).await;
    for reverse in [false, true] {
        let (mut ids, mut token) = (Vec::new(), Value::Null);
        loop {
            let mut request = json!({"executionArn": arn, "maxResults": 1, "reverseOrder": reverse});
            if token.is_string() {
                request["nextToken"] = token.clone();
            }
            let (status, page) = sfn(app, "GetExecutionHistory", request).await;
            assert_eq!(status, 200, "{page}");
            ids.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_u64().unwrap()));
            token = page["nextToken"].clone();
            if token.is_null() {
                break;
            }
        }
        let mut expected: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        if reverse {
            expected.reverse();
        }
        assert_eq!(ids, expected, "one event a page, reverse: {reverse}");
    }
}

#[tokio::test]
async fn a_name_of_80_four_byte_characters_starts_describes_lists_and_pages_its_history() {
    let app = spawn_app().await;
    let name = "\u{1F600}".repeat(80);
    let arn = start_waiting(&app, &name).await;
    assert_usable(&app, &arn, &name).await;
    let (status, again) =
        sfn(&app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": name, "input": "{\"other\": true}"}))
            .await;
    assert_eq!((status, again["__type"].as_str()), (400, Some("ExecutionAlreadyExists")), "{again}");
}

#[tokio::test]
async fn a_name_with_every_special_character_aws_allows_works() {
    let app = spawn_app().await;
    for name in ["a!'()+-.=@_z", "-leading-dash", "...", "ünïcode-名前-\u{1F600}"] {
        let arn = start_waiting(&app, name).await;
        assert_usable(&app, &arn, name).await;
    }
}

#[tokio::test]
async fn an_execution_an_earlier_version_stored_under_its_raw_name_is_still_found_and_resumed() {
    let app = spawn_app().await;
    let name = "ünïcode-名前";
    let arn = start_waiting(&app, name).await;
    history_of_at_least(&app, &arn, 2).await;
    let dir = app.stop().await;
    // Move it to where an earlier version kept it: the raw name as the directory name.
    let machine_dir = dir.path().join("executions/TaskReminderStateMachine");
    let stored = std::fs::read_dir(&machine_dir).unwrap().next().unwrap().unwrap().path();
    assert_ne!(stored.file_name().unwrap(), name, "new executions are stored under an encoded name");
    std::fs::rename(&stored, machine_dir.join(name)).unwrap();

    let app = spawn_app_in(dir).await;
    assert_usable(&app, &arn, name).await;
    assert_eq!(app.stack.executions().describe(&arn).unwrap().resumed, 1, "resumed where it was");
    let (status, again) =
        sfn(&app, "StartExecution", json!({"stateMachineArn": MACHINE, "name": name, "input": "{\"other\": true}"}))
            .await;
    assert_eq!((status, again["__type"].as_str()), (400, Some("ExecutionAlreadyExists")), "{again}");
    assert!(!stored.exists(), "no second directory for the same name");
}

#[tokio::test]
async fn a_storage_failure_is_an_internal_failure_that_names_no_server_path() {
    let app = spawn_app().await;
    let arn = start_waiting(&app, "corrupt").await;
    let record = app.data_dir.path().join("executions/TaskReminderStateMachine/corrupt/record.json");
    std::fs::write(&record, "{\"executionArn\": ").unwrap();
    let data_dir = app.data_dir.path().to_str().unwrap().to_owned();
    for operation in ["DescribeExecution", "GetExecutionHistory"] {
        let (status, body) = sfn(&app, operation, json!({"executionArn": arn})).await;
        assert_eq!((status, body["__type"].as_str()), (500, Some("InternalFailure")), "{operation}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(!message.contains(&data_dir) && !message.contains("record.json"), "{operation}: {message}");
    }
}
