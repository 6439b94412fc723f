//! The Task boundary: the embedder implements [`TaskInvoker`] to run a
//! `Resource` (a Lambda ARN, `arn:aws:states:::lambda:invoke`, an activity…).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a task invocation knows about where it runs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskContext {
    pub execution_id: String,
    pub execution_name: String,
    pub state_name: String,
    /// 0 on the first attempt, then 1, 2, … on retries (`$$.State.RetryCount`).
    pub retry_count: u32,
    /// Set for `.waitForTaskToken` resources (`$$.Task.Token`).
    pub task_token: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// The evaluated `Credentials` field, if any.
    pub credentials: Option<Value>,
    /// Call [`Heartbeat::beat`] at least every `heartbeat_seconds` while the
    /// task runs (SendTaskHeartbeat), or it fails with States.HeartbeatTimeout.
    #[serde(skip)]
    pub heartbeat: Heartbeat,
}

/// The task's side of `SendTaskHeartbeat`.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    inner: Arc<HeartbeatInner>,
}

#[derive(Debug, Default)]
struct HeartbeatInner {
    beats: AtomicU64,
    notify: tokio::sync::Notify,
}

impl Heartbeat {
    /// Records a heartbeat, restarting the HeartbeatSeconds countdown.
    pub fn beat(&self) {
        self.inner.beats.fetch_add(1, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    pub(crate) fn beats(&self) -> u64 {
        self.inner.beats.load(Ordering::SeqCst)
    }

    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.notify.notified()
    }
}

/// A task failure, named so Retry/Catch can match it: a Lambda function error
/// should surface with the error name the handler chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}: {}", cause.as_deref().unwrap_or(""))]
pub struct TaskError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: Some(cause.into()) }
    }
    /// The error AWS raises when a Lambda function fails: named by the
    /// payload's `errorType`, with the whole error payload as the cause.
    pub fn lambda_function_error(payload: &Value) -> Self {
        let name = payload.get("errorType").and_then(Value::as_str).unwrap_or("Lambda.Unknown");
        Self { error: name.to_string(), cause: Some(payload.to_string()) }
    }

    /// `States.TaskFailed`, for failures with no better name.
    pub fn task_failed(cause: impl Into<String>) -> Self {
        Self::new(crate::error::names::TASK_FAILED, cause)
    }
}

/// Runs Task states. For `arn:aws:states:::lambda:invoke` the engine passes
/// the evaluated Parameters (`FunctionName`, `Payload`) as `input`, and the
/// implementation should return the Lambda Invoke response shape
/// (`{"Payload": …, "StatusCode": 200, …}`) as AWS does.
pub trait TaskInvoker: Send + Sync {
    fn invoke(
        &self,
        resource: &str,
        input: Value,
        ctx: &TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send;
}

impl<T: TaskInvoker> TaskInvoker for &T {
    fn invoke(
        &self,
        resource: &str,
        input: Value,
        ctx: &TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send {
        (**self).invoke(resource, input, ctx)
    }
}

impl<T: TaskInvoker> TaskInvoker for std::sync::Arc<T> {
    fn invoke(
        &self,
        resource: &str,
        input: Value,
        ctx: &TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send {
        (**self).invoke(resource, input, ctx)
    }
}

/// An invoker for definitions without Task states: every call fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTasks;

impl TaskInvoker for NoTasks {
    async fn invoke(&self, resource: &str, _input: Value, _ctx: &TaskContext) -> Result<Value, TaskError> {
        Err(TaskError::task_failed(format!("no task invoker is configured for resource '{resource}'")))
    }
}

/// A [`TaskInvoker`] from a closure, for embedders that route resources to
/// handlers themselves:
///
/// ```
/// use states::task::{FnInvoker, TaskContext, TaskError};
/// let tasks = FnInvoker(|resource: String, input: serde_json::Value, _ctx: TaskContext| async move {
///     if resource.ends_with(":fail") { Err(TaskError::new("Boom", "asked to fail")) } else { Ok(input) }
/// });
/// # let _ = tasks;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FnInvoker<F>(pub F);

impl<F, Fut> TaskInvoker for FnInvoker<F>
where
    F: Fn(String, Value, TaskContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    fn invoke(
        &self,
        resource: &str,
        input: Value,
        ctx: &TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send {
        (self.0)(resource.to_string(), input, ctx.clone())
    }
}
