//! Ports: one trait per capability a function needs. A function takes only the capabilities its IAM policy in
//! `template.yaml` grants (the read routes get read-only ports), and every store (DynamoDB, SQLite) implements
//! them with the same guarantees:
//! - reads and writes are scoped to one owner; no call can touch another owner's items;
//! - a list reads at most `fetch` items (page size + 1), whatever else the store holds;
//! - conditional writes are atomic: two writers with the same `If-Match` cannot both succeed.

use crate::{Profile, ProfilePatch, Status, StoreError, Task, TaskId, TaskPatch, Timestamp, UserId, Version};
use std::future::Future;

/// Which slice of an owner's tasks to read, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<Status>,
    /// Resume strictly after (older than) this task.
    pub after: Option<TaskId>,
    /// How many tasks to read at most: the page size plus one, to learn whether another page exists.
    pub fetch: usize,
}

pub trait TaskGet: Send + Sync {
    fn get_task(&self, owner: &UserId, id: TaskId) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send;
}

pub trait TaskPut: Send + Sync {
    /// Stores a new task; [`StoreError::AlreadyExists`] if the id is taken (never overwrites).
    fn put_task(&self, task: &Task) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait TaskList: Send + Sync {
    fn list_tasks(&self, owner: &UserId, query: &ListQuery) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send;
}

pub trait TaskUpdate: Send + Sync {
    /// Applies `patch` atomically and returns the new task (version + 1, `updated_at = now`).
    /// [`StoreError::NotFound`] if there is no such task; [`StoreError::VersionMismatch`] if `expected` is given
    /// and is not the current version. Never creates an item.
    fn update_task(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: &TaskPatch,
        expected: Option<Version>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Task, StoreError>> + Send;
}

pub trait TaskDelete: Send + Sync {
    /// [`StoreError::NotFound`] if there was nothing to delete; [`StoreError::VersionMismatch`] as for updates.
    fn delete_task(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ProfileGet: Send + Sync {
    fn get_profile(&self, user: &UserId) -> impl Future<Output = Result<Option<Profile>, StoreError>> + Send;
}

pub trait ProfilePut: Send + Sync {
    /// Creates a profile; [`StoreError::AlreadyExists`] if one exists (a concurrent first request won).
    fn put_profile(&self, profile: &Profile) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ProfileUpdate: Send + Sync {
    /// Applies `patch` atomically; [`StoreError::NotFound`] if the user has no profile yet.
    fn update_profile(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> impl Future<Output = Result<Profile, StoreError>> + Send;
}

/// A tasks store and a profiles store as one value offering every port, by delegation: what the store contract
/// (and anything else that wants all ports at once) takes. Each adapter has one such alias (`DynamoStore`,
/// `SqliteStore`), so the delegation is written once, here.
#[derive(Debug, Clone)]
pub struct Stores<T, P> {
    pub tasks: T,
    pub profiles: P,
}

impl<T: TaskGet, P: Send + Sync> TaskGet for Stores<T, P> {
    fn get_task(&self, owner: &UserId, id: TaskId) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send {
        self.tasks.get_task(owner, id)
    }
}

impl<T: TaskPut, P: Send + Sync> TaskPut for Stores<T, P> {
    fn put_task(&self, task: &Task) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.tasks.put_task(task)
    }
}

impl<T: TaskList, P: Send + Sync> TaskList for Stores<T, P> {
    fn list_tasks(&self, owner: &UserId, query: &ListQuery) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send {
        self.tasks.list_tasks(owner, query)
    }
}

impl<T: TaskUpdate, P: Send + Sync> TaskUpdate for Stores<T, P> {
    fn update_task(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: &TaskPatch,
        expected: Option<Version>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Task, StoreError>> + Send {
        self.tasks.update_task(owner, id, patch, expected, now)
    }
}

impl<T: TaskDelete, P: Send + Sync> TaskDelete for Stores<T, P> {
    fn delete_task(&self, owner: &UserId, id: TaskId, expected: Option<Version>) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.tasks.delete_task(owner, id, expected)
    }
}

impl<T: Send + Sync, P: ProfileGet> ProfileGet for Stores<T, P> {
    fn get_profile(&self, user: &UserId) -> impl Future<Output = Result<Option<Profile>, StoreError>> + Send {
        self.profiles.get_profile(user)
    }
}

impl<T: Send + Sync, P: ProfilePut> ProfilePut for Stores<T, P> {
    fn put_profile(&self, profile: &Profile) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.profiles.put_profile(profile)
    }
}

impl<T: Send + Sync, P: ProfileUpdate> ProfileUpdate for Stores<T, P> {
    fn update_profile(&self, user: &UserId, patch: &ProfilePatch, now: Timestamp) -> impl Future<Output = Result<Profile, StoreError>> + Send {
        self.profiles.update_profile(user, patch, now)
    }
}
