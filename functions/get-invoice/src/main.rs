//! Lambda entry point of `get-invoice`: configuration and wiring only; the handler is `get_invoice::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let store = lambda::invoices_from_env(&lambda::sdk_config().await)?;
    lambda::serve(|event| get_invoice::handle(&store, event)).await
}
