//! Lambda in the local stack.
//!
//! - [`decl`] reads the template's functions (`AWS::Serverless::Function`): binary, environment (globals merged,
//!   intrinsics resolved), timeout, memory, event sources as written;
//! - [`Handler`] is a function as the stack runs it: a JSON event in, a JSON result or a named error out, as the
//!   Lambda runtime reports them. The composition root builds each from the function's own crate;
//! - [`Lambda`] holds the functions and invokes them as Lambda does: each invocation in its own task (a panic is
//!   the function's error, not the stack's), inside a span carrying the request id, with a `REPORT` line; it is the
//!   [`FunctionInvoker`] other services are handed. Each invocation runs in a [`telemetry::metrics`] scope, as
//!   on AWS, and its EMF line goes to the [`MetricsSink`] the stack gives ([`Lambda::with_metrics`]);
//! - [`events`] runs asynchronous invocations (S3 notifications, EventBridge targets) durably, with Lambda's
//!   retries, dead-letter queues and destinations;
//! - [`streams`] runs the event source mappings on DynamoDB streams (`Events: {Type: DynamoDB}`): batches in
//!   order, synchronous invocations, retries, bisection, partial batch responses, on-failure records and a durable
//!   checkpoint per mapping;
//! - [`runtime_api`] emulates the Lambda Runtime API, so unchanged `bootstrap` binaries run (and are timed) here.

pub mod decl;
pub mod events;
pub mod runtime_api;
pub mod streams;

pub use decl::{AsyncConfig, Destination, Env, EnvError, FunctionDecl};
pub use events::AsyncInvoker;
pub use local_core::invoke::{FunctionError, FunctionInvoker};
pub use streams::{
    MappingDecl, MappingError, MappingPosition, StreamMappings, StreamMappingsConfig, StreamMappingsGuard,
};

use local_core::{BoxFuture, Identity};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::{collections::BTreeMap, sync::Arc, time::Instant};
use tracing::Instrument;

/// A function as the local stack runs it: the same handler the Lambda binary runs, wired to local adapters.
pub trait Handler: Send + Sync + 'static {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>>;
}

/// A function of the template with the handler that runs it.
pub struct Function {
    pub decl: FunctionDecl,
    /// The Rust function that handles its events (`create_task::handle`), for `local routes`.
    pub handler_name: &'static str,
    pub handler: Arc<dyn Handler>,
}

/// Where each invocation's EMF line goes (one JSON object, no newline): the stack appends them to a file.
pub type MetricsSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The stack's functions, by logical id.
pub struct Lambda {
    identity: Identity,
    functions: BTreeMap<String, Function>,
    /// Per function, whether it has been invoked in this process: its first invocation is its cold start.
    warm: BTreeMap<String, AtomicBool>,
    metrics: Option<MetricsSink>,
}

impl Lambda {
    pub fn new(identity: Identity, functions: impl IntoIterator<Item = Function>) -> Self {
        let functions: BTreeMap<String, Function> =
            functions.into_iter().map(|f| (f.decl.logical_id.clone(), f)).collect();
        let warm = functions.keys().map(|id| (id.clone(), AtomicBool::new(false))).collect();
        Self { identity, functions, warm, metrics: None }
    }

    /// Hands every invocation's EMF line to `sink` (without one, the lines are made and dropped).
    pub fn with_metrics(mut self, sink: MetricsSink) -> Self {
        self.metrics = Some(sink);
        self
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn function(&self, logical_id: &str) -> Option<&Function> {
        self.functions.get(logical_id)
    }

    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.functions.values()
    }

