//! The task platform's domain: what a task and a profile are, the rules they obey, and the ports through which
//! the outside world (DynamoDB on AWS, SQLite in the local stack) stores them.
//!
//! Layout, in the order a request meets it:
//! - [`task`] and [`profile`]: newtypes that parse (`Title::parse`, `Status::parse`, `Email::parse`, …); once a value
//!   exists it is valid, so no handler can forget a check.
//! - [`page`]: list limits and the signed, owner-bound page token that makes `next` unforgeable.
//! - [`bus`]: events for an event bus (`EventBusName`, `BusEvent`, `PutEvents` batches), under EventBridge's rules.
//! - [`object`], [`message`], [`mail`]: the names and contents of objects (bucket, key, content type, presigned
//!   requests), queue messages and mail, parsed under the rules of the services that carry them.
//! - [`ports`]: one trait per capability (`TaskGet`, `TaskPut`, …, `ObjectGet`, `MessageSend`, `MailSend`), so a
//!   function takes only what its IAM policy allows it to do.
//! - [`service`]: the operations the functions call; each takes its ports and the caller.
//! - [`activity`], [`idempotency`], [`notify`]: what task change events feed: a task's activity log (its ports and
//!   operations, pages as the task list's), doing a side effect once per change (claim, complete, release), and the
//!   mail sent once when a task is done.
//! - [`photo`]: profile photos: upload ids and keys, the renditions, the photo state a profile stores (only a newer
//!   upload moves it on), and the pipeline's operations, from the presigned upload to the "photo ready" mail.
//! - [`invoice`]: supplier invoices: the EN 16931 fields a PDF yields, exact amounts, and the rules they must obey.
//! - [`error`]: errors by meaning ([`Error`]); the HTTP layer maps them to statuses in exactly one place. Stores
//!   report [`StoreError`]; objects, queues and mail report [`ServiceError`].
//!
//! Nothing here calls AWS, HTTP or SQL. Where a value must obey a service's rules (a bucket name, a queue URL, a
//! message size), the rules are written down here, so that a value that parses is one the service accepts.

pub mod activity;
#[cfg(feature = "contract")]
pub mod activity_contract;
pub mod bus;
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod event;
pub mod idempotency;
pub mod invoice;
#[cfg(feature = "contract")]
pub mod invoice_contract;
pub mod mail;
pub mod message;
pub mod notify;
pub mod object;
pub mod page;
pub mod photo;
#[cfg(feature = "contract")]
pub mod photo_contract;
pub mod ports;
pub mod profile;
pub mod service;
pub mod task;
pub mod user;

pub use activity::{Activity, ActivityPage, Position};
pub use error::{Error, ServiceError, StoreError};
pub use event::{ChangeId, TaskEvent, TaskEventKind};
pub use page::{Limit, Page, PageKey, PageToken, WeakPageKey};
pub use profile::{DisplayName, Email, Profile, ProfilePatch};
pub use task::{Description, NewTask, Status, Task, TaskId, TaskPatch, Title, Version};
pub use user::{Caller, UserId};

/// Timestamps are UTC instants, serialised as RFC 3339.
pub type Timestamp = time::OffsetDateTime;

/// The current instant truncated to milliseconds, so what is stored, listed and returned compare equal everywhere
/// (DynamoDB strings, SQLite text and JSON all round-trip the same value).
pub fn now() -> Timestamp {
    truncate_to_millis(time::OffsetDateTime::now_utc())
}

/// `at` truncated to milliseconds, as [`now`] is (for instants read from elsewhere, such as an event's time).
pub fn truncate_to_millis(at: Timestamp) -> Timestamp {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(at)
}
