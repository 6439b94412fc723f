//! Lambda entry point of `publish-task-events`: configuration and wiring only; the handler is
//! `publish_task_events::handle` (the shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::{EventBridgeEvents, lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let bus = lambda::event_bus_from_env()?;
    let events = EventBridgeEvents::new(&lambda::sdk_config().await);
    lambda::serve(|event| publish_task_events::handle(&events, &bus, event)).await
}
