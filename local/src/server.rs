//! The one endpoint: every emulated service and the template's HTTP API on one port, as LocalStack serves its
//! services. A request goes to the service whose `X-Amz-Target` prefix it carries, else to the service named in its
//! SigV4 credential scope, else to the HTTP API's routes; so `AWS_ENDPOINT_URL=http://127.0.0.1:3000` is all a
//! client needs. Takes a bound listener and a shutdown future (as mini-redis does), so tests start the real server
//! in-process on port 0 and stop it cleanly.
//!
//! Connections are served by hyper's HTTP/1 server under [`Limits`], because a client that connects and then sends
//! nothing, or half a request line, would otherwise hold its connection (a task and a file descriptor) for ever:
//! twenty thousand of them made the stack refuse everyone. So a request's headers must arrive within
//! [`Limits::header_read_timeout`] (hyper's timer, which also bounds the wait for the next request on a kept-alive
//! connection), a connection with no request in flight on which no byte moves either way for
//! [`Limits::idle_timeout`] is closed (a client that stopped reading its response), and at most
//! [`Limits::max_connections`] are served at once: over that, a new connection gets a `503` and is closed, and the
//! log says the limit was reached. A request body is read under the idle limit too ([`StallGuard`]): a client that
//! sends its headers and part of a body and then nothing more gets its body read failed after
//! [`Limits::idle_timeout`] without a byte, so the handler answers (a 4xx) and the connection is freed, where it
//! would otherwise wait for the rest for ever.

use crate::stack::Stack;
use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    response::Response,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use local_core::{
    Credentials,
    endpoint::{self, CallContext, Service, Signatures},
    protocol::{AwsError, json},
    sigv4::{self, SigV4Error},
};
use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};

/// What the endpoint allows a connection (see the module docs). `local up` sets each with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's headers, counted from when the server starts waiting for
    /// them (a new connection, or the end of the previous response on a kept-alive one).
    pub header_read_timeout: Duration,
    /// How long a connection with no request in flight may move no byte before it is closed.
    pub idle_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
}

impl Limits {
    /// hyper's own default: ample for any client on the same machine, short enough to shed a slow one.
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
    /// Far above what a test suite or a load test opens (`wrk -c32`), far below the file descriptors a process
    /// usually may open (the stack needs some for its own files).
    pub const MAX_CONNECTIONS: usize = 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::HEADER_READ_TIMEOUT,
            idle_timeout: Self::IDLE_TIMEOUT,
            max_connections: Self::MAX_CONNECTIONS,
        }
    }
}

/// Serves `stack` on `listener` under the default [`Limits`] until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    stack: Arc<Stack>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    run_with_limits(listener, stack, Limits::default(), shutdown).await
}

/// Serves `stack` on `listener` until `shutdown` completes, then stops accepting, lets every connection finish
/// the request it is serving, and returns once all are closed.
pub async fn run_with_limits(
    listener: TcpListener,
    stack: Arc<Stack>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        stack.set_listening(addr);
    }
    // The console's pages, built once: they hold the stack (through the console's source) as long as the server.
    let console = crate::console::Console::new(stack.clone());
    let app = axum::Router::new().fallback(serve).with_state(Front { stack, console });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping, stop) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    // Connections refused since the limit was last reached: `Some` while at the limit.
    let mut refused: Option<u64> = None;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before it was accepted, …: the listener itself is
                    // fine, so the endpoint carries on (after a pause, so a lasting condition does not spin).
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if refused.is_none() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached: new connections are refused (503) until one closes; \
                     raise it with `local up --max-connections`"
                );
            }
            *refused.get_or_insert(0) += 1;
            refuse(stream);
            continue;
        };
        if let Some(count) = refused.take() {
            tracing::info!(refused = count, "below the connection limit again: accepting connections");
        }
        let app = app.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, stop).await;
            drop(permit);
        });
    }
    let _ = stopping.send(true);
    // Every permit back means every connection has closed.
    let _ = slots.acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX)).await;
    Ok(())
}

/// Answers a connection over the limit with a `503` if its socket takes it at once, and closes it: the client is
/// told why rather than left waiting.
fn refuse(stream: TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    let _ = stream.try_write(BUSY);
}

/// Serves one connection until the client closes it, a limit closes it, or the endpoint stops (after the request
/// in flight).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
    let busy = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(|body| Body::new(StallGuard::new(body, limits.idle_timeout)));
        // What handlers read with `ConnectInfo<SocketAddr>`, as axum's own `serve` provides it.
        req.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::new(&busy);
        let mut app = app.clone();
        async move {
            let response = tower_service::Service::call(&mut app, req).await;
            drop(in_flight);
            response
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = http.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut draining = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection closed");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = activity.idle_for(limits.idle_timeout) => {
                tracing::debug!(%peer, "closing a connection idle for {:?}", limits.idle_timeout);
                return;
            }
        }
    }
}

/// A request body that fails, instead of waiting for ever, when no part of it arrives for `limit`.
///
/// Written here because the crates that have one (tower-http's `RequestBodyTimeout`) bound the whole body, which
/// would cut off a large upload that is simply slow; this one only fires on silence between frames.
struct StallGuard<B> {
    inner: B,
    limit: Duration,
    /// Armed while a frame is awaited; reset when one arrives.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> StallGuard<B> {
    fn new(inner: B, limit: Duration) -> Self {
        Self { inner, limit, timer: None }
    }
}

/// The error a stalled body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the client sent no part of the request body for {0:?}")]
struct BodyStalled(Duration);

