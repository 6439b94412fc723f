//! Lambda entry point of `store-invoice`: configuration and wiring only; the handler is `store_invoice::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use domain::invoice::service::StepError;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let invoices = lambda::invoices_from_env(&lambda::sdk_config().await)?;
    lambda::serve_fallible(|event| async {
        store_invoice::handle(&invoices, event).await.map_err(StepError::into_parts)
    })
    .await
}
