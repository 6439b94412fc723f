//! The handler against `moto_server`, through the real EventBridge adapter: stream records in, events out on a bus
//! whose rule delivers to an SQS queue (what a consumer would see), `batchItemFailures` back. A wrapper around the
//! adapter counts the `PutEvents` calls and can make the bus refuse one entry or fail one call, for what moto
//! never does on its own.
//!
//! Every sample event in `events/publish-task-events/` is run here too, with its expected outcome.

use aws_adapters::testing::MotoServer;
use aws_adapters::{EventBridgeEvents, SqsMessages};
use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use domain::bus::{BusEvent, EntryFailure, EntryOutcome, EventBusName};
use domain::ports::EventPut;
use domain::{Description, ServiceError, Status, Task, TaskId, Title, UserId, Version};
use publish_task_events::handle;
use serde_json::{Value, json};
use std::sync::Mutex;

const OWNER: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";

fn unique() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A fresh bus whose one rule sends every task event to a fresh queue.
struct Bus {
    events: EventBridgeEvents,
    sqs: SqsMessages,
    name: EventBusName,
    queue_url: String,
}

impl Bus {
    async fn new() -> Self {
        let config = MotoServer::shared().sdk_config();
        let (events, sqs) = (EventBridgeEvents::new(&config), SqsMessages::new(&config));
        let suffix = unique();
        let bus = events.client().create_event_bus().name(format!("tasks-{suffix}")).send().await.expect("bus");
        let name = EventBusName::parse(bus.event_bus_arn().expect("a bus ARN")).unwrap();
        let queue = sqs.client().create_queue().queue_name(format!("seen-{suffix}")).send().await.expect("queue");
        let queue_url = queue.queue_url().expect("a queue URL").to_owned();
        let attributes = sqs
            .client()
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attributes.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).expect("ARN");
        let rule = format!("task-events-{suffix}");
        events
            .client()
            .put_rule()
            .name(&rule)
            .event_bus_name(name.as_str())
            .event_pattern(json!({ "source": [domain::event::SOURCE] }).to_string())
            .send()
            .await
            .expect("rule");
        events
            .client()
            .put_targets()
            .rule(&rule)
            .event_bus_name(name.as_str())
            .targets(Target::builder().id("queue").arn(queue_arn).build().unwrap())
            .send()
            .await
            .expect("target");
        Self { events, sqs, name, queue_url }
    }

    /// The events delivered so far, in the order they arrived, as the rule's target receives them.
    async fn delivered(&self) -> Vec<Value> {
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
                out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("JSON"));
                let handle = m.receipt_handle().unwrap_or_default();
                self.sqs
                    .client()
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The `change_id` of every event delivered so far, in order.
    async fn delivered_changes(&self) -> Vec<String> {
        self.delivered().await.iter().map(|e| e["detail"]["change_id"].as_str().unwrap_or("?").to_owned()).collect()
    }
}

/// What the wrapper makes go wrong.
#[derive(Clone)]
enum Trouble {
    None,
    /// The bus answers `InternalFailure` for the entry with this change id (the others are put).
    RefuseEntry(String),
    /// The n-th call (from 1) fails as a whole, as a throttled request does.
    FailCall(usize),
}

/// The adapter, with the size of every call recorded and the trouble asked for.
struct Recording<'a> {
    inner: &'a EventBridgeEvents,
    calls: Mutex<Vec<usize>>,
    trouble: Trouble,
}

impl<'a> Recording<'a> {
    fn new(inner: &'a EventBridgeEvents, trouble: Trouble) -> Self {
        Self { inner, calls: Mutex::new(Vec::new()), trouble }
    }

    fn calls(&self) -> Vec<usize> {
        self.calls.lock().unwrap().clone()
    }
}

impl EventPut for Recording<'_> {
    async fn put_events(&self, bus: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(entries.len());
            calls.len()
        };
        match &self.trouble {
            Trouble::FailCall(n) if *n == call => Err(ServiceError::Unavailable("ThrottlingException".into())),
            Trouble::RefuseEntry(change_id) => {
                let refused = |e: &BusEvent| e.detail()["change_id"] == change_id.as_str();
                let forwarded: Vec<_> = entries.iter().filter(|e| !refused(e)).cloned().collect();
                let mut put = self.inner.put_events(bus, &forwarded).await?.into_iter();
                Ok(entries
                    .iter()
                    .map(|e| match refused(e) {
                        true => EntryOutcome::Failed(EntryFailure {
                            code: "InternalFailure".into(),
                            message: "Internal service error.".into(),
                        }),
                        false => put.next().expect("an outcome per forwarded entry"),
                    })
                    .collect())
            }
            _ => self.inner.put_events(bus, entries).await,
        }
    }
}

