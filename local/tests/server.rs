//! The endpoint's connection limits, against the real stack served in-process on port 0 with short limits: a
//! client that never finishes its headers is cut off, a connection with nothing in flight that moves no byte is
//! closed, and connections over the cap get a 503 and a log line while the others are served on.

use local::{Stack, StackConfig, server::Limits};
use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
};

/// What the endpoint logged, for the test to read.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Endpoint {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stack: Arc<Stack>,
    _data: tempfile::TempDir,
}

impl Endpoint {
    async fn start(limits: Limits) -> Self {
        let data = tempfile::tempdir().unwrap();
        let stack = Stack::load(StackConfig::new(StackConfig::default_template(), data.path())).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(local::server::run_with_limits(listener, stack.clone(), limits, async {
            let _ = stopped.await;
        }));
        Self { addr, stop: Some(stop), server, stack, _data: data }
    }

    /// One unauthenticated `GET /tasks` on a new connection: the HTTP status line the endpoint answers with.
    async fn get(&self) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(b"GET /tasks HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.server).await.expect("stops").unwrap().unwrap();
    }
}

/// How long until the server closes `stream` (reading whatever it sends first), at most `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut sink)).await.ok().map(|_| started.elapsed())
}

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_connection_that_sends_half_a_request_line_is_closed_after_the_header_timeout() {
    let limits = Limits { header_read_timeout: Duration::from_millis(300), idle_timeout: LONG, max_connections: 16 };
    let endpoint = Endpoint::start(limits).await;
    let mut slow = TcpStream::connect(endpoint.addr).await.unwrap();
    slow.write_all(b"GET /tas").await.unwrap();
    let closed = closed_within(&mut slow, Duration::from_secs(5)).await.expect("closed by the server");
    assert!(closed >= Duration::from_millis(250), "not before the timeout: {closed:?}");
    assert!(endpoint.get().await.starts_with("HTTP/1.1 401"), "others are served");
    endpoint.stop().await;
}

#[tokio::test]
async fn a_connection_on_which_no_byte_moves_is_closed_once_idle() {
    let limits = Limits { header_read_timeout: LONG, idle_timeout: Duration::from_millis(300), max_connections: 16 };
    let endpoint = Endpoint::start(limits).await;
    let mut quiet = TcpStream::connect(endpoint.addr).await.unwrap();
    let closed = closed_within(&mut quiet, Duration::from_secs(5)).await.expect("closed by the server");
    assert!(closed >= Duration::from_millis(250), "not before the timeout: {closed:?}");
    endpoint.stop().await;
}

#[tokio::test]
async fn over_the_connection_cap_a_new_connection_gets_a_503_and_the_log_says_so_until_a_slot_frees() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    // A current-thread runtime: the endpoint's tasks log on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let limits = Limits { header_read_timeout: LONG, idle_timeout: LONG, max_connections: 2 };
    let endpoint = Endpoint::start(limits).await;
    let first = TcpStream::connect(endpoint.addr).await.unwrap();
    let _second = TcpStream::connect(endpoint.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // both accepted

    assert_eq!(endpoint.get().await, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(endpoint.get().await, "HTTP/1.1 503 Service Unavailable");
    let text = log.text();
    assert_eq!(text.matches("connection limit reached").count(), 1, "said once, not per connection: {text}");
    assert!(text.contains("max_connections=2"), "{text}");

    drop(first);
    let mut status = String::new();
    for _ in 0..50 {
        status = endpoint.get().await;
        if !status.contains("503") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(status.starts_with("HTTP/1.1 401"), "served again once a slot frees: {status}");
    assert!(log.text().contains("below the connection limit again"), "{}", log.text());
    drop(_second);
    endpoint.stop().await;
}

#[tokio::test]
async fn a_request_whose_body_stalls_is_answered_and_its_connection_freed_after_the_idle_limit() {
    let limits = Limits { header_read_timeout: LONG, idle_timeout: Duration::from_millis(300), max_connections: 16 };
    let endpoint = Endpoint::start(limits).await;
    let mut stalled = TcpStream::connect(endpoint.addr).await.unwrap();
    // An authenticated request whose headers promise 100 bytes of body; 10 come, then nothing.
    let token = endpoint.stack.idp().unwrap().issue("ada", None, time::Duration::hours(1));
    let head = format!(
        "POST /tasks HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"title\":"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection is closed, not held for ever");
    assert!(started.elapsed() >= Duration::from_millis(250), "not before the limit: {:?}", started.elapsed());
    let status = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
    assert!(status.is_empty() || status.contains(" 4"), "a 4xx or a plain close, never a 5xx: {status}");
    assert!(endpoint.get().await.starts_with("HTTP/1.1 401"), "others are served");
    endpoint.stop().await;
}
