//! EventBridge in the local stack: the template's buses and rules, events put on them matched with EventBridge's
//! own pattern language, and each match delivered to its targets at least once, durably, with AWS's retries and
//! dead-letter queues. It speaks EventBridge's AWS JSON 1.1 protocol, so the SDKs and `aws events` work unchanged.
//!
//! - [`decl`] reads the template: the `default` bus and `AWS::Events::EventBus`, `AWS::Events::Rule`, and the rules
//!   SAM generates for `Events` of `Type: EventBridgeRule`; every value is checked there, every pattern compiled;
//! - [`catalog`]: buses, rules and targets as values, and per bus one `event_pattern::Matcher` of its rules;
//! - [`entry`]: PutEvents entries checked as AWS checks them, and the event envelope an accepted one becomes;
//! - [`input`]: what a target receives — the event, `Input`, `InputPath` or `InputTransformer`;
//! - [`store`]: the SQLite database (`<data>/events/deliveries.sqlite3`) every matched delivery is committed to
//!   before PutEvents answers;
//! - [`dispatch`]: the task that delivers, retries with back-off and dead-letters;
//! - [`api`]: the wire protocol, each request parsed into a typed command and applied to [`EventBridge`];
//! - [`error`]: errors by meaning, and their AWS codes in one place;
//! - this module: [`EventBridge`], the service handle and its in-process API (for the composition root, the CLI
//!   and the operator console).
//!
//! Rules and targets come from the template only: PutRule, PutTargets and the other operations that would change
//! them are refused (`OperationDisabledException`), as are archives, replays, connections, API destinations and
//! schedules (a scheduled rule is listed but never fires).

pub mod api;
pub mod catalog;
pub mod decl;
pub mod dispatch;
pub mod entry;
pub mod error;
pub mod input;
pub mod store;

pub use catalog::{Bus, Destination, RetryPolicy, Rule, RuleState, Target};
pub use entry::{EntryResult, PutEventsEntry, PutEventsResponse};
pub use error::EventsError;

use catalog::Catalog;
use event_pattern::Pattern;
use local_core::{
    Identity,
    invoke::{EventInvoker, ExecutionStarter, MessageSender},
};
use local_template::Template;
use serde::Serialize;
use serde_json::Value;
use std::{
    path::Path,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use store::{NewDelivery, Store};
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Where targets are delivered: the services EventBridge reaches, handed over by the composition root.
#[derive(Clone)]
pub struct Targets {
    /// Lambda's asynchronous invocation (its own retries and dead-letter queue apply after it).
    pub functions: Arc<dyn EventInvoker>,
    pub state_machines: Arc<dyn ExecutionStarter>,
    /// SQS: queue targets and dead-letter queues.
    pub queues: Arc<dyn MessageSender>,
}

/// What EventBridge has done since it opened, for the operator console.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Entries accepted (given an event id).
    pub events_put: u64,
    /// Entries refused (`FailedEntryCount`).
    pub entries_failed: u64,
    /// Rule matches (an event matching two rules counts two).
    pub rules_matched: u64,
    /// Deliveries (event × rule × target) queued.
    pub deliveries_queued: u64,
    /// Deliveries a target took.
    pub deliveries_made: u64,
    /// Failed attempts that are retried.
    pub deliveries_retried: u64,
    /// Deliveries given up (dead-lettered or dropped).
    pub deliveries_failed: u64,
    /// Of those, the ones a dead-letter queue took.
    pub dead_lettered: u64,
}

#[derive(Default)]
struct CounterCells {
    events_put: AtomicU64,
    entries_failed: AtomicU64,
    rules_matched: AtomicU64,
    deliveries_queued: AtomicU64,
    deliveries_made: AtomicU64,
    deliveries_retried: AtomicU64,
    deliveries_failed: AtomicU64,
    dead_lettered: AtomicU64,
}

/// A bus, for `local resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusResource {
    /// `None` for the default bus.
    pub logical_id: Option<String>,
    pub name: String,
    pub arn: String,
}

/// A rule, for `local resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleResource {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub event_bus_name: String,
    pub state: &'static str,
    pub event_pattern: Option<String>,
    pub targets: Vec<TargetResource>,
}

/// A rule's target, for `local resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: String,
    pub arn: String,
    pub dead_letter_arn: Option<String>,
}

/// The EventBridge service of the local stack. Cheap to share (`Arc<EventBridge>`); it is its own
/// [`local_core::endpoint::Service`]. Dropping the last handle stops its dispatcher; what was queued stays in the
/// data directory for [`EventBridge::recover`].
pub struct EventBridge {
    identity: Identity,
    catalog: Catalog,
    /// A std mutex: it is only ever locked on tokio's blocking pool, around one SQLite transaction (and once by
    /// [`Self::recover`] at start-up).
    store: Arc<Mutex<Store>>,
    targets: Targets,
    retry_base_delay: Duration,
    counters: CounterCells,
    /// Wakes the dispatcher when PutEvents queued deliveries.
    wake: Arc<Notify>,
    dispatcher: Mutex<Option<tokio::task::AbortHandle>>,
    this: Weak<EventBridge>,
}

