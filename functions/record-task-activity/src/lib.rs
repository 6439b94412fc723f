//! `record-task-activity`: the target of an EventBridge rule matching every task event on the bus (`source`
//! `task-platform.tasks`). Each event's change is appended to its task's activity log
//! ([`domain::activity::record_activity`]), once per change: the log's key comes from the change id, which is the
//! same on every delivery, whereas the bus's event id is new each time a change is put on the bus again.
//!
//! The function is invoked asynchronously, so a failed invocation is retried by Lambda (twice, over minutes) and
//! then sent to the dead-letter queue. Only what a retry can fix fails: the store being unavailable
//! ([`RecordError::Retryable`]). An event this function cannot read — a detail that is not a task event, a change
//! id that names another task or version than the event, a detail type that is not the change's kind — would fail
//! identically on every retry, so it is logged at `warn` with the bus's event id and the invocation succeeds with
//! [`Outcome::Ignored`]. Its event stays findable in the logs; a failure would only have delayed that by minutes
//! and added two pointless retries.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use domain::activity::{ActivityAppend, Recorded, record_activity};
use domain::{ChangeId, Error, TaskEvent};
use serde::Serialize;
use serde_json::Value;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Appended to the log.
    Recorded,
    /// Already in the log (a second delivery of the change): nothing written.
    Duplicate,
    /// Not readable as a task change; logged, not recorded.
    Ignored,
}

/// The invocation's result: `{"outcome": "recorded", "change_id": "…"}` (no `change_id` when ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<ChangeId>,
}

/// Why the event could not be recorded now, named for what Lambda's retry should do (`errorType`).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The store's error stays the source (for the log), out of the message that reaches the dead-letter queue.
    #[error("the activity store is unavailable; try again")]
    Retryable(#[source] Error),
}

impl RecordError {
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Retryable(_) => "Retryable",
        }
    }

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation.
    pub fn into_parts(self) -> (&'static str, String) {
        if let Self::Retryable(Error::Store(cause)) = &self {
            tracing::error!(error = %cause, "recording a task change failed; Lambda will retry the event");
        }
        (self.error_type(), self.to_string())
    }
}

fn ignored(event: &EventBridgeEvent<Value>, why: &str) -> Handled {
    tracing::warn!(
        event_id = event.id.as_deref().unwrap_or("?"),
        source = %event.source,
        detail_type = %event.detail_type,
        "ignoring an event that is not a readable task change: {why}"
    );
    Handled { outcome: Outcome::Ignored, change_id: None }
}

