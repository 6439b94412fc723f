//! Deciding one branch (one `$or` alternative) against a flattened event.
//!
//! Each field condition picks the leaves at its path that it accepts. A field with no leaf is absent: only
//! `exists: false` accepts that, and `exists: false` is judged on the whole event (no leaf at that path anywhere,
//! in any array element). Then event-ruler's array consistency: the leaves chosen for different fields must not
//! sit in different elements of one array. Leaves outside arrays constrain nothing, so the search runs only when
//! two or more fields can only be satisfied from inside arrays.

use crate::compile::Branch;
use crate::event::FlatEvent;

/// Whether `branch` holds for `event`; `slot` maps the branch's field numbers to the event's slots.
pub(crate) fn branch_matches(branch: &Branch, slot: impl Fn(u32) -> u32, event: &FlatEvent<'_>) -> bool {
    let mut constrained: Vec<Vec<u32>> = Vec::new();
    for condition in &branch.conditions {
        let matcher = &condition.matcher;
        let mut leaves = event.at(slot(condition.field)).peekable();
        if leaves.peek().is_none() {
            if matcher.absent {
                continue;
            }
            return false;
        }
        let mut candidates = Vec::new();
        let mut free = false;
        for index in leaves {
            if matcher.matches(&event.entry(index).leaf) {
                if !event.is_constrained(index) {
                    free = true;
                    break;
                }
                candidates.push(index);
            }
        }
        if free {
            continue;
        }
        if candidates.is_empty() {
            return false;
        }
        constrained.push(candidates);
    }
    constrained.len() < 2 || consistent_choice(&constrained, event)
}

/// Depth-first search for one candidate per field, pairwise compatible.
fn consistent_choice(fields: &[Vec<u32>], event: &FlatEvent<'_>) -> bool {
    fn pick(fields: &[Vec<u32>], chosen: &mut Vec<u32>, event: &FlatEvent<'_>) -> bool {
        let Some((candidates, rest)) = fields.split_first() else { return true };
        for &candidate in candidates {
            if chosen.iter().all(|&c| event.compatible(c, candidate)) {
                chosen.push(candidate);
                if pick(rest, chosen, event) {
                    return true;
                }
                chosen.pop();
            }
        }
        false
    }
    pick(fields, &mut Vec::with_capacity(fields.len()), event)
}
