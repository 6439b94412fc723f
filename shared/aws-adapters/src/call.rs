//! What a failed S3, SQS or SES call means for the caller: [`classify`] reads the SDK error's kind, error code and
//! HTTP status and says which [`domain::ServiceError`] it is; [`CallFailed`] keeps the SDK error as the cause, with
//! the service, operation and target named, so a log line says what failed without a debugger.
//!
//! The adapters first match the typed errors of their operation that have a meaning of their own (S3's `NoSuchKey`
//! is `Ok(None)`, SES's `MessageRejected` a rejected mail); everything else comes here. The codes are the ones the
//! SDKs' own retry classifier treats as throttling or transient, and the ones AWS uses for denied credentials and
//! missing buckets or queues; an unknown code falls back on the HTTP status.

// Every SDK crate re-exports these smithy types; naming them at their source serves all three adapters.
use aws_smithy_runtime_api::client::{orchestrator::HttpResponse, result::SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::ServiceError;
use std::error::Error as StdError;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// An S3, SQS or SES call that failed; the source is the SDK's error (or what else went wrong).
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation} on `{target}` failed")]
pub struct CallFailed {
    pub service: &'static str,
    pub operation: &'static str,
    /// The bucket and key, the queue URL or the sender.
    pub target: String,
    #[source]
    pub source: Source,
}

/// A response that lacks something the service always sends (S3's `ETag`, SQS's `MessageId`).
#[derive(Debug, thiserror::Error)]
#[error("the response has no {0}")]
pub struct MissingInResponse(pub &'static str);

/// Which [`ServiceError`] a failure is, without its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    NotFound,
    AccessDenied,
    InvalidInput,
    MailRejected,
    Unavailable,
}

impl Meaning {
    /// The [`ServiceError`] of this meaning, carrying `cause`.
    pub fn with(self, cause: CallFailed) -> ServiceError {
        let cause = Box::new(cause);
        match self {
            Self::NotFound => ServiceError::NotFound(cause),
            Self::AccessDenied => ServiceError::AccessDenied(cause),
            Self::InvalidInput => ServiceError::InvalidInput(cause),
            Self::MailRejected => ServiceError::MailRejected(cause),
            Self::Unavailable => ServiceError::Unavailable(cause),
        }
    }
}

const RETRYABLE_CODES: &[&str] = &[
    // Throttling, as aws-smithy-runtime's retry classifier lists it, plus SQS's and KMS's own.
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "KMS.ThrottlingException",
    // Transient.
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
];

const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "AccountProblem",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidSecurity",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "MissingAuthenticationToken",
    "KMS.AccessDeniedException",
];

const MISSING_CODES: &[&str] = &[
    "NoSuchBucket",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
];

/// The meaning of any SDK failure: a request that could not be built is invalid; a timeout, a failed
/// connection or an unreadable response is retryable; a service's answer is read by its code, then its status.
pub fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Meaning {
    match err {
        SdkError::ConstructionFailure(_) => Meaning::InvalidInput,
        SdkError::ServiceError(service) => by_code_and_status(err.code(), service.raw().status().as_u16()),
        // TimeoutError, DispatchFailure, ResponseError, and whatever kinds later SDKs add.
        _ => Meaning::Unavailable,
    }
}

fn by_code_and_status(code: Option<&str>, status: u16) -> Meaning {
    match code {
        Some(code) if RETRYABLE_CODES.contains(&code) => Meaning::Unavailable,
        Some(code) if DENIED_CODES.contains(&code) => Meaning::AccessDenied,
        Some(code) if MISSING_CODES.contains(&code) => Meaning::NotFound,
        _ if status >= 500 || status == 429 => Meaning::Unavailable,
        _ if status == 401 || status == 403 => Meaning::AccessDenied,
        _ if status == 404 => Meaning::NotFound,
        _ => Meaning::InvalidInput,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable_whatever_the_status_says() {
        assert_eq!(by_code_and_status(Some("SlowDown"), 503), Meaning::Unavailable);
        assert_eq!(by_code_and_status(Some("ThrottlingException"), 400), Meaning::Unavailable);
        assert_eq!(by_code_and_status(Some("RequestTimeout"), 400), Meaning::Unavailable);
        assert_eq!(by_code_and_status(None, 502), Meaning::Unavailable);
        assert_eq!(by_code_and_status(Some("SomethingNew"), 429), Meaning::Unavailable);
    }

    #[test]
    fn denied_credentials_missing_resources_and_other_client_errors_are_told_apart() {
        assert_eq!(by_code_and_status(Some("SignatureDoesNotMatch"), 403), Meaning::AccessDenied);
        assert_eq!(by_code_and_status(Some("InvalidClientTokenId"), 400), Meaning::AccessDenied);
        assert_eq!(by_code_and_status(Some("NoSuchBucket"), 404), Meaning::NotFound);
        assert_eq!(by_code_and_status(Some("AWS.SimpleQueueService.NonExistentQueue"), 400), Meaning::NotFound);
        assert_eq!(by_code_and_status(None, 404), Meaning::NotFound);
        assert_eq!(by_code_and_status(Some("EntityTooLarge"), 400), Meaning::InvalidInput);
    }
}
