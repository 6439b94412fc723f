//! Lambda entry point of `check-task`: configuration and wiring only; the handler is `check_task::handle`.

// The handler's future nests the SDK's deeply; computing its layout needs more query depth than the default.
#![recursion_limit = "256"]

use aws_adapters::lambda;

// One event at a time per sandbox: a single-threaded runtime starts faster and uses less memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let store = lambda::tasks_from_env(&lambda::sdk_config().await)?;
    lambda::serve_fallible(|event| async {
        check_task::handle(&store, event).await.map_err(check_task::CheckError::into_parts)
    })
    .await
}
