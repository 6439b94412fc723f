//! Helpers shared by the whole-system tests: [`spawn_app`] starts the real local stack in-process, on port 0, over
//! a fresh data directory, and hands back a client and tokens for any user.

use local::{Stack, StackConfig, auth::LocalIdp};
use serde_json::Value;
use std::{path::PathBuf, sync::Arc};
use tokio::sync::oneshot;

/// The repository root (where `template.yaml`, `events/` and `functions/` are).
/// A `width` × `height` JPEG of a smooth gradient (quality 90): a photo to upload.
pub fn gradient_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..height {
        for x in 0..width {
            let (x, y) = (u32::from(x), u32::from(y));
            pixels.extend_from_slice(&[(x * 255 / u32::from(width)) as u8, (y * 255 / u32::from(height)) as u8, 128]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("a gradient encodes");
    out
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub stack: Arc<Stack>,
    pub data_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("a temp dir")).await
}

/// Starts the stack over an existing data directory (to test what survives a restart).
pub async fn spawn_app_in(data_dir: tempfile::TempDir) -> TestApp {
    let config = StackConfig::new(repo_root().join("template.yaml"), data_dir.path());
    spawn_stack(config, data_dir).await
}

/// Starts a stack as `config` says (another template, handlers of the test's own, short retry delays) over
/// `data_dir`, which must be `config.data_dir`.
pub async fn spawn_stack(config: StackConfig, data_dir: tempfile::TempDir) -> TestApp {
    assert_eq!(config.data_dir, data_dir.path());
    let stack = Stack::load(config).expect("the stack loads from its template");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Known before the first request, so a presigned URL made at once points here.
    stack.set_listening(listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(local::server::run(listener, stack.clone(), async {
        let _ = rx.await;
    }));
    TestApp { base, client: reqwest::Client::new(), stack, data_dir, shutdown: Some(tx), server: Some(server) }
}

impl TestApp {
    fn idp(&self) -> &LocalIdp {
        self.stack.idp().expect("the template declares a JWT authorizer")
    }

    /// A bearer token for `user`, as `local token` prints it.
    pub fn token(&self, user: &str) -> String {
        self.idp().issue(user, Some(&format!("{user}@example.com")), time::Duration::hours(1))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: reqwest::Method, path: &str, user: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(self.token(user))
    }

    /// `POST /tasks` as `user`; panics unless it is a 201. Returns the task.
    pub async fn create_task(&self, user: &str, body: Value) -> Value {
        let r = self.request(reqwest::Method::POST, "/tasks", user).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201, "creating {body}: {}", r.text().await.unwrap_or_default());
        r.json().await.unwrap()
    }

    /// Every task `user` can reach by following `next` from `query`.
    pub async fn list_all(&self, user: &str, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut url = format!("/tasks?{query}");
            if let Some(n) = &next {
                url.push_str("&next=");
                url.push_str(n);
            }
            let r = self.request(reqwest::Method::GET, &url, user).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let page: Value = r.json().await.unwrap();
            all.extend(page["tasks"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(n) => next = Some(n.to_owned()),
                None => return all,
            }
        }
    }

    /// Stops the server and returns the data directory, so a new stack can be started over it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data_dir, dir)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The configuration of AWS SDK crate `$sdk` (`aws_sdk_s3`, `aws_sdk_sqs`, …) for `$app`'s endpoint, region
/// us-east-1, signing as `test` with `$secret` (`"test"` is the stack's; anything else must be refused). A macro
/// because each SDK crate has its own `Config` type.
#[macro_export]
macro_rules! sdk_config {
    ($sdk:ident, $app:expr, $secret:expr) => {
        $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .endpoint_url(&$app.base)
            .credentials_provider($sdk::config::Credentials::new("test", $secret, None, None, "local"))
            .build()
    };
}
