//! The operations behind the routes. Each takes only the ports it needs, the authenticated caller and the raw
//! inputs, parses the inputs into domain types and calls the store. Ownership is enforced here by construction:
//! every store call is keyed by `caller.id`, so another user's task is simply not found.

use crate::ports::{
    ListQuery, ProfileGet, ProfilePut, ProfileUpdate, TaskDelete, TaskGet, TaskList, TaskPut, TaskUpdate,
};
use crate::{
    Caller, Error, Limit, NewTask, Page, PageKey, Profile, ProfilePatch, Status, StoreError, Task, TaskId, TaskPatch,
    Timestamp, Version,
};
use serde_json::Value;

fn store_error(what: &'static str) -> impl Fn(StoreError) -> Error {
    move |e| match e {
        StoreError::NotFound => Error::NotFound(what),
        StoreError::VersionMismatch { current } => Error::VersionMismatch { expected: 0, current },
        StoreError::AlreadyExists => Error::Store(format!("{what} already exists").into()),
        StoreError::Unavailable(source) => Error::Store(source),
    }
}

fn if_match(raw: Option<&str>) -> Result<Option<Version>, Error> {
    raw.map(Version::parse_if_match).transpose()
}

fn with_expected(expected: Option<Version>) -> impl Fn(Error) -> Error {
    move |e| match (e, expected) {
        (Error::VersionMismatch { current, .. }, Some(v)) => Error::VersionMismatch { expected: v.0, current },
        (e, _) => e,
    }
}

pub async fn create_task(store: &impl TaskPut, caller: &Caller, body: &Value, now: Timestamp) -> Result<Task, Error> {
    let new = NewTask::from_json(body)?;
    let task = Task {
        owner: caller.id.clone(),
        id: TaskId::generate(now),
        title: new.title,
        description: new.description,
        status: new.status,
        created_at: now,
        updated_at: now,
        version: Version::FIRST,
    };
    store.put_task(&task).await.map_err(store_error("task"))?;
    Ok(task)
}

pub async fn get_task(store: &impl TaskGet, caller: &Caller, id: &str) -> Result<Task, Error> {
    let id = TaskId::parse(id)?;
    store.get_task(&caller.id, id).await.map_err(store_error("task"))?.ok_or(Error::NotFound("task"))
}

/// The raw query string parameters of `GET /tasks`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListParams<'a> {
    pub status: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub next: Option<&'a str>,
}

pub async fn list_tasks(
    store: &impl TaskList,
    key: &PageKey,
    caller: &Caller,
    params: ListParams<'_>,
) -> Result<Page, Error> {
    let status = params.status.map(Status::parse).transpose()?;
    let limit = Limit::parse(params.limit)?;
    let after = match params.next {
        None => None,
        Some(token) => Some(key.open(&caller.id, status, token)?),
    };
    let query = ListQuery { status, after, fetch: limit.get() + 1 };
    let mut tasks = store.list_tasks(&caller.id, &query).await.map_err(store_error("task"))?;
    let next = if tasks.len() > limit.get() {
        tasks.truncate(limit.get());
        tasks.last().map(|t| key.seal(&caller.id, status, t.id))
    } else {
        None
    };
    Ok(Page { count: tasks.len(), tasks, next })
}

pub async fn update_task(
    store: &impl TaskUpdate,
    caller: &Caller,
    id: &str,
    body: &Value,
    if_match_header: Option<&str>,
    now: Timestamp,
) -> Result<Task, Error> {
    let id = TaskId::parse(id)?;
    let expected = if_match(if_match_header)?;
    let patch = TaskPatch::from_json(body)?;
    store
        .update_task(&caller.id, id, &patch, expected, now)
        .await
        .map_err(store_error("task"))
        .map_err(with_expected(expected))
}

pub async fn delete_task(
    store: &impl TaskDelete,
    caller: &Caller,
    id: &str,
    if_match_header: Option<&str>,
) -> Result<(), Error> {
    let id = TaskId::parse(id)?;
    let expected = if_match(if_match_header)?;
    store.delete_task(&caller.id, id, expected).await.map_err(store_error("task")).map_err(with_expected(expected))
}

/// The caller's profile, created from the token's claims on first use. Two first requests racing both end with
/// the one stored profile.
pub async fn get_profile<S: ProfileGet + ProfilePut>(
    store: &S,
    caller: &Caller,
    now: Timestamp,
) -> Result<Profile, Error> {
    if let Some(p) = store.get_profile(&caller.id).await.map_err(store_error("profile"))? {
        return Ok(p);
    }
    let fresh = Profile::from_claims(caller, now);
    match store.put_profile(&fresh).await {
        Ok(()) => Ok(fresh),
        Err(StoreError::AlreadyExists) => {
            store.get_profile(&caller.id).await.map_err(store_error("profile"))?.ok_or(Error::NotFound("profile"))
        }
        Err(e) => Err(store_error("profile")(e)),
    }
}

pub async fn update_profile<S: ProfileGet + ProfilePut + ProfileUpdate>(
    store: &S,
    caller: &Caller,
    body: &Value,
    now: Timestamp,
) -> Result<Profile, Error> {
    let patch = ProfilePatch::from_json(body)?;
    // The first request a user makes may be this one: make sure there is a profile to update.
    get_profile(store, caller, now).await?;
    store.update_profile(&caller.id, &patch, now).await.map_err(store_error("profile"))
}