impl std::fmt::Debug for EventBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBridge").field("catalog", &self.catalog).finish_non_exhaustive()
    }
}

impl Drop for EventBridge {
    fn drop(&mut self) {
        if let Some(task) = self.dispatcher.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The fields TestEventPattern requires of its event.
const TEST_EVENT_FIELDS: &[&str] = &["id", "account", "source", "time", "region", "detail-type"];

impl EventBridge {
    /// Reads the template's buses and rules (failing on bad content, naming the resource and the property) and opens
    /// the delivery queue in `<data_dir>/events/`. Nothing is delivered until a PutEvents, or [`Self::recover`].
    /// `retry_base_delay` is the first back-off of a failed delivery (each next one doubles it).
    pub fn open(
        data_dir: &Path,
        template: &Template,
        identity: Identity,
        targets: Targets,
        retry_base_delay: Duration,
    ) -> Result<Arc<Self>, EventsError> {
        let catalog = decl::read(template, &identity)?;
        let store = Store::open(&data_dir.join("events"))?;
        Ok(Arc::new_cyclic(|this| Self {
            identity,
            catalog,
            store: Arc::new(Mutex::new(store)),
            targets,
            retry_base_delay,
            counters: CounterCells::default(),
            wake: Arc::new(Notify::new()),
            dispatcher: Mutex::new(None),
            this: this.clone(),
        }))
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Delivers what a previous process queued and did not settle, each at once (back-off starts again), and
    /// starts the dispatcher. Returns how many deliveries were waiting. Call it on the stack's tokio runtime.
    pub fn recover(&self) -> Result<usize, EventsError> {
        let pending = self.store.lock().unwrap_or_else(|p| p.into_inner()).make_all_due(now_ms())?;
        if !self.start_dispatcher() && pending > 0 {
            return Err(EventsError::Internal("recovering deliveries needs a tokio runtime".into()));
        }
        self.wake.notify_one();
        Ok(pending)
    }

    /// Starts the dispatcher if it is not running; `false` outside a tokio runtime.
    fn start_dispatcher(&self) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
        let mut slot = self.dispatcher.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|task| task.is_finished()) {
            let task = runtime.spawn(dispatch::run(self.this.clone(), Arc::clone(&self.wake)));
            *slot = Some(task.abort_handle());
        }
        true
    }

    /// Runs `f` on the store, on tokio's blocking pool: a commit waits for the disk.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, EventsError> + Send + 'static,
    ) -> Result<T, EventsError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves SQLite consistent (the transaction rolls back).
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| EventsError::Internal(format!("a storage task failed: {e}")))?
    }

    /// PutEvents, as on the wire: the request is refused as a whole for 0 or over 10 entries, or over 256 KB of
    /// them; otherwise each entry is accepted (an event id) or refused on its own. Every delivery the accepted
    /// events match is committed before this returns.
    pub async fn put_events(&self, entries: Vec<PutEventsEntry>) -> Result<PutEventsResponse, EventsError> {
        if entries.is_empty() {
            return Err(EventsError::Validation(
                "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
            ));
        }
        if entries.len() > entry::MAX_ENTRIES {
            return Err(EventsError::Validation(format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to {} (it has {})",
                entry::MAX_ENTRIES,
                entries.len()
            )));
        }
        if entries.iter().map(PutEventsEntry::size).sum::<usize>() > entry::MAX_REQUEST_BYTES {
            return Err(EventsError::Validation("Total size of the entries in the request is over the limit.".into()));
        }
        let now = OffsetDateTime::now_utc();
        let ingestion_time = entry::event_time(now);
        let mut results = Vec::with_capacity(entries.len());
        let (mut events, mut deliveries, mut matched) = (Vec::new(), Vec::new(), 0);
        for e in &entries {
            match entry::accept(e, &self.identity, now) {
                Err(refused) => results.push(refused),
                Ok(event) => {
                    let before = deliveries.len();
                    matched += self.route(&event, &ingestion_time, &mut deliveries);
                    if deliveries.len() > before {
                        events.push((event.envelope.id.clone(), event.text));
                    }
                    results.push(EntryResult::Accepted { event_id: event.envelope.id });
                }
            }
        }
        let queued = deliveries.len();
        if queued > 0 {
            let now_ms = now_ms();
            self.with_store(move |s| s.enqueue(&events, &deliveries, now_ms)).await?;
            self.start_dispatcher();
            self.wake.notify_one();
        }
        let failed_entry_count = results.iter().filter(|r| matches!(r, EntryResult::Failed { .. })).count();
        let c = &self.counters;
        c.events_put.fetch_add((results.len() - failed_entry_count) as u64, Ordering::Relaxed);
        c.entries_failed.fetch_add(failed_entry_count as u64, Ordering::Relaxed);
        c.rules_matched.fetch_add(matched as u64, Ordering::Relaxed);
        c.deliveries_queued.fetch_add(queued as u64, Ordering::Relaxed);
        Ok(PutEventsResponse { failed_entry_count, entries: results })
    }

    /// The deliveries an event makes: one per target of each enabled rule of its bus that matches it. Returns how
    /// many rules matched.
    fn route(&self, event: &entry::Event, ingestion_time: &str, deliveries: &mut Vec<NewDelivery>) -> usize {
        if self.catalog.bus(&event.bus).is_none() {
            // AWS accepts an event for a bus that does not exist, and drops it.
            tracing::warn!(bus = %event.bus, id = %event.envelope.id, "PutEvents: there is no such event bus; the event is dropped");
            return 0;
        }
        let rules = self.catalog.matching(&event.bus, &event.value);
        for rule in &rules {
            let ctx =
                input::Context { event: &event.value, rule_arn: &rule.arn, rule_name: &rule.name, ingestion_time };
            for target in &rule.targets {
                let retries = target.retries();
                deliveries.push(NewDelivery {
                    event_id: event.envelope.id.clone(),
                    rule_arn: rule.arn.clone(),
                    target_id: target.id.clone(),
                    target_arn: target.arn.clone(),
                    destination: target.destination.clone(),
                    input: target.input.render(&ctx),
                    dead_letter: target.dead_letter_arn.clone(),
                    max_retries: retries.maximum_retry_attempts,
                    max_age_s: retries.maximum_event_age_seconds,
                });
            }
        }
        if rules.is_empty() {
            tracing::debug!(bus = %event.bus, id = %event.envelope.id, "PutEvents: the event matches no rule");
        }
        rules.len()
    }

    /// TestEventPattern: whether `event` (JSON text with `id`, `account`, `source`, `time`, `region` and
    /// `detail-type`) matches `pattern`.
    pub fn test_event_pattern(pattern: &str, event: &str) -> Result<bool, EventsError> {
        let pattern = Pattern::parse(pattern).map_err(|e| EventsError::InvalidEventPattern(e.to_string()))?;
        let invalid = |why: String| EventsError::Validation(format!("Parameter Event is not valid. Reason: {why}"));
        let event: Value = serde_json::from_str(event).map_err(|e| invalid(format!("it is not JSON: {e}")))?;
        let Some(fields) = event.as_object() else { return Err(invalid("it is not a JSON object".into())) };
        let missing: Vec<&str> = TEST_EVENT_FIELDS.iter().copied().filter(|f| !fields.contains_key(*f)).collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "the event has no {} (TestEventPattern requires {})",
                missing.join(", "),
                TEST_EVENT_FIELDS.join(", ")
            )));
        }
        Ok(pattern.matches(&event))
    }

    /// The buses, by name.
    pub fn buses(&self) -> Vec<BusResource> {
        self.catalog
            .buses()
            .iter()
            .map(|b| BusResource { logical_id: b.logical_id.clone(), name: b.name.clone(), arn: b.arn.clone() })
            .collect()
    }

    /// The rules, in the template's order.
    pub fn rules(&self) -> Vec<RuleResource> {
        self.catalog
            .rules()
            .iter()
            .map(|r| RuleResource {
                logical_id: r.logical_id.clone(),
                name: r.name.clone(),
                arn: r.arn.clone(),
                event_bus_name: r.bus.clone(),
                state: r.state.as_str(),
                event_pattern: r.event_pattern.clone(),
                targets: r
                    .targets
                    .iter()
                    .map(|t| TargetResource {
                        id: t.id.clone(),
                        arn: t.arn.clone(),
                        dead_letter_arn: t.dead_letter_arn.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// What has happened since the service opened.
    pub fn counters(&self) -> Counters {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            events_put: get(&c.events_put),
            entries_failed: get(&c.entries_failed),
            rules_matched: get(&c.rules_matched),
            deliveries_queued: get(&c.deliveries_queued),
            deliveries_made: get(&c.deliveries_made),
            deliveries_retried: get(&c.deliveries_retried),
            deliveries_failed: get(&c.deliveries_failed),
            dead_lettered: get(&c.dead_lettered),
        }
    }

    /// How many deliveries wait (to be made, or retried).
    pub async fn pending_deliveries(&self) -> Result<u64, EventsError> {
        self.with_store(|s| s.pending()).await
    }
}
