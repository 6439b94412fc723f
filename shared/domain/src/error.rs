//! Errors by meaning. The HTTP layer (`apigw::response`) maps each variant to a status in one place; adapters map
//! their own failures into [`StoreError`] so that "the condition failed" is never confused with "the store is down".

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
