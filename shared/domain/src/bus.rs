//! Events for an event bus: which bus ([`EventBusName`]), what goes on it ([`BusEvent`]), how a list of them is cut
//! into `PutEvents` calls ([`batches`]) and what the bus says about each ([`EntryOutcome`]). The rules are
//! EventBridge's, so an event that builds is one `PutEvents` accepts, and a batch is one request it takes.

use crate::{Error, Timestamp};
use serde_json::Value;
use std::fmt;

/// Most entries one `PutEvents` call takes.
pub const PUT_EVENTS_MAX_ENTRIES: usize = 10;

/// Largest entry, and largest sum of entries in one `PutEvents` call, in bytes as [`BusEvent::size`] counts them.
/// EventBridge took 256 KiB for years and takes 1 MiB since 2026; the old limit is what emulators and older
/// accounts still enforce, and a task event is far smaller (its description is capped at 10 000 characters).
pub const PUT_EVENTS_MAX_BYTES: usize = 256 * 1024;

/// How many bytes `Time` counts for in an entry's size, whatever its value (AWS's documented rule).
const TIME_BYTES: usize = 14;
/// Longest bus name, and longest bus ARN.
const NAME_MAX_CHARS: usize = 256;
const ARN_MAX_CHARS: usize = 1600;
/// Longest `Source`, `DetailType`, and each of `Resources`.
const SOURCE_MAX_CHARS: usize = 256;
const DETAIL_TYPE_MAX_CHARS: usize = 128;
const RESOURCE_MAX_CHARS: usize = 2048;
/// Deepest `Detail` EventBridge reads (it refuses JSON nested deeper).
const DETAIL_MAX_DEPTH: usize = 1100;

fn clip(raw: &str) -> String {
    raw.chars().take(80).collect()
}

/// The characters of a bus name and of a source: ASCII letters, digits, `.`, `-`, `_` and `/`.
fn name_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b"./-_".contains(&b))
}

/// The bus an event goes to, as `PutEvents` names it: a name (`default`, `tasks-prod`, a partner bus's
/// `aws.partner/…`) of 1–256 ASCII letters, digits, `.`, `-`, `_` and `/`, or the bus's ARN
/// `arn:{partition}:events:{region}:{12-digit account}:event-bus/{name}` (what `template.yaml`'s `!GetAtt
/// Bus.Arn` gives; needed for a bus of another account).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventBusName(String);

