//! The store key a private_key_jwt provider signs client assertions and request objects with:
//! the active key, and the keys published to follow it (`next`: in the RP's JWKS before they
//! sign, OIDC Core §10.1.1). Each is parsed, and its client authentication built, once,
//! when the key manager hands it over ([`crate::keys`]); the provider's relying-party access
//! switches to a pending key the second its activation time has come. So no caller has to
//! remember to bring the key up to date before a token endpoint call, and no login reads the
//! store or parses a key: between transitions a login's only key work is the signature.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use relier::RelyingParty;
use relier_core::ClientAuth;
use relier_jose::SigningKey;

use super::{Oidc, Protocol, Provider};

/// The kid of the store key in use, and the keys that follow it.
pub(super) struct KeySlot {
    /// The kid of the key in use.
    kid: Mutex<Option<String>>,
    /// Published keys not signing yet, in the order the store activates them (earliest first).
    pending: Mutex<Vec<Pending>>,
    /// The earliest activation time in `pending` (`u64::MAX`: none): all that the
    /// relying-party access reads until then.
    due_at: AtomicU64,
}

/// A published key about to sign, ready to use.
struct Pending {
    /// When the store makes it active (unix seconds).
    activates_at: u64,
    /// Its kid (RFC 7638 thumbprint).
    kid: Option<String>,
    /// The key, for request objects.
    key: SigningKey,
    /// The client authentication signing with it.
    auth: ClientAuth,
}

impl KeySlot {
    /// The slot of a provider signing with the key `kid` (`None`: not with a store key).
    pub(super) fn new(kid: Option<String>) -> Self {
        KeySlot {
            kid: Mutex::new(kid),
            pending: Mutex::new(Vec::new()),
            due_at: AtomicU64::new(u64::MAX),
        }
    }
}

impl Oidc {
    /// The relying party to use at `now`: first switched to the latest pending key whose
    /// activation time has come, if any (the key the store's `advance_keys` makes active then).
    pub(super) fn current(&self, now: u64, provider: &str) -> Arc<RelyingParty> {
        if now >= self.keys.due_at.load(Ordering::Acquire) {
            self.activate_due(now, provider);
        }
        self.rp.read().clone()
    }

    fn activate_due(&self, now: u64, provider: &str) {
        let mut pending = self.keys.pending.lock();
        // Of several due keys the last one wins, as in the store (earlier ones retire at once).
        let Some(last_due) = pending.iter().rposition(|p| p.activates_at <= now) else {
            return;
        };
        let chosen = pending.drain(..=last_due).next_back();
        let next = pending.first().map_or(u64::MAX, |p| p.activates_at);
        self.keys.due_at.store(next, Ordering::Release);
        let Some(p) = chosen else {
            return;
        };
        match self.switch_to(&p.key, p.auth) {
            Ok(()) => {
                tracing::info!(provider = %provider, kid = ?p.kid, "client assertions now signed with the store key that became active");
                *self.keys.kid.lock() = p.kid;
            }
            Err(e) => {
                tracing::error!(provider = %provider, error = %e, "cannot use the key that became active");
            }
        }
    }

    /// Rebuilds the relying party with `auth` and `key` for request objects — the same client,
    /// so the OP's JWKS cache carries over. Under the write lock: a concurrent change (new
    /// decryption keys) is not lost.
    fn switch_to(&self, key: &SigningKey, auth: ClientAuth) -> Result<(), relier::Error> {
        let mut rp = self.rp.write();
        let rebuilt = rp
            .with_client_auth(auth)?
            .with_request_object_key(key.clone())?;
        *rp = Arc::new(rebuilt);
        Ok(())
    }
}

impl Provider {
    /// The kid of the store key in use.
    pub fn current_kid(&self) -> Option<String> {
        match &self.protocol {
            Protocol::Oidc(o) => o.keys.kid.lock().clone(),
            Protocol::GitHub(_) => None,
        }
    }

    /// Switches to `key` (the store's active key) if its kid differs from the one in use.
    /// Returns whether the relying party was rebuilt.
    ///
    /// # Errors
    /// The client authentication cannot be built with `key`.
    pub fn install_key(&self, key: &SigningKey) -> Result<bool, relier::Error> {
        let Protocol::Oidc(o) = &self.protocol else {
            return Ok(false);
        };
        let kid = key.kid().map(str::to_owned);
        if kid.is_some() && *o.keys.kid.lock() == kid {
            return Ok(false);
        }
        o.switch_to(key, o.tpl.client_auth(Some(key))?)?;
        *o.keys.kid.lock() = kid.clone();
        tracing::info!(provider = %self.name, kid = ?kid, "client assertions now signed with the store's active key");
        Ok(true)
    }

    /// The kids and activation times of the pending keys held, sorted by kid.
    pub fn pending_keys(&self) -> Vec<(String, u64)> {
        let Protocol::Oidc(o) = &self.protocol else {
            return Vec::new();
        };
        let mut held: Vec<(String, u64)> = o
            .keys
            .pending
            .lock()
            .iter()
            .filter_map(|p| p.kid.clone().map(|kid| (kid, p.activates_at)))
            .collect();
        held.sort_unstable();
        held
    }

    /// Holds `keys` (the store's pending keys of this provider's algorithm with their
    /// activation times, in activation order) ready: from its activation time on, each signs
    /// without any further call. Replaces the keys held before (a pending key may have been
    /// retired or removed meanwhile).
    ///
    /// # Errors
    /// A key cannot make the client authentication; the keys held before stay.
    pub fn hold_pending_keys(&self, keys: Vec<(u64, SigningKey)>) -> Result<(), relier::Error> {
        let Protocol::Oidc(o) = &self.protocol else {
            return Ok(());
        };
        let mut ready = Vec::with_capacity(keys.len());
        for (activates_at, key) in keys {
            ready.push(Pending {
                activates_at,
                kid: key.kid().map(str::to_owned),
                auth: o.tpl.client_auth(Some(&key))?,
                key,
            });
        }
        ready.sort_by_key(|p| p.activates_at);
        let kids: Vec<_> = ready
            .iter()
            .map(|p| (p.kid.clone(), p.activates_at))
            .collect();
        let mut pending = o.keys.pending.lock();
        let due_at = ready.first().map_or(u64::MAX, |p| p.activates_at);
        *pending = ready;
        o.keys.due_at.store(due_at, Ordering::Release);
        drop(pending);
        if !kids.is_empty() {
            tracing::info!(provider = %self.name, keys = ?kids, "published keys held ready to sign from their activation time");
        }
        Ok(())
    }
}
