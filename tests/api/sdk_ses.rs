//! SES v2 on the one endpoint, judged by the real AWS SDK for Rust (`aws-sdk-sesv2`): the request reaches SES by
//! its SigV4 credential scope, is verified at the front door, and lands in the outbox.

use aws_sdk_sesv2::{
    Client,
    error::ProvideErrorMetadata,
    primitives::Blob,
    types::{Body, Content, Destination, EmailContent, Message, RawMessage},
};
use system_tests::{TestApp, sdk_config, spawn_app};

fn client(app: &TestApp, secret: &str) -> Client {
    Client::from_conf(sdk_config!(aws_sdk_sesv2, app, secret))
}

fn simple(subject: &str) -> EmailContent {
    let text = Content::builder().data("Your invoice is attached.").build().unwrap();
    let message = Message::builder()
        .subject(Content::builder().data(subject).build().unwrap())
        .body(Body::builder().text(text).build())
        .build();
    EmailContent::builder().simple(message).build()
}

#[tokio::test]
async fn mail_from_the_templates_sender_lands_in_the_outbox_and_others_are_rejected() {
    let app = spawn_app().await;
    let ses = client(&app, "test");
    let sent = ses
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(Destination::builder().to_addresses("alice@example.com").build())
        .content(simple("Invoice 42"))
        .send()
        .await
        .expect("SendEmail from the template's SenderIdentity");
    let id = sent.message_id().expect("a message id").to_owned();
    let listed = app.stack.ses().outbox().list().unwrap();
    assert_eq!(listed.len(), 1);
    let eml = String::from_utf8(app.stack.ses().outbox().show(&id).unwrap()).unwrap();
    assert!(eml.contains("Subject: Invoice 42") && eml.contains("alice@example.com"), "{eml}");

    let e = ses
        .send_email()
        .from_email_address("mallory@elsewhere.test")
        .destination(Destination::builder().to_addresses("alice@example.com").build())
        .content(simple("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("MessageRejected"), "{e:?}");
    assert_eq!(app.stack.ses().outbox().list().unwrap().len(), 1, "nothing stored for a rejected message");
}

#[tokio::test]
async fn a_raw_message_is_stored_byte_for_byte() {
    let app = spawn_app().await;
    let raw = b"From: noreply@example.com\r\nTo: bob@example.com\r\nSubject: raw\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
    let sent = client(&app, "test")
        .send_email()
        .content(
            EmailContent::builder().raw(RawMessage::builder().data(Blob::new(raw.to_vec())).build().unwrap()).build(),
        )
        .send()
        .await
        .expect("SendEmail Raw");
    let stored = app.stack.ses().outbox().show(sent.message_id().unwrap()).unwrap();
    assert_eq!(stored, raw);
}

#[tokio::test]
async fn an_ses_call_signed_with_the_wrong_secret_is_refused_before_anything_is_sent() {
    let app = spawn_app().await;
    let e = client(&app, "wrong")
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(Destination::builder().to_addresses("alice@example.com").build())
        .content(simple("forged"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
    assert!(app.stack.ses().outbox().list().unwrap().is_empty());
}
