//! What the local API Gateway does before a function runs: routing and the JWT authorizer.

use reqwest::Method;
use serde_json::Value;
use system_tests::spawn_app;

#[tokio::test]
async fn an_undeclared_route_or_method_is_api_gateways_404() {
    let app = spawn_app().await;
    for (m, p) in [(Method::GET, "/nowhere"), (Method::PATCH, "/tasks"), (Method::POST, "/tasks/x/y")] {
        let r = app.request(m.clone(), p, "alice").send().await.unwrap();
        assert_eq!(r.status(), 404, "{m} {p}");
        assert_eq!(r.json::<Value>().await.unwrap()["message"], "Not Found");
    }
}

#[tokio::test]
async fn a_missing_expired_or_foreign_token_is_a_401_before_any_function_runs() {
    let app = spawn_app().await;
    let other = spawn_app().await; // another data dir: another signing key
    let expired = app.stack.idp().unwrap().issue("alice", None, time::Duration::minutes(-10));
    for auth in [
        None,
        Some("Bearer ".to_owned()),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {}", other.token("alice"))),
    ] {
        let mut req = app.client.post(app.url("/tasks")).body("{\"title\":\"x\"}");
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["message"], "Unauthorized");
    }
    assert!(app.list_all("alice", "").await.is_empty(), "no refused request stored anything");
}

#[tokio::test]
async fn every_response_carries_the_request_id() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/tasks", "alice").send().await.unwrap();
    assert!(r.headers().get("apigw-requestid").is_some());
}
