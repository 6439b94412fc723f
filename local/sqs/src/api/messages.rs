//! The message operations: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
//! ChangeMessageVisibility(Batch).

use super::{batch_result, check_batch, input, queues::queue_of, required};
use crate::{
    MAX_WAIT_SECONDS, Sqs, SqsError,
    message::{self, NewMessage, ReceivedMessage, Selection, WireAttribute},
    now_ms,
    queue::MAX_MESSAGE_SIZE,
};
use local_core::Identity;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The longest visibility timeout, 12 hours.
const MAX_VISIBILITY: i64 = 43_200;

fn visibility(value: i64) -> Result<u32, SqsError> {
    if (0..=MAX_VISIBILITY).contains(&value) {
        Ok(value as u32)
    } else {
        Err(SqsError::InvalidParameterValue(format!(
            "Value {value} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        )))
    }
}

/// A message of a send, as the wire carries it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireMessage {
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    #[serde(default)]
    message_attributes: BTreeMap<String, WireAttribute>,
    message_deduplication_id: Option<String>,
    // Accepted and ignored: a standard queue may carry a group id (fair queues); it changes nothing here.
    #[allow(dead_code)]
    message_group_id: Option<String>,
}

impl WireMessage {
    fn parse(self) -> Result<NewMessage, SqsError> {
        if self.message_deduplication_id.is_some() {
            return Err(SqsError::InvalidParameterValue(
                "The request includes a parameter that is not valid for this queue type: MessageDeduplicationId."
                    .into(),
            ));
        }
        NewMessage::parse(self.message_body, message::parse_attributes(&self.message_attributes)?, self.delay_seconds)
    }

    /// What the entry counts toward a batch's size limit, even when it is invalid.
    fn size(&self) -> usize {
        self.message_body.as_ref().map_or(0, String::len)
            + self
                .message_attributes
                .iter()
                .map(|(name, a)| {
                    name.len()
                        + a.data_type.len()
                        + a.string_value.as_ref().map_or(0, String::len)
                        + a.binary_value.as_ref().map_or(0, |b| b.len() * 3 / 4)
                })
                .sum::<usize>()
    }
}

/// The body of a batch request: the queue and the entries, checked as AWS checks them before any is acted on.
fn parse_batch<E: DeserializeOwned>(
    body: &[u8],
    identity: &Identity,
    id: impl Fn(&E) -> &Option<String>,
    what: &'static str,
) -> Result<(String, Vec<E>), SqsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Input<E> {
        queue_url: Option<String>,
        // Not `default`, which would require `E: Default`.
        #[serde(default = "Vec::new")]
        entries: Vec<E>,
    }
    let i: Input<E> = input(body)?;
    let queue = queue_of(i.queue_url, identity)?;
    check_batch(&i.entries, |e| id(e).as_deref().unwrap_or_default(), what)?;
    Ok((queue, i.entries))
}

/// A batch's entries by id, each parsed or refused; only the parsed ones are acted on.
struct Entries<T>(Vec<(String, Result<T, SqsError>)>);

impl<T: Clone> Entries<T> {
    fn valid(&self) -> Vec<T> {
        self.0.iter().filter_map(|(_, e)| e.as_ref().ok().cloned()).collect()
    }

    /// The batch's answer, from the answers to the valid entries in their order (`missing` for any not answered);
    /// a refused entry keeps its error.
    fn answer<R>(
        self,
        answers: impl IntoIterator<Item = Result<R, SqsError>>,
        missing: impl Fn() -> Result<R, SqsError>,
        json: impl Fn(R) -> Value,
    ) -> Value {
        let mut answers = answers.into_iter();
        let results = self
            .0
            .into_iter()
            .map(|(id, parsed)| {
                let result = match parsed {
                    Ok(_) => answers.next().unwrap_or_else(&missing),
                    Err(e) => Err(e),
                };
                (id, result.map(&json))
            })
            .collect();
        batch_result(results)
    }
}

fn sent_json(sent: &crate::SentMessage) -> Value {
    let mut v = json!({"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body});
    if let Some(md5) = &sent.md5_of_attributes {
        v["MD5OfMessageAttributes"] = json!(md5);
    }
    v
}

pub(in crate::api) struct SendMessage {
    queue: String,
    message: NewMessage,
}

impl SendMessage {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            #[serde(flatten)]
            message: WireMessage,
        }
        let i: Input = input(body)?;
        Ok(Self { queue: queue_of(i.queue_url, identity)?, message: i.message.parse()? })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let mut results = sqs.send_messages(&self.queue, vec![self.message]).await?;
        let sent = results.pop().unwrap_or_else(|| Err(SqsError::Internal("a send answered nothing".into())))?;
        Ok(sent_json(&sent))
    }
}

pub(in crate::api) struct SendMessageBatch {
    queue: String,
    entries: Entries<NewMessage>,
}

impl SendMessageBatch {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            id: Option<String>,
            #[serde(flatten)]
            message: WireMessage,
        }
        let (queue, entries) = parse_batch(body, identity, |e: &Entry| &e.id, "SendMessageBatchRequestEntry")?;
        let total: usize = entries.iter().map(|e| e.message.size()).sum();
        if total > MAX_MESSAGE_SIZE as usize {
            return Err(SqsError::BatchRequestTooLong(total));
        }
        let entries = entries.into_iter().map(|e| (e.id.unwrap_or_default(), e.message.parse())).collect();
        Ok(Self { queue, entries: Entries(entries) })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let sent = sqs.send_messages(&self.queue, self.entries.valid()).await?;
        Ok(self.entries.answer(sent, || Err(SqsError::Internal("a send answered too few".into())), |s| sent_json(&s)))
    }
}

