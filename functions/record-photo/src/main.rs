//! Lambda entry point of `record-photo`: configuration and wiring only; the handler is `record_photo::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::{EventBridgeEvents, lambda};
use domain::photo::service::Recorder;
use record_photo::RecordFailed;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let recorder = Recorder {
        photos: lambda::profiles_from_env(&config)?,
        objects: lambda::objects_from_env(&config)?,
        events: EventBridgeEvents::new(&config),
        bus: lambda::event_bus_from_env()?,
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
        specs: lambda::renditions_from_env()?,
    };
    lambda::serve_fallible(|event| async {
        record_photo::handle(&recorder, event).await.map_err(RecordFailed::into_parts)
    })
    .await
}
