//! Lambda entry point of `parse-invoice`: configuration and wiring only; the handler is `parse_invoice::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use domain::invoice::service::StepError;
use parse_invoice::{PdfParser, Reader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let reader = Reader {
        objects: lambda::objects_from_env(&config)?,
        parser: PdfParser::default(),
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
    };
    lambda::serve_fallible(|event| async { parse_invoice::handle(&reader, event).await.map_err(StepError::into_parts) })
        .await
}
