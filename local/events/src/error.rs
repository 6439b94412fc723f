//! What can go wrong in EventBridge, by meaning, and — in one place, the [`AwsError`] impl — the code and status
//! each meaning is answered with. Everything a caller can cause is a 400 with EventBridge's own code; only the
//! local stack's own failures (its database, its disk) are 500s (`InternalException`).

use http::StatusCode;
use local_core::protocol::{AwsError, json::BodyError};
use local_template::TemplateError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// A parameter missing, out of range or malformed (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// A bus or rule that does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// An event pattern EventBridge would refuse (`InvalidEventPatternException`).
    #[error("Event pattern is not valid. Reason: {0}")]
    InvalidEventPattern(String),
    /// An EventBridge operation the local stack does not offer: rules and targets come from the template
    /// (`OperationDisabledException`, EventBridge's answer for an operation that is not available).
    #[error("{0}")]
    OperationDisabled(String),
    /// A target that is not an EventBridge operation at all.
    #[error("{0}")]
    UnknownOperation(String),
    /// The request body is not JSON, or not of the operation's shape.
    #[error("{0}")]
    Serialization(String),

    // The local stack's own failures, or its configuration at start-up.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("EventBridge storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("EventBridge storage {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("EventBridge: {0}")]
    Internal(String),
}

impl EventsError {
    /// Whether the local stack, not the caller, is at fault.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Template(_) | Self::Storage(_) | Self::Io { .. } | Self::Internal(_))
    }
}

impl AwsError for EventsError {
    fn code(&self) -> &str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::InvalidEventPattern(_) => "InvalidEventPatternException",
            Self::OperationDisabled(_) => "OperationDisabledException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::Template(_) | Self::Storage(_) | Self::Io { .. } | Self::Internal(_) => "InternalException",
        }
    }

    fn status(&self) -> StatusCode {
        if self.is_internal() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST }
    }
}

impl From<BodyError> for EventsError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::Serialization(_) => Self::Serialization(e.to_string()),
            BodyError::Validation(_) => Self::Validation(e.to_string()),
        }
    }
}

impl From<local_core::page::InvalidToken> for EventsError {
    fn from(e: local_core::page::InvalidToken) -> Self {
        Self::Validation(format!("Invalid NextToken: {}", e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_errors_are_400s_with_eventbridges_codes_and_our_own_failures_are_500s() {
        assert_eq!(EventsError::ResourceNotFound("x".into()).status(), StatusCode::BAD_REQUEST);
        assert_eq!(EventsError::InvalidEventPattern("x".into()).code(), "InvalidEventPatternException");
        assert_eq!(
            EventsError::InvalidEventPattern("bad".into()).to_string(),
            "Event pattern is not valid. Reason: bad"
        );
        let internal = EventsError::Internal("x".into());
        assert_eq!((internal.code(), internal.status()), ("InternalException", StatusCode::INTERNAL_SERVER_ERROR));
    }
}
