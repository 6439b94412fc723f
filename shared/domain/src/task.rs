//! A task and the values it is made of. Every field is a type that can only hold a valid value, and request bodies
//! are read into these types in one place ([`NewTask::from_json`], [`TaskPatch::from_json`]) so that a wrong type,
//! an unknown status or an over-long title is refused before any store is touched.

use crate::{Error, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::{fmt, str::FromStr};

/// Longest title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest description, in characters. Bodies are capped at 64 KiB anyway; this keeps an item far below
/// DynamoDB's 400 KB limit whatever the encoding.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// A task id: a ULID, so ids sort by creation time and "newest first" is a key-order read in every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(ulid::Ulid);

impl TaskId {
    /// A fresh id for a task created at `at`. Within one process ids only grow, even for tasks created in the same
    /// millisecond, so "newest first" holds for them too (across processes, ids of one millisecond are unordered).
    pub fn generate(at: Timestamp) -> Self {
        static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);
        let ms = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
        let candidate = ulid::Ulid::from_parts(ms, rand_bits()).0;
        let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Same millisecond as the last id (or a clock that stepped back): one more than the last, as ULID's
        // monotonic mode does. The 80 random bits leave room for ~10^24 increments.
        let id = if candidate > *last { candidate } else { *last + 1 };
        *last = id;
        Self(ulid::Ulid(id))
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = || Error::BadRequest(format!("`{}` is not a task id", truncate(raw)));
        // Crockford base32 is case-insensitive; ids are always handed out in upper case.
        if raw.len() != 26 {
            return Err(invalid());
        }
        // 26 characters carry 130 bits; a ULID is 128, so the first character is at most `7`. The `ulid` decoder
        // drops the extra bits instead of refusing them, so `8…` would silently name the task `0…`.
        if raw.as_bytes()[0] > b'7' {
            return Err(invalid());
        }
        let id = ulid::Ulid::from_string(&raw.to_ascii_uppercase()).map_err(|_| invalid())?;
        // Round-trip as a last guard: an id is only valid if it is the canonical spelling of the ULID it decodes to.
        if !id.to_string().eq_ignore_ascii_case(raw) {
            return Err(invalid());
        }
        Ok(Self(id))
    }
}

fn rand_bits() -> u128 {
    // ULID's 80 random bits, from the thread-local CSPRNG.
    rand::random::<u128>() & ((1u128 << 80) - 1)
}

