//! The tasks table and the five task ports. Every call addresses one owner's partition by key: reads are
//! GetItem and Query (never Scan), writes are single conditional items, so no call can touch another owner's
//! tasks and none reads more than it returns (plus at most one look-ahead item).

use super::error::{Guarded, call_failed, condition_failed, put_new};
use super::item::{self, Item, number, string, task_from_item, task_to_item};
use super::schema::*;
use super::update::VersionedUpdate;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use domain::ports::{ListQuery, TaskDelete, TaskGet, TaskList, TaskPut, TaskUpdate};
use domain::{StoreError, Task, TaskId, TaskPatch, Timestamp, UserId, Version};
use std::collections::HashMap;

const KEY: [&str; 2] = [TASK_OWNER, TASK_ID];

/// The tasks table (`TASKS_TABLE`): partition key `owner`, sort key `id`, index `ByStatus`.
#[derive(Debug, Clone)]
pub struct DynamoTasks {
    client: Client,
    table: String,
}

/// What one [`TaskList::list_tasks`] cost, as DynamoDB reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCost {
    /// Tasks returned.
    pub returned: usize,
    /// Sum of the queries' `ScannedCount`: items DynamoDB read (and bills) before any filter. A Scan, or a filter
    /// applied after reading, would show up here as more than `returned`.
    pub scanned_count: u64,
    /// Query requests made: 1, or more when a page of large items hit DynamoDB's 1 MB response limit.
    pub queries: u32,
    /// The index queried: `Some("ByStatus")` for a status filter, `None` for the table itself.
    pub index: Option<&'static str>,
}

impl DynamoTasks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(owner: &UserId, id: TaskId) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        HashMap::from([(TASK_OWNER.to_owned(), string(owner.as_str())), (TASK_ID.to_owned(), string(id.to_string()))])
    }

    /// [`TaskList::list_tasks`], also reporting what DynamoDB read to answer it (for tests and benchmarks).
    ///
    /// Newest first is `ScanIndexForward = false` on the ULID sort key. Resuming after a task is a key condition
    /// (`id < :after`), not an `ExclusiveStartKey`: it needs no other key attributes (the index's start key
    /// would also need the task's current `owner_status`, which the caller does not have) and stays correct when
    /// the `after` task has since been deleted or changed status.
    pub async fn list_tasks_counted(
        &self,
        owner: &UserId,
        query: &ListQuery,
    ) -> Result<(Vec<Task>, ListCost), StoreError> {
        let index = query.status.map(|_| BY_STATUS_INDEX);
        let mut cost = ListCost { returned: 0, scanned_count: 0, queries: 0, index };
        let mut tasks = Vec::with_capacity(query.fetch.min(128));
        let (partition_attr, partition) = match query.status {
            Some(status) => (TASK_OWNER_STATUS, owner_status(owner, status)),
            None => (TASK_OWNER, owner.as_str().to_owned()),
        };
        let mut key_condition = "#pk = :pk".to_owned();
        let mut values = HashMap::from([(":pk".to_owned(), string(partition))]);
        let mut names = HashMap::from([("#pk".to_owned(), partition_attr.to_owned())]);
        if let Some(after) = query.after {
            key_condition.push_str(" AND #id < :after");
            values.insert(":after".to_owned(), string(after.to_string()));
            names.insert("#id".to_owned(), TASK_ID.to_owned());
        }
        let mut start: Option<Item> = None;
        // One request normally. Limit caps what DynamoDB reads, but a response also stops at 1 MB; then the rest
        // is read from where it stopped, asking only for what is still missing, so the total read stays ≤ fetch.
        while tasks.len() < query.fetch {
            let remaining = i32::try_from(query.fetch - tasks.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                // Read-your-writes on the table; an index only offers eventually consistent reads.
                .consistent_read(index.is_none())
                .limit(remaining)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_failed("Query", &self.table, e))?;
            cost.queries += 1;
            cost.scanned_count += u64::try_from(out.scanned_count()).unwrap_or(0);
            for raw in out.items.unwrap_or_default() {
                tasks.push(task_from_item(&self.table, raw)?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
        // A store that ignored Limit must not make a caller's page larger than it asked for.
        tasks.truncate(query.fetch);
        cost.returned = tasks.len();
        Ok((tasks, cost))
    }
}

impl TaskGet for DynamoTasks {
    async fn get_task(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(owner, id)))
            // A task just created or changed reads back as written.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_failed("GetItem", &self.table, e))?;
        out.item.map(|raw| task_from_item(&self.table, raw)).transpose()
    }
}

