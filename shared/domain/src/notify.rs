//! Mail to a task's owner when the task is done: on a `TaskStatusChanged` event whose new status is `done`, one
//! mail to the address in the owner's profile, once per change however often the event is delivered
//! ([`crate::idempotency`], keyed by the change id).
//!
//! What is not a reason to fail, because failing would only have the event retried to the same end: an event that
//! is not a status change to `done` (the bus rule filters; this checks again), an owner without a profile or without
//! an email, or an email no mail service would take. Those are [`Notified::Skipped`]. What is a reason to fail,
//! because a later attempt may succeed: the store or the mail service unavailable, the mail refused, or another
//! attempt holding the claim ([`NotifyError`]). A refused mail releases the claim, so the retry sends it.

use crate::idempotency::{IdempotencyKey, Once, OnceError, OncePolicy, run_once};
use crate::mail::{MailAddress, MailBody, Recipients, SimpleMail, Subject};
use crate::message::MessageId;
use crate::ports::{MailSend, ProfileGet};
use crate::{DisplayName, ServiceError, Status, StoreError, TaskEvent, TaskEventKind, Timestamp, Title};
use time::format_description::well_known::Rfc3339;

/// The purpose part of the idempotency key of a done mail.
pub const DONE_MAIL: &str = "task-done-mail";

/// A claim lapses 15 s after it was taken: past the function's 10 s timeout (template `Globals.Function.Timeout`),
/// after which the attempt that took it is certainly gone — killed mid-send, its claim must not outlive Lambda's
/// retries of the event, or the mail would never be sent. A sent mail is remembered for a week, past EventBridge's
/// 24 h of retries and any replay of the stream's 24 h.
pub const DONE_MAIL_POLICY: OncePolicy =
    OncePolicy { lapse: time::Duration::seconds(15), keep: time::Duration::days(7) };

/// Why no mail was sent, and none will be for this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Not a status change to `done`.
    NotDone,
    /// The owner has no profile (they never called `GET /me`).
    NoProfile,
    /// The owner's profile has no email.
    NoEmail,
    /// The profile's email is not an address mail can go to (see [`MailAddress`]).
    Undeliverable,
}

/// What handling a done event did.
#[derive(Debug)]
pub enum Notified {
    Sent(MessageId),
    /// Sent, but the record of it could not be written (see [`Once::RanUnrecorded`]): log it.
    SentUnrecorded(MessageId, StoreError),
    /// This change's mail was sent before.
    AlreadySent,
    Skipped(Skipped),
}

/// Why the mail could not be handled now; a later attempt may succeed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Another attempt is sending this change's mail (or died doing so; its claim lapses at `until`).
    #[error("another attempt holds this change's mail until {until}")]
    InProgress { until: Timestamp },
    /// The profile or the claim could not be read or written.
    #[error("the store is unavailable")]
    Store(#[source] StoreError),
    /// The mail service refused or failed. The claim was released, unless `release` says why not.
    #[error("the mail could not be sent")]
    Send {
        #[source]
        source: ServiceError,
        release: Option<StoreError>,
    },
}

/// The new status of a status change to `done`, if `event` is one.
pub fn is_done(event: &TaskEvent) -> bool {
    event.kind() == TaskEventKind::TaskStatusChanged
        && event.status_change().is_some_and(|(_, new)| new == Status::Done.as_str())
}

/// Longest title in a subject, in characters: `Done: ` and the title fit [`crate::mail::SUBJECT_MAX_CHARS`].
const SUBJECT_TITLE_CHARS: usize = crate::mail::SUBJECT_MAX_CHARS - "Done: ".len();

