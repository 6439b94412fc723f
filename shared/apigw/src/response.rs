//! Writing HTTP API v2 responses, and the one mapping from domain errors to HTTP statuses.
//!
//! | error | status | `error` code |
//! |---|---|---|
//! | `BadRequest` | 400 | `bad_request` |
//! | `Unauthenticated` | 401 | `unauthorized` |
//! | `NotFound` | 404 | `not_found` |
//! | `VersionMismatch` | 412 | `precondition_failed` |
//! | `Invalid` | 422 | `validation_failed` |
//! | `Store` | 500 | `internal_error` (cause logged, not sent) |

use crate::HttpResponse;
use aws_lambda_events::encodings::Body;
use domain::Error;
use http::{HeaderMap, HeaderValue, header};
use serde::Serialize;
use serde_json::json;

/// What a handler answers when it succeeds.
pub enum Reply {
    /// 200 with a JSON body.
    Ok(serde_json::Value),
    /// 200 with a JSON body and an `ETag` carrying the resource's version (for `If-Match`).
    Versioned { body: serde_json::Value, version: u64 },
    /// 201 with a JSON body, `Location` and `ETag`.
    Created { body: serde_json::Value, location: String, version: u64 },
    /// 204 with no body at all.
    NoContent,
}

impl Reply {
    pub fn json(value: &impl Serialize) -> Result<Self, Error> {
        Ok(Self::Ok(to_value(value)?))
    }

    pub fn versioned(value: &impl Serialize, version: u64) -> Result<Self, Error> {
        Ok(Self::Versioned { body: to_value(value)?, version })
    }

    pub fn created(value: &impl Serialize, location: String, version: u64) -> Result<Self, Error> {
        Ok(Self::Created { body: to_value(value)?, location, version })
    }
}

fn to_value(value: &impl Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Store(Box::new(e)))
}

/// The response for a handler's result. Server-side failures are logged here, with their cause chain.
pub fn respond(result: Result<Reply, Error>) -> HttpResponse {
    match result {
        Ok(Reply::Ok(body)) => with_json(200, &body, HeaderMap::new()),
        Ok(Reply::Versioned { body, version }) => with_json(200, &body, etag(version)),
        Ok(Reply::Created { body, location, version }) => {
            let mut headers = etag(version);
            if let Ok(v) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, v);
            }
            with_json(201, &body, headers)
        }
        Ok(Reply::NoContent) => {
            let mut r = HttpResponse::default();
            r.status_code = 204;
            r
        }
        Err(e) => error_response(&e),
    }
}

/// The status and `error` code for a domain error.
pub fn status_of(error: &Error) -> (u16, &'static str) {
    match error {
        Error::BadRequest(_) => (400, "bad_request"),
        Error::Unauthenticated(_) => (401, "unauthorized"),
        Error::NotFound(_) => (404, "not_found"),
        Error::VersionMismatch { .. } => (412, "precondition_failed"),
        Error::Invalid(_) => (422, "validation_failed"),
        Error::Store(_) => (500, "internal_error"),
    }
}

pub fn error_response(error: &Error) -> HttpResponse {
    let (status, code) = status_of(error);
    let message = if status >= 500 {
        let mut chain = String::new();
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %error, cause = %chain, "request failed");
        "the server could not complete the request; it has been logged".to_owned()
    } else {
        tracing::info!(status, code, message = %error, "request refused");
        error.to_string()
    };
    let mut headers = HeaderMap::new();
    if status == 401 {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    with_json(status, &json!({"error": code, "message": message}), headers)
}

fn etag(version: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        h.insert(header::ETAG, v);
    }
    h
}

fn with_json(status: u16, body: &serde_json::Value, mut headers: HeaderMap) -> HttpResponse {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut r = HttpResponse::default();
    r.status_code = i64::from(status);
    r.headers = headers;
    r.body = Some(Body::Text(body.to_string()));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_answers_204_with_no_body() {
        let r = respond(Ok(Reply::NoContent));
        assert_eq!(r.status_code, 204);
        assert!(r.body.is_none());
    }

    #[test]
    fn store_failures_are_500s_that_do_not_leak_their_cause() {
        let err = Error::Store("connection refused to 10.0.0.7".into());
        let r = error_response(&err);
        assert_eq!(r.status_code, 500);
        let Some(Body::Text(body)) = r.body else { panic!("no body") };
        assert!(!body.contains("10.0.0.7"), "{body}");
    }

    #[test]
    fn every_client_error_is_a_4xx_with_a_code_and_message() {
        for (e, want) in [
            (Error::BadRequest("x".into()), 400),
            (Error::Unauthenticated("x"), 401),
            (Error::NotFound("task"), 404),
            (Error::VersionMismatch { expected: 1, current: 2 }, 412),
            (Error::Invalid("x".into()), 422),
        ] {
            let r = error_response(&e);
            assert_eq!(r.status_code, want);
            let Some(Body::Text(body)) = r.body else { panic!("no body") };
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
    }
}
