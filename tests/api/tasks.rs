//! The task routes' contract beyond the seven defects: shapes, headers, versions, pages, limits, persistence.

use reqwest::Method;
use serde_json::{Value, json};
use system_tests::{spawn_app, spawn_app_in};

#[tokio::test]
async fn creating_answers_201_with_the_task_its_location_and_version() {
    let app = spawn_app().await;
    let r = app
        .request(Method::POST, "/tasks", "alice")
        .json(&json!({"title": "  Write report ", "description": "by Friday", "status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["etag"], "\"1\"");
    let t: Value = r.json().await.unwrap();
    assert_eq!(location, format!("/tasks/{}", t["id"].as_str().unwrap()));
    assert_eq!(t["title"], "Write report");
    assert_eq!(t["description"], "by Friday");
    assert_eq!(t["status"], "in_progress");
    assert_eq!(t["version"], 1);
    assert_eq!(t["created_at"], t["updated_at"]);
    time::OffsetDateTime::parse(t["created_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(t.get("owner").is_none(), "the owner stays on the server: {t}");
    let got: Value = app.request(Method::GET, &location, "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!(got, t);
}

#[tokio::test]
async fn a_partial_update_changes_only_the_fields_sent_and_bumps_the_version() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "a", "description": "keep me"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    let r = app.request(Method::PUT, &path, "alice").json(&json!({"status": "done"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let u: Value = r.json().await.unwrap();
    assert_eq!(
        (u["title"].as_str(), u["description"].as_str(), u["status"].as_str(), u["version"].as_u64()),
        (Some("a"), Some("keep me"), Some("done"), Some(2))
    );
    assert_eq!(u["created_at"], t["created_at"]);
    let r = app.request(Method::PUT, &path, "alice").json(&json!({"description": null})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["description"], Value::Null);
}

#[tokio::test]
async fn if_match_with_a_stale_version_is_a_412_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "a"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    let ok = app
        .request(Method::PUT, &path, "alice")
        .header("if-match", "\"1\"")
        .json(&json!({"title": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let stale = app
        .request(Method::PUT, &path, "alice")
        .header("if-match", "1")
        .json(&json!({"title": "c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.json::<Value>().await.unwrap()["error"], "precondition_failed");
    let del = app.request(Method::DELETE, &path, "alice").header("if-match", "1").send().await.unwrap();
    assert_eq!(del.status(), 412);
    let now: Value = app.request(Method::GET, &path, "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!((now["title"].as_str(), now["version"].as_u64()), (Some("b"), Some(2)));
    let bad = app
        .request(Method::PUT, &path, "alice")
        .header("if-match", "yesterday")
        .json(&json!({"title": "c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn of_concurrent_writers_holding_the_same_version_exactly_one_succeeds() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "race"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    let writers = (0..16).map(|i| {
        app.request(Method::PUT, &path, "alice")
            .header("if-match", "1")
            .json(&json!({"title": format!("writer {i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures_join(writers).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    let now: Value = app.request(Method::GET, &path, "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!(now["version"], 2);
}

async fn futures_join<F: std::future::Future + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn pages_hold_limit_tasks_and_next_is_null_on_the_last_page() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_task("alice", json!({"title": format!("t{i}")})).await;
    }
    let page: Value = app.request(Method::GET, "/tasks?limit=2", "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!((page["count"].as_u64(), page["tasks"].as_array().unwrap().len()), (Some(2), 2));
    assert!(page["next"].is_string());
    let page: Value = app.request(Method::GET, "/tasks?limit=5", "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!(page["count"], 5);
    assert_eq!(page["next"], Value::Null);
    let page: Value = app.request(Method::GET, "/tasks", "alice").send().await.unwrap().json().await.unwrap();
    assert_eq!(page["count"], 5);
}

#[tokio::test]
async fn a_forged_or_foreign_page_token_is_a_400() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_task("alice", json!({"title": format!("t{i}")})).await;
    }
    let page: Value = app.request(Method::GET, "/tasks?limit=1", "alice").send().await.unwrap().json().await.unwrap();
    let next = page["next"].as_str().unwrap().to_owned();
    let ok = app.request(Method::GET, &format!("/tasks?limit=1&next={next}"), "alice").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let mut forged = next.clone();
    forged.replace_range(0..1, if next.starts_with('0') { "1" } else { "0" });
    for (user, query) in [
        ("mallory", format!("next={next}")),           // someone else's token
        ("alice", format!("status=done&next={next}")), // a token for another filter
        ("alice", format!("next={forged}")),
        ("alice", "next=garbage".to_owned()),
        ("alice", "next=".to_owned()),
    ] {
        let r = app.request(Method::GET, &format!("/tasks?{query}"), user).send().await.unwrap();
        assert_eq!(r.status(), 400, "{user}: {query}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "bad_request");
    }
}

#[tokio::test]
async fn limits_outside_one_to_a_hundred_and_unknown_statuses_are_refused() {
    let app = spawn_app().await;
    for q in ["limit=0", "limit=101", "limit=-5", "limit=ten", "limit=2.5"] {
        assert_eq!(
            app.request(Method::GET, &format!("/tasks?{q}"), "alice").send().await.unwrap().status(),
            400,
            "{q}"
        );
    }
    assert_eq!(app.request(Method::GET, "/tasks?status=banana", "alice").send().await.unwrap().status(), 422);
    assert_eq!(app.request(Method::GET, "/tasks?limit=100", "alice").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_a_400() {
    let app = spawn_app().await;
    let body = json!({"title": "big", "description": "d".repeat(70 * 1024)});
    let r = app.request(Method::POST, "/tasks", "alice").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("64 KiB"));
}

#[tokio::test]
async fn tasks_survive_a_restart_of_the_stack() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "durable"})).await;
    let token_before = app.token("alice");
    let dir = app.stop().await;
    let app = spawn_app_in(dir).await;
    let r = app
        .client
        .get(app.url(&format!("/tasks/{}", t["id"].as_str().unwrap())))
        .bearer_auth(token_before)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the token and the task both outlive the restart");
    assert_eq!(r.json::<Value>().await.unwrap(), t);
}
