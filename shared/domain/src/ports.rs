//! Ports: one trait per capability a function needs. A function takes only the capabilities its IAM policy in
//! `template.yaml` grants (the read routes get read-only ports), and every store (DynamoDB, SQLite) implements
//! them with the same guarantees:
//! - reads and writes are scoped to one owner; no call can touch another owner's items;
//! - a list reads at most `fetch` items (page size + 1), whatever else the store holds;
//! - conditional writes are atomic: two writers with the same `If-Match` cannot both succeed.
//!
//! Objects, messages and mail have ports of the same shape, one per IAM action they need (`s3:GetObject`,
//! `s3:PutObject`, `s3:DeleteObject`, presigning — which needs the action it presigns —, `sqs:SendMessage`,
//! `ses:SendEmail`), and fail with [`ServiceError`]. Their adapters (S3, SQS, SES v2 on AWS; the local stack's
//! services speak the same protocols) take the bucket, queue or sender on every call, because one function may
//! use several (an upload bucket and a renditions bucket).

use crate::mail::{RawMail, SimpleMail};
use crate::message::{Message, MessageId, QueueUrl};
use crate::object::{
    BucketName, ContentType, ETag, Expiry, NewObject, Object, ObjectInfo, ObjectKey, PresignedRequest,
};
use crate::photo::{Failure, PhotoRecord, PhotoState, RenditionName, RenditionSpecs};
use crate::{
    Profile, ProfilePatch, ServiceError, Status, StoreError, Task, TaskId, TaskPatch, Timestamp, UserId, Version,
};
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
    fn list_tasks(
        &self,
        owner: &UserId,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send;
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

/// Reading a profile's photo state (`dynamodb:GetItem` on the users table).
pub trait PhotoGet: Send + Sync {
    /// The photo state of `user`'s profile with its revision (an empty state at revision 0 when no photo was ever
    /// recorded); `Ok(None)` when the user has no profile. A strongly consistent read: what a write just stored.
    fn get_photo(&self, user: &UserId) -> impl Future<Output = Result<Option<PhotoRecord>, StoreError>> + Send;
}

/// Changing a profile's photo state (`dynamodb:UpdateItem` on the users table), compare-and-set on its revision.
pub trait PhotoUpdate: Send + Sync {
    /// Stores `photo` as `user`'s photo state if its revision is still `expected`, and returns the new revision
    /// (`expected + 1`). Touches nothing else of the profile, and `update_profile` touches nothing of the photo,
    /// so `PUT /me` and the photo pipeline never overwrite each other's changes.
    ///
    /// [`StoreError::NotFound`] if the user has no profile (and nothing is created); [`StoreError::VersionMismatch`]
    /// with the current revision if another write came first. Atomic: of two writers expecting the same revision,
    /// exactly one succeeds.
    fn update_photo(
        &self,
        user: &UserId,
        photo: &PhotoState,
        expected: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// One rendition an [`ImageRender`] made: a JPEG of `width` × `height` pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedImage {
    pub name: RenditionName,
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// Why an [`ImageRender`] made no renditions.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The bytes are no image that may be rendered (unsupported, corrupt, or over a limit: a decompression bomb is
    /// refused before it is decoded). The uploader's doing: recorded on their profile, never retried.
    #[error("the image was refused: {}", .0.reason)]
    Refused(Failure),
    /// The renderer failed on its own account (a rendition list it refuses, an encoder bug). No retry helps.
    #[error("the renderer failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Turning an uploaded image into JPEG renditions (the `photo` crate; CPU only, no AWS).
pub trait ImageRender: Send + Sync {
    /// One [`RenderedImage`] per spec, in the specs' order.
    fn render(
        &self,
        image: Vec<u8>,
        specs: &RenditionSpecs,
    ) -> impl Future<Output = Result<Vec<RenderedImage>, RenderError>> + Send;
}

pub trait ObjectGet: Send + Sync {
    /// The object's bytes, content type, metadata and entity tag; `Ok(None)` when there is no object at `key`.
    /// [`ServiceError::NotFound`] when the *bucket* does not exist. Reads the whole object into memory.
    ///
    /// A store that hides what exists from callers who may not list the bucket (S3, without `s3:ListBucket`)
    /// reports a missing object as [`ServiceError::AccessDenied`] instead of `None`: grant listing where `None`
    /// must be told from a denial.
    fn get_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Option<Object>, ServiceError>> + Send;
}

pub trait ObjectHead: Send + Sync {
    /// The object's size, content type, metadata and entity tag, without its bytes; `Ok(None)` when there is no
    /// object at `key`. Needs the same right as [`ObjectGet`] (`s3:GetObject`), and, as there, `s3:ListBucket` for
    /// a missing object to be `None` rather than [`ServiceError::AccessDenied`]. S3 answers a `HEAD` without a
    /// body, so a missing bucket reads as a missing object.
    fn head_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, ServiceError>> + Send;
}

pub trait ObjectPut: Send + Sync {
    /// Stores `object` at `key`, replacing whatever was there, and returns the new entity tag.
    fn put_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        object: NewObject,
    ) -> impl Future<Output = Result<ETag, ServiceError>> + Send;
}

pub trait ObjectDelete: Send + Sync {
    /// Removes the object at `key`. Deleting an absent object succeeds (as on S3), so a retried delete is harmless.
    fn delete_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Presigned requests: made locally from the signer's credentials, without a call to the store, so nothing is
/// checked until the request is used (an absent bucket or object, or a signer who lacks the right, fails then).
/// The signer's credentials must allow the presigned action (`s3:PutObject`, `s3:GetObject`), and must outlive
/// `expiry`: a URL signed with a Lambda function's temporary credentials dies with them, whatever it says.
pub trait ObjectPresign: Send + Sync {
    /// A `PUT` of exactly `content_length` bytes of `content_type` to `key`, valid for `expiry`. Both are signed
    /// headers of the request: an upload of another type or size is refused by the store.
    fn presign_put(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: &ContentType,
        content_length: u64,
        expiry: Expiry,
    ) -> impl Future<Output = Result<PresignedRequest, ServiceError>> + Send;

    /// A `GET` of `key`, valid for `expiry`.
    fn presign_get(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        expiry: Expiry,
    ) -> impl Future<Output = Result<PresignedRequest, ServiceError>> + Send;
}

pub trait MessageSend: Send + Sync {
    /// Sends `message` to `queue` and returns the id the queue gave it. [`ServiceError::NotFound`] when the queue
    /// does not exist.
    fn send_message(
        &self,
        queue: &QueueUrl,
        message: &Message,
    ) -> impl Future<Output = Result<MessageId, ServiceError>> + Send;
}

/// Sending mail. Both forms fail with [`ServiceError::MailRejected`] when the service refuses the message (on SES:
/// an unverified sender, or any recipient but verified ones while the account is in the sandbox).
pub trait MailSend: Send + Sync {
    /// Sends a complete RFC 5322 message to its envelope's recipients; returns the service's message id.
    fn send_raw(&self, mail: &RawMail) -> impl Future<Output = Result<MessageId, ServiceError>> + Send;

    /// Sends a message the service composes from a subject and a text and/or HTML body (UTF-8).
    fn send_simple(&self, mail: &SimpleMail) -> impl Future<Output = Result<MessageId, ServiceError>> + Send;
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
    fn list_tasks(
        &self,
        owner: &UserId,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send {
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
    fn delete_task(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
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
    fn update_profile(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> impl Future<Output = Result<Profile, StoreError>> + Send {
        self.profiles.update_profile(user, patch, now)
    }
}

/// Putting events on an event bus (`events:PutEvents` on the bus).
pub trait EventPut: Send + Sync {
    /// Puts `entries` on `bus`, in order, in as many calls as the service's limits need
    /// ([`crate::bus::batches`]), and returns one outcome per entry, in the same order: accepted with the bus's
    /// event id, or failed with the bus's error code and message. Entries of one call succeed or fail one by one.
    ///
    /// `Err` only when nothing was put: the first call failed as a whole ([`ServiceError::NotFound`] when the bus
    /// does not exist). When a later call fails as a whole, its entries and all after it (which are then not
    /// sent) are [`crate::bus::EntryOutcome::Failed`] with that call's error code. A caller that must stop at the
    /// first failure passes one batch at a time.
    fn put_events(
        &self,
        bus: &crate::bus::EventBusName,
        entries: &[crate::bus::BusEvent],
    ) -> impl Future<Output = Result<Vec<crate::bus::EntryOutcome>, ServiceError>> + Send;
}

/// What StartExecution did with a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedExecution {
    /// Started now; or, as StartExecution answers it, a running execution of this name and input handed back
    /// (nothing new runs then either).
    Started { execution_arn: String },
    /// An execution of this name exists that is closed or has another input: nothing new was started. Names are
    /// unique per state machine for 90 days after an execution closes.
    AlreadyExists,
}

/// Starting a Step Functions state machine.
pub trait ExecutionStart: Send + Sync {
    /// Starts `state_machine_arn` on `input`, named `name`. [`ServiceError::NotFound`] when there is no such state
    /// machine.
    fn start_execution(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &serde_json::Value,
    ) -> impl Future<Output = Result<StartedExecution, ServiceError>> + Send;
}
