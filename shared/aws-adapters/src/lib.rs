//! The AWS side of the task platform: the domain's ports on DynamoDB, and what a Lambda function needs to
//! start. Nothing here holds a rule of the domain; it stores and hosts.
//!
//! - [`dynamo`]: [`DynamoTasks`] (tasks table), [`DynamoProfiles`] (users table) and [`DynamoStore`] (both),
//!   implementing every port of [`domain::ports`]. [`dynamo::schema`] names the keys, the `ByStatus` index and
//!   the attributes exactly as `template.yaml` declares them. Lists are Queries bounded by the page size, and
//!   [`DynamoTasks::list_tasks_counted`] reports their `ScannedCount`.
//! - [`lambda`]: JSON logs carrying each invocation's request id, the SDK configuration, and the stores from the
//!   environment (`TASKS_TABLE`, `USERS_TABLE`, `LOG_LEVEL`), all without network calls at start-up.
//! - `testing` (feature `moto`): a `moto_server` child process, a client for it and the tables of
//!   `template.yaml`, for this crate's tests and any other crate's.
//!
//! Errors: a failed condition is `NotFound`, `AlreadyExists` or `VersionMismatch { current }`; everything else is
//! `StoreError::Unavailable`, whose source is a [`dynamo::CallFailed`] (wrapping the SDK error) or a
//! [`dynamo::CorruptItem`] (a stored item the domain refuses).

pub mod dynamo;
pub mod lambda;
#[cfg(feature = "moto")]
pub mod testing;

pub use dynamo::{DynamoProfiles, DynamoStore, DynamoTasks, ListCost};
