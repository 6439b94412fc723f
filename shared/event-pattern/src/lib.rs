//! EventBridge event patterns: parsed and validated as AWS does, compiled once, matched fast.
//!
//! ```
//! use event_pattern::{Matcher, Pattern};
//!
//! let pattern = Pattern::parse(r#"{"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "pending"}]}}"#)?;
//! let event = br#"{"source": "aws.ec2", "detail": {"state": "running"}}"#;
//! assert!(pattern.matches_json(event)?);
//!
//! let mut rules = Matcher::new();
//! rules.add("ec2-not-pending", pattern);
//! assert_eq!(rules.matching_json(event)?, vec![&"ec2-not-pending"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Why not a crate
//!
//! Two crates were evaluated. `event-ruler` on crates.io (0.1.0) is an empty name reservation. `quamina`
//! (0.7.0, a port of Tim Bray's Go quamina) is well kept and fast, but it implements quamina's language, not
//! EventBridge's: it has no `$or`, no `anything-but` with `prefix`/`suffix`/`wildcard`/`equals-ignore-case`, no
//! `prefix`/`suffix` with `equals-ignore-case`, adds operators EventBridge refuses (`regexp`, `shellstyle`), and
//! its error messages are its own — an emulator must refuse exactly what `PutRule` refuses, with AWS's reasons.
//! So this crate implements the language, following AWS's reference implementation, event-ruler, wherever the
//! user guide is silent.
//!
//! # Layout
//!
//! - `compile` turns pattern JSON into a list of branches (`$or` expanded the way event-ruler's
//!   `JsonRuleCompiler` expands it), validating every operator with event-ruler's messages. Each field's value list
//!   becomes one `FieldMatcher` (module `condition`): exact strings in a set, prefixes and suffixes as strings,
//!   `equals-ignore-case` forms pre-folded, wildcards parsed into literal pieces (`wildcard`), numbers as
//!   intervals over event-ruler's comparable numbers (`numeric`), addresses and CIDR blocks as integer ranges
//!   (`cidr`). A pattern is never re-read as JSON after that.
//! - `fields` records the dotted field paths patterns read; `event` flattens an event to the scalar leaves at those
//!   paths, either from a `serde_json::Value` or straight from JSON bytes, skipping unread values without building
//!   them. Each leaf carries the array elements it sits in.
//! - `eval` decides one branch: every field must have an accepted leaf (or be absent, for `exists: false`), and
//!   the chosen leaves must be array-consistent.
//! - [`Matcher`] holds many patterns, reads an event once for all of them, and indexes branches by an exact-string
//!   field so an event evaluates only the rules that can match it.
//!
//! # Semantics, where the user guide is silent or wrong
//!
//! - **Numbers** compare as numbers: `[300]` matches `300`, `300.0` and `3.0e2` (the guide says otherwise; AWS
//!   and event-ruler match, which is what counts). Comparison is event-ruler's: values within ±5.0e9, to six
//!   decimal places (rounded to the nearest millionth; more decimals are accepted, not refused). `numeric`
//!   operands outside that range are refused ("Value must be between -5.0E9 and 5.0E9, inclusive"); event numbers
//!   outside it never satisfy `numeric`; a plain number outside it (an account id) still matches the same value.
//! - **Arrays** in events: a field matches when any element matches. For arrays of objects, matching is
//!   array-consistent like event-ruler's `rulesForJSONEvent`: two fields may not be satisfied from different
//!   elements of one array (`{"employees": {"first": ["Anna"], "last": ["Jones"]}}` does not match Anna Smith
//!   and Peter Jones). Nested arrays are flattened. An empty array contributes nothing, so the field is absent.
//! - **`exists`** looks at leaves only, as AWS documents: `exists: true` needs a scalar (null included) at the
//!   path; a path holding only an object, or an empty array, does not exist, so `exists: false` matches it.
//!   `exists: false` is judged on the whole event, not per array element.
//! - **`anything-but`** needs the field present; it then accepts every value it does not exclude, of any type:
//!   `{"anything-but": "x"}` and `{"anything-but": {"prefix": "x"}}` accept `null` and numbers (both checked against
//!   AWS). A numeric `anything-but` list excludes numbers only, a string list strings only.
//! - **String forms** (`prefix`, `suffix`, `wildcard`, `equals-ignore-case`, `cidr`) never match non-strings.
//!   A plain string value that is an IP address is matched as an address, as event-ruler does.
//! - **`cidr`** follows event-ruler: the range runs from the address as written to that address with the host
//!   bits set, and `/32` (IPv4) or `/128` (IPv6) is refused.
//! - **Dots**: paths are joined with `.`, so `{"a.b": [1]}` and `{"a": {"b": [1]}}` are the same pattern and read
//!   both event shapes, as on AWS.
//! - **`$or`** is event-ruler's: an array of at least two non-empty objects, each an alternative that combines
//!   with the fields around the `$or`; operator names (`prefix`, `numeric`, ...) may not name fields inside it.
//!   Event-ruler's undocumented `{"exactly": "..."}` (text match, no address parsing) is accepted too.
//! - **Repeated fields**: a field given twice in one alternative keeps the last one, in the order the JSON object
//!   iterates (sorted keys for a `serde_json::Value`).
//! - **Limits**: patterns nested deeper than [`MAX_PATTERN_DEPTH`], `$or`s combining into more than
//!   [`MAX_OR_COMBINATIONS`] alternatives, or a wildcard with more than [`MAX_WILDCARDS_PER_VALUE`] stars are
//!   refused as too complex (EventBridge's wording: "Rule is too complex - ..."). AWS's own example of a
//!   too-complex wildcard, `*:*:*:*:*:event-bus/*`, has six stars; event-ruler's exact measure (live automaton
//!   states) is approximated by the star count, plus at most 100 stars over one field. The pattern's length quota
//!   (2048 characters by default, 4096 at most) is the service's to apply: see [`DEFAULT_MAX_PATTERN_LENGTH`].
//!   Events nested deeper than [`MAX_EVENT_DEPTH`] are an error, as with serde_json.
//! - **Errors** display event-ruler's reason and the field it concerns (`prefix match pattern must be a string at
//!   field "time"`); [`PatternError::aws_message`] prefixes AWS's "Event pattern is not valid. Reason: ".
//! - **Reading bytes**: the fast path checks JSON structure, numbers, escapes, and the UTF-8 of every string it
//!   reads; strings it skips are not checked for UTF-8 or raw control characters. Duplicate keys in an event read
//!   as bytes are all seen; a parsed `Value` keeps only the last.

