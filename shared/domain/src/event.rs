//! Task change events: what the event bus carries when a task is created, changed or deleted.
//!
//! One change of the tasks table (a DynamoDB stream record on AWS, a stream row of the embedded store locally) is
//! turned into events by [`TaskEvent::from_change`], from the task before and after the write:
//! - created → `TaskCreated`; deleted → `TaskDeleted`;
//! - modified → `TaskStatusChanged` when the status moved (with the old and new status), and `TaskUpdated` when
//!   any other field (title, description) changed. A write that changes both yields both events.
//!
//! Every event carries a [`ChangeId`] computed from the data alone (`{task id}/{version}/{detail type}`), so the
//! same change read twice from the stream, or put on the bus twice, is recognisably the same change: consumers
//! deduplicate on it, not on the bus's event id (which is new on every `PutEvents`).
//!
//! On the bus an event is `Source` = [`SOURCE`], `DetailType` = [`TaskEventKind::detail_type`], `Detail` = the
//! JSON of [`TaskEvent`]: `{"change_id", "owner", "task_id", "version", "occurred_at", "changed": {field: {"old",
//! "new"}}, "task"}`. Rules match on it, e.g. a status becoming `done`:
//! `{"source": ["task-platform.tasks"], "detail-type": ["TaskStatusChanged"], "detail": {"changed": {"status":
//! {"new": ["done"]}}}}`.

use crate::bus::BusEvent;
use crate::{Error, Task, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The `Source` of every task event on the bus.
pub const SOURCE: &str = "task-platform.tasks";

/// What happened to a task; the event's `DetailType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskEventKind {
    TaskCreated,
    TaskUpdated,
    TaskStatusChanged,
    TaskDeleted,
}

impl TaskEventKind {
    pub const ALL: [TaskEventKind; 4] =
        [Self::TaskCreated, Self::TaskUpdated, Self::TaskStatusChanged, Self::TaskDeleted];

    pub fn detail_type(self) -> &'static str {
        match self {
            Self::TaskCreated => "TaskCreated",
            Self::TaskUpdated => "TaskUpdated",
            Self::TaskStatusChanged => "TaskStatusChanged",
            Self::TaskDeleted => "TaskDeleted",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|k| k.detail_type() == raw).ok_or_else(|| {
            Error::Invalid(format!("`{}` is not a task event type", raw.chars().take(40).collect::<String>()))
        })
    }
}

impl fmt::Display for TaskEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail_type())
    }
}

/// The identity of one change: `{task id}/{version}/{detail type}`. The same stream record always yields the same
/// id, so it is the idempotency key of everything downstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChangeId(String);

