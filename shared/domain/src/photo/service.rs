//! The photo pipeline's operations, one per function, each taking only the ports its function's IAM policy grants:
//!
//! - [`request_upload`] (`POST /me/photo`): a presigned PUT of exactly the declared type and size to a fresh
//!   `uploads/{caller}/{upload id}`.
//! - [`Resizer::process`] (`resize-photo`, on `uploads/`): the upload read, rendered and written as renditions, or
//!   recorded as failed; the upload deleted either way.
//! - [`Recorder::record`] (`record-photo`, on `renditions/`): once every rendition exists, the profile points at
//!   the set, the set it replaced is deleted, and [`PhotoProcessed`] goes on the bus.
//! - [`notify_photo_ready`] (`notify-photo-processed`, on `PhotoProcessed`): one mail per upload.
//! - [`profile_with_photo`] (`GET /me`): the profile with its photo, the renditions' GET URLs presigned now.
//!
//! Every step may run twice, late or out of order (S3 notifications and EventBridge deliver at least once, and
//! Lambda retries a failed asynchronous invocation): the state's ordering rule ([`super::state`]) makes a repeated
//! or stale step write nothing, the renditions' keys are fixed by the upload, and the mail is claimed once. So the
//! same upload notified twice gives one set of renditions, one profile change and one mail.
//!
//! What fails, and so is retried, is what a retry can fix: a store or a service that is unavailable
//! ([`PipelineError::is_retryable`]). An image that cannot be rendered is a result ([`Processed::Failed`]), never
//! an error: retrying it would fail the same way.

use super::state::{PhotoView, RenditionView, Standing};
use super::{
    Failure, FailureCode, MAX_UPLOAD_BYTES, PHOTO_URL_SECONDS, PhotoContentType, PhotoSet, PhotoState, RenditionKey,
    RenditionName, RenditionSize, RenditionSpecs, UPLOAD_URL_SECONDS, UploadId, UploadKey, UploadSize,
};
use crate::bus::{BusEvent, EntryFailure, EntryOutcome, EventBusName};
use crate::idempotency::{Idempotency, IdempotencyKey, Once, OnceError, OncePolicy, run_once};
use crate::mail::{MailAddress, MailBody, Recipients, SimpleMail, Subject};
use crate::notify::{Notified, NotifyError, Skipped};
use crate::object::{BucketName, Expiry, Metadata, NewObject, ObjectKey, PresignedMethod};
use crate::ports::{
    EventPut, ImageRender, MailSend, ObjectDelete, ObjectGet, ObjectHead, ObjectPresign, ObjectPut, PhotoGet,
    PhotoUpdate, ProfileGet, ProfilePut, RenderError,
};
use crate::{Caller, DisplayName, Error, Profile, ServiceError, StoreError, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `source` of the pipeline's bus events.
pub const SOURCE: &str = "task-platform.photos";
/// The `detail-type` of the event a complete set of renditions puts on the bus.
pub const PHOTO_PROCESSED: &str = "PhotoProcessed";
/// The purpose part of the idempotency key of a "photo ready" mail.
pub const READY_MAIL: &str = "photo-ready-mail";
/// As the done mail's ([`crate::notify::DONE_MAIL_POLICY`]): a claim outlives the function's timeout, a sent mail
/// is remembered past EventBridge's 24 hours of retries.
pub const READY_MAIL_POLICY: OncePolicy = crate::notify::DONE_MAIL_POLICY;
/// How often a photo change is tried again when another writer changed the state between its read and its write.
/// Writers of one profile's photo are few (one per notification of one user's uploads), so this is never reached
/// but by a store that keeps failing its condition.
const CHANGE_ATTEMPTS: usize = 8;

/// Why a pipeline step did not finish; whether a retry may help is [`PipelineError::is_retryable`].
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the profile store is unavailable")]
    Store(#[source] StoreError),
    #[error("the object store refused or failed")]
    Objects(#[source] ServiceError),
    #[error("the event bus refused or failed")]
    Bus(#[source] ServiceError),
    /// The bus took the call but not the event.
    #[error("the event bus did not take the event: {0}")]
    EventRejected(EntryFailure),
    /// The photo state changed between every read and write of [`CHANGE_ATTEMPTS`] tries.
    #[error("the photo state kept changing under this write")]
    Contended,
    /// The renderer failed on its own account ([`RenderError::Failed`]).
    #[error("the renderer failed")]
    Render(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl PipelineError {
    /// Whether the same step later may succeed: an outage, throttling, contention. A denied call, a missing
    /// bucket or bus, or an event the bus refuses as malformed is a deployment's mistake, which no retry fixes.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(_) | Self::Contended => true,
            Self::Objects(e) | Self::Bus(e) => e.is_retryable(),
            Self::EventRejected(failure) => failure.is_retryable(),
            Self::Render(_) => false,
        }
    }
}

/// What a compare-and-set change of a photo state did.
enum Change {
    /// The user has no profile.
    NoProfile,
    /// No step forward: the state, as read, already says so or knows a newer upload.
    Kept(PhotoState),
    /// Written; the state it replaced.
    Written(PhotoState),
}

/// Reads `owner`'s photo state, asks `step` for the next one, and writes it if the state did not change in
/// between; reads again and asks again if it did.
async fn change_photo<S: PhotoGet + PhotoUpdate>(
    photos: &S,
    owner: &UserId,
    step: impl Fn(&PhotoState) -> Option<PhotoState>,
) -> Result<Change, PipelineError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let Some(record) = photos.get_photo(owner).await.map_err(PipelineError::Store)? else {
            return Ok(Change::NoProfile);
        };
        let Some(next) = step(&record.state) else { return Ok(Change::Kept(record.state)) };
        match photos.update_photo(owner, &next, record.revision).await {
            Ok(_) => return Ok(Change::Written(record.state)),
            Err(StoreError::VersionMismatch { .. }) => continue,
            Err(StoreError::NotFound) => return Ok(Change::NoProfile),
            Err(e) => return Err(PipelineError::Store(e)),
        }
    }
    Err(PipelineError::Contended)
}

fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::Unavailable(source) => Error::Store(source),
        other => Error::Store(Box::new(other)),
    }
}