mod cidr;
mod compile;
mod condition;
mod error;
mod eval;
mod event;
mod fields;
mod matcher;
mod numeric;
mod wildcard;

use std::sync::Arc;

use serde_json::Value;

pub use compile::{MAX_OR_COMBINATIONS, MAX_PATTERN_DEPTH};
pub use error::{ErrorKind, EventError, PatternError};
pub use event::MAX_EVENT_DEPTH;
pub use matcher::Matcher;
pub use numeric::NUMERIC_LIMIT;
pub use wildcard::MAX_WILDCARDS_PER_VALUE;

use compile::Compiled;
use event::FlatEvent;
use fields::FieldSet;

/// EventBridge's default quota on the length of an event pattern, in characters (adjustable up to 4096). Not
/// applied by [`Pattern::parse`]: AWS reports it as a quota, not as an invalid pattern.
pub const DEFAULT_MAX_PATTERN_LENGTH: usize = 2048;

/// A validated, compiled event pattern. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Pattern {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    compiled: Compiled,
    fields: FieldSet,
}

impl Pattern {
    /// Parses pattern text (as `PutRule`'s `EventPattern`).
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PatternError::new(ErrorKind::Syntax, e.to_string(), None))?;
        Self::from_value(&value)
    }

    pub fn from_value(pattern: &Value) -> Result<Pattern, PatternError> {
        let compiled = compile::compile(pattern)?;
        let fields = FieldSet::new(compiled.fields.iter().map(|f| &**f));
        Ok(Pattern { inner: Arc::new(Inner { compiled, fields }) })
    }

    pub fn matches(&self, event: &Value) -> bool {
        self.decide(&FlatEvent::from_value(event, &self.inner.fields))
    }

    /// As [`Pattern::matches`], reading the event straight from its JSON text and looking only at the fields this
    /// pattern names.
    pub fn matches_json(&self, event: &[u8]) -> Result<bool, EventError> {
        Ok(self.decide(&FlatEvent::from_json(event, &self.inner.fields)?))
    }

    /// The dotted paths of the fields the pattern reads.
    pub fn field_paths(&self) -> impl Iterator<Item = &str> {
        self.inner.compiled.fields.iter().map(|f| &**f)
    }

    /// How many alternatives the pattern has once every `$or` is expanded.
    pub fn alternatives(&self) -> usize {
        self.inner.compiled.branches.len()
    }

    pub(crate) fn compiled(&self) -> &Compiled {
        &self.inner.compiled
    }

    fn decide(&self, event: &FlatEvent<'_>) -> bool {
        self.inner.compiled.branches.iter().any(|b| eval::branch_matches(b, |f| f, event))
    }
}
