//! SQS's wire protocol, AWS JSON 1.0: `POST /` with `X-Amz-Target: AmazonSQS.<Operation>` and a JSON body. A
//! request is parsed into a typed [`Command`] (one per operation; queue operations in [`queues`], message
//! operations in [`messages`]), which is then applied to [`Sqs`] and builds its answer. Errors are answered as AWS
//! does, with the `x-amzn-query-error` header that query-compatible SDKs match on; every bad request is a 400.

mod messages;
mod queues;

use crate::{Sqs, SqsError};
use axum::{body::Body, extract::Request, response::Response};
use http::HeaderValue;
use local_core::{
    BoxFuture, Identity,
    endpoint::{CallContext, Service},
    protocol::json::{self, JSON_1_0},
};
use serde_json::{Value, json};

pub const TARGET_PREFIX: &str = "AmazonSQS.";
/// The largest request body read: a 256 KiB batch whose JSON escaping (`\uXXXX`) can grow it sixfold.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// The most entries a batch may have.
const MAX_BATCH: usize = 10;

/// Who is calling, as far as answers depend on it: queue URLs point back at the endpoint the caller used.
pub(crate) struct Caller {
    /// `http://<Host>`, or `None` when the request named no usable host.
    base: Option<String>,
}

impl Caller {
    fn from_request(parts: &http::request::Parts) -> Self {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            // Only what a host[:port] may contain, so a forged header cannot shape the URLs handed back.
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b)));
        Self { base: host.map(|h| format!("http://{h}")) }
    }

    pub(crate) fn queue_url(&self, identity: &Identity, name: &str) -> String {
        match &self.base {
            Some(base) => format!("{base}/{}/{name}", identity.account),
            None => local_template::queue_url(identity, name),
        }
    }
}

/// One request, parsed.
enum Command {
    CreateQueue(queues::CreateQueue),
    DeleteQueue(queues::DeleteQueue),
    GetQueueUrl(queues::GetQueueUrl),
    ListQueues(queues::ListQueues),
    GetQueueAttributes(queues::GetQueueAttributes),
    SetQueueAttributes(queues::SetQueueAttributes),
    PurgeQueue(queues::PurgeQueue),
    SendMessage(messages::SendMessage),
    SendMessageBatch(messages::SendMessageBatch),
    ReceiveMessage(messages::ReceiveMessage),
    DeleteMessage(messages::DeleteMessage),
    DeleteMessageBatch(messages::DeleteMessageBatch),
    ChangeMessageVisibility(messages::ChangeMessageVisibility),
    ChangeMessageVisibilityBatch(messages::ChangeMessageVisibilityBatch),
}

/// Operations of SQS's API the local stack does not emulate: refused by name, not as unknown.
const UNSUPPORTED: &[&str] = &[
    "AddPermission",
    "RemovePermission",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
    "StartMessageMoveTask",
    "CancelMessageMoveTask",
    "ListMessageMoveTasks",
];

impl Command {
    fn parse(operation: &str, body: &[u8], identity: &Identity) -> Result<Self, SqsError> {
        Ok(match operation {
            "CreateQueue" => Self::CreateQueue(queues::CreateQueue::parse(body, identity)?),
            "DeleteQueue" => Self::DeleteQueue(queues::DeleteQueue::parse(body, identity)?),
            "GetQueueUrl" => Self::GetQueueUrl(queues::GetQueueUrl::parse(body, identity)?),
            "ListQueues" => Self::ListQueues(queues::ListQueues::parse(body)?),
            "GetQueueAttributes" => Self::GetQueueAttributes(queues::GetQueueAttributes::parse(body, identity)?),
            "SetQueueAttributes" => Self::SetQueueAttributes(queues::SetQueueAttributes::parse(body, identity)?),
            "PurgeQueue" => Self::PurgeQueue(queues::PurgeQueue::parse(body, identity)?),
            "SendMessage" => Self::SendMessage(messages::SendMessage::parse(body, identity)?),
            "SendMessageBatch" => Self::SendMessageBatch(messages::SendMessageBatch::parse(body, identity)?),
            "ReceiveMessage" => Self::ReceiveMessage(messages::ReceiveMessage::parse(body, identity)?),
            "DeleteMessage" => Self::DeleteMessage(messages::DeleteMessage::parse(body, identity)?),
            "DeleteMessageBatch" => Self::DeleteMessageBatch(messages::DeleteMessageBatch::parse(body, identity)?),
            "ChangeMessageVisibility" => {
                Self::ChangeMessageVisibility(messages::ChangeMessageVisibility::parse(body, identity)?)
            }
            "ChangeMessageVisibilityBatch" => {
                Self::ChangeMessageVisibilityBatch(messages::ChangeMessageVisibilityBatch::parse(body, identity)?)
            }
            op if UNSUPPORTED.contains(&op) => {
                return Err(SqsError::UnsupportedOperation(format!("{op} is not supported by the local stack.")));
            }
            op => return Err(SqsError::UnknownOperation(format!("Unknown operation: {op}"))),
        })
    }