fn service_error(e: ServiceError) -> Error {
    Error::Store(Box::new(e))
}

// ----------------------------------------------------------------------------------------------------------------
// POST /me/photo

/// `POST /me/photo`: `{"content_type": "image/jpeg" | "image/png" | "image/webp", "size": <bytes>}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRequest {
    pub content_type: PhotoContentType,
    pub size: UploadSize,
}

impl UploadRequest {
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let map = body
            .as_object()
            .ok_or_else(|| Error::Invalid("the body must be a JSON object with `content_type` and `size`".into()))?;
        if let Some(k) = map.keys().find(|k| !matches!(k.as_str(), "content_type" | "size")) {
            return Err(Error::Invalid(format!(
                "unknown field `{}`; expected `content_type` and `size`",
                k.chars().take(40).collect::<String>()
            )));
        }
        let content_type = match map.get("content_type") {
            Some(Value::String(s)) => PhotoContentType::parse(s)?,
            Some(_) => return Err(Error::Invalid("`content_type` must be a string".into())),
            None => return Err(Error::Invalid("`content_type` is required".into())),
        };
        let size = match map.get("size") {
            // `2048.0` is the whole number 2048 to JSON (and to JSON Schema's `integer`), so it is taken as one.
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64).map(|f| f as u64)
                })
                .ok_or_else(|| Error::Invalid("`size` must be a whole number of bytes".into()))?,
            Some(_) => return Err(Error::Invalid("`size` must be a number of bytes".into())),
            None => return Err(Error::Invalid("`size` is required".into())),
        };
        Ok(Self { content_type, size: UploadSize::new(size)? })
    }
}

