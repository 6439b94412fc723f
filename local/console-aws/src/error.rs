//! SDK errors by meaning: the one place an AWS error code becomes a [`SourceError`] (and so an HTTP status).
//! A missing execution or queue is `NotFound`, a request AWS refuses as invalid (`InvalidArn`, `ValidationException`,
//! `ExecutionNotRedrivable`) is `Invalid`, everything else (throttling, credentials, the network) `Unavailable`,
//! each with the service's own code and message so the operator sees what AWS said.

use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use local_console::source::SourceError;

const NOT_FOUND: &[&str] = &[
    "ExecutionDoesNotExist",
    "StateMachineDoesNotExist",
    "ResourceNotFound",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
];

const INVALID: &[&str] = &[
    "InvalidArn",
    "InvalidName",
    "ValidationException",
    "ValidationError",
    "ExecutionNotRedrivable",
    "ExecutionLimitExceeded",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "ReceiptHandleIsInvalid",
];

/// Maps any service's SDK error: `service` names it in the message ("states", "sqs", "cloudwatch").
pub(crate) fn from_sdk<E, R>(service: &str, err: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (code, message) = match &err {
        SdkError::ServiceError(service_error) => {
            let e = service_error.err();
            (e.code().map(str::to_owned), e.message().map(str::to_owned))
        }
        _ => (None, None),
    };
    let text = match (&code, &message) {
        (Some(c), Some(m)) => format!("{service}: {c}: {m}"),
        (Some(c), None) => format!("{service}: {c}"),
        _ => format!("{service}: {}", DisplayErrorContext(&err)),
    };
    match code.as_deref() {
        Some(c) if NOT_FOUND.contains(&c) => SourceError::NotFound(text),
        Some(c) if INVALID.contains(&c) => SourceError::Invalid(text),
        _ => SourceError::Unavailable(text),
    }
}

/// A response AWS sent that lacks what the API promises (a status the port does not know, a missing field).
pub(crate) fn malformed(what: impl std::fmt::Display) -> SourceError {
    SourceError::Unavailable(format!("unexpected answer from AWS: {what}"))
}
