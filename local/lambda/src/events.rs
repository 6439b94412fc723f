//! Asynchronous invocation, as Lambda runs it for S3 notifications and EventBridge targets: the event is written
//! to a queue in the data directory before the caller is answered (Lambda's 202), then the function runs; when it
//! fails it is retried up to `MaximumRetryAttempts` times, waiting one, then two, retry delays (a minute on AWS,
//! shortened locally by `local up --async-retry-delay-seconds`); when every attempt failed, or the event grew
//! older than `MaximumEventAgeInSeconds`, the event goes to the function's dead-letter queue and an invocation
//! record to its on-failure destination.
//!
//! Each queued event is one file (`<data>/lambda/async/<request id>.json`, replaced atomically as its attempts
//! are counted) and is removed only once its outcome is settled, so a crash or `kill -9` loses nothing: the next
//! stack over the data directory picks every file up again (at least once, as Lambda delivers).

use crate::{Destination, FunctionError, Lambda};
use local_core::{
    BoxFuture, files,
    invoke::{EventInvoker, MessageSender},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    sync::{Arc, Weak},
    time::Duration,
};
use time::OffsetDateTime;

/// One queued asynchronous invocation, as persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Queued {
    request_id: String,
    function: String,
    event: Value,
    /// Attempts made so far.
    attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// Asynchronous invocations of the stack's functions.
pub struct AsyncInvoker {
    dir: PathBuf,
    /// Weak: the functions' handlers may hold services that hold this invoker (S3 notifications).
    functions: Weak<Lambda>,
    messages: Arc<dyn MessageSender>,
    /// The wait before the first retry; the second waits twice as long, as on Lambda.
    retry_delay: Duration,
    this: Weak<AsyncInvoker>,
}

/// Why queued invocations could not be picked up at start-up.
#[derive(Debug, thiserror::Error)]
#[error("asynchronous invocation queue {}: {source}", path.display())]
pub struct QueueError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl AsyncInvoker {
    /// The queue under `data_dir`; call [`Self::recover`] on a tokio runtime to run what a previous process left.
    pub fn open(
        data_dir: &Path,
        functions: Weak<Lambda>,
        messages: Arc<dyn MessageSender>,
        retry_delay: Duration,
    ) -> Result<Arc<Self>, QueueError> {
        let dir = data_dir.join("lambda").join("async");
        files::create_private_dir(&dir).map_err(|source| QueueError { path: dir.clone(), source })?;
        Ok(Arc::new_cyclic(|this| Self { dir, functions, messages, retry_delay, this: this.clone() }))
    }

    /// Runs every invocation a previous process queued but did not settle. Returns how many.
    pub fn recover(&self) -> Result<usize, QueueError> {
        let err = |source| QueueError { path: self.dir.clone(), source };
        let mut count = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(err)? {
            let path = entry.map_err(err)?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue; // a temporary file a crash left behind
            }
            match std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Queued>(&b).ok()) {
                Some(queued) => {
                    self.spawn(queued);
                    count += 1;
                }
                None => tracing::error!(path = %path.display(), "an unreadable queued invocation is left in place"),
            }
        }
        Ok(count)
    }

    /// Invocations queued and not yet settled (succeeded, or sent to their dead-letter queue or destination).
    pub fn pending(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count()
            })
            .unwrap_or(0)
    }

    fn path(&self, request_id: &str) -> PathBuf {
        self.dir.join(format!("{request_id}.json"))
    }

    fn persist(&self, queued: &Queued) -> io::Result<()> {
        let bytes = serde_json::to_vec(queued).map_err(io::Error::other)?;
        files::write_atomic(&self.path(&queued.request_id), &bytes)
    }

    fn spawn(&self, queued: Queued) {
        let this = self.this.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(run(this, queued));
        }
    }

    async fn send(&self, destination: &Destination, body: String, attributes: BTreeMap<String, String>) {
        let Destination::Sqs(queue) = destination;
        if let Err(e) = self.messages.send_message(queue, body, attributes).await {
            tracing::error!(queue = %queue, error = %e, "could not deliver an asynchronous invocation's outcome");
        }
    }
}

