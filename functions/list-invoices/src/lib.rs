//! `GET /invoices?status=&limit=&next=`: a page of the caller's invoices, newest first, optionally of one status
//! (`stored`, `rejected`, `failed`), as `{"invoices": [{id, status, number, seller, total, currency, received_at,
//! problem}], "next": token|null}` ([`domain::invoice::query::list_invoices`]). `next` is a signed token bound to
//! the caller and the status filter (see `domain::page`): a forged or foreign one, or a bad `limit`, is a `400`;
//! an unknown status a `422`.

use apigw::{HttpEvent, HttpResponse, Reply, caller, query, respond};
use domain::PageKey;
use domain::invoice::ports::InvoiceList;
use domain::invoice::query::{ListParams, list_invoices};

pub async fn handle(store: &impl InvoiceList, key: &PageKey, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let params = ListParams {
                status: query(&event, "status"),
                limit: query(&event, "limit"),
                next: query(&event, "next"),
            };
            Reply::json(&list_invoices(store, key, &caller, params).await?)
        }
        .await,
    )
}

#[cfg(test)]
mod tests;
