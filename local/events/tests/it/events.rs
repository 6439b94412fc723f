//! PutEvents and TestEventPattern as AWS answers them: whole-request refusals, per-entry errors, the size limit.

use crate::{code, message, spawn};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

const RULES: &str = "Resources:
  Inbox:
    Type: AWS::SQS::Queue
    Properties: {QueueName: inbox}
  Orders:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop]}
      Targets: [{Id: inbox, Arn: !GetAtt Inbox.Arn}]
";

fn entry(source: Option<&str>, detail_type: Option<&str>, detail: Option<&str>) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .set_source(source.map(str::to_owned))
        .set_detail_type(detail_type.map(str::to_owned))
        .set_detail(detail.map(str::to_owned))
        .build()
}

#[tokio::test]
async fn put_events_answers_an_event_id_per_entry_and_fails_bad_entries_alone_with_aws_codes() {
    let app = spawn(RULES).await;
    let entries = vec![
        entry(Some("shop"), Some("placed"), Some(r#"{"n": 1}"#)),
        entry(None, Some("placed"), Some("{}")),
        entry(Some("shop"), None, Some("{}")),
        entry(Some("shop"), Some("placed"), None),
        entry(Some("shop"), Some("placed"), Some("[1, 2]")),
        entry(Some("shop"), Some("placed"), Some("not json")),
        entry(Some("aws.s3"), Some("placed"), Some("{}")),
    ];
    let out = app.client.put_events().set_entries(Some(entries)).send().await.unwrap();
    assert_eq!(out.failed_entry_count(), 6);
    let results = out.entries();
    assert_eq!(results.len(), 7, "one result per entry, in order");
    assert!(results[0].event_id().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    let errors: Vec<(Option<&str>, Option<&str>)> =
        results[1..].iter().map(|r| (r.error_code(), r.error_message())).collect();
    assert_eq!(
        errors,
        [
            (Some("InvalidArgument"), Some("Parameter Source is not valid. Reason: Source is a required argument.")),
            (
                Some("InvalidArgument"),
                Some("Parameter DetailType is not valid. Reason: DetailType is a required argument.")
            ),
            (Some("InvalidArgument"), Some("Parameter Detail is not valid. Reason: Detail is a required argument.")),
            (Some("MalformedDetail"), Some("Detail is malformed.")),
            (Some("MalformedDetail"), Some("Detail is malformed.")),
            (Some("NotAuthorizedForSourceException"), Some("Not authorized for the source.")),
        ]
    );
    assert!(results[1..].iter().all(|r| r.event_id().is_none()));
    // The one good entry was delivered; the bad ones made nothing.
    let got = app.receive_n("inbox", 1).await;
    let event: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["id"], results[0].event_id().unwrap());
    let counters = app.events.counters();
    assert_eq!((counters.events_put, counters.entries_failed, counters.deliveries_queued), (1, 6, 1));
}

#[tokio::test]
async fn put_events_refuses_no_entries_and_more_than_ten_as_a_whole() {
    let app = spawn(RULES).await;
    let e = app.client.put_events().set_entries(Some(vec![])).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(message(&e).contains("greater than or equal to 1"), "{}", message(&e));
    let eleven = vec![entry(Some("shop"), Some("placed"), Some("{}")); 11];
    let e = app.client.put_events().set_entries(Some(eleven)).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(message(&e).contains("less than or equal to 10"), "{}", message(&e));
    let e = app.client.put_events().send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(app.events.counters().events_put, 0);
}

#[tokio::test]
async fn put_events_takes_256_kb_of_entries_counted_as_aws_counts_them_and_refuses_one_byte_more() {
    let app = spawn(RULES).await;
    // Source (4) + DetailType (6) + Resources (10) + Time (14) + Detail: 262,144 bytes in all.
    let detail_len = 262_144 - 4 - 6 - 10 - 14;
    let detail = |len: usize| format!(r#"{{"p":"{}"}}"#, "x".repeat(len - 8));
    let sized = |len: usize| {
        PutEventsRequestEntry::builder()
            .source("shop")
            .detail_type("placed")
            .resources("0123456789")
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(1_700_000_000))
            .detail(detail(len))
            .build()
    };
    let out = app.client.put_events().entries(sized(detail_len)).send().await.unwrap();
    assert_eq!(out.failed_entry_count(), 0);
    let e = app.client.put_events().entries(sized(detail_len + 1)).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(message(&e), "Total size of the entries in the request is over the limit.");
    // Split over two entries, the same bytes count the same.
    let half = entry(Some("shop"), Some("placed"), Some(&detail(131_072)));
    let e = app.client.put_events().entries(half.clone()).entries(half).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // An entry's time is the event's, to the second.
    let timed = PutEventsRequestEntry::builder()
        .source("shop")
        .detail_type("placed")
        .detail("{}")
        .resources("0123456789")
        .time(aws_sdk_eventbridge::primitives::DateTime::from_secs_f64(1_700_000_000.75))
        .build();
    let id = app.client.put_events().entries(timed).send().await.unwrap().entries()[0].event_id().unwrap().to_owned();
    // (The 256 KB entry made an event over the local queue's 256 KiB message limit: the queue refused it.)
    let got = app.receive_n("inbox", 1).await;
    let event: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["time"], "2023-11-14T22:13:20Z");
    assert_eq!(event["resources"], serde_json::json!(["0123456789"]));
}

#[tokio::test]
async fn an_event_for_a_bus_that_does_not_exist_is_accepted_and_dropped_as_aws_does() {
    let app = spawn(RULES).await;
    let id = app.put("shop", "placed", "{}", Some("no-such-bus")).await;
    assert!(!id.is_empty());
    let arn = "arn:aws:events:us-east-1:123456789012:event-bus/no-such-bus";
    app.put("shop", "placed", "{}", Some(arn)).await;
    let counters = app.events.counters();
    assert_eq!((counters.events_put, counters.rules_matched, counters.deliveries_queued), (2, 0, 0));
    assert_eq!(app.events.pending_deliveries().await.unwrap(), 0);
}

#[tokio::test]
async fn test_event_pattern_says_whether_an_event_matches() {
    let app = spawn(RULES).await;
    let event = r#"{"id": "1", "account": "123456789012", "source": "shop", "time": "2026-11-30T12:00:00Z",
        "region": "us-east-1", "detail-type": "placed", "resources": [], "detail": {"total": 3}}"#;
    let test = |pattern: &'static str| app.client.test_event_pattern().event_pattern(pattern).event(event).send();
    assert!(test(r#"{"source": ["shop"]}"#).await.unwrap().result());
    assert!(test(r#"{"detail": {"total": [3]}}"#).await.unwrap().result());
    assert!(!test(r#"{"source": ["elsewhere"]}"#).await.unwrap().result());
}

#[tokio::test]
async fn test_event_pattern_refuses_a_bad_pattern_and_an_event_missing_required_fields() {
    let app = spawn(RULES).await;
    let event = r#"{"id": "1", "account": "1", "source": "s", "time": "t", "region": "r", "detail-type": "d"}"#;
    for pattern in [r#"{"source": "shop"}"#, "not json", "[]"] {
        let e = app.client.test_event_pattern().event_pattern(pattern).event(event).send().await.unwrap_err();
        assert_eq!(code(&e), "InvalidEventPatternException", "{pattern}");
        assert!(message(&e).starts_with("Event pattern is not valid. Reason: "), "{}", message(&e));
    }
    let incomplete = r#"{"source": "s", "region": "r", "detail-type": "d"}"#;
    let e = app
        .client
        .test_event_pattern()
        .event_pattern(r#"{"source": ["s"]}"#)
        .event(incomplete)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(message(&e).contains("id, account, time"), "{}", message(&e));
    let e = app.client.test_event_pattern().event_pattern(r#"{"source": ["s"]}"#).event("{").send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn operations_that_would_change_rules_are_refused_naming_the_template_as_their_source() {
    let app = spawn(RULES).await;
    let e = app.client.put_rule().name("r").event_pattern(r#"{"source": ["x"]}"#).send().await.unwrap_err();
    assert_eq!(code(&e), "OperationDisabledException");
    assert!(message(&e).contains("PutRule") && message(&e).contains("template"), "{}", message(&e));
    let e = app.client.create_event_bus().name("b").send().await.unwrap_err();
    assert_eq!(code(&e), "OperationDisabledException");
    let status = e.raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(400));
}
