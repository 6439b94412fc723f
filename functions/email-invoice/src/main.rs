//! Lambda entry point of `email-invoice`: configuration and wiring only; the handler is `email_invoice::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use domain::invoice::service::StepError;
use email_invoice::Emailer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let emailer = Emailer {
        objects: lambda::objects_from_env(&config)?,
        mail: lambda::mail_from_env(&config),
        profiles: lambda::profiles_from_env(&config)?,
        claims: lambda::idempotency_from_env(&config)?,
        sender: lambda::sender_from_env()?,
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
    };
    lambda::serve_fallible(|event| async {
        email_invoice::handle(&emailer, event).await.map_err(StepError::into_parts)
    })
    .await
}
