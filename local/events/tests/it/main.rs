//! The EventBridge service driven end to end by the real `aws-sdk-eventbridge` client (the judge of the protocol),
//! over a small stack of real services: the local SQS (queue targets, dead-letter queues, read back with
//! `aws-sdk-sqs`), Lambda's asynchronous invocation (`local-lambda`'s `AsyncInvoker`, over recording handlers) and
//! Step Functions' executions (`local-sfn`). Each test gets a fresh data directory and its own ports.

mod delivery;
mod events;
mod recovery;
mod rules;

use aws_sdk_eventbridge::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
};
use local_core::{
    BoxFuture, Identity,
    endpoint::{CallContext, Service},
    invoke::{MessageSender, SendError},
};
use local_events::{EventBridge, Targets};
use local_lambda::{AsyncInvoker, Function, FunctionDecl, FunctionError, Handler, Lambda};
use local_sfn::{Executions, Machine, StateMachineDecl};
use local_sqs::Sqs;
use local_template::{NoSecrets, Template};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    future::Future,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

pub const ACCOUNT: &str = "123456789012";
/// The first back-off of a failed delivery in these tests (each next one doubles it).
pub const RETRY_DELAY: Duration = Duration::from_millis(10);

pub fn template(text: &str) -> Template {
    Template::parse(text, Arc::new(NoSecrets)).expect("test template parses")
}

/// A function handler that keeps every event it is given.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<(String, Value)>>);

struct Recording {
    function: String,
    recorder: Arc<Recorder>,
}

impl Handler for Recording {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            self.recorder.0.lock().unwrap().push((self.function.clone(), event));
            Ok(Value::Null)
        })
    }
}

/// SQS as targets see it, with a switch that makes sends to one queue fail as a throttled service would
/// (retryable), counting the attempts.
pub struct Flaky {
    pub sqs: Arc<Sqs>,
    pub failing_queue: String,
    pub failing: AtomicBool,
    pub attempts: AtomicU32,
}

impl MessageSender for Flaky {
    fn send_message<'a>(
        &'a self,
        queue: &'a str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            if queue == self.failing_queue {
                self.attempts.fetch_add(1, Ordering::SeqCst);
                if self.failing.load(Ordering::SeqCst) {
                    return Err(SendError { code: "ServiceUnavailable".into(), message: "try again later".into() });
                }
            }
            self.sqs.send_message(queue, body, attributes).await
        })
    }
}

