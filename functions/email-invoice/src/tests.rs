//! The handler against the SQLite profiles and idempotency table (whose claims make each mail go once), an
//! in-memory bucket and an outbox that keeps what SES was given.

use super::*;
use domain::mail::{RawMail, SimpleMail};
use domain::message::MessageId;
use domain::object::{ETag, Object, ObjectKey};
use domain::ports::ProfilePut;
use domain::{Caller, Profile, ServiceError, UserId};
use local_adapters::{LocalStore, SqliteIdempotency, SqliteProfiles};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const BUCKET: &str = "local-uploads-123456789012";
const SENDER: &str = "invoices@example.com";
const ETAG: &str = "9e107d9d372bb6826bd81d3542a419d6";
const PDF: &[u8] = b"%PDF-1.7\n% the uploaded invoice\n%%EOF\n";

/// Objects by key, in the one bucket there is.
#[derive(Default)]
struct Bucket(Mutex<HashMap<String, Object>>);

impl Bucket {
    fn put(&self, key: &str, bytes: &[u8], etag: &str) {
        let object = Object {
            bytes: bytes.to_vec(),
            content_type: None,
            metadata: Default::default(),
            etag: ETag::new(format!("\"{etag}\"")),
        };
        self.0.lock().unwrap().insert(key.to_owned(), object);
    }
}

impl ObjectGet for Bucket {
    async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<Object>, ServiceError> {
        if bucket.as_str() != BUCKET {
            return Err(ServiceError::NotFound(format!("NoSuchBucket: {bucket}").into()));
        }
        Ok(self.0.lock().unwrap().get(key.as_str()).cloned())
    }
}

/// How the mail service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ses {
    Up,
    Down,
    /// The sender is not verified.
    Refusing,
}

/// What was sent: the envelope's recipients and the raw message.
struct Outbox {
    ses: Ses,
    sent: Mutex<Vec<(Vec<String>, String)>>,
}

impl MailSend for Outbox {
    async fn send_raw(&self, mail: &RawMail) -> Result<MessageId, ServiceError> {
        match self.ses {
            Ses::Down => return Err(ServiceError::Unavailable("ThrottlingException: maximum sending rate".into())),
            Ses::Refusing => return Err(ServiceError::MailRejected("MessageRejected: not verified".into())),
            Ses::Up => {}
        }
        let to = mail.to().as_slice().iter().map(|a| a.as_str().to_owned()).collect();
        let mut sent = self.sent.lock().unwrap();
        sent.push((to, String::from_utf8_lossy(mail.message()).into_owned()));
        Ok(MessageId::new(format!("message-{}", sent.len())))
    }

    async fn send_simple(&self, _: &SimpleMail) -> Result<MessageId, ServiceError> {
        unreachable!("the invoice mails are MIME messages")
    }
}

type World = (Emailer<Bucket, Outbox, SqliteProfiles, SqliteIdempotency>, tempfile::TempDir);

fn world(ses: Ses) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
    let emailer = Emailer {
        objects: Bucket::default(),
        mail: Outbox { ses, sent: Mutex::new(Vec::new()) },
        profiles: store.profiles("UsersTable").unwrap(),
        claims: store.idempotency("IdempotencyTable").unwrap(),
        sender: MailAddress::parse(SENDER).unwrap(),
        bucket: BucketName::parse(BUCKET).unwrap(),
    };
    (emailer, dir)
}

/// Alice's profile, with this email.
async fn profile(emailer: &Emailer<Bucket, Outbox, SqliteProfiles, SqliteIdempotency>, email: &str) {
    let caller = Caller { id: UserId::parse(ALICE).unwrap(), email: Some(email.into()), name: Some("Ada".into()) };
    emailer.profiles.put_profile(&Profile::from_claims(&caller, domain::now())).await.unwrap();
}

/// The uploaded PDF, at the samples' key.
fn upload(emailer: &Emailer<Bucket, Outbox, SqliteProfiles, SqliteIdempotency>, etag: &str) {
    let key = sample("stored")["object"]["key"].as_str().unwrap().to_owned();
    emailer.objects.put(&key, PDF, etag);
}

fn sent(emailer: &Emailer<Bucket, Outbox, SqliteProfiles, SqliteIdempotency>) -> Vec<(Vec<String>, String)> {
    emailer.mail.sent.lock().unwrap().clone()
}

