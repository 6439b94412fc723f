//! The handler against real local parts: the SQLite profiles and idempotency table, and the local stack's SES
//! (sender verification from a template, and its outbox).

use super::*;
use domain::idempotency::{ClaimOutcome, Holder};
use domain::mail::{RawMail, SimpleMail};
use domain::message::MessageId;
use domain::photo::service::ready_mail_key;
use domain::photo::{PhotoSet, RenditionName, RenditionSize, UploadId};
use domain::ports::ProfilePut;
use domain::{Caller, Profile, UserId};
use local_adapters::{LocalStore, SqliteIdempotency, SqliteProfiles};
use local_ses::{SesError, SimpleEmail};
use serde_json::json;
use std::sync::Arc;

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const SENDER: &str = "noreply@example.com";

/// The local stack's SES as the mail port, as `local` adapts it (`LocalMail`).
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
        let id = self.0.send_raw(mail.from().as_str(), &to, mail.message().to_vec()).await.map_err(service_error)?;
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

fn processed(upload: UploadId) -> PhotoProcessed {
    let renditions = [("large", 1600), ("medium", 800), ("thumbnail", 200)]
        .into_iter()
        .map(|(n, e)| (RenditionName::parse(n).unwrap(), RenditionSize { width: e, height: e * 3 / 4 }))
        .collect();
    PhotoProcessed::new(&UserId::parse(ALICE).unwrap(), &PhotoSet { upload_id: upload, renditions })
}

/// `photo` as the bus delivers it (through its `PhotoProcessed` rule), under bus event id `id`.
fn delivered(photo: &PhotoProcessed, id: &str) -> EventBridgeEvent<Value> {
    let entry = photo.to_bus_event();
    serde_json::from_value(json!({
        "version": "0",
        "id": id,
        "detail-type": entry.detail_type(),
        "source": entry.source(),
        "account": "123456789012",
        "time": "2026-11-30T12:00:05Z",
        "region": "us-east-1",
        "resources": [],
        "detail": entry.detail(),
    }))
    .unwrap()
}

/// `events/notify-photo-processed/<case>.json`.
fn sample(case: &str) -> EventBridgeEvent<Value> {
    let path = format!("{}/../../events/notify-photo-processed/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_outcome_without_and_with_a_profile() {
    let world = World::new();
    for (case, reason) in [("photo-processed", "no_profile"), ("not-a-photo-event", "not_a_photo_event")] {
        let handled = handle(&world.notifier, sample(case)).await.unwrap();
        assert_eq!((handled.outcome, handled.reason), (Outcome::Skipped, Some(reason)), "{case}");
    }
    world.profile(Some("alice@example.com")).await;
    let handled = handle(&world.notifier, sample("photo-processed")).await.unwrap();
    assert_eq!((handled.outcome, handled.upload_id.as_deref()), (Outcome::Sent, Some("01JF2X4C5Q8V3N7K2M4P6R8T0W")));
    assert_eq!(world.sent(), [(vec!["alice@example.com".to_owned()], "Your profile photo is ready".to_owned())]);
    let eml = String::from_utf8(world.notifier.mail.0.outbox().show(handled.message_id.as_deref().unwrap()).unwrap())
        .unwrap();
    assert!(eml.contains("Hello Ada"), "{eml}");
}

#[tokio::test]
async fn the_same_upload_delivered_three_times_under_three_event_ids_is_mailed_once() {
    let world = World::new();
    world.profile(Some("alice@example.com")).await;
    let photo = processed(UploadId::generate(domain::now()));
    let outcomes: Vec<_> = deliver_in_order(&world, &photo, ["e-1", "e-2", "e-3"]).await;
    assert_eq!(outcomes, [Outcome::Sent, Outcome::AlreadySent, Outcome::AlreadySent]);
    assert_eq!(world.sent().len(), 1);
    // Another upload is another mail.
    let next = processed(UploadId::generate(domain::now() + time::Duration::seconds(1)));
    assert_eq!(handle(&world.notifier, delivered(&next, "e-4")).await.unwrap().outcome, Outcome::Sent);
    assert_eq!(world.sent().len(), 2);
}

async fn deliver_in_order<const N: usize>(world: &World, photo: &PhotoProcessed, ids: [&str; N]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for id in ids {
        out.push(handle(&world.notifier, delivered(photo, id)).await.unwrap().outcome);
    }
    out
}

#[tokio::test]
async fn an_owner_without_an_email_gets_no_mail_and_nothing_is_claimed() {
    let world = World::new();
    world.profile(None).await;
    let photo = processed(UploadId::generate(domain::now()));
    let handled = handle(&world.notifier, delivered(&photo, "e-1")).await.unwrap();
    assert_eq!((handled.outcome, handled.reason), (Outcome::Skipped, Some("no_email")));
    assert!(world.sent().is_empty());
    let now = domain::now();
    let (key, holder) = (ready_mail_key(&photo), Holder::generate());
    let claim = world.notifier.claims.claim(&key, &holder, now, now + time::Duration::minutes(1)).await;
    assert_eq!(claim.unwrap(), ClaimOutcome::Claimed, "nothing was claimed: the key is free");
}

#[tokio::test]
async fn a_refused_send_releases_the_claim_and_fails_so_that_the_retry_sends_the_mail() {
    let mut world = World::new();
    world.profile(Some("alice@example.com")).await;
    let photo = processed(UploadId::generate(domain::now()));
    world.notifier.sender = MailAddress::parse("unverified@example.com").unwrap();
    let (error_type, message) = handle(&world.notifier, delivered(&photo, "e-1")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "MailRejected");
    assert!(!message.contains("unverified"), "{message}");
    world.notifier.sender = MailAddress::parse(SENDER).unwrap();
    assert_eq!(handle(&world.notifier, delivered(&photo, "e-1")).await.unwrap().outcome, Outcome::Sent);
    assert_eq!(world.sent().len(), 1);
}

#[tokio::test]
async fn an_upload_another_attempt_is_mailing_fails_in_progress() {
    let world = World::new();
    world.profile(Some("alice@example.com")).await;
    let photo = processed(UploadId::generate(domain::now()));
    let now = domain::now();
    let (key, holder) = (ready_mail_key(&photo), Holder::generate());
    let other = world.notifier.claims.claim(&key, &holder, now, now + time::Duration::minutes(2)).await;
    assert_eq!(other.unwrap(), ClaimOutcome::Claimed);
    assert_eq!(handle(&world.notifier, delivered(&photo, "e-1")).await.unwrap_err().error_type(), "InProgress");
    assert!(world.sent().is_empty());
}

#[tokio::test]
async fn a_photo_event_whose_detail_does_not_read_is_skipped() {
    let world = World::new();
    world.profile(Some("alice@example.com")).await;
    let mut event = delivered(&processed(UploadId::generate(domain::now())), "e-1");
    event.detail["upload_id"] = json!("not-an-upload");
    let handled = handle(&world.notifier, event).await.unwrap();
    assert_eq!(handled.reason, Some("not_a_photo_event"));
    assert!(world.sent().is_empty());
}
