//! Lambda entry point of `update-profile`: configuration and wiring only; the handler is `update_profile::handle` (the shape every
//! `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let store = lambda::profiles_from_env(&lambda::sdk_config().await)?;
    lambda::serve(|event| update_profile::handle(&store, event)).await
}