impl EventBusName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Invalid(format!("`{}` is not an event bus name or ARN: {why}", clip(raw)));
        let name = match raw.strip_prefix("arn:") {
            Some(arn) => {
                if raw.chars().count() > ARN_MAX_CHARS {
                    return Err(bad("an ARN is at most 1600 characters"));
                }
                let mut parts = arn.splitn(5, ':');
                let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
                    (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad("an ARN has six `:`-separated parts"));
                };
                let partition_ok = partition
                    .strip_prefix("aws")
                    .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
                if !partition_ok || service != "events" {
                    return Err(bad("not an EventBridge ARN"));
                }
                if !region_ok(region) {
                    return Err(bad("no valid region"));
                }
                if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("the account is not 12 digits"));
                }
                resource.strip_prefix("event-bus/").ok_or_else(|| bad("not an event bus ARN"))?
            }
            None => raw,
        };
        if name.is_empty() || name.len() > NAME_MAX_CHARS || !name_chars(name) {
            return Err(bad("a name is 1 to 256 ASCII letters, digits, `.`, `-`, `_` and `/`"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The bus's name (for an ARN, the part after `event-bus/`).
    pub fn name(&self) -> &str {
        self.0.split_once(":event-bus/").map_or(&self.0, |(_, name)| name)
    }

    pub fn is_arn(&self) -> bool {
        self.0.starts_with("arn:")
    }

    /// The name or ARN as given, which is what `PutEvents` takes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[a-z]{2}-[a-z]+-[\w-]+`, the region pattern of EventBridge's ARNs (`us-east-1`, `us-gov-west-1`).
fn region_ok(region: &str) -> bool {
    let mut parts = region.splitn(3, '-');
    let (Some(country), Some(area), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { return false };
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_lowercase())
        && !area.is_empty()
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Display for EventBusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of a `PutEvents` call. It is built checked against EventBridge's rules, so the bus will not refuse
/// it as malformed:
/// - `Source`: 1–256 ASCII letters, digits, `.`, `-`, `_` and `/`, not starting with `aws.` (AWS's own sources);
/// - `DetailType`: 1–128 characters;
/// - `Detail`: a JSON object, nested at most 1100 deep;
/// - `Resources`: each at most 2048 characters (ARNs, by convention);
/// - the entry's [size](BusEvent::size) at most [`PUT_EVENTS_MAX_BYTES`].
///
/// The bus is not part of the entry: it is named once per call ([`crate::ports::EventPut`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BusEvent {
    source: String,
    detail_type: String,
    detail: Value,
    /// `detail` serialised once: what is sent, and what the size counts.
    detail_json: String,
    resources: Vec<String>,
    time: Option<Timestamp>,
}

impl BusEvent {
    /// An event without resources, timed by the bus when it receives it.
    pub fn new(source: &str, detail_type: &str, detail: Value) -> Result<Self, Error> {
        let lower = source.to_ascii_lowercase();
        if source.is_empty() || source.len() > SOURCE_MAX_CHARS || !name_chars(source) || lower.starts_with("aws.") {
            return Err(Error::Invalid(format!(
                "`{}` is not an event source: 1 to 256 ASCII letters, digits, `.`, `-`, `_` and `/`, not \
                 starting with `aws.`",
                clip(source)
            )));
        }
        let chars = detail_type.chars().count();
        if chars == 0 || chars > DETAIL_TYPE_MAX_CHARS {
            return Err(Error::Invalid(format!("a detail type is 1 to {DETAIL_TYPE_MAX_CHARS} characters")));
        }
        if !detail.is_object() {
            return Err(Error::Invalid("an event's detail must be a JSON object".into()));
        }
        if depth(&detail) > DETAIL_MAX_DEPTH {
            return Err(Error::Invalid(format!("an event's detail is nested at most {DETAIL_MAX_DEPTH} deep")));
        }
        let detail_json = serde_json::to_string(&detail)
            .map_err(|e| Error::Invalid(format!("an event's detail does not serialise: {e}")))?;
        let event = Self {
            source: source.to_owned(),
            detail_type: detail_type.to_owned(),
            detail,
            detail_json,
            resources: Vec::new(),
            time: None,
        };
        event.within_limit()
    }

    /// This event, dated `time` (when it happened; the bus's receipt time otherwise).
    pub fn with_time(mut self, time: Timestamp) -> Result<Self, Error> {
        self.time = Some(time);
        self.within_limit()
    }

    /// This event, about `resource` too (an ARN, by convention; rules can match on it).
    pub fn with_resource(mut self, resource: &str) -> Result<Self, Error> {
        if resource.chars().count() > RESOURCE_MAX_CHARS {
            return Err(Error::Invalid(format!("a resource is at most {RESOURCE_MAX_CHARS} characters")));
        }
        self.resources.push(resource.to_owned());
        self.within_limit()
    }

    fn within_limit(self) -> Result<Self, Error> {
        let size = self.size();
        if size > PUT_EVENTS_MAX_BYTES {
            return Err(Error::Invalid(format!(
                "an event entry is at most {PUT_EVENTS_MAX_BYTES} bytes; this one is {size}"
            )));
        }
        Ok(self)
    }

    /// The entry's size as EventBridge counts it against [`PUT_EVENTS_MAX_BYTES`]: 14 bytes for `Time` if set,
    /// plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each of `Resources`.
    pub fn size(&self) -> usize {
        self.time.map_or(0, |_| TIME_BYTES)
            + self.source.len()
            + self.detail_type.len()
            + self.detail_json.len()
            + self.resources.iter().map(String::len).sum::<usize>()
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn detail_type(&self) -> &str {
        &self.detail_type
    }

    pub fn detail(&self) -> &Value {
        &self.detail
    }

    /// `Detail` as sent: the JSON text of [`BusEvent::detail`].
    pub fn detail_json(&self) -> &str {
        &self.detail_json
    }

    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }
}

/// How deep `value` nests (a scalar is 0, `{}` is 1), without recursion: a detail nested deeper than the stack
/// must be refused, not overflow it.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, d + 1))),
            _ => continue,
        }
        deepest = deepest.max(d + 1);
        if deepest > DETAIL_MAX_DEPTH {
            break;
        }
    }
    deepest
}

