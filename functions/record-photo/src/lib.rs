//! `record-photo`: the target of the uploads bucket's `s3:ObjectCreated:*` notification on the `renditions/`
//! prefix. Each rendition `renditions/{user}/{upload id}/{name}.jpg` that `resize-photo` writes is one
//! notification; the one that finds every rendition `RENDITIONS` names in place (a `HEAD` of each) points the
//! user's profile at the set, deletes the set it replaced, and puts `PhotoProcessed` on the bus
//! ([`domain::photo::service::Recorder`]). Only a newer upload replaces the photo shown: a late notification of an
//! older set changes nothing, and that set's objects are deleted.
//!
//! Every notification of a complete set may find it complete (S3 delivers at least once, in no particular order),
//! so the profile is changed by the first and left alone by the others, which put `PhotoProcessed` again: an
//! earlier attempt may have changed the profile and then failed to put it. Its consumers take it once per upload
//! (`notify-photo-processed` claims the upload id).
//!
//! Invoked asynchronously, it fails only when a retry may succeed (`Retryable`: the store, S3 or the bus
//! unavailable) or an operator must look (`Misconfigured`: a denied call, a missing bucket or bus). Keys are
//! URL-decoded; a key that is not a rendition key is logged and ignored.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use domain::error::chain;
use domain::photo::service::{PipelineError, Recorded, Recorder};
use domain::photo::{RenditionKey, RenditionName, decode_event_key};
use domain::ports::{EventPut, ObjectDelete, ObjectHead, PhotoGet, PhotoUpdate};
use serde::Serialize;

/// What became of one record of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The set is complete and now shown; `PhotoProcessed` put.
    Shown,
    /// The set was shown already; `PhotoProcessed` put again.
    AlreadyShown,
    /// Not every rendition exists yet.
    Incomplete,
    /// A newer upload is known; this set was deleted.
    Superseded,
    /// The user has no profile; the set was deleted.
    NoProfile,
    /// A rendition without its size in its metadata (not written by `resize-photo`); nothing recorded.
    Unreadable,
    /// Not an object creation of a rendition key: logged, nothing done.
    Ignored,
}

/// One record's result: `{"outcome", "key", "upload_id", "missing", "replaced", "reason"}` (the last four when
/// they apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordResult {
    pub outcome: Outcome,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// For `incomplete`: the renditions not there yet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<RenditionName>,
    /// For `shown`: the upload whose set it replaced, now deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    /// For `ignored` and `unreadable`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The invocation's result: every record's outcome in order (`{"outcomes": ["shown"], "records": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcomes: Vec<Outcome>,
    pub records: Vec<RecordResult>,
}

/// Why the event could not be handled now, named for what should happen next (`errorType`).
#[derive(Debug, thiserror::Error)]
#[error("recording the rendition `{key}` failed")]
pub struct RecordFailed {
    pub key: String,
    #[source]
    pub error: PipelineError,
}

impl RecordFailed {
    /// `Retryable` (an outage, throttling, contention: Lambda's retry may succeed) or `Misconfigured` (a denied
    /// call, a missing bucket or bus, an event the bus refuses: no retry helps; the event goes to the dead-letter
    /// queue).
    pub fn error_type(&self) -> &'static str {
        if self.error.is_retryable() { "Retryable" } else { "Misconfigured" }
    }

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation. The causes are logged here
    /// and kept out of the message, which reaches the dead-letter queue.
    pub fn into_parts(self) -> (&'static str, String) {
        let error_type = self.error_type();
        tracing::error!(error_type, key = %self.key, error = %chain(&self.error), "recording failed; Lambda will retry");
        (error_type, self.to_string())
    }
}

fn result(outcome: Outcome, key: String) -> RecordResult {
    RecordResult { outcome, key, upload_id: None, missing: Vec::new(), replaced: None, reason: None }
}

fn ignored(key: String, why: &str) -> RecordResult {
    tracing::warn!(%key, "ignoring an S3 record: {why}");
    RecordResult { reason: Some(why.to_owned()), ..result(Outcome::Ignored, key) }
}

/// Records every rendition the event reports, in order; stops at the first that fails (the retry redoes the
/// earlier ones, which find their work done).
pub async fn handle<S, O, E>(recorder: &Recorder<S, O, E>, event: S3Event) -> Result<Handled, RecordFailed>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectHead + ObjectDelete,
    E: EventPut,
{
    let mut records = Vec::with_capacity(event.records.len());
    for record in &event.records {
        records.push(handle_record(recorder, record).await?);
    }
    Ok(Handled { outcomes: records.iter().map(|r| r.outcome).collect(), records })
}

async fn handle_record<S, O, E>(
    recorder: &Recorder<S, O, E>,
    record: &S3EventRecord,
) -> Result<RecordResult, RecordFailed>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectHead + ObjectDelete,
    E: EventPut,
{
    let raw = record.s3.object.key.clone().unwrap_or_default();
    if !record.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:")) {
        return Ok(ignored(raw, "not an object creation"));
    }
    let key = match decode_event_key(&raw) {
        Ok(key) => key,
        Err(e) => return Ok(ignored(raw, &e.to_string())),
    };
    let rendition = match RenditionKey::parse(&key) {
        Ok(rendition) => rendition,
        Err(e) => return Ok(ignored(key, &e.to_string())),
    };
    let recorded = recorder.record(&rendition).await.map_err(|error| RecordFailed { key: key.clone(), error })?;
    let mut out = RecordResult { upload_id: Some(rendition.upload.to_string()), ..result(Outcome::Shown, key) };
    out.outcome = match recorded {
        Recorded::Shown { replaced, leftover, .. } => {
            for (object, e) in &leftover {
                tracing::error!(key = %object, error = %chain(e), "a replaced rendition could not be deleted; delete it by hand");
            }
            tracing::info!(key = %out.key, replaced = ?replaced.as_ref().map(|s| s.upload_id.to_string()), "the profile shows the new photo");
            out.replaced = replaced.map(|s| s.upload_id.to_string());
            Outcome::Shown
        }
        Recorded::AlreadyShown(_) => Outcome::AlreadyShown,
        Recorded::Incomplete { missing } => {
            out.missing = missing;
            Outcome::Incomplete
        }
        Recorded::Superseded => {
            tracing::info!(key = %out.key, "a newer upload is known; this set was deleted");
            Outcome::Superseded
        }
        Recorded::NoProfile => {
            tracing::warn!(key = %out.key, "the owner has no profile; the set was deleted");
            Outcome::NoProfile
        }
        Recorded::Unreadable { key } => {
            let why = format!("`{key}` has no `width` and `height` metadata");
            tracing::warn!(key = %out.key, "{why}; not written by resize-photo, nothing recorded");
            out.reason = Some(why);
            Outcome::Unreadable
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests;
