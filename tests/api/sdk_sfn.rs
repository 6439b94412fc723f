//! Step Functions on the one endpoint, judged by the real AWS SDK for Rust (`aws-sdk-sfn`): what the SDK signs
//! and parses is the protocol, not hand-built JSON.

use crate::async_invoke::Recorder;
use aws_sdk_sfn::{
    Client,
    error::ProvideErrorMetadata,
    types::{ExecutionRedriveStatus, ExecutionStatus, HistoryEventType},
};
use local::{
    StackConfig,
    local_core::BoxFuture,
    local_lambda::{FunctionError, Handler},
};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};
use system_tests::{TestApp, repo_root, sdk_config, spawn_app, spawn_stack};

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

/// Fails its first call (the card processor is down), then answers.
#[derive(Default)]
struct FailsOnce {
    calls: AtomicU32,
}

impl Handler for FailsOnce {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(FunctionError::new("Unavailable", "the card processor is down (injected)"));
            }
            Ok(json!({"charged": event}))
        })
    }
}

async fn until_closed(sfn: &Client, arn: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    for _ in 0..200 {
        let d = sfn.describe_execution().execution_arn(arn).send().await.expect("DescribeExecution");
        if d.status() != &ExecutionStatus::Running {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{arn} still RUNNING after 5 s");
}

#[tokio::test]
async fn the_sdk_redrives_a_failed_execution_from_its_failed_state_and_refuses_one_that_succeeded() {
    let dir = tempfile::tempdir().unwrap();
    let (prepare, charge) = (Arc::new(Recorder::default()), Arc::new(FailsOnce::default()));
    let mut config = StackConfig::new(repo_root().join("tests/templates/redrive.yaml"), dir.path());
    config.extra_handlers.0.insert("test-prepare".into(), prepare.clone());
    config.extra_handlers.0.insert("test-charge".into(), charge.clone());
    let app = spawn_stack(config, dir).await;
    let sfn = client(&app, "test");
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:OrderStateMachine";

    let started = sfn
        .start_execution()
        .state_machine_arn(machine)
        .name("order-1")
        .input(r#"{"order":"A-7"}"#)
        .send()
        .await
        .expect("StartExecution");
    let arn = started.execution_arn();
    let failed = until_closed(&sfn, arn).await;
    assert_eq!(failed.status(), &ExecutionStatus::Failed, "{:?}", failed.cause());
    assert_eq!(failed.redrive_status(), Some(&ExecutionRedriveStatus::Redrivable));
    assert_eq!(failed.redrive_count(), Some(0));

    let redriven = sfn.redrive_execution().execution_arn(arn).send().await.expect("RedriveExecution");
    let done = until_closed(&sfn, arn).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{:?}", done.cause());
    assert_eq!(done.redrive_count(), Some(1));
    assert_eq!(done.redrive_date(), Some(redriven.redrive_date()));
    assert_eq!(done.redrive_status(), Some(&ExecutionRedriveStatus::NotRedrivable));
    assert!(done.redrive_status_reason().is_some_and(|r| r.contains("SUCCEEDED")), "{done:?}");
    let output: Value = serde_json::from_str(done.output().unwrap()).unwrap();
    assert_eq!(output["charged"]["order"], "A-7", "Charge ran again on the input it had: {output}");
    assert_eq!(prepare.calls.load(Ordering::SeqCst), 1, "the state that succeeded is not run again");
    assert_eq!(charge.calls.load(Ordering::SeqCst), 2);

    let history = sfn.get_execution_history().execution_arn(arn).send().await.expect("GetExecutionHistory");
    let events = history.events();
    let redrive =
        events.iter().find(|e| e.r#type() == &HistoryEventType::ExecutionRedriven).expect("ExecutionRedriven");
    assert_eq!(redrive.execution_redriven_event_details().and_then(|d| d.redrive_count()), Some(1));
    let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "one history, ids continuing: {ids:?}");
    let prepare_entered =
        events.iter().filter(|e| e.state_entered_event_details().is_some_and(|d| d.name() == "Prepare")).count();
    assert_eq!(prepare_entered, 1);
    assert_eq!(events.last().map(|e| e.r#type()), Some(&HistoryEventType::ExecutionSucceeded));

    let listed = sfn.list_executions().state_machine_arn(machine).send().await.expect("ListExecutions");
    assert_eq!(listed.executions()[0].redrive_count(), Some(1));

    let e = sfn.redrive_execution().execution_arn(arn).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ExecutionNotRedrivable"), "{e:?}");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
}