/// The services under test, over one data directory.
pub struct App {
    pub events: Arc<EventBridge>,
    pub client: Client,
    pub sqs: Arc<Sqs>,
    pub sqs_client: aws_sdk_sqs::Client,
    pub sqs_endpoint: String,
    pub executions: Arc<Executions>,
    pub recorder: Arc<Recorder>,
    pub flaky: Arc<Flaky>,
    pub dir: Arc<tempfile::TempDir>,
    // Kept alive for the test: the invoker holds the functions weakly.
    _lambda: Arc<Lambda>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// The services over a fresh data directory.
pub async fn spawn(text: &str) -> App {
    spawn_in(Arc::new(tempfile::tempdir().unwrap()), text, "").await
}

/// The services over `dir` with the template `text`; sends to the queue named `failing_queue` fail until
/// `app.flaky.failing` is cleared.
pub async fn spawn_in(dir: Arc<tempfile::TempDir>, text: &str, failing_queue: &str) -> App {
    try_spawn_in(dir, text, failing_queue).await.expect("EventBridge opens")
}

pub async fn try_spawn_in(
    dir: Arc<tempfile::TempDir>,
    text: &str,
    failing_queue: &str,
) -> Result<App, local_events::EventsError> {
    let identity = Identity::default();
    let template = template(text);
    let sqs = Sqs::open(dir.path(), &template, identity.clone()).expect("SQS opens");
    let recorder = Arc::new(Recorder::default());
    let functions = template.of_type(&["AWS::Serverless::Function"]).map(|r| Function {
        decl: FunctionDecl { logical_id: r.id.to_owned(), binary: "recorder".into(), ..Default::default() },
        handler_name: "recorder",
        handler: Arc::new(Recording { function: r.id.to_owned(), recorder: Arc::clone(&recorder) }),
    });
    let lambda = Arc::new(Lambda::new(identity.clone(), functions.collect::<Vec<_>>()));
    let invoker = AsyncInvoker::open(dir.path(), Arc::downgrade(&lambda), sqs.clone(), RETRY_DELAY).unwrap();
    let machines =
        StateMachineDecl::read_all(&template).unwrap().iter().map(|d| Machine::load(d, &identity).unwrap()).collect();
    let executions = Executions::new(dir.path(), identity.clone(), machines, lambda.clone());
    let flaky = Arc::new(Flaky {
        sqs: Arc::clone(&sqs),
        failing_queue: if failing_queue.is_empty() {
            String::new()
        } else {
            identity.queue_arn(failing_queue).to_string()
        },
        failing: AtomicBool::new(true),
        attempts: AtomicU32::new(0),
    });
    let targets = Targets { functions: invoker, state_machines: executions.clone(), queues: flaky.clone() };
    let events = EventBridge::open(dir.path(), &template, identity, targets, RETRY_DELAY)?;
    let (endpoint, events_server) = serve(events.clone()).await;
    let (sqs_endpoint, sqs_server) = serve(sqs.clone()).await;
    Ok(App {
        client: client(&endpoint),
        sqs_client: sqs_client(&sqs_endpoint),
        events,
        sqs,
        sqs_endpoint,
        executions,
        recorder,
        flaky,
        dir,
        _lambda: lambda,
        servers: vec![events_server, sqs_server],
    })
}

/// Serves one service on its own port, as the stack's front door would hand it its requests.
pub async fn serve<S: Service>(service: Arc<S>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let service = Arc::clone(&service);
        async move {
            let ctx = CallContext {
                peer: SocketAddr::from(([127, 0, 0, 1], 1)),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            service.serve(request, ctx).await
        }
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), server)
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    Client::from_conf(config)
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The AWS error code of an SDK error.
pub fn code<E, R>(e: &aws_sdk_eventbridge::error::SdkError<E, R>) -> String
where
    E: aws_sdk_eventbridge::error::ProvideErrorMetadata,
{
    aws_sdk_eventbridge::error::ProvideErrorMetadata::code(e).unwrap_or("<none>").to_owned()
}

/// The AWS error message of an SDK error.
pub fn message<E, R>(e: &aws_sdk_eventbridge::error::SdkError<E, R>) -> String
where
    E: aws_sdk_eventbridge::error::ProvideErrorMetadata,
{
    aws_sdk_eventbridge::error::ProvideErrorMetadata::message(e).unwrap_or("<none>").to_owned()
}

/// Waits (up to 10 s) until `check` gives something.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    for _ in 0..1000 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting for {what}");
}

/// A message as a queue holds it: body and string attributes.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: String,
    pub attributes: BTreeMap<String, String>,
}

impl App {
    pub fn queue_url(&self, name: &str) -> String {
        format!("{}/{ACCOUNT}/{name}", self.sqs_endpoint)
    }

    /// Receives (and deletes) whatever `queue` has now, with its attributes.
    pub async fn receive(&self, queue: &str) -> Vec<Message> {
        let url = self.queue_url(queue);
        let got = self
            .sqs_client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let mut out = Vec::new();
        for m in got.messages() {
            let attributes = m
                .message_attributes()
                .map(|a| a.iter().map(|(k, v)| (k.clone(), v.string_value().unwrap_or("").to_owned())).collect())
                .unwrap_or_default();
            out.push(Message { body: m.body().unwrap_or("").to_owned(), attributes });
            self.sqs_client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        out
    }

    /// Waits (up to 10 s) for `n` messages on `queue`.
    pub async fn receive_n(&self, queue: &str, n: usize) -> Vec<Message> {
        let mut got = Vec::new();
        for _ in 0..1000 {
            got.extend(self.receive(queue).await);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("gave up waiting for {n} messages on {queue}; got {got:?}");
    }

    /// Waits until no delivery is queued.
    pub async fn settled(&self) {
        eventually("every delivery settled", || async {
            (self.events.pending_deliveries().await.unwrap() == 0).then_some(())
        })
        .await;
    }

    /// Puts one event on the default bus (or `bus`) and returns its id.
    pub async fn put(&self, source: &str, detail_type: &str, detail: &str, bus: Option<&str>) -> String {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(source)
            .detail_type(detail_type)
            .detail(detail)
            .set_event_bus_name(bus.map(str::to_owned))
            .build();
        let out = self.client.put_events().entries(entry).send().await.unwrap();
        assert_eq!(out.failed_entry_count(), 0, "{out:?}");
        out.entries()[0].event_id().unwrap().to_owned()
    }
}
