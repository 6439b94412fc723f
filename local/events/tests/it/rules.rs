//! The template's buses, rules and targets as ListRules, DescribeRule, ListTargetsByRule, ListEventBuses and
//! DescribeEventBus give them, paged and with AWS's not-found errors; and a bad template refused at start-up.

use crate::{code, message, spawn, try_spawn_in};
use std::sync::Arc;

const TEMPLATE: &str = r#"Resources:
  Inbox:
    Type: AWS::SQS::Queue
    Properties: {QueueName: inbox}
  Dead:
    Type: AWS::SQS::Queue
    Properties: {QueueName: dead}
  Notify:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Placed:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [shop], detail-type: [placed]}
  Orders:
    Type: AWS::Events::EventBus
    Properties: {Name: orders, Description: every order}
  Alpha:
    Type: AWS::Events::Rule
    Properties:
      Name: alpha
      Description: the first
      EventPattern: '{"source": ["a"]}'
      Targets:
        - Id: whole
          Arn: !GetAtt Inbox.Arn
        - Id: constant
          Arn: !GetAtt Inbox.Arn
          Input: '{"fixed": true}'
        - Id: path
          Arn: !GetAtt Inbox.Arn
          InputPath: $.detail
          RetryPolicy: {MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600}
          DeadLetterConfig: {Arn: !GetAtt Dead.Arn}
        - Id: transformed
          Arn: !GetAtt Inbox.Arn
          InputTransformer:
            InputPathsMap: {kind: $.detail-type}
            InputTemplate: '"a <kind> happened"'
  Alpine:
    Type: AWS::Events::Rule
    Properties:
      Name: alpine
      State: DISABLED
      EventPattern: {source: [b]}
  Beta:
    Type: AWS::Events::Rule
    Properties:
      Name: beta
      EventPattern: {source: [c]}
  OnOrders:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Orders
      EventPattern: {source: [shop]}
"#;

#[tokio::test]
async fn list_rules_pages_by_name_and_filters_by_prefix() {
    let app = spawn(TEMPLATE).await;
    let first = app.client.list_rules().limit(2).send().await.unwrap();
    let names: Vec<&str> = first.rules().iter().map(|r| r.name().unwrap()).collect();
    assert_eq!(names, ["NotifyPlaced", "alpha"]);
    let token = first.next_token().unwrap().to_owned();
    let second = app.client.list_rules().limit(2).next_token(&token).send().await.unwrap();
    let names: Vec<&str> = second.rules().iter().map(|r| r.name().unwrap()).collect();
    assert_eq!(names, ["alpine", "beta"]);
    assert_eq!(second.next_token(), None);

    let prefixed = app.client.list_rules().name_prefix("alp").send().await.unwrap();
    let names: Vec<(&str, &str)> =
        prefixed.rules().iter().map(|r| (r.name().unwrap(), r.state().unwrap().as_str())).collect();
    assert_eq!(names, [("alpha", "ENABLED"), ("alpine", "DISABLED")]);

    let on_orders = app.client.list_rules().event_bus_name("orders").send().await.unwrap();
    let rule = &on_orders.rules()[0];
    assert_eq!((rule.name(), rule.event_bus_name()), (Some("OnOrders"), Some("orders")));
    assert_eq!(rule.arn(), Some("arn:aws:events:us-east-1:123456789012:rule/orders/OnOrders"));
}