/// Appends the change `event` carries to its task's activity log.
pub async fn handle(log: &impl ActivityAppend, event: EventBridgeEvent<Value>) -> Result<Handled, RecordError> {
    if event.source != domain::event::SOURCE {
        return Ok(ignored(&event, "its source is not the task platform's"));
    }
    let change = match TaskEvent::from_detail(&event.detail) {
        Ok(change) => change,
        Err(e) => return Ok(ignored(&event, &e.to_string())),
    };
    if event.detail_type != change.kind().detail_type() {
        return Ok(ignored(&event, "its detail type is not the kind of its change id"));
    }
    let change_id = Some(change.change_id.clone());
    match record_activity(log, &change).await {
        Ok(Recorded::Added) => Ok(Handled { outcome: Outcome::Recorded, change_id }),
        Ok(Recorded::Duplicate) => {
            tracing::info!(change_id = %change.change_id, "a change delivered again; it is already in the log");
            Ok(Handled { outcome: Outcome::Duplicate, change_id })
        }
        Err(e @ Error::Store(_)) => Err(RecordError::Retryable(e)),
        Err(e) => Ok(ignored(&event, &e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::activity::{Activity, ActivityList, ActivityQuery};
    use domain::{Status, StoreError, Task, TaskEventKind, TaskId, Title, UserId, Version};
    use local_adapters::{LocalStore, SqliteActivity};
    use serde_json::json;

    fn log() -> (SqliteActivity, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
        (store.activity("ActivityTable").unwrap(), dir)
    }

    fn task(status: Status, version: u64) -> Task {
        let at = domain::now();
        Task {
            owner: UserId::parse("4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c").unwrap(),
            id: TaskId::parse("01JD5Q8X3N7V2K4M6P9R0S1T2W").unwrap(),
            title: Title::parse("Fixture task").unwrap(),
            description: None,
            status,
            created_at: at,
            updated_at: at,
            version: Version(version),
        }
    }

    /// `change` as the bus delivers it, under bus event id `id`.
    fn delivered(change: &TaskEvent, id: &str) -> EventBridgeEvent<Value> {
        serde_json::from_value(json!({
            "version": "0",
            "id": id,
            "detail-type": change.kind().detail_type(),
            "source": "task-platform.tasks",
            "account": "123456789012",
            "time": "2026-11-30T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": change,
        }))
        .unwrap()
    }

    async fn entries(log: &SqliteActivity, change: &TaskEvent) -> Vec<Activity> {
        let all = ActivityQuery { after: None, fetch: 100 };
        log.list_activity(&change.owner, change.task_id, &all).await.unwrap()
    }

    #[tokio::test]
    async fn a_change_delivered_twice_under_two_bus_event_ids_is_recorded_once() {
        let (log, _dir) = log();
        let done = TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&task(Status::Done, 2)), domain::now());
        let first = handle(&log, delivered(&done[0], "e-1")).await.unwrap();
        assert_eq!(first, Handled { outcome: Outcome::Recorded, change_id: Some(done[0].change_id.clone()) });
        let again = handle(&log, delivered(&done[0], "e-2")).await.unwrap();
        assert_eq!(again.outcome, Outcome::Duplicate);
        let stored = entries(&log, &done[0]).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].kind(), TaskEventKind::TaskStatusChanged);
        assert_eq!(serde_json::to_value(&stored[0]).unwrap()["changed"]["status"]["new"], "done");
    }

    #[tokio::test]
    async fn every_kind_of_change_is_recorded_and_listed_newest_first() {
        let (log, _dir) = log();
        let created = TaskEvent::from_change(None, Some(&task(Status::Pending, 1)), domain::now());
        let mut renamed = task(Status::Done, 2);
        renamed.title = Title::parse("Renamed").unwrap();
        let both = TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&renamed), domain::now());
        let deleted = TaskEvent::from_change(Some(&renamed), None, domain::now());
        // Delivered out of order, as a bus may.
        for change in [&deleted[0], &both[1], &created[0], &both[0]] {
            assert_eq!(handle(&log, delivered(change, "e")).await.unwrap().outcome, Outcome::Recorded);
        }
        let kinds: Vec<_> = entries(&log, &created[0]).await.iter().map(Activity::kind).collect();
        assert_eq!(
            kinds,
            [
                TaskEventKind::TaskDeleted,
                TaskEventKind::TaskUpdated,
                TaskEventKind::TaskStatusChanged,
                TaskEventKind::TaskCreated
            ]
        );
    }

    #[tokio::test]
    async fn an_event_that_is_not_a_readable_task_change_is_ignored_not_failed() {
        let (log, _dir) = log();
        let created = TaskEvent::from_change(None, Some(&task(Status::Pending, 1)), domain::now()).remove(0);
        let mut not_a_task = delivered(&created, "e-1");
        not_a_task.detail = json!({"owner": "someone", "what": "not a task event"});
        let mut foreign = delivered(&created, "e-2");
        foreign.source = "aws.s3".into();
        let mut mislabelled = delivered(&created, "e-3");
        mislabelled.detail_type = "TaskDeleted".into();
        let mut mismatched = delivered(&created, "e-4");
        mismatched.detail["version"] = json!(7);
        for event in [not_a_task, foreign, mislabelled, mismatched] {
            assert_eq!(handle(&log, event).await.unwrap(), Handled { outcome: Outcome::Ignored, change_id: None });
        }
        assert!(entries(&log, &created).await.is_empty());
    }

    /// `events/record-task-activity/<case>.json`.
    fn sample(case: &str) -> EventBridgeEvent<Value> {
        let path = format!("{}/../../events/record-task-activity/{case}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn every_sample_event_gives_its_documented_outcome() {
        let (log, _dir) = log();
        for (case, want) in [
            ("task-created", Outcome::Recorded),
            ("status-changed-to-done", Outcome::Recorded),
            ("not-a-task-event", Outcome::Ignored),
        ] {
            assert_eq!(handle(&log, sample(case)).await.unwrap().outcome, want, "{case}");
        }
        assert_eq!(handle(&log, sample("task-created")).await.unwrap().outcome, Outcome::Duplicate);
    }

    /// A store that is down.
    struct Down;

    impl ActivityAppend for Down {
        async fn append_activity(&self, _: &Activity) -> Result<(), StoreError> {
            Err(StoreError::unavailable(std::io::Error::other("connection reset by peer")))
        }
    }

    #[tokio::test]
    async fn a_store_outage_fails_retryable_and_its_details_stay_out_of_the_message() {
        let created = TaskEvent::from_change(None, Some(&task(Status::Pending, 1)), domain::now()).remove(0);
        let (error_type, message) = handle(&Down, delivered(&created, "e")).await.unwrap_err().into_parts();
        assert_eq!(error_type, "Retryable");
        assert!(!message.contains("connection reset"), "{message}");
    }
}
