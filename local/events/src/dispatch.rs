//! The dispatcher: one task that delivers what is due, as EventBridge does. Each delivery goes to its target through
//! the trait the composition root handed over (a function through the `EventInvoker`, so Lambda's own asynchronous
//! retries and dead-letter queue apply after it, as on AWS; a state machine through the `ExecutionStarter`; a
//! queue through the `MessageSender`).
//!
//! A failed attempt is retried with exponential back-off (the base delay, then twice it, four times it…, at most 32
//! times it; AWS adds jitter, the local stack does not, so tests can count) while the target's `RetryPolicy`
//! allows: `MaximumRetryAttempts` retries, and only while the event is younger than `MaximumEventAgeInSeconds`.
//! Errors no retry can mend (the target does not exist, the input is not what it takes) are not retried, as on AWS.
//! When retries end, the event goes to the target's dead-letter queue with AWS's message attributes (`RULE_ARN`,
//! `TARGET_ARN`, `ERROR_CODE`, `ERROR_MESSAGE`, `RETRY_ATTEMPTS`, and `EXHAUSTED_RETRY_CONDITION` when a retry
//! limit ended it), or, without one, is dropped with a warning.

use crate::{
    EventBridge,
    catalog::Destination,
    now_ms,
    store::{Delivery, Due},
};
use local_core::invoke::{FunctionError, SendError, StartError};
use std::{
    collections::BTreeMap,
    sync::{Arc, Weak, atomic::Ordering},
    time::Duration,
};
use tokio::sync::Notify;

/// How many deliveries one pass takes from the store (and runs concurrently).
const BATCH: usize = 32;
/// The longest back-off, in base delays.
const MAX_BACKOFF_FACTOR: u32 = 32;

/// Why an attempt failed, in the terms of EventBridge's dead-letter attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `ERROR_CODE`: `NO_RESOURCE`, `INVALID_JSON`, `INVALID_PARAMETER`, `THROTTLING`, `ERROR_FROM_TARGET`, ….
    pub code: String,
    pub message: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
}

impl Failure {
    fn new(code: &str, message: String, retryable: bool) -> Self {
        Self { code: code.to_owned(), message, retryable }
    }

    /// A target's AWS error code, read for whether a retry can help.
    fn from_code(code: &str, message: String) -> Self {
        match code {
            "ResourceNotFoundException" | "QueueDoesNotExist" | "StateMachineDoesNotExist" => {
                Self::new("NO_RESOURCE", message, false)
            }
            "InvalidParameterValue"
            | "InvalidMessageContents"
            | "InvalidExecutionInput"
            | "ValidationException"
            | "InvalidParameterValueException"
            | "InvalidRequestContentException"
            | "InvalidArn"
            | "InvalidName" => Self::new("INVALID_PARAMETER", message, false),
            "ExecutionAlreadyExists" => Self::new("RESOURCE_ALREADY_EXISTS", message, false),
            "TooManyRequestsException" | "ThrottlingException" | "RequestThrottled" | "ExecutionLimitExceeded" => {
                Self::new("THROTTLING", message, true)
            }
            _ => Self::new("ERROR_FROM_TARGET", message, true),
        }
    }
}

impl From<FunctionError> for Failure {
    fn from(e: FunctionError) -> Self {
        let message = format!("{}: {}", e.error_type, e.error_message);
        Self::from_code(&e.error_type, message)
    }
}

impl From<SendError> for Failure {
    fn from(e: SendError) -> Self {
        Self::from_code(&e.code, e.to_string())
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        Self::from_code(&e.code, e.to_string())
    }
}

/// The wait after `attempts` failed attempts: `base`, `2 × base`, `4 × base`, … at most `32 × base`.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(MAX_BACKOFF_FACTOR);
    base.saturating_mul(factor)
}

