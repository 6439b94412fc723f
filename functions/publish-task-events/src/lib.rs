//! `publish-task-events`: reads the tasks table's DynamoDB stream and puts every change of a task on the event bus
//! as the domain's task events (`TaskCreated`, `TaskUpdated`, `TaskStatusChanged`, `TaskDeleted`; see
//! [`domain::event`]), so that other parts of the platform react to changes without reading the table.
//!
//! For each stream record, in order: the old and new images are read with [`dynamo_items::task_from_item`],
//! [`TaskEvent::from_change`] says which events the write produced, and each becomes a bus entry
//! ([`TaskEvent::to_bus_event`]: `Source` `task-platform.tasks`, `DetailType` the kind, `Detail` the event's
//! JSON, `Time` when the change happened, no `Resources`). The entries of the whole batch are put in order,
//! cut into `PutEvents` calls by [`domain::bus::batches`] (10 entries, 256 KiB a call).
//!
//! What the stream is told ([`DynamoDbEventResponse`], with `ReportBatchItemFailures`): on a stream, Lambda
//! resumes from the *lowest* sequence number reported, and a record it resumes from is read again with everything
//! after it. So when an entry is not put (the bus refused it, or its whole call failed), the handler stops
//! putting, and reports the record that entry came from and every record after it; the records fully put before
//! it are not reported. Nothing after the first failure is put in that invocation, so a task's events reach the
//! bus in the order of its writes; the records retried may repeat events already put (the rest of a call that
//! failed half-way, the first event of a record whose second failed), which consumers recognise by `change_id`.
//!
//! Records that can never be published are logged at `error` and passed over, not reported: retrying them would
//! fail the same way every time and hold back every later change of the shard until the records expire. They are:
//! - a record whose image is not a task (a corrupt item, or an item of another shape): there is no task event to
//!   publish, and the item is for an operator to repair;
//! - a record with no image at all (a stream whose view type is `KEYS_ONLY` or `NEW_IMAGE` misses what the events
//!   need; the table must stream `NEW_AND_OLD_IMAGES`).
//!
//! A record whose event is over the bus's size limit is reported instead, and so every record after it: it is a
//! real change that failed to be published, and after the event source mapping's retries it reaches the
//! on-failure destination, where it can be found (a task within its fields' limits never produces one).
//!
//! A record without a sequence number (never sent by DynamoDB Streams) is reported with an empty identifier,
//! which Lambda reads as the whole batch having failed: the safe reading.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use domain::bus::{BusEvent, EntryOutcome, EventBusName, batches};
use domain::error::chain;
use domain::ports::EventPut;
use domain::{TaskEvent, Timestamp};

/// What one stream record comes to.
enum Decoded {
    /// The entries to put for it, in order; none for a write that changed nothing an event reports.
    Entries(Vec<BusEvent>),
    /// Nothing can ever be published for it; why, for the log.
    Unpublishable(String),
    /// Its events cannot be put as they are; why, for the log.
    Unputtable(String),
}

/// Puts the task events of `event`'s stream records on `bus`, in order, and reports the records that were not
/// fully put (and every record after the first of them) as `batchItemFailures`.
pub async fn handle(events: &impl EventPut, bus: &EventBusName, event: Event) -> DynamoDbEventResponse {
    let mut records = event.records;
    let mut entries = Vec::new();
    // The record each entry comes from, by index in `records`.
    let mut entry_record = Vec::new();
    let mut first_failed = None;
    for (i, record) in records.iter_mut().enumerate() {
        match decode(record) {
            Decoded::Entries(list) => {
                entry_record.extend(std::iter::repeat_n(i, list.len()));
                entries.extend(list);
            }
            Decoded::Unpublishable(why) => {
                tracing::error!(
                    sequence_number = record.change.sequence_number.as_deref().unwrap_or("?"),
                    event_id = %record.event_id,
                    event_name = %record.event_name,
                    "skipping a stream record that can never be published: {why}"
                );
            }
            Decoded::Unputtable(why) => {
                tracing::error!(
                    sequence_number = record.change.sequence_number.as_deref().unwrap_or("?"),
                    event_id = %record.event_id,
                    "a stream record's events cannot be put on the bus; reporting it and every later record: {why}"
                );
                first_failed = Some(i);
                break;
            }
        }
    }

    let mut sent = 0;
    for batch in batches(&entries) {
        let failed_at = match events.put_events(bus, batch).await {
            Ok(outcomes) => first_failure(&outcomes, batch.len()),
            Err(e) => {
                tracing::warn!(bus = %bus, entries = batch.len(), "PutEvents failed: {}", chain(&e));
                Some(0)
            }
        };
        if let Some(k) = failed_at {
            first_failed = Some(entry_record[sent + k]);
            sent += k;
            break;
        }
        sent += batch.len();
    }
    telemetry::metrics::count("TaskEventsPublished", sent as f64);

    let mut response = DynamoDbEventResponse::default();
    if let Some(first) = first_failed {
        response.batch_item_failures = records[first..]
            .iter()
            .map(|record| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(record.change.sequence_number.clone().unwrap_or_default());
                failure
            })
            .collect();
    }
    response
}

