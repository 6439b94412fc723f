//! The two ways input can be wrong: a pattern AWS would refuse ([`PatternError`]) and an event that is not
//! readable JSON ([`EventError`]).

use std::fmt;

/// What kind of problem a [`PatternError`] reports, for callers that answer differently (an emulated `PutRule`
/// answers all of them with `InvalidEventPatternException`, but a CLI may want to say "not JSON" apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not JSON at all.
    Syntax,
    /// Well-formed JSON that is not a valid event pattern (AWS: `InvalidEventPatternException`).
    Invalid,
    /// A valid pattern beyond the complexity bounds (wildcards, `$or` combinations, nesting).
    TooComplex,
}

/// Why a pattern was refused.
///
/// `Display` is the reason alone, worded as event-ruler (and so EventBridge) words it, followed by the field
/// path it concerns, e.g. `prefix match pattern must be a string at field "time"`. AWS's full message is
/// [`PatternError::aws_message`]: `Event pattern is not valid. Reason: <Display>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    kind: ErrorKind,
    reason: String,
    path: Option<String>,
}

impl PatternError {
    pub(crate) fn new(kind: ErrorKind, reason: impl Into<String>, path: Option<&str>) -> Self {
        Self { kind, reason: reason.into(), path: path.map(str::to_owned) }
    }

    pub(crate) fn invalid(reason: impl Into<String>, path: Option<&str>) -> Self {
        Self::new(ErrorKind::Invalid, reason, path)
    }

    pub(crate) fn too_complex(reason: impl Into<String>, path: Option<&str>) -> Self {
        Self::new(ErrorKind::TooComplex, reason, path)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The reason without the field path, exactly as event-ruler words it where it has a wording.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The dotted path of the field the problem is in (`detail.state`), when the problem is in one field.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The message of AWS's `InvalidEventPatternException`.
    pub fn aws_message(&self) -> String {
        format!("Event pattern is not valid. Reason: {self}")
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} at field \"{}\"", self.reason, path),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PatternError {}

/// Why the bytes of an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not valid JSON: {reason} at byte {offset}")]
    InvalidJson { reason: &'static str, offset: usize },
    #[error("event is nested deeper than {limit} levels")]
    TooDeep { limit: usize },
}
