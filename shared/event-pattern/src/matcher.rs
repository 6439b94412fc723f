//! Many patterns matched together. The matcher keeps the union of the field paths its patterns read (so an event
//! is flattened once, and the byte reader skips everything else) and an index so an event evaluates only the
//! branches that can match it:
//!
//! - a branch with a field whose only conditions are exact strings (typically `source` or `detail-type`) is
//!   filed under that field and each of those strings; of its eligible fields, the one whose values are most
//!   varied across the matcher is chosen, as it splits the branches finest;
//! - other branches are evaluated for every event.
//!
//! For an event, the strings at each indexing field are looked up, and the branches found (plus the unindexed
//! ones) are evaluated in full. The index is rebuilt on `add`/`remove`: rules change rarely, events often.

use std::collections::HashMap;

use serde_json::Value;

use crate::Pattern;
use crate::condition::Leaf;
use crate::error::EventError;
use crate::eval::branch_matches;
use crate::event::FlatEvent;
use crate::fields::{FieldSet, FxMap};

/// Many patterns, each under a key (a rule), matched together.
#[derive(Debug, Clone)]
pub struct Matcher<K> {
    rules: Vec<Rule<K>>,
    fields: FieldSet,
    index: Index,
}

#[derive(Debug, Clone)]
struct Rule<K> {
    key: K,
    pattern: Pattern,
    /// The matcher's slot for each of the pattern's fields.
    slots: Vec<u32>,
}

/// A branch of a rule: (rule number, branch number).
type BranchRef = (u32, u32);

/// Branch numbers filed under each exact string of one field.
type ByString = FxMap<Box<str>, Vec<u32>>;

#[derive(Debug, Clone, Default)]
struct Index {
    /// Per indexing slot, its table.
    by_value: Vec<(u32, ByString)>,
    /// Branches with no indexable field.
    always: Vec<u32>,
    branches: Vec<BranchRef>,
}

impl<K> Default for Matcher<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Matcher<K> {
    pub fn new() -> Self {
        Self { rules: Vec::new(), fields: FieldSet::default(), index: Index::default() }
    }

    pub fn add(&mut self, key: K, pattern: Pattern) {
        self.rules.push(Rule { key, pattern, slots: Vec::new() });
        self.rebuild();
    }

    /// Removes every rule under `key`; returns how many there were.
    pub fn remove(&mut self, key: &K) -> usize
    where
        K: PartialEq,
    {
        let before = self.rules.len();
        self.rules.retain(|r| r.key != *key);
        let removed = before - self.rules.len();
        if removed > 0 {
            self.rebuild();
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &Pattern)> {
        self.rules.iter().map(|r| (&r.key, &r.pattern))
    }

    /// Keys of all patterns matching `event`, in insertion order (a key added twice appears twice).
    pub fn matching(&self, event: &Value) -> Vec<&K> {
        self.collect(&FlatEvent::from_value(event, &self.fields))
    }

    /// As [`Matcher::matching`], reading the event straight from its JSON text and looking only at the fields
    /// some pattern names.
    pub fn matching_json(&self, event: &[u8]) -> Result<Vec<&K>, EventError> {
        Ok(self.collect(&FlatEvent::from_json(event, &self.fields)?))
    }

    fn rebuild(&mut self) {
        let mut slot_of: HashMap<&str, u32> = HashMap::new();
        let mut paths: Vec<&str> = Vec::new();
        let mut slots_per_rule = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            let slots = rule
                .pattern
                .compiled()
                .fields
                .iter()
                .map(|path| {
                    *slot_of.entry(path).or_insert_with(|| {
                        paths.push(path);
                        (paths.len() - 1) as u32
                    })
                })
                .collect::<Vec<_>>();
            slots_per_rule.push(slots);
        }
        let fields = FieldSet::new(paths.iter().copied());

        // How varied each slot's exact strings are, across all branches that could be indexed by it.
        let mut variety: HashMap<u32, std::collections::HashSet<&str>> = HashMap::new();
        for (rule, slots) in self.rules.iter().zip(&slots_per_rule) {
            for branch in &rule.pattern.compiled().branches {
                for condition in &branch.conditions {
                    if let Some(values) = condition.matcher.only_exact_strings() {
                        variety.entry(slots[condition.field as usize]).or_default().extend(values.iter());
                    }
                }
            }
        }

        let mut index = Index::default();
        let mut tables: HashMap<u32, ByString> = HashMap::new();
        for (r, (rule, slots)) in self.rules.iter().zip(&slots_per_rule).enumerate() {
            for (b, branch) in rule.pattern.compiled().branches.iter().enumerate() {
                let id = index.branches.len() as u32;
                index.branches.push((r as u32, b as u32));
                let best = branch
                    .conditions
                    .iter()
                    .filter_map(|c| c.matcher.only_exact_strings().map(|v| (slots[c.field as usize], v)))
                    .max_by_key(|(slot, values)| (variety[slot].len(), usize::MAX - values.iter().count()));
                match best {
                    Some((slot, values)) => {
                        let table = tables.entry(slot).or_default();
                        for value in values.iter() {
                            table.entry(value.into()).or_default().push(id);
                        }
                    }
                    None => index.always.push(id),
                }
            }
        }
        index.by_value = tables.into_iter().collect();
        index.by_value.sort_by_key(|(slot, _)| *slot);

        for (rule, slots) in self.rules.iter_mut().zip(slots_per_rule) {
            rule.slots = slots;
        }
        self.fields = fields;
        self.index = index;
    }

    fn collect(&self, event: &FlatEvent<'_>) -> Vec<&K> {
        let words = self.rules.len().div_ceil(64);
        let (mut inline, mut heap) = ([0u64; 4], Vec::new());
        let matched: &mut [u64] = if words <= inline.len() {
            &mut inline[..words]
        } else {
            heap.resize(words, 0);
            &mut heap
        };
        let mut check = |id: u32| {
            let (r, b) = self.index.branches[id as usize];
            let (word, bit) = (r as usize / 64, 1u64 << (r % 64));
            if matched[word] & bit != 0 {
                return;
            }
            let rule = &self.rules[r as usize];
            let branch = &rule.pattern.compiled().branches[b as usize];
            if branch_matches(branch, |f| rule.slots[f as usize], event) {
                matched[word] |= bit;
            }
        };
        for &id in &self.index.always {
            check(id);
        }
        for (slot, table) in &self.index.by_value {
            for entry in event.at(*slot) {
                if let Leaf::Str(s) = &event.entry(entry).leaf
                    && let Some(ids) = table.get(&**s)
                {
                    ids.iter().for_each(|&id| check(id));
                }
            }
        }
        let mut keys = Vec::new();
        for (w, &word) in matched.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let r = w * 64 + bits.trailing_zeros() as usize;
                keys.push(&self.rules[r].key);
                bits &= bits - 1;
            }
        }
        keys
    }
}
