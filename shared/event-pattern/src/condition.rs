//! What one field of a pattern accepts, compiled: the value list `"state": ["a", {"prefix": "b"}, ...]` becomes one
//! [`FieldMatcher`] holding each kind of condition in the form that tests fastest (string sets, lowered
//! prefixes, parsed wildcards, intervals, address ranges). A leaf value of the event matches when any condition
//! accepts it.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::cidr::{IpRange, parse_ip};
use crate::numeric::{Interval, NumberLiteral, comparable};
use crate::wildcard::Wildcard;

/// A scalar found in the event at a field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Leaf<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    Null,
}

/// Case folding for the `equals-ignore-case` family; ASCII stays cheap.
pub(crate) fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(s.to_ascii_lowercase()) } else { Cow::Borrowed(s) }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// A small set of strings: a scan for the usual handful, a hash set past that.
#[derive(Debug, Clone, Default)]
pub(crate) struct StrSet {
    few: Vec<Box<str>>,
    many: Option<HashSet<Box<str>>>,
}

impl StrSet {
    const SCAN_LIMIT: usize = 8;

    pub(crate) fn insert(&mut self, s: &str) {
        if let Some(many) = &mut self.many {
            many.insert(s.into());
        } else if !self.few.iter().any(|x| &**x == s) {
            self.few.push(s.into());
            if self.few.len() > Self::SCAN_LIMIT {
                self.many = Some(self.few.drain(..).collect());
            }
        }
    }

    pub(crate) fn contains(&self, s: &str) -> bool {
        match &self.many {
            Some(many) => many.contains(s),
            None => self.few.iter().any(|x| &**x == s),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.few.is_empty() && self.many.as_ref().is_none_or(HashSet::is_empty)
    }

    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.many {
            Some(many) => Box::new(many.iter().map(|s| &**s)),
            None => Box::new(self.few.iter().map(|s| &**s)),
        }
    }
}

/// `anything-but` in its forms. Each accepts every leaf it does not exclude, and only string forms can exclude
/// strings, only the numeric form numbers: `{"anything-but": {"prefix": "init"}}` accepts `12` and `null`, as
/// EventBridge does.
#[derive(Debug, Clone)]
pub(crate) enum AnythingBut {
    Strings(StrSet),
    /// Comparable numbers (micro-units).
    Numbers(Vec<i64>),
    /// Folded strings.
    IgnoreCase(StrSet),
    Prefixes(Vec<Box<str>>),
    Suffixes(Vec<Box<str>>),
    Wildcards(Vec<Wildcard>),
}

impl AnythingBut {
    fn accepts(&self, leaf: &Leaf<'_>) -> bool {
        match (self, leaf) {
            (Self::Strings(set), Leaf::Str(s)) => !set.contains(s),
            (Self::Numbers(set), Leaf::Num(n)) => comparable(*n).is_none_or(|c| !set.contains(&c)),
            (Self::IgnoreCase(set), Leaf::Str(s)) => !set.contains(&fold(s)),
            (Self::Prefixes(ps), Leaf::Str(s)) => !ps.iter().any(|p| s.starts_with(&**p)),
            (Self::Suffixes(ps), Leaf::Str(s)) => !ps.iter().any(|p| s.ends_with(&**p)),
            (Self::Wildcards(ws), Leaf::Str(s)) => !ws.iter().any(|w| w.matches(s)),
            _ => true,
        }
    }
}

/// Every condition one field's value list holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldMatcher {
    pub(crate) exact: StrSet,
    pub(crate) numbers: Vec<NumberLiteral>,
    /// String values that are IP addresses: event-ruler matches them as addresses, not text.
    pub(crate) addresses: Vec<IpRange>,
    pub(crate) null: bool,
    pub(crate) true_: bool,
    pub(crate) false_: bool,
    pub(crate) prefixes: Vec<Box<str>>,
    /// Folded.
    pub(crate) prefixes_ignore_case: Vec<Box<str>>,
    pub(crate) suffixes: Vec<Box<str>>,
    /// Folded.
    pub(crate) suffixes_ignore_case: Vec<Box<str>>,
    /// Folded.
    pub(crate) equals_ignore_case: StrSet,
    pub(crate) wildcards: Vec<Wildcard>,
    pub(crate) intervals: Vec<Interval>,
    pub(crate) cidrs: Vec<IpRange>,
    pub(crate) anything_but: Vec<AnythingBut>,
    pub(crate) exists: bool,
    pub(crate) absent: bool,
}

impl FieldMatcher {
    fn accepts_non_exact_values(&self) -> bool {
        !self.numbers.is_empty()
            || !self.addresses.is_empty()
            || self.null
            || self.true_
            || self.false_
            || !self.prefixes.is_empty()
            || !self.prefixes_ignore_case.is_empty()
            || !self.suffixes.is_empty()
            || !self.suffixes_ignore_case.is_empty()
            || !self.equals_ignore_case.is_empty()
            || !self.wildcards.is_empty()
            || !self.intervals.is_empty()
            || !self.cidrs.is_empty()
            || !self.anything_but.is_empty()
            || self.exists
    }

    /// The exact strings, when they are the only condition: such a field can index its pattern.
    pub(crate) fn only_exact_strings(&self) -> Option<&StrSet> {
        (!self.exact.is_empty() && !self.accepts_non_exact_values() && !self.absent).then_some(&self.exact)
    }

    /// A rough cost of testing this field, to test cheap and selective fields first.
    pub(crate) fn cost(&self) -> u32 {
        if self.only_exact_strings().is_some() {
            0
        } else if !self.wildcards.is_empty()
            || !self.equals_ignore_case.is_empty()
            || !self.prefixes_ignore_case.is_empty()
            || !self.suffixes_ignore_case.is_empty()
            || !self.anything_but.is_empty()
        {
            3
        } else if self.exists || self.absent {
            2
        } else {
            1
        }
    }

    pub(crate) fn matches(&self, leaf: &Leaf<'_>) -> bool {
        if self.exists {
            return true;
        }
        let by_kind = match leaf {
            Leaf::Str(s) => self.matches_str(s),
            Leaf::Num(n) => self.numbers.iter().any(|l| l.matches(*n)) || self.intervals.iter().any(|i| i.contains(*n)),
            Leaf::Bool(true) => self.true_,
            Leaf::Bool(false) => self.false_,
            Leaf::Null => self.null,
        };
        by_kind || self.anything_but.iter().any(|a| a.accepts(leaf))
    }

    fn matches_str(&self, s: &str) -> bool {
        if self.exact.contains(s)
            || self.prefixes.iter().any(|p| s.starts_with(&**p))
            || self.suffixes.iter().any(|p| s.ends_with(&**p))
            || self.wildcards.iter().any(|w| w.matches(s))
        {
            return true;
        }
        if (!self.addresses.is_empty() || !self.cidrs.is_empty())
            && parse_ip(s).is_ok_and(|ip| self.addresses.iter().chain(&self.cidrs).any(|r| r.contains(ip)))
        {
            return true;
        }
        if !self.equals_ignore_case.is_empty()
            || !self.prefixes_ignore_case.is_empty()
            || !self.suffixes_ignore_case.is_empty()
        {
            let folded = fold(s);
            return self.equals_ignore_case.contains(&folded)
                || self.prefixes_ignore_case.iter().any(|p| folded.starts_with(&**p))
                || self.suffixes_ignore_case.iter().any(|p| folded.ends_with(&**p));
        }
        false
    }
}