fn task(n: u128, version: u64, status: Status, title: &str) -> Task {
    let created = time::macros::datetime!(2026-11-30 12:00 UTC);
    Task {
        owner: UserId::parse(OWNER).unwrap(),
        id: TaskId::parse(&format!("01JD5Q8X3N7V2K4M6P9R0S{n:04}")).unwrap(),
        title: Title::parse(title).unwrap(),
        description: Some(Description::parse("from the stream test").unwrap()),
        status,
        created_at: created,
        updated_at: created + time::Duration::seconds(version as i64),
        version: Version(version),
    }
}

fn image(task: &Task) -> Value {
    let item: serde_dynamo::Item = dynamo_items::task_to_item(task).unwrap();
    serde_json::to_value(item).unwrap()
}

/// A stream record as DynamoDB Streams sends it, with the images given (`Value::Null` for none).
fn record(sequence: u64, old: Value, new: Value) -> Value {
    let name = match (old.is_null(), new.is_null()) {
        (true, _) => "INSERT",
        (false, false) => "MODIFY",
        (false, true) => "REMOVE",
    };
    let keys_from = if new.is_null() { &old } else { &new };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": 1764504000,
        "Keys": { "owner": keys_from["owner"], "id": keys_from["id"] },
        "SequenceNumber": format!("{sequence:028}"),
        "SizeBytes": 300,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if !old.is_null() {
        dynamodb["OldImage"] = old;
    }
    if !new.is_null() {
        dynamodb["NewImage"] = new;
    }
    json!({
        "eventID": format!("event-{sequence}"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks/stream/2026-11-30T00:00:00.000",
    })
}

fn stream(records: Vec<Value>) -> Event {
    serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event")
}

/// `n` records, each creating its own task: one event each.
fn creations(n: usize) -> Vec<Value> {
    (0..n).map(|i| record(i as u64 + 1, Value::Null, image(&task(i as u128, 1, Status::Pending, "t")))).collect()
}

fn created_change(i: usize) -> String {
    format!("{}/1/TaskCreated", task(i as u128, 1, Status::Pending, "t").id)
}

fn reported(response: &aws_lambda_events::streams::DynamoDbEventResponse) -> Vec<u64> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_deref().unwrap_or_default().parse().expect("a sequence number"))
        .collect()
}

#[tokio::test]
async fn a_creation_a_status_change_and_a_deletion_arrive_as_their_events_in_order() {
    let bus = Bus::new().await;
    let (v1, v2) = (task(1, 1, Status::Pending, "write"), task(1, 2, Status::Done, "write"));
    let event = stream(vec![
        record(1, Value::Null, image(&v1)),
        record(2, image(&v1), image(&v2)),
        record(3, image(&v2), Value::Null),
    ]);

    let response = handle(&bus.events, &bus.name, event).await;

    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let delivered = bus.delivered().await;
    let kinds: Vec<_> = delivered.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["TaskCreated", "TaskStatusChanged", "TaskDeleted"]);
    assert!(delivered.iter().all(|e| e["source"] == "task-platform.tasks"));
    let status_changed = &delivered[1]["detail"];
    assert_eq!(status_changed["change_id"], format!("{}/2/TaskStatusChanged", v1.id));
    assert_eq!(status_changed["changed"]["status"], json!({"old": "pending", "new": "done"}));
    assert_eq!(status_changed["occurred_at"], "2026-11-30T12:00:02Z");
    // A deletion is dated by the stream (ApproximateCreationDateTime), having no `updated_at` of its own.
    assert_eq!(delivered[2]["detail"]["occurred_at"], "2025-11-30T12:00:00Z");
    assert_eq!(delivered[2]["detail"]["task"]["status"], "done");
}

