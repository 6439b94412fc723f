//! `POST /tasks`: creates a task owned by the caller and answers `201` with it, its `Location` and `ETag`.

use apigw::{HttpEvent, HttpResponse, Reply, caller, json_body, respond};
use domain::{ports::TaskPut, service};

pub async fn handle(store: &impl TaskPut, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let body = json_body(&event)?;
            let task = service::create_task(store, &caller, &body, domain::now()).await?;
            telemetry::metrics::count("TasksCreated", 1.0);
            Reply::created(&task, format!("/tasks/{}", task.id), task.version.0)
        }
        .await,
    )
}
