//! Lambda entry point of `start-invoice`: configuration and wiring only; the handler is `start_invoice::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use start_invoice::{StartFailed, Starter};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let starter = Starter {
        executions: lambda::executions_from_env(&config),
        state_machine_arn: lambda::state_machine_from_env()?,
    };
    lambda::serve_fallible(|event| async {
        start_invoice::handle(&starter, event).await.map_err(StartFailed::into_parts)
    })
    .await
}
