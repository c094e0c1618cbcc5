//! Validated access tokens, keyed by the SHA-256 of the rule and the token (memory holds no
//! usable token), kept until the token's `exp` and never longer; bounded in count.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest;
use parking_lot::Mutex;

use super::TokenPrincipal;

/// Most tokens held at once.
const MAX_ENTRIES: usize = 10_000;

/// The key of a token for one `[[api]]` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// SHA-256 over the rule's index and the token.
    pub fn new(rule: usize, token: &str) -> TokenKey {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&(rule as u64).to_be_bytes());
        ctx.update(token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        TokenKey(out)
    }
}

/// The validated-token cache.
#[derive(Debug, Default)]
pub struct TokenCache {
    map: Mutex<HashMap<TokenKey, Arc<TokenPrincipal>>>,
}

impl TokenCache {
    /// The cached principal, if the token has not expired at `now`.
    pub fn get(&self, key: &TokenKey, now: u64) -> Option<Arc<TokenPrincipal>> {
        let mut map = self.map.lock();
        match map.get(key) {
            Some(p) if now < p.exp => Some(p.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `p` until its `exp`. A full cache drops expired entries first, and keeps the new
    /// one only if that made room (a flood of distinct tokens costs validations, not memory).
    pub fn insert(&self, key: TokenKey, p: Arc<TokenPrincipal>, now: u64) {
        if p.exp <= now {
            return;
        }
        let mut map = self.map.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, v| now < v.exp);
            if map.len() >= MAX_ENTRIES {
                return;
            }
        }
        map.insert(key, p);
    }

    /// How many are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }
}
