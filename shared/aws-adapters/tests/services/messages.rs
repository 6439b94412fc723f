//! `SqsMessages`: a sent message is received, by the SDK directly, with its body and string attributes; a
//! missing queue is `NotFound`.

use super::{sdk_config, unique};
use aws_adapters::SqsMessages;
use domain::ServiceError;
use domain::message::*;
use domain::ports::MessageSend;
use std::collections::BTreeMap;

async fn messages_and_queue() -> (SqsMessages, QueueUrl) {
    let messages = SqsMessages::new(&sdk_config());
    let created = messages
        .client()
        .create_queue()
        .queue_name(format!("notices-{}", unique()))
        .send()
        .await
        .expect("moto creates the queue");
    (messages, QueueUrl::parse(created.queue_url().expect("a queue URL")).unwrap())
}

#[tokio::test]
async fn a_sent_message_is_received_with_its_id_body_and_attributes() {
    let (messages, queue) = messages_and_queue().await;
    let body =
        MessageBody::json(&serde_json::json!({"kind": "photo-failed", "upload": "uploads/user-1/01J0Z"})).unwrap();
    let attributes = MessageAttributes::new().with("kind", "photo-failed").unwrap().with("user.id", "user-1").unwrap();
    let message = Message::new(body.clone(), attributes.clone()).unwrap();

    let id = messages.send_message(&queue, &message).await.expect("send");

    let received = messages
        .client()
        .receive_message()
        .queue_url(queue.as_str())
        .message_attribute_names("All")
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    let [got] = received.messages() else { panic!("expected one message, got {:?}", received.messages()) };
    assert_eq!(got.message_id(), Some(id.as_str()));
    assert_eq!(got.body(), Some(body.as_str()));
    let got_attributes: BTreeMap<String, String> = got
        .message_attributes()
        .expect("attributes")
        .iter()
        .map(|(name, value)| {
            assert_eq!(value.data_type(), "String");
            (name.clone(), value.string_value().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(&got_attributes, attributes.as_map());
}

#[tokio::test]
async fn a_message_without_attributes_is_sent_as_just_its_body() {
    let (messages, queue) = messages_and_queue().await;
    let message =
        Message::new(MessageBody::parse("plain text\nwith a newline").unwrap(), MessageAttributes::new()).unwrap();
    messages.send_message(&queue, &message).await.expect("send");
    let received = messages
        .client()
        .receive_message()
        .queue_url(queue.as_str())
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    let [got] = received.messages() else { panic!("expected one message") };
    assert_eq!(got.body(), Some("plain text\nwith a newline"));
    assert!(got.message_attributes().is_none_or(|a| a.is_empty()));
}

#[tokio::test]
async fn sending_to_a_queue_that_does_not_exist_is_not_found() {
    let (messages, queue) = messages_and_queue().await;
    let missing = QueueUrl::parse(&queue.as_str().replace(queue.name(), &format!("missing-{}", unique()))).unwrap();
    let message = Message::new(MessageBody::parse("x").unwrap(), MessageAttributes::new()).unwrap();
    let err = messages.send_message(&missing, &message).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let chain = aws_adapters::testing::error_chain(&err);
    assert!(chain.contains(&format!("SQS SendMessage on `{missing}` failed")), "{chain}");
}
