//! Lambda entry point of `record-task-activity`: configuration and wiring only; the handler is
//! `record_task_activity::handle` (the shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use record_task_activity::RecordError;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let log = lambda::activity_from_env(&lambda::sdk_config().await)?;
    lambda::serve_fallible(|event| async {
        record_task_activity::handle(&log, event).await.map_err(RecordError::into_parts)
    })
    .await
}
