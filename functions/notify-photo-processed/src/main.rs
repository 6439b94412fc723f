//! Lambda entry point of `notify-photo-processed`: configuration and wiring only; the handler is
//! `notify_photo_processed::handle` (the shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use notify_photo_processed::{Notifier, NotifyFailed};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let notifier = Notifier {
        profiles: lambda::profiles_from_env(&config)?,
        claims: lambda::idempotency_from_env(&config)?,
        mail: lambda::mail_from_env(&config),
        sender: lambda::sender_from_env()?,
    };
    lambda::serve_fallible(|event| async {
        notify_photo_processed::handle(&notifier, event).await.map_err(NotifyFailed::into_parts)
    })
    .await
}
