//! SendEmail through the real SDK: what is accepted, what is stored, what is refused.

use crate::helpers::{code_of, parse, simple, spawn_app, to};
use aws_sdk_sesv2::{
    primitives::Blob,
    types::{Body, Content, Destination, EmailContent, Message, MessageTag, RawMessage, Template},
};
use local_ses::{MessageId, MessageKind};
use mail_builder::MessageBuilder;
use mail_parser::MimeHeaders;

#[tokio::test]
async fn a_simple_message_with_text_html_and_a_non_ascii_subject_is_stored_as_an_eml_that_parses_back() {
    let app = spawn_app().await;
    let subject = "Grüße aus Köln — 你好";
    let content = |s: &str| Content::builder().data(s).charset("UTF-8").build().unwrap();
    let sent = app
        .client
        .send_email()
        .from_email_address("Zoë Team <noreply@example.com>")
        .destination(
            Destination::builder().to_addresses("Ann <ann@example.org>").cc_addresses("bob@example.org").build(),
        )
        .reply_to_addresses("help@example.com")
        .email_tags(MessageTag::builder().name("campaign").value("spring-1").build().unwrap())
        .configuration_set_name("default")
        .content(
            EmailContent::builder()
                .simple(
                    Message::builder()
                        .subject(content(subject))
                        .body(
                            Body::builder()
                                .text(content("Hallo, plain text"))
                                .html(content("<p>Hallo, <b>HTML</b></p>"))
                                .build(),
                        )
                        .headers(
                            aws_sdk_sesv2::types::MessageHeader::builder()
                                .name("X-Campaign")
                                .value("spring")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = sent.message_id().unwrap();
    MessageId::parse(id).expect("an id in SES's format");

    let bytes = app.ses.outbox().show(id).unwrap();
    assert!(bytes.is_ascii(), "the stored message is 7-bit: non-ASCII text is encoded");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("=?utf-8?"), "the subject and name are RFC 2047 encoded-words:\n{text}");
    let m = parse(&bytes);
    assert_eq!(m.subject(), Some(subject));
    let from = m.from().unwrap().first().unwrap();
    assert_eq!((from.name.as_deref(), from.address.as_deref()), (Some("Zoë Team"), Some("noreply@example.com")));
    assert_eq!(m.to().unwrap().first().unwrap().address.as_deref(), Some("ann@example.org"));
    assert_eq!(m.cc().unwrap().first().unwrap().address.as_deref(), Some("bob@example.org"));
    assert_eq!(m.reply_to().unwrap().first().unwrap().address.as_deref(), Some("help@example.com"));
    assert_eq!(m.message_id(), Some(format!("{id}@email.amazonses.com").as_str()));
    assert!(m.date().is_some());
    assert_eq!(m.header_raw("X-Campaign").map(str::trim), Some("spring"));
    let ct = m.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("alternative")));
    assert_eq!(m.body_text(0).as_deref().map(str::trim_end), Some("Hallo, plain text"));
    assert_eq!(m.body_html(0).as_deref().map(str::trim_end), Some("<p>Hallo, <b>HTML</b></p>"));

    let envelope = app.ses.outbox().envelope(id).unwrap();
    assert_eq!(envelope.from, "noreply@example.com");
    assert_eq!(
        (envelope.to.as_slice(), envelope.cc.as_slice()),
        (&["ann@example.org".to_owned()][..], &["bob@example.org".to_owned()][..])
    );
    assert_eq!(envelope.subject, subject);
    assert_eq!(envelope.kind, MessageKind::Simple);
    assert_eq!(envelope.configuration_set.as_deref(), Some("default"));
    assert_eq!(envelope.tags[0].value, "spring-1");
}

/// A small but real PDF, with bytes outside ASCII so that any re-encoding would show.
const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n\x00\xff";

#[tokio::test]
async fn a_raw_message_with_a_pdf_attachment_is_stored_byte_for_byte() {
    let app = spawn_app().await;
    let raw = MessageBuilder::new()
        .from(("Invoices", "billing@brand.test"))
        .to("customer@example.org")
        .subject("Your invoice")
        .text_body("Attached.")
        .attachment("application/pdf", "invoice.pdf", PDF)
        .write_to_vec()
        .unwrap();
    let sent = app
        .client
        .send_email()
        .content(
            EmailContent::builder().raw(RawMessage::builder().data(Blob::new(raw.clone())).build().unwrap()).build(),
        )
        .send()
        .await
        .unwrap();
    let id = sent.message_id().unwrap();
    let stored = app.ses.outbox().show(id).unwrap();
    assert_eq!(stored, raw);
    let m = parse(&stored);
    let pdf = m.attachments().next().expect("the attachment");
    assert_eq!(pdf.attachment_name(), Some("invoice.pdf"));
    assert_eq!(pdf.contents(), PDF);
    let envelope = app.ses.outbox().envelope(id).unwrap();
    assert_eq!(
        (envelope.from.as_str(), envelope.to.as_slice()),
        ("billing@brand.test", &["customer@example.org".to_owned()][..])
    );
    assert_eq!((envelope.kind, envelope.subject.as_str()), (MessageKind::Raw, "Your invoice"));
}

