//! `GET /tasks/{id}`: one of the caller's tasks, with its version as `ETag`; `404` for a task that does not exist
//! or belongs to someone else.

use apigw::{HttpEvent, HttpResponse, Reply, caller, path_param, respond};
use domain::{ports::TaskGet, service};

pub async fn handle(store: &impl TaskGet, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let task = service::get_task(store, &caller, path_param(&event, "id")?).await?;
            Reply::versioned(&task, task.version.0)
        }
        .await,
    )
}
