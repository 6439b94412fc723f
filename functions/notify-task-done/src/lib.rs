//! `notify-task-done`: the target of an EventBridge rule matching task status changes to `done`
//! (`{"source": ["task-platform.tasks"], "detail-type": ["TaskStatusChanged"], "detail": {"changed": {"status":
//! {"new": ["done"]}}}}`). It mails the task's owner, at the email of their profile, once per change
//! ([`domain::notify`]: the change id is claimed in the idempotency table before sending, and marked done after).
//!
//! The function is invoked asynchronously: a failed invocation is retried by Lambda (twice, over minutes), then
//! sent to the dead-letter queue. So it fails only when a later attempt may succeed, with an `errorType` saying
//! why ([`NotifyFailed::error_type`]): the store or SES unavailable (`Retryable`), SES refusing the mail
//! (`MailRejected`: an unverified sender, sending paused; the claim is released so the retry sends once it is
//! fixed) or failing otherwise (`MailFailed`), or another attempt holding the claim (`InProgress`: it finishes, or
//! its claim lapses, before the retry).
//!
//! It succeeds without mail, logging why, for what no retry changes: an event that is not a task event or not a
//! status change to `done` (the rule filters; this checks again), an owner without a profile or without an email,
//! an email no mail service takes, and a change whose mail was already sent.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use domain::error::chain;
use domain::idempotency::Idempotency;
use domain::mail::MailAddress;
use domain::notify::{Notified, NotifyError, Skipped, notify_task_done};
use domain::ports::{MailSend, ProfileGet};
use domain::{ChangeId, ServiceError, TaskEvent};
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
    /// This change's mail was sent before (a second delivery): nothing sent.
    AlreadySent,
    /// No mail, and none will be for this event: see [`Handled::reason`].
    Skipped,
}

/// The invocation's result, e.g. `{"outcome": "sent", "change_id": "…", "message_id": "…"}` or
/// `{"outcome": "skipped", "reason": "no_email", "change_id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcome: Outcome,
    /// Why it was skipped: `not_a_task_event`, `not_done`, `no_profile`, `no_email`, `undeliverable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<ChangeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