impl EventInvoker for AsyncInvoker {
    fn invoke_async<'a>(&'a self, function: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>> {
        Box::pin(async move {
            let Some(lambda) = self.functions.upgrade() else {
                return Err(FunctionError::new("ServiceException", "the local stack is stopping"));
            };
            if lambda.function(function).is_none() {
                return Err(FunctionError::not_found(function));
            }
            let queued = Queued {
                request_id: uuid::Uuid::new_v4().to_string(),
                function: function.to_owned(),
                event,
                attempts: 0,
                received_at: OffsetDateTime::now_utc(),
            };
            // Durable before the caller hears it is accepted: a crash from here on loses nothing.
            let (this, q) = (self.this.clone(), queued.clone());
            let persisted = tokio::task::spawn_blocking(move || this.upgrade().map(|t| t.persist(&q)))
                .await
                .map_err(|e| FunctionError::new("ServiceException", e.to_string()))?;
            if let Some(Err(e)) = persisted {
                return Err(FunctionError::new("ServiceException", format!("could not queue the event: {e}")));
            }
            let request_id = queued.request_id.clone();
            self.spawn(queued);
            Ok(request_id)
        })
    }
}

/// Runs one queued invocation to its settled outcome.
async fn run(invoker: Weak<AsyncInvoker>, mut queued: Queued) {
    loop {
        let (Some(this), Some(lambda)) = (invoker.upgrade(), invoker.upgrade().and_then(|i| i.functions.upgrade()))
        else {
            return; // the stack stopped: the file stays, and the next stack runs it
        };
        let Some(config) = lambda.function(&queued.function).map(|f| f.decl.async_config.clone()) else {
            tracing::error!(function = %queued.function, "a queued event's function is no longer in the template; dropped");
            let _ = std::fs::remove_file(this.path(&queued.request_id));
            return;
        };
        let age = OffsetDateTime::now_utc() - queued.received_at;
        let expired = age.whole_seconds() > config.maximum_event_age_seconds as i64;
        let outcome = if expired {
            Err((
                FunctionError::new("EventAgeExceeded", "the event is older than MaximumEventAgeInSeconds"),
                "EventAgeExceeded",
            ))
        } else {
            queued.attempts += 1;
            lambda
                .invoke(&queued.function, &queued.request_id, queued.event.clone())
                .await
                .map_err(|e| (e, "RetriesExhausted"))
        };
        let function_arn = lambda.identity().function_arn(&queued.function).to_string();
        match outcome {
            Ok(result) => {
                if let Some(d) = &config.on_success {
                    let record = invocation_record(&queued, &function_arn, "Success", None, &result);
                    this.send(d, record.to_string(), BTreeMap::new()).await;
                }
            }
            Err((e, _)) if !expired && queued.attempts <= config.maximum_retry_attempts => {
                if let Err(err) = this.persist(&queued) {
                    tracing::error!(error = %err, "could not record an attempt of a queued event");
                }
                let wait = this.retry_delay * queued.attempts;
                tracing::info!(function = %queued.function, requestId = %queued.request_id, attempt = queued.attempts,
                    error_type = %e.error_type, retry_in_ms = wait.as_millis() as u64, "asynchronous invocation failed; retrying");
                drop((this, lambda));
                tokio::time::sleep(wait).await;
                continue;
            }
            Err((e, condition)) => {
                tracing::warn!(function = %queued.function, requestId = %queued.request_id, attempts = queued.attempts,
                    error_type = %e.error_type, condition, "asynchronous invocation failed for good");
                if let Some(d) = &config.dead_letter {
                    let attributes = BTreeMap::from([
                        ("RequestID".to_owned(), queued.request_id.clone()),
                        ("ErrorCode".to_owned(), "200".to_owned()),
                        ("ErrorMessage".to_owned(), e.error_message.clone()),
                    ]);
                    this.send(d, queued.event.to_string(), attributes).await;
                }
                if let Some(d) = &config.on_failure {
                    let payload = json!({"errorType": e.error_type, "errorMessage": e.error_message});
                    let record = invocation_record(&queued, &function_arn, condition, Some("Unhandled"), &payload);
                    this.send(d, record.to_string(), BTreeMap::new()).await;
                }
            }
        }
        if let Err(e) = std::fs::remove_file(this.path(&queued.request_id)) {
            tracing::error!(error = %e, "could not remove a settled queued event; it will run again after a restart");
        }
        return;
    }
}