/// `entries` cut, in order, into the `PutEvents` calls that carry them: at most [`PUT_EVENTS_MAX_ENTRIES`] entries
/// and [`PUT_EVENTS_MAX_BYTES`] bytes each. Every entry is within the byte limit on its own, so each batch holds at
/// least one.
pub fn batches(entries: &[BusEvent]) -> Batches<'_> {
    Batches { rest: entries }
}

/// The iterator of [`batches`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    rest: &'a [BusEvent],
}

impl<'a> Iterator for Batches<'a> {
    type Item = &'a [BusEvent];

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut take = 0;
        for entry in self.rest.iter().take(PUT_EVENTS_MAX_ENTRIES) {
            if take > 0 && bytes + entry.size() > PUT_EVENTS_MAX_BYTES {
                break;
            }
            bytes += entry.size();
            take += 1;
        }
        let (batch, rest) = self.rest.split_at(take);
        self.rest = rest;
        Some(batch)
    }
}

/// The id the bus gave an event it accepted (new on every `PutEvents`, so not a deduplication key: task events
/// carry their own [`crate::ChangeId`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId(String);

impl EventId {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What became of one entry of a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// The bus took the entry and will deliver it to the rules that match.
    Accepted(EventId),
    /// The bus did not take the entry.
    Failed(EntryFailure),
}

impl EntryOutcome {
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }
}

/// Why an entry was not put, in the bus's words: the entry's `ErrorCode` and `ErrorMessage` (`InternalFailure`,
/// `ThrottlingException`, `MalformedDetail`, …), or, for an entry whose whole call failed, that call's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    pub code: String,
    pub message: String,
}

impl EntryFailure {
    /// Whether putting the same entry again later may succeed (the codes EventBridge documents as transient).
    pub fn is_retryable(&self) -> bool {
        matches!(self.code.as_str(), "InternalFailure" | "InternalException" | "ThrottlingException")
    }
}

