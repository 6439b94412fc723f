//! SQS on the one endpoint, judged by the real AWS SDK for Rust (`aws-sdk-sqs`): the template's dead-letter queue
//! is there under its generated name, messages go round trip, and signatures are checked.

use aws_sdk_sqs::{Client, error::ProvideErrorMetadata};
use system_tests::{TestApp, sdk_config, spawn_app};

fn client(app: &TestApp, secret: &str) -> Client {
    Client::from_conf(sdk_config!(aws_sdk_sqs, app, secret))
}

fn dead_letter_queue_name(app: &TestApp) -> String {
    app.stack.template().physical_name("DeadLetterQueue").unwrap()
}

#[tokio::test]
async fn the_templates_dead_letter_queue_takes_and_gives_back_messages_through_the_sdk() {
    let app = spawn_app().await;
    let sqs = client(&app, "test");
    let url = sqs
        .get_queue_url()
        .queue_name(dead_letter_queue_name(&app))
        .send()
        .await
        .expect("the template's queue exists")
        .queue_url()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&app.base), "the URL points back at this endpoint: {url}");
    sqs.send_message().queue_url(&url).message_body(r#"{"failed": "event"}"#).send().await.expect("SendMessage");
    let received = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.expect("ReceiveMessage");
    let message = &received.messages()[0];
    assert_eq!(message.body(), Some(r#"{"failed": "event"}"#));
    sqs.delete_message().queue_url(&url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
    let empty = sqs.receive_message().queue_url(&url).send().await.unwrap();
    assert!(empty.messages().is_empty());
}

#[tokio::test]
async fn sqs_errors_arrive_with_the_codes_the_sdk_knows() {
    let app = spawn_app().await;
    let e = client(&app, "test").get_queue_url().queue_name("no-such-queue").send().await.unwrap_err();
    assert!(e.as_service_error().is_some_and(|s| s.is_queue_does_not_exist()), "{e:?}");
    let e = client(&app, "wrong").list_queues().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
}