/// The answer to `POST /me/photo`: send `method` to `upload_url` with exactly `headers` (the content type and
/// length are signed) before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadTicket {
    pub upload_id: UploadId,
    pub upload_url: String,
    pub method: PresignedMethod,
    pub headers: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
}

/// A presigned upload of the photo `body` describes to a fresh key under the caller's prefix. The caller's profile
/// is created first if it does not exist (as `GET /me` would), so the pipeline has a profile to record the photo in.
pub async fn request_upload<S, O>(
    profiles: &S,
    objects: &O,
    bucket: &BucketName,
    caller: &Caller,
    body: &Value,
    now: Timestamp,
) -> Result<UploadTicket, Error>
where
    S: ProfileGet + ProfilePut,
    O: ObjectPresign,
{
    let request = UploadRequest::from_json(body)?;
    crate::service::get_profile(profiles, caller, now).await?;
    let key = UploadKey { owner: caller.id.clone(), upload: UploadId::generate(now) };
    let expiry = Expiry::from_secs(UPLOAD_URL_SECONDS)?;
    let signed = objects
        .presign_put(bucket, &key.key(), &request.content_type.content_type(), request.size.get(), expiry)
        .await
        .map_err(service_error)?;
    Ok(UploadTicket {
        upload_id: key.upload,
        upload_url: signed.url,
        method: signed.method,
        headers: signed.headers,
        expires_at: signed.expires_at,
    })
}

// ----------------------------------------------------------------------------------------------------------------
// GET /me

/// `GET /me`: the profile, and its photo when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: Profile,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoView>,
}

/// The caller's profile (created from the token's claims on first use) with its photo, whose renditions get GET
/// URLs presigned now, valid for [`PHOTO_URL_SECONDS`].
pub async fn profile_with_photo<S, O>(
    store: &S,
    objects: &O,
    bucket: &BucketName,
    caller: &Caller,
    now: Timestamp,
) -> Result<ProfileView, Error>
where
    S: ProfileGet + ProfilePut + PhotoGet,
    O: ObjectPresign,
{
    let profile = crate::service::get_profile(store, caller, now).await?;
    let state = store.get_photo(&caller.id).await.map_err(store_error)?.map(|r| r.state).unwrap_or_default();
    let photo = photo_view(objects, bucket, &caller.id, &state).await.map_err(service_error)?;
    Ok(ProfileView { profile, photo })
}

/// What `GET /me` shows of `state`: `None` for no photo at all.
pub async fn photo_view<O: ObjectPresign>(
    objects: &O,
    bucket: &BucketName,
    owner: &UserId,
    state: &PhotoState,
) -> Result<Option<PhotoView>, ServiceError> {
    let (status, upload_id, code, reason) = match (&state.attempt, &state.current) {
        (Some(super::Attempt::Processing { upload_id }), _) => ("processing", *upload_id, None, None),
        (Some(super::Attempt::Failed { upload_id, code, reason }), _) => {
            ("failed", *upload_id, Some(*code), Some(reason.clone()))
        }
        (None, Some(set)) => ("ready", set.upload_id, None, None),
        (None, None) => return Ok(None),
    };
    let mut renditions = BTreeMap::new();
    let mut expires_at = None;
    if let Some(set) = &state.current {
        let expiry = Expiry::from_secs(PHOTO_URL_SECONDS).expect("an hour is a valid expiry");
        for (name, size) in &set.renditions {
            let key = RenditionKey { owner: owner.clone(), upload: set.upload_id, name: name.clone() };
            let signed = objects.presign_get(bucket, &key.key(), expiry).await?;
            expires_at = Some(signed.expires_at);
            renditions.insert(
                name.as_str().to_owned(),
                RenditionView { url: signed.url, width: size.width, height: size.height },
            );
        }
    }
    Ok(Some(PhotoView { status, upload_id, code, reason, renditions, expires_at }))
}

// ----------------------------------------------------------------------------------------------------------------
// resize-photo

