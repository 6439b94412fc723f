//! `PUT /tasks/{id}`: a partial update (`title`, `description`, `status`). `404` when the task does not exist
//! (nothing is created); with `If-Match: <version>`, `412` when another writer got there first.

use apigw::{HttpEvent, HttpResponse, Reply, caller, header, json_body, path_param, respond};
use domain::{ports::TaskUpdate, service};

pub async fn handle(store: &impl TaskUpdate, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let id = path_param(&event, "id")?;
            let body = json_body(&event)?;
            let if_match = header(&event, "if-match")?;
            let task = service::update_task(store, &caller, id, &body, if_match, domain::now()).await?;
            Reply::versioned(&task, task.version.0)
        }
        .await,
    )
}
