//! `GET /tasks/{id}/activity?limit=&next=`: a page of the caller's activity log of one task, newest first, in the
//! task list's page shape (`{"items", "count", "next"}`, `next` a signed token bound to the caller and the task).
//! `404` when the caller has no such task and no activity for it (it does not exist, or is someone else's); a
//! deleted task's history stays readable by its owner.

use apigw::{HttpEvent, HttpResponse, Reply, caller, path_param, query, respond};
use domain::activity::{ActivityList, ActivityParams, list_activity};
use domain::{PageKey, ports::TaskGet};

pub async fn handle(log: &impl ActivityList, tasks: &impl TaskGet, key: &PageKey, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let params = ActivityParams { limit: query(&event, "limit"), next: query(&event, "next") };
            let page = list_activity(log, tasks, key, &caller, path_param(&event, "id")?, params).await?;
            Reply::json(&page)
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::activity::{ActivityAppend, record_activity};
    use domain::ports::TaskPut;
    use domain::{Status, Task, TaskEvent, TaskId, Title, UserId, Version};
    use local_adapters::{LocalStore, SqliteActivity, SqliteTasks};
    use serde_json::{Value, json};

    const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
    const BOB: &str = "9b8a7f6e-5d4c-3b2a-1908-f7e6d5c4b3a2";

    struct App {
        log: SqliteActivity,
        tasks: SqliteTasks,
        key: PageKey,
        _dir: tempfile::TempDir,
    }

    impl App {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
            Self {
                log: store.activity("ActivityTable").unwrap(),
                tasks: store.tasks("TasksTable").unwrap(),
                key: PageKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
                _dir: dir,
            }
        }

        /// `GET /tasks/{id}/activity` as `sub`, with these query parameters: the status and the JSON body.
        async fn get(&self, sub: &str, id: &str, params: &[(&str, &str)]) -> (i64, Value) {
            let query: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            let event: HttpEvent = serde_json::from_value(json!({
                "version": "2.0",
                "routeKey": "GET /tasks/{id}/activity",
                "rawPath": format!("/tasks/{id}/activity"),
                "rawQueryString": "",
                "queryStringParameters": query,
                "pathParameters": {"id": id},
                "requestContext": {
                    "http": {"method": "GET", "path": format!("/tasks/{id}/activity")},
                    "authorizer": {"jwt": {"claims": {"sub": sub}, "scopes": null}},
                },
                "isBase64Encoded": false,
            }))
            .unwrap();
            let response = serde_json::to_value(handle(&self.log, &self.tasks, &self.key, event).await).unwrap();
            let body = response["body"].as_str().map_or(Value::Null, |b| serde_json::from_str(b).unwrap());
            (response["statusCode"].as_i64().unwrap(), body)
        }

        /// A task of alice's with `changes` status changes after its creation, all in its log.
        async fn task_with_history(&self, changes: u64) -> Task {
            let mut task = Task {
                owner: UserId::parse(ALICE).unwrap(),
                id: TaskId::generate(domain::now()),
                title: Title::parse("Water the plants").unwrap(),
                description: None,
                status: Status::Pending,
                created_at: domain::now(),
                updated_at: domain::now(),
                version: Version::FIRST,
            };
            self.tasks.put_task(&task).await.unwrap();
            let mut events = TaskEvent::from_change(None, Some(&task), domain::now());
            for _ in 0..changes {
                let before = task.clone();
                task.status = if task.status == Status::Done { Status::Pending } else { Status::Done };
                task.version = Version(task.version.0 + 1);
                events.extend(TaskEvent::from_change(Some(&before), Some(&task), domain::now()));
            }
            for e in &events {
                record_activity(&self.log, e).await.unwrap();
            }
            task
        }
    }

    #[tokio::test]
    async fn every_sample_event_gives_its_documented_status() {
        let app = App::new();
        let fixture = Task {
            owner: UserId::parse(ALICE).unwrap(),
            id: TaskId::parse("01JD5Q8X3N7V2K4M6P9R0S1T2W").unwrap(),
            title: Title::parse("Fixture task").unwrap(),
            description: None,
            status: Status::Pending,
            created_at: domain::now(),
            updated_at: domain::now(),
            version: Version::FIRST,
        };
        app.tasks.put_task(&fixture).await.unwrap();
        for (case, want) in [
            ("fixture-task", 200),
            ("missing", 404),
            ("someone-elses", 404),
            ("not-a-task-id", 400),
            ("limit-too-large", 400),
            ("forged-next", 400),
            ("no-claims", 401),
        ] {
            let path = format!("{}/../../events/get-task-activity/{case}.json", env!("CARGO_MANIFEST_DIR"));
            let event: HttpEvent = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let response = serde_json::to_value(handle(&app.log, &app.tasks, &app.key, event).await).unwrap();
            assert_eq!(response["statusCode"], want, "{case}: {response}");
        }
    }

    #[tokio::test]
    async fn the_owner_reads_their_log_newest_first_in_pages_that_reach_every_change_once() {
        let app = App::new();
        let task = app.task_with_history(11).await;
        let id = task.id.to_string();
        let (status, first) = app.get(ALICE, &id, &[("limit", "5")]).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["count"], 5);
        assert_eq!(first["items"][0]["version"], 12);
        assert_eq!(first["items"][0]["kind"], "TaskStatusChanged");
        assert!(first["items"][0].get("owner").is_none());
        let mut versions: Vec<u64> = Vec::new();
        let mut page = first;
        loop {
            versions.extend(page["items"].as_array().unwrap().iter().map(|i| i["version"].as_u64().unwrap()));
            let Some(next) = page["next"].as_str().map(str::to_owned) else { break };
            let (status, body) = app.get(ALICE, &id, &[("limit", "5"), ("next", &next)]).await;
            assert_eq!(status, 200, "{body}");
            page = body;
        }
        assert_eq!(versions, (1..=12).rev().collect::<Vec<_>>());
        let (_, all) = app.get(ALICE, &id, &[]).await;
        assert_eq!((all["count"].as_u64(), all["next"].is_null()), (Some(12), true), "default limit 25");
        assert_eq!(all["items"][11]["kind"], "TaskCreated");
    }

    #[tokio::test]
    async fn someone_elses_task_and_a_missing_one_are_404_and_an_owned_task_without_activity_is_an_empty_page() {
        let app = App::new();
        let task = app.task_with_history(2).await;
        let (status, body) = app.get(BOB, &task.id.to_string(), &[]).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
        let (status, _) = app.get(ALICE, &TaskId::generate(domain::now()).to_string(), &[]).await;
        assert_eq!(status, 404);
        let quiet = Task { id: TaskId::generate(domain::now()), ..task };
        app.tasks.put_task(&quiet).await.unwrap();
        let (status, body) = app.get(ALICE, &quiet.id.to_string(), &[]).await;
        assert_eq!((status, body), (200, json!({"items": [], "count": 0, "next": null})));
    }

    #[tokio::test]
    async fn a_deleted_tasks_history_stays_readable_by_its_owner() {
        let app = App::new();
        let task = app.task_with_history(1).await;
        let gone = TaskEvent::from_change(Some(&task), None, domain::now());
        app.log.append_activity(&domain::Activity::from_event(&gone[0]).unwrap()).await.unwrap();
        domain::ports::TaskDelete::delete_task(&app.tasks, &task.owner, task.id, None).await.unwrap();
        let (status, body) = app.get(ALICE, &task.id.to_string(), &[]).await;
        assert_eq!((status, body["items"][0]["kind"].as_str()), (200, Some("TaskDeleted")), "{body}");
    }

    #[tokio::test]
    async fn a_bad_id_limit_or_next_is_400_and_a_token_is_good_only_for_its_owner_and_task() {
        let app = App::new();
        let task = app.task_with_history(4).await;
        let other = app.task_with_history(4).await;
        let id = task.id.to_string();
        let (_, page) = app.get(ALICE, &id, &[("limit", "2")]).await;
        let next = page["next"].as_str().unwrap().to_owned();
        for (sub, on, params) in [
            (ALICE, "not-a-task-id", vec![]),
            (ALICE, id.as_str(), vec![("limit", "0")]),
            (ALICE, id.as_str(), vec![("limit", "101")]),
            (ALICE, id.as_str(), vec![("next", "forged.token")]),
            // Another task's list, and the right task as someone else.
            (ALICE, &other.id.to_string(), vec![("next", next.as_str())]),
            (BOB, id.as_str(), vec![("next", next.as_str())]),
        ] {
            let (status, body) = app.get(sub, on, &params).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{on} {params:?}: {body}");
        }
    }
}
