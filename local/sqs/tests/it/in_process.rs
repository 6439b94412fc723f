//! The in-process API: other services send through [`MessageSender`]; the operator console lists and peeks.

use crate::spawn_app;
use local_core::invoke::MessageSender;
use std::collections::BTreeMap;

#[tokio::test]
async fn the_message_sender_takes_a_queue_url_arn_or_name_and_says_when_the_queue_does_not_exist() {
    let app = spawn_app().await;
    let url = app.create_queue("dead-letters").await;
    let attributes = BTreeMap::from([("ErrorCode".to_owned(), "500".to_owned())]);
    for queue in [url.as_str(), "arn:aws:sqs:us-east-1:123456789012:dead-letters", "dead-letters"] {
        app.sqs.send_message(queue, format!("via {queue}"), attributes.clone()).await.unwrap();
    }
    let got = app
        .client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 3);
    assert_eq!(got.messages()[0].message_attributes().unwrap()["ErrorCode"].string_value(), Some("500"));
    let e = app.sqs.send_message("missing", "x".into(), BTreeMap::new()).await.unwrap_err();
    assert_eq!(e.code, "QueueDoesNotExist");
}

#[tokio::test]
async fn peeking_shows_messages_without_receiving_them_and_queues_lists_counts() {
    let app = spawn_app().await;
    let url = app.create_queue("peeked").await;
    app.client.send_message().queue_url(&url).message_body("look").send().await.unwrap();
    app.client.send_message().queue_url(&url).message_body("in flight").send().await.unwrap();
    app.client.receive_message().queue_url(&url).send().await.unwrap();
    let seen = app.sqs.peek(&url, 10).await.unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|m| m.receipt_handle.is_none()));
    let peeked_again = app.sqs.peek("peeked", 10).await.unwrap();
    assert_eq!(
        peeked_again.iter().map(|m| m.receive_count).collect::<Vec<_>>(),
        seen.iter().map(|m| m.receive_count).collect::<Vec<_>>()
    );
    let queues = app.sqs.queues().await.unwrap();
    assert_eq!(queues.len(), 1);
    assert_eq!((queues[0].counts.visible, queues[0].counts.in_flight), (1, 1));
    assert_eq!(queues[0].arn, "arn:aws:sqs:us-east-1:123456789012:peeked");
}