impl TaskPut for DynamoTasks {
    async fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        put_new(&self.client, &self.table, task_to_item(task)?, TASK_ID).await
    }
}

impl TaskList for DynamoTasks {
    async fn list_tasks(&self, owner: &UserId, query: &ListQuery) -> Result<Vec<Task>, StoreError> {
        Ok(self.list_tasks_counted(owner, query).await?.0)
    }
}

/// `attribute_exists(id) [AND version = :expected]`, with its names and values.
fn exists_at(expected: Option<Version>, names: &mut HashMap<String, String>, values: &mut Item) -> String {
    names.insert("#id".to_owned(), TASK_ID.to_owned());
    match expected {
        Some(v) => {
            names.insert("#version".to_owned(), TASK_VERSION.to_owned());
            values.insert(":expected".to_owned(), number(v.0));
            "attribute_exists(#id) AND #version = :expected".to_owned()
        }
        None => "attribute_exists(#id)".to_owned(),
    }
}

impl TaskUpdate for DynamoTasks {
    async fn update_task(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: &TaskPatch,
        expected: Option<Version>,
        now: Timestamp,
    ) -> Result<Task, StoreError> {
        let mut update = VersionedUpdate::new(TASK_UPDATED_AT, TASK_VERSION, now)?;
        if let Some(title) = &patch.title {
            update.set(TASK_TITLE, string(title.as_str()));
        }
        if let Some(description) = &patch.description {
            update.set_or_remove(TASK_DESCRIPTION, description.as_ref().map(|d| string(d.as_str())));
        }
        if let Some(status) = patch.status {
            // The index key moves with the status in the same write, so the task is never filed under the old one.
            update.set(TASK_STATUS, string(status.as_str()));
            update.set(TASK_OWNER_STATUS, string(owner_status(owner, status)));
        }
        let condition = exists_at(expected, &mut update.names, &mut update.values);
        let expression = update.expression();
        let VersionedUpdate { names, values, .. } = update;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(owner, id)))
            .update_expression(expression)
            // Without it UpdateItem would create the item: the condition is what makes a missing task NotFound.
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            // The old item comes back with the failure, so NotFound and VersionMismatch{current} are told apart
            // from this one atomic call rather than by a second read that could see a later state.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let raw = out.attributes.filter(|a| !a.is_empty()).ok_or_else(|| {
                    StoreError::unavailable(item::CorruptItem {
                        table: self.table.clone(),
                        key: format!("{TASK_OWNER}={owner}, {TASK_ID}={id}"),
                        what: "task",
                        source: "UpdateItem with ReturnValues=ALL_NEW returned no attributes".into(),
                    })
                })?;
                task_from_item(&self.table, raw)
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let guarded =
                        Guarded { table: &self.table, what: "task", key_names: &KEY, version_attr: TASK_VERSION };
                    Err(condition_failed("UpdateItem", &guarded, failed.item(), expected))
                }
                _ => Err(call_failed("UpdateItem", &self.table, e)),
            },
        }
    }
}

impl TaskDelete for DynamoTasks {
    async fn delete_task(&self, owner: &UserId, id: TaskId, expected: Option<Version>) -> Result<(), StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let condition = exists_at(expected, &mut names, &mut values);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(owner, id)))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            // DynamoDB refuses an empty value map; without an expected version there are no values.
            .set_expression_attribute_values(if values.is_empty() { None } else { Some(values) })
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    let guarded =
                        Guarded { table: &self.table, what: "task", key_names: &KEY, version_attr: TASK_VERSION };
                    Err(condition_failed("DeleteItem", &guarded, failed.item(), expected))
                }
                _ => Err(call_failed("DeleteItem", &self.table, e)),
            },
        }
    }
}
