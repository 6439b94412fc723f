//! The email identity operations and GetAccount through the real SDK.

use crate::helpers::{client, code_of, open, serve, simple, spawn_app, to};
use aws_sdk_sesv2::types::{IdentityType, Tag};

#[tokio::test]
async fn identities_created_at_runtime_are_verified_at_once_and_survive_a_restart() {
    let app = spawn_app().await;
    let created = app
        .client
        .create_email_identity()
        .email_identity("dev@local.test")
        .tags(Tag::builder().key("team").value("core").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.identity_type(), Some(&IdentityType::EmailAddress));
    assert!(created.verified_for_sending_status());
    let sent = app
        .client
        .send_email()
        .from_email_address("dev@local.test")
        .destination(to(&["ann@example.org"]))
        .content(simple("hi", "body"))
        .send()
        .await;
    assert!(sent.is_ok(), "{sent:?}");

    let again = app.client.create_email_identity().email_identity("DEV@local.test").send().await.unwrap_err();
    assert_eq!(code_of(&again).0, "AlreadyExistsException");

    // A new process over the same data directory.
    let restarted = client(&serve(open(app.dir.path())).await);
    let got = restarted.get_email_identity().email_identity("dev@local.test").send().await.unwrap();
    assert_eq!(got.verification_status().map(|s| s.as_str()), Some("SUCCESS"));
    assert_eq!(got.tags()[0].key(), "team");

    restarted.delete_email_identity().email_identity("dev@local.test").send().await.unwrap();
    let gone = restarted.get_email_identity().email_identity("dev@local.test").send().await.unwrap_err();
    assert_eq!(code_of(&gone).0, "NotFoundException");
    assert_eq!(gone.raw_response().map(|r| r.status().as_u16()), Some(404));
    let refused = restarted
        .send_email()
        .from_email_address("dev@local.test")
        .destination(to(&["ann@example.org"]))
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&refused).0, "MessageRejected");
}

#[tokio::test]
async fn identities_declared_in_the_template_are_listed_with_their_arns_and_cannot_be_deleted() {
    let app = spawn_app().await;
    let got = app.client.get_email_identity().email_identity("brand.test").send().await.unwrap();
    assert_eq!(got.identity_type(), Some(&IdentityType::Domain));
    let e = app.client.delete_email_identity().email_identity("noreply@example.com").send().await.unwrap_err();
    let (code, message) = code_of(&e);
    assert_eq!(code, "BadRequestException");
    assert!(message.contains("NoReply"), "{message}");

    let listed: Vec<_> = app
        .ses
        .identities()
        .into_iter()
        .map(|v| (v.logical_id, v.identity.name().to_owned(), v.arn.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                Some("Brand".into()),
                "brand.test".into(),
                "arn:aws:ses:us-east-1:123456789012:identity/brand.test".into()
            ),
            (
                Some("NoReply".into()),
                "noreply@example.com".into(),
                "arn:aws:ses:us-east-1:123456789012:identity/noreply@example.com".into()
            ),
        ]
    );
}

#[tokio::test]
async fn list_email_identities_pages_through_every_identity_once() {
    let app = spawn_app().await;
    for name in ["a.test", "z@zeta.test"] {
        app.client.create_email_identity().email_identity(name).send().await.unwrap();
    }
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = app.client.list_email_identities().page_size(1).set_next_token(token).send().await.unwrap();
        assert_eq!(page.email_identities().len(), 1);
        names.extend(page.email_identities().iter().map(|i| i.identity_name().unwrap().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["a.test", "brand.test", "noreply@example.com", "z@zeta.test"]);
    let domains = app
        .client
        .list_email_identities()
        .filter(aws_sdk_sesv2::types::IdentityFilterKey::IdentityType, "DOMAIN")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = domains.email_identities().iter().filter_map(|i| i.identity_name()).collect();
    assert_eq!(names, ["a.test", "brand.test"]);
    let forged = app.client.list_email_identities().next_token("forged").send().await.unwrap_err();
    assert_eq!(code_of(&forged).0, "BadRequestException");
}

#[tokio::test]
async fn an_identity_that_is_neither_an_address_nor_a_domain_is_a_bad_request() {
    let app = spawn_app().await;
    for bad in ["no spaces.com", "localhost", "a@b"] {
        let e = app.client.create_email_identity().email_identity(bad).send().await.unwrap_err();
        assert_eq!(code_of(&e).0, "BadRequestException", "{bad}");
    }
}

#[tokio::test]
async fn get_account_reports_a_sandbox_account_and_what_it_sent() {
    let app = spawn_app().await;
    app.client
        .send_email()
        .from_email_address("noreply@example.com")
        .destination(to(&["ann@example.org"]))
        .content(simple("hi", "body"))
        .send()
        .await
        .unwrap();
    let account = app.client.get_account().send().await.unwrap();
    assert!(!account.production_access_enabled());
    assert!(account.sending_enabled());
    let quota = account.send_quota().unwrap();
    assert_eq!((quota.max24_hour_send(), quota.max_send_rate(), quota.sent_last24_hours()), (200.0, 1.0, 1.0));
}
