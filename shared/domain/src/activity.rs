//! A task's activity log: one entry per change of the task, as its [`TaskEvent`] told it, read newest first a page
//! at a time.
//!
//! An entry's place in the log is its [`Position`]: the task's version after the change, then the change's step
//! within that one write (created, status changed, updated, deleted). It is computed from the [`ChangeId`] alone, so
//! every delivery of one change lands on the same key and the store's conditional put keeps exactly one. A key with
//! the time in it would not do: a deletion's `occurred_at` is when the deletion was *observed*, which two deliveries
//! of one stream record need not agree on, and both would be kept. Versions only grow, so position order is the
//! order in which the writes happened, whatever the clocks said.
//!
//! Pages work as the task list's do ([`crate::page`]): the same [`Limit`], and a `next` token sealed for the owner
//! and the task, naming the last change of the page. An owner's log of a task is read by key: another user asking
//! for it reads their own (empty) log of that id, and is told `404` as for a task that does not exist.

use crate::event::FieldChange;
use crate::ports::TaskGet;
use crate::{
    Caller, ChangeId, Error, Limit, PageKey, PageToken, StoreError, TaskEvent, TaskEventKind, TaskId, Timestamp, UserId,
};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::future::Future;

/// The fields a change touched, by API name (`title`, `description`, `status`), each with its value before and
/// after.
pub type Changes = BTreeMap<String, FieldChange>;

/// Where a change stands in its task's history: the task's version after it, then its step within that write.
/// Orders as the writes happened; equal for every delivery of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    version: u64,
    step: u8,
}

impl Position {
    /// The position of `change`, from its id alone.
    pub fn of(change: &ChangeId) -> Self {
        let (_, version) = task_and_version(change);
        Self { version, step: step(change.kind()) }
    }

    pub fn version(self) -> u64 {
        self.version
    }

    /// 0 created, 1 status changed, 2 updated (one write that changes the status and a title yields both, in that
    /// order), 3 deleted (a deletion carries the version it deleted, so it comes after that version's changes).
    pub fn step(self) -> u8 {
        self.step
    }

    /// The position as a string that sorts as positions do, `{version:020}#{step}`: the sort key for stores whose
    /// keys are strings (DynamoDB).
    pub fn key(self) -> String {
        format!("{:020}#{}", self.version, self.step)
    }
}

fn step(kind: TaskEventKind) -> u8 {
    match kind {
        TaskEventKind::TaskCreated => 0,
        TaskEventKind::TaskStatusChanged => 1,
        TaskEventKind::TaskUpdated => 2,
        TaskEventKind::TaskDeleted => 3,
    }
}

/// The task and version a change id names (its kind is [`ChangeId::kind`]).
fn task_and_version(change: &ChangeId) -> (TaskId, u64) {
    let mut parts = change.as_str().split('/');
    // `ChangeId::parse` and `ChangeId::new` only ever make `{task id}/{version}/{kind}`, so neither can fail.
    let task = parts.next().and_then(|t| TaskId::parse(t).ok()).expect("a change id starts with a task id");
    let version = parts.next().and_then(|v| v.parse().ok()).expect("a change id's second part is a version");
    (task, version)
}

/// One entry of a task's activity log. The task and version are those its change id names, by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    owner: UserId,
    task_id: TaskId,
    version: u64,
    change_id: ChangeId,
    occurred_at: Timestamp,
    changed: Changes,
}

impl Activity {
    /// An entry of `owner`'s log of the task `change_id` names.
    pub fn new(owner: UserId, change_id: ChangeId, occurred_at: Timestamp, changed: Changes) -> Self {
        let (task_id, version) = task_and_version(&change_id);
        Self { owner, task_id, version, change_id, occurred_at, changed }
    }

