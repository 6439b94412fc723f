//! Lambda entry point of `list-invoices`: configuration and wiring only; the handler is `list_invoices::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let store = lambda::invoices_from_env(&lambda::sdk_config().await)?;
    let key = lambda::page_key_from_env()?;
    lambda::serve(|event| list_invoices::handle(&store, &key, event)).await
}