#[tokio::test]
async fn bcc_recipients_are_in_the_envelope_but_never_in_the_headers() {
    let app = spawn_app().await;
    let sent = app
        .client
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(Destination::builder().to_addresses("ann@example.org").bcc_addresses("secret@example.org").build())
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap();
    let id = sent.message_id().unwrap();
    let bytes = app.ses.outbox().show(id).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("secret@example.org") && !text.to_ascii_lowercase().contains("\nbcc:"), "{text}");
    assert_eq!(app.ses.outbox().envelope(id).unwrap().bcc, ["secret@example.org"]);
}

#[tokio::test]
async fn an_unverified_sender_is_rejected_with_the_sandbox_message_and_nothing_is_stored() {
    let app = spawn_app().await;
    let e = app
        .client
        .send_email()
        .from_email_address("Someone <someone@example.com>")
        .destination(to(&["ann@example.org"]))
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_of(&e),
        (
            "MessageRejected".to_owned(),
            "Email address is not verified. The following identities failed the check in region US-EAST-1: \
             someone@example.com"
                .to_owned()
        )
    );
    assert!(e.as_service_error().unwrap().is_message_rejected());
    assert!(app.ses.outbox().list().unwrap().is_empty());
}

#[tokio::test]
async fn a_domain_identity_verifies_any_address_at_it_and_its_subdomains() {
    let app = spawn_app().await;
    for from in ["anyone@brand.test", "Other Name <x.y@BRAND.test>", "alerts@mail.brand.test"] {
        let sent = app
            .client
            .send_email()
            .from_email_address(from)
            .destination(to(&["ann@example.org"]))
            .content(simple("hi", "body"))
            .send()
            .await;
        assert!(sent.is_ok(), "{from}: {sent:?}");
    }
    // The address identity noreply@example.com does not make example.com a verified domain.
    let e = app
        .client
        .send_email()
        .from_email_address("other@example.com")
        .destination(to(&["ann@example.org"]))
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&e).0, "MessageRejected");
    assert_eq!(app.ses.outbox().list().unwrap().len(), 3);
}

#[tokio::test]
async fn a_raw_message_without_a_from_header_or_without_recipients_is_a_bad_request() {
    let app = spawn_app().await;
    let send = |data: &'static [u8]| {
        app.client
            .send_email()
            .content(EmailContent::builder().raw(RawMessage::builder().data(Blob::new(data)).build().unwrap()).build())
            .send()
    };
    let no_from = send(b"To: ann@example.org\r\nSubject: x\r\n\r\nbody\r\n").await.unwrap_err();
    assert_eq!(code_of(&no_from), ("BadRequestException".to_owned(), "Missing required header 'From'.".to_owned()));
    let nobody = send(b"From: noreply@example.com\r\nSubject: x\r\n\r\nbody\r\n").await.unwrap_err();
    assert_eq!(code_of(&nobody).0, "BadRequestException");
    // The envelope sender may differ from the From header; it is the one checked.
    let ok = app
        .client
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(to(&["ann@example.org"]))
        .content(
            EmailContent::builder()
                .raw(
                    RawMessage::builder()
                        .data(Blob::new(&b"From: x@elsewhere.org\r\n\r\nbody\r\n"[..]))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn templates_are_refused_with_a_400_saying_they_are_not_supported_locally() {
    let app = spawn_app().await;
    let e = app
        .client
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(to(&["ann@example.org"]))
        .content(
            EmailContent::builder()
                .template(Template::builder().template_name("Welcome").template_data("{}").build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_of(&e);
    assert_eq!(code, "BadRequestException");
    assert!(message.contains("not supported by the local stack") && message.contains("Welcome"), "{message}");
}

#[tokio::test]
async fn more_than_fifty_recipients_or_an_invalid_address_is_a_bad_request() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..51).map(|i| format!("r{i}@example.org")).collect();
    let e = app
        .client
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(
            Destination::builder()
                .set_to_addresses(Some(many[..30].to_vec()))
                .set_bcc_addresses(Some(many[30..].to_vec()))
                .build(),
        )
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), ("BadRequestException".to_owned(), "Recipient count exceeds 50.".to_owned()));

    for (from, recipient) in [("noreply@example.com", "not an address"), ("noreply", "ann@example.org")] {
        let e = app
            .client
            .send_email()
            .from_email_address(from)
            .destination(to(&[recipient]))
            .content(simple("hi", "body"))
            .send()
            .await
            .unwrap_err();
        let (code, message) = code_of(&e);
        assert_eq!(code, "BadRequestException");
        assert!(message.starts_with("Illegal address"), "{message}");
    }
    assert!(app.ses.outbox().list().unwrap().is_empty());
}

#[tokio::test]
async fn the_in_process_senders_apply_the_same_rules_as_the_api() {
    let app = spawn_app().await;
    let id = app
        .ses
        .send_simple(local_ses::SimpleEmail {
            from: "noreply@example.com".into(),
            to: vec!["ann@example.org".into()],
            subject: "From a function".into(),
            text: Some("hello".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(app.ses.outbox().envelope(id.as_str()).unwrap().subject, "From a function");

    let raw = b"From: noreply@example.com\r\nTo: ann@example.org\r\nSubject: raw\r\n\r\nbody\r\n".to_vec();
    let id = app.ses.send_raw("noreply@example.com", &["ann@example.org".to_owned()], raw.clone()).await.unwrap();
    assert_eq!(app.ses.outbox().show(id.as_str()).unwrap(), raw);

    let refused = app.ses.send_raw("intruder@example.net", &[], raw).await;
    assert!(matches!(refused, Err(local_ses::SesError::NotVerified { .. })), "{refused:?}");
}
