//! The template's queues: created at start with the template's attributes, updated on the next start.

use crate::{ACCOUNT, spawn_with, template};
use aws_sdk_sqs::types::QueueAttributeName as A;
use local_core::Identity;
use local_sqs::{Sqs, SqsError};
use std::sync::Arc;

fn text(visibility: u32) -> String {
    format!(
        "Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: work
      VisibilityTimeout: {visibility}
      MessageRetentionPeriod: 3600
      DelaySeconds: 0
      ReceiveMessageWaitTimeSeconds: 1
      MaximumMessageSize: 2048
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 1
  Dlq:
    Type: AWS::SQS::Queue
"
    )
}

#[tokio::test]
async fn template_queues_exist_at_start_with_their_attributes_and_redrive_and_are_updated_on_the_next_start() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = spawn_with(Arc::clone(&dir), &text(7)).await;
    let resources = app.sqs.resources("127.0.0.1:4566");
    let dlq = resources.iter().find(|r| r.logical_id == "Dlq").unwrap();
    assert!(dlq.name.starts_with("local-Dlq-"), "{dlq:?}");
    assert_eq!(dlq.url, format!("http://127.0.0.1:4566/{ACCOUNT}/{}", dlq.name));
    assert_eq!(dlq.arn, format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{}", dlq.name));

    let url = app.client.get_queue_url().queue_name("work").send().await.unwrap().queue_url.unwrap();
    let attrs = app.client.get_queue_attributes().queue_url(&url).attribute_names(A::All).send().await.unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs[&A::VisibilityTimeout], "7");
    assert_eq!(attrs[&A::MessageRetentionPeriod], "3600");
    assert_eq!(attrs[&A::ReceiveMessageWaitTimeSeconds], "1");
    assert_eq!(attrs[&A::MaximumMessageSize], "2048");
    let policy: serde_json::Value = serde_json::from_str(&attrs[&A::RedrivePolicy]).unwrap();
    assert_eq!(policy["deadLetterTargetArn"], dlq.arn);

    app.client.send_message().queue_url(&url).message_body("once").send().await.unwrap();
    assert_eq!(
        app.client.receive_message().queue_url(&url).visibility_timeout(0).send().await.unwrap().messages().len(),
        1
    );
    // Received once already: the next receive moves it to the template's dead-letter queue.
    assert!(app.client.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    app.client.send_message().queue_url(&url).message_body("kept").send().await.unwrap();
    drop(app);

    let app = spawn_with(dir, &text(9)).await;
    let attrs =
        app.client.get_queue_attributes().queue_url(&url).attribute_names(A::VisibilityTimeout).send().await.unwrap();
    assert_eq!(attrs.attributes().unwrap()[&A::VisibilityTimeout], "9");
    let dlq_url = app.client.get_queue_url().queue_name(&dlq.name).send().await.unwrap().queue_url.unwrap();
    let dead = app.client.receive_message().queue_url(&dlq_url).send().await.unwrap();
    assert_eq!(dead.messages()[0].body(), Some("once"));
    let kept = app.client.receive_message().queue_url(&url).send().await.unwrap();
    assert_eq!(kept.messages()[0].body(), Some("kept"));
}

#[test]
fn a_template_fifo_queue_or_a_missing_dead_letter_queue_stops_the_start_naming_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let open = |text: &str| Sqs::open(dir.path(), &template(text), Identity::default()).unwrap_err();
    let fifo = open(
        "Resources:\n  Jobs:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: jobs.fifo, FifoQueue: true}\n",
    );
    assert!(matches!(&fifo, SqsError::TemplateQueue { queue, .. } if queue == "Jobs"), "{fifo}");
    assert!(fifo.to_string().contains("FIFO"), "{fifo}");
    let missing = open(
        "Resources:\n  W:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:gone', maxReceiveCount: 3}\n",
    );
    assert!(missing.to_string().contains("gone"), "{missing}");
    let bad = open("Resources:\n  W:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: 99999}\n");
    assert!(bad.to_string().contains("VisibilityTimeout"), "{bad}");
}
