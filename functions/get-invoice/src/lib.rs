//! `GET /invoices/{id}`: one of the caller's invoices as stored, `{id, status, invoice, key, received_at,
//! updated_at, execution_arn, problem}` ([`domain::invoice::query::get_invoice`]): `invoice` the fields read from
//! the PDF (`null` when it could not be read), `key` the uploaded PDF's object key, `problem` why and in which
//! state it was rejected or failed (`null` when stored). An id that is not one is a `400`; someone else's invoice
//! is a `404`, as a missing one is.

use apigw::{HttpEvent, HttpResponse, Reply, caller, path_param, respond};
use domain::invoice::ports::InvoiceGet;
use domain::invoice::query::get_invoice;

pub async fn handle(store: &impl InvoiceGet, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            Reply::json(&get_invoice(store, &caller, path_param(&event, "id")?).await?)
        }
        .await,
    )
}

#[cfg(test)]
mod tests;
