//! AWS JSON 1.0 and 1.1 (`POST /` with `X-Amz-Target: <Service>.<Operation>` and a JSON body): Step Functions,
//! SQS, EventBridge. Errors are `{"__type": "<Code>", "message": …}` with the error's status; a body that is not
//! JSON is a `SerializationException`, one of the wrong shape a `ValidationException`, both 400s.

use super::{AwsError, request_id_headers};
use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub const JSON_1_0: &str = "application/x-amz-json-1.0";
pub const JSON_1_1: &str = "application/x-amz-json-1.1";

/// Why a request body could not be read as the operation's input.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is not valid JSON: {0}")]
    Serialization(String),
    #[error("1 validation error detected: {0}")]
    Validation(String),
}

impl AwsError for BodyError {
    fn code(&self) -> &str {
        match self {
            Self::Serialization(_) => "SerializationException",
            Self::Validation(_) => "ValidationException",
        }
    }
}

/// The operation's input. An empty body is an empty object, as botocore sends `{}` for operations without
/// parameters.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => BodyError::Validation(e.to_string()),
        _ => BodyError::Serialization(e.to_string()),
    })
}

pub fn respond(content_type: &'static str, status: StatusCode, body: &Value, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    request_id_headers(&mut r, request_id);
    r
}

/// A successful answer.
pub fn ok(content_type: &'static str, body: &Value, request_id: &str) -> Response {
    respond(content_type, StatusCode::OK, body, request_id)
}

/// An error answer: `__type` is the code, prefixed by `namespace#` where the service's protocol qualifies it
/// (SQS's `com.amazonaws.sqs#QueueDoesNotExist`).
pub fn error(content_type: &'static str, namespace: Option<&str>, e: &dyn AwsError, request_id: &str) -> Response {
    let code = match namespace {
        Some(ns) => format!("{ns}#{}", e.code()),
        None => e.code().to_owned(),
    };
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(requestId = %request_id, code = e.code(), error = %e, "request failed");
    }
    respond(content_type, status, &json!({"__type": code, "message": e.to_string()}), request_id)
}
