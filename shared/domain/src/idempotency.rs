//! Doing a side effect once per change, however often the change is delivered (the shape of Powertools for AWS
//! Lambda's idempotency utility): a record per [`IdempotencyKey`] says whether the effect is in progress or done.
//!
//! - [`Idempotency::claim`] takes the key for one attempt (a [`Holder`]) until a lapse time; a second attempt finds
//!   it [`ClaimOutcome::InProgress`] or [`ClaimOutcome::AlreadyDone`]. An in-progress claim whose lapse time has
//!   passed (its attempt crashed or timed out) can be taken over; so can a done record past its keep time.
//! - [`Idempotency::complete`] marks the effect done and keeps the record for a while (on DynamoDB with a TTL), so
//!   late duplicates find it; [`Idempotency::release`] gives the claim up after a failure, so a retry can take it at
//!   once rather than wait for the lapse.
//! - [`run_once`] puts the three around an action.
//!
//! Completion and release are conditional on the holder: an attempt that lapsed and was taken over can neither mark
//! the new attempt's work done nor throw its claim away. What cannot be had is exactly once: an attempt that lapses
//! mid-effect (the mail went out, then the function timed out) is done again by the next. The lapse time should
//! therefore comfortably exceed the function's timeout.
//!
//! Times are compared to the second (DynamoDB's TTL attribute is epoch seconds): a record lapses when its time is
//! at or before `now`.

use crate::{ChangeId, Error, StoreError, Timestamp};
use std::fmt;
use std::future::Future;

/// What a record is kept under: `{purpose}:{change id}`, so several side effects of one change can share a store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key, in bytes.
    pub const MAX_BYTES: usize = 255;

    /// The key of doing `purpose` (a fixed name such as `task-done-mail`) for `change`.
    pub fn for_change(purpose: &'static str, change: &ChangeId) -> Self {
        Self(format!("{purpose}:{change}"))
    }

    /// 1 to [`Self::MAX_BYTES`] bytes of visible ASCII.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.is_empty() || raw.len() > Self::MAX_BYTES || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Invalid(format!(
                "`{}` is not an idempotency key (1 to {} bytes of visible ASCII)",
                raw.chars().take(60).collect::<String>(),
                Self::MAX_BYTES
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One attempt at a side effect: who holds a claim. Random, so two attempts never share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder(String);

impl Holder {
    pub fn generate() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    /// 1 to 64 bytes of visible ASCII (what stores read back).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Invalid("not a claim holder".into()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is now held by the claiming attempt, until the lapse time it gave.
    Claimed,
    /// The effect was done (and its record is still kept): do not do it again.
    AlreadyDone,
    /// Another attempt holds the key until `until`; try again later.
    InProgress { until: Timestamp },
}

/// The record store. One trait rather than one per call: an attempt that claims must be able to complete and
/// release (the IAM actions go together: `PutItem`, `UpdateItem`, `DeleteItem` on one table).
pub trait Idempotency: Send + Sync {
    /// Takes `key` for `holder` until `until`, if no record holds it at `now` (none, or one whose time is at or
    /// before `now`); otherwise says what holds it. Atomic: of concurrent claims exactly one is `Claimed`.
    fn claim(
        &self,
        key: &IdempotencyKey,
        holder: &Holder,
        now: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<ClaimOutcome, StoreError>> + Send;

    /// Marks `holder`'s claim done, the record kept until `keep_until`. [`StoreError::NotFound`] when `holder` no
    /// longer holds it (it lapsed and was taken over, or was released), and then nothing changes.
    fn complete(
        &self,
        key: &IdempotencyKey,
        holder: &Holder,
        keep_until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives up `holder`'s in-progress claim, so the next claim succeeds at once. A claim `holder` does not hold
    /// (taken over, or done) is left alone, and that is not an error.
    fn release(&self, key: &IdempotencyKey, holder: &Holder) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How long a claim and a done record last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OncePolicy {
    /// How long an attempt holds its claim: longer than the function's timeout, so only a dead attempt lapses.
    pub lapse: time::Duration,
    /// How long a done record is kept: longer than duplicates can arrive late.
    pub keep: time::Duration,
}

/// What [`run_once`] did.
#[derive(Debug)]
pub enum Once<T> {
    /// The action ran, and the record says so.
    Ran(T),
    /// The action ran, but marking it done failed: a duplicate arriving after the claim lapses would do it again.
    /// Not an error, since failing now would have the effect retried at once; the caller should log it.
    RanUnrecorded(T, StoreError),
    /// Done before: the action did not run.
    AlreadyDone,
}

/// Why [`run_once`] did not run the action to success.
#[derive(Debug)]
pub enum OnceError<E> {
    /// Another attempt holds the claim until `until`.
    InProgress { until: Timestamp },
    /// The claim could not be made (the store is unavailable): the action did not run.
    Claim(StoreError),
    /// The action failed. Its claim was released so that a retry can take it, unless `release` says why not (then
    /// it lapses at its time).
    Failed { error: E, release: Option<StoreError> },
}

/// Runs `action` unless `key` is done or being done: claims the key until `now + policy.lapse`, runs the action,
/// then marks the key done until `now + policy.keep`, or releases it if the action failed.
pub async fn run_once<I, T, E, F, Fut>(
    store: &I,
    key: &IdempotencyKey,
    policy: OncePolicy,
    now: Timestamp,
    action: F,
) -> Result<Once<T>, OnceError<E>>
where
    I: Idempotency,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let holder = Holder::generate();
    match store.claim(key, &holder, now, now + policy.lapse).await {
        Ok(ClaimOutcome::Claimed) => {}
        Ok(ClaimOutcome::AlreadyDone) => return Ok(Once::AlreadyDone),
        Ok(ClaimOutcome::InProgress { until }) => return Err(OnceError::InProgress { until }),
        Err(e) => return Err(OnceError::Claim(e)),
    }
    match action().await {
        Ok(value) => match store.complete(key, &holder, now + policy.keep).await {
            Ok(()) => Ok(Once::Ran(value)),
            Err(e) => Ok(Once::RanUnrecorded(value, e)),
        },
        Err(error) => Err(OnceError::Failed { error, release: store.release(key, &holder).await.err() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TaskEventKind, TaskId};

    #[test]
    fn a_change_key_names_its_purpose_and_change_and_parses_back() {
        let change = ChangeId::new(TaskId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2").unwrap(), 2, TaskEventKind::TaskCreated);
        let key = IdempotencyKey::for_change("task-done-mail", &change);
        assert_eq!(key.as_str(), "task-done-mail:01JDQ3V5R5T4Y2E7Q9M8N6B4C2/2/TaskCreated");
        assert_eq!(IdempotencyKey::parse(key.as_str()).unwrap(), key);
        for bad in ["", "a b", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert_ne!(Holder::generate(), Holder::generate());
    }
}
