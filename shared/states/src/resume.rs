//! Resuming an execution from its persisted history: find the top-level state
//! it was in, that state's input, and the variables assigned so far. The same
//! reading serves a crash (the execution was running: [`ResumePoint::from_history`])
//! and a redrive (it closed unsuccessfully: [`ResumePoint::for_redrive`]).
//!
//! A redriven history goes on after its terminal event: `ExecutionFailed`
//! (or `…Aborted`, `…TimedOut`), then `ExecutionRedriven`, then the events of
//! the states run again. Only a terminal event that no `ExecutionRedriven`
//! follows closes the execution.

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
    /// What the machine's `TimeoutSeconds` counts from, when not the start:
    /// the last redrive, so a redriven execution (one that timed out, too)
    /// gets the whole timeout again rather than timing out at once.
    pub deadline_from: Option<OffsetDateTime>,
}

/// What reading a history found.
struct Reading {
    /// The last top-level state entered: name, input, variables then, when.
    current: Option<(String, Value, Vars, OffsetDateTime)>,
    execution_input: Value,
    start_time: Option<OffsetDateTime>,
    last_event_id: u64,
    /// Whether the history ends closed (a terminal event no redrive follows).
    closed: bool,
    /// When the execution was last redriven.
    redriven_at: Option<OffsetDateTime>,
}

impl ResumePoint {
    /// The beginning: `start_at` with the execution's input, no variables — for an execution whose history
    /// records no state entered (resumed before its first state, or redriven after its input was refused).
    pub fn at_start(
        start_at: String,
        input: Value,
        start_time: Option<OffsetDateTime>,
        last_event_id: u64,
    ) -> ResumePoint {
        ResumePoint {
            state: start_at,
            input: input.clone(),
            variables: Vars::new(),
            execution_input: input,
            start_time,
            last_event_id,
            entered_time: None,
            deadline_from: None,
        }
    }

    /// Reads a history (as recorded by the sink). `None` when the execution
    /// already finished or never entered a state.
    ///
    /// Events of Parallel branches and Map iterations are skipped by tracking
    /// nesting through the `…StateStarted` / `…StateSucceeded|Failed|Aborted`
    /// events that bracket them, so only top-level states are candidates.
    pub fn from_history(events: &[HistoryEvent]) -> Option<ResumePoint> {
        let reading = read(events);
        if reading.closed {
            return None;
        }
        reading.point()
    }

    /// Where a redrive of a closed execution (failed, aborted or timed out)
    /// begins: the last top-level state entered, which did not succeed (the
    /// execution ended while in it), with the input and variables it had.
    /// States that exited before it are not run again. A failure inside a
    /// Parallel or Map redrives that whole Parallel or Map state (AWS reruns
    /// only its unsuccessful branches and iterations). The terminal event is
    /// ignored; `None` when no state was ever entered.
    ///
    /// `entered_time` is `None` (the state begins afresh) and
    /// `last_event_id` is the history's last: the caller appends its
    /// `ExecutionRedriven` event, then sets `last_event_id` and
    /// `deadline_from` to that event's id and time.
    pub fn for_redrive(events: &[HistoryEvent]) -> Option<ResumePoint> {
        let mut point = read(events).point()?;
        point.entered_time = None;
        Some(point)
    }
}

impl Reading {
    fn point(self) -> Option<ResumePoint> {
        let (state, input, variables, entered) = self.current?;
        Some(ResumePoint {
            state,
            input,
            variables,
            execution_input: self.execution_input,
            start_time: self.start_time,
            last_event_id: self.last_event_id,
            entered_time: Some(entered),
            deadline_from: self.redriven_at,
        })
    }
}

