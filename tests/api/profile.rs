//! `GET /me` and `PUT /me`.

use reqwest::Method;
use serde_json::{Value, json};
use system_tests::spawn_app;

#[tokio::test]
async fn the_first_get_me_creates_the_profile_from_the_token_claims() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/me", "alice").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["email"], "alice@example.com");
    assert_eq!(p["display_name"], "alice");
    assert_eq!(p["user_id"], local::auth::sub_for("alice"));
    let again: Value = app.request(Method::GET, "/me", "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!(again, p, "a second GET reads the same profile, it does not recreate it");
}

#[tokio::test]
async fn put_me_updates_the_name_and_email_and_refuses_bad_ones() {
    let app = spawn_app().await;
    let r = app
        .request(Method::PUT, "/me", "bob")
        .json(&json!({"display_name": "Robert", "email": "rob@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!((p["display_name"].as_str(), p["email"].as_str()), (Some("Robert"), Some("rob@example.org")));
    let got: Value = app.request(Method::GET, "/me", "bob").send().await.unwrap().json().await.unwrap();
    assert_eq!(got, p);
    for bad in [
        json!({"email": "nope"}),
        json!({"display_name": ""}),
        json!({"display_name": 7}),
        json!({"age": 3}),
        json!({}),
    ] {
        let r = app.request(Method::PUT, "/me", "bob").json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{bad}");
    }
}
