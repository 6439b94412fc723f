//! SQS in the local stack: standard queues from the template (`AWS::SQS::Queue`) and queues users create, durable
//! in the data directory, spoken to in SQS's own AWS JSON 1.0 protocol so the SDKs and `aws sqs` work unchanged.
//!
//! - [`queue`]: queue names, how a queue URL / ARN / name is read, queue settings parsed with AWS's ranges;
//! - [`message`]: message bodies and attributes as checked values, and the MD5 digests AWS computes for them;
//! - [`store`]: the SQLite database (`<data>/sqs/queues.sqlite3`) every change is committed to before it is
//!   acknowledged: nothing acknowledged is lost on `kill -9`;
//! - [`api`]: the wire protocol: each request parsed into a typed command, then applied to [`Sqs`];
//! - [`error`]: errors by meaning, and how each is told on the wire, in one place;
//! - this module: [`Sqs`], the service handle — opening the store, creating the template's queues, long polling,
//!   and the in-process API other services (through [`MessageSender`]) and the operator console use.
//!
//! Only standard queues are emulated: FIFO queues (`.fifo` names, `FifoQueue`) are refused with
//! `UnsupportedOperation`, rather than accepted and delivered without FIFO's ordering and deduplication.
//! Not emulated either: tags, permissions, message move tasks, KMS (its attributes are kept but have no effect),
//! `QueueDeletedRecently` (a deleted queue's name can be reused at once).

pub mod api;
pub mod error;
pub mod message;
pub mod queue;
pub mod store;

pub use error::SqsError;
pub use message::{Attribute, AttributeValue, ReceivedMessage, SentMessage};
pub use queue::{QueueConfig, QueueName, RedrivePolicy};
pub use store::{Claimed, Counts};

use local_core::{
    BoxFuture, Identity,
    invoke::{MessageSender, SendError},
};
use local_template::Template;
use message::NewMessage;
use queue::{AttributeChanges, QueueAddress};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use store::{Receipt, Store};
use tokio::sync::Notify;

/// The longest a receive may wait for a message (`WaitTimeSeconds`), as on AWS.
pub const MAX_WAIT_SECONDS: u32 = 20;

/// A queue of the template, for `local resources`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueResource {
    pub logical_id: String,
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// A queue with its settings and message counts, for the operator console.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueSummary {
    pub name: String,
    pub arn: String,
    pub counts: Counts,
    pub config: QueueConfig,
    pub created_timestamp: i64,
    pub last_modified_timestamp: i64,
}

/// The SQS service of the local stack. Cheap to share (`Arc<Sqs>`); it is its own [`local_core::endpoint::Service`]
/// and [`MessageSender`].
pub struct Sqs {
    /// A std mutex: it is only ever locked on tokio's blocking pool, around one SQLite transaction.
    store: Arc<Mutex<Store>>,
    identity: Identity,
    /// Receivers long-polling a queue wait on its `Notify`; a send to the queue wakes them.
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
    template_queues: Vec<(String, String)>,
}