    /// The entry a task event makes. [`Error::Invalid`] when the event's change id names another task or version
    /// than the event does, or a changed field is not `{"old", "new"}`: such an entry would be filed wrongly.
    pub fn from_event(event: &TaskEvent) -> Result<Self, Error> {
        if ChangeId::new(event.task_id, event.version, event.kind()) != event.change_id {
            return Err(Error::Invalid(format!(
                "the change id `{}` does not name task {} at version {}",
                event.change_id, event.task_id, event.version
            )));
        }
        let changed = event
            .changed
            .iter()
            .map(|(field, change)| {
                let change = serde_json::from_value(change.clone()).map_err(|e| {
                    Error::Invalid(format!(
                        "the change of `{}` is not {{\"old\", \"new\"}}: {e}",
                        field.chars().take(40).collect::<String>()
                    ))
                })?;
                Ok((field.clone(), change))
            })
            .collect::<Result<Changes, Error>>()?;
        Ok(Self::new(event.owner.clone(), event.change_id.clone(), event.occurred_at, changed))
    }

    pub fn owner(&self) -> &UserId {
        &self.owner
    }

    pub fn task_id(&self) -> TaskId {
        self.task_id
    }

    pub fn change_id(&self) -> &ChangeId {
        &self.change_id
    }

    pub fn kind(&self) -> TaskEventKind {
        self.change_id.kind()
    }

    /// The task's version after the change (for a deletion, the version deleted).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn position(&self) -> Position {
        Position::of(&self.change_id)
    }

    pub fn occurred_at(&self) -> Timestamp {
        self.occurred_at
    }

    pub fn changed(&self) -> &Changes {
        &self.changed
    }
}

/// `{"change_id", "kind", "task_id", "version", "occurred_at", "changed": {field: {"old", "new"}}}`; the owner never
/// leaves the server.
impl Serialize for Activity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            change_id: &'a ChangeId,
            kind: TaskEventKind,
            task_id: TaskId,
            version: u64,
            #[serde(with = "time::serde::rfc3339")]
            occurred_at: Timestamp,
            changed: &'a Changes,
        }
        Wire {
            change_id: &self.change_id,
            kind: self.kind(),
            task_id: self.task_id,
            version: self.version,
            occurred_at: self.occurred_at,
            changed: &self.changed,
        }
        .serialize(s)
    }
}

/// Which slice of one task's log to read, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Resume strictly before (older than) this position.
    pub after: Option<Position>,
    /// How many entries to read at most: the page size plus one, to learn whether another page exists.
    pub fetch: usize,
}

pub trait ActivityAppend: Send + Sync {
    /// Stores `entry` in its owner's log of its task, at its position, unless an entry for the same change is
    /// there: then [`StoreError::AlreadyExists`], and the stored entry is left as it was. A conditional put, so of
    /// concurrent deliveries of one change exactly one stores it.
    fn append_activity(&self, entry: &Activity) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ActivityList: Send + Sync {
    /// `owner`'s entries for `task`, highest position first, strictly before `query.after`, at most `query.fetch`:
    /// a key-order read of that one log, whatever else the store holds.
    fn list_activity(
        &self,
        owner: &UserId,
        task: TaskId,
        query: &ActivityQuery,
    ) -> impl Future<Output = Result<Vec<Activity>, StoreError>> + Send;
}

fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::Unavailable(source) => Error::Store(source),
        other => Error::Store(Box::new(other)),
    }
}

/// What appending a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Added,
    /// The change was already in the log (a second delivery): nothing was written.
    Duplicate,
}

/// Appends the change `event` reports to its task's log, once however often it is delivered.
pub async fn record_activity(log: &impl ActivityAppend, event: &TaskEvent) -> Result<Recorded, Error> {
    let entry = Activity::from_event(event)?;
    match log.append_activity(&entry).await {
        Ok(()) => Ok(Recorded::Added),
        Err(StoreError::AlreadyExists) => Ok(Recorded::Duplicate),
        Err(e) => Err(store_error(e)),
    }
}

/// The raw query string parameters of `GET /tasks/{id}/activity`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ActivityParams<'a> {
    pub limit: Option<&'a str>,
    pub next: Option<&'a str>,
}

/// One page of a task's log: `{"items": [...], "count": n, "next": token|null}`.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    pub count: usize,
    pub next: Option<PageToken>,
}

/// What a `next` token of one task's log is sealed under, beside the owner.
fn token_scope(task: TaskId) -> String {
    format!("activity/{task}")
}