    async fn apply(self, sqs: &Sqs, caller: &Caller) -> Result<Value, SqsError> {
        match self {
            Self::CreateQueue(c) => c.apply(sqs, caller).await,
            Self::DeleteQueue(c) => c.apply(sqs).await,
            Self::GetQueueUrl(c) => c.apply(sqs, caller).await,
            Self::ListQueues(c) => c.apply(sqs, caller).await,
            Self::GetQueueAttributes(c) => c.apply(sqs).await,
            Self::SetQueueAttributes(c) => c.apply(sqs).await,
            Self::PurgeQueue(c) => c.apply(sqs).await,
            Self::SendMessage(c) => c.apply(sqs).await,
            Self::SendMessageBatch(c) => c.apply(sqs).await,
            Self::ReceiveMessage(c) => c.apply(sqs).await,
            Self::DeleteMessage(c) => c.apply(sqs).await,
            Self::DeleteMessageBatch(c) => c.apply(sqs).await,
            Self::ChangeMessageVisibility(c) => c.apply(sqs).await,
            Self::ChangeMessageVisibilityBatch(c) => c.apply(sqs).await,
        }
    }
}

impl Service for Sqs {
    fn name(&self) -> &'static str {
        "sqs"
    }

    fn target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn signing_names(&self) -> &'static [&'static str] {
        &["sqs"]
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            match self.answer(request).await {
                Ok(v) => json::ok(JSON_1_0, &v, &ctx.request_id),
                Err(e) => error_response(&e, &ctx.request_id),
            }
        })
    }
}

impl Sqs {
    async fn answer(&self, request: Request<Body>) -> Result<Value, SqsError> {
        let (parts, body) = request.into_parts();
        if parts.method != http::Method::POST {
            return Err(SqsError::Serialization(format!("SQS's JSON protocol takes POST, not {}", parts.method)));
        }
        let target = local_core::endpoint::target(&parts.headers).unwrap_or_default();
        let operation = target
            .strip_prefix(TARGET_PREFIX)
            .ok_or_else(|| SqsError::UnknownOperation(format!("Unknown operation: {target}")))?
            .to_owned();
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| SqsError::InvalidParameterValue(format!("The request body is over {MAX_BODY} bytes.")))?;
        let command = Command::parse(&operation, &body, &self.identity)?;
        command.apply(self, &Caller::from_request(&parts)).await
    }
}

/// An error as AWS answers it: the JSON body with `__type`, and the query-protocol code in `x-amzn-query-error`.
fn error_response(e: &SqsError, request_id: &str) -> Response {
    let wire = e.wire();
    if wire.status.is_server_error() {
        tracing::error!(requestId = %request_id, error = %e, "SQS request failed");
    }
    let mut r =
        json::respond(JSON_1_0, wire.status, &json!({"__type": wire.type_name, "message": e.to_string()}), request_id);
    if let Some(code) = wire.query_code
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{code};{}",
            if wire.status.is_client_error() { "Sender" } else { "Receiver" }
        ))
    {
        r.headers_mut().insert("x-amzn-query-error", v);
    }
    r
}

/// The body of a request, as the operation's input.
fn input<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SqsError> {
    Ok(json::parse(body)?)
}

/// A required parameter.
fn required<T>(value: Option<T>, name: &'static str) -> Result<T, SqsError> {
    value.ok_or(SqsError::MissingParameter(name))
}

/// Checks a batch's entries as AWS does, before any entry is acted on.
fn check_batch<T>(entries: &[T], id: impl Fn(&T) -> &str, what: &'static str) -> Result<(), SqsError> {
    if entries.is_empty() {
        return Err(SqsError::EmptyBatchRequest(what));
    }
    if entries.len() > MAX_BATCH {
        return Err(SqsError::TooManyEntriesInBatchRequest(entries.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        let id = id(entry);
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id.to_owned()));
        }
    }
    for entry in entries {
        let id = id(entry);
        let valid =
            !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SqsError::InvalidBatchEntryId(id.to_owned()));
        }
    }
    Ok(())
}

/// A batch's answer: each entry a success or a failure with its code.
fn batch_result(results: Vec<(String, Result<Value, SqsError>)>) -> Value {
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(mut v) => {
                v["Id"] = json!(id);
                successful.push(v);
            }
            Err(e) => failed.push(json!({
                "Id": id,
                "SenderFault": e.is_sender_fault(),
                "Code": e.code(),
                "Message": e.to_string(),
            })),
        }
    }
    json!({"Successful": successful, "Failed": failed})
}
