//! REST-JSON (routes by method and path, JSON bodies): SES v2, Lambda's Invoke API. Errors carry their code in the
//! `x-amzn-ErrorType` header and in the body (`{"message": …}`), as the SDKs read them.

use super::{AwsError, request_id_headers};
use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

pub fn respond(status: StatusCode, body: &Value, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request_id_headers(&mut r, request_id);
    r
}

pub fn error(e: &dyn AwsError, request_id: &str) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(requestId = %request_id, code = e.code(), error = %e, "request failed");
    }
    let mut r = respond(status, &json!({"__type": e.code(), "message": e.to_string()}), request_id);
    if let Ok(v) = HeaderValue::from_str(e.code()) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}