fn read(events: &[HistoryEvent]) -> Reading {
    let mut depth = 0usize;
    let mut vars = Vars::new();
    let mut reading = Reading {
        current: None,
        execution_input: Value::Null,
        start_time: None,
        last_event_id: 0,
        closed: false,
        redriven_at: None,
    };
    for e in events {
        reading.last_event_id = reading.last_event_id.max(e.id);
        match e.event_type.as_str() {
            "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut" => {
                // Branches cut short by the end never bracket themselves closed.
                (reading.closed, depth) = (true, 0);
            }
            "ExecutionRedriven" => {
                (reading.closed, depth) = (false, 0);
                reading.redriven_at = Some(e.timestamp);
            }
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
                reading.execution_input = serde_json::from_str(input).unwrap_or(Value::Null);
                reading.start_time = Some(e.timestamp);
            }
            Some(EventDetails::StateEntered { name, input, .. }) if depth == 0 => {
                let input = serde_json::from_str(input).unwrap_or(Value::Null);
                reading.current = Some((name.clone(), input, vars.clone(), e.timestamp));
            }
            Some(EventDetails::StateExited { assigned_variables: Some(assigned), .. }) if depth == 0 => {
                for (k, v) in assigned {
                    vars.insert(k.clone(), serde_json::from_str(v).unwrap_or(Value::Null));
                }
            }
            _ => {}
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::PayloadDetails;
    use serde_json::json;

    fn event(id: u64, event_type: &str, details: Option<EventDetails>) -> HistoryEvent {
        HistoryEvent {
            timestamp: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(id as i64),
            event_type: event_type.into(),
            id,
            previous_event_id: id - 1,
            details,
        }
    }

    fn entered(id: u64, kind: &str, name: &str, input: Value) -> HistoryEvent {
        let details = EventDetails::StateEntered {
            name: name.into(),
            input: input.to_string(),
            input_details: PayloadDetails::default(),
        };
        event(id, &format!("{kind}StateEntered"), Some(details))
    }

    fn exited(id: u64, kind: &str, name: &str, assigned: Option<(&str, Value)>) -> HistoryEvent {
        let details = EventDetails::StateExited {
            name: name.into(),
            output: "{}".into(),
            output_details: PayloadDetails::default(),
            assigned_variables: assigned.map(|(k, v)| [(k.to_owned(), v.to_string())].into()),
            assigned_variables_details: None,
        };
        event(id, &format!("{kind}StateExited"), Some(details))
    }

    fn started(id: u64) -> HistoryEvent {
        let details = EventDetails::ExecutionStarted {
            input: r#"{"order":1}"#.into(),
            input_details: PayloadDetails::default(),
            role_arn: String::new(),
        };
        event(id, "ExecutionStarted", Some(details))
    }

    fn failed(id: u64) -> HistoryEvent {
        event(id, "ExecutionFailed", Some(EventDetails::ExecutionFailed { error: "E".into(), cause: "c".into() }))
    }

    /// Prepare (assigns `seen`) succeeded, then Charge failed.
    fn failed_in_charge() -> Vec<HistoryEvent> {
        vec![
            started(1),
            entered(2, "Pass", "Prepare", json!({"order": 1})),
            exited(3, "Pass", "Prepare", Some(("seen", json!(true)))),
            entered(4, "Task", "Charge", json!({"amount": 5})),
            event(5, "TaskFailed", None),
            failed(6),
        ]
    }

    #[test]
    fn a_redrive_begins_at_the_state_that_failed_with_its_input_and_the_variables_before_it() {
        let events = failed_in_charge();
        assert_eq!(ResumePoint::from_history(&events), None, "a closed execution is not resumed");
        let point = ResumePoint::for_redrive(&events).expect("redrivable");
        assert_eq!((point.state.as_str(), &point.input), ("Charge", &json!({"amount": 5})));
        assert_eq!(point.variables.get("seen"), Some(&json!(true)));
        assert_eq!(point.execution_input, json!({"order": 1}));
        assert_eq!((point.last_event_id, point.entered_time, point.deadline_from), (6, None, None));
    }

    #[test]
    fn a_redriven_history_resumes_after_its_redrive_and_closes_only_with_its_last_terminal_event() {
        let mut events = failed_in_charge();
        let redriven = event(7, "ExecutionRedriven", Some(EventDetails::ExecutionRedriven { redrive_count: 1 }));
        let redriven_at = redriven.timestamp;
        events.push(redriven);
        events.push(entered(8, "Task", "Charge", json!({"amount": 5})));
        let point = ResumePoint::from_history(&events).expect("running again: resumable after a crash");
        assert_eq!((point.state.as_str(), point.last_event_id), ("Charge", 8));
        assert_eq!(point.deadline_from, Some(redriven_at), "the timeout counts from the redrive");
        events.push(failed(9));
        assert_eq!(ResumePoint::from_history(&events), None);
        assert_eq!(ResumePoint::for_redrive(&events).map(|p| p.last_event_id), Some(9));
    }

    #[test]
    fn a_failure_inside_a_parallel_redrives_the_whole_parallel_state() {
        let events = vec![
            started(1),
            entered(2, "Parallel", "Fan", json!({"n": 2})),
            event(3, "ParallelStateStarted", None),
            entered(4, "Task", "Inner", json!({"inner": true})),
            event(5, "TaskFailed", None),
            // The execution ends without the Parallel bracketing itself closed.
            failed(6),
        ];
        let point = ResumePoint::for_redrive(&events).expect("redrivable");
        assert_eq!((point.state.as_str(), &point.input), ("Fan", &json!({"n": 2})));
    }

    #[test]
    fn a_history_that_entered_no_state_has_no_redrive_point() {
        assert_eq!(ResumePoint::for_redrive(&[started(1), failed(2)]), None);
    }
}
