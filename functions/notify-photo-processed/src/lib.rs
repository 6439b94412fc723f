//! `notify-photo-processed`: the target of an EventBridge rule matching `PhotoProcessed`
//! (`{"source": ["task-platform.photos"], "detail-type": ["PhotoProcessed"]}`). It mails the photo's owner, at the
//! email of their profile, that their new photo is ready, once per upload however often the event is delivered
//! ([`domain::photo::service::notify_photo_ready`]: the upload is claimed in the idempotency table before sending,
//! and marked done after). `record-photo` puts the event at least once per complete set, so repeats are expected.
//!
//! Invoked asynchronously, it fails only when a later attempt may succeed, with an `errorType` saying why
//! ([`NotifyFailed::error_type`], as `notify-task-done`): `Retryable` (the store or SES unavailable),
//! `MailRejected` (SES refused the mail; the claim is released, so the retry sends once that is fixed),
//! `MailFailed`, or `InProgress` (another attempt holds the claim). It succeeds without mail, logging why, for an
//! event that is not a `PhotoProcessed` (the rule filters; this checks again), an owner without a profile or an
//! email, an email no mail service takes, and an upload whose mail was sent before.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use domain::ServiceError;
use domain::error::chain;
use domain::idempotency::Idempotency;
use domain::mail::MailAddress;
use domain::notify::{Notified, NotifyError, Skipped};
use domain::photo::service::{PHOTO_PROCESSED, PhotoProcessed, SOURCE, notify_photo_ready};
use domain::ports::{MailSend, ProfileGet};
use serde::Serialize;
use serde_json::Value;

/// What the handler works with: the owner's profile, the claims, the mail service and the sender.
#[derive(Debug, Clone)]
pub struct Notifier<P, I, M> {
    pub profiles: P,
    pub claims: I,
    pub mail: M,
    /// `SENDER_EMAIL`: an identity SES has verified.
    pub sender: MailAddress,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Sent,
    /// This upload's mail was sent before (a second delivery): nothing sent.
    AlreadySent,
    /// No mail, and none will be for this event: see [`Handled::reason`].
    Skipped,
}

/// The invocation's result, e.g. `{"outcome": "sent", "upload_id": "…", "message_id": "…"}` or
/// `{"outcome": "skipped", "reason": "no_email", "upload_id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcome: Outcome,
    /// Why it was skipped: `not_a_photo_event`, `no_profile`, `no_email`, `undeliverable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

impl Handled {
    fn skipped(reason: &'static str, upload_id: Option<String>) -> Self {
        Self { outcome: Outcome::Skipped, reason: Some(reason), upload_id, message_id: None }
    }
}

/// Why the mail could not be handled now; Lambda retries the event.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct NotifyFailed(#[from] pub NotifyError);

impl NotifyFailed {
    /// The Lambda `errorType`, named for what a retry can expect.
    pub fn error_type(&self) -> &'static str {
        match &self.0 {
            NotifyError::InProgress { .. } => "InProgress",
            NotifyError::Store(_) => "Retryable",
            NotifyError::Send { source, .. } if source.is_retryable() => "Retryable",
            NotifyError::Send { source: ServiceError::MailRejected(_), .. } => "MailRejected",
            NotifyError::Send { .. } => "MailFailed",
        }
    }

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation. The causes are logged here,
    /// and kept out of the message (which reaches the dead-letter queue).
    pub fn into_parts(self) -> (&'static str, String) {
        let error_type = self.error_type();
        match &self.0 {
            NotifyError::InProgress { until } => {
                tracing::warn!(%until, "another attempt holds this upload's mail; Lambda will retry the event")
            }
            NotifyError::Store(e) => tracing::error!(error = %chain(e), "the store failed; Lambda will retry"),
            NotifyError::Send { source, release } => {
                tracing::error!(error_type, error = %chain(source), "the mail was not sent; Lambda will retry");
                if let Some(e) = release {
                    tracing::error!(error = %chain(e), "the claim could not be released; a retry waits for it to lapse");
                }
            }
        }
        (error_type, self.to_string())
    }
}

/// Mails the owner of the photo `event` reports, once per upload.
pub async fn handle<P, I, M>(
    notifier: &Notifier<P, I, M>,
    event: EventBridgeEvent<Value>,
) -> Result<Handled, NotifyFailed>
where
    P: ProfileGet,
    I: Idempotency,
    M: MailSend,
{
    let event_id = event.id.as_deref().unwrap_or("?");
    if event.source != SOURCE || event.detail_type != PHOTO_PROCESSED {
        tracing::warn!(event_id, source = %event.source, detail_type = %event.detail_type, "ignoring an event that is not PhotoProcessed");
        return Ok(Handled::skipped("not_a_photo_event", None));
    }
    let photo = match PhotoProcessed::from_detail(&event.detail) {
        Ok(photo) => photo,
        Err(e) => {
            tracing::warn!(event_id, error = %e, "ignoring a PhotoProcessed event whose detail does not read");
            return Ok(Handled::skipped("not_a_photo_event", None));
        }
    };
    let upload_id = Some(photo.upload_id.to_string());
    let Notifier { profiles, claims, mail, sender } = notifier;
    let sent = |id: &domain::message::MessageId| {
        telemetry::metrics::count("PhotoNotificationsSent", 1.0);
        Handled {
            outcome: Outcome::Sent,
            reason: None,
            upload_id: upload_id.clone(),
            message_id: Some(id.as_str().to_owned()),
        }
    };
    match notify_photo_ready(profiles, claims, mail, sender, &photo, domain::now()).await? {
        Notified::Sent(id) => {
            tracing::info!(upload_id = %photo.upload_id, message_id = %id, "photo mail sent");
            Ok(sent(&id))
        }
        Notified::SentUnrecorded(id, e) => {
            tracing::error!(
                upload_id = %photo.upload_id,
                message_id = %id,
                error = %chain(&e),
                "photo mail sent, but not recorded as sent: a late duplicate of this event would send it again"
            );
            Ok(sent(&id))
        }
        Notified::AlreadySent => {
            tracing::info!(upload_id = %photo.upload_id, "this upload's mail was sent before");
            Ok(Handled { outcome: Outcome::AlreadySent, reason: None, upload_id, message_id: None })
        }
        Notified::Skipped(why) => {
            let reason = match why {
                Skipped::NoProfile => "no_profile",
                Skipped::NoEmail => "no_email",
                Skipped::Undeliverable => "undeliverable",
                // A done mail's reason; a photo event never gives it.
                Skipped::NotDone => "not_a_photo_event",
            };
            tracing::info!(upload_id = %photo.upload_id, reason, "no mail for this photo");
            Ok(Handled::skipped(reason, upload_id))
        }
    }
}

#[cfg(test)]
mod tests;
