//! Error values: runtime errors as ASL names them, and definition problems.

use serde::Serialize;
use std::fmt;

/// Well-known error names from the Amazon States Language.
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const PERMISSIONS: &str = "States.Permissions";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const RUNTIME: &str = "States.Runtime";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// A runtime error as Step Functions reports it: a name and a human cause.
///
/// Errors the interpreter raises while running a state (`States.Runtime`,
/// `States.QueryEvaluationError`, `States.IntrinsicFailure`) get AWS's
/// prefix "An error occurred while executing the state 'X' (entered at the
/// event id #N). " once the engine knows the state; errors a task, a Fail
/// state or the engine's quotas raise keep their cause as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct ErrorInfo {
    pub error: String,
    pub cause: String,
    /// Raised by the interpreter inside a state and not yet given the
    /// state's prefix.
    #[serde(skip)]
    unplaced: bool,
}

impl ErrorInfo {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: cause.into(), unplaced: false }
    }
    fn raised(error: &str, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: cause.into(), unplaced: true }
    }
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::raised(names::RUNTIME, cause)
    }
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::raised(names::INTRINSIC_FAILURE, cause)
    }
    pub fn query(cause: impl Into<String>) -> Self {
        Self::raised(names::QUERY_EVALUATION_ERROR, cause)
    }
    /// Puts AWS's prefix naming the state and the id of its StateEntered
    /// event in front of the cause, once: an error that already carries a
    /// state's prefix (one raised in a Map iteration or a Parallel branch)
    /// keeps it. AWS's wording, as in every interpreter-raised cause that
    /// LocalStack records from AWS (tests/aws/services/stepfunctions/v2/
    /// scenarios/test_base_scenarios.snapshot.json, e.g. "An error occurred
    /// while executing the state 'WaitUntil' (entered at the event id #2).
    /// The TimestampPath parameter does not reference …").
    pub(crate) fn place(mut self, state: &str, entered_event_id: u64) -> Self {
        if self.unplaced {
            self.unplaced = false;
            self.cause = format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). {}",
                self.cause
            );
        }
        self
    }
    /// Errors that end the execution whatever the Retry/Catch say: AWS
    /// documents States.Runtime and States.DataLimitExceeded as terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(self.error.as_str(), names::RUNTIME | names::DATA_LIMIT_EXCEEDED)
    }
    /// The error output handed to a Catcher: `{"Error": …, "Cause": …}`.
    pub fn to_output(&self) -> serde_json::Value {
        serde_json::json!({ "Error": self.error, "Cause": self.cause })
    }
}

/// One thing wrong with a definition, located by a JSON-pointer-like path
/// (`/States/Foo/Next`) plus the state and field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Pointer into the definition, e.g. `/States/Map/ItemProcessor/States/Inner/Next`.
    pub location: String,
    /// The state the problem is in, when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.state, &self.field) {
            (Some(s), Some(fl)) => write!(f, "state '{s}', field '{fl}': {}", self.message)?,
            (Some(s), None) => write!(f, "state '{s}': {}", self.message)?,
            (None, Some(fl)) => write!(f, "field '{fl}': {}", self.message)?,
            (None, None) => write!(f, "{}", self.message)?,
        }
        write!(f, " (at {})", self.location)
    }
}

/// All the problems found in a definition; loading fails if there is any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid state machine definition: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct InvalidDefinition(pub Vec<Problem>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_error_gets_the_states_prefix_once() {
        let e = ErrorInfo::runtime("Invalid path").place("Inner", 5).place("Outer", 2);
        assert_eq!(
            e.cause,
            "An error occurred while executing the state 'Inner' (entered at the event id #5). Invalid path"
        );
    }

    #[test]
    fn an_error_made_with_new_keeps_its_cause() {
        let e = ErrorInfo::new(names::RUNTIME, "from a task").place("T", 2);
        assert_eq!(e.cause, "from a task");
    }
}
