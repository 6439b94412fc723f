//! Lambda entry point of `get-task-activity`: configuration and wiring only; the handler is
//! `get_task_activity::handle` (the shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let log = lambda::activity_from_env(&config)?;
    let tasks = lambda::tasks_from_env(&config)?;
    let key = lambda::page_key_from_env()?;
    lambda::serve(|event| get_task_activity::handle(&log, &tasks, &key, event)).await
}
