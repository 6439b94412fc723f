//! `DELETE /tasks/{id}`: `204` with an empty body; `404` when there was nothing to delete; `412` on an `If-Match`
//! that is not the current version.

use apigw::{HttpEvent, HttpResponse, Reply, caller, header, path_param, respond};
use domain::{ports::TaskDelete, service};

pub async fn handle(store: &impl TaskDelete, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            service::delete_task(store, &caller, path_param(&event, "id")?, header(&event, "if-match")?).await?;
            Ok(Reply::NoContent)
        }
        .await,
    )
}
