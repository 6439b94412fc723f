//! The activity table and the activity ports on it: one item per change of a task, in its owner's log of it.
//!
//! Layout (`template.yaml`'s `ActivityTable`):
//! - partition key [`ACTIVITY_OWNER_TASK`] (S) = `{owner}#{task id}`: one owner's log of one task is one
//!   partition, so a list is one Query of it and no call can reach another owner's log (a user id has no `#`);
//! - sort key [`ACTIVITY_SEQ`] (S) = the change's [`domain::Position::key`], `{version:020}#{step}`: computed from the
//!   change id alone, so a second delivery of a change is the same key and the conditional put
//!   (`attribute_not_exists`) refuses it; and zero-padded, so string order is the order the writes happened.
//!
//! Newest first is `ScanIndexForward = false`; resuming after a position is a key condition (`seq < :after`).

use super::CorruptItem;
use super::error::{call_failed, put_new};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::{Activity, ActivityAppend, ActivityList, ActivityQuery, Changes};
use domain::{ChangeId, StoreError, TaskId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Activity table, partition key (S): `{owner}#{task id}`, see [`owner_task`].
pub const ACTIVITY_OWNER_TASK: &str = "owner_task";
/// Activity table, sort key (S): the change's position, `{version:020}#{step}` ([`domain::Position::key`]).
pub const ACTIVITY_SEQ: &str = "seq";
/// `{task id}/{version}/{kind}`.
pub const ACTIVITY_CHANGE_ID: &str = "change_id";
/// RFC 3339.
pub const ACTIVITY_OCCURRED_AT: &str = "occurred_at";
/// M: field → `{old, new}`.
pub const ACTIVITY_CHANGED: &str = "changed";

/// Every attribute an activity item carries.
pub const ACTIVITY_ATTRIBUTES: [&str; 5] =
    [ACTIVITY_OWNER_TASK, ACTIVITY_SEQ, ACTIVITY_CHANGE_ID, ACTIVITY_OCCURRED_AT, ACTIVITY_CHANGED];

/// The partition `owner`'s log of `task` lives in. The one place this key is spelt.
pub fn owner_task(owner: &UserId, task: TaskId) -> String {
    format!("{}#{task}", owner.as_str())
}

type Item = HashMap<String, AttributeValue>;

/// An activity entry as stored. Field names are attribute names.
#[derive(Debug, Serialize, Deserialize)]
struct ActivityItem {
    owner_task: String,
    seq: String,
    change_id: String,
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: Timestamp,
    changed: Changes,
}

fn to_item(entry: &Activity) -> Result<Item, StoreError> {
    let item = ActivityItem {
        owner_task: owner_task(entry.owner(), entry.task_id()),
        seq: entry.position().key(),
        change_id: entry.change_id().to_string(),
        occurred_at: entry.occurred_at(),
        changed: entry.changed().clone(),
    };
    serde_dynamo::aws_sdk_dynamodb_1::to_item(item).map_err(StoreError::unavailable)
}

/// Reads an item of `owner`'s log of `task`. Its change id must name that task and the item's position, or it is
/// corrupt (it would be listed out of place).
fn from_item(table: &str, owner: &UserId, task: TaskId, item: Item) -> Result<Activity, StoreError> {
    let key = format!(
        "{ACTIVITY_OWNER_TASK}={}, {ACTIVITY_SEQ}={}",
        owner_task(owner, task),
        item.get(ACTIVITY_SEQ).and_then(|v| v.as_s().ok()).map_or("?", String::as_str)
    );
    let corrupt = |source: Box<dyn std::error::Error + Send + Sync>| {
        StoreError::unavailable(CorruptItem { table: table.to_owned(), key: key.clone(), what: "activity", source })
    };
    let raw: ActivityItem = serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| corrupt(Box::new(e)))?;
    let change = ChangeId::parse(&raw.change_id).map_err(|e| corrupt(Box::new(e)))?;
    let entry = Activity::new(owner.clone(), change, raw.occurred_at, raw.changed);
    if raw.owner_task != owner_task(owner, task) || entry.task_id() != task || raw.seq != entry.position().key() {
        return Err(corrupt(format!("the change id `{}` does not belong at this key", entry.change_id()).into()));
    }
    Ok(entry)
}

