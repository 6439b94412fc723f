//! `SesMail`: raw and simple mail from a verified sender are accepted, and moto records them as sent (its
//! `/moto-api/data.json`); mail from an unverified sender is rejected, not retryable.
//!
//! Moto checks the sender's identity only (created with SES v2's `CreateEmailIdentity`, which moto treats as
//! verified at once); it has no sandbox, so unverified recipients are not refused as SES's sandbox would.

use super::{moto_data, sdk_config, unique};
use aws_adapters::SesMail;
use domain::ServiceError;
use domain::mail::*;
use domain::message::MessageId;
use domain::object::ContentType;
use domain::ports::MailSend;

fn address(raw: &str) -> MailAddress {
    MailAddress::parse(raw).unwrap()
}

/// A mail client and a sender address SES will accept.
async fn mail_and_verified_sender() -> (SesMail, MailAddress) {
    let mail = SesMail::new(&sdk_config());
    let sender = address(&format!("billing-{}@example.com", unique()));
    mail.client()
        .create_email_identity()
        .email_identity(sender.as_str())
        .send()
        .await
        .expect("moto creates the identity");
    (mail, sender)
}

fn invoice_letter(from: MailAddress) -> Letter {
    let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    Letter {
        from,
        to: Recipients::new(vec![address("ada@example.com"), address("bob@example.org")]).unwrap(),
        subject: Subject::parse("Votre facture n° 42").unwrap(),
        text: "Bonjour,\n\nvoici votre facture.\n".into(),
        attachments: vec![Attachment::new("invoice-42.pdf", ContentType::pdf(), pdf).unwrap()],
    }
}

/// The raw message moto recorded under `id`, if any.
async fn sent_raw(id: &MessageId) -> Option<serde_json::Value> {
    let data = moto_data().await;
    data["ses"]["RawMessage"].as_array()?.iter().find(|m| m["id"] == id.as_str()).cloned()
}

#[tokio::test]
async fn a_letter_with_a_pdf_from_a_verified_sender_is_sent_raw_exactly_as_composed() {
    let (mail, sender) = mail_and_verified_sender().await;
    let raw = invoice_letter(sender.clone()).compose(domain::now()).unwrap();

    let id = mail.send_raw(&raw).await.expect("moto accepts mail from a verified sender");

    let sent = sent_raw(&id).await.expect("moto records the message under the id it answered");
    assert_eq!(sent["source"], sender.as_str());
    assert_eq!(sent["raw_data"].as_str().map(str::as_bytes), Some(raw.message()));
    let destinations: Vec<&str> = sent["destinations"].as_array().unwrap().iter().filter_map(|d| d.as_str()).collect();
    assert!(destinations.contains(&"ada@example.com") && destinations.contains(&"bob@example.org"), "{destinations:?}");
}

#[tokio::test]
async fn a_simple_mail_from_a_verified_sender_is_sent_with_its_subject_and_body() {
    let (mail, sender) = mail_and_verified_sender().await;
    let simple = SimpleMail {
        from: sender.clone(),
        to: Recipients::one(address("ada@example.com")),
        subject: Subject::parse("Your photo is ready").unwrap(),
        body: MailBody::Both { text: "It is ready.".into(), html: "<p>It is <b>ready</b>.</p>".into() },
    };

    let id = mail.send_simple(&simple).await.expect("moto accepts mail from a verified sender");

    let data = moto_data().await;
    let sent = data["ses"]["Message"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["id"] == id.as_str()))
        .expect("recorded");
    assert_eq!(sent["source"], sender.as_str());
    assert_eq!(sent["subject"], "Your photo is ready");
    // Moto keeps one body, the HTML when there is one.
    assert_eq!(sent["body"], "<p>It is <b>ready</b>.</p>");
}

#[tokio::test]
async fn mail_from_an_unverified_sender_is_rejected_and_not_retryable() {
    let mail = SesMail::new(&sdk_config());
    let stranger = address(&format!("stranger-{}@example.com", unique()));

    let err = mail.send_raw(&invoice_letter(stranger.clone()).compose(domain::now()).unwrap()).await.unwrap_err();
    assert!(matches!(err, ServiceError::MailRejected(_)), "{err:?}");
    assert!(!err.is_retryable());
    let chain = aws_adapters::testing::error_chain(&err);
    assert!(chain.starts_with(&format!("mail rejected: SES SendEmail on `{stranger}` failed")), "{chain}");

    let simple = SimpleMail {
        from: stranger,
        to: Recipients::one(address("ada@example.com")),
        subject: Subject::parse("Hello").unwrap(),
        body: MailBody::Text("Hello.".into()),
    };
    let err = mail.send_simple(&simple).await.unwrap_err();
    assert!(matches!(err, ServiceError::MailRejected(_)), "{err:?}");
}
