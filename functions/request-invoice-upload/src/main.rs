//! Lambda entry point of `request-invoice-upload`: configuration and wiring only; the handler is
//! `request_invoice_upload::handle` (the shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use request_invoice_upload::Uploads;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let uploads = Uploads {
        profiles: lambda::profiles_from_env(&config)?,
        objects: lambda::objects_from_env(&config)?,
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
    };
    lambda::serve(|event| request_invoice_upload::handle(&uploads, event)).await
}
