//! The dead-letter queues on SQS, with what they hold.
//!
//! SQS has no peek: the only way to see a message is `ReceiveMessage`. The console receives with a short
//! visibility timeout ([`PEEK_VISIBILITY_SECONDS`]), so every message it shows is hidden from other consumers for
//! that long and then comes back; and each look **increments the message's receive count**. A dead-letter queue
//! normally has no consumer and no redrive policy of its own, so this is harmless there; a queue that *does* have a
//! `maxReceiveCount` redrive policy would move a message on after that many looks. The page shows the receive count
//! so an operator can see it grow. Bodies are read by the console's shared parser
//! ([`local_console::dead_letter::parse`]), so they read as they do locally.
//!
//! Redriving is not done on AWS: sending an invocation record back means Lambda `Invoke` (aws-sdk-lambda, one more
//! SDK and the `lambda:InvokeFunction` permission for the operator's role), and SQS's `StartMessageMoveTask` only
//! moves messages back to an SQS *source* queue, which none of the template's dead-letter queues has (they are
//! fed by Lambda destinations and EventBridge rules). The operator replays the shown event instead.

use crate::discover::Queue;
use crate::error::{from_sdk, malformed};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use local_console::source::{DeadLetter, DeadLetterQueue, SourceError};
use time::OffsetDateTime;

/// How long a message the console read stays hidden from other readers.
pub const PEEK_VISIBILITY_SECONDS: i32 = 5;
/// SQS returns at most 10 messages a request.
const BATCH: usize = 10;

pub(crate) async fn read(sqs: &Client, queues: &[Queue], limit: usize) -> Result<Vec<DeadLetterQueue>, SourceError> {
    futures::future::try_join_all(queues.iter().map(|q| read_queue(sqs, q, limit))).await
}

async fn read_queue(sqs: &Client, queue: &Queue, limit: usize) -> Result<DeadLetterQueue, SourceError> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| from_sdk("sqs", e))?;
    let attribute = |name: QueueAttributeName| attributes.attributes().and_then(|a| a.get(&name)).cloned();
    let arn = attribute(QueueAttributeName::QueueArn).ok_or_else(|| malformed(format!("{} has no ARN", queue.name)))?;
    let approximate_count =
        attribute(QueueAttributeName::ApproximateNumberOfMessages).and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut messages: Vec<DeadLetter> = Vec::new();
    // Each request hides what it returned, so the next one returns others; an empty answer means none are left
    // visible. Bounded: one request more than the limit needs, in case SQS returns short batches.
    for _ in 0..=limit.div_ceil(BATCH) {
        if messages.len() >= limit {
            break;
        }
        let out = sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(i32::try_from((limit - messages.len()).min(BATCH)).unwrap_or(10))
            .visibility_timeout(PEEK_VISIBILITY_SECONDS)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| from_sdk("sqs", e))?;
        let batch = out.messages();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let Some(id) = m.message_id() else { continue };
            if messages.iter().any(|x| x.message_id == id) {
                continue;
            }
            messages.push(dead_letter(m, id));
        }
    }
    messages.sort_by_key(|m| std::cmp::Reverse(m.sent));
    Ok(DeadLetterQueue {
        logical_id: queue.logical_id.clone(),
        name: queue.name.clone(),
        arn,
        fed_by: queue.fed_by.clone(),
        approximate_count: approximate_count.max(messages.len() as u64),
        messages,
    })
}

fn dead_letter(m: &aws_sdk_sqs::types::Message, id: &str) -> DeadLetter {
    let system = |name: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&name)).cloned();
    let mut attributes: Vec<(String, String)> = m
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| {
                    (k.clone(), v.string_value().map_or_else(|| format!("({})", v.data_type()), str::to_owned))
                })
                .collect()
        })
        .unwrap_or_default();
    attributes.sort();
    let body = m.body().unwrap_or_default().to_owned();
    let parsed = local_console::dead_letter::parse(&body, &attributes);
    let sent = system(MessageSystemAttributeName::SentTimestamp)
        .and_then(|ms| ms.parse::<i128>().ok())
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    DeadLetter {
        message_id: id.to_owned(),
        sent,
        body,
        original_event: parsed.original_event,
        error: parsed.error,
        failed_target: parsed.failed_target,
        request_id: parsed.request_id,
        attributes,
        receive_count: system(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    }
}

/// Why redriving is refused on AWS (see the module docs); an unknown queue is `NotFound` first.
pub(crate) fn redrive_unsupported(queues: &[Queue], queue_arn: &str) -> SourceError {
    if !queues.iter().any(|q| q.name == crate::discover::arn_name(queue_arn)) {
        return SourceError::NotFound(format!("no dead-letter queue {queue_arn} in this stack"));
    }
    SourceError::Unsupported(
        "redriving from the console works on the local stack only: on AWS it needs lambda:InvokeFunction (or an \
         SQS source queue for StartMessageMoveTask), which this console does not use; replay the original event \
         shown here (aws lambda invoke --invocation-type Event), then delete the message"
            .into(),
    )
}
