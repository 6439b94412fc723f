//! A `moto_server` to test against (cargo feature `moto`): a local emulator of the DynamoDB, S3, SQS and SES
//! protocols, so the adapters' requests, conditions and error shapes are exercised for real without an AWS account.
//! [`MotoServer::client`] is a DynamoDB client; [`MotoServer::sdk_config`] configures any other SDK client.
//!
//! ```no_run
//! # async fn demo() {
//! use aws_adapters::testing::{MotoServer, create_tables};
//! let moto = MotoServer::shared(); // one server per test binary, started on first use
//! let client = moto.client(); // one client per test: a client must not outlive the runtime that used it
//! let (tasks, users) = create_tables(&client).await;
//! let store = aws_adapters::dynamo::store(client, tasks, users);
//! # }
//! ```
//!
//! The server is a child process on a free loopback port. It is stopped when the [`MotoServer`] is dropped and,
//! for the shared one (statics are never dropped), when the test process exits: the child watches its stdin,
//! a pipe only this process holds, and kills the server when the pipe closes, however this process ends.

use crate::dynamo::schema::*;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    PutRequest, ScalarAttributeType, WriteRequest,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the table helpers fail with: the SDK's error or a request that could not be built, cause chain intact.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

const PROGRAM: &str = "moto_server";
const START_ATTEMPTS: usize = 5;
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("`{PROGRAM}` is not on PATH; install it with: pip install 'moto[server]'")]
    NotInstalled,
    #[error("could not start `{PROGRAM}`")]
    Spawn(#[source] std::io::Error),
    #[error("`{PROGRAM}` did not answer on {addr} within {timeout:?} (its log: {log})")]
    NoAnswer { addr: SocketAddr, timeout: Duration, log: String },
    #[error("`{PROGRAM}` exited before answering, {attempts} times (last log: {log})")]
    Exited { attempts: usize, log: String },
}

/// A running `moto_server`, killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    endpoint: String,
}

impl MotoServer {
    /// Starts a server on a free loopback port and waits until it answers HTTP. Another process can take the
    /// port between the probe and the server's bind; then the server exits and another port is tried.
    pub fn start() -> Result<Self, MotoError> {
        let program = find_on_path(PROGRAM).ok_or(MotoError::NotInstalled)?;
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(MotoError::Spawn)?.port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = std::env::temp_dir().join(format!("moto_server-{port}.log"));
            let log_file = std::fs::File::create(&log).map_err(MotoError::Spawn)?;
            // `sh` runs the server and a watcher that kills it when stdin (our pipe) closes. The watcher reads a
            // dup of stdin (fd 3) because the shell gives background jobs /dev/null as stdin. SIGKILL: moto keeps
            // nothing worth flushing, and on SIGTERM it waits seconds for its request threads.
            let script = r#"exec 3<&0
"$0" -H 127.0.0.1 -p "$1" &
server=$!
( read -r _ <&3; kill -KILL "$server" 2>/dev/null ) &
wait "$server""#;
            let child = Command::new("sh")
                .args(["-c", script])
                .arg(&program)
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                // Werkzeug logs every request; a file, not a pipe nobody reads (which would fill and block it).
                .stderr(log_file)
                .spawn()
                .map_err(MotoError::Spawn)?;
            let mut server = MotoServer { child, endpoint: format!("http://{addr}") };
            match server.wait_until_answering(addr) {
                Ok(()) => {
                    // Only a failed start needs the log; the server keeps writing to the unlinked file, which
                    // the system frees when it exits.
                    let _ = std::fs::remove_file(&log);
                    return Ok(server);
                }
                Err(Exited) => last_log = read_log(&log),
                Err(TimedOut) => {
                    return Err(MotoError::NoAnswer { addr, timeout: START_TIMEOUT, log: log.display().to_string() });
                }
            }
        }
        Err(MotoError::Exited { attempts: START_ATTEMPTS, log: last_log })
    }

    /// The server shared by every test of this test binary, started on first use. Panics (it is for tests)
    /// with the reason when it cannot start.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(|| MotoServer::start().unwrap_or_else(|e| panic!("{}", error_chain(&e))))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A DynamoDB client for this server: region us-east-1, static test credentials. Make one per tokio
    /// runtime (per `#[tokio::test]`): its connection pool belongs to the runtime that first uses it.
    pub fn client(&self) -> Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .build();
        Client::from_conf(config)
    }

    /// The SDK configuration for this server (region us-east-1, static test credentials, its endpoint), to build
    /// any service's client from: `S3Objects::new(&moto.sdk_config(), S3Addressing::PathStyle)`. As with
    /// [`MotoServer::client`], one client per tokio runtime.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "moto",
            )))
            .endpoint_url(&self.endpoint)
            .build()
    }

    fn wait_until_answering(&mut self, addr: SocketAddr) -> Result<(), WaitFailed> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(Exited);
            }
            if answers_http(addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(TimedOut)
    }
}

enum WaitFailed {
    Exited,
    TimedOut,
}
use WaitFailed::*;

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing the pipe makes the watcher kill the server; `sh` then returns from `wait`.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Creates a tasks table and a users table with fresh names and the schema of `template.yaml`, and returns
/// their names. Panics (it is for tests) when moto refuses.
pub async fn create_tables(client: &Client) -> (String, String) {
    let suffix = format!("{:016x}", rand_u64());
    let (tasks, users) = (format!("Tasks-{suffix}"), format!("Users-{suffix}"));
    create_tasks_table(client, &tasks).await.unwrap_or_else(|e| panic!("creating {tasks}: {}", error_chain(&*e)));
    create_users_table(client, &users).await.unwrap_or_else(|e| panic!("creating {users}: {}", error_chain(&*e)));
    (tasks, users)
}

