//! The event port on EventBridge: [`EventBridgeEvents`] puts entries on a bus by name or ARN, cut into
//! `PutEvents` calls by [`domain::bus::batches`] (10 entries, 256 KiB a call) and sent one after another, in order.
//!
//! `PutEvents` answers per entry: a call that succeeds may still have failed entries (`FailedEntryCount`), each
//! with an `ErrorCode` and `ErrorMessage`. They come back as [`EntryOutcome::Failed`], never as an `Err`, so the
//! caller decides what a half-accepted call means for it. A call that fails as a whole (the bus does not exist,
//! the credentials may not put on it, throttling of the whole request) is a [`ServiceError`] when it is the first,
//! and fails its own and every later entry otherwise (see [`domain::ports::EventPut`]).

use crate::call::{CallFailed, Meaning, MissingInResponse, classify};
use aws_config::SdkConfig;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_eventbridge::operation::put_events::PutEventsError;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};
use domain::ServiceError;
use domain::bus::{BusEvent, EntryFailure, EntryOutcome, EventBusName, EventId, batches};
use domain::ports::EventPut;
use std::error::Error as StdError;

/// Event buses on EventBridge, through one client.
#[derive(Debug, Clone)]
pub struct EventBridgeEvents {
    client: Client,
}

impl EventBridgeEvents {
    /// A client from `config` (region, credentials, endpoint).
    pub fn new(config: &SdkConfig) -> Self {
        Self { client: Client::new(config) }
    }

    /// Over a client built elsewhere.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// One `PutEvents` call; on failure, the error for the caller and the same failure as an entry's.
    async fn put_batch(
        &self,
        bus: &EventBusName,
        batch: &[BusEvent],
    ) -> Result<Vec<EntryOutcome>, (ServiceError, EntryFailure)> {
        let entries = batch.iter().map(|event| request_entry(bus, event)).collect();
        let out = self.client.put_events().set_entries(Some(entries)).send().await.map_err(|e| {
            let as_entry = EntryFailure {
                code: e.code().unwrap_or("RequestFailed").to_owned(),
                message: e.message().map_or_else(|| DisplayErrorContext(&e).to_string(), str::to_owned),
            };
            let meaning = match e.as_service_error() {
                Some(PutEventsError::InternalException(_)) => Meaning::Unavailable,
                _ => classify(&e),
            };
            (failed(bus, meaning, e), as_entry)
        })?;
        // The answer holds one result per entry, at the entry's index; a result that is missing says nothing,
        // so that entry counts as not put (putting it again at worst repeats an event).
        Ok((0..batch.len()).map(|i| outcome(out.entries().get(i))).collect())
    }
}

fn request_entry(bus: &EventBusName, event: &BusEvent) -> PutEventsRequestEntry {
    let mut entry = PutEventsRequestEntry::builder()
        .event_bus_name(bus.as_str())
        .source(event.source())
        .detail_type(event.detail_type())
        .detail(event.detail_json())
        .set_resources(Some(event.resources().to_vec()));
    if let Some(time) = event.time() {
        entry = entry.time(DateTime::from_secs_and_nanos(time.unix_timestamp(), time.nanosecond()));
    }
    entry.build()
}

fn outcome(result: Option<&PutEventsResultEntry>) -> EntryOutcome {
    match result {
        Some(r) if r.error_code().is_none() && r.event_id().is_some() => {
            EntryOutcome::Accepted(EventId::new(r.event_id().unwrap_or_default()))
        }
        Some(r) if r.error_code().is_some() => EntryOutcome::Failed(EntryFailure {
            code: r.error_code().unwrap_or_default().to_owned(),
            message: r.error_message().unwrap_or_default().to_owned(),
        }),
        _ => EntryOutcome::Failed(EntryFailure {
            code: "MissingInResponse".to_owned(),
            message: MissingInResponse("result for this entry").to_string(),
        }),
    }
}

fn failed(bus: &EventBusName, meaning: Meaning, source: impl StdError + Send + Sync + 'static) -> ServiceError {
    meaning.with(CallFailed {
        service: "EventBridge",
        operation: "PutEvents",
        target: bus.to_string(),
        source: Box::new(source),
    })
}

impl EventPut for EventBridgeEvents {
    async fn put_events(&self, bus: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
        let mut outcomes = Vec::with_capacity(entries.len());
        for batch in batches(entries) {
            match self.put_batch(bus, batch).await {
                Ok(batch_outcomes) => outcomes.extend(batch_outcomes),
                Err((error, _)) if outcomes.is_empty() => return Err(error),
                Err((_, as_entry)) => {
                    outcomes.resize(entries.len(), EntryOutcome::Failed(as_entry));
                    break;
                }
            }
        }
        Ok(outcomes)
    }
}
