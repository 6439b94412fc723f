//! What can go wrong in SQS, by meaning, and — in one place, [`SqsError::wire`] — how each meaning is told on the
//! wire: the JSON `__type`, the query-protocol code of the `x-amzn-query-error` header (which the SDKs match on
//! first: the Rust SDK only knows `QueueDoesNotExist` as `AWS.SimpleQueueService.NonExistentQueue`) and the HTTP
//! status. Every error a caller can cause is a 400; only the local stack's own failures (its database, its disk)
//! are 500s.

use http::StatusCode;
use local_template::TemplateError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    #[error("The address {0} is not valid for this endpoint.")]
    InvalidAddress(String),
    #[error("{0}")]
    InvalidAttributeName(String),
    #[error("Invalid value for the parameter {0}.")]
    InvalidAttributeValue(String),
    /// A parameter out of range or malformed: AWS's catch-all `InvalidParameterValue` (an oversized message, a bad
    /// queue name, `MaxNumberOfMessages` over 10).
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("The request must contain the parameter {0}.")]
    MissingParameter(&'static str),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    #[error("Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight,
    #[error("There should be at least one {0} in the request.")]
    EmptyBatchRequest(&'static str),
    #[error("Maximum number of entries per request are 10. You have sent {0}.")]
    TooManyEntriesInBatchRequest(usize),
    #[error("Id {0} repeated.")]
    BatchEntryIdsNotDistinct(String),
    #[error(
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. Found: {0}"
    )]
    InvalidBatchEntryId(String),
    #[error("Batch requests cannot be longer than 262144 bytes. You have sent {0} bytes.")]
    BatchRequestTooLong(usize),
    /// FIFO queues and operations the local stack does not emulate: refused, never half-done.
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    UnknownOperation(String),
    /// The request body is not JSON, or not of the operation's shape.
    #[error("{0}")]
    Serialization(String),

    // Failures of the local stack itself, or of its configuration at start-up.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template: queue {queue}: {problem}")]
    TemplateQueue { queue: String, problem: String },
    #[error("SQS storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("SQS storage {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("SQS: an internal task failed: {0}")]
    Internal(String),
}

/// How an error is told on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// The `__type` of the JSON error body, fully qualified as AWS sends it.
    pub type_name: &'static str,
    /// The code of the `x-amzn-query-error` header, where AWS sends one.
    pub query_code: Option<&'static str>,
    pub status: StatusCode,
}

impl SqsError {
    pub fn wire(&self) -> Wire {
        let sqs =
            |type_name, query_code| Wire { type_name, query_code: Some(query_code), status: StatusCode::BAD_REQUEST };
        match self {
            Self::QueueDoesNotExist => {
                sqs("com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
            }
            Self::QueueNameExists(_) => sqs("com.amazonaws.sqs#QueueNameExists", "QueueAlreadyExists"),
            Self::InvalidAddress(_) => sqs("com.amazonaws.sqs#InvalidAddress", "InvalidAddress"),
            Self::InvalidAttributeName(_) => sqs("com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName"),
            Self::InvalidAttributeValue(_) => sqs("com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue"),
            // Not in SQS's model: AWS answers these with the generic service errors below.
            Self::InvalidParameterValue(_) => {
                sqs("com.amazon.coral.service#InvalidParameterValueException", "InvalidParameterValue")
            }
            Self::MissingParameter(_) => sqs("com.amazon.coral.service#MissingParameterException", "MissingParameter"),
            Self::InvalidMessageContents(_) => {
                sqs("com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents")
            }
            Self::ReceiptHandleIsInvalid(_) => {
                sqs("com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")
            }
            Self::MessageNotInflight => {
                sqs("com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight")
            }
            Self::EmptyBatchRequest(_) => {
                sqs("com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest")
            }
            Self::TooManyEntriesInBatchRequest(_) => sqs(
                "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            ),
            Self::BatchEntryIdsNotDistinct(_) => {
                sqs("com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
            }
            Self::InvalidBatchEntryId(_) => {
                sqs("com.amazonaws.sqs#InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId")
            }
            Self::BatchRequestTooLong(_) => {
                sqs("com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
            }
            Self::UnsupportedOperation(_) => {
                sqs("com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation")
            }
            Self::UnknownOperation(_) => Wire {
                type_name: "com.amazon.coral.service#UnknownOperationException",
                query_code: None,
                status: StatusCode::BAD_REQUEST,
            },
            Self::Serialization(_) => Wire {
                type_name: "com.amazon.coral.service#SerializationException",
                query_code: None,
                status: StatusCode::BAD_REQUEST,
            },
            Self::Template(_) | Self::TemplateQueue { .. } | Self::Storage(_) | Self::Io { .. } | Self::Internal(_) => {
                Wire {
                    type_name: "com.amazon.coral.service#InternalFailure",
                    query_code: Some("InternalFailure"),
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
        }
    }

    /// The short code (`QueueDoesNotExist`), as [`local_core::invoke::SendError`] and batch entries carry it.
    pub fn code(&self) -> &'static str {
        let type_name = self.wire().type_name;
        let short = type_name.rsplit('#').next().unwrap_or(type_name);
        // Batch entries and in-process callers see the query-protocol names AWS uses in `Failed[].Code`.
        match self {
            Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::MissingParameter(_) => "MissingParameter",
            _ => short,
        }
    }

    /// Whether the caller is at fault (`SenderFault` of a batch entry).
    pub fn is_sender_fault(&self) -> bool {
        self.wire().status.is_client_error()
    }
}

/// The short code and the status, for callers that read any service's errors the same way (the stack's in-process
/// adapters); the wire's `__type` and query code stay [`SqsError::wire`]'s.
impl local_core::protocol::AwsError for SqsError {
    fn code(&self) -> &str {
        SqsError::code(self)
    }

    fn status(&self) -> StatusCode {
        self.wire().status
    }
}

impl From<local_core::protocol::json::BodyError> for SqsError {
    fn from(e: local_core::protocol::json::BodyError) -> Self {
        Self::Serialization(e.to_string())
    }
}

impl From<SqsError> for local_core::invoke::SendError {
    fn from(e: SqsError) -> Self {
        Self { code: e.code().to_owned(), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_errors_are_400s_with_the_query_code_the_sdks_match_and_our_own_failures_are_500s() {
        let missing = SqsError::QueueDoesNotExist.wire();
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        assert_eq!(missing.query_code, Some("AWS.SimpleQueueService.NonExistentQueue"));
        assert_eq!(SqsError::QueueDoesNotExist.code(), "QueueDoesNotExist");
        assert_eq!(SqsError::InvalidParameterValue("x".into()).code(), "InvalidParameterValue");
        assert!(SqsError::Internal("x".into()).wire().status.is_server_error());
        assert!(!SqsError::Internal("x".into()).is_sender_fault());
    }
}