/// The tasks table: `owner` (S, HASH), `id` (S, RANGE), index `ByStatus` on `owner_status` + `id`, projection
/// ALL, on-demand billing.
pub async fn create_tasks_table(client: &Client, name: &str) -> Result<(), BoxError> {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(TASK_OWNER)?)
        .attribute_definitions(string_attribute(TASK_ID)?)
        .attribute_definitions(string_attribute(TASK_OWNER_STATUS)?)
        .key_schema(key(TASK_OWNER, KeyType::Hash)?)
        .key_schema(key(TASK_ID, KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(BY_STATUS_INDEX)
                .key_schema(key(TASK_OWNER_STATUS, KeyType::Hash)?)
                .key_schema(key(TASK_ID, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// The users table: `user_id` (S, HASH), on-demand billing.
pub async fn create_users_table(client: &Client, name: &str) -> Result<(), BoxError> {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(USER_ID)?)
        .key_schema(key(USER_ID, KeyType::Hash)?)
        .send()
        .await?;
    Ok(())
}

/// Creates an activity table and an idempotency table with fresh names and the schema `template.yaml` declares,
/// and returns their names. Panics (it is for tests) when moto refuses.
pub async fn create_activity_tables(client: &Client) -> (String, String) {
    let suffix = format!("{:016x}", rand_u64());
    let (activity, claims) = (format!("Activity-{suffix}"), format!("Idempotency-{suffix}"));
    create_activity_table(client, &activity)
        .await
        .unwrap_or_else(|e| panic!("creating {activity}: {}", error_chain(&*e)));
    create_idempotency_table(client, &claims)
        .await
        .unwrap_or_else(|e| panic!("creating {claims}: {}", error_chain(&*e)));
    (activity, claims)
}

/// The activity table: `owner_task` (S, HASH), `seq` (S, RANGE), on-demand billing.
pub async fn create_activity_table(client: &Client, name: &str) -> Result<(), BoxError> {
    use crate::dynamo::activity::{ACTIVITY_OWNER_TASK, ACTIVITY_SEQ};
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(ACTIVITY_OWNER_TASK)?)
        .attribute_definitions(string_attribute(ACTIVITY_SEQ)?)
        .key_schema(key(ACTIVITY_OWNER_TASK, KeyType::Hash)?)
        .key_schema(key(ACTIVITY_SEQ, KeyType::Range)?)
        .send()
        .await?;
    Ok(())
}

/// The idempotency table: `id` (S, HASH), on-demand billing, TTL on `expires_at`.
pub async fn create_idempotency_table(client: &Client, name: &str) -> Result<(), BoxError> {
    use crate::dynamo::idempotency::{IDEMPOTENCY_EXPIRES_AT, IDEMPOTENCY_ID};
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(IDEMPOTENCY_ID)?)
        .key_schema(key(IDEMPOTENCY_ID, KeyType::Hash)?)
        .send()
        .await?;
    let ttl = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(IDEMPOTENCY_EXPIRES_AT)
        .build()?;
    client.update_time_to_live().table_name(name).time_to_live_specification(ttl).send().await?;
    Ok(())
}

/// Creates an invoices table with a fresh name and the schema `template.yaml` declares, and returns its name.
/// Panics (it is for tests) when moto refuses.
pub async fn new_invoices_table(client: &Client) -> String {
    let name = format!("Invoices-{:016x}", rand_u64());
    create_invoices_table(client, &name).await.unwrap_or_else(|e| panic!("creating {name}: {}", error_chain(&*e)));
    name
}

/// The invoices table: `owner` (S, HASH), `id` (S, RANGE), index `ByStatus` on `owner_status` + `id`, projection
/// ALL, on-demand billing. Number claims live in the same table (see `dynamo::invoices`).
pub async fn create_invoices_table(client: &Client, name: &str) -> Result<(), BoxError> {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(INVOICE_OWNER)?)
        .attribute_definitions(string_attribute(INVOICE_ID)?)
        .attribute_definitions(string_attribute(INVOICE_OWNER_STATUS)?)
        .key_schema(key(INVOICE_OWNER, KeyType::Hash)?)
        .key_schema(key(INVOICE_ID, KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(BY_STATUS_INDEX)
                .key_schema(key(INVOICE_OWNER_STATUS, KeyType::Hash)?)
                .key_schema(key(INVOICE_ID, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, BuildError> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build()
}

/// Writes `tasks` with BatchWriteItem, 25 items a request (DynamoDB's maximum), resending whatever comes back
/// unprocessed. Sequential; run several calls on disjoint slices to load in parallel.
pub async fn batch_put_tasks(client: &Client, table: &str, tasks: &[domain::Task]) -> Result<(), BoxError> {
    for chunk in tasks.chunks(25) {
        let mut requests = chunk
            .iter()
            .map(|task| {
                let put = PutRequest::builder().set_item(Some(crate::dynamo::task_item(task)?)).build()?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, BoxError>>()?;
        let mut rounds = 0;
        while !requests.is_empty() {
            rounds += 1;
            if rounds > 20 {
                return Err(format!("{} items still unprocessed after {rounds} rounds", requests.len()).into());
            }
            let out = client.batch_write_item().request_items(table, requests).send().await?;
            requests = out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
        }
    }
    Ok(())
}

/// An error and its causes on one line (the domain's [`domain::error::chain`], kept under this name for tests).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    domain::error::chain(err)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// Any HTTP response at all means the server is up (moto answers `/` with 200, older versions with 404).
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

fn read_log(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<_> = text.lines().rev().take(5).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// Table-name randomness without another dependency: std's per-process random hasher keys, plus the clock.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}