    pub fn len(&self) -> usize {
        self.functions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// Runs one function on one event, as Lambda would: in its own task (a panic is a function error, not a crash
    /// of the stack), inside a span carrying the request id and a metrics scope, with a report line and an EMF
    /// line when it ends (a failure's too, with its `error` type).
    pub async fn invoke(&self, logical_id: &str, request_id: &str, event: Value) -> Result<Value, FunctionError> {
        let function = self.functions.get(logical_id).ok_or_else(|| FunctionError::not_found(logical_id))?;
        let handler = function.handler.clone();
        let span = tracing::info_span!("invoke", function = logical_id, requestId = request_id);
        let cold = self.warm.get(logical_id).is_some_and(|w| !w.swap(true, Ordering::Relaxed));
        let invocation = telemetry::metrics::Invocation::new(logical_id, function.decl.memory_mb, cold);
        let started = Instant::now();
        let outcome =
            tokio::spawn(invocation.scope(async move { handler.call(event).await }).instrument(span.clone())).await;
        let result = match outcome {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(FunctionError::new("Runtime.ExitError", "the handler panicked")),
            Err(e) => Err(FunctionError::new("Runtime.Unknown", e.to_string())),
        };
        let elapsed = started.elapsed();
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(duration_ms, "REPORT"),
            Err(e) => tracing::warn!(duration_ms, error_type = %e.error_type, error = %e.error_message, "REPORT"),
        });
        if let Some(sink) = &self.metrics {
            sink(&invocation.emf_line(elapsed, result.as_ref().err().map(|e| e.error_type.as_str())));
        }
        result
    }
}

impl FunctionInvoker for Lambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        request_id: &'a str,
        event: Value,
    ) -> BoxFuture<'a, Result<Value, FunctionError>> {
        Box::pin(Lambda::invoke(self, function, request_id, event))
    }

    fn function_names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panics;
    impl Handler for Panics {
        fn call(&self, _: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
            Box::pin(async { panic!("boom") })
        }
    }

    fn decl(id: &str) -> FunctionDecl {
        FunctionDecl { logical_id: id.into(), binary: "x".into(), ..Default::default() }
    }

    struct Counts;
    impl Handler for Counts {
        fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
            Box::pin(async move {
                telemetry::metrics::count("InvoicesStored", 1.0);
                match event {
                    Value::Null => Ok(Value::Null),
                    _ => Err(FunctionError::new("Retryable", "try again")),
                }
            })
        }
    }

    #[tokio::test]
    async fn each_invocation_writes_one_emf_line_with_cold_start_only_the_first_time() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let mut f = decl("F");
        f.memory_mb = 512;
        let lambda =
            Lambda::new(Identity::default(), [Function { decl: f, handler_name: "x", handler: Arc::new(Counts) }])
                .with_metrics(Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())));
        lambda.invoke("F", "r1", Value::Null).await.unwrap();
        lambda.invoke("F", "r2", Value::Null).await.unwrap();
        lambda.invoke("F", "r3", Value::Bool(true)).await.unwrap_err();
        let lines: Vec<Value> = lines.lock().unwrap().iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0]["ColdStart"], 1.0);
        assert!(lines[1].get("ColdStart").is_none() && lines[2].get("ColdStart").is_none(), "{lines:?}");
        for line in &lines {
            assert_eq!((line["function_name"].as_str(), line["function_memory_size"].as_u64()), (Some("F"), Some(512)));
            assert_eq!(line["InvoicesStored"], 1.0, "the handler's count is in its own line");
            assert!(line["durationMs"].as_f64().is_some_and(|d| d >= 0.0));
        }
        assert_eq!(lines[2]["error"], "Retryable", "a failed invocation still has its line");
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_function_error_not_a_crash() {
        let lambda = Lambda::new(
            Identity::default(),
            [Function { decl: decl("F"), handler_name: "x", handler: Arc::new(Panics) }],
        );
        let e = lambda.invoke("F", "r", Value::Null).await.unwrap_err();
        assert_eq!(e.error_type, "Runtime.ExitError");
        assert_eq!(lambda.invoke("G", "r", Value::Null).await.unwrap_err().error_type, "ResourceNotFoundException");
    }
}
