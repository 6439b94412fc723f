//! `GET /tasks?status=&limit=&next=`: a page of the caller's tasks, newest first, optionally of one status.
//! `next` is a signed token (see `domain::page`); a forged or foreign one is a `400`.

use apigw::{HttpEvent, HttpResponse, Reply, caller, query, respond};
use domain::{PageKey, ports::TaskList, service};

pub async fn handle(store: &impl TaskList, key: &PageKey, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let params = service::ListParams {
                status: query(&event, "status"),
                limit: query(&event, "limit"),
                next: query(&event, "next"),
            };
            Reply::json(&service::list_tasks(store, key, &caller, params).await?)
        }
        .await,
    )
}
