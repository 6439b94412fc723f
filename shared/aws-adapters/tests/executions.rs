//! `SfnExecutions` against `moto_server`: a name starts one execution; the name again starts nothing (the same
//! execution back while it runs with the same input, `AlreadyExists` once it closed or for another input); a
//! state machine that does not exist is `NotFound`, a name Step Functions refuses is `InvalidInput`.
//!
//! Each test makes its own state machine, so tests run concurrently on the one shared moto.

use aws_adapters::SfnExecutions;
use aws_adapters::testing::MotoServer;
use domain::ServiceError;
use domain::ports::{ExecutionStart, StartedExecution};
use serde_json::{Value, json};

const DEFINITION: &str = r#"{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}"#;

/// A fresh state machine and a client for it.
async fn machine() -> (SfnExecutions, String) {
    let executions = SfnExecutions::new(&MotoServer::shared().sdk_config());
    let created = executions
        .client()
        .create_state_machine()
        .name(format!("invoices-{:016x}", rand::random::<u64>()))
        .definition(DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/invoice-pipeline")
        .send()
        .await
        .expect("moto creates the state machine");
    (executions, created.state_machine_arn().to_owned())
}

fn submission(etag: &str) -> Value {
    json!({"invoice_id": "01JF2X4C5Q8V3N7K2M4P6R8T0W", "object": {"etag": etag}, "invoice": null})
}

fn started_arn(outcome: StartedExecution) -> String {
    match outcome {
        StartedExecution::Started { execution_arn } => execution_arn,
        other => panic!("expected a started execution, got {other:?}"),
    }
}

#[tokio::test]
async fn a_name_starts_one_execution_with_the_input_given() {
    let (executions, arn) = machine().await;
    let input = submission("5d41402abc4b2a76b9719d911017c592");
    let outcome = executions.start_execution(&arn, "invoice-0a1b2c", &input).await.unwrap();
    let execution_arn = started_arn(outcome);
    assert!(execution_arn.ends_with(":invoice-0a1b2c"), "{execution_arn}");
    let described = executions.client().describe_execution().execution_arn(&execution_arn).send().await.unwrap();
    assert_eq!(described.state_machine_arn(), arn);
    let sent: Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(sent, input);
}

#[tokio::test]
async fn the_same_name_again_starts_nothing_new() {
    let (executions, arn) = machine().await;
    let input = submission("5d41402abc4b2a76b9719d911017c592");
    let first = started_arn(executions.start_execution(&arn, "invoice-again", &input).await.unwrap());

    // Running, same input: Step Functions answers with the execution it has.
    let again = started_arn(executions.start_execution(&arn, "invoice-again", &input).await.unwrap());
    assert_eq!(again, first);
    // Another input under a taken name.
    let other = submission("another-etag");
    assert_eq!(
        executions.start_execution(&arn, "invoice-again", &other).await.unwrap(),
        StartedExecution::AlreadyExists
    );
    // Closed: the name stays taken, whatever the input.
    executions.client().stop_execution().execution_arn(&first).send().await.unwrap();
    assert_eq!(
        executions.start_execution(&arn, "invoice-again", &input).await.unwrap(),
        StartedExecution::AlreadyExists
    );

    let listed = executions.client().list_executions().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(listed.executions().len(), 1, "one execution in all");
}

#[tokio::test]
async fn an_unknown_state_machine_is_not_found() {
    let (executions, arn) = machine().await;
    let missing = format!("{arn}-gone");
    let err = executions.start_execution(&missing, "invoice-x", &json!({})).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let chain = domain::error::chain(&err);
    assert!(chain.contains("StartExecution") && chain.contains(&missing), "{chain}");
}

#[tokio::test]
async fn a_name_step_functions_refuses_is_invalid_input_not_worth_retrying() {
    let (executions, arn) = machine().await;
    let err = executions.start_execution(&arn, "no spaces allowed", &json!({})).await.unwrap_err();
    assert!(matches!(err, ServiceError::InvalidInput(_)), "{err:?}");
    assert!(!err.is_retryable());
}
