//! FNV-1a, the hash of the crate's small lookup tables (labels, CMap codes, object numbers): their keys are short
//! and many lookups are made per document, so a simple hash beats SipHash. A document can only choose which keys
//! are looked up, not what the tables hold, so flooding one bucket gains it nothing beyond the input limits.

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default)]
pub(crate) struct Fnv(u64);

/// For `HashMap::with_hasher` / `HashMap<K, V, FnvBuild>`.
pub(crate) type FnvBuild = BuildHasherDefault<Fnv>;

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}
