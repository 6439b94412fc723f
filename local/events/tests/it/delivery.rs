//! Delivery to each kind of target, with the input each is configured to get; no delivery for an event no rule
//! matches; retries, then the dead-letter queue with EventBridge's attributes.

use crate::{ACCOUNT, spawn, spawn_in};
use serde_json::{Value, json};
use std::sync::{Arc, atomic::Ordering};

const TEMPLATE: &str = r#"Resources:
  Whole:
    Type: AWS::SQS::Queue
    Properties: {QueueName: whole}
  Details:
    Type: AWS::SQS::Queue
    Properties: {QueueName: details}
  Sentences:
    Type: AWS::SQS::Queue
    Properties: {QueueName: sentences}
  Shaped:
    Type: AWS::SQS::Queue
    Properties: {QueueName: shaped}
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        OnPaid:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [shop], detail-type: [paid]}
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Done
        States:
          Done: {Type: Pass, End: true}
  Orders:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop], detail-type: [placed]}
      Targets:
        - {Id: whole, Arn: !GetAtt Whole.Arn}
        - {Id: details, Arn: !GetAtt Details.Arn, InputPath: $.detail}
        - Id: sentence
          Arn: !GetAtt Sentences.Arn
          InputTransformer:
            InputPathsMap: {order: $.detail.order, total: $.detail.total}
            InputTemplate: '"order <order> came to <total>"'
        - Id: shaped
          Arn: !GetAtt Shaped.Arn
          InputTransformer:
            InputPathsMap: {order: $.detail.order, kind: $.detail-type, total: $.detail.total}
            InputTemplate: '{"order": <order>, "what": "a <kind> order", "total": <total>, "rule": <aws.events.rule-name>, "at": "<aws.events.event.ingestion-time>"}'
        - {Id: flow, Arn: !GetAtt Flow.Arn, InputPath: $.detail}
  Off:
    Type: AWS::Events::Rule
    Properties:
      State: DISABLED
      EventPattern: {source: [shop]}
      Targets: [{Id: whole, Arn: !GetAtt Whole.Arn}]
"#;

const PLACED: &str = r#"{"order": "o-1", "total": 42}"#;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text:?} is not JSON: {e}"))
}

#[tokio::test]
async fn a_matching_event_reaches_each_sqs_target_as_the_whole_event_its_input_path_or_its_transformed_input() {
    let app = spawn(TEMPLATE).await;
    let id = app.put("shop", "placed", PLACED, None).await;

    let whole = json(&app.receive_n("whole", 1).await[0].body);
    assert_eq!(whole["id"], id.as_str());
    assert_eq!((whole["version"].as_str(), whole["source"].as_str()), (Some("0"), Some("shop")));
    assert_eq!(whole["detail-type"], "placed");
    assert_eq!((whole["account"].as_str(), whole["region"].as_str()), (Some(ACCOUNT), Some("us-east-1")));
    assert_eq!(whole["resources"], json!([]));
    assert_eq!(whole["detail"], json(PLACED));
    let time = whole["time"].as_str().unwrap();
    assert!(time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");

    assert_eq!(json(&app.receive_n("details", 1).await[0].body), json(PLACED));
    assert_eq!(app.receive_n("sentences", 1).await[0].body, r#""order o-1 came to 42""#);
    let shaped = json(&app.receive_n("shaped", 1).await[0].body);
    assert_eq!(shaped["order"], "o-1");
    assert_eq!(shaped["what"], "a placed order");
    assert_eq!(shaped["total"], 42);
    assert_eq!(shaped["rule"], "Orders");
    assert!(shaped["at"].as_str().is_some_and(|t| t.ends_with('Z')));

    app.settled().await;
    // The disabled rule, which matches too, sent nothing.
    assert!(app.receive("whole").await.is_empty());
    let counters = app.events.counters();
    assert_eq!((counters.rules_matched, counters.deliveries_queued, counters.deliveries_made), (1, 5, 5));
}

#[tokio::test]
async fn an_event_that_matches_no_rule_is_accepted_and_reaches_no_target() {
    let app = spawn(TEMPLATE).await;
    app.put("elsewhere", "placed", PLACED, None).await;
    app.put("shop", "cancelled", PLACED, None).await;
    app.put("shop", "paid", PLACED, Some("no-such-bus")).await;
    assert_eq!(app.events.counters().rules_matched, 0);
    assert_eq!(app.events.pending_deliveries().await.unwrap(), 0);

    // An event that does match goes through, and is the only thing any target got.
    let id = app.put("shop", "placed", PLACED, None).await;
    let whole = app.receive_n("whole", 1).await;
    assert_eq!(json(&whole[0].body)["id"], id.as_str());
    app.settled().await;
    assert!(app.receive("whole").await.is_empty());
    assert!(app.recorder.0.lock().unwrap().is_empty(), "no function was invoked");
    let counters = app.events.counters();
    assert_eq!((counters.events_put, counters.rules_matched), (4, 1));
}

#[tokio::test]
async fn a_function_target_is_invoked_through_lambdas_asynchronous_invocation_with_the_event() {
    let app = spawn(TEMPLATE).await;
    let id = app.put("shop", "paid", r#"{"order": "o-2"}"#, None).await;
    let (function, event) =
        crate::eventually("the function to run", || async { app.recorder.0.lock().unwrap().first().cloned() }).await;
    assert_eq!(function, "Handler");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["detail"]["order"], "o-2");
    assert_eq!(app.events.counters().deliveries_made, 1);
}

#[tokio::test]
async fn a_state_machine_target_starts_an_execution_on_the_targets_input() {
    let app = spawn(TEMPLATE).await;
    app.put("shop", "placed", PLACED, None).await;
    let machine = format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:Flow");
    let execution = crate::eventually("an execution to finish", || async {
        let page = app.executions.list(&machine, None, 0, None).unwrap();
        page.items.into_iter().find(|e| e.status == local_sfn::ExecutionStatus::Succeeded)
    })
    .await;
    assert_eq!(json(&execution.input), json(PLACED));
    assert_eq!(json(execution.output.as_deref().unwrap()), json(PLACED));
    assert!(uuid::Uuid::parse_str(&execution.name).is_ok(), "EventBridge names executions itself");
}

/// Sends to the queue `flaky` fail (retryably) while `app.flaky.failing` is set: spawn with `spawn_in(…, "flaky")`.
pub const FLAKY: &str = r#"Resources:
  Flaky:
    Type: AWS::SQS::Queue
    Properties: {QueueName: flaky}
  Dead:
    Type: AWS::SQS::Queue
    Properties: {QueueName: dead}
  Retried:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop]}
      Targets:
        - Id: flaky
          Arn: !GetAtt Flaky.Arn
          RetryPolicy: {MaximumRetryAttempts: 2}
          DeadLetterConfig: {Arn: !GetAtt Dead.Arn}
  Patient:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [patient]}
      Targets:
        - Id: flaky
          Arn: !GetAtt Flaky.Arn
          RetryPolicy: {MaximumRetryAttempts: 50}
          DeadLetterConfig: {Arn: !GetAtt Dead.Arn}
  Missing:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [lost]}
      Targets:
        - Id: missing
          Arn: arn:aws:sqs:us-east-1:123456789012:never-created
          DeadLetterConfig: {Arn: !GetAtt Dead.Arn}
