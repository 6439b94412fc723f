//! The traits services reach each other through. A service that needs another (Step Functions running a Lambda
//! Task, S3 notifying a function, Lambda sending a failed event to a dead-letter queue, EventBridge starting an
//! execution, Lambda reading a table's stream) holds one of these, handed to it by the composition root; it never
//! imports the other service's crate.

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

/// Why an execution was not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StartError {
    /// The AWS error code (`StateMachineDoesNotExist`, `InvalidExecutionInput`).
    pub code: String,
    pub message: String,
}

/// Starts executions of the stack's state machines (EventBridge targets).
pub trait ExecutionStarter: Send + Sync {
    /// Starts an execution of the state machine `state_machine_arn` on `input` (JSON text), with a generated name.
    /// `Ok` (the execution's ARN) once the execution is recorded, as StartExecution answers.
    fn start_execution<'a>(
        &'a self,
        state_machine_arn: &'a str,
        input: String,
    ) -> BoxFuture<'a, Result<String, StartError>>;
}

/// One record of a table's stream, as an event source mapping reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// The record's place in its stream: increasing with every write, never reused (`SequenceNumber` is this
    /// number in decimal).
    pub sequence: u64,
    /// When the change was written (`ApproximateCreationDateTime`, but to the millisecond): what
    /// `MaximumRecordAgeInSeconds` is measured against.
    pub created: std::time::SystemTime,
    /// The record as DynamoDB Streams' `GetRecords` returns it: `eventID`, `eventName`, `eventVersion`,
    /// `eventSource`, `awsRegion` and `dynamodb` (`Keys`, `NewImage`, `OldImage`, `SequenceNumber`, `SizeBytes`,
    /// `StreamViewType`, `ApproximateCreationDateTime`). Lambda adds `eventSourceARN` when it builds an event.
    pub record: Value,
}

/// Why a stream could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading stream {arn} failed")]
pub struct StreamError {
    pub arn: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

/// A table's stream (DynamoDB Streams, one shard), as Lambda's event source mappings read it. The composition root
/// implements it over the store that writes the records.
pub trait StreamSource: Send + Sync {
    /// The stream's ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`): what a mapping's
    /// `Stream` property must name.
    fn arn(&self) -> &str;

    /// Up to `limit` records after sequence number `after` (from the oldest the stream still holds when `None`),
    /// oldest first.
    fn read(&self, after: Option<u64>, limit: usize) -> BoxFuture<'_, Result<Vec<StreamRecord>, StreamError>>;

    /// The sequence number of the newest record, `None` while the stream is empty: where `LATEST` starts.
    fn latest(&self) -> Result<Option<u64>, StreamError>;

    /// Resolves once the stream holds a record after `after` (at once if it already does). Fired by the commit
    /// that adds a record, so a reader waiting on it delivers without polling.
    fn wait_after(&self, after: Option<u64>) -> BoxFuture<'_, ()>;
}
