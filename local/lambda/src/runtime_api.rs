//! A Lambda Runtime API emulator (`/2018-06-01/runtime/...`), the protocol a `bootstrap` binary speaks to Lambda.
//! It lets unchanged release binaries run here: the cold-start benchmark times exec → first `invocation/next`
//! poll against it, and events queued with [`RuntimeApi::invoke`] are handed out and answered as on Lambda.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};
use tokio::sync::{Notify, mpsc, oneshot};

/// What a function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    /// `errorType`, `errorMessage`, as the runtime client reports them.
    Error {
        error_type: String,
        error_message: String,
    },
}

struct Shared {
    queue_tx: mpsc::UnboundedSender<(String, Value)>,
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    init_error: Mutex<Option<String>>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
}

impl RuntimeApi {
    /// Serves the Runtime API on `127.0.0.1:0`; the address goes into `AWS_LAMBDA_RUNTIME_API`.
    pub async fn start() -> std::io::Result<Self> {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            waiting: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            polled: Notify::new(),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { shared, addr })
    }

    /// When the function first asked for work (its init is over), waiting for it if need be.
    pub async fn first_poll(&self) -> Instant {
        loop {
            let notified = self.shared.polled.notified();
            if let Some(t) = *self.shared.first_poll.lock().expect("not poisoned") {
                return t;
            }
            notified.await;
        }
    }

    /// The error the function reported during init, if any.
    pub fn init_error(&self) -> Option<String> {
        self.shared.init_error.lock().expect("not poisoned").clone()
    }

    /// Queues `event` and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Option<Outcome> {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().expect("not poisoned").insert(id.clone(), tx);
        self.shared.queue_tx.send((id, event)).ok()?;
        rx.await.ok()
    }
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    {
        let mut first = s.first_poll.lock().expect("not poisoned");
        if first.is_none() {
            *first = Some(Instant::now());
        }
    }
    s.polled.notify_waiters();
    // Long-poll, as Lambda does: the function stays frozen here until there is an event.
    let Some((id, event)) = s.queue_rx.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let deadline = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 + 10_000;
    for (k, v) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", local_core::Identity::default().function_arn("local").to_string()),
        ("lambda-runtime-trace-id", format!("Root=1-{:08x}-{}", deadline / 1000, &id.replace('-', "")[..24])),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
    (headers, event.to_string()).into_response()
}

fn finish(s: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match s.waiting.lock().expect("not poisoned").remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value =
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&s, &id, Outcome::Response(value))
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let outcome = Outcome::Error {
        error_type: v["errorType"].as_str().unwrap_or("Unknown").to_owned(),
        error_message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    finish(&s, &id, outcome)
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *s.init_error.lock().expect("not poisoned") = Some(String::from_utf8_lossy(&body).into_owned());
    s.polled.notify_waiters();
    StatusCode::ACCEPTED
}