impl ChangeId {
    pub fn new(task: TaskId, version: u64, kind: TaskEventKind) -> Self {
        Self(format!("{task}/{version}/{}", kind.detail_type()))
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = || Error::Invalid(format!("`{}` is not a change id", raw.chars().take(80).collect::<String>()));
        let mut parts = raw.split('/');
        let (Some(task), Some(version), Some(kind), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let task = TaskId::parse(task).map_err(|_| invalid())?;
        let version: u64 = version.parse().map_err(|_| invalid())?;
        let kind = TaskEventKind::parse(kind).map_err(|_| invalid())?;
        Ok(Self::new(task, version, kind))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kind of change, the id's last part.
    pub fn kind(&self) -> TaskEventKind {
        let raw = self.0.rsplit('/').next().unwrap_or_default();
        // A ChangeId is only ever built with a known kind, so the fallback is never taken.
        TaskEventKind::parse(raw).unwrap_or(TaskEventKind::TaskUpdated)
    }
}

impl TryFrom<String> for ChangeId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ChangeId> for String {
    fn from(value: ChangeId) -> Self {
        value.0
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One field's value before and after a change (`null` where it had none: before a creation, after a deletion,
/// or an absent description).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub old: Value,
    pub new: Value,
}

/// A task event's `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEvent {
    pub change_id: ChangeId,
    pub owner: UserId,
    pub task_id: TaskId,
    /// The task's version after the change (for a deletion, the version that was deleted).
    pub version: u64,
    /// When the change was written: the task's `updated_at` (for a deletion, the time it was observed).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: Timestamp,
    /// The fields this event is about, by API name (`title`, `description`, `status`, …).
    pub changed: Map<String, Value>,
    /// The task as the API shows it after the change (for a deletion, as it was before).
    pub task: Value,
}

/// The task fields an event may report, by API name.
const FIELDS: [&str; 3] = ["title", "description", "status"];

impl TaskEvent {
    /// The events one write of a task produced, from the task before (`None` when created) and after (`None` when
    /// deleted). `observed_at` dates a deletion, which leaves no `updated_at` behind. No events when nothing
    /// changed or when both sides are missing.
    pub fn from_change(old: Option<&Task>, new: Option<&Task>, observed_at: Timestamp) -> Vec<TaskEvent> {
        let as_json = |t: &Task| serde_json::to_value(t).unwrap_or(Value::Null);
        match (old, new) {
            (None, None) => Vec::new(),
            (None, Some(new)) => {
                let after = as_json(new);
                let changed = FIELDS.iter().map(|f| (f.to_string(), change(Value::Null, after[f].clone()))).collect();
                vec![Self::build(TaskEventKind::TaskCreated, new, new.updated_at, changed, after)]
            }
            (Some(old), None) => {
                let before = as_json(old);
                let changed = FIELDS.iter().map(|f| (f.to_string(), change(before[f].clone(), Value::Null))).collect();
                vec![Self::build(TaskEventKind::TaskDeleted, old, observed_at, changed, before)]
            }
            (Some(old), Some(new)) => {
                let (before, after) = (as_json(old), as_json(new));
                let mut events = Vec::new();
                if old.status != new.status {
                    let changed = Map::from_iter([(
                        "status".to_owned(),
                        change(before["status"].clone(), after["status"].clone()),
                    )]);
                    events.push(Self::build(
                        TaskEventKind::TaskStatusChanged,
                        new,
                        new.updated_at,
                        changed,
                        after.clone(),
                    ));
                }
                let changed: Map<String, Value> = FIELDS
                    .iter()
                    .filter(|f| **f != "status" && before[**f] != after[**f])
                    .map(|f| (f.to_string(), change(before[f].clone(), after[f].clone())))
                    .collect();
                if !changed.is_empty() {
                    events.push(Self::build(TaskEventKind::TaskUpdated, new, new.updated_at, changed, after));
                }
                events
            }
        }
    }

    fn build(kind: TaskEventKind, task: &Task, at: Timestamp, changed: Map<String, Value>, json: Value) -> Self {
        Self {
            change_id: ChangeId::new(task.id, task.version.0, kind),
            owner: task.owner.clone(),
            task_id: task.id,
            version: task.version.0,
            occurred_at: at,
            changed,
            task: json,
        }
    }

    /// What happened.
    pub fn kind(&self) -> TaskEventKind {
        self.change_id.kind()
    }

    /// The status before and after, for a `TaskStatusChanged` event.
    pub fn status_change(&self) -> Option<(&str, &str)> {
        let c = self.changed.get("status")?;
        Some((c["old"].as_str()?, c["new"].as_str()?))
    }

    /// This event as a bus entry: `Source` [`SOURCE`], `DetailType` its kind, `Detail` its JSON, `Time`
    /// [`TaskEvent::occurred_at`]. [`Error::Invalid`] only if it is over the bus's size limit, which a task within
    /// its fields' limits never is.
    pub fn to_bus_event(&self) -> Result<BusEvent, Error> {
        let detail =
            serde_json::to_value(self).map_err(|e| Error::Invalid(format!("a task event does not serialise: {e}")))?;
        BusEvent::new(SOURCE, self.kind().detail_type(), detail)?.with_time(self.occurred_at)
    }

    /// Reads an event's `detail` as the bus delivers it; a detail that is not a task event is [`Error::Invalid`].
    pub fn from_detail(detail: &Value) -> Result<Self, Error> {
        serde_json::from_value(detail.clone()).map_err(|e| Error::Invalid(format!("not a task event detail: {e}")))
    }
}

fn change(old: Value, new: Value) -> Value {
    serde_json::to_value(FieldChange { old, new }).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Description, Status, Title, Version};

    fn task(status: Status, title: &str, version: u64) -> Task {
        let at = time::macros::datetime!(2026-11-30 12:00 UTC);
        Task {
            owner: UserId::parse("user-1").unwrap(),
            id: TaskId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2").unwrap(),
            title: Title::parse(title).unwrap(),
            description: Some(Description::parse("d").unwrap()),
            status,
            created_at: at,
            updated_at: at,
            version: Version(version),
        }
    }

    #[test]
    fn a_status_change_and_a_rename_in_one_write_are_two_events() {
        let old = task(Status::Pending, "a", 1);
        let new = task(Status::Done, "b", 2);
        let events = TaskEvent::from_change(Some(&old), Some(&new), crate::now());
        let kinds: Vec<_> = events.iter().map(TaskEvent::kind).collect();
        assert_eq!(kinds, [TaskEventKind::TaskStatusChanged, TaskEventKind::TaskUpdated]);
        assert_eq!(events[0].status_change(), Some(("pending", "done")));
        assert_eq!(events[1].changed.keys().collect::<Vec<_>>(), ["title"]);
        assert_eq!(events[0].change_id.as_str(), "01JDQ3V5R5T4Y2E7Q9M8N6B4C2/2/TaskStatusChanged");
    }

    #[test]
    fn the_same_change_always_has_the_same_change_id_and_round_trips() {
        let new = task(Status::Pending, "a", 1);
        let a = TaskEvent::from_change(None, Some(&new), crate::now());
        let b = TaskEvent::from_change(None, Some(&new), crate::now());
        assert_eq!(a[0].change_id, b[0].change_id);
        let back = TaskEvent::from_detail(&serde_json::to_value(&a[0]).unwrap()).unwrap();
        assert_eq!(back.kind(), TaskEventKind::TaskCreated);
        assert_eq!(back.changed["status"]["new"], "pending");
    }

    #[test]
    fn a_write_that_changes_nothing_is_no_event_and_a_deletion_keeps_the_old_task() {
        let t = task(Status::Pending, "a", 1);
        assert!(TaskEvent::from_change(Some(&t), Some(&t), crate::now()).is_empty());
        let gone = TaskEvent::from_change(Some(&t), None, crate::now());
        assert_eq!(gone[0].kind(), TaskEventKind::TaskDeleted);
        assert_eq!(gone[0].task["title"], "a");
    }

    #[test]
    fn a_task_event_goes_on_the_bus_with_its_source_kind_json_and_time() {
        let t = task(Status::Pending, "a", 1);
        let event = TaskEvent::from_change(None, Some(&t), crate::now()).remove(0);
        let entry = event.to_bus_event().unwrap();
        assert_eq!((entry.source(), entry.detail_type()), (SOURCE, "TaskCreated"));
        assert_eq!(entry.time(), Some(t.updated_at));
        assert!(entry.resources().is_empty());
        assert_eq!(TaskEvent::from_detail(entry.detail()).unwrap(), event);
    }

    #[test]
    fn a_detail_that_is_not_a_task_event_is_refused() {
        assert!(TaskEvent::from_detail(&serde_json::json!({"owner": "x"})).is_err());
        assert!(ChangeId::parse("x/1/TaskCreated").is_err());
        assert!(ChangeId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2/1/Nope").is_err());
    }
}
