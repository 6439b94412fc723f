//! `resize-photo`: the target of the uploads bucket's `s3:ObjectCreated:*` notification on the `uploads/` prefix.
//! Each upload `uploads/{user}/{upload id}` is read, rendered by the `photo` crate into the renditions `RENDITIONS`
//! names (`thumbnail:200,medium:800,large:1600`), and written as JPEG under `renditions/{user}/{upload id}/` with
//! their size in the object metadata; then the upload is deleted ([`domain::photo::service::Resizer`]). Its own
//! writes are under `renditions/`, outside the trigger's prefix, so they never start it again; `record-photo`
//! picks them up.
//!
//! The function is invoked asynchronously (Lambda retries a failed invocation twice, then sends the event to the
//! dead-letter queue), so it fails only when a retry may succeed or an operator must look:
//! - an image that cannot be rendered (a decompression bomb, a corrupt, truncated or unsupported file) is not an
//!   error: it is recorded on the profile as failed with its reason, the upload deleted, and the invocation
//!   succeeds (`"outcome": "failed"`), so it is not retried;
//! - a store or S3 that is unavailable fails `Retryable`; a denied call or a missing bucket fails `Misconfigured`,
//!   and the renderer failing on its own account (its configuration, an encoder bug) `RenderFailed`.
//!
//! Keys are URL-encoded in the event (`+` for a space): they are decoded, and a key that is not
//! `uploads/{user}/{upload id}` is logged and ignored. The bucket is the configured one (`UPLOADS_BUCKET`); the
//! notification is set on that bucket only.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use domain::error::chain;
use domain::photo::service::{PipelineError, Processed, Resizer};
use domain::photo::{Failure, FailureCode, RenditionName, RenditionSize, RenditionSpecs, UploadKey, decode_event_key};
use domain::ports::{
    ImageRender, ObjectDelete, ObjectGet, ObjectPut, PhotoGet, PhotoUpdate, RenderError, RenderedImage,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The [`ImageRender`] port on the `photo` crate, under `limits` (the upload limit of 20 MiB, and the pixel and
/// memory bounds that refuse a decompression bomb from its header).
#[derive(Debug, Clone, Copy, Default)]
pub struct PhotoRenderer {
    pub limits: photo::Limits,
}

impl ImageRender for PhotoRenderer {
    async fn render(&self, image: Vec<u8>, specs: &RenditionSpecs) -> Result<Vec<RenderedImage>, RenderError> {
        let specs: Vec<photo::RenditionSpec> = specs
            .as_slice()
            .iter()
            .map(|s| photo::RenditionSpec { name: s.name.as_str().to_owned(), long_edge: s.long_edge })
            .collect();
        let limits = self.limits;
        let job = move || photo::render(&image, &specs, &limits);
        // Seconds of CPU: on the blocking pool, so the runtime's workers keep serving (in the local stack, every
        // other function and the HTTP API share them).
        let rendered = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(job).await.map_err(|e| RenderError::Failed(Box::new(e)))?,
            Err(_) => job(),
        };
        match rendered {
            Ok(renditions) => renditions
                .into_iter()
                .map(|r| {
                    let name = RenditionName::parse(&r.name).map_err(|e| RenderError::Failed(Box::new(e)))?;
                    Ok(RenderedImage { name, width: r.width, height: r.height, jpeg: r.jpeg })
                })
                .collect(),
            Err(e) => match FailureCode::parse(e.code()) {
                Some(code) => Err(RenderError::Refused(Failure::new(code, &e.reason()))),
                // `invalid_spec`, `encode_failed`: ours, not the uploader's.
                None => Err(RenderError::Failed(Box::new(e))),
            },
        }
    }
}

/// What became of one record of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Renditions written, upload deleted.
    Rendered,
    /// Not an image that may be rendered: recorded on the profile, upload deleted.
    Failed,
    /// Processed before (a second notification): upload deleted if it was still there.
    AlreadyDone,
    /// A newer upload of the user's is known: this one was deleted unprocessed.
    Superseded,
    /// No object at the key (processed and deleted before, or never uploaded).
    Gone,
    /// The user has no profile: the upload was deleted.
    NoProfile,
    /// Not an object creation of an upload key: logged, nothing done.
    Ignored,
}

/// One record's result: `{"outcome", "key", "upload_id", "code", "reason", "renditions"}` (the last four when
/// they apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordResult {
    pub outcome: Outcome,
    /// The key as decoded (as the event carried it when it did not decode).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// For `failed`: `unsupported`, `corrupt` or `too_large`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<FailureCode>,
    /// For `failed`, the reason shown to the user; for `ignored`, why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renditions: Option<BTreeMap<RenditionName, RenditionSize>>,
}