pub(in crate::api) struct ReceiveMessage {
    queue: String,
    max: u32,
    visibility: Option<u32>,
    wait: Option<u32>,
    selection: Selection,
}

impl ReceiveMessage {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            #[serde(default)]
            attribute_names: Vec<String>,
            #[serde(default)]
            message_system_attribute_names: Vec<String>,
            #[serde(default)]
            message_attribute_names: Vec<String>,
            max_number_of_messages: Option<i64>,
            visibility_timeout: Option<i64>,
            wait_time_seconds: Option<i64>,
        }
        let i: Input = input(body)?;
        let queue = queue_of(i.queue_url, identity)?;
        let max = match i.max_number_of_messages.unwrap_or(1) {
            n @ 1..=10 => n as u32,
            n => {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {n} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
                )));
            }
        };
        let wait = match i.wait_time_seconds {
            None => None,
            Some(w) if (0..=i64::from(MAX_WAIT_SECONDS)).contains(&w) => Some(w as u32),
            Some(w) => {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
                )));
            }
        };
        let mut system = i.attribute_names;
        system.extend(i.message_system_attribute_names);
        Ok(Self {
            queue,
            max,
            visibility: i.visibility_timeout.map(visibility).transpose()?,
            wait,
            selection: Selection { system, user: i.message_attribute_names },
        })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let messages = sqs.receive(&self.queue, self.max, self.visibility, self.wait).await?;
        let messages: Vec<Value> = messages.iter().map(|m| self.message_json(m)).collect();
        Ok(json!({"Messages": messages}))
    }

    fn message_json(&self, m: &ReceivedMessage) -> Value {
        let mut v = json!({
            "MessageId": m.message_id,
            "ReceiptHandle": m.receipt_handle,
            "MD5OfBody": m.md5_of_body,
            "Body": m.body,
        });
        let system = self.selection.system_attributes(m);
        if !system.is_empty() {
            v["Attributes"] = json!(system);
        }
        let user = self.selection.user_attributes(&m.attributes);
        if let Some(md5) = message::md5_of_attributes(&user) {
            v["MD5OfMessageAttributes"] = json!(md5);
            let attributes: Map<String, Value> =
                user.iter().map(|(name, a)| (name.clone(), json!(a.to_wire()))).collect();
            v["MessageAttributes"] = Value::Object(attributes);
        }
        v
    }
}

