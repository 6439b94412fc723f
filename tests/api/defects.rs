//! Each test here failed on the Python design this API replaces (see the foundation issue, defects 1–7).

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use system_tests::spawn_app;

#[tokio::test]
async fn defect_1_listing_by_status_finds_tasks_under_the_name_they_were_written_with() {
    let app = spawn_app().await;
    let pending = app.create_task("alice", json!({"title": "a", "status": "pending"})).await;
    let done = app.create_task("alice", json!({"title": "b", "status": "done"})).await;
    let defaulted = app.create_task("alice", json!({"title": "c"})).await;
    let ids = |tasks: Vec<Value>| tasks.into_iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let got = ids(app.list_all("alice", "status=pending").await);
    assert_eq!(got, vec![defaulted["id"].as_str().unwrap(), pending["id"].as_str().unwrap()]);
    assert_eq!(ids(app.list_all("alice", "status=done").await), vec![done["id"].as_str().unwrap()]);
    // Moving a task to another status moves it between filtered lists.
    let r = app
        .request(Method::PUT, &format!("/tasks/{}", pending["id"].as_str().unwrap()), "alice")
        .json(&json!({"status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ids(app.list_all("alice", "status=in_progress").await), vec![pending["id"].as_str().unwrap()]);
    assert_eq!(ids(app.list_all("alice", "status=pending").await), vec![defaulted["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn defect_2_following_next_reaches_every_one_of_603_tasks_past_a_megabyte() {
    let app = spawn_app().await;
    let description = "d".repeat(2000); // 603 × 2 KB ≈ 1.2 MB, past DynamoDB's 1 MB page
    let mut created = HashSet::new();
    for i in 0..603 {
        let t = app.create_task("alice", json!({"title": format!("task {i}"), "description": description})).await;
        created.insert(t["id"].as_str().unwrap().to_owned());
    }
    for query in ["limit=100", "limit=7", ""] {
        let listed = app.list_all("alice", query).await;
        let ids: Vec<String> = listed.iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), 603, "query {query:?}");
        assert_eq!(unique, created, "query {query:?}");
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(ids, sorted, "newest first");
    }
}

#[tokio::test]
async fn defect_3_updating_a_task_that_does_not_exist_is_a_404_and_creates_nothing() {
    let app = spawn_app().await;
    let ghost = "01JD5Q8X3N7V2K4M6P9R0S1T3Z";
    let r = app
        .request(Method::PUT, &format!("/tasks/{ghost}"), "alice")
        .json(&json!({"title": "ghost"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let r = app.request(Method::GET, &format!("/tasks/{ghost}"), "alice").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(app.list_all("alice", "").await.is_empty());
}

#[tokio::test]
async fn defect_4_deleting_answers_204_with_an_empty_body_and_a_missing_task_is_404() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "to delete"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    let r = app.request(Method::DELETE, &path, "alice").send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("content-type").is_none());
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    let r = app.request(Method::DELETE, &path, "alice").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(app.request(Method::GET, &path, "alice").send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn defect_5_no_body_or_malformed_json_is_a_400_never_a_5xx() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "x"})).await;
    let task_path = format!("/tasks/{}", t["id"].as_str().unwrap());
    for (method, path) in [(Method::POST, "/tasks"), (Method::PUT, task_path.as_str()), (Method::PUT, "/me")] {
        for body in [None, Some(""), Some("{\"title\": "), Some("not json"), Some("{\"title\": \"x\"} trailing")] {
            let mut req = app.request(method.clone(), path, "alice").header("content-type", "application/json");
            if let Some(b) = body {
                req = req.body(b.to_owned());
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 400, "{method} {path} with {body:?}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"], "bad_request", "{v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}

#[tokio::test]
async fn defect_6_wrong_types_and_unknown_statuses_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    for body in [
        json!({"title": 5}),
        json!({"title": "x", "status": "banana"}),
        json!({"title": ["x"]}),
        json!({"title": "x", "description": 3}),
        json!({"title": ""}),
        json!({"title": "t".repeat(201)}),
        json!({"status": "done"}),
        json!("just a string"),
    ] {
        let r = app.request(Method::POST, "/tasks", "alice").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "validation_failed");
    }
    assert!(app.list_all("alice", "").await.is_empty());
    let t = app.create_task("alice", json!({"title": "x"})).await;
    let r = app
        .request(Method::PUT, &format!("/tasks/{}", t["id"].as_str().unwrap()), "alice")
        .json(&json!({"status": "banana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app.request(Method::GET, &format!("/tasks/{}", t["id"].as_str().unwrap()), "alice").send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "pending");
}

#[tokio::test]
async fn defect_7_one_user_cannot_read_change_delete_or_list_another_users_tasks() {
    let app = spawn_app().await;
    let t = app.create_task("alice", json!({"title": "alice's secret"})).await;
    let path = format!("/tasks/{}", t["id"].as_str().unwrap());
    assert_eq!(app.request(Method::GET, &path, "mallory").send().await.unwrap().status(), 404);
    let r = app.request(Method::PUT, &path, "mallory").json(&json!({"title": "pwned"})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(app.request(Method::DELETE, &path, "mallory").send().await.unwrap().status(), 404);
    assert!(app.list_all("mallory", "").await.is_empty());
    let mine = app.request(Method::GET, &path, "alice").send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.json::<Value>().await.unwrap()["title"], "alice's secret");
    // And nobody gets in without a valid token.
    assert_eq!(app.client.get(app.url(&path)).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(app.url(&path)).bearer_auth("not.a.jwt").send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(app.url("/tasks")).send().await.unwrap().status(), 401);
}