impl std::fmt::Debug for Sqs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqs").field("template_queues", &self.template_queues).finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Sqs {
    /// Opens the queues kept in `<data_dir>/sqs/`, then makes the template's queues exist with the template's
    /// attributes (a queue of the template already there keeps its messages).
    pub fn open(data_dir: &Path, template: &Template, identity: Identity) -> Result<Arc<Self>, SqsError> {
        let mut store = Store::open(&data_dir.join("sqs"), identity.clone())?;
        let declared = template_queues(template, &identity)?;
        let now = now_ms();
        for (logical_id, name, config) in &declared {
            if let Some(policy) = &config.redrive_policy {
                let target = policy.target();
                let known = declared.iter().any(|(_, n, _)| n.as_str() == target) || store.queue(target)?.is_some();
                if !known {
                    return Err(SqsError::TemplateQueue {
                        queue: logical_id.clone(),
                        problem: format!("RedrivePolicy: the dead-letter queue `{target}` does not exist"),
                    });
                }
            }
            if store.put_queue(name.as_str(), config, now / 1000)? {
                tracing::debug!(queue = %name, "template queue created or updated");
            }
        }
        let expired = store.sweep_expired(now)?;
        if expired > 0 {
            tracing::info!(expired, "removed messages past their queues' retention period");
        }
        Ok(Arc::new(Self {
            store: Arc::new(Mutex::new(store)),
            identity,
            waiters: Mutex::new(HashMap::new()),
            template_queues: declared.into_iter().map(|(id, name, _)| (id, name.to_string())).collect(),
        }))
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The URL of queue `name` as served at `host` (`127.0.0.1:4566`): `http://<host>/<account>/<name>`.
    pub fn queue_url_for(&self, host: &str, name: &str) -> String {
        format!("http://{host}/{}/{name}", self.identity.account)
    }

    /// The template's queues, with their URLs as served at `host`.
    pub fn resources(&self, host: &str) -> Vec<QueueResource> {
        self.template_queues
            .iter()
            .map(|(logical_id, name)| QueueResource {
                logical_id: logical_id.clone(),
                name: name.clone(),
                url: self.queue_url_for(host, name),
                arn: self.identity.queue_arn(name).to_string(),
            })
            .collect()
    }

    /// Runs `f` on the store, on tokio's blocking pool: a commit waits for the disk.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, SqsError> + Send + 'static,
    ) -> Result<T, SqsError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves SQLite's state consistent (the transaction rolls back), so
            // the lock's poison carries no meaning here.
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| SqsError::Internal(e.to_string()))?
    }

    fn waiter(&self, queue: &str) -> Arc<Notify> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(waiters.entry(queue.to_owned()).or_default())
    }

    /// Wakes the receivers long-polling `queue`: a message may have become visible there.
    pub(crate) fn wake(&self, queue: &str) {
        let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = waiters.get(queue) {
            n.notify_waiters();
        }
    }

    /// Sends `messages` to `queue`, answering once they are committed.
    pub(crate) async fn send_messages(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Result<SentMessage, SqsError>>, SqsError> {
        let (name, sender) = (queue.to_owned(), self.identity.account.clone());
        let results = self.with_store(move |s| s.send(&name, &messages, &sender, now_ms())).await?;
        if results.iter().any(Result::is_ok) {
            self.wake(queue);
        }
        Ok(results)
    }

    /// Receives up to `max` messages, waiting up to `wait` for one to arrive (long polling): woken by a send,
    /// or when a delayed or in-flight message becomes visible.
    pub(crate) async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Option<u32>,
        wait: Option<u32>,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let wait = match wait {
            Some(w) => w,
            None => {
                let name = queue.to_owned();
                self.with_store(move |s| s.require(&name)).await?.config.receive_message_wait_time_seconds
            }
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
        let waiter = self.waiter(queue);
        loop {
            // Registered before looking, so a send between the look and the wait still wakes this receiver.
            let notified = waiter.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let name = queue.to_owned();
            let receipt: Receipt = self.with_store(move |s| s.receive(&name, max, visibility, now_ms())).await?;
            for dead_letter_queue in &receipt.moved_to {
                self.wake(dead_letter_queue);
            }
            let now = tokio::time::Instant::now();
            if !receipt.messages.is_empty() || now >= deadline {
                return Ok(receipt.messages);
            }
            let wake_at = receipt
                .next_visible_ms
                .map(|at| now + Duration::from_millis((at - now_ms()).max(1) as u64))
                .map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    // --- The in-process API: other services and the operator console. ---

    fn address(&self, queue: &str) -> Result<String, SqsError> {
        QueueAddress::any(queue, &self.identity).map(|a| a.0)
    }

    /// Every queue with its message counts, by name.
    pub async fn queues(&self) -> Result<Vec<QueueSummary>, SqsError> {
        let identity = self.identity.clone();
        self.with_store(move |s| {
            let now = now_ms();
            let mut out = Vec::new();
            for name in s.queue_names()? {
                let Some(q) = s.queue(&name)? else { continue };
                out.push(QueueSummary {
                    arn: identity.queue_arn(&name).to_string(),
                    counts: s.counts(&q, now)?,
                    name,
                    config: q.config,
                    created_timestamp: q.created_s,
                    last_modified_timestamp: q.modified_s,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Up to `limit` of a queue's messages (its URL, ARN or name), oldest first, whether visible or not, without
    /// receiving them: their visibility and receive counts stay as they are.
    pub async fn peek(&self, queue: &str, limit: usize) -> Result<Vec<ReceivedMessage>, SqsError> {
        let name = self.address(queue)?;
        self.with_store(move |s| {
            let q = s.require(&name)?;
            s.peek(&q, limit, now_ms())
        })
        .await
    }

    /// Receives the one message `message_id` of a queue (URL, ARN or name) for `visibility` seconds, if no consumer
    /// holds it now ([`Claimed`]); the caller then deletes it with [`Self::delete`], or lets it go with
    /// [`Self::release`]. The operator console's redrive: act on a dead letter only once no one else can.
    pub async fn claim(&self, queue: &str, message_id: &str, visibility: u32) -> Result<Claimed, SqsError> {
        let (name, id) = (self.address(queue)?, message_id.to_owned());
        self.with_store(move |s| s.claim(&name, &id, visibility, now_ms())).await
    }

    /// Deletes a received message by its receipt handle (DeleteMessage).
    pub async fn delete(&self, queue: &str, receipt_handle: &str) -> Result<(), SqsError> {
        let (name, handle) = (self.address(queue)?, receipt_handle.to_owned());
        let mut results = self.with_store(move |s| s.delete_messages(&name, &[handle])).await?;
        results.pop().unwrap_or(Ok(()))
    }

    /// Makes a received message visible again at once (ChangeMessageVisibility to 0).
    pub async fn release(&self, queue: &str, receipt_handle: &str) -> Result<(), SqsError> {
        let (name, handle) = (self.address(queue)?, receipt_handle.to_owned());
        let mut results = self.with_store(move |s| s.change_visibility(&name, &[(handle, 0)], now_ms())).await?;
        self.wake(&self.address(queue)?);
        results.pop().unwrap_or(Ok(()))
    }

    /// Sends one message with string attributes to a queue given by URL, ARN or name.
    pub async fn send(
        &self,
        queue: &str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> Result<SentMessage, SqsError> {
        let name = self.address(queue)?;
        let attributes = attributes.into_iter().map(|(k, v)| (k, Attribute::string(v).to_wire())).collect();
        let message = NewMessage::parse(Some(body), message::parse_attributes(&attributes)?, None)?;
        let mut results = self.send_messages(&name, vec![message]).await?;
        results.pop().unwrap_or_else(|| Err(SqsError::Internal("a send answered nothing".into())))
    }
}

impl MessageSender for Sqs {
    fn send_message<'a>(
        &'a self,
        queue: &'a str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move { Ok(self.send(queue, body, attributes).await?.message_id) })
    }
}

/// The template's queues: logical id, name and settings, checked as CreateQueue checks them.
fn template_queues(
    template: &Template,
    identity: &Identity,
) -> Result<Vec<(String, QueueName, QueueConfig)>, SqsError> {
    let mut out = Vec::new();
    for r in template.of_type(&["AWS::SQS::Queue"]) {
        let problem = |problem: String| SqsError::TemplateQueue { queue: r.id.to_owned(), problem };
        let name = template.physical_name(r.id)?;
        let name = QueueName::parse(&name).map_err(|e| problem(e.to_string()))?;
        let props = r.properties;
        let fifo = match &props["FifoQueue"] {
            Value::Null => false,
            v => template.string(v, &format!("{}.FifoQueue", r.id))? == "true",
        };
        if fifo {
            return Err(problem(queue::fifo_unsupported().to_string()));
        }
        let mut attributes = HashMap::new();
        for key in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
        ] {
            if let Some(v) = template.integer(&props[key], &format!("{}.{key}", r.id))? {
                attributes.insert(key.to_owned(), v.to_string());
            }
        }
        let at = format!("{}.RedrivePolicy", r.id);
        match &props["RedrivePolicy"] {
            Value::Null => {}
            Value::Object(policy) => {
                let arn = template.string(&policy.get("deadLetterTargetArn").cloned().unwrap_or_default(), &at)?;
                let count = template.integer(&policy.get("maxReceiveCount").cloned().unwrap_or_default(), &at)?;
                let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": count});
                attributes.insert("RedrivePolicy".to_owned(), policy.to_string());
            }
            v => {
                attributes.insert("RedrivePolicy".to_owned(), template.string(v, &at)?);
            }
        }
        let changes = AttributeChanges::parse(&attributes, identity).map_err(|e| problem(e.to_string()))?;
        out.push((r.id.to_owned(), name, changes.apply_to(QueueConfig::default())));
    }
    Ok(out)
}
