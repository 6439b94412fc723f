//! Lambda entry point of `resize-photo`: configuration and wiring only; the handler is `resize_photo::handle` (the
//! shape every `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use domain::photo::service::Resizer;
use resize_photo::{PhotoRenderer, ResizeFailed};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let resizer = Resizer {
        photos: lambda::profiles_from_env(&config)?,
        objects: lambda::objects_from_env(&config)?,
        render: PhotoRenderer::default(),
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
        specs: lambda::renditions_from_env()?,
    };
    lambda::serve_fallible(|event| async {
        resize_photo::handle(&resizer, event).await.map_err(ResizeFailed::into_parts)
    })
    .await
}
