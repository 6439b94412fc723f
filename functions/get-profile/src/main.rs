//! Lambda entry point of `get-profile`: configuration and wiring only; the handler is `get_profile::handle` (the shape every
//! `main` shares is explained in `aws_adapters::lambda`).

#![recursion_limit = "256"]

use aws_adapters::lambda;
use get_profile::Profiles;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let profiles = Profiles {
        store: lambda::profiles_from_env(&config)?,
        objects: lambda::objects_from_env(&config)?,
        bucket: lambda::bucket_from_env(lambda::UPLOADS_BUCKET_ENV)?,
    };
    lambda::serve(|event| get_profile::handle(&profiles, event)).await
}