#[tokio::test]
async fn twenty_three_records_are_put_in_three_calls_of_at_most_ten_in_stream_order() {
    let bus = Bus::new().await;
    let recording = Recording::new(&bus.events, Trouble::None);

    let response = handle(&recording, &bus.name, stream(creations(23))).await;

    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(recording.calls(), [10, 10, 3]);
    assert_eq!(bus.delivered_changes().await, (0..23).map(created_change).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_bus_that_does_not_exist_reports_every_record() {
    let bus = Bus::new().await;
    let missing = EventBusName::parse(&format!("missing-{}", unique())).unwrap();

    let response = handle(&bus.events, &missing, stream(creations(12))).await;

    assert_eq!(reported(&response), (1..=12).collect::<Vec<_>>());
    assert!(bus.delivered().await.is_empty());
}

#[tokio::test]
async fn a_refused_entry_reports_its_record_and_every_later_one_but_none_put_before_it() {
    let bus = Bus::new().await;
    // Record 15 (sequence number) carries the 15th entry, in the second call.
    let recording = Recording::new(&bus.events, Trouble::RefuseEntry(created_change(14)));

    let response = handle(&recording, &bus.name, stream(creations(23))).await;

    assert_eq!(reported(&response), (15..=23).collect::<Vec<_>>());
    assert_eq!(recording.calls(), [10, 10], "nothing is put after the call with the refused entry");
    // The rest of that call went through; the retry from record 15 puts them again (same change ids).
    let expected: Vec<_> = (0..20).filter(|i| *i != 14).map(created_change).collect();
    assert_eq!(bus.delivered_changes().await, expected);
}

#[tokio::test]
async fn a_call_that_fails_as_a_whole_reports_from_its_first_record_and_keeps_the_calls_before() {
    let bus = Bus::new().await;
    let recording = Recording::new(&bus.events, Trouble::FailCall(2));

    let response = handle(&recording, &bus.name, stream(creations(23))).await;

    assert_eq!(reported(&response), (11..=23).collect::<Vec<_>>());
    assert_eq!(recording.calls(), [10, 10]);
    assert_eq!(bus.delivered_changes().await, (0..10).map(created_change).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_record_whose_second_event_is_refused_is_reported_whole() {
    let bus = Bus::new().await;
    let (v1, v2) = (task(1, 1, Status::Pending, "old title"), task(1, 2, Status::Done, "new title"));
    let refused = format!("{}/2/TaskUpdated", v1.id);
    let recording = Recording::new(&bus.events, Trouble::RefuseEntry(refused));
    let event = stream(vec![
        record(1, Value::Null, image(&v1)),
        record(2, image(&v1), image(&v2)),
        record(3, image(&v2), Value::Null),
    ]);

    let response = handle(&recording, &bus.name, event).await;

    assert_eq!(reported(&response), [2, 3]);
    assert_eq!(
        bus.delivered_changes().await,
        [
            format!("{}/1/TaskCreated", v1.id),
            format!("{}/2/TaskStatusChanged", v1.id),
            format!("{}/2/TaskDeleted", v1.id)
        ]
    );
}

#[tokio::test]
async fn corrupt_images_and_records_without_images_are_skipped_without_holding_back_the_rest() {
    let bus = Bus::new().await;
    let (good, later) = (task(1, 1, Status::Pending, "t"), task(2, 1, Status::Pending, "t"));
    let mut corrupt = image(&task(3, 1, Status::Pending, "t"));
    corrupt["status"] = json!({"S": "finished"});
    let mut keys_only = record(3, Value::Null, image(&task(4, 1, Status::Pending, "t")));
    keys_only["dynamodb"].as_object_mut().unwrap().remove("NewImage");
    let not_a_task = json!({"owner": {"S": OWNER}, "id": {"S": "profile"}, "display_name": {"S": "Ada"}});
    let event = stream(vec![
        record(1, Value::Null, image(&good)),
        record(2, Value::Null, corrupt),
        keys_only,
        record(4, Value::Null, not_a_task),
        record(5, Value::Null, image(&later)),
    ]);

    let response = handle(&bus.events, &bus.name, event).await;

    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        bus.delivered_changes().await,
        [format!("{}/1/TaskCreated", good.id), format!("{}/1/TaskCreated", later.id)]
    );
}

#[tokio::test]
async fn a_write_that_changed_nothing_is_no_event_and_no_failure() {
    let bus = Bus::new().await;
    let v1 = task(1, 1, Status::Pending, "t");
    let recording = Recording::new(&bus.events, Trouble::None);

    let response = handle(&recording, &bus.name, stream(vec![record(1, image(&v1), image(&v1))])).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(recording.calls(), Vec::<usize>::new(), "no entries, no call");
}

/// Each sample of `events/publish-task-events/`: the change ids it must put, and the sequence numbers it must report.
const SAMPLES: &[(&str, &[&str], &[&str])] = &[
    ("insert", &["01JD5Q8X3N7V2K4M6P9R0S1T2W/1/TaskCreated"], &[]),
    ("modify-status-done", &["01JD5Q8X3N7V2K4M6P9R0S1T2W/2/TaskStatusChanged"], &[]),
    ("remove", &["01JD5Q8X3N7V2K4M6P9R0S1T2W/2/TaskDeleted"], &[]),
    ("corrupt-image", &["01JD5Q8X3N7V2K4M6P9R0S1T3X/1/TaskCreated"], &[]),
];

#[tokio::test]
async fn every_sample_event_puts_its_events_and_reports_nothing() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/publish-task-events");
    let mut on_disk: Vec<_> = std::fs::read_dir(&dir)
        .expect("the samples")
        .map(|f| f.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<_> = SAMPLES.iter().map(|(name, _, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every sample has an expectation here, and every expectation a sample");

    for (name, changes, reported_ids) in SAMPLES {
        let bus = Bus::new().await;
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let event: Event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let response = handle(&bus.events, &bus.name, event).await;
        let got: Vec<_> = response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect();
        assert_eq!(got, *reported_ids, "{name}: reported");
        assert_eq!(bus.delivered_changes().await, *changes, "{name}: delivered");
    }
}
