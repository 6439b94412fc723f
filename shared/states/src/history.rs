//! Execution history in the shape of `GetExecutionHistory`: numbered events
//! linked by `previousEventId`, each with its `…EventDetails` object, in the
//! API's camelCase field names. Events go to an optional [`EventSink`] as they
//! happen (so an embedder can persist progress) and/or into the outcome. They
//! also deserialise, so a persisted history can be read back for
//! [`crate::ResumePoint::from_history`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    #[serde(rename = "type")]
    pub event_type: String,
    pub id: u64,
    pub previous_event_id: u64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<EventDetails>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PayloadDetails {
    pub truncated: bool,
}

/// The details object of an event, serialised under AWS's key for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum EventDetails {
    #[serde(rename = "executionStartedEventDetails", rename_all = "camelCase")]
    ExecutionStarted { input: String, input_details: PayloadDetails, role_arn: String },
    #[serde(rename = "executionSucceededEventDetails", rename_all = "camelCase")]
    ExecutionSucceeded { output: String, output_details: PayloadDetails },
    #[serde(rename = "executionFailedEventDetails")]
    ExecutionFailed { error: String, cause: String },
    #[serde(rename = "executionAbortedEventDetails")]
    ExecutionAborted { error: String, cause: String },
    #[serde(rename = "executionTimedOutEventDetails")]
    ExecutionTimedOut { error: String, cause: String },
    /// A closed execution run again from where it stopped (RedriveExecution); the engine never emits it, the
    /// embedder that redrives appends it before resuming.
    #[serde(rename = "executionRedrivenEventDetails", rename_all = "camelCase")]
    ExecutionRedriven { redrive_count: u32 },
    #[serde(rename = "stateEnteredEventDetails", rename_all = "camelCase")]
    StateEntered { name: String, input: String, input_details: PayloadDetails },
    #[serde(rename = "stateExitedEventDetails", rename_all = "camelCase")]
    StateExited {
        name: String,
        output: String,
        output_details: PayloadDetails,
        #[serde(skip_serializing_if = "Option::is_none")]
        assigned_variables: Option<std::collections::BTreeMap<String, String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        assigned_variables_details: Option<PayloadDetails>,
    },
    #[serde(rename = "taskScheduledEventDetails", rename_all = "camelCase")]
    TaskScheduled {
        resource_type: String,
        resource: String,
        region: String,
        parameters: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout_in_seconds: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        heartbeat_in_seconds: Option<u64>,
    },
    #[serde(rename = "taskStartedEventDetails", rename_all = "camelCase")]
    TaskStarted { resource_type: String, resource: String },
    #[serde(rename = "taskSucceededEventDetails", rename_all = "camelCase")]
    TaskSucceeded { resource_type: String, resource: String, output: String, output_details: PayloadDetails },
    #[serde(rename = "taskFailedEventDetails", rename_all = "camelCase")]
    TaskFailed { resource_type: String, resource: String, error: String, cause: String },
    #[serde(rename = "taskTimedOutEventDetails", rename_all = "camelCase")]
    TaskTimedOut { resource_type: String, resource: String, error: String, cause: String },
    #[serde(rename = "lambdaFunctionScheduledEventDetails", rename_all = "camelCase")]
    LambdaFunctionScheduled {
        resource: String,
        input: String,
        input_details: PayloadDetails,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout_in_seconds: Option<u64>,
    },
    #[serde(rename = "lambdaFunctionSucceededEventDetails", rename_all = "camelCase")]
    LambdaFunctionSucceeded { output: String, output_details: PayloadDetails },
    #[serde(rename = "lambdaFunctionFailedEventDetails")]
    LambdaFunctionFailed { error: String, cause: String },
    #[serde(rename = "lambdaFunctionTimedOutEventDetails")]
    LambdaFunctionTimedOut { error: String, cause: String },
    #[serde(rename = "mapStateStartedEventDetails")]
    MapStateStarted { length: usize },
    #[serde(rename = "mapIterationStartedEventDetails")]
    MapIterationStarted { name: String, index: usize },
    #[serde(rename = "mapIterationSucceededEventDetails")]
    MapIterationSucceeded { name: String, index: usize },
    #[serde(rename = "mapIterationFailedEventDetails")]
    MapIterationFailed { name: String, index: usize },
    #[serde(rename = "mapIterationAbortedEventDetails")]
    MapIterationAborted { name: String, index: usize },
}

