//! What the command-line tests share: the `local` binary, the repository, and `local up` on a free port.

#![allow(dead_code, reason = "each test binary uses its own subset")]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

pub fn local() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_local"));
    c.current_dir(repo());
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts `local up --port 0` and returns the child and its address.
#[allow(clippy::zombie_processes, reason = "the caller owns the child: every test kills and waits for it")]
pub fn up(data: &Path) -> (Child, String) {
    up_with(data, &[])
}

/// [`up`] with more flags (`--async-retry-delay-seconds 1`, …).
#[allow(clippy::zombie_processes, reason = "the caller owns the child: every test kills and waits for it")]
pub fn up_with(data: &Path, flags: &[&str]) -> (Child, String) {
    let mut child = local()
        .args(["up", "--port", "0", "--data-dir"])
        .arg(data)
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("local up exited before listening: {status:?}");
        }
        if let Some(rest) = line.strip_prefix("local stack: http://") {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, addr);
        }
    }
}

/// The repository's template as a stack in this process, served on a free loopback port until dropped: for tests
/// that reach into the stack (its sources, its measurements) while clients drive it over HTTP.
pub struct InProcess {
    pub base: String,
    pub stack: std::sync::Arc<local::Stack>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

impl InProcess {
    /// The stack on a fresh data directory, with asynchronous retries 10 ms apart; `configure` changes the rest.
    pub async fn spawn(configure: impl FnOnce(&mut local::StackConfig)) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut config = local::StackConfig::new(repo().join("template.yaml"), data.path());
        config.async_retry_delay = std::time::Duration::from_millis(10);
        configure(&mut config);
        let stack = local::Stack::load(config).expect("the stack loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        stack.set_listening(listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(local::server::run(listener, stack.clone(), async {
            let _ = rx.await;
        }));
        Self { base, stack, _shutdown: tx, _data: data }
    }

    /// A token for `user` (with `user@example.com`), as the stack's identity provider issues them.
    pub fn token(&self, user: &str) -> String {
        self.stack.idp().unwrap().issue(user, Some(&format!("{user}@example.com")), time::Duration::hours(1))
    }

    /// The real S3 SDK pointed at the stack.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.base)
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "local"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The template's uploads bucket.
    pub fn bucket(&self) -> String {
        self.stack.template().physical_name("UploadsBucket").unwrap()
    }

    /// PutObject of `body` at `key` in the uploads bucket, as any S3 client would.
    pub async fn put(&self, key: &str, body: Vec<u8>) {
        self.s3().put_object().bucket(self.bucket()).key(key).body(body.into()).send().await.expect("PutObject");
    }
}

/// A PDF of the invoice parser's corpus.
pub fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("shared/invoice-pdf/tests/corpus").join(name)).unwrap()
}
