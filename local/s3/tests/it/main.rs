//! The S3 service driven by real clients: the Rust SDK for every operation, the AWS CLI where it is installed.
//! Each test starts its own service on a fresh data directory and port, as the stack's endpoint serves it.

mod cli;
mod notifications;
mod objects;
mod storage;

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
};
use axum::extract::{ConnectInfo, Request};
use local_core::{
    BoxFuture,
    endpoint::{CallContext, Service},
    invoke::{EventInvoker, FunctionError},
};
use local_s3::S3;
use local_template::{NoSecrets, Template};
use serde_json::Value;
use std::{
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex},
};

/// An invoker that records what it is asked to invoke.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<(String, Value)>>,
    pub arrived: tokio::sync::Notify,
}

impl EventInvoker for Recorder {
    fn invoke_async<'a>(&'a self, function: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>> {
        Box::pin(async move {
            self.events.lock().unwrap().push((function.to_owned(), event));
            self.arrived.notify_waiters();
            Ok("request".to_owned())
        })
    }
}

impl Recorder {
    /// Waits until `n` events arrived (or a few seconds passed), and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let events = self.events.lock().unwrap().clone();
            if events.len() >= n || tokio::time::Instant::now() > deadline {
                return events;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

pub const TEMPLATE: &str = r#"
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: uploads
  Generated:
    Type: AWS::S3::Bucket
  OnCsv:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        CsvArrived:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: in/
                  - Name: suffix
                    Value: .csv
  OnDelete:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        Removed:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: [s3:ObjectRemoved:*]
"#;

pub struct App {
    pub dir: Arc<tempfile::TempDir>,
    pub s3: Arc<S3>,
    pub addr: SocketAddr,
    pub recorder: Arc<Recorder>,
    pub client: Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub async fn spawn_app() -> App {
    spawn_in(Arc::new(tempfile::tempdir().unwrap())).await
}

/// The service over an existing data directory (to test what survives a restart).
pub async fn spawn_in(dir: Arc<tempfile::TempDir>) -> App {
    let template = Template::parse(TEMPLATE, Arc::new(NoSecrets)).unwrap();
    let recorder = Arc::new(Recorder::default());
    let s3 = S3::open(dir.path(), &template, Default::default(), Default::default(), recorder.clone()).unwrap();
    let (addr, shutdown) = serve(s3.clone()).await;
    let client = client(addr, "test", "test");
    App { dir, s3, addr, recorder, client, _shutdown: shutdown }
}

/// Serves `s3` alone on a loopback port, as the stack's endpoint would hand it its requests.
pub async fn serve(s3: Arc<S3>) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request| {
        let s3 = s3.clone();
        async move { s3.serve(req, CallContext { peer, request_id: uuid_like() }).await }
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (addr, tx)
}

fn uuid_like() -> String {
    ulid::Ulid::generate().to_string()
}

pub fn client(addr: SocketAddr, key: &str, secret: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .force_path_style(true)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// The S3 error code of a failed SDK call.
pub fn code<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(s) => s.err().code().unwrap_or("").to_owned(),
        other => format!("{other:?}"),
    }
}

/// The HTTP status of a failed SDK call.
pub fn status<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> u16 {
    e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Every file under `dir`.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
    }
    out
}
