//! The queue operations: CreateQueue, DeleteQueue, GetQueueUrl, ListQueues, Get/SetQueueAttributes, PurgeQueue.

use super::{Caller, input, required};
use crate::{
    Sqs, SqsError, now_ms,
    queue::{AttributeChanges, AttributeName, QueueAddress, QueueName},
    store::Created,
};
use local_core::{
    Identity,
    page::{Order, paginate},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The most queues one ListQueues answers, as on AWS.
const MAX_LIST: usize = 1000;

/// The queue a request's `QueueUrl` names.
pub(super) fn queue_of(url: Option<String>, identity: &Identity) -> Result<String, SqsError> {
    Ok(QueueAddress::from_url(&required(url, "QueueUrl")?, identity)?.0)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueUrlInput {
    queue_url: Option<String>,
}

pub(super) struct CreateQueue {
    name: QueueName,
    changes: AttributeChanges,
}

impl CreateQueue {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_name: Option<String>,
            #[serde(default)]
            attributes: HashMap<String, String>,
        }
        let i: Input = input(body)?;
        let name = QueueName::parse(&required(i.queue_name, "QueueName")?)?;
        Ok(Self { name, changes: AttributeChanges::parse(&i.attributes, identity)? })
    }

    pub(super) async fn apply(self, sqs: &Sqs, caller: &Caller) -> Result<Value, SqsError> {
        let Self { name, changes } = self;
        let url = caller.queue_url(sqs.identity(), name.as_str());
        let created = sqs.with_store(move |s| s.create_queue(&name, &changes, now_ms() / 1000)).await?;
        if created == Created::New {
            tracing::debug!(%url, "queue created");
        }
        Ok(json!({"QueueUrl": url}))
    }
}

pub(super) struct DeleteQueue {
    queue: String,
}

impl DeleteQueue {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        Ok(Self { queue: queue_of(input::<QueueUrlInput>(body)?.queue_url, identity)? })
    }

    pub(super) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let queue = self.queue.clone();
        sqs.with_store(move |s| s.delete_queue(&queue)).await?;
        // Receivers long-polling the queue find it gone.
        sqs.wake(&self.queue);
        Ok(json!({}))
    }
}

pub(super) struct GetQueueUrl {
    name: String,
}

impl GetQueueUrl {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_name: Option<String>,
            #[serde(rename = "QueueOwnerAWSAccountId")]
            owner: Option<String>,
        }
        let i: Input = input(body)?;
        if i.owner.is_some_and(|o| o != identity.account) {
            return Err(SqsError::QueueDoesNotExist);
        }
        Ok(Self { name: required(i.queue_name, "QueueName")? })
    }

    pub(super) async fn apply(self, sqs: &Sqs, caller: &Caller) -> Result<Value, SqsError> {
        let name = self.name.clone();
        sqs.with_store(move |s| s.require(&name)).await?;
        Ok(json!({"QueueUrl": caller.queue_url(sqs.identity(), &self.name)}))
    }
}

pub(super) struct ListQueues {
    prefix: String,
    max_results: Option<usize>,
    next_token: Option<String>,
}

impl ListQueues {
    pub(super) fn parse(body: &[u8]) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_name_prefix: Option<String>,
            max_results: Option<i64>,
            next_token: Option<String>,
        }
        let i: Input = input(body)?;
        let max_results = match i.max_results {
            None => None,
            Some(n @ 1..=1000) => Some(n as usize),
            Some(n) => {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
                )));
            }
        };
        Ok(Self { prefix: i.queue_name_prefix.unwrap_or_default(), max_results, next_token: i.next_token })
    }

    pub(super) async fn apply(self, sqs: &Sqs, caller: &Caller) -> Result<Value, SqsError> {
        let prefix = self.prefix.clone();
        let names: Vec<String> = sqs
            .with_store(move |s| Ok(s.queue_names()?.into_iter().filter(|n| n.starts_with(&prefix)).collect()))
            .await?;
        let request = json!({"QueueNamePrefix": self.prefix});
        let page = paginate(
            names,
            &request,
            String::clone,
            Order::Ascending,
            self.max_results.unwrap_or(MAX_LIST),
            self.next_token.as_deref(),
        )
        .map_err(|e| SqsError::InvalidParameterValue(format!("Invalid NextToken value: {}", e.0)))?;
        let urls: Vec<String> = page.items.iter().map(|n| caller.queue_url(sqs.identity(), n)).collect();
        let mut answer = json!({"QueueUrls": urls});
        // AWS pages only when the caller asked for pages.
        if let (Some(_), Some(token)) = (self.max_results, page.next_token) {
            answer["NextToken"] = json!(token);
        }
        Ok(answer)
    }
}

