//! Requests no SDK would send: malformed bodies, unknown routes, oversized bodies.

use crate::helpers::spawn_app;
use axum::body::Body;
use local_core::endpoint::{CallContext, Service};
use serde_json::Value;

async fn post(url: &str, path: &str, body: &'static str) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let code = r.headers().get("x-amzn-errortype").map(|v| v.to_str().unwrap().to_owned());
    let json = serde_json::from_slice(&r.bytes().await.unwrap()).expect("a JSON error body");
    (status, code, json)
}

#[tokio::test]
async fn malformed_send_email_bodies_are_400_bad_request_exceptions() {
    let app = spawn_app().await;
    for body in [
        "{not json",
        "[]",
        "{}",
        r#"{"Content": 5}"#,
        r#"{"Content": {}}"#,
        r#"{"FromEmailAddress": "noreply@example.com", "Destination": {"ToAddresses": ["a@example.org"]}, "Content": {"Raw": {"Data": "%%% not base64"}}}"#,
        r#"{"FromEmailAddress": "noreply@example.com", "Destination": {"ToAddresses": ["a@example.org"]}, "Content": {"Simple": {"Subject": {"Data": "s"}}}}"#,
        r#"{"FromEmailAddress": "noreply@example.com", "Destination": {"ToAddresses": ["a@example.org"]}, "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}, "Raw": {"Data": ""}}}"#,
        r#"{"FromEmailAddress": "noreply@example.com", "Destination": {"ToAddresses": ["a@example.org"]}, "EmailTags": [{"Name": "has space", "Value": "v"}], "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}}}"#,
        r#"{"FromEmailAddress": "noreply@example.com", "Destination": {"ToAddresses": ["a@example.org"]}, "Content": {"Simple": {"Subject": {"Data": "s\r\nBcc: x@example.org"}, "Body": {"Text": {"Data": "t"}}}}}"#,
    ] {
        let (status, code, json) = post(&app.url, "/v2/email/outbound-emails", body).await;
        assert_eq!((status, code.as_deref()), (400, Some("BadRequestException")), "{body}: {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{json}");
    }
    assert!(app.ses.outbox().list().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_routes_are_404s_with_a_json_error() {
    let app = spawn_app().await;
    for path in ["/", "/v2/email/templates", "/v1/email/outbound-emails", "/v2/email/identities/a.test/dkim"] {
        let (status, code, json) = post(&app.url, path, "{}").await;
        assert_eq!((status, code.as_deref()), (404, Some("UnknownOperationException")), "{path}: {json}");
    }
}

#[tokio::test]
async fn a_body_declared_over_the_message_limit_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let request = http::Request::post("/v2/email/outbound-emails")
        .header("content-length", (local_ses::MAX_MESSAGE_BYTES * 2).to_string())
        .body(Body::empty())
        .unwrap();
    let ctx = CallContext { peer: ([127, 0, 0, 1], 1).into(), request_id: "r".into() };
    let response = app.ses.serve(request, ctx).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-amzn-errortype"], "BadRequestException");
}