impl<B> http_body::Body for StallGuard<B>
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let limit = this.limit;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyStalled(limit))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// When a connection last moved a byte, and how many of its requests are in flight.
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last read or write.
    last: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self { start: Instant::now(), last: AtomicU64::new(0), busy: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Completes once no byte has moved for `limit` while no request was in flight.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = self.last.load(Ordering::Relaxed);
            tokio::time::sleep_until((self.start + Duration::from_millis(last) + limit).into()).await;
            if self.busy.load(Ordering::Relaxed) == 0 && self.last.load(Ordering::Relaxed) == last {
                return;
            }
            if self.busy.load(Ordering::Relaxed) > 0 {
                // A request in flight is the handler's to finish, however long it takes: count from now.
                self.touch();
            }
        }
    }
}

/// A request in flight on a connection, for as long as this lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A socket that records in its [`Activity`] each time bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The service a request is for: by `X-Amz-Target`, else by the SigV4 credential scope; `None` for the HTTP API.
pub fn service_for<'a>(services: &'a [Arc<dyn Service>], request: &Request) -> Option<&'a Arc<dyn Service>> {
    if let Some(target) = endpoint::target(request.headers()) {
        return services.iter().find(|s| s.target_prefixes().iter().any(|p| target.starts_with(p)));
    }
    let scope = endpoint::signing_service(request.headers(), request.uri().query())?;
    services.iter().find(|s| s.signing_names().contains(&scope.as_str()))
}

/// What the front door hands every request to: the stack's services and HTTP API, and the console.
#[derive(Clone)]
struct Front {
    stack: Arc<Stack>,
    console: crate::console::Console,
}

async fn serve(State(front): State<Front>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let started = Instant::now();
    let stack = front.stack;
    let ctx = CallContext { peer, request_id: uuid::Uuid::new_v4().to_string() };
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    // The console's pages (loopback only; it checks), before the AWS services and the HTTP API.
    let (service, response) = if crate::console::Console::claims(&path) {
        ("console", front.console.serve(peer, req).await)
    } else {
        match service_for(stack.services(), &req) {
            // The AWS services answer whoever holds the (well-known, by default) credentials; a web page that DNS
            // rebinding put on this machine's address could sign with them too. Its Host is its own domain, though.
            Some(service)
                if !endpoint::request_host(req.uri(), req.headers()).is_some_and(endpoint::is_rebinding_safe_host) =>
            {
                (
                    service.name(),
                    refusal(service.name(), &FrontDoorError::ForeignHost { s3: service.name() == "s3" }, &ctx),
                )
            }
            Some(service) => match authenticate(service.signatures(), stack.credentials(), req).await {
                Ok(req) => (service.name(), service.serve(req, ctx.clone()).await),
                Err(e) => (service.name(), refusal(service.name(), &e, &ctx)),
            },
            None => match endpoint::target(req.headers()) {
                Some(target) => {
                    let e = FrontDoorError::UnknownTarget(target.chars().take(128).collect());
                    ("unknown", refusal("unknown", &e, &ctx))
                }
                None => ("http-api", stack.http_api().serve(req, &ctx).await),
            },
        }
    };
    tracing::info!(
        requestId = %ctx.request_id,
        service,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}

/// The most the front door reads of a body it must hash to check a signature (SES v2 raw messages are at most
/// 40 MB, base64 in JSON).
const MAX_SIGNED_BODY: usize = 64 * 1024 * 1024;

/// Why the front door refused a request before any service saw it.
#[derive(Debug, thiserror::Error)]
enum FrontDoorError {
    #[error(transparent)]
    Signature(#[from] SigV4Error),
    #[error("the request body is over {MAX_SIGNED_BODY} bytes")]
    TooLarge,
    /// Addressed to a name DNS rebinding could have pointed here; `s3` for S3, which names the denial differently.
    #[error("the local stack's AWS services answer requests addressed to an IP address, localhost or *.localhost only")]
    ForeignHost { s3: bool },
    /// A target no service of the stack answers: an AWS JSON error naming it, never the HTTP API's 404.
    #[error("the local stack has no service for X-Amz-Target `{0}`")]
    UnknownTarget(String),
}

impl AwsError for FrontDoorError {
    fn code(&self) -> &str {
        match self {
            Self::Signature(e) => e.code(),
            Self::TooLarge => "RequestEntityTooLarge",
            Self::ForeignHost { s3: true } => "AccessDenied",
            Self::ForeignHost { s3: false } => "AccessDeniedException",
            Self::UnknownTarget(_) => "UnknownOperationException",
        }
    }

    fn status(&self) -> http::StatusCode {
        match self {
            Self::Signature(e) => e.status(),
            Self::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::ForeignHost { .. } => http::StatusCode::FORBIDDEN,
            Self::UnknownTarget(_) => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// The front door's refusal in the service's own protocol: S3 speaks XML, the others AWS JSON.
fn refusal(service: &str, e: &FrontDoorError, ctx: &CallContext) -> Response {
    if service == "s3" {
        local_core::protocol::xml::error(e, None, &ctx.request_id)
    } else {
        json::error(json::JSON_1_0, None, e, &ctx.request_id)
    }
}

/// Checks a request's SigV4 signature as the service's policy asks, handing the request on unchanged (its body
/// read into memory when it had to be hashed).
async fn authenticate(policy: Signatures, credentials: &Credentials, req: Request) -> Result<Request, FrontDoorError> {
    let signed = req.headers().contains_key(http::header::AUTHORIZATION);
    match policy {
        Signatures::ByService => return Ok(req),
        Signatures::IfPresent if !signed => return Ok(req),
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_SIGNED_BODY).await.map_err(|_| FrontDoorError::TooLarge)?;
    sigv4::verify(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &body,
        credentials,
        std::time::SystemTime::now(),
    )?;
    Ok(Request::from_parts(parts, Body::from(body)))
}