/// What `resize-photo` works with: the profile's photo state, the bucket's objects, the renderer, and which
/// renditions to make.
#[derive(Debug, Clone)]
pub struct Resizer<S, O, R> {
    pub photos: S,
    pub objects: O,
    pub render: R,
    /// `UPLOADS_BUCKET`: uploads and renditions, under their two prefixes.
    pub bucket: BucketName,
    /// `RENDITIONS`.
    pub specs: RenditionSpecs,
}

/// What became of an upload. Every outcome but [`Processed::Rendered`] has deleted the upload (if it was there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Every rendition written (`record-photo` points the profile at them); the upload deleted.
    Rendered(PhotoSet),
    /// Not an image that may be rendered: recorded on the profile, the upload deleted.
    Failed(Failure),
    /// This upload was processed before (its set is shown, or its failure recorded).
    AlreadyDone,
    /// A newer upload of the user's is known: this one can no longer become their photo.
    Superseded,
    /// No object at the key: processed and deleted by an earlier delivery, or never uploaded.
    Gone,
    /// The user has no profile to record a photo in.
    NoProfile,
}

impl<S, O, R> Resizer<S, O, R>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectGet + ObjectPut + ObjectDelete,
    R: ImageRender,
{
    /// Renders `upload` into its renditions, or records why it cannot be.
    pub async fn process(&self, upload: &UploadKey) -> Result<Processed, PipelineError> {
        let Some(record) = self.photos.get_photo(&upload.owner).await.map_err(PipelineError::Store)? else {
            return self.discard(upload, Processed::NoProfile).await;
        };
        match record.state.standing(upload.upload) {
            Standing::Ready | Standing::Failed => return self.discard(upload, Processed::AlreadyDone).await,
            Standing::Superseded => return self.discard(upload, Processed::Superseded).await,
            Standing::New | Standing::Processing => {}
        }
        let Some(object) =
            self.objects.get_object(&self.bucket, &upload.key()).await.map_err(PipelineError::Objects)?
        else {
            return Ok(Processed::Gone);
        };
        if object.size() > MAX_UPLOAD_BYTES {
            let reason = format!("the upload is {} bytes; a photo may be at most {MAX_UPLOAD_BYTES}", object.size());
            return self.fail(upload, Failure::new(FailureCode::TooLarge, &reason)).await;
        }
        match change_photo(&self.photos, &upload.owner, |state| state.begin(upload.upload)).await? {
            Change::NoProfile => return self.discard(upload, Processed::NoProfile).await,
            Change::Kept(state) => match state.standing(upload.upload) {
                Standing::Superseded => return self.discard(upload, Processed::Superseded).await,
                Standing::Ready | Standing::Failed => return self.discard(upload, Processed::AlreadyDone).await,
                Standing::New | Standing::Processing => {}
            },
            Change::Written(_) => {}
        }
        let images = match self.render.render(object.bytes, &self.specs).await {
            Ok(images) => images,
            Err(RenderError::Refused(failure)) => return self.fail(upload, failure).await,
            Err(RenderError::Failed(e)) => return Err(PipelineError::Render(e)),
        };
        let mut renditions = BTreeMap::new();
        for image in images {
            let key = upload.rendition(&image.name).key();
            let metadata = rendition_metadata(upload.upload, &image.name, image.width, image.height);
            let object = NewObject { bytes: image.jpeg, content_type: crate::object::ContentType::jpeg(), metadata };
            self.objects.put_object(&self.bucket, &key, object).await.map_err(PipelineError::Objects)?;
            renditions.insert(image.name, RenditionSize { width: image.width, height: image.height });
        }
        self.delete(&upload.key()).await?;
        Ok(Processed::Rendered(PhotoSet { upload_id: upload.upload, renditions }))
    }

    /// Records `failure` for `upload` (unless the state moved past it) and deletes the upload.
    async fn fail(&self, upload: &UploadKey, failure: Failure) -> Result<Processed, PipelineError> {
        let outcome =
            match change_photo(&self.photos, &upload.owner, |s| s.fail(upload.upload, failure.clone())).await? {
                Change::NoProfile => Processed::NoProfile,
                Change::Written(_) => Processed::Failed(failure),
                Change::Kept(state) if state.standing(upload.upload) == Standing::Superseded => Processed::Superseded,
                Change::Kept(_) => Processed::AlreadyDone,
            };
        self.discard(upload, outcome).await
    }

    async fn discard(&self, upload: &UploadKey, outcome: Processed) -> Result<Processed, PipelineError> {
        self.delete(&upload.key()).await?;
        Ok(outcome)
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PipelineError> {
        self.objects.delete_object(&self.bucket, key).await.map_err(PipelineError::Objects)
    }
}

/// Metadata keys a rendition is written with; `record-photo` reads the size back from them.
pub const META_WIDTH: &str = "width";
pub const META_HEIGHT: &str = "height";
pub const META_UPLOAD_ID: &str = "upload-id";
pub const META_RENDITION: &str = "rendition";

fn rendition_metadata(upload: UploadId, name: &RenditionName, width: u32, height: u32) -> Metadata {
    Metadata::new()
        .with(META_WIDTH, &width.to_string())
        .and_then(|m| m.with(META_HEIGHT, &height.to_string()))
        .and_then(|m| m.with(META_UPLOAD_ID, &upload.to_string()))
        .and_then(|m| m.with(META_RENDITION, name.as_str()))
        .expect("numbers, an upload id and a rendition name are valid metadata")
}

// ----------------------------------------------------------------------------------------------------------------
// record-photo

/// What `record-photo` works with.
#[derive(Debug, Clone)]
pub struct Recorder<S, O, E> {
    pub photos: S,
    pub objects: O,
    pub events: E,
    /// `EVENT_BUS_NAME`.
    pub bus: EventBusName,
    /// `UPLOADS_BUCKET`.
    pub bucket: BucketName,
    /// `RENDITIONS`: the same list `resize-photo` is given; a set is complete when all of them exist.
    pub specs: RenditionSpecs,
}

/// What became of a rendition's notification.
#[derive(Debug)]
pub enum Recorded {
    /// The set is complete and now shown; [`PhotoProcessed`] is on the bus. The set it replaced was deleted,
    /// except the objects listed in `leftover` (with why), which a failed delete left behind.
    Shown { set: PhotoSet, replaced: Option<PhotoSet>, leftover: Vec<(ObjectKey, ServiceError)> },
    /// The set was shown already (another rendition's notification, or this one again); [`PhotoProcessed`] was put
    /// again, since the earlier attempt may have failed to put it, and its consumers take it once per upload.
    AlreadyShown(PhotoSet),
    /// Not every rendition exists yet: the last one's notification completes the set.
    Incomplete { missing: Vec<RenditionName> },
    /// A newer upload of the user's is known; this set's objects were deleted.
    Superseded,
    /// The user has no profile; this set's objects were deleted.
    NoProfile,
    /// A rendition has no readable size in its metadata: not written by `resize-photo`. Nothing recorded.
    Unreadable { key: ObjectKey },
}

impl<S, O, E> Recorder<S, O, E>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectHead + ObjectDelete,
    E: EventPut,
{
    /// Points the owner's profile at the set `rendition` belongs to, once the set is complete.
    pub async fn record(&self, rendition: &RenditionKey) -> Result<Recorded, PipelineError> {
        let upload = rendition.upload_key();
        let mut renditions = BTreeMap::new();
        let mut missing = Vec::new();
        for name in self.specs.names() {
            let key = upload.rendition(name).key();
            match self.objects.head_object(&self.bucket, &key).await.map_err(PipelineError::Objects)? {
                None => missing.push(name.clone()),
                Some(info) => {
                    let size = |k: &str| info.metadata.get(k).and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0);
                    let (Some(width), Some(height)) = (size(META_WIDTH), size(META_HEIGHT)) else {
                        return Ok(Recorded::Unreadable { key });
                    };
                    renditions.insert(name.clone(), RenditionSize { width, height });
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Recorded::Incomplete { missing });
        }
        let set = PhotoSet { upload_id: upload.upload, renditions };
        match change_photo(&self.photos, &upload.owner, |state| state.complete(&set)).await? {
            Change::NoProfile => {
                self.delete_set(&upload.owner, &set).await?;
                Ok(Recorded::NoProfile)
            }
            Change::Kept(state) if state.standing(set.upload_id) == Standing::Superseded => {
                self.delete_set(&upload.owner, &set).await?;
                Ok(Recorded::Superseded)
            }
            Change::Kept(_) => {
                self.announce(&upload.owner, &set).await?;
                Ok(Recorded::AlreadyShown(set))
            }
            Change::Written(before) => {
                let replaced = before.current.filter(|old| old.upload_id != set.upload_id);
                let mut leftover = Vec::new();
                for key in replaced.iter().flat_map(|old| old.keys(&upload.owner)) {
                    if let Err(e) = self.objects.delete_object(&self.bucket, &key.key()).await {
                        leftover.push((key.key(), e));
                    }
                }
                self.announce(&upload.owner, &set).await?;
                Ok(Recorded::Shown { set, replaced, leftover })
            }
        }
    }

    async fn delete_set(&self, owner: &UserId, set: &PhotoSet) -> Result<(), PipelineError> {
        for key in set.keys(owner) {
            self.objects.delete_object(&self.bucket, &key.key()).await.map_err(PipelineError::Objects)?;
        }
        Ok(())
    }

    async fn announce(&self, owner: &UserId, set: &PhotoSet) -> Result<(), PipelineError> {
        let event = PhotoProcessed::new(owner, set).to_bus_event();
        let outcomes = self.events.put_events(&self.bus, &[event]).await.map_err(PipelineError::Bus)?;
        match outcomes.into_iter().next() {
            Some(EntryOutcome::Accepted(_)) => Ok(()),
            Some(EntryOutcome::Failed(failure)) => Err(PipelineError::EventRejected(failure)),
            None => Err(PipelineError::EventRejected(EntryFailure {
                code: "NoOutcome".into(),
                message: "the bus answered for no entry".into(),
            })),
        }
    }
}

/// One rendition in a [`PhotoProcessed`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedRendition {
    /// The object key in the uploads bucket.
    pub key: String,
    pub width: u32,
    pub height: u32,
}

