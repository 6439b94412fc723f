//! The event operations: PutEvents and TestEventPattern.

use super::{input, required};
use crate::{EntryResult, EventBridge, EventsError, PutEventsEntry};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub(super) struct PutEvents {
    entries: Vec<PutEventsEntry>,
}

/// A PutEvents entry as the JSON protocol carries it: `Time` in epoch seconds.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireEntry {
    time: Option<f64>,
    source: Option<String>,
    resources: Option<Vec<String>>,
    detail_type: Option<String>,
    detail: Option<String>,
    event_bus_name: Option<String>,
    trace_header: Option<String>,
}

fn time(seconds: f64) -> Result<OffsetDateTime, EventsError> {
    let nanos = seconds * 1e9;
    let parsed = nanos.is_finite().then(|| OffsetDateTime::from_unix_timestamp_nanos(nanos as i128).ok()).flatten();
    parsed.ok_or_else(|| EventsError::Validation(format!("Parameter Time is not valid: {seconds} is not a time")))
}

impl PutEvents {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            entries: Option<Vec<WireEntry>>,
        }
        let i: Input = input(body)?;
        let entries = required(i.entries, "entries")?
            .into_iter()
            .map(|e| {
                Ok(PutEventsEntry {
                    time: e.time.map(time).transpose()?,
                    source: e.source,
                    resources: e.resources.unwrap_or_default(),
                    detail_type: e.detail_type,
                    detail: e.detail,
                    event_bus_name: e.event_bus_name,
                    trace_header: e.trace_header,
                })
            })
            .collect::<Result<_, EventsError>>()?;
        Ok(Self { entries })
    }

    pub(super) async fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        let response = service.put_events(self.entries).await?;
        let entries: Vec<Value> = response
            .entries
            .into_iter()
            .map(|e| match e {
                EntryResult::Accepted { event_id } => json!({"EventId": event_id}),
                EntryResult::Failed { error_code, error_message } => {
                    json!({"ErrorCode": error_code, "ErrorMessage": error_message})
                }
            })
            .collect();
        Ok(json!({"FailedEntryCount": response.failed_entry_count, "Entries": entries}))
    }
}

pub(super) struct TestEventPattern {
    pattern: String,
    event: String,
}

impl TestEventPattern {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            event_pattern: Option<String>,
            event: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { pattern: required(i.event_pattern, "eventPattern")?, event: required(i.event, "event")? })
    }

    pub(super) fn apply(self) -> Result<Value, EventsError> {
        Ok(json!({"Result": EventBridge::test_event_pattern(&self.pattern, &self.event)?}))
    }
}
