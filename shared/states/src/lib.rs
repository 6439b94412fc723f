//! An Amazon States Language (Step Functions) interpreter: load and validate
//! a definition, then run it with your own Task implementation and clock.
//!
//! # Using it
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use states::{MockInvoker, RunOptions, StateMachine, VirtualClock, run};
//!
//! // 1. Load: every problem is reported at once, with state and field.
//! let machine = StateMachine::from_json(r#"{
//!     "StartAt": "Charge",
//!     "States": { "Charge": { "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:charge", "End": true } }
//! }"#)?;
//! // 2. Tasks go through a TaskInvoker; MockInvoker answers from a mock config.
//! let tasks = MockInvoker::from_json(r#"{ "Charge": { "Return": { "ok": true } } }"#)?;
//! // 3. Time goes through a Clock: VirtualClock (instant) or TokioClock (real).
//! let clock = VirtualClock::fixed();
//! let outcome = run(&machine, serde_json::json!({}), &tasks, &clock, RunOptions::default()).await;
//! println!("{}", serde_json::to_string(&outcome)?); // {"status":"SUCCEEDED","output":{"ok":true}}
//! # Ok(()) }
//! ```
//!
//! For a CLI such as `local states run <file> --input <json> [--mock <file>]`:
//! [`validate`] (or [`StateMachine::from_json`]) the file, build a
//! [`MockInvoker`] from `--mock` (or your own [`TaskInvoker`] that calls real
//! functions), [`run`] with [`TokioClock`], and print the [`Outcome`].
//!
//! # The API an embedder calls
//!
//! ```text
//! validate(definition: &str) -> Result<StateMachine, Vec<Problem>>
//! StateMachine::from_json(&str) / from_value(&Value) -> Result<StateMachine, InvalidDefinition>
//! apply_substitutions(definition: &str, &HashMap<String, String>) -> Result<String, SubstitutionError>
//! run(&StateMachine, input: Value, &impl TaskInvoker, &impl Clock, RunOptions) -> impl Future<Output = Outcome> + Send
//! resume(&StateMachine, ResumePoint, &impl TaskInvoker, &impl Clock, RunOptions) -> impl Future<Output = Outcome> + Send
//! ResumePoint::from_history(&[HistoryEvent]) -> Option<ResumePoint>
//! MockInvoker::from_json(&str) / from_value(&Value) -> Result<MockInvoker, MockConfigError>
//! trait TaskInvoker { fn invoke(&self, resource: &str, input: Value, ctx: &TaskContext) -> impl Future<Output = Result<Value, TaskError>> + Send }
//! trait Clock { fn now(&self) -> OffsetDateTime; fn sleep(&self, Duration) -> impl Future<Output = ()> + Send }
//! trait EventSink { fn on_event(&self, &HistoryEvent) }   // also any Fn(&HistoryEvent)
//! AbortHandle::abort(&self)
//! ```
//!
//! [`RunOptions`] carries the execution name and ARNs, whether to keep the
//! history (`record_history`, returned in [`Outcome::history`]), a
//! [`RunOptions::sink`] that sees each event as it happens (to persist
//! progress), an [`AbortHandle`] to stop the run, a transition limit, and
//! AWS's quotas: 256 KiB payloads (`States.DataLimitExceeded`) and 25,000
//! history events per execution (`States.Runtime`), both counted whether or
//! not the history is kept (see [`engine`] for the sources). An [`Outcome`] serialises as `{"status": "SUCCEEDED",
//! "output": …}` or `{"status": "FAILED", "error": …, "cause": …}` (status
//! also `TIMED_OUT` or `ABORTED`), plus `"history"` when kept.
//!
//! Errors are values, never panics: a bad definition is a list of
//! [`Problem`]s (each naming its location, state and field); a bad input or
//! failing task ends the run with an ASL error name (`States.Runtime`,
//! `States.TaskFailed`, the handler's own name, …) that Retry/Catch match.
//!
//! # Known limits
//!
//! - Map runs inline only: `ItemReader`, `ItemBatcher` and `ResultWriter`
//!   (distributed Map) are rejected at validation; a `DISTRIBUTED`
//!   ProcessorConfig runs inline. Tolerated failures put each failed item's
//!   `{"Error", "Cause"}` in its slot of the output array.
//! - On a [`VirtualClock`], a task that is not ready on its first poll loses
//!   at once to its own `TimeoutSeconds`/`HeartbeatSeconds` (virtual time
//!   jumps); use [`TokioClock`] (or tokio's paused time) to test those.
//! - Intrinsic failures are reported as `States.IntrinsicFailure` (AWS
//!   reports them as `States.Runtime`); `States.ALL` does not catch them, a
//!   catcher naming `States.IntrinsicFailure` does. Their cause is AWS's
//!   ("The function 'States.Format(…)' had the following error: …").
//! - A path may nest brackets and parentheses at most
//!   [`path::MAX_PATH_NESTING`] deep and have at most
//!   [`path::MAX_PATH_SEGMENTS`] segments; a deeper one is a load error.
//! - JSONata is `jsonata-rs`, which lacks a few operators (e.g. `%`); those
//!   are rejected at load or fail with `States.QueryEvaluationError`. Each
//!   evaluation runs on its own large-stack thread, bounded in depth (about
//!   2,000 levels of user-function recursion), time and memory (see
//!   [`jsonata`]); expressions nested past the parser's bound are rejected.
//! - Resuming re-enters the top-level state that was running, so a Task in
//!   it may run twice (at-least-once); a Wait keeps the end it had when it
//!   was first entered, so it sleeps only what is left.
//!
//! # Modules
//!
//! - [`definition`]: parsing and validation into a typed model ([`StateMachine`], [`Problem`]).
//! - [`engine`]: the interpreter ([`run`], [`resume()`], [`RunOptions`], [`Outcome`], [`AbortHandle`]).
//! - [`resume`](mod@resume): [`ResumePoint`], rebuilt from a persisted history.
//! - [`path`]: reference paths and JSONPath; [`template`]: `Parameters`-style
//!   payload templates; [`intrinsics`]: `States.*` functions; [`choice`]:
//!   Choice rules; [`jsonata`]: `{% %}` expressions; [`context`]: the `$$`
//!   context object and variables.
//! - [`task`]: the [`TaskInvoker`] boundary; [`mock`]: [`MockInvoker`].
//! - [`clock`]: [`Clock`], [`VirtualClock`], [`TokioClock`].
//! - [`history`]: [`HistoryEvent`] and [`EventSink`].
//! - [`substitutions`]: [`apply_substitutions`] for `${Name}` placeholders.
//! - [`error`]: [`ErrorInfo`] (runtime errors by ASL name) and [`Problem`].

pub mod choice;
pub mod clock;
pub mod context;
pub mod definition;
pub mod engine;
pub mod error;
pub mod history;
pub mod intrinsics;
pub mod jsonata;
pub mod mock;
pub mod path;
pub mod resume;
pub mod substitutions;
pub mod task;
pub mod template;

pub use clock::{Clock, TokioClock, VirtualClock};
pub use definition::{StateMachine, validate, validate_value};
pub use engine::{AWS_PAYLOAD_LIMIT_BYTES, AbortHandle, Outcome, RunOptions, Status, resume, run};
pub use error::{ErrorInfo, InvalidDefinition, Problem};
pub use history::{EventDetails, EventSink, HistoryEvent};
pub use mock::{MockConfigError, MockInvoker, MockResponse};
pub use resume::ResumePoint;
pub use substitutions::{SubstitutionError, apply_substitutions};
pub use task::{FnInvoker, Heartbeat, NoTasks, TaskContext, TaskError, TaskInvoker};