"#;

#[tokio::test]
async fn a_failing_target_is_retried_as_its_policy_says_then_dead_lettered_with_eventbridges_attributes() {
    let app = spawn_in(Arc::new(tempfile::tempdir().unwrap()), FLAKY, "flaky").await;
    let id = app.put("shop", "placed", "{}", None).await;
    let dead = app.receive_n("dead", 1).await;
    assert_eq!(json(&dead[0].body)["id"], id.as_str(), "the dead letter is the event");
    let attributes = &dead[0].attributes;
    assert_eq!(attributes["RULE_ARN"], format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/Retried"));
    assert_eq!(attributes["TARGET_ARN"], format!("arn:aws:sqs:us-east-1:{ACCOUNT}:flaky"));
    assert_eq!(attributes["ERROR_CODE"], "ERROR_FROM_TARGET");
    assert!(attributes["ERROR_MESSAGE"].contains("try again later"), "{attributes:?}");
    assert_eq!(attributes["RETRY_ATTEMPTS"], "2");
    assert_eq!(attributes["EXHAUSTED_RETRY_CONDITION"], "MaximumRetryAttempts");
    assert_eq!(app.flaky.attempts.load(Ordering::SeqCst), 3, "one attempt and two retries");
    app.settled().await;
    assert!(app.receive("flaky").await.is_empty());
    let counters = app.events.counters();
    assert_eq!(
        (counters.deliveries_retried, counters.deliveries_failed, counters.dead_lettered, counters.deliveries_made),
        (2, 1, 1, 0)
    );
}

#[tokio::test]
async fn a_target_that_does_not_exist_is_dead_lettered_at_once_without_retries() {
    let app = spawn_in(Arc::new(tempfile::tempdir().unwrap()), FLAKY, "flaky").await;
    app.put("lost", "placed", "{}", None).await;
    let dead = app.receive_n("dead", 1).await;
    let attributes = &dead[0].attributes;
    assert_eq!(attributes["ERROR_CODE"], "NO_RESOURCE");
    assert_eq!(attributes["RETRY_ATTEMPTS"], "0");
    assert_eq!(attributes["TARGET_ARN"], format!("arn:aws:sqs:us-east-1:{ACCOUNT}:never-created"));
    assert!(!attributes.contains_key("EXHAUSTED_RETRY_CONDITION"), "{attributes:?}");
    assert_eq!(app.events.counters().deliveries_retried, 0);
}

#[tokio::test]
async fn a_target_that_recovers_before_its_retries_run_out_gets_the_event_and_nothing_is_dead_lettered() {
    let app = spawn_in(Arc::new(tempfile::tempdir().unwrap()), FLAKY, "flaky").await;
    let id = app.put("patient", "placed", "{}", None).await;
    crate::eventually("a first failed attempt", || async {
        (app.flaky.attempts.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;
    app.flaky.failing.store(false, Ordering::SeqCst);
    let got = app.receive_n("flaky", 1).await;
    assert_eq!(json(&got[0].body)["id"], id.as_str());
    app.settled().await;
    assert!(app.receive("dead").await.is_empty());
    assert_eq!(app.events.counters().deliveries_made, 1);
}