pub(in crate::api) struct DeleteMessage {
    queue: String,
    handle: String,
}

impl DeleteMessage {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            receipt_handle: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { queue: queue_of(i.queue_url, identity)?, handle: required(i.receipt_handle, "ReceiptHandle")? })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let Self { queue, handle } = self;
        let mut results = sqs.with_store(move |s| s.delete_messages(&queue, &[handle])).await?;
        results.pop().unwrap_or(Ok(()))?;
        Ok(json!({}))
    }
}

pub(in crate::api) struct DeleteMessageBatch {
    queue: String,
    entries: Vec<(String, String)>,
}

impl DeleteMessageBatch {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            id: Option<String>,
            receipt_handle: Option<String>,
        }
        let (queue, entries) = parse_batch(body, identity, |e: &Entry| &e.id, "DeleteMessageBatchRequestEntry")?;
        let entries =
            entries.into_iter().map(|e| (e.id.unwrap_or_default(), e.receipt_handle.unwrap_or_default())).collect();
        Ok(Self { queue, entries })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let (ids, handles): (Vec<String>, Vec<String>) = self.entries.into_iter().unzip();
        let queue = self.queue;
        let results = sqs.with_store(move |s| s.delete_messages(&queue, &handles)).await?;
        Ok(batch_result(ids.into_iter().zip(results).map(|(id, r)| (id, r.map(|()| json!({})))).collect()))
    }
}

pub(in crate::api) struct ChangeMessageVisibility {
    queue: String,
    handle: String,
    timeout: u32,
}

impl ChangeMessageVisibility {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            queue_url: Option<String>,
            receipt_handle: Option<String>,
            visibility_timeout: Option<i64>,
        }
        let i: Input = input(body)?;
        Ok(Self {
            queue: queue_of(i.queue_url, identity)?,
            handle: required(i.receipt_handle, "ReceiptHandle")?,
            timeout: visibility(required(i.visibility_timeout, "VisibilityTimeout")?)?,
        })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let Self { queue, handle, timeout } = self;
        let name = queue.clone();
        let mut results = sqs.with_store(move |s| s.change_visibility(&name, &[(handle, timeout)], now_ms())).await?;
        results.pop().unwrap_or(Ok(()))?;
        if timeout == 0 {
            sqs.wake(&queue);
        }
        Ok(json!({}))
    }
}

pub(in crate::api) struct ChangeMessageVisibilityBatch {
    queue: String,
    entries: Entries<(String, u32)>,
}

impl ChangeMessageVisibilityBatch {
    pub(in crate::api) fn parse(body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            id: Option<String>,
            receipt_handle: Option<String>,
            visibility_timeout: Option<i64>,
        }
        let (queue, entries) =
            parse_batch(body, identity, |e: &Entry| &e.id, "ChangeMessageVisibilityBatchRequestEntry")?;
        // Each entry's receipt handle and timeout, or why it is refused.
        let entries = entries
            .into_iter()
            .map(|e| {
                // An entry without a timeout makes the message visible at once, as on AWS.
                let parsed = visibility(e.visibility_timeout.unwrap_or(0))
                    .and_then(|t| Ok((required(e.receipt_handle, "ReceiptHandle")?, t)));
                (e.id.unwrap_or_default(), parsed)
            })
            .collect();
        Ok(Self { queue, entries: Entries(entries) })
    }

    pub(in crate::api) async fn apply(self, sqs: &Sqs) -> Result<Value, SqsError> {
        let valid = self.entries.valid();
        let any_visible_now = valid.iter().any(|(_, t)| *t == 0);
        let name = self.queue.clone();
        let changed = sqs.with_store(move |s| s.change_visibility(&name, &valid, now_ms())).await?;
        if any_visible_now {
            sqs.wake(&self.queue);
        }
        Ok(self.entries.answer(changed, || Ok(()), |()| json!({})))
    }
}