pub(super) struct GetQueueAttributes {
    queue: String,
    names: Vec<AttributeName>,
}

impl GetQueueAttributes {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            #[serde(default)]
            attribute_names: Vec<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { queue: queue_of(i.queue_url, identity)?, names: AttributeName::parse_list(&i.attribute_names)? })
    }

    pub(super) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let queue = self.queue.clone();
        let (record, counts) = sqs
            .with_store(move |s| {
                let q = s.require(&queue)?;
                let counts = s.counts(&q, now_ms())?;
                Ok((q, counts))
            })
            .await?;
        let config = &record.config;
        let mut attributes = Map::new();
        for name in self.names {
            let value = match name {
                AttributeName::ApproximateNumberOfMessages => counts.visible.to_string(),
                AttributeName::ApproximateNumberOfMessagesNotVisible => counts.in_flight.to_string(),
                AttributeName::ApproximateNumberOfMessagesDelayed => counts.delayed.to_string(),
                AttributeName::CreatedTimestamp => record.created_s.to_string(),
                AttributeName::LastModifiedTimestamp => record.modified_s.to_string(),
                AttributeName::QueueArn => sqs.identity().queue_arn(&record.name).to_string(),
                AttributeName::VisibilityTimeout => config.visibility_timeout.to_string(),
                AttributeName::MessageRetentionPeriod => config.message_retention_period.to_string(),
                AttributeName::DelaySeconds => config.delay_seconds.to_string(),
                AttributeName::ReceiveMessageWaitTimeSeconds => config.receive_message_wait_time_seconds.to_string(),
                AttributeName::MaximumMessageSize => config.maximum_message_size.to_string(),
                AttributeName::RedrivePolicy => match &config.redrive_policy {
                    Some(p) => p.to_json(),
                    None => continue,
                },
                AttributeName::Opaque(n) => match config.opaque.get(n) {
                    Some(v) => v.clone(),
                    None => continue,
                },
                AttributeName::FifoOnly => continue,
            };
            if let Some(key) = name.name() {
                attributes.insert(key.to_owned(), json!(value));
            }
        }
        if attributes.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({"Attributes": attributes}))
    }
}

pub(super) struct SetQueueAttributes {
    queue: String,
    changes: AttributeChanges,
}

impl SetQueueAttributes {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            attributes: Option<HashMap<String, String>>,
        }
        let i: Input = input(body)?;
        let queue = queue_of(i.queue_url, identity)?;
        let changes = AttributeChanges::parse(&required(i.attributes, "Attributes")?, identity)?;
        Ok(Self { queue, changes })
    }

    pub(super) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let Self { queue, changes } = self;
        let name = queue.clone();
        sqs.with_store(move |s| s.set_attributes(&name, &changes, now_ms() / 1000)).await?;
        // A shorter delay or wait may let a long-polling receiver find a message sooner.
        sqs.wake(&queue);
        Ok(json!({}))
    }
}

pub(super) struct PurgeQueue {
    queue: String,
}

impl PurgeQueue {
    pub(super) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        Ok(Self { queue: queue_of(input::<QueueUrlInput>(body)?.queue_url, identity)? })
    }

    pub(super) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let queue = self.queue;
        sqs.with_store(move |s| s.purge(&queue)).await?;
        Ok(json!({}))
    }
}