/// Receives history events as they happen, in id order per branch.
pub trait EventSink: Send + Sync {
    fn on_event(&self, event: &HistoryEvent);
}

impl<F: Fn(&HistoryEvent) + Send + Sync> EventSink for F {
    fn on_event(&self, event: &HistoryEvent) {
        self(event)
    }
}

/// Splits a Resource into the `resourceType`/`resource` pair AWS reports.
pub(crate) fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        return match rest.split_once(':') {
            Some((ty, r)) => (ty.to_string(), r.to_string()),
            None => (rest.to_string(), rest.to_string()),
        };
    }
    let ty = resource.split(':').nth(2).filter(|s| !s.is_empty()).unwrap_or("task");
    (ty.to_string(), resource.to_string())
}

pub(crate) fn json_text(v: &Value) -> String {
    v.to_string()
}

pub(crate) struct Recorder {
    keep: bool,
    sink: Option<Arc<dyn EventSink>>,
    events: Mutex<Vec<HistoryEvent>>,
    last_id: AtomicU64,
    max_events: u64,
}

/// The history quota is reached: the next event may only end the execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistoryFull;

impl Recorder {
    /// A recorder whose first event gets id `last_id + 1` and that keeps the
    /// last of `max_events` ids for the event that ends the execution.
    pub fn new(keep: bool, sink: Option<Arc<dyn EventSink>>, last_id: u64, max_events: u64) -> Self {
        Self { keep, sink, events: Mutex::new(Vec::new()), last_id: AtomicU64::new(last_id), max_events }
    }

    /// Whether anyone is listening; when not, callers skip building details.
    pub fn enabled(&self) -> bool {
        self.keep || self.sink.is_some()
    }

    /// Records an event after `prev` and returns its id, or refuses if the
    /// event would take the id AWS keeps for the execution's last event
    /// (`ExecutionSucceeded` or the `ExecutionFailed` that reports the full
    /// history). Ids are counted whether or not anyone records them.
    pub fn emit(
        &self,
        prev: u64,
        timestamp: OffsetDateTime,
        event_type: impl FnOnce() -> String,
        details: impl FnOnce() -> Option<EventDetails>,
    ) -> Result<u64, HistoryFull> {
        let max = self.max_events;
        let last = self
            .last_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n.saturating_add(1) < max).then_some(n + 1))
            .map_err(|_| HistoryFull)?;
        Ok(self.record(last + 1, prev, timestamp, event_type, details))
    }

    /// Records the event that ends the execution; it always fits.
    pub fn emit_final(
        &self,
        prev: u64,
        timestamp: OffsetDateTime,
        event_type: impl FnOnce() -> String,
        details: impl FnOnce() -> Option<EventDetails>,
    ) -> u64 {
        let id = self.last_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.record(id, prev, timestamp, event_type, details)
    }

    fn record(
        &self,
        id: u64,
        prev: u64,
        timestamp: OffsetDateTime,
        event_type: impl FnOnce() -> String,
        details: impl FnOnce() -> Option<EventDetails>,
    ) -> u64 {
        if !self.enabled() {
            return id;
        }
        let ev = HistoryEvent { timestamp, event_type: event_type(), id, previous_event_id: prev, details: details() };
        if let Some(s) = &self.sink {
            s.on_event(&ev);
        }
        if self.keep
            && let Ok(mut evs) = self.events.lock()
        {
            evs.push(ev);
        }
        id
    }

    pub fn take(&self) -> Vec<HistoryEvent> {
        self.events.lock().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default()
    }
}