/// The activity table (`ACTIVITY_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoActivity {
    client: Client,
    table: String,
}

impl DynamoActivity {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// [`ActivityList::list_activity`], also returning the sum of the queries' `ScannedCount` (items DynamoDB read
    /// and bills): equal to the entries returned, since the read is a key range.
    pub async fn list_activity_counted(
        &self,
        owner: &UserId,
        task: TaskId,
        query: &ActivityQuery,
    ) -> Result<(Vec<Activity>, u64), StoreError> {
        let mut names = HashMap::from([("#pk".to_owned(), ACTIVITY_OWNER_TASK.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(owner_task(owner, task)))]);
        let mut condition = "#pk = :pk".to_owned();
        if let Some(after) = query.after {
            names.insert("#seq".to_owned(), ACTIVITY_SEQ.to_owned());
            values.insert(":after".to_owned(), AttributeValue::S(after.key()));
            condition.push_str(" AND #seq < :after");
        }
        let mut entries = Vec::with_capacity(query.fetch.min(128));
        let mut scanned = 0;
        let mut start = None;
        // More than one request only when a page of large entries passes DynamoDB's 1 MB response limit.
        while entries.len() < query.fetch {
            let remaining = i32::try_from(query.fetch - entries.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                // A change just recorded shows in the next read.
                .consistent_read(true)
                .limit(remaining)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_failed("Query", &self.table, e))?;
            scanned += u64::try_from(out.scanned_count()).unwrap_or(0);
            for raw in out.items.unwrap_or_default() {
                entries.push(from_item(&self.table, owner, task, raw)?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
        entries.truncate(query.fetch);
        Ok((entries, scanned))
    }
}

impl ActivityAppend for DynamoActivity {
    async fn append_activity(&self, entry: &Activity) -> Result<(), StoreError> {
        // `attribute_not_exists` on the partition key is false exactly when an item has this whole key.
        put_new(&self.client, &self.table, to_item(entry)?, ACTIVITY_OWNER_TASK).await
    }
}

impl ActivityList for DynamoActivity {
    async fn list_activity(
        &self,
        owner: &UserId,
        task: TaskId,
        query: &ActivityQuery,
    ) -> Result<Vec<Activity>, StoreError> {
        Ok(self.list_activity_counted(owner, task, query).await?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::TaskEventKind;
    use domain::event::FieldChange;
    use serde_json::json;
    use std::collections::BTreeSet;

    fn entry() -> Activity {
        let change = ChangeId::new(TaskId::generate(domain::now()), 12, TaskEventKind::TaskUpdated);
        let changed = Changes::from([
            ("title".to_owned(), FieldChange { old: json!("a"), new: json!("b") }),
            ("description".to_owned(), FieldChange { old: json!(null), new: json!("") }),
        ]);
        Activity::new(UserId::parse("u-1").unwrap(), change, domain::now(), changed)
    }

    #[test]
    fn an_entry_round_trips_through_its_item_under_its_owner_task_and_position() {
        let e = entry();
        let item = to_item(&e).unwrap();
        let names: BTreeSet<_> = item.keys().cloned().collect();
        assert_eq!(names, ACTIVITY_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
        assert_eq!(item[ACTIVITY_OWNER_TASK], AttributeValue::S(format!("u-1#{}", e.task_id())));
        assert_eq!(item[ACTIVITY_SEQ], AttributeValue::S("00000000000000000012#2".into()));
        assert!(matches!(item[ACTIVITY_CHANGED], AttributeValue::M(_)), "a map, readable in the console");
        assert_eq!(from_item("T", e.owner(), e.task_id(), item).unwrap(), e);
    }

    #[test]
    fn an_item_filed_under_another_position_or_task_is_corrupt() {
        let e = entry();
        let mut item = to_item(&e).unwrap();
        item.insert(ACTIVITY_SEQ.to_owned(), AttributeValue::S("00000000000000000011#2".into()));
        let err = from_item("T", e.owner(), e.task_id(), item).unwrap_err();
        assert!(matches!(&err, StoreError::Unavailable(s) if s.downcast_ref::<CorruptItem>().is_some()), "{err:?}");
        let item = to_item(&e).unwrap();
        assert!(from_item("T", e.owner(), TaskId::generate(domain::now()), item).is_err());
    }
}