/// The record Lambda sends to a destination.
fn invocation_record(
    queued: &Queued,
    function_arn: &str,
    condition: &str,
    function_error: Option<&str>,
    payload: &Value,
) -> Value {
    let now = OffsetDateTime::now_utc();
    let mut response = json!({"statusCode": 200, "executedVersion": "$LATEST"});
    if let Some(e) = function_error {
        response["functionError"] = json!(e);
    }
    json!({
        "version": "1.0",
        "timestamp": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "requestContext": {
            "requestId": queued.request_id,
            "functionArn": format!("{function_arn}:$LATEST"),
            "condition": condition,
            "approximateInvokeCount": queued.attempts,
        },
        "requestPayload": queued.event,
        "responseContext": response,
        "responsePayload": payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsyncConfig, Function, FunctionDecl, Handler};
    use local_core::{Identity, invoke::SendError};
    use std::sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    };

    /// Fails its first `failures` calls, then succeeds; counts calls.
    struct Flaky {
        failures: u32,
        calls: AtomicU32,
    }

    impl Handler for Flaky {
        fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if n < self.failures { Err(FunctionError::new("Boom", format!("call {n}"))) } else { Ok(event) }
            })
        }
    }

    /// A message as a queue would hold it: (queue, body, attributes).
    type Held = (String, String, BTreeMap<String, String>);

    /// Messages "sent", as a queue would hold them.
    #[derive(Default)]
    struct Sent(Mutex<Vec<Held>>);

    impl MessageSender for Sent {
        fn send_message<'a>(
            &'a self,
            queue: &'a str,
            body: String,
            attributes: BTreeMap<String, String>,
        ) -> BoxFuture<'a, Result<String, SendError>> {
            Box::pin(async move {
                self.0.lock().unwrap().push((queue.to_owned(), body, attributes));
                Ok("m".into())
            })
        }
    }

    const DLQ: &str = "arn:aws:sqs:us-east-1:123456789012:dlq";

    fn stack(failures: u32, dir: &Path) -> (Arc<Lambda>, Arc<Flaky>, Arc<Sent>, Arc<AsyncInvoker>) {
        let flaky = Arc::new(Flaky { failures, calls: AtomicU32::new(0) });
        let decl = FunctionDecl {
            logical_id: "F".into(),
            binary: "f".into(),
            async_config: AsyncConfig {
                dead_letter: Some(Destination::Sqs(DLQ.into())),
                on_failure: Some(Destination::Sqs("failures".into())),
                ..AsyncConfig::default()
            },
            ..Default::default()
        };
        let lambda =
            Arc::new(Lambda::new(Identity::default(), [Function { decl, handler_name: "f", handler: flaky.clone() }]));
        let sent = Arc::new(Sent::default());
        let invoker = AsyncInvoker::open(dir, Arc::downgrade(&lambda), sent.clone(), Duration::from_millis(5)).unwrap();
        (lambda, flaky, sent, invoker)
    }

    async fn settled(dir: &Path) {
        for _ in 0..400 {
            if std::fs::read_dir(dir.join("lambda/async")).unwrap().next().is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the queued event never settled");
    }

    #[tokio::test]
    async fn a_failing_event_is_retried_twice_then_dead_lettered_with_lambdas_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let (_lambda, flaky, sent, invoker) = stack(99, dir.path());
        let id = invoker.invoke_async("F", json!({"k": 1})).await.unwrap();
        settled(dir.path()).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3, "one attempt and two retries");
        let sent = sent.0.lock().unwrap().clone();
        assert_eq!(sent.len(), 2);
        let (queue, body, attributes) = &sent[0];
        assert_eq!((queue.as_str(), body.as_str()), (DLQ, r#"{"k":1}"#));
        assert_eq!(attributes["RequestID"], id);
        assert_eq!(attributes["ErrorMessage"], "call 2");
        let record: Value = serde_json::from_str(&sent[1].1).unwrap();
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(record["responsePayload"]["errorType"], "Boom");
    }

    #[tokio::test]
    async fn an_event_that_succeeds_on_a_retry_sends_nothing_to_the_dead_letter_queue() {
        let dir = tempfile::tempdir().unwrap();
        let (_lambda, flaky, sent, invoker) = stack(1, dir.path());
        invoker.invoke_async("F", json!({})).await.unwrap();
        settled(dir.path()).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
        assert!(sent.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_event_queued_by_a_stack_that_stopped_runs_when_the_next_one_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let queued = Queued {
            request_id: "left-behind".into(),
            function: "F".into(),
            event: json!({"n": 7}),
            attempts: 1,
            received_at: OffsetDateTime::now_utc(),
        };
        let (_lambda, flaky, _sent, invoker) = stack(0, dir.path());
        invoker.persist(&queued).unwrap();
        assert_eq!(invoker.recover().unwrap(), 1);
        settled(dir.path()).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_event_for_a_function_that_does_not_exist_is_refused_and_not_queued() {
        let dir = tempfile::tempdir().unwrap();
        let (_lambda, _flaky, _sent, invoker) = stack(0, dir.path());
        let e = invoker.invoke_async("Nope", json!({})).await.unwrap_err();
        assert_eq!(e.error_type, "ResourceNotFoundException");
        assert!(std::fs::read_dir(dir.path().join("lambda/async")).unwrap().next().is_none());
    }
}
