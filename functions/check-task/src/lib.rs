//! `check-task`: a Task state's function, invoked by Step Functions rather than over HTTP. It takes
//! `{"owner": "<sub>", "task_id": "<ulid>"}` and returns the task, or fails with an error whose name says what the
//! state machine should do: `TaskNotFound` (don't retry), `InvalidInput` (don't retry; the input is wrong),
//! `Retryable` (the store is unavailable; try again later).
//!
//! It trusts its caller for `owner`: only a state machine may invoke it (on AWS, the function has no HTTP route and
//! only the state machine's role may call it; locally, only loopback callers reach the Step Functions API).

use domain::{Caller, Error, Task, UserId, ports::TaskGet, service};
use serde::Deserialize;
use serde_json::Value;

/// Why the task could not be checked, named for the caller's next move (`ErrorEquals` matches [`Self::error_type`]).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("task not found")]
    TaskNotFound,
    #[error("{0}")]
    InvalidInput(String),
    /// The store's own error stays the source (for logs), out of the message that ends up in execution histories.
    #[error("the task store is unavailable; try again")]
    Retryable(#[source] Error),
}

impl CheckError {
    /// The Lambda `errorType`: what Step Functions' `Retry`/`Catch` match.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::TaskNotFound => "TaskNotFound",
            Self::InvalidInput(_) => "InvalidInput",
            Self::Retryable(_) => "Retryable",
        }
    }

    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation.
    pub fn into_parts(self) -> (&'static str, String) {
        (self.error_type(), self.to_string())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    owner: String,
    task_id: String,
}

pub async fn handle(store: &impl TaskGet, event: Value) -> Result<Task, CheckError> {
    let input: Input = serde_json::from_value(event)
        .map_err(|e| CheckError::InvalidInput(format!("expected {{\"owner\": string, \"task_id\": string}}: {e}")))?;
    let owner =
        UserId::parse(&input.owner).map_err(|_| CheckError::InvalidInput("owner is not a valid user id".into()))?;
    let caller = Caller { id: owner, email: None, name: None };
    service::get_task(store, &caller, &input.task_id).await.map_err(|e| match e {
        Error::NotFound(_) => CheckError::TaskNotFound,
        Error::Store(_) => CheckError::Retryable(e),
        Error::BadRequest(m) | Error::Invalid(m) => CheckError::InvalidInput(format!("task_id: {m}")),
        other @ (Error::Unauthenticated(_) | Error::VersionMismatch { .. }) => {
            CheckError::InvalidInput(other.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{StoreError, TaskId};
    use serde_json::json;

    /// A store that is down, or that has no tasks at all.
    struct Store(bool);

    impl TaskGet for Store {
        async fn get_task(&self, _: &UserId, _: TaskId) -> Result<Option<Task>, StoreError> {
            if self.0 {
                Err(StoreError::unavailable(std::io::Error::other("connection reset by peer")))
            } else {
                Ok(None)
            }
        }
    }

    fn event() -> Value {
        json!({"owner": "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c", "task_id": "01JD5Q8X3N7V2K4M6P9R0S1T2W"})
    }

    #[tokio::test]
    async fn a_store_outage_is_retryable_and_its_details_stay_out_of_the_message() {
        let (error_type, message) = handle(&Store(true), event()).await.unwrap_err().into_parts();
        assert_eq!(error_type, "Retryable");
        assert!(!message.contains("connection reset"), "{message}");
    }

    #[tokio::test]
    async fn a_missing_task_is_not_found_and_a_malformed_input_is_invalid() {
        assert!(matches!(handle(&Store(false), event()).await, Err(CheckError::TaskNotFound)));
        let mut extra = event();
        extra["delay_seconds"] = json!(5);
        let (error_type, message) = handle(&Store(false), extra).await.unwrap_err().into_parts();
        assert_eq!(error_type, "InvalidInput");
        assert!(message.contains("delay_seconds"), "{message}");
    }
}
