//! The message port on SQS: [`SqsMessages`] sends a body and string attributes to a queue by its URL.
//!
//! Standard queues only: a FIFO queue needs a message group id, which [`domain::message::Message`] does not
//! carry, so SQS refuses the send ([`domain::ServiceError::InvalidInput`]).

use crate::call::{CallFailed, Meaning, MissingInResponse, classify};
use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::send_message::SendMessageError;
use aws_sdk_sqs::types::MessageAttributeValue;
use domain::ServiceError;
use domain::message::{Message, MessageId, QueueUrl};
use domain::ports::MessageSend;
use std::error::Error as StdError;

/// Queues on SQS, through one client.
#[derive(Debug, Clone)]
pub struct SqsMessages {
    client: Client,
}

impl SqsMessages {
    /// A client from `config` (region, credentials, endpoint).
    pub fn new(config: &SdkConfig) -> Self {
        Self { client: Client::new(config) }
    }

    /// Over a client built elsewhere.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn failed(queue: &QueueUrl, meaning: Meaning, source: impl StdError + Send + Sync + 'static) -> ServiceError {
    meaning.with(CallFailed {
        service: "SQS",
        operation: "SendMessage",
        target: queue.to_string(),
        source: Box::new(source),
    })
}

impl MessageSend for SqsMessages {
    async fn send_message(&self, queue: &QueueUrl, message: &Message) -> Result<MessageId, ServiceError> {
        let mut request = self.client.send_message().queue_url(queue.as_str()).message_body(message.body().as_str());
        for (name, value) in message.attributes().as_map() {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| failed(queue, Meaning::InvalidInput, e))?;
            request = request.message_attributes(name, value);
        }
        let out = request.send().await.map_err(|e| {
            let meaning = match e.as_service_error() {
                Some(SendMessageError::QueueDoesNotExist(_)) => Meaning::NotFound,
                Some(SendMessageError::RequestThrottled(_) | SendMessageError::KmsThrottled(_)) => Meaning::Unavailable,
                Some(SendMessageError::InvalidMessageContents(_) | SendMessageError::UnsupportedOperation(_)) => {
                    Meaning::InvalidInput
                }
                Some(SendMessageError::KmsAccessDenied(_)) => Meaning::AccessDenied,
                _ => classify(&e),
            };
            failed(queue, meaning, e)
        })?;
        out.message_id()
            .map(MessageId::new)
            .ok_or_else(|| failed(queue, Meaning::Unavailable, MissingInResponse("MessageId")))
    }
}
