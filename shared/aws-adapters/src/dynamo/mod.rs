//! DynamoDB stores for every port of [`domain::ports`]: [`DynamoTasks`] on the tasks table, [`DynamoProfiles`]
//! on the users table, and [`DynamoStore`] holding both for code that wants every port in one value (the store
//! contract tests). A Lambda function takes the one table its IAM policy grants.
//!
//! - [`schema`]: key, index and attribute names (fixed: `template.yaml` declares the same tables).
//! - `item`: domain values to items and back through serde_dynamo; corrupt items become [`CorruptItem`].
//! - `tasks`, `profiles`: the ports, one request per call (list may add one per 1 MB of response).
//! - `error`: SDK errors by meaning; the causes carried inside `StoreError::Unavailable`.

mod error;
mod item;
mod profiles;
pub mod schema;
mod tasks;

pub use error::{CallFailed, UnexplainedConditionFailure};
pub use item::{CorruptItem, EncodeFailed, profile_item, task_item};
pub use profiles::DynamoProfiles;
pub use tasks::{DynamoTasks, ListCost};

use aws_sdk_dynamodb::Client;
use domain::ports::*;
use domain::{Profile, ProfilePatch, StoreError, Task, TaskId, TaskPatch, Timestamp, UserId, Version};

/// Every port at once, on a tasks table and a users table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub tasks: DynamoTasks,
    pub profiles: DynamoProfiles,
}

impl DynamoStore {
    pub fn new(client: Client, tasks_table: impl Into<String>, users_table: impl Into<String>) -> Self {
        Self {
            tasks: DynamoTasks::new(client.clone(), tasks_table),
            profiles: DynamoProfiles::new(client, users_table),
        }
    }
}

impl TaskGet for DynamoStore {
    async fn get_task(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.tasks.get_task(owner, id).await
    }
}

impl TaskPut for DynamoStore {
    async fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        self.tasks.put_task(task).await
    }
}

impl TaskList for DynamoStore {
    async fn list_tasks(&self, owner: &UserId, query: &ListQuery) -> Result<Vec<Task>, StoreError> {
        self.tasks.list_tasks(owner, query).await
    }
}

impl TaskUpdate for DynamoStore {
    async fn update_task(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: &TaskPatch,
        expected: Option<Version>,
        now: Timestamp,
    ) -> Result<Task, StoreError> {
        self.tasks.update_task(owner, id, patch, expected, now).await
    }
}

impl TaskDelete for DynamoStore {
    async fn delete_task(&self, owner: &UserId, id: TaskId, expected: Option<Version>) -> Result<(), StoreError> {
        self.tasks.delete_task(owner, id, expected).await
    }
}

impl ProfileGet for DynamoStore {
    async fn get_profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        self.profiles.get_profile(user).await
    }
}

impl ProfilePut for DynamoStore {
    async fn put_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        self.profiles.put_profile(profile).await
    }
}

impl ProfileUpdate for DynamoStore {
    async fn update_profile(&self, user: &UserId, patch: &ProfilePatch, now: Timestamp) -> Result<Profile, StoreError> {
        self.profiles.update_profile(user, patch, now).await
    }
}
