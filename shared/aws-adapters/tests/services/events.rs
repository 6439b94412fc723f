//! `EventBridgeEvents`: entries put on a bus reach an SQS queue through a rule, as EventBridge delivers them (the
//! event envelope with `source`, `detail-type`, `detail`); more than ten entries go in several calls, in order; a
//! missing bus is `NotFound`.

use super::{sdk_config, unique};
use aws_adapters::{EventBridgeEvents, SqsMessages};
use aws_sdk_eventbridge::types::Target;
use domain::ServiceError;
use domain::bus::{BusEvent, EntryOutcome, EventBusName};
use domain::ports::EventPut;
use serde_json::{Value, json};

/// A fresh bus with one rule that sends every event of `source` to a fresh queue.
pub struct BusWithQueue {
    pub events: EventBridgeEvents,
    pub bus: EventBusName,
    pub queue_url: String,
    sqs: SqsMessages,
}

impl BusWithQueue {
    pub async fn new(source: &str) -> Self {
        let config = sdk_config();
        let (events, sqs) = (EventBridgeEvents::new(&config), SqsMessages::new(&config));
        let suffix = unique();
        let bus = events.client().create_event_bus().name(format!("bus-{suffix}")).send().await.expect("create bus");
        let bus = EventBusName::parse(bus.event_bus_arn().expect("a bus ARN")).unwrap();
        let queue = sqs.client().create_queue().queue_name(format!("seen-{suffix}")).send().await.expect("queue");
        let queue_url = queue.queue_url().expect("a queue URL").to_owned();
        let attributes = sqs
            .client()
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("a queue ARN")
            .clone();
        let rule = format!("all-{suffix}");
        events
            .client()
            .put_rule()
            .name(&rule)
            .event_bus_name(bus.as_str())
            .event_pattern(json!({ "source": [source] }).to_string())
            .send()
            .await
            .expect("put rule");
        events
            .client()
            .put_targets()
            .rule(&rule)
            .event_bus_name(bus.as_str())
            .targets(Target::builder().id("queue").arn(queue_arn).build().unwrap())
            .send()
            .await
            .expect("put targets");
        Self { events, bus, queue_url, sqs }
    }

    /// Every event the queue holds, as delivered (the EventBridge envelope), in the order they arrived.
    pub async fn delivered(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .client()
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            if received.messages().is_empty() {
                return out;
            }
            for m in received.messages() {
                out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON event"));
                self.sqs
                    .client()
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }
}

fn event(source: &str, i: usize) -> BusEvent {
    BusEvent::new(source, "Numbered", json!({ "i": i, "text": "naïve ✓" })).unwrap()
}

#[tokio::test]
async fn put_events_reach_a_rule_target_with_source_detail_type_detail_and_resources() {
    let source = format!("test.{}", unique());
    let bus = BusWithQueue::new(&source).await;
    let at = time::macros::datetime!(2026-11-30 12:00:00.250 UTC);
    let entry = event(&source, 0).with_time(at).unwrap().with_resource("arn:aws:s3:::bucket/key").unwrap();
    let other_source = BusEvent::new("someone.else", "Numbered", json!({"i": 99})).unwrap();

    let outcomes = bus.events.put_events(&bus.bus, &[entry.clone(), other_source]).await.expect("put");

    assert_eq!(outcomes.len(), 2);
    let EntryOutcome::Accepted(id) = &outcomes[0] else { panic!("{outcomes:?}") };
    assert!(outcomes[1].is_accepted(), "an event no rule matches is still accepted");
    let delivered = bus.delivered().await;
    let [got] = delivered.as_slice() else { panic!("only the matching event arrives: {delivered:?}") };
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["source"], source.as_str());
    assert_eq!(got["detail-type"], "Numbered");
    assert_eq!(got["detail"], *entry.detail());
    assert_eq!(got["resources"], json!(["arn:aws:s3:::bucket/key"]));
}

#[tokio::test]
async fn twenty_three_entries_go_in_three_calls_and_arrive_in_order() {
    let source = format!("test.{}", unique());
    let bus = BusWithQueue::new(&source).await;
    let entries: Vec<_> = (0..23).map(|i| event(&source, i)).collect();

    let outcomes = bus.events.put_events(&bus.bus, &entries).await.expect("put");

    assert_eq!(outcomes.len(), 23);
    assert!(outcomes.iter().all(EntryOutcome::is_accepted), "{outcomes:?}");
    let order: Vec<_> = bus.delivered().await.iter().map(|e| e["detail"]["i"].as_u64().unwrap()).collect();
    assert_eq!(order, (0..23).collect::<Vec<_>>());
}

#[tokio::test]
async fn putting_on_a_bus_that_does_not_exist_is_not_found_and_names_the_bus() {
    let missing = EventBusName::parse(&format!("missing-{}", unique())).unwrap();
    let events = EventBridgeEvents::new(&sdk_config());
    let err = events.put_events(&missing, &[event("test.x", 0)]).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let chain = aws_adapters::testing::error_chain(&err);
    assert!(chain.contains(&format!("EventBridge PutEvents on `{missing}` failed")), "{chain}");
}

#[tokio::test]
async fn putting_nothing_makes_no_call() {
    let missing = EventBusName::parse(&format!("missing-{}", unique())).unwrap();
    let events = EventBridgeEvents::new(&sdk_config());
    assert_eq!(events.put_events(&missing, &[]).await.unwrap(), []);
}
