//! The AWS wire protocols, each in one module: how a request body is read and how an answer or an error is
//! written. A service's errors implement [`AwsError`] (their AWS code and HTTP status, decided once per error
//! type), and the protocol module turns them into the body AWS sends, so no handler formats an error by hand.

pub mod json;
pub mod rest_json;
pub mod xml;

use http::StatusCode;

/// An error as AWS reports it: its code (`ExecutionDoesNotExist`, `NoSuchKey`) and the HTTP status it comes with.
pub trait AwsError: std::error::Error {
    fn code(&self) -> &str;
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// Headers every AWS answer carries.
pub(crate) fn request_id_headers(r: &mut axum::response::Response, request_id: &str) {
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v.clone());
        r.headers_mut().insert("x-amz-request-id", v);
    }
}
