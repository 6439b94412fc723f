//! The traits services reach each other through. A service that needs another (Step Functions running a Lambda
//! Task, S3 notifying a function, Lambda sending a failed event to a dead-letter queue) holds one of these, handed
//! to it by the composition root; it never imports the other service's crate.

use crate::BoxFuture;
use serde_json::Value;

/// A function error, in the shape Lambda reports it (`errorType`, `errorMessage`). Step Functions matches
/// `errorType` in `Retry`/`Catch`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl FunctionError {
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self { error_type: error_type.into(), error_message: error_message.into() }
    }

    /// The function does not exist (Lambda's `ResourceNotFoundException`).
    pub fn not_found(name: &str) -> Self {
        Self::new("ResourceNotFoundException", format!("Function not found: {name}"))
    }
}

/// Invokes the stack's functions, by name (the logical id in the template).
pub trait FunctionInvoker: Send + Sync {
    /// A synchronous invocation (`RequestResponse`): the function's result or its error.
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        request_id: &'a str,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, FunctionError>>;

    /// The names of the functions there are, for error messages and checks.
    fn function_names(&self) -> Vec<String>;
}

/// Asynchronous invocation (Lambda's `Event` type), as S3 notifications and EventBridge targets use it: the event
/// is queued durably and the call returns; the function then runs with Lambda's retry rules (up to
/// `MaximumRetryAttempts` retries with back-off) and, when every attempt failed, the event goes to the function's
/// dead-letter queue or on-failure destination.
pub trait EventInvoker: Send + Sync {
    /// Queues `event` for `function`. `Ok` (the request id) once the event is durably queued, as Lambda's 202.
    fn invoke_async<'a>(&'a self, function: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>>;
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SendError {
    /// The AWS error code (`QueueDoesNotExist`, `InvalidParameterValue`).
    pub code: String,
    pub message: String,
}

/// Sends messages to the stack's queues (dead letters, EventBridge and destination targets).
pub trait MessageSender: Send + Sync {
    /// Sends `body` to `queue` (its URL, ARN or name) with string message attributes. `Ok` (the message id) once
    /// the message is durably stored.
    fn send_message<'a>(
        &'a self,
        queue: &'a str,
        body: String,
        attributes: std::collections::BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<String, SendError>>;
}
