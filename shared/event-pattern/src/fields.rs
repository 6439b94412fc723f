//! The field paths some patterns read, as a trie the event reader walks key by key: at each key it learns whether
//! the value there is to be collected (the node has a slot), walked into (the node has children), or skipped
//! whole (no node).
//!
//! event-ruler joins keys with `.`, so the pattern `{"detail": {"state.status": [...]}}` reads the event
//! `{"detail": {"state": {"status": ...}}}` and the other way round. The trie is keyed by the `.`-separated
//! segments of the joined paths, and an event key containing dots walks one segment at a time, which gives exactly
//! that equivalence.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's): a multiply-rotate hash, fast on short keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            self.add(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")));
            bytes = &bytes[8..];
        }
        if bytes.len() >= 4 {
            self.add(u64::from(u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"))));
            bytes = &bytes[4..];
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A node of the trie, by number; [`FieldSet::ROOT`] is the event's top-level object.
pub(crate) type NodeId = u32;

#[derive(Debug, Clone, Default)]
struct Node {
    /// The slot leaves at this path are collected into, if some pattern reads this path.
    slot: Option<u32>,
    children: Vec<(Box<[u8]>, NodeId)>,
    /// For nodes with many children.
    lookup: Option<FxMap<Box<[u8]>, NodeId>>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldSet {
    nodes: Vec<Node>,
    slots: usize,
}

impl Default for FieldSet {
    fn default() -> Self {
        Self { nodes: vec![Node::default()], slots: 0 }
    }
}

impl FieldSet {
    pub(crate) const ROOT: NodeId = 0;
    const SCAN_LIMIT: usize = 12;

    /// A set whose slot `i` is `paths[i]`.
    pub(crate) fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> Self {
        let mut set = Self::default();
        for path in paths {
            let mut node = Self::ROOT;
            for segment in path.as_bytes().split(|&b| b == b'.') {
                node = match set.child(node, segment) {
                    Some(child) => child,
                    None => {
                        let child = set.nodes.len() as NodeId;
                        set.nodes.push(Node::default());
                        let parent = &mut set.nodes[node as usize];
                        parent.children.push((segment.into(), child));
                        match &mut parent.lookup {
                            Some(lookup) => {
                                lookup.insert(segment.into(), child);
                            }
                            None if parent.children.len() > Self::SCAN_LIMIT => {
                                parent.lookup = Some(parent.children.iter().cloned().collect());
                            }
                            None => {}
                        }
                        child
                    }
                };
            }
            set.nodes[node as usize].slot = Some(set.slots as u32);
            set.slots += 1;
        }
        set
    }

    pub(crate) fn slots(&self) -> usize {
        self.slots
    }

    pub(crate) fn slot(&self, node: NodeId) -> Option<u32> {
        self.nodes[node as usize].slot
    }

    /// Whether some read path continues below `node`.
    pub(crate) fn is_interior(&self, node: NodeId) -> bool {
        !self.nodes[node as usize].children.is_empty()
    }

    fn child(&self, node: NodeId, segment: &[u8]) -> Option<NodeId> {
        let node = &self.nodes[node as usize];
        match &node.lookup {
            Some(map) => map.get(segment).copied(),
            // Length and first byte settle most comparisons without a call to memcmp.
            None => node
                .children
                .iter()
                .find(|(s, _)| s.len() == segment.len() && s.first() == segment.first() && **s == *segment)
                .map(|&(_, c)| c),
        }
    }

    /// The node an event key leads to from `node`: one step, or one per segment of a dotted key.
    pub(crate) fn descend(&self, node: NodeId, key: &[u8]) -> Option<NodeId> {
        // Keys are short: a plain scan beats a call into memchr.
        if !key.contains(&b'.') {
            return self.child(node, key);
        }
        key.split(|&b| b == b'.').try_fold(node, |n, segment| self.child(n, segment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_and_nested_keys_reach_the_same_node() {
        let set = FieldSet::new(["detail.state.status", "source", "detail"]);
        let detail = set.descend(FieldSet::ROOT, b"detail").unwrap();
        assert_eq!(set.slot(detail), Some(2));
        assert!(set.is_interior(detail));
        let state = set.descend(detail, b"state").unwrap();
        assert_eq!(set.slot(state), None);
        let status = set.descend(state, b"status").unwrap();
        assert_eq!(set.slot(status), Some(0));
        assert!(!set.is_interior(status));
        assert_eq!(set.descend(detail, b"state.status"), Some(status));
        assert_eq!(set.descend(FieldSet::ROOT, b"detail.state.status"), Some(status));
        assert_eq!(set.descend(FieldSet::ROOT, b"time"), None);
        assert_eq!(set.slots(), 3);
    }

    #[test]
    fn empty_segments_are_segments() {
        let set = FieldSet::new(["", "a."]);
        assert_eq!(set.descend(FieldSet::ROOT, b"").and_then(|n| set.slot(n)), Some(0));
        let a = set.descend(FieldSet::ROOT, b"a").unwrap();
        assert_eq!(set.descend(a, b"").and_then(|n| set.slot(n)), Some(1));
        assert_eq!(set.descend(FieldSet::ROOT, b"a.").and_then(|n| set.slot(n)), Some(1));
    }
}
