//! Reading an HTTP API v2 event. API Gateway has already matched the route and (on AWS) verified the JWT; the
//! handler still refuses an event without claims, so a misconfigured route fails closed (401), not open.

use crate::HttpEvent;
use base64::{Engine, engine::general_purpose::STANDARD};
use domain::{Caller, Error, UserId};
use serde_json::Value;

/// Largest request body accepted, after base64 decoding.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The caller, from `requestContext.authorizer.jwt.claims`.
pub fn caller(event: &HttpEvent) -> Result<Caller, Error> {
    let claims = event
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|jwt| &jwt.claims)
        .ok_or(Error::Unauthenticated("this route needs a bearer token"))?;
    let sub = claims.get("sub").ok_or(Error::Unauthenticated("the token has no subject"))?;
    let claim = |k: &str| claims.get(k).filter(|v| !v.is_empty()).cloned();
    Ok(Caller {
        id: UserId::parse(sub)?,
        email: claim("email"),
        name: claim("name").or_else(|| claim("cognito:username")).or_else(|| claim("username")),
    })
}

/// The body as JSON. No body, an over-long body, bad base64 or bad UTF-8 and malformed JSON are `BadRequest`s;
/// whether the JSON has the right shape is for the domain's parsers to say.
pub fn json_body(event: &HttpEvent) -> Result<Value, Error> {
    let raw = event.body.as_deref().unwrap_or("");
    let bytes = if event.is_base64_encoded {
        // A base64 text is 4/3 of its payload: refuse before decoding something huge.
        if raw.len() > MAX_BODY_BYTES / 3 * 4 + 4 {
            return Err(too_large());
        }
        STANDARD.decode(raw.trim()).map_err(|_| Error::BadRequest("the body is marked base64 but is not".into()))?
    } else {
        raw.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest("a JSON body is required".into()));
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::BadRequest(format!("the body is not valid JSON: {e}")))
}

fn too_large() -> Error {
    Error::BadRequest(format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024))
}

/// A path parameter the route declares (`/tasks/{id}` → `id`).
pub fn path_param<'a>(event: &'a HttpEvent, name: &'static str) -> Result<&'a str, Error> {
    event
        .path_parameters
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::BadRequest(format!("the path has no `{name}`")))
}

/// A query string parameter. API Gateway joins repeated parameters with commas; they then fail to parse.
pub fn query<'a>(event: &'a HttpEvent, name: &str) -> Option<&'a str> {
    event.query_string_parameters.first(name)
}

/// A header, by case-insensitive name: `None` when the request has none. One that is there but not text (bytes
/// outside visible ASCII, which API Gateway passes through as they came) is a `BadRequest`, never taken for absent:
/// an unreadable `If-Match` read as no `If-Match` would turn a conditional write into an unconditional one.
pub fn header<'a>(event: &'a HttpEvent, name: &str) -> Result<Option<&'a str>, Error> {
    event
        .headers
        .get(name)
        .map(|v| v.to_str().map_err(|_| Error::BadRequest(format!("the `{name}` header is not readable text"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(body: Option<&str>, base64: bool) -> HttpEvent {
        let mut e = HttpEvent::default();
        e.body = body.map(Into::into);
        e.is_base64_encoded = base64;
        e
    }

    #[test]
    fn no_body_empty_body_and_malformed_json_are_bad_requests() {
        for e in
            [event(None, false), event(Some(""), false), event(Some("  \n"), false), event(Some("{\"title\":"), false)]
        {
            assert!(matches!(json_body(&e), Err(Error::BadRequest(_))));
        }
    }

    #[test]
    fn a_base64_body_is_decoded_and_a_bad_one_refused() {
        assert_eq!(json_body(&event(Some("eyJhIjoxfQ=="), true)).unwrap(), json!({"a": 1}));
        assert!(matches!(json_body(&event(Some("%%%"), true)), Err(Error::BadRequest(_))));
    }

    #[test]
    fn a_body_over_64_kib_is_refused_whatever_its_encoding() {
        let big = format!("{{\"title\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert!(matches!(json_body(&event(Some(&big), false)), Err(Error::BadRequest(m)) if m.contains("64 KiB")));
        let b64 = STANDARD.encode(&big);
        assert!(matches!(json_body(&event(Some(&b64), true)), Err(Error::BadRequest(m)) if m.contains("64 KiB")));
    }

    #[test]
    fn a_header_that_is_there_but_not_text_is_a_bad_request_not_an_absent_one() {
        let mut e = HttpEvent::default();
        assert_eq!(header(&e, "if-match").unwrap(), None);
        e.headers.insert("if-match", http::HeaderValue::from_static("\"2\""));
        assert_eq!(header(&e, "If-Match").unwrap(), Some("\"2\""));
        e.headers.insert("if-match", http::HeaderValue::from_bytes(b"\"1\xff\"").unwrap());
        assert!(matches!(header(&e, "if-match"), Err(Error::BadRequest(m)) if m.contains("if-match")));
    }

    #[test]
    fn an_event_without_jwt_claims_has_no_caller() {
        assert!(matches!(caller(&HttpEvent::default()), Err(Error::Unauthenticated(_))));
    }
}
