//! The SQS service driven end to end by real clients: the `aws-sdk-sqs` crate (the judge of the protocol) and, when
//! it is installed, the AWS CLI. Each test serves a fresh [`Sqs`] over a fresh data directory on its own port.

mod cli;
mod durability;
mod in_process;
mod messages;
mod queues;
mod template;

use aws_sdk_sqs::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
};
use local_core::{
    Identity,
    endpoint::{CallContext, Service},
};
use local_sqs::Sqs;
use local_template::{NoSecrets, Template};
use std::{net::SocketAddr, path::Path, sync::Arc};

pub const ACCOUNT: &str = "123456789012";

/// A served SQS: its handle, a client pointed at it, and its data directory (kept for the test's length).
pub struct App {
    pub sqs: Arc<Sqs>,
    pub client: Client,
    pub endpoint: String,
    pub dir: Arc<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn template(text: &str) -> Template {
    Template::parse(text, Arc::new(NoSecrets)).expect("test template parses")
}

pub async fn spawn_app() -> App {
    spawn_with(Arc::new(tempfile::tempdir().unwrap()), "Resources: {}\n").await
}

/// Serves SQS over `dir` with the template `text`, as the stack's front door would: every request to the service.
pub async fn spawn_with(dir: Arc<tempfile::TempDir>, text: &str) -> App {
    let sqs = Sqs::open(dir.path(), &template(text), Identity::default()).expect("SQS opens");
    let (endpoint, server) = serve(Arc::clone(&sqs)).await;
    App { client: client(&endpoint), sqs, endpoint, dir, server }
}

pub async fn serve(sqs: Arc<Sqs>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let sqs = Arc::clone(&sqs);
        async move {
            let ctx = CallContext {
                peer: SocketAddr::from(([127, 0, 0, 1], 1)),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            sqs.serve(request, ctx).await
        }
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), server)
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    Client::from_conf(config)
}

impl App {
    pub async fn create_queue(&self, name: &str) -> String {
        self.client.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The AWS error code of an SDK error (the query-compatible code when the service sent one).
pub fn code<E, R>(e: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    aws_sdk_sqs::error::ProvideErrorMetadata::code(e).unwrap_or("<none>").to_owned()
}