#[tokio::test]
async fn list_rules_refuses_a_token_of_another_listing_a_bad_limit_and_an_unknown_bus() {
    let app = spawn(TEMPLATE).await;
    let token = app.client.list_rules().limit(1).send().await.unwrap().next_token().unwrap().to_owned();
    let e = app.client.list_rules().name_prefix("a").next_token(&token).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    for bad in [0, 101] {
        let e = app.client.list_rules().limit(bad).send().await.unwrap_err();
        assert_eq!(code(&e), "ValidationException", "{bad}");
    }
    let e = app.client.list_rules().event_bus_name("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(message(&e), "Event bus nope does not exist.");
}

#[tokio::test]
async fn describe_rule_gives_the_template_rule_and_names_a_missing_one() {
    let app = spawn(TEMPLATE).await;
    let alpha = app.client.describe_rule().name("alpha").send().await.unwrap();
    assert_eq!(alpha.arn(), Some("arn:aws:events:us-east-1:123456789012:rule/alpha"));
    assert_eq!(alpha.event_pattern(), Some(r#"{"source": ["a"]}"#));
    assert_eq!(alpha.description(), Some("the first"));
    assert_eq!(alpha.event_bus_name(), Some("default"));
    assert_eq!(alpha.state().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(alpha.created_by(), Some("123456789012"));

    let sam = app.client.describe_rule().name("NotifyPlaced").send().await.unwrap();
    let pattern: serde_json::Value = serde_json::from_str(sam.event_pattern().unwrap()).unwrap();
    assert_eq!(pattern, serde_json::json!({"source": ["shop"], "detail-type": ["placed"]}));

    let by_arn = app
        .client
        .describe_rule()
        .name("OnOrders")
        .event_bus_name("arn:aws:events:us-east-1:123456789012:event-bus/orders")
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.name(), Some("OnOrders"));

    let e = app.client.describe_rule().name("OnOrders").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(message(&e), "Rule OnOrders does not exist on EventBus default.");
}

#[tokio::test]
async fn list_targets_by_rule_gives_each_targets_input_retry_policy_and_dead_letter_queue_in_pages() {
    let app = spawn(TEMPLATE).await;
    let first = app.client.list_targets_by_rule().rule("alpha").limit(3).send().await.unwrap();
    let targets = first.targets();
    assert_eq!(targets.iter().map(|t| t.id()).collect::<Vec<_>>(), ["whole", "constant", "path"]);
    assert_eq!(targets[0].arn(), "arn:aws:sqs:us-east-1:123456789012:inbox");
    assert_eq!(targets[0].input(), None);
    assert_eq!(targets[1].input(), Some(r#"{"fixed": true}"#));
    assert_eq!(targets[2].input_path(), Some("$.detail"));
    let retry = targets[2].retry_policy().unwrap();
    assert_eq!((retry.maximum_retry_attempts(), retry.maximum_event_age_in_seconds()), (Some(4), Some(600)));
    assert_eq!(targets[2].dead_letter_config().and_then(|d| d.arn()), Some("arn:aws:sqs:us-east-1:123456789012:dead"));
    let rest = app
        .client
        .list_targets_by_rule()
        .rule("alpha")
        .limit(3)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let transformer = rest.targets()[0].input_transformer().unwrap();
    assert_eq!(transformer.input_template(), r#""a <kind> happened""#);
    assert_eq!(transformer.input_paths_map().unwrap()["kind"], "$.detail-type");
    assert_eq!(rest.next_token(), None);

    let sam = app.client.list_targets_by_rule().rule("NotifyPlaced").send().await.unwrap();
    assert_eq!(sam.targets()[0].id(), "NotifyPlacedLambdaTarget");
    assert_eq!(sam.targets()[0].arn(), "arn:aws:lambda:us-east-1:123456789012:function:Notify");

    let e = app.client.list_targets_by_rule().rule("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn event_buses_are_listed_and_described_by_name_or_arn() {
    let app = spawn(TEMPLATE).await;
    let buses = app.client.list_event_buses().send().await.unwrap();
    let names: Vec<&str> = buses.event_buses().iter().map(|b| b.name().unwrap()).collect();
    assert_eq!(names, ["default", "orders"]);
    let page = app.client.list_event_buses().limit(1).send().await.unwrap();
    assert_eq!(page.event_buses().len(), 1);
    assert!(page.next_token().is_some());

    let default = app.client.describe_event_bus().send().await.unwrap();
    assert_eq!(default.arn(), Some("arn:aws:events:us-east-1:123456789012:event-bus/default"));
    let orders = app
        .client
        .describe_event_bus()
        .name("arn:aws:events:us-east-1:123456789012:event-bus/orders")
        .send()
        .await
        .unwrap();
    assert_eq!((orders.name(), orders.description()), (Some("orders"), Some("every order")));
    let e = app.client.describe_event_bus().name("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");

    let resources = app.events.rules();
    assert!(resources.iter().any(|r| r.logical_id == "NotifyPlaced" && r.targets[0].id == "NotifyPlacedLambdaTarget"));
    assert_eq!(app.events.buses().len(), 2);
}

#[tokio::test]
async fn a_rule_with_a_bad_pattern_stops_the_service_from_opening_naming_the_resource_and_property() {
    let text = "Resources:\n  Bad:\n    Type: AWS::Events::Rule\n    Properties:\n      EventPattern: {source: shop}\n";
    let Err(e) = try_spawn_in(Arc::new(tempfile::tempdir().unwrap()), text, "").await else {
        panic!("a bad pattern was accepted")
    };
    let e = e.to_string();
    assert!(e.contains("Bad.EventPattern") && e.contains("not valid"), "{e}");
}
