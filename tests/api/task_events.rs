//! Task events end to end, through the HTTP API: a write lands in the tasks table and its stream in one
//! transaction, the stream mapping hands it to `publish-task-events`, EventBridge routes the events to
//! `record-task-activity` and `notify-task-done`, and `GET /tasks/{id}/activity` and the SES outbox show the result
//! — once, even when a stream record or an event is delivered twice.

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use system_tests::{TestApp, spawn_app};

const SETTLE: Duration = Duration::from_secs(20);

async fn settle(app: &TestApp) {
    assert!(app.stack.settle(SETTLE).await, "the event pipelines did not come to rest");
}

async fn activity(app: &TestApp, user: &str, id: &str) -> (u16, Value) {
    let r = app.request(Method::GET, &format!("/tasks/{id}/activity"), user).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn kinds(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn put(app: &TestApp, user: &str, id: &str, body: Value) -> Value {
    let r = app.request(Method::PUT, &format!("/tasks/{id}"), user).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The "done" mails in the outbox addressed to `user`.
fn done_mails(app: &TestApp, user: &str) -> usize {
    let to = format!("{user}@example.com");
    app.stack
        .ses()
        .outbox()
        .list()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e.to_string().contains(&to) && e["subject"].as_str().is_some_and(|s| s.starts_with("Done: ")))
        .count()
}

#[tokio::test]
async fn every_change_of_a_task_shows_in_its_activity_log_newest_first() {
    let app = spawn_app().await;
    let task = app.create_task("ada", json!({"title": "Write the report"})).await;
    let id = task["id"].as_str().unwrap();
    put(&app, "ada", id, json!({"title": "Write the annual report"})).await;
    put(&app, "ada", id, json!({"status": "in_progress"})).await;
    settle(&app).await;

    let (status, page) = activity(&app, "ada", id).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(kinds(&page), ["TaskStatusChanged", "TaskUpdated", "TaskCreated"]);
    assert_eq!(page["items"][0]["changed"]["status"], json!({"old": "pending", "new": "in_progress"}));
    assert_eq!(page["items"][1]["changed"]["title"]["new"], "Write the annual report");
    assert_eq!(page["items"][0]["change_id"], format!("{id}/3/TaskStatusChanged"));

    // Someone else asking about it learns nothing.
    assert_eq!(activity(&app, "bob", id).await.0, 404);

    // A deleted task keeps its history, the deletion on top.
    let r = app.request(Method::DELETE, &format!("/tasks/{id}"), "ada").send().await.unwrap();
    assert_eq!(r.status(), 204);
    settle(&app).await;
    let (status, page) = activity(&app, "ada", id).await;
    assert_eq!(status, 200);
    assert_eq!(kinds(&page)[0], "TaskDeleted");
    assert_eq!(page["count"], 4);
}

#[tokio::test]
async fn the_activity_log_pages_like_the_task_list() {
    let app = spawn_app().await;
    let task = app.create_task("ada", json!({"title": "t0"})).await;
    let id = task["id"].as_str().unwrap();
    for n in 1..=6 {
        put(&app, "ada", id, json!({"title": format!("t{n}")})).await;
    }
    settle(&app).await;
    let mut versions = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/tasks/{id}/activity?limit=3");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let page: Value = app.request(Method::GET, &path, "ada").send().await.unwrap().json().await.unwrap();
        versions.extend(page["items"].as_array().unwrap().iter().map(|e| e["version"].as_u64().unwrap()));
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(versions, [7, 6, 5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn marking_a_task_done_emails_its_owner_once_even_when_the_stream_record_or_the_event_comes_twice() {
    let app = spawn_app().await;
    // The profile (and its email, from the token) is made on first use of /me.
    assert_eq!(app.request(Method::GET, "/me", "ada").send().await.unwrap().status(), 200);
    let task = app.create_task("ada", json!({"title": "Ship it"})).await;
    let id = task["id"].as_str().unwrap().to_owned();
    let done = put(&app, "ada", &id, json!({"status": "done"})).await;
    settle(&app).await;
    assert_eq!(done_mails(&app, "ada"), 1, "one mail for the change");
    let (_, before) = activity(&app, "ada", &id).await;
    assert_eq!(kinds(&before), ["TaskStatusChanged", "TaskCreated"]);

    // The same stream record, delivered again to publish-task-events (as a retried batch would be).
    let arn = app.stack.lambda().function("PublishTaskEventsFunction").unwrap().decl.events["TaskChanges"]
        ["Properties"]["Stream"]
        .clone();
    let stream_arn = app.stack.template().string(&arn, "Stream").unwrap();
    let stream = app.stack.stream(&stream_arn).expect("the tasks table's stream");
    let records = local::local_core::invoke::StreamSource::read(&**stream, None, 100).await.unwrap();
    let modify = records
        .iter()
        .find(|r| r.record["eventName"] == "MODIFY" && r.record["dynamodb"]["NewImage"]["status"]["S"] == "done")
        .expect("the stream holds the change to done")
        .record
        .clone();
    let answer = app.stack.invoke("PublishTaskEventsFunction", "again", json!({"Records": [modify]})).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));

    // And the event itself put on the bus twice more, each time with a new event id (as a retried PutEvents).
    let detail = json!({
        "change_id": format!("{id}/2/TaskStatusChanged"),
        "owner": local::auth::sub_for("ada"),
        "task_id": id,
        "version": 2,
        "occurred_at": done["updated_at"],
        "changed": {"status": {"old": "pending", "new": "done"}},
        "task": done,
    });
    let before_puts = app.stack.events().counters().deliveries_made;
    for _ in 0..2 {
        let entry = local::local_events::PutEventsEntry {
            time: None,
            source: Some("task-platform.tasks".into()),
            resources: vec![],
            detail_type: Some("TaskStatusChanged".into()),
            detail: Some(detail.to_string()),
            event_bus_name: Some(bus_name(&app)),
            trace_header: None,
        };
        let answer = app.stack.events().put_events(vec![entry]).await.unwrap();
        assert_eq!(answer.failed_entry_count, 0);
    }
    settle(&app).await;
    // Each duplicate reached both rules' targets (activity and notification) …
    assert!(app.stack.events().counters().deliveries_made >= before_puts + 4);
    // … and changed nothing.
    assert_eq!(done_mails(&app, "ada"), 1, "still one mail");
    let (_, after) = activity(&app, "ada", &id).await;
    assert_eq!(after["items"], before["items"], "the activity log is unchanged");
}

#[tokio::test]
async fn a_task_that_is_not_done_sends_no_mail() {
    let app = spawn_app().await;
    assert_eq!(app.request(Method::GET, "/me", "ada").send().await.unwrap().status(), 200);
    let task = app.create_task("ada", json!({"title": "Later"})).await;
    put(&app, "ada", task["id"].as_str().unwrap(), json!({"status": "in_progress"})).await;
    settle(&app).await;
    assert_eq!(done_mails(&app, "ada"), 0);
    assert!(app.stack.events().counters().deliveries_made >= 2, "the events did go through");
}

fn bus_name(app: &TestApp) -> String {
    app.stack.template().physical_name("TaskEventBus").unwrap()
}
