//! PutEvents entries as AWS checks them, and the event each accepted entry becomes.
//!
//! A request has 1 to 10 entries and at most 256 KB of them, sized as AWS documents it ("Calculating PutEvents
//! event entry size": `Time` 14 bytes when present, then the UTF-8 bytes of `Source`, `DetailType`, `Detail` and
//! each of `Resources`); over either limit the whole call fails. Each entry is then checked on its own and fails
//! on its own, with AWS's `ErrorCode` and `ErrorMessage`: a missing `Source`, `DetailType` or `Detail` is
//! `InvalidArgument`, a `Detail` that is not a JSON object `MalformedDetail`, a source in AWS's own `aws.`
//! namespace `NotAuthorizedForSourceException`.
//!
//! An accepted entry becomes the event EventBridge delivers: `version`, `id` (a UUID), `detail-type`, `source`,
//! `account`, `time` (the entry's, else now; `YYYY-MM-DDTHH:MM:SSZ`), `region`, `resources`, `detail`.

use crate::catalog::{self, BusNameError, DEFAULT_BUS};
use local_core::Identity;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// The most entries one PutEvents takes.
pub const MAX_ENTRIES: usize = 10;
/// The most bytes the entries of one PutEvents may have together, by [`PutEventsEntry::size`].
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// One entry of a PutEvents request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutEventsEntry {
    pub time: Option<OffsetDateTime>,
    pub source: Option<String>,
    pub resources: Vec<String>,
    pub detail_type: Option<String>,
    /// JSON text of an object.
    pub detail: Option<String>,
    /// The bus's name or ARN; the default bus when absent.
    pub event_bus_name: Option<String>,
    pub trace_header: Option<String>,
}

impl PutEventsEntry {
    /// The entry's size as AWS counts it against the request's 256 KB.
    pub fn size(&self) -> usize {
        let text = |s: &Option<String>| s.as_deref().map_or(0, str::len);
        let time = if self.time.is_some() { 14 } else { 0 };
        time + text(&self.source)
            + text(&self.detail_type)
            + text(&self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// What became of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    Accepted { event_id: String },
    Failed { error_code: String, error_message: String },
}

impl EntryResult {
    fn failed(code: &str, message: impl Into<String>) -> Self {
        Self::Failed { error_code: code.to_owned(), error_message: message.into() }
    }
}

/// PutEvents' answer: one result per entry, in the request's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutEventsResponse {
    pub failed_entry_count: usize,
    pub entries: Vec<EntryResult>,
}

/// An event as EventBridge delivers it, in AWS's field order.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub version: &'static str,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub time: String,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: Value,
}

/// An accepted entry: the event, on its bus.
#[derive(Debug, Clone)]
pub struct Event {
    /// The bus's name (which may not exist: AWS accepts events for any bus, and drops them).
    pub bus: String,
    pub envelope: Envelope,
    /// The event as JSON text (what targets get by default, and dead-letter queues).
    pub text: String,
    /// The event as a value (what patterns and paths read).
    pub value: Value,
}

/// The time as an event carries it: UTC, to the second.
pub fn event_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, EntryResult> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(EntryResult::failed(
            "InvalidArgument",
            format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
        )),
    }
}

/// Checks one entry and makes its event, received at `now`.
pub fn accept(entry: &PutEventsEntry, identity: &Identity, now: OffsetDateTime) -> Result<Event, EntryResult> {
    let source = required(&entry.source, "Source")?;
    let detail_type = required(&entry.detail_type, "DetailType")?;
    let detail_text = required(&entry.detail, "Detail")?;
    let detail = match serde_json::from_str::<Value>(detail_text) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Err(EntryResult::failed("MalformedDetail", "Detail is malformed.")),
    };
    if source.starts_with("aws.") {
        return Err(EntryResult::failed("NotAuthorizedForSourceException", "Not authorized for the source."));
    }
    let bus = match entry.event_bus_name.as_deref() {
        None | Some("") => DEFAULT_BUS.to_owned(),
        Some(given) => match catalog::bus_name(given, identity) {
            Ok(name) => name,
            // Another account's or region's bus is not here (no bus name has a `:`): accepted and dropped.
            Err(BusNameError::Elsewhere(_)) => given.to_owned(),
            Err(BusNameError::Malformed(why)) => {
                return Err(EntryResult::failed(
                    "InvalidArgument",
                    format!("Parameter EventBusName is not valid. Reason: {why}"),
                ));
            }
        },
    };
    let envelope = Envelope {
        version: "0",
        id: uuid::Uuid::new_v4().to_string(),
        detail_type: detail_type.to_owned(),
        source: source.to_owned(),
        account: identity.account.clone(),
        time: event_time(entry.time.unwrap_or(now)),
        region: identity.region.clone(),
        resources: entry.resources.clone(),
        detail,
    };
    let text = serde_json::to_string(&envelope).map_err(|e| EntryResult::failed("InternalException", e.to_string()))?;
    let value = serde_json::to_value(&envelope).map_err(|e| EntryResult::failed("InternalException", e.to_string()))?;
    Ok(Event { bus, envelope, text, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, detail_type: &str, detail: &str) -> PutEventsEntry {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        PutEventsEntry {
            source: some(source),
            detail_type: some(detail_type),
            detail: some(detail),
            ..Default::default()
        }
    }

    fn code(r: Result<Event, EntryResult>) -> String {
        match r {
            Err(EntryResult::Failed { error_code, .. }) => error_code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_size_counts_time_as_14_bytes_and_the_rest_as_utf8() {
        let mut e = entry("s", "dt", r#"{"é":1}"#);
        e.resources = vec!["abc".into()];
        assert_eq!(e.size(), 1 + 2 + 8 + 3);
        e.time = Some(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(e.size(), 14 + 14);
    }

    #[test]
    fn entries_fail_alone_with_aws_codes() {
        let (id, now) = (Identity::default(), OffsetDateTime::now_utc());
        assert_eq!(code(accept(&entry("", "t", "{}"), &id, now)), "InvalidArgument");
        assert_eq!(code(accept(&entry("s", "", "{}"), &id, now)), "InvalidArgument");
        assert_eq!(code(accept(&entry("s", "t", ""), &id, now)), "InvalidArgument");
        assert_eq!(code(accept(&entry("s", "t", "[1]"), &id, now)), "MalformedDetail");
        assert_eq!(code(accept(&entry("s", "t", "{"), &id, now)), "MalformedDetail");
        assert_eq!(code(accept(&entry("aws.s3", "t", "{}"), &id, now)), "NotAuthorizedForSourceException");
    }

    #[test]
    fn an_accepted_entry_becomes_the_event_envelope() {
        let at = time::macros::datetime!(2026-11-30 12:34:56.789 UTC);
        let e = accept(&entry("app", "Thing Happened", r#"{"n":1}"#), &Identity::default(), at).unwrap();
        assert_eq!(e.bus, "default");
        assert_eq!(e.value["time"], "2026-11-30T12:34:56Z");
        assert_eq!(e.value["detail-type"], "Thing Happened");
        assert_eq!(e.value["account"], "123456789012");
        assert_eq!(e.value["detail"]["n"], 1);
        assert!(e.text.starts_with(r#"{"version":"0","id":""#), "{}", e.text);
    }
}