impl Handled {
    fn skipped(reason: &'static str, change_id: Option<ChangeId>) -> Self {
        Self { outcome: Outcome::Skipped, reason: Some(reason), change_id, message_id: None }
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

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation. The causes are logged
    /// here, and kept out of the message (which reaches the dead-letter queue).
    pub fn into_parts(self) -> (&'static str, String) {
        let error_type = self.error_type();
        match &self.0 {
            NotifyError::InProgress { until } => {
                tracing::warn!(%until, "another attempt holds this change's mail; Lambda will retry the event")
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

/// Mails the owner of the task `event` reports done, once per change.
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
    let change = match TaskEvent::from_detail(&event.detail) {
        Ok(change) if event.source == domain::event::SOURCE => change,
        Ok(_) => {
            tracing::warn!(event_id, source = %event.source, "ignoring an event from another source");
            return Ok(Handled::skipped("not_a_task_event", None));
        }
        Err(e) => {
            tracing::warn!(event_id, error = %e, "ignoring an event that is not a task event");
            return Ok(Handled::skipped("not_a_task_event", None));
        }
    };
    let change_id = Some(change.change_id.clone());
    let Notifier { profiles, claims, mail, sender } = notifier;
    let sent = |id: &domain::message::MessageId| Handled {
        outcome: Outcome::Sent,
        reason: None,
        change_id: change_id.clone(),
        message_id: Some(id.as_str().to_owned()),
    };
    match notify_task_done(profiles, claims, mail, sender, &change, domain::now()).await? {
        Notified::Sent(id) => {
            tracing::info!(change_id = %change.change_id, message_id = %id, "done mail sent");
            Ok(sent(&id))
        }
        Notified::SentUnrecorded(id, e) => {
            tracing::error!(
                change_id = %change.change_id,
                message_id = %id,
                error = %chain(&e),
                "done mail sent, but not recorded as sent: a late duplicate of this change would send it again"
            );
            Ok(sent(&id))
        }
        Notified::AlreadySent => {
            tracing::info!(change_id = %change.change_id, "this change's mail was sent before");
            Ok(Handled { outcome: Outcome::AlreadySent, reason: None, change_id, message_id: None })
        }
        Notified::Skipped(why) => {
            let reason = match why {
                Skipped::NotDone => "not_done",
                Skipped::NoProfile => "no_profile",
                Skipped::NoEmail => "no_email",
                Skipped::Undeliverable => "undeliverable",
            };
            tracing::info!(change_id = %change.change_id, reason, "no mail for this change");
            Ok(Handled::skipped(reason, change_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::idempotency::{ClaimOutcome, Holder, IdempotencyKey};
    use domain::mail::{RawMail, SimpleMail};
    use domain::message::MessageId;
    use domain::notify::DONE_MAIL;
    use domain::ports::ProfilePut;
    use domain::{Caller, Profile, Status, Task, TaskId, Title, UserId, Version};
    use local_adapters::{LocalStore, SqliteIdempotency, SqliteProfiles};
    use local_ses::{SesError, SimpleEmail};
    use serde_json::json;
    use std::sync::Arc;

    const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
    const SENDER: &str = "noreply@example.com";

    /// The local stack's SES as the mail port, as `local` adapts it (`LocalMail`): only the template's identity
    /// may send, and what is sent lands in the outbox.
    #[derive(Clone)]
    struct Outbox(local_ses::Ses);

    fn service_error(e: SesError) -> ServiceError {
        match e {
            SesError::NotVerified { .. } => ServiceError::MailRejected(Box::new(e)),
            SesError::Storage { .. } => ServiceError::Unavailable(Box::new(e)),
            other => ServiceError::InvalidInput(Box::new(other)),
        }
    }

    impl MailSend for Outbox {
        async fn send_raw(&self, mail: &RawMail) -> Result<MessageId, ServiceError> {
            let to: Vec<String> = mail.to().as_slice().iter().map(|a| a.as_str().to_owned()).collect();
            let id =
                self.0.send_raw(mail.from().as_str(), &to, mail.message().to_vec()).await.map_err(service_error)?;
            Ok(MessageId::new(id.to_string()))
        }

        async fn send_simple(&self, mail: &SimpleMail) -> Result<MessageId, ServiceError> {
            let email = SimpleEmail {
                from: mail.from.as_str().to_owned(),
                to: mail.to.as_slice().iter().map(|a| a.as_str().to_owned()).collect(),
                subject: mail.subject.as_str().to_owned(),
                text: mail.body.text().map(str::to_owned),
                html: mail.body.html().map(str::to_owned),
                ..Default::default()
            };
            let id = self.0.send_simple(email).await.map_err(service_error)?;
            Ok(MessageId::new(id.to_string()))
        }
    }

    struct World {
        notifier: Notifier<SqliteProfiles, SqliteIdempotency, Outbox>,
        _dir: tempfile::TempDir,
    }

    impl World {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
            let template = format!(
                "Resources:\n  Sender:\n    Type: AWS::SES::EmailIdentity\n    Properties: {{EmailIdentity: {SENDER}}}\n"
            );
            let template = local_template::Template::parse(&template, Arc::new(local_template::NoSecrets)).unwrap();
            let ses = local_ses::Ses::open(dir.path(), &template, Default::default()).unwrap();
            let notifier = Notifier {
                profiles: store.profiles("UsersTable").unwrap(),
                claims: store.idempotency("IdempotencyTable").unwrap(),
                mail: Outbox(ses),
                sender: MailAddress::parse(SENDER).unwrap(),
            };
            Self { notifier, _dir: dir }
        }

        async fn profile(&self, email: Option<&str>) {
            let caller =
                Caller { id: UserId::parse(ALICE).unwrap(), email: email.map(Into::into), name: Some("Ada".into()) };
            self.notifier.profiles.put_profile(&Profile::from_claims(&caller, domain::now())).await.unwrap();
        }

        /// What the outbox holds: (to, subject) of each message.
        fn sent(&self) -> Vec<(Vec<String>, String)> {
            self.notifier.mail.0.outbox().list().unwrap().into_iter().map(|e| (e.to, e.subject)).collect()
        }
    }

    fn task(status: Status, version: u64) -> Task {
        let at = domain::now();
        Task {
            owner: UserId::parse(ALICE).unwrap(),
            id: TaskId::parse("01JD5Q8X3N7V2K4M6P9R0S1T2W").unwrap(),
            title: Title::parse("Fixture task").unwrap(),
            description: None,
            status,
            created_at: at,
            updated_at: at,
            version: Version(version),
        }
    }

    fn change_to(status: Status) -> TaskEvent {
        TaskEvent::from_change(Some(&task(Status::Pending, 1)), Some(&task(status, 2)), domain::now()).remove(0)
    }

    /// `change` as the bus delivers it, under bus event id `id`.
    fn delivered(change: &TaskEvent, id: &str) -> EventBridgeEvent<Value> {
        serde_json::from_value(json!({
            "version": "0",
            "id": id,
            "detail-type": change.kind().detail_type(),
            "source": "task-platform.tasks",
            "account": "123456789012",
            "time": "2026-11-30T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": change,
        }))
        .unwrap()
    }

    /// `events/notify-task-done/<case>.json`.
    fn sample(case: &str) -> EventBridgeEvent<Value> {
        let path = format!("{}/../../events/notify-task-done/{case}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn every_sample_event_gives_its_documented_outcome_without_and_with_a_profile() {
        let world = World::new();
        for (case, reason) in [
            ("status-changed-to-done", "no_profile"),
            ("status-changed-to-in-progress", "not_done"),
            ("not-a-task-event", "not_a_task_event"),
        ] {
            let handled = handle(&world.notifier, sample(case)).await.unwrap();
            assert_eq!((handled.outcome, handled.reason), (Outcome::Skipped, Some(reason)), "{case}");
        }
        world.profile(Some("alice@example.com")).await;
        assert_eq!(handle(&world.notifier, sample("status-changed-to-done")).await.unwrap().outcome, Outcome::Sent);
        assert_eq!(world.sent(), [(vec!["alice@example.com".to_owned()], "Done: Fixture task".to_owned())]);
    }

    #[tokio::test]
    async fn a_task_done_mails_its_owner_once_however_often_the_change_is_delivered() {
        let world = World::new();
        world.profile(Some("ada@example.com")).await;
        let done = change_to(Status::Done);
        let first = handle(&world.notifier, delivered(&done, "e-1")).await.unwrap();
        assert_eq!((first.outcome, first.change_id.as_ref()), (Outcome::Sent, Some(&done.change_id)));
        let again = handle(&world.notifier, delivered(&done, "e-2")).await.unwrap();
        assert_eq!(again.outcome, Outcome::AlreadySent);
        assert_eq!(world.sent(), [(vec!["ada@example.com".to_owned()], "Done: Fixture task".to_owned())]);
        let eml = world.notifier.mail.0.outbox().show(first.message_id.as_deref().unwrap()).unwrap();
        let eml = String::from_utf8(eml).unwrap();
        assert!(eml.contains("01JD5Q8X3N7V2K4M6P9R0S1T2W"), "{eml}");
    }

    #[tokio::test]
    async fn a_change_to_another_status_and_an_event_that_is_not_a_task_event_mail_nobody() {
        let world = World::new();
        world.profile(Some("ada@example.com")).await;
        let started = handle(&world.notifier, delivered(&change_to(Status::InProgress), "e")).await.unwrap();
        assert_eq!((started.outcome, started.reason), (Outcome::Skipped, Some("not_done")));
        let mut other = delivered(&change_to(Status::Done), "e");
        other.detail = json!({"bucket": "uploads"});
        let other = handle(&world.notifier, other).await.unwrap();
        assert_eq!((other.outcome, other.reason), (Outcome::Skipped, Some("not_a_task_event")));
        assert!(world.sent().is_empty());
    }

    #[tokio::test]
    async fn an_owner_without_a_profile_or_without_an_email_gets_no_mail_and_it_is_no_failure() {
        let world = World::new();
        let done = change_to(Status::Done);
        let none = handle(&world.notifier, delivered(&done, "e-1")).await.unwrap();
        assert_eq!(none.reason, Some("no_profile"));
        world.profile(None).await;
        let no_email = handle(&world.notifier, delivered(&done, "e-2")).await.unwrap();
        assert_eq!(no_email.reason, Some("no_email"));
        assert!(world.sent().is_empty());
        // Nothing was claimed either: the change's key is free.
        let key = IdempotencyKey::for_change(DONE_MAIL, &done.change_id);
        let now = domain::now();
        let claim = world.notifier.claims.claim(&key, &Holder::generate(), now, now + time::Duration::minutes(1)).await;
        assert_eq!(claim.unwrap(), ClaimOutcome::Claimed);
    }

    #[tokio::test]
    async fn a_refused_send_releases_the_claim_and_fails_so_that_the_retry_sends_the_mail() {
        let mut world = World::new();
        world.profile(Some("ada@example.com")).await;
        let done = change_to(Status::Done);
        world.notifier.sender = MailAddress::parse("unverified@example.com").unwrap();
        let failed = handle(&world.notifier, delivered(&done, "e-1")).await.unwrap_err();
        assert!(matches!(&failed.0, NotifyError::Send { release: None, .. }), "{failed:?}");
        let (error_type, message) = failed.into_parts();
        assert_eq!(error_type, "MailRejected");
        assert!(!message.contains("unverified"), "{message}");
        assert!(world.sent().is_empty());
        // The sender fixed, Lambda's retry of the same event sends at once: the claim was released, not left to lapse.
        world.notifier.sender = MailAddress::parse(SENDER).unwrap();
        let retried = handle(&world.notifier, delivered(&done, "e-1")).await.unwrap();
        assert_eq!(retried.outcome, Outcome::Sent);
        assert_eq!(world.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_change_another_attempt_is_mailing_fails_in_progress_and_mails_nothing() {
        let world = World::new();
        world.profile(Some("ada@example.com")).await;
        let done = change_to(Status::Done);
        let key = IdempotencyKey::for_change(DONE_MAIL, &done.change_id);
        let now = domain::now();
        let other = world.notifier.claims.claim(&key, &Holder::generate(), now, now + time::Duration::minutes(2)).await;
        assert_eq!(other.unwrap(), ClaimOutcome::Claimed);
        let failed = handle(&world.notifier, delivered(&done, "e-1")).await.unwrap_err();
        assert_eq!(failed.error_type(), "InProgress");
        assert!(world.sent().is_empty());
    }
}