impl fmt::Display for EntryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bus_is_named_by_its_name_or_its_arn() {
        let name = EventBusName::parse("tasks-prod").unwrap();
        assert_eq!((name.name(), name.is_arn()), ("tasks-prod", false));
        let arn = EventBusName::parse("arn:aws:events:eu-west-1:123456789012:event-bus/tasks-prod").unwrap();
        assert_eq!((arn.name(), arn.is_arn()), ("tasks-prod", true));
        assert!(EventBusName::parse("arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/b").is_ok());
        assert!(EventBusName::parse("aws.partner/example.com/123/stream").is_ok());
        assert!(EventBusName::parse("default").is_ok());
        for bad in [
            "",
            "has space",
            "tâches",
            &"b".repeat(257),
            "arn:aws:sqs:eu-west-1:123456789012:event-bus/b",
            "arn:aws:events:eu-west-1:12345:event-bus/b",
            "arn:aws:events:euwest1:123456789012:event-bus/b",
            "arn:aws:events:eu-west-1:123456789012:rule/b",
            "arn:aws:events:eu-west-1:123456789012:event-bus/",
            "arn:gcp:events:eu-west-1:123456789012:event-bus/b",
            "arn:aws:events:eu-west-1:123456789012",
        ] {
            assert!(EventBusName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_event_has_a_source_aws_does_not_reserve_a_short_detail_type_and_an_object_detail() {
        assert!(BusEvent::new("task-platform.tasks", "TaskCreated", json!({"a": 1})).is_ok());
        for source in ["", "aws.s3", "AWS.x", "has space", &"s".repeat(257)] {
            assert!(BusEvent::new(source, "T", json!({})).is_err(), "{source:?}");
        }
        assert!(BusEvent::new("s", "", json!({})).is_err());
        assert!(BusEvent::new("s", &"é".repeat(128), json!({})).is_ok());
        assert!(BusEvent::new("s", &"é".repeat(129), json!({})).is_err());
        for detail in [json!([1]), json!("x"), json!(null), json!(1)] {
            assert!(BusEvent::new("s", "T", detail.clone()).is_err(), "{detail}");
        }
        let mut deep = json!({});
        for _ in 0..DETAIL_MAX_DEPTH {
            deep = json!({ "d": deep });
        }
        assert!(BusEvent::new("s", "T", deep).is_err());
        assert!(BusEvent::new("s", "T", json!({})).unwrap().with_resource(&"r".repeat(2049)).is_err());
    }

    #[test]
    fn the_size_is_counted_as_aws_documents_and_capped_at_256_kib() {
        let e = BusEvent::new("src", "Type", json!({"k": "é"})).unwrap();
        // `{"k":"é"}` is 10 bytes: é is two.
        assert_eq!(e.size(), 3 + 4 + 10);
        let e = e.with_time(crate::now()).unwrap().with_resource("arn:x").unwrap();
        assert_eq!(e.size(), 3 + 4 + 10 + 14 + 5);

        // `{"k":"…"}` is 8 bytes around the string.
        let fill = PUT_EVENTS_MAX_BYTES - 1 - 1 - 8;
        let at_limit = BusEvent::new("s", "T", json!({ "k": "x".repeat(fill) })).unwrap();
        assert_eq!(at_limit.size(), PUT_EVENTS_MAX_BYTES);
        assert!(BusEvent::new("s", "T", json!({ "k": "x".repeat(fill + 1) })).is_err());
        assert!(at_limit.clone().with_time(crate::now()).is_err(), "a time adds 14 bytes");
        assert!(at_limit.with_resource("r").is_err());
    }

    #[test]
    fn batches_hold_at_most_ten_entries_and_256_kib_in_order() {
        let small: Vec<_> = (0..23).map(|i| BusEvent::new("s", "T", json!({ "i": i })).unwrap()).collect();
        let sizes: Vec<_> = batches(&small).map(<[_]>::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let flat: Vec<_> = batches(&small).flatten().map(|e| e.detail()["i"].clone()).collect();
        assert_eq!(flat, (0..23).map(|i| json!(i)).collect::<Vec<_>>());

        let big = BusEvent::new("s", "T", json!({ "k": "x".repeat(100 * 1024) })).unwrap();
        let mixed = vec![big.clone(), big.clone(), big.clone(), small[0].clone(), big];
        let sizes: Vec<_> = batches(&mixed).map(<[_]>::len).collect();
        assert_eq!(sizes, [2, 3]);
        assert!(batches(&mixed).all(|b| b.iter().map(BusEvent::size).sum::<usize>() <= PUT_EVENTS_MAX_BYTES));
        assert_eq!(batches(&[]).count(), 0);
    }

    #[test]
    fn only_internal_failures_and_throttling_are_worth_retrying() {
        let failure = |code: &str| EntryFailure { code: code.into(), message: String::new() };
        assert!(failure("InternalFailure").is_retryable());
        assert!(failure("ThrottlingException").is_retryable());
        assert!(!failure("MalformedDetail").is_retryable());
        assert!(!failure("InvalidArgument").is_retryable());
    }
}