/// `events/email-invoice/<case>.json`.
fn sample(case: &str) -> Value {
    let path = format!("{}/../../events/email-invoice/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

async fn answer(emailer: &Emailer<Bucket, Outbox, SqliteProfiles, SqliteIdempotency>, event: Value) -> Value {
    serde_json::to_value(handle(emailer, event).await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_answer_in_a_fresh_stack() {
    // Nothing uploaded, no profile: the acknowledgement still reaches the buyer; a refusal has nobody to go to.
    let (emailer, _dir) = world(Ses::Up);
    let stored = answer(&emailer, sample("stored")).await;
    assert_eq!((stored["outcome"].as_str(), stored["to"].as_str()), (Some("sent"), Some("ap@example.fr")), "{stored}");
    for case in ["rejected", "failed-to-parse"] {
        assert_eq!(answer(&emailer, sample(case)).await, json!({"outcome": "no_recipient"}), "{case}");
    }
    let (error_type, _) = handle(&emailer, sample("no-invoice")).await.unwrap_err().into_parts();
    assert_eq!(error_type, "InvalidInput");
}

#[tokio::test]
async fn the_acknowledgement_goes_to_the_buyer_once_with_the_uploaded_pdf_attached() {
    let (emailer, _dir) = world(Ses::Up);
    upload(&emailer, ETAG);
    let first = answer(&emailer, sample("stored")).await;
    assert_eq!(first, json!({"outcome": "sent", "message_id": "message-1", "to": "ap@example.fr"}));
    assert_eq!(answer(&emailer, sample("stored")).await, json!({"outcome": "already_sent"}), "a retried Email");
    let sent = sent(&emailer);
    assert_eq!(sent.len(), 1);
    let (to, message) = &sent[0];
    assert_eq!(to, &["ap@example.fr"]);
    assert!(message.contains("R-2024-0042") && message.contains("ACME GmbH"), "{message}");
    assert!(message.contains("application/pdf") && message.contains("01JF2X4C5Q8V3N7K2M4P6R8T0W-R-2024-0042.pdf"));
}

#[tokio::test]
async fn without_a_buyer_email_the_submitter_gets_it_and_without_either_nobody_does() {
    let (emailer, _dir) = world(Ses::Up);
    let mut no_buyer = sample("stored");
    no_buyer["invoice"]["buyer"]["email"] = json!(null);
    assert_eq!(answer(&emailer, no_buyer.clone()).await, json!({"outcome": "no_recipient"}));
    profile(&emailer, "alice@example.com").await;
    assert_eq!(answer(&emailer, no_buyer).await["to"], "alice@example.com");
}

#[tokio::test]
async fn a_refusal_tells_the_submitter_why_and_where_once() {
    let (emailer, _dir) = world(Ses::Up);
    profile(&emailer, "alice@example.com").await;
    let told = answer(&emailer, sample("failed-to-parse")).await;
    assert_eq!((told["outcome"].as_str(), told["to"].as_str()), (Some("sent"), Some("alice@example.com")), "{told}");
    // The refusal branch runs once per execution, but a redelivered Task may run it twice.
    assert_eq!(answer(&emailer, sample("failed-to-parse")).await, json!({"outcome": "already_sent"}));
    let sent = sent(&emailer);
    assert_eq!(sent.len(), 1);
    let message = &sent[0].1;
    assert!(message.contains("Parse"), "{message}");
    assert!(message.contains("does not look like an invoice"), "the Lambda error's message, not its JSON: {message}");
    assert!(!message.contains("errorType"), "{message}");
}

#[tokio::test]
async fn a_pdf_replaced_since_is_not_attached_but_the_mail_still_goes() {
    let (emailer, _dir) = world(Ses::Up);
    upload(&emailer, "a-later-upload");
    assert_eq!(answer(&emailer, sample("stored")).await["outcome"], "sent");
    assert!(!sent(&emailer)[0].1.contains("application/pdf"));
}

#[tokio::test]
async fn ses_unavailable_is_retryable_a_refused_sender_is_misconfigured_and_the_retry_sends() {
    let (down, _d) = world(Ses::Down);
    assert_eq!(handle(&down, sample("stored")).await.unwrap_err().name(), "Retryable");
    let (refusing, _r) = world(Ses::Refusing);
    assert_eq!(handle(&refusing, sample("stored")).await.unwrap_err().name(), "Misconfigured");

    // A failed send releases its claim: the state's retry sends the mail.
    let (emailer, _e) = world(Ses::Up);
    let retried = Emailer { mail: Outbox { ses: Ses::Down, sent: Mutex::new(Vec::new()) }, ..emailer };
    assert!(handle(&retried, sample("stored")).await.is_err());
    let emailer = Emailer { mail: Outbox { ses: Ses::Up, sent: Mutex::new(Vec::new()) }, ..retried };
    assert_eq!(answer(&emailer, sample("stored")).await["outcome"], "sent");
}

#[tokio::test]
async fn an_object_outside_the_uploads_bucket_is_not_read_and_a_bad_input_is_invalid_never_a_panic() {
    let (emailer, _dir) = world(Ses::Up);
    let mut elsewhere = sample("stored");
    elsewhere["object"]["bucket"] = json!("someone-elses-bucket");
    let (error_type, message) = handle(&emailer, elsewhere).await.unwrap_err().into_parts();
    assert_eq!(error_type, "InvalidInput");
    assert!(message.contains("someone-elses-bucket"), "{message}");

    let mut unknown_status = sample("rejected");
    unknown_status["refusal"]["status"] = json!("lost");
    for bad in [json!(null), json!({"invoice": {}}), unknown_status] {
        assert_eq!(handle(&emailer, bad.clone()).await.unwrap_err().name(), "InvalidInput", "{bad}");
    }
    assert!(sent(&emailer).is_empty());
}
