//! Lambda in the local stack.
//!
//! - [`decl`] reads the template's functions (`AWS::Serverless::Function`): binary, environment (globals merged,
//!   intrinsics resolved), timeout, memory, event sources as written;
//! - [`Handler`] is a function as the stack runs it: a JSON event in, a JSON result or a named error out, as the
//!   Lambda runtime reports them. The composition root builds each from the function's own crate;
//! - [`Lambda`] holds the functions and invokes them as Lambda does: each invocation in its own task (a panic is
//!   the function's error, not the stack's), inside a span carrying the request id, with a `REPORT` line; it is the
//!   [`FunctionInvoker`] other services are handed;
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

/// The stack's functions, by logical id.
pub struct Lambda {
    identity: Identity,
    functions: BTreeMap<String, Function>,
}

impl Lambda {
    pub fn new(identity: Identity, functions: impl IntoIterator<Item = Function>) -> Self {
        Self { identity, functions: functions.into_iter().map(|f| (f.decl.logical_id.clone(), f)).collect() }
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
    /// of the stack), inside a span carrying the request id, with a report line when it ends.
    pub async fn invoke(&self, logical_id: &str, request_id: &str, event: Value) -> Result<Value, FunctionError> {
        let function = self.functions.get(logical_id).ok_or_else(|| FunctionError::not_found(logical_id))?;
        let handler = function.handler.clone();
        let span = tracing::info_span!("invoke", function = logical_id, requestId = request_id);
        let started = Instant::now();
        let outcome = tokio::spawn(async move { handler.call(event).await }.instrument(span.clone())).await;
        let result = match outcome {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(FunctionError::new("Runtime.ExitError", "the handler panicked")),
            Err(e) => Err(FunctionError::new("Runtime.Unknown", e.to_string())),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(duration_ms, "REPORT"),
            Err(e) => tracing::warn!(duration_ms, error_type = %e.error_type, error = %e.error_message, "REPORT"),
        });
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
