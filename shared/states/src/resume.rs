//! Resuming an execution from its persisted history: find the top-level state
//! it was in, that state's input, and the variables assigned so far.

use crate::context::Vars;
use crate::history::{EventDetails, HistoryEvent};
use serde_json::Value;
use time::OffsetDateTime;

/// Where to pick an interrupted execution up again (see [`crate::engine::resume`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ResumePoint {
    /// The top-level state to enter again.
    pub state: String,
    /// That state's input.
    pub input: Value,
    /// Workflow variables as they were when the state was entered.
    pub variables: Vars,
    /// The original execution input (`$$.Execution.Input`).
    pub execution_input: Value,
    /// The original start time (`$$.Execution.StartTime`), if known.
    pub start_time: Option<OffsetDateTime>,
    /// The last event id already recorded; new events continue after it.
    pub last_event_id: u64,
    /// When that state was entered (its `…StateEntered` event), if known: a
    /// resumed Wait keeps the end it had then instead of starting over.
    pub entered_time: Option<OffsetDateTime>,
}

impl ResumePoint {
    /// Reads a history (as recorded by the sink). `None` when the execution
    /// already finished or never entered a state.
    ///
    /// Events of Parallel branches and Map iterations are skipped by tracking
    /// nesting through the `…StateStarted` / `…StateSucceeded|Failed|Aborted`
    /// events that bracket them, so only top-level states are candidates.
    pub fn from_history(events: &[HistoryEvent]) -> Option<ResumePoint> {
        let mut depth = 0usize;
        let mut current: Option<(String, Value, Vars, OffsetDateTime)> = None;
        let mut vars = Vars::new();
        let mut execution_input = Value::Null;
        let mut start_time = None;
        let mut last_event_id = 0;
        for e in events {
            last_event_id = last_event_id.max(e.id);
            let t = e.event_type.as_str();
            match t {
                "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut" => return None,
                "ParallelStateStarted" | "MapStateStarted" => depth += 1,
                "ParallelStateSucceeded"
                | "ParallelStateFailed"
                | "ParallelStateAborted"
                | "MapStateSucceeded"
                | "MapStateFailed"
                | "MapStateAborted" => depth = depth.saturating_sub(1),
                _ => {}
            }
            match &e.details {
                Some(EventDetails::ExecutionStarted { input, .. }) => {
                    execution_input = serde_json::from_str(input).unwrap_or(Value::Null);
                    start_time = Some(e.timestamp);
                }
                Some(EventDetails::StateEntered { name, input, .. }) if depth == 0 => {
                    let input = serde_json::from_str(input).unwrap_or(Value::Null);
                    current = Some((name.clone(), input, vars.clone(), e.timestamp));
                }
                Some(EventDetails::StateExited { assigned_variables: Some(assigned), .. }) if depth == 0 => {
                    for (k, v) in assigned {
                        vars.insert(k.clone(), serde_json::from_str(v).unwrap_or(Value::Null));
                    }
                }
                _ => {}
            }
        }
        let (state, input, variables, entered) = current?;
        Some(ResumePoint {
            state,
            input,
            variables,
            execution_input,
            start_time,
            last_event_id,
            entered_time: Some(entered),
        })
    }
}