/// The detail of a `PhotoProcessed` event: `{"owner", "upload_id", "renditions": {name: {"key", "width",
/// "height"}}}`. Made from the set alone, so every put of one set is the same event (`upload_id` identifies it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoProcessed {
    pub owner: UserId,
    pub upload_id: UploadId,
    pub renditions: BTreeMap<RenditionName, ProcessedRendition>,
}

impl PhotoProcessed {
    pub fn new(owner: &UserId, set: &PhotoSet) -> Self {
        let renditions = set
            .renditions
            .iter()
            .map(|(name, size)| {
                let key = RenditionKey { owner: owner.clone(), upload: set.upload_id, name: name.clone() };
                (
                    name.clone(),
                    ProcessedRendition { key: key.key().to_string(), width: size.width, height: size.height },
                )
            })
            .collect();
        Self { owner: owner.clone(), upload_id: set.upload_id, renditions }
    }

    /// The bus entry: source [`SOURCE`], detail type [`PHOTO_PROCESSED`].
    pub fn to_bus_event(&self) -> BusEvent {
        let detail = serde_json::to_value(self).expect("a photo event serialises");
        BusEvent::new(SOURCE, PHOTO_PROCESSED, detail).expect("a photo event is far within the bus's limits")
    }

    /// Reads an event's detail back; `Invalid` when it is not a photo event.
    pub fn from_detail(detail: &Value) -> Result<Self, Error> {
        Self::deserialize(detail).map_err(|e| Error::Invalid(format!("not a PhotoProcessed detail: {e}")))
    }
}