pub(crate) fn truncate(raw: &str) -> String {
    raw.chars().take(40).collect()
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for TaskId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TaskId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A non-empty title of at most [`TITLE_MAX_CHARS`] characters, without surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::Invalid("`title` must not be empty".into()));
        }
        let chars = trimmed.chars().count();
        if chars > TITLE_MAX_CHARS {
            return Err(Error::Invalid(format!(
                "`title` is {chars} characters; at most {TITLE_MAX_CHARS} are allowed"
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::Invalid("`title` must not contain control characters".into()));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text of at most [`DESCRIPTION_MAX_CHARS`] characters (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let chars = raw.chars().count();
        if chars > DESCRIPTION_MAX_CHARS {
            return Err(Error::Invalid(format!(
                "`description` is {chars} characters; at most {DESCRIPTION_MAX_CHARS} are allowed"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a task stands. The wire names (`pending`, `in_progress`, `done`) are the only spelling, in JSON, in
/// DynamoDB and in SQLite, so a filter can never look under a different name than a write used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InProgress,
    Done,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::InProgress, Status::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Done => "done",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            Error::Invalid(format!("`status` must be one of pending, in_progress, done; got `{}`", truncate(raw)))
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's version: 1 when created, +1 on every change. `If-Match` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    pub const FIRST: Version = Version(1);

    /// Reads an `If-Match` header value: the bare number, quotes (and a weak `W/` prefix) tolerated.
    pub fn parse_if_match(raw: &str) -> Result<Self, Error> {
        let s = raw.trim();
        let s = s.strip_prefix("W/").unwrap_or(s);
        let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
        s.parse::<u64>().ok().filter(|v| *v >= 1).map(Version).ok_or_else(|| {
            Error::BadRequest(format!("If-Match must be a task version (a positive integer); got `{}`", truncate(raw)))
        })
    }
}

/// A stored task. `owner` never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    #[serde(skip)]
    pub owner: UserId,
    pub id: TaskId,
    pub title: Title,
    pub description: Option<Description>,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    pub version: Version,
}

/// What `POST /tasks` may carry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub description: Option<Description>,
    pub status: Status,
}

/// A partial update: `None` leaves a field alone; `description: Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub status: Option<Status>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.status.is_none()
    }

    /// The task as it is after this patch, at `now`, one version later.
    pub fn apply(&self, task: &Task, now: Timestamp) -> Task {
        Task {
            title: self.title.clone().unwrap_or_else(|| task.title.clone()),
            description: self.description.clone().unwrap_or_else(|| task.description.clone()),
            status: self.status.unwrap_or(task.status),
            updated_at: now,
            version: Version(task.version.0 + 1),
            ..task.clone()
        }
    }
}

const TASK_FIELDS: &str = "title, description, status";

fn object(body: &Value) -> Result<&Map<String, Value>, Error> {
    body.as_object().ok_or_else(|| Error::Invalid(format!("the body must be a JSON object with any of: {TASK_FIELDS}")))
}

fn reject_unknown(map: &Map<String, Value>) -> Result<(), Error> {
    match map.keys().find(|k| !matches!(k.as_str(), "title" | "description" | "status")) {
        // Refused rather than ignored: a misspelt `stauts` silently dropped is a lost update to the user.
        Some(k) => Err(Error::Invalid(format!("unknown field `{}`; expected any of: {TASK_FIELDS}", truncate(k)))),
        None => Ok(()),
    }
}

fn string<'a>(map: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Error> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::Invalid(format!("`{field}` must be a string, not {}", kind(other)))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl NewTask {
    /// Reads `{title, description?, status?}`; status defaults to `pending`.
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let map = object(body)?;
        reject_unknown(map)?;
        let title = string(map, "title")?.ok_or_else(|| Error::Invalid("`title` is required".into()))?;
        let description = match map.get("description") {
            None | Some(Value::Null) => None,
            Some(_) => string(map, "description")?.map(Description::parse).transpose()?,
        };
        Ok(Self {
            title: Title::parse(title)?,
            description,
            status: string(map, "status")?.map(Status::parse).transpose()?.unwrap_or(Status::Pending),
        })
    }
}

impl TaskPatch {
    /// Reads a partial update: any of `title`, `description` (null clears it), `status`; at least one.
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let map = object(body)?;
        reject_unknown(map)?;
        let patch = Self {
            title: string(map, "title")?.map(Title::parse).transpose()?,
            description: match map.get("description") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(_) => Some(string(map, "description")?.map(Description::parse).transpose()?),
            },
            status: string(map, "status")?.map(Status::parse).transpose()?,
        };
        if patch.is_empty() {
            return Err(Error::Invalid(format!("nothing to update; send any of: {TASK_FIELDS}")));
        }
        Ok(patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_title_that_is_a_number_is_refused_as_invalid() {
        let err = NewTask::from_json(&json!({"title": 5})).unwrap_err();
        assert!(matches!(err, Error::Invalid(ref m) if m.contains("`title` must be a string")), "{err:?}");
    }

    #[test]
    fn an_unknown_status_is_refused() {
        let err = NewTask::from_json(&json!({"title": "x", "status": "banana"})).unwrap_err();
        assert!(matches!(err, Error::Invalid(ref m) if m.contains("banana")), "{err:?}");
    }

    #[test]
    fn status_defaults_to_pending_and_wire_names_round_trip() {
        let t = NewTask::from_json(&json!({"title": " Buy milk "})).unwrap();
        assert_eq!(t.status, Status::Pending);
        assert_eq!(t.title.as_str(), "Buy milk");
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
    }

    #[test]
    fn unknown_fields_and_empty_patches_are_refused() {
        assert!(matches!(NewTask::from_json(&json!({"title": "x", "stauts": "done"})), Err(Error::Invalid(_))));
        assert!(matches!(TaskPatch::from_json(&json!({})), Err(Error::Invalid(_))));
        assert!(matches!(TaskPatch::from_json(&json!([1])), Err(Error::Invalid(_))));
        assert!(matches!(TaskPatch::from_json(&json!({"status": null})), Err(Error::Invalid(_))));
    }

    #[test]
    fn a_null_description_in_a_patch_clears_it() {
        let p = TaskPatch::from_json(&json!({"description": null})).unwrap();
        assert_eq!(p.description, Some(None));
    }

    #[test]
    fn if_match_accepts_bare_quoted_and_weak_versions() {
        assert_eq!(Version::parse_if_match("3").unwrap(), Version(3));
        assert_eq!(Version::parse_if_match("\"3\"").unwrap(), Version(3));
        assert_eq!(Version::parse_if_match("W/\"3\"").unwrap(), Version(3));
        assert!(Version::parse_if_match("abc").is_err());
        assert!(Version::parse_if_match("0").is_err());
        assert!(Version::parse_if_match("").is_err());
    }

    #[test]
    fn ids_generated_in_the_same_millisecond_still_only_grow() {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        let ids: Vec<_> = (0..1000).map(|_| TaskId::generate(at)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_generated_later_sort_after_earlier_ones() {
        let a = TaskId::generate(time::macros::datetime!(2026-01-01 0:00 UTC));
        let b = TaskId::generate(time::macros::datetime!(2026-01-01 0:00:00.001 UTC));
        assert!(a < b);
        assert_eq!(TaskId::parse(&a.to_string().to_lowercase()).unwrap(), a);
    }

    #[test]
    fn an_id_beyond_the_ulid_range_is_refused_not_read_as_another_task() {
        let a = TaskId::generate(time::macros::datetime!(2026-01-01 0:00 UTC)).to_string();
        assert!(a.starts_with('0'));
        for first in ['8', '9', 'Z', 'z'] {
            let alias = format!("{first}{}", &a[1..]);
            assert!(matches!(TaskId::parse(&alias), Err(Error::BadRequest(_))), "{alias}");
        }
        // Crockford's look-alike letters decode to the same bits; only the canonical spelling names a task.
        let with_o = a.replacen('0', "O", 1);
        assert!(TaskId::parse(&with_o).is_err(), "{with_o}");
        assert_eq!(TaskId::parse(&a).unwrap().to_string(), a);
    }

    proptest! {
        #[test]
        fn any_title_that_parses_is_trimmed_nonempty_and_short(raw in "\\PC{0,260}") {
            if let Ok(t) = Title::parse(&raw) {
                prop_assert!(!t.as_str().is_empty());
                prop_assert!(t.as_str().chars().count() <= TITLE_MAX_CHARS);
                prop_assert_eq!(t.as_str(), t.as_str().trim());
            }
        }

        #[test]
        fn task_id_parse_never_panics_and_round_trips(raw in "[0-9A-Za-z]{0,30}") {
            if let Ok(id) = TaskId::parse(&raw) {
                prop_assert_eq!(TaskId::parse(&id.to_string()).unwrap(), id);
            }
        }

        #[test]
        fn if_match_round_trips_any_positive_version(v in 1u64..u64::MAX) {
            prop_assert_eq!(Version::parse_if_match(&format!("\"{v}\"")).unwrap(), Version(v));
        }
    }
}
