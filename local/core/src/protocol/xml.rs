//! REST-XML (S3) and the query protocol's XML answers: `<Error><Code>…</Code><Message>…</Message>…</Error>`, and
//! the escaping every XML answer needs.

use super::{AwsError, request_id_headers};
use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};

/// Text escaped for an XML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub fn respond(status: StatusCode, xml: String, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(xml));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    request_id_headers(&mut r, request_id);
    r
}

/// An error in S3's shape; `resource` is the bucket or key it concerns.
pub fn error(e: &dyn AwsError, resource: Option<&str>, request_id: &str) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(requestId = %request_id, code = e.code(), error = %e, "request failed");
    }
    let resource = resource.map(|r| format!("<Resource>{}</Resource>", escape(r))).unwrap_or_default();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>{resource}<RequestId>{}</RequestId></Error>",
        escape(e.code()),
        escape(&e.to_string()),
        escape(request_id)
    );
    respond(status, xml, request_id)
}
