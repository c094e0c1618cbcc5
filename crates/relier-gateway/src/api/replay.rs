//! DPoP proof ids seen within the `iat` window (RFC 9449 §11.1): a proof is accepted once.
//!
//! Every accepted DPoP request adds one id, so at load this is written as often as requests
//! arrive: a set of 64-bit ids (the first 8 bytes of SHA-256 over the key's thumbprint and the
//! `jti`; already uniform, so the set does not hash them again), and the ids grouped by the
//! second they can be forgotten in, dropped a whole second at a time — no scan of the set.
//! Memory is bounded by [`MAX_SEEN`]; beyond it proofs are refused (fail closed) until some
//! age out.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use aws_lc_rs::digest;

/// Most proof ids remembered at once (≈ 20 MB at most). An id is kept for as long as its proof
/// could be accepted (`iat` + the window, about a minute), so this admits about 13 000 DPoP
/// requests a second, sustained.
pub const MAX_SEEN: usize = 800_000;

/// Below this capacity the set is not shrunk.
const MIN_CAPACITY: usize = 4096;

/// The replay cache of [`super::DpopState`].
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashSet<u64, BuildHasherDefault<IdHasher>>,
    /// The ids by the second after which their proofs are outside the window.
    until: BTreeMap<u64, Vec<u64>>,
}

impl Seen {
    /// The id of a proof: `jti` is unique only per key (RFC 9449 §11.1), so the key's
    /// thumbprint is part of it.
    pub fn id(jkt: &str, jti: &str) -> u64 {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(jkt.as_bytes());
        ctx.update(&[0]);
        ctx.update(jti.as_bytes());
        let mut first = [0u8; 8];
        if let Some(bytes) = ctx.finish().as_ref().get(..8) {
            first.copy_from_slice(bytes);
        }
        u64::from_le_bytes(first)
    }

    /// Records `id`, remembered until `until` (unix seconds); false if it is already known
    /// (a replay) or the cache is full of ids that are still live.
    pub fn first_use(&mut self, id: u64, until: u64, now: u64) -> bool {
        self.expire(now);
        if self.ids.len() >= MAX_SEEN || !self.ids.insert(id) {
            return false;
        }
        self.until.entry(until).or_default().push(id);
        true
    }

    /// Forgets every id whose second has passed.
    fn expire(&mut self, now: u64) {
        let mut dropped = false;
        while let Some(entry) = self.until.first_entry() {
            if *entry.key() >= now {
                break;
            }
            for id in entry.remove() {
                self.ids.remove(&id);
            }
            dropped = true;
        }
        // After a burst: give the memory back once the set is mostly empty.
        let capacity = self.ids.capacity();
        if dropped && capacity > MIN_CAPACITY && self.ids.len() < capacity / 4 {
            self.ids
                .shrink_to(self.ids.len().saturating_mul(2).max(MIN_CAPACITY));
        }
    }

    /// How many ids are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The ids are SHA-256 output: used as their own hash.
#[derive(Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; anything else still hashes, byte by byte.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_id_is_accepted_once_within_its_window() {
        let mut seen = Seen::default();
        let id = Seen::id("jkt", "jti-1");
        assert!(seen.first_use(id, 160, 100));
        assert!(!seen.first_use(id, 160, 130), "replayed");
        assert!(
            !seen.first_use(id, 160, 160),
            "still the last second of the window"
        );
        // The same jti under another key is another proof.
        assert!(seen.first_use(Seen::id("other", "jti-1"), 160, 130));
        assert_ne!(Seen::id("jk", "tjti"), Seen::id("jkt", "jti"));
        // Past its second the id is forgotten (its proof's iat is outside the window by then).
        assert!(seen.first_use(Seen::id("x", "y"), 200, 161));
        assert_eq!(seen.len(), 1);
        assert!(seen.first_use(id, 221, 161));
    }

    #[test]
    fn a_full_cache_refuses_until_ids_age_out() {
        let mut seen = Seen::default();
        for i in 0..MAX_SEEN as u64 {
            assert!(seen.first_use(i, 100 + i % 3, 50));
        }
        assert!(!seen.first_use(u64::MAX, 200, 60), "full of live ids");
        // At 102 the ids of seconds 100 and 101 are gone: two thirds of them.
        assert!(seen.first_use(u64::MAX, 200, 102));
        assert_eq!(seen.len(), MAX_SEEN / 3 + 1);
        // And the memory follows once the set is mostly empty.
        let before = seen.ids.capacity();
        assert!(seen.first_use(u64::MAX - 1, 200, 103));
        assert_eq!(seen.len(), 2);
        assert!(seen.ids.capacity() < before / 4, "{}", seen.ids.capacity());
    }
}