// ----------------------------------------------------------------------------------------------------------------
// notify-photo-processed

/// The mail telling `name` at `to` that their new photo is ready.
pub fn ready_mail(from: &MailAddress, to: MailAddress, name: &DisplayName, event: &PhotoProcessed) -> SimpleMail {
    let sizes: Vec<String> =
        event.renditions.iter().map(|(n, r)| format!("  {n}: {} × {} pixels", r.width, r.height)).collect();
    let text = format!(
        "Hello {},\n\nyour new profile photo is ready.\n\n{}\n\nUpload: {}\n",
        name.as_str(),
        sizes.join("\n"),
        event.upload_id
    );
    SimpleMail {
        from: from.clone(),
        to: Recipients::one(to),
        subject: Subject::parse("Your profile photo is ready").expect("a fixed subject"),
        body: MailBody::Text(text),
    }
}

/// The key a photo's mail is claimed under: `photo-ready-mail:{owner}/{upload id}`.
pub fn ready_mail_key(event: &PhotoProcessed) -> IdempotencyKey {
    IdempotencyKey::parse(&format!("{READY_MAIL}:{}/{}", event.owner, event.upload_id))
        .expect("a user id and an upload id are visible ASCII, well within 255 bytes")
}

/// Mails the owner of the photo `event` reports, once per upload however often the event is delivered. Skipped
/// (no mail, no failure) for an owner without a profile, without an email, or with one no mail service takes.
pub async fn notify_photo_ready(
    profiles: &impl ProfileGet,
    claims: &impl Idempotency,
    mail: &impl MailSend,
    sender: &MailAddress,
    event: &PhotoProcessed,
    now: Timestamp,
) -> Result<Notified, NotifyError> {
    let Some(profile) = profiles.get_profile(&event.owner).await.map_err(NotifyError::Store)? else {
        return Ok(Notified::Skipped(Skipped::NoProfile));
    };
    let Some(email) = &profile.email else { return Ok(Notified::Skipped(Skipped::NoEmail)) };
    let Ok(to) = MailAddress::try_from(email) else { return Ok(Notified::Skipped(Skipped::Undeliverable)) };
    let message = ready_mail(sender, to, &profile.display_name, event);
    match run_once(claims, &ready_mail_key(event), READY_MAIL_POLICY, now, || mail.send_simple(&message)).await {
        Ok(Once::Ran(id)) => Ok(Notified::Sent(id)),
        Ok(Once::RanUnrecorded(id, e)) => Ok(Notified::SentUnrecorded(id, e)),
        Ok(Once::AlreadyDone) => Ok(Notified::AlreadySent),
        Err(OnceError::InProgress { until }) => Err(NotifyError::InProgress { until }),
        Err(OnceError::Claim(e)) => Err(NotifyError::Store(e)),
        Err(OnceError::Failed { error, release }) => Err(NotifyError::Send { source: error, release }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ContentType, PresignedRequest};
    use crate::photo::{Attempt, UploadKey};
    use serde_json::json;

    /// Presigns by formatting: enough to see which key each URL is for.
    struct Signer;

    impl ObjectPresign for Signer {
        async fn presign_put(
            &self,
            _: &BucketName,
            _: &ObjectKey,
            _: &ContentType,
            _: u64,
            _: Expiry,
        ) -> Result<PresignedRequest, ServiceError> {
            unreachable!("GET /me presigns GETs only")
        }

        async fn presign_get(
            &self,
            bucket: &BucketName,
            key: &ObjectKey,
            expiry: Expiry,
        ) -> Result<PresignedRequest, ServiceError> {
            Ok(PresignedRequest {
                url: format!("https://{bucket}.example/{key}"),
                method: PresignedMethod::Get,
                headers: BTreeMap::new(),
                expires_at: time::macros::datetime!(2030-01-01 00:00 UTC) + expiry.duration(),
            })
        }
    }

    fn upload(n: u64) -> UploadId {
        UploadId(ulid::Ulid::from_parts(1_700_000_000_000 + n, 0))
    }

    fn set(n: u64) -> PhotoSet {
        let renditions = [("thumbnail", 200), ("large", 1600)]
            .into_iter()
            .map(|(name, e)| (RenditionName::parse(name).unwrap(), RenditionSize { width: e, height: e / 2 }))
            .collect();
        PhotoSet { upload_id: upload(n), renditions }
    }

    #[tokio::test]
    async fn the_view_of_a_photo_names_its_status_and_presigns_the_set_shown() {
        let (bucket, owner) = (BucketName::parse("photos").unwrap(), UserId::parse("u-1").unwrap());
        let view = |state: PhotoState| {
            let (bucket, owner) = (bucket.clone(), owner.clone());
            async move { serde_json::to_value(photo_view(&Signer, &bucket, &owner, &state).await.unwrap()).unwrap() }
        };
        assert_eq!(view(PhotoState::default()).await, Value::Null);
        let ready = PhotoState::default().complete(&set(1)).unwrap();
        let thumbnail = json!({
            "url": format!("https://photos.example/renditions/u-1/{}/thumbnail.jpg", upload(1)),
            "width": 200,
            "height": 100,
        });
        let shown = view(ready.clone()).await;
        assert_eq!(shown["status"], "ready");
        assert_eq!(shown["thumbnail"], thumbnail);
        assert_eq!(shown["large"]["width"], 1600);
        assert_eq!(shown["expires_at"], "2030-01-01T01:00:00Z");
        let failed = ready.fail(upload(2), Failure::new(FailureCode::Unsupported, "a GIF")).unwrap();
        let shown = view(failed).await;
        assert_eq!((&shown["status"], &shown["upload_id"]), (&json!("failed"), &json!(upload(2).to_string())));
        assert_eq!((&shown["code"], &shown["reason"]), (&json!("unsupported"), &json!("a GIF")));
        assert_eq!(shown["thumbnail"], thumbnail, "the photo still shown");
        let processing = PhotoState { current: None, attempt: Some(Attempt::Processing { upload_id: upload(3) }) };
        assert_eq!(view(processing).await, json!({"status": "processing", "upload_id": upload(3).to_string()}));
    }

    #[test]
    fn a_photo_processed_event_reads_back_and_is_the_same_for_every_put_of_a_set() {
        let owner = UserId::parse("u-1").unwrap();
        let event = PhotoProcessed::new(&owner, &set(1));
        let entry = event.to_bus_event();
        assert_eq!((entry.source(), entry.detail_type()), (SOURCE, PHOTO_PROCESSED));
        assert_eq!(PhotoProcessed::from_detail(entry.detail()).unwrap(), event);
        assert_eq!(entry.detail_json(), PhotoProcessed::new(&owner, &set(1)).to_bus_event().detail_json());
        let key =
            UploadKey { owner: owner.clone(), upload: upload(1) }.rendition(&RenditionName::parse("large").unwrap());
        assert_eq!(entry.detail()["renditions"]["large"]["key"], key.key().as_str());
        assert!(PhotoProcessed::from_detail(&json!({"owner": "u-1"})).is_err());
        assert_eq!(ready_mail_key(&event).as_str(), format!("photo-ready-mail:u-1/{}", upload(1)));
    }

    #[test]
    fn only_outages_and_contention_are_worth_retrying() {
        let unavailable = || ServiceError::Unavailable("reset".into());
        assert!(PipelineError::Store(StoreError::Unavailable("down".into())).is_retryable());
        assert!(PipelineError::Contended.is_retryable());
        assert!(PipelineError::Objects(unavailable()).is_retryable());
        assert!(!PipelineError::Objects(ServiceError::AccessDenied("no".into())).is_retryable());
        assert!(!PipelineError::Bus(ServiceError::NotFound("no bus".into())).is_retryable());
        let throttled = EntryFailure { code: "ThrottlingException".into(), message: "slow down".into() };
        assert!(PipelineError::EventRejected(throttled).is_retryable());
        assert!(!PipelineError::Render("encoder bug".into()).is_retryable());
    }
}