/// A page of the caller's log of task `task_id`, newest first. `404` when the log is empty and the caller has no
/// such task (it does not exist, or is someone else's); a task with no changes recorded yet, or a deleted one with
/// its history, is a `200`.
pub async fn list_activity(
    log: &impl ActivityList,
    tasks: &impl TaskGet,
    key: &PageKey,
    caller: &Caller,
    task_id: &str,
    params: ActivityParams<'_>,
) -> Result<ActivityPage, Error> {
    let task = TaskId::parse(task_id)?;
    let limit = Limit::parse(params.limit)?;
    let scope = token_scope(task);
    let after = match params.next {
        None => None,
        Some(token) => {
            let cursor = key.open_cursor(&caller.id, &scope, token)?;
            // Only this server seals tokens, so the cursor is one of its change ids; still checked, being input.
            let change = ChangeId::parse(&cursor)
                .map_err(|_| Error::BadRequest("`next` is not a page token issued for this list".into()))?;
            Some(Position::of(&change))
        }
    };
    let query = ActivityQuery { after, fetch: limit.get() + 1 };
    let mut items = log.list_activity(&caller.id, task, &query).await.map_err(store_error)?;
    // Only an empty first page needs the task: a log with entries is the caller's by its key.
    if items.is_empty()
        && params.next.is_none()
        && tasks.get_task(&caller.id, task).await.map_err(store_error)?.is_none()
    {
        return Err(Error::NotFound("task"));
    }
    let next = if items.len() > limit.get() {
        items.truncate(limit.get());
        items.last().map(|a| key.seal_cursor(&caller.id, &scope, a.change_id().as_str()))
    } else {
        None
    };
    Ok(ActivityPage { count: items.len(), items, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Status, Task, Title, Version};

    fn task(status: Status, version: u64) -> Task {
        let at = time::macros::datetime!(2026-11-30 12:00 UTC);
        Task {
            owner: UserId::parse("user-1").unwrap(),
            id: TaskId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2").unwrap(),
            title: Title::parse("a").unwrap(),
            description: None,
            status,
            created_at: at,
            updated_at: at,
            version: Version(version),
        }
    }

    #[test]
    fn positions_order_as_the_writes_happened_and_keys_sort_as_positions_do() {
        let created = TaskEvent::from_change(None, Some(&task(Status::Pending, 1)), crate::now());
        let mut renamed = task(Status::Done, 2);
        renamed.title = Title::parse("b").unwrap();
        let both = TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&renamed), crate::now());
        let deleted = TaskEvent::from_change(Some(&renamed), None, crate::now());
        let later =
            TaskEvent::from_change(Some(&task(Status::Pending, 9)), Some(&task(Status::Done, 10)), crate::now());
        let positions: Vec<Position> =
            [&created[0], &both[0], &both[1], &deleted[0], &later[0]].map(|e| Position::of(&e.change_id)).into();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        let keys: Vec<String> = positions.iter().map(|p| p.key()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(positions[4].key(), "00000000000000000010#1");
    }

    #[test]
    fn an_entry_is_what_its_event_says_and_serialises_without_the_owner() {
        let event =
            &TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&task(Status::Done, 2)), crate::now())[0];
        let entry = Activity::from_event(event).unwrap();
        assert_eq!(
            (entry.task_id(), entry.version(), entry.kind()),
            (event.task_id, 2, TaskEventKind::TaskStatusChanged)
        );
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["kind"], "TaskStatusChanged");
        assert_eq!(json["changed"]["status"], serde_json::json!({"old": "pending", "new": "done"}));
        assert!(json.get("owner").is_none(), "{json}");
    }

    #[test]
    fn an_event_whose_change_id_names_another_task_or_version_is_refused() {
        let mut event =
            TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&task(Status::Done, 2)), crate::now())
                .remove(0);
        event.version = 3;
        assert!(matches!(Activity::from_event(&event), Err(Error::Invalid(_))));
        event.version = 2;
        event.changed.insert("status".into(), serde_json::json!("done"));
        assert!(matches!(Activity::from_event(&event), Err(Error::Invalid(_))));
    }
}