/// The mail telling `name` at `to` that the task of `event` is done: subject `Done: <title>`, and a text body with
/// the title, the task id and when it was done.
pub fn done_mail(from: &MailAddress, to: MailAddress, name: &DisplayName, event: &TaskEvent) -> SimpleMail {
    // The event carries the task as the API shows it; its title parsed again, so it holds no line break.
    let title = event.task.get("title").and_then(|t| t.as_str()).and_then(|t| Title::parse(t).ok());
    let title = title.map_or_else(|| format!("task {}", event.task_id), |t| t.as_str().to_owned());
    let short = if title.chars().count() > SUBJECT_TITLE_CHARS {
        format!("{}…", title.chars().take(SUBJECT_TITLE_CHARS - 1).collect::<String>())
    } else {
        title.clone()
    };
    let subject = Subject::parse(&format!("Done: {short}")).expect("a short title without control characters fits");
    let at = event.occurred_at.format(&Rfc3339).unwrap_or_else(|_| event.occurred_at.to_string());
    let text = format!(
        "Hello {},\n\nyour task \"{title}\" is done.\n\nTask: {}\nDone at: {at}\n",
        name.as_str(),
        event.task_id
    );
    SimpleMail { from: from.clone(), to: Recipients::one(to), subject, body: MailBody::Text(text) }
}

/// Sends the done mail for `event` from `sender`, once per change.
pub async fn notify_task_done(
    profiles: &impl ProfileGet,
    claims: &impl crate::idempotency::Idempotency,
    mail: &impl MailSend,
    sender: &MailAddress,
    event: &TaskEvent,
    now: Timestamp,
) -> Result<Notified, NotifyError> {
    if !is_done(event) {
        return Ok(Notified::Skipped(Skipped::NotDone));
    }
    let Some(profile) = profiles.get_profile(&event.owner).await.map_err(NotifyError::Store)? else {
        return Ok(Notified::Skipped(Skipped::NoProfile));
    };
    let Some(email) = &profile.email else { return Ok(Notified::Skipped(Skipped::NoEmail)) };
    let Ok(to) = MailAddress::try_from(email) else { return Ok(Notified::Skipped(Skipped::Undeliverable)) };
    let message = done_mail(sender, to, &profile.display_name, event);
    let key = IdempotencyKey::for_change(DONE_MAIL, &event.change_id);
    match run_once(claims, &key, DONE_MAIL_POLICY, now, || mail.send_simple(&message)).await {
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
    use crate::{Task, TaskId, UserId, Version};

    fn task(status: Status, title: &str, version: u64) -> Task {
        let at = time::macros::datetime!(2026-11-30 12:00 UTC);
        Task {
            owner: UserId::parse("user-1").unwrap(),
            id: TaskId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2").unwrap(),
            title: Title::parse(title).unwrap(),
            description: None,
            status,
            created_at: at,
            updated_at: at,
            version: Version(version),
        }
    }

    fn done(title: &str) -> TaskEvent {
        TaskEvent::from_change(
            Some(&task(Status::Pending, title, 1)),
            Some(&task(Status::Done, title, 2)),
            crate::now(),
        )
        .remove(0)
    }

    #[test]
    fn only_a_status_change_to_done_is_done() {
        assert!(is_done(&done("x")));
        let started = TaskEvent::from_change(
            Some(&task(Status::Pending, "x", 1)),
            Some(&task(Status::InProgress, "x", 2)),
            crate::now(),
        );
        assert!(!is_done(&started[0]));
        let created = TaskEvent::from_change(None, Some(&task(Status::Done, "x", 1)), crate::now());
        assert!(!is_done(&created[0]), "a task created done did not become done");
    }

    #[test]
    fn the_mail_names_the_task_and_a_long_title_still_fits_the_subject() {
        let from = MailAddress::parse("noreply@example.com").unwrap();
        let to = MailAddress::parse("ada@example.com").unwrap();
        let name = DisplayName::parse("Ada").unwrap();
        let mail = done_mail(&from, to.clone(), &name, &done("Buy milk"));
        assert_eq!(mail.subject.as_str(), "Done: Buy milk");
        let text = mail.body.text().unwrap();
        assert!(text.contains("\"Buy milk\"") && text.contains("01JDQ3V5R5T4Y2E7Q9M8N6B4C2"), "{text}");
        assert!(text.contains("2026-11-30T12:00:00Z"), "{text}");
        let long = "é".repeat(200);
        let mail = done_mail(&from, to, &name, &done(&long));
        assert_eq!(mail.subject.as_str().chars().count(), crate::mail::SUBJECT_MAX_CHARS);
        assert!(mail.subject.as_str().ends_with('…'));
        assert!(mail.body.text().unwrap().contains(&long), "the body keeps the whole title");
    }
}
