//! Lambda entry point of `list-tasks`: configuration and wiring only; the handler is `list_tasks::handle`.

// The handler's future nests the SDK's deeply; computing its layout needs more query depth than the default.
#![recursion_limit = "256"]

use aws_adapters::lambda;

// One event at a time per sandbox: a single-threaded runtime starts faster and uses less memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let store = lambda::tasks_from_env(&lambda::sdk_config().await)?;
    let key = lambda::page_key_from_env()?;
    lambda::serve(|event| list_tasks::handle(&store, &key, event)).await
}