/// The index of the first entry of a call that was not put, logging why; `None` when all were.
fn first_failure(outcomes: &[EntryOutcome], sent: usize) -> Option<usize> {
    match outcomes.iter().position(|o| !o.is_accepted()) {
        Some(k) => {
            if let EntryOutcome::Failed(failure) = &outcomes[k] {
                tracing::warn!(
                    code = %failure.code,
                    retryable = failure.is_retryable(),
                    "the bus refused an entry: {}",
                    failure.message
                );
            }
            Some(k)
        }
        // An answer shorter than the call says nothing of the entries it leaves out.
        None if outcomes.len() < sent => Some(outcomes.len()),
        None => None,
    }
}

fn decode(record: &mut EventRecord) -> Decoded {
    let images = [std::mem::take(&mut record.change.old_image), std::mem::take(&mut record.change.new_image)];
    if images.iter().all(|image| image.is_empty()) {
        return Decoded::Unpublishable("the record has no image; the table must stream NEW_AND_OLD_IMAGES".to_owned());
    }
    let [old, new] = images.map(|image| (!image.is_empty()).then(|| dynamo_items::task_from_item(image)));
    let (old, new) = match (old.transpose(), new.transpose()) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return Decoded::Unpublishable(chain(&e)),
    };
    let changes = TaskEvent::from_change(old.as_ref(), new.as_ref(), observed_at(record));
    match changes.iter().map(TaskEvent::to_bus_event).collect::<Result<Vec<_>, _>>() {
        Ok(entries) => Decoded::Entries(entries),
        Err(e) => Decoded::Unputtable(e.to_string()),
    }
}

/// When the stream saw the change (it dates a deletion, which leaves no `updated_at`); now, for a record that
/// does not say.
fn observed_at(record: &EventRecord) -> Timestamp {
    let ms = record.change.approximate_creation_date_time.timestamp_millis();
    if ms <= 0 {
        return domain::now();
    }
    Timestamp::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or_else(|_| domain::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ServiceError;
    use domain::bus::EventId;
    use serde_json::{Value, json};

    /// A bus that accepts the first `accept` entries of each call and leaves the rest out of its answer, or that
    /// is down.
    struct Bus(Option<usize>);

    impl EventPut for Bus {
        async fn put_events(&self, _: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
            let accept = self.0.ok_or_else(|| ServiceError::Unavailable("connection reset".into()))?;
            Ok(entries.iter().take(accept).map(|_| EntryOutcome::Accepted(EventId::new("e"))).collect())
        }
    }

    fn creation(n: u32, sequence: Option<&str>) -> Value {
        let owner = "u-1";
        let image = json!({
            "owner": {"S": owner}, "id": {"S": format!("01JD5Q8X3N7V2K4M6P9R0S{n:04}")}, "title": {"S": "t"},
            "status": {"S": "pending"}, "created_at": {"S": "2026-11-30T12:00:00Z"},
            "updated_at": {"S": "2026-11-30T12:00:00Z"}, "version": {"N": "1"},
            "owner_status": {"S": format!("{owner}#pending")},
        });
        let mut dynamodb = json!({"ApproximateCreationDateTime": 1796040000, "NewImage": image, "SizeBytes": 200});
        if let Some(sequence) = sequence {
            dynamodb["SequenceNumber"] = json!(sequence);
        }
        json!({"eventID": "1", "eventName": "INSERT", "awsRegion": "eu-west-1", "dynamodb": dynamodb})
    }

    fn stream(records: Vec<Value>) -> Event {
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    fn reported(response: &DynamoDbEventResponse) -> Vec<&str> {
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_deref().unwrap_or("?")).collect()
    }

    #[tokio::test]
    async fn an_answer_shorter_than_the_call_counts_the_entries_it_leaves_out_as_not_put() {
        let bus = EventBusName::parse("tasks").unwrap();
        let event = stream(vec![creation(1, Some("1")), creation(2, Some("2")), creation(3, Some("3"))]);
        let response = handle(&Bus(Some(1)), &bus, event).await;
        assert_eq!(reported(&response), ["2", "3"]);
    }

    #[tokio::test]
    async fn a_failed_record_without_a_sequence_number_is_reported_empty_so_the_whole_batch_is_retried() {
        let bus = EventBusName::parse("tasks").unwrap();
        let response = handle(&Bus(None), &bus, stream(vec![creation(1, None), creation(2, Some("2"))])).await;
        assert_eq!(reported(&response), ["", "2"]);
    }

    #[test]
    fn a_record_without_a_creation_time_is_dated_now() {
        let mut record: EventRecord = serde_json::from_value(creation(1, Some("1"))).unwrap();
        assert_eq!(observed_at(&record), time::macros::datetime!(2026-11-30 12:00 UTC));
        record.change.approximate_creation_date_time = Default::default();
        assert!(observed_at(&record) > time::macros::datetime!(2026-01-01 0:00 UTC));
    }
}