/// Runs until the service is dropped: delivers what is due, then sleeps until the next delivery is due or a
/// PutEvents queues more (`wake`).
pub(crate) async fn run(service: Weak<EventBridge>, wake: Arc<Notify>) {
    loop {
        let Some(this) = service.upgrade() else { return };
        let due = this.with_store(|s| s.due(now_ms(), BATCH)).await;
        match due {
            Ok(Due { deliveries, .. }) if !deliveries.is_empty() => {
                futures::future::join_all(deliveries.into_iter().map(|d| this.deliver(d))).await;
            }
            Ok(Due { next_ms, .. }) => {
                drop(this);
                let sleep = match next_ms {
                    Some(at) => Duration::from_millis((at - now_ms()).max(1) as u64),
                    None => Duration::from_secs(3600),
                };
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "EventBridge: cannot read the queued deliveries");
                drop(this);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Why a delivery's retries ended (`EXHAUSTED_RETRY_CONDITION`).
#[derive(Debug, Clone, Copy)]
enum Exhausted {
    MaximumRetryAttempts,
    MaximumEventAgeInSeconds,
}

impl EventBridge {
    /// One attempt at one delivery, and what follows it: settled, rescheduled, or dead-lettered.
    async fn deliver(&self, d: Delivery) {
        let now = now_ms();
        let age_ms = now - d.received_ms;
        if age_ms > i64::from(d.max_age_s) * 1000 {
            let (code, message) = d.last_error.clone().unwrap_or_else(|| {
                ("INTERNAL_ERROR".to_owned(), "the event grew older than MaximumEventAgeInSeconds".to_owned())
            });
            let failure = Failure { code, message, retryable: true };
            self.give_up(&d, d.attempts, &failure, Some(Exhausted::MaximumEventAgeInSeconds)).await;
            return;
        }
        let attempts = d.attempts + 1;
        let outcome = self.attempt(&d).await;
        match outcome {
            Ok(()) => {
                self.counters.deliveries_made.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(rule = %d.rule_arn, target = %d.target_id, attempts, "event delivered");
                self.settle(d.seq).await;
            }
            Err(failure) if failure.retryable && attempts <= d.max_retries => {
                self.counters.deliveries_retried.fetch_add(1, Ordering::Relaxed);
                let wait = backoff(self.retry_base_delay, attempts);
                tracing::info!(rule = %d.rule_arn, target = %d.target_id, attempt = attempts, code = %failure.code,
                    error = %failure.message, retry_in_ms = wait.as_millis() as u64, "event delivery failed; retrying");
                let due = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                let (seq, code, message) = (d.seq, failure.code, failure.message);
                let rescheduled = self.with_store(move |s| s.reschedule(seq, attempts, due, (&code, &message))).await;
                if let Err(e) = rescheduled {
                    tracing::error!(error = %e, "EventBridge: cannot record a failed attempt; it will be tried again");
                }
            }
            Err(failure) => {
                let exhausted = failure.retryable.then_some(Exhausted::MaximumRetryAttempts);
                self.give_up(&d, attempts, &failure, exhausted).await;
            }
        }
    }

    async fn attempt(&self, d: &Delivery) -> Result<(), Failure> {
        let input = d.input.as_deref().unwrap_or(&d.event);
        match &d.destination {
            Destination::Function { function } => {
                let event = serde_json::from_str(input).map_err(|e| {
                    Failure::new("INVALID_JSON", format!("the target input is not JSON, as Lambda takes: {e}"), false)
                })?;
                self.targets.functions.invoke_async(function, event).await?;
            }
            Destination::StateMachine { arn } => {
                self.targets.state_machines.start_execution(arn, input.to_owned()).await?;
            }
            Destination::Queue { arn } => {
                self.targets.queues.send_message(arn, input.to_owned(), BTreeMap::new()).await?;
            }
        }
        Ok(())
    }

    /// Ends a delivery that failed for good: to the dead-letter queue, or dropped.
    async fn give_up(&self, d: &Delivery, attempts: u32, failure: &Failure, exhausted: Option<Exhausted>) {
        self.counters.deliveries_failed.fetch_add(1, Ordering::Relaxed);
        match &d.dead_letter {
            Some(queue) => {
                let mut attributes = BTreeMap::from([
                    ("RULE_ARN".to_owned(), d.rule_arn.clone()),
                    ("TARGET_ARN".to_owned(), d.target_arn.clone()),
                    ("ERROR_CODE".to_owned(), failure.code.clone()),
                    ("ERROR_MESSAGE".to_owned(), failure.message.clone()),
                    ("RETRY_ATTEMPTS".to_owned(), attempts.saturating_sub(1).to_string()),
                ]);
                if let Some(condition) = exhausted {
                    attributes.insert("EXHAUSTED_RETRY_CONDITION".to_owned(), format!("{condition:?}"));
                }
                match self.targets.queues.send_message(queue, d.event.clone(), attributes).await {
                    Ok(_) => {
                        self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(rule = %d.rule_arn, target = %d.target_id, code = %failure.code,
                            error = %failure.message, dead_letter_queue = %queue, "event not delivered; sent to the dead-letter queue");
                    }
                    Err(e) => {
                        tracing::error!(rule = %d.rule_arn, target = %d.target_id, dead_letter_queue = %queue,
                            error = %e, "event not delivered, and the dead-letter queue refused it; dropped");
                    }
                }
            }
            None => {
                tracing::warn!(rule = %d.rule_arn, target = %d.target_id, code = %failure.code, error = %failure.message,
                    attempts, "event not delivered and the target has no dead-letter queue; dropped");
            }
        }
        self.settle(d.seq).await;
    }

    async fn settle(&self, seq: i64) {
        if let Err(e) = self.with_store(move |s| s.settle(seq)).await {
            tracing::error!(error = %e, "EventBridge: cannot remove a settled delivery; it will run again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_the_base_delay_up_to_32_times_it() {
        let base = Duration::from_millis(10);
        let waits: Vec<u128> = (1..=8).map(|n| backoff(base, n).as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 320, 320]);
        assert_eq!(backoff(base, 200), Duration::from_millis(320));
    }

    #[test]
    fn missing_targets_and_bad_input_are_not_retried_and_other_failures_are() {
        let f = Failure::from(SendError { code: "QueueDoesNotExist".into(), message: "gone".into() });
        assert_eq!((f.code.as_str(), f.retryable), ("NO_RESOURCE", false));
        let f = Failure::from(FunctionError::not_found("F"));
        assert_eq!((f.code.as_str(), f.retryable), ("NO_RESOURCE", false));
        let f = Failure::from(StartError { code: "InvalidExecutionInput".into(), message: "x".into() });
        assert_eq!((f.code.as_str(), f.retryable), ("INVALID_PARAMETER", false));
        let f = Failure::from(FunctionError::new("ServiceException", "the local stack is stopping"));
        assert_eq!((f.code.as_str(), f.retryable), ("ERROR_FROM_TARGET", true));
    }
}
