//! The AWS side of the task platform: the domain's ports on DynamoDB, S3, SQS and SES, and what a Lambda
//! function needs to start. Nothing here holds a rule of the domain; it stores, sends and hosts.
//!
//! - [`dynamo`]: [`DynamoTasks`] (tasks table), [`DynamoProfiles`] (users table, with the photo state ports) and
//!   [`DynamoStore`] (both), implementing every port of [`domain::ports`]. [`dynamo::schema`] names the keys, the
//!   `ByStatus` index and the attributes exactly as `template.yaml` declares them. Lists are Queries bounded by the
//!   page size, and [`DynamoTasks::list_tasks_counted`] reports their `ScannedCount`. [`DynamoInvoices`]: the
//!   invoice ports on the invoices table (records and number claims in one table, stored together by one
//!   transaction).
//! - [`s3`] (feature `s3`): [`S3Objects`], the object ports (get, head, put, delete, presigned PUT and GET),
//!   virtual-hosted or path-style ([`S3Addressing`]) so a local endpoint works.
//! - [`sqs`] (feature `sqs`): [`SqsMessages`], the message port (body and string attributes to a queue URL).
//! - [`ses`] (feature `ses`): [`SesMail`], the mail port on SES v2 (raw MIME, or simple subject and body).
//! - [`events`] (feature `events`): [`EventBridgeEvents`], the event port (entries to a bus, batched in order).
//! - [`sfn`] (feature `sfn`): [`SfnExecutions`], the execution port (a state machine started under a chosen name).
//! - [`call`]: what a failed S3, SQS, SES or EventBridge call means ([`domain::ServiceError`]), its cause kept in a
//!   [`call::CallFailed`].
//! - [`lambda`]: JSON logs carrying each invocation's request id, the SDK configuration, and the stores from the
//!   environment (`TASKS_TABLE`, `USERS_TABLE`, `UPLOADS_BUCKET`, `RENDITIONS`, `LOG_LEVEL`,
//!   `S3_FORCE_PATH_STYLE`), all without network calls at start-up.
//! - `testing` (feature `moto`): a `moto_server` child process, a client for it and the tables of
//!   `template.yaml`, for this crate's tests and any other crate's; `MotoServer::sdk_config` points any SDK
//!   client (S3, SQS, SES) at it.
//!
//! Errors: a failed condition is `NotFound`, `AlreadyExists` or `VersionMismatch { current }`; everything else is
//! `StoreError::Unavailable`, whose source is a [`dynamo::CallFailed`] (wrapping the SDK error) or a
//! [`dynamo::CorruptItem`] (a stored item the domain refuses). Objects, queues and mail report
//! `ServiceError`: not found, access denied, invalid input, mail rejected, or unavailable (the one worth retrying).

#[cfg(any(feature = "s3", feature = "sqs", feature = "ses", feature = "events", feature = "sfn"))]
pub mod call;
pub mod dynamo;
#[cfg(feature = "events")]
pub mod events;
pub mod lambda;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "sfn")]
pub mod sfn;
#[cfg(feature = "sqs")]
pub mod sqs;
#[cfg(feature = "moto")]
pub mod testing;

pub use dynamo::{DynamoActivity, DynamoIdempotency, DynamoInvoices};
pub use dynamo::{DynamoProfiles, DynamoStore, DynamoTasks, ListCost};
#[cfg(feature = "events")]
pub use events::EventBridgeEvents;
#[cfg(feature = "s3")]
pub use s3::{S3Addressing, S3Objects};
#[cfg(feature = "ses")]
pub use ses::SesMail;
#[cfg(feature = "sfn")]
pub use sfn::SfnExecutions;
#[cfg(feature = "sqs")]
pub use sqs::SqsMessages;