/// The invocation's result: every record's outcome in order (`{"outcomes": ["rendered"], "records": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcomes: Vec<Outcome>,
    pub records: Vec<RecordResult>,
}

/// Why the event could not be handled now, named for what should happen next (`errorType`).
#[derive(Debug, thiserror::Error)]
#[error("processing the upload `{key}` failed")]
pub struct ResizeFailed {
    pub key: String,
    #[source]
    pub error: PipelineError,
}

impl ResizeFailed {
    /// `Retryable` (an outage, throttling: Lambda's retry may succeed), `RenderFailed` (the renderer's own fault),
    /// `Misconfigured` (a denied call, a missing bucket: no retry helps; the event goes to the dead-letter queue).
    pub fn error_type(&self) -> &'static str {
        match &self.error {
            e if e.is_retryable() => "Retryable",
            PipelineError::Render(_) => "RenderFailed",
            _ => "Misconfigured",
        }
    }

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation. The causes are logged here
    /// and kept out of the message, which reaches the dead-letter queue.
    pub fn into_parts(self) -> (&'static str, String) {
        let error_type = self.error_type();
        tracing::error!(error_type, key = %self.key, error = %chain(&self.error), "resizing failed; Lambda will retry");
        (error_type, self.to_string())
    }
}

fn ignored(key: String, why: &str) -> RecordResult {
    tracing::warn!(%key, "ignoring an S3 record: {why}");
    RecordResult {
        outcome: Outcome::Ignored,
        key,
        upload_id: None,
        code: None,
        reason: Some(why.to_owned()),
        renditions: None,
    }
}

/// Renders every upload the event reports, in order; stops at the first that fails (the retry redoes the earlier
/// ones, which finds them done).
pub async fn handle<S, O, R>(resizer: &Resizer<S, O, R>, event: S3Event) -> Result<Handled, ResizeFailed>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectGet + ObjectPut + ObjectDelete,
    R: ImageRender,
{
    let mut records = Vec::with_capacity(event.records.len());
    for record in &event.records {
        records.push(handle_record(resizer, record).await?);
    }
    Ok(Handled { outcomes: records.iter().map(|r| r.outcome).collect(), records })
}

async fn handle_record<S, O, R>(
    resizer: &Resizer<S, O, R>,
    record: &S3EventRecord,
) -> Result<RecordResult, ResizeFailed>
where
    S: PhotoGet + PhotoUpdate,
    O: ObjectGet + ObjectPut + ObjectDelete,
    R: ImageRender,
{
    let raw = record.s3.object.key.clone().unwrap_or_default();
    if !record.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:")) {
        return Ok(ignored(raw, "not an object creation"));
    }
    let key = match decode_event_key(&raw) {
        Ok(key) => key,
        Err(e) => return Ok(ignored(raw, &e.to_string())),
    };
    let upload = match UploadKey::parse(&key) {
        Ok(upload) => upload,
        Err(e) => return Ok(ignored(key, &e.to_string())),
    };
    let processed = resizer.process(&upload).await.map_err(|error| ResizeFailed { key: key.clone(), error })?;
    let mut result = RecordResult {
        outcome: Outcome::Gone,
        key,
        upload_id: Some(upload.upload.to_string()),
        code: None,
        reason: None,
        renditions: None,
    };
    result.outcome = match processed {
        Processed::Rendered(set) => {
            tracing::info!(key = %result.key, "renditions written");
            result.renditions = Some(set.renditions);
            telemetry::metrics::count("PhotosResized", 1.0);
            Outcome::Rendered
        }
        Processed::Failed(failure) => {
            tracing::info!(key = %result.key, code = failure.code.as_str(), reason = %failure.reason, "the upload is no photo we can render; recorded as failed");
            result.code = Some(failure.code);
            result.reason = Some(failure.reason);
            telemetry::metrics::count("PhotosRejected", 1.0);
            Outcome::Failed
        }
        Processed::AlreadyDone => Outcome::AlreadyDone,
        Processed::Superseded => Outcome::Superseded,
        Processed::Gone => Outcome::Gone,
        Processed::NoProfile => {
            tracing::warn!(key = %result.key, "the uploader has no profile; the upload was deleted");
            Outcome::NoProfile
        }
    };
    Ok(result)
}

#[cfg(test)]
mod tests;
