//! Errors by meaning. The HTTP layer (`apigw::response`) maps each variant to a status in one place; adapters map
//! their own failures into [`StoreError`] so that "the condition failed" is never confused with "the store is down".
//!
//! Objects, queues and mail report [`ServiceError`], a sibling of [`StoreError`] rather than more variants of it:
//! a store's answers are about conditional writes on items (`AlreadyExists`, `VersionMismatch`), which these
//! services never give, while they have answers a store never gives (access denied by a bucket policy, a message
//! the mail service refuses). One type for the three keeps a pipeline that reads an object, mails it and queues a
//! notice to one `match`; each port's doc says which variants it can return.

use std::error::Error as StdError;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// What a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request could not be read at all: no body, malformed JSON, bad query parameter, forged page token.
    #[error("{0}")]
    BadRequest(String),
    /// The request was well-formed but a value breaks a rule: wrong type, empty title, unknown status.
    #[error("{0}")]
    Invalid(String),
    /// No valid identity: no token, or a token without a usable subject.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The thing does not exist, or belongs to someone else (deliberately indistinguishable).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `If-Match` named a version that is no longer current.
    #[error("version {expected} does not match the current version {current}")]
    VersionMismatch { expected: u64, current: u64 },
    /// The store failed for a reason the caller cannot fix. The source is logged, never sent to clients.
    #[error("the store is unavailable")]
    Store(#[source] Source),
}

/// What a store adapter reports. Conditions that failed are told apart from outages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("item not found")]
    NotFound,
    #[error("version mismatch: current version is {current}")]
    VersionMismatch { current: u64 },
    #[error("item already exists")]
    AlreadyExists,
    #[error("store unavailable")]
    Unavailable(#[source] Source),
}

impl StoreError {
    pub fn unavailable(err: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

/// What an object store, a message queue or a mail service reports, by what the caller should do about it. Every
/// variant keeps the service's own error as its source, for the logs; only [`ServiceError::Unavailable`] is worth
/// retrying unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The bucket or queue named does not exist (a missing *object* is `Ok(None)` on reads, not this).
    #[error("not found")]
    NotFound(#[source] Source),
    /// The credentials or a policy do not allow the call: a deployment mistake, not worth retrying.
    #[error("access denied")]
    AccessDenied(#[source] Source),
    /// The service refused the request as malformed or over a limit; sending it again fails again.
    #[error("invalid request")]
    InvalidInput(#[source] Source),
    /// The mail service refused this message (unverified sender, sending paused, suppressed recipient). The
    /// message will not go out as it is; another message may.
    #[error("mail rejected")]
    MailRejected(#[source] Source),
    /// Throttled, a 5xx, a timeout or no connection: the same request may succeed later.
    #[error("service unavailable")]
    Unavailable(#[source] Source),
}

impl ServiceError {
    /// Whether sending the same request again later may succeed (what a state machine's `Retry` should match).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// An error and its causes on one line (`outer: cause: root cause`), for logs and for messages that must carry the
/// whole story.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
