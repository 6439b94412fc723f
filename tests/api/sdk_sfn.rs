//! Step Functions on the one endpoint, judged by the real AWS SDK for Rust (`aws-sdk-sfn`): what the SDK signs
//! and parses is the protocol, not hand-built JSON.

use aws_sdk_sfn::{Client, error::ProvideErrorMetadata, types::ExecutionStatus};
use serde_json::json;
use std::time::Duration;
use system_tests::{TestApp, sdk_config, spawn_app};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine";

fn client(app: &TestApp, secret: &str) -> Client {
    Client::from_conf(sdk_config!(aws_sdk_sfn, app, secret))
}

#[tokio::test]
async fn the_sdk_starts_an_execution_and_reads_it_back_through_describe_list_and_history() {
    let app = spawn_app().await;
    let task = app.create_task("alice", json!({"title": "Water the plants"})).await;
    let sfn = client(&app, "test");
    let input = json!({"owner": local::auth::sub_for("alice"), "task_id": task["id"], "delay_seconds": 0});
    let started = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("sdk-run")
        .input(input.to_string())
        .send()
        .await
        .expect("StartExecution");
    let arn = started.execution_arn().to_owned();
    assert!(arn.ends_with(":execution:TaskReminderStateMachine:sdk-run"), "{arn}");

    let mut described = None;
    for _ in 0..200 {
        let d = sfn.describe_execution().execution_arn(&arn).send().await.expect("DescribeExecution");
        if d.status() != &ExecutionStatus::Running {
            described = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let described = described.expect("the execution ends");
    assert_eq!(described.status(), &ExecutionStatus::Succeeded, "{:?}", described.cause());
    assert!(described.stop_date().is_some());

    let listed = sfn.list_executions().state_machine_arn(MACHINE).send().await.expect("ListExecutions");
    assert_eq!(listed.executions().iter().map(|e| e.name()).collect::<Vec<_>>(), ["sdk-run"]);
    let history = sfn.get_execution_history().execution_arn(&arn).max_results(1).send().await.expect("history");
    assert_eq!(history.events().len(), 1);
    assert!(history.next_token().is_some(), "a page of one has a next page");
    let machines = sfn.list_state_machines().send().await.expect("ListStateMachines");
    assert!(machines.state_machines().iter().any(|m| m.state_machine_arn() == MACHINE));
}

#[tokio::test]
async fn the_sdk_reads_step_functions_errors_by_their_aws_codes() {
    let app = spawn_app().await;
    let sfn = client(&app, "test");
    let missing = format!("{}:nope", MACHINE.replace(":stateMachine:", ":execution:"));
    let e = sfn.describe_execution().execution_arn(&missing).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ExecutionDoesNotExist"), "{e:?}");
    let e = sfn.start_execution().state_machine_arn(MACHINE).input("{not json").send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidExecutionInput"), "{e:?}");
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_refused_as_signature_does_not_match() {
    let app = spawn_app().await;
    let e = client(&app, "not-the-secret").list_state_machines().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
}
