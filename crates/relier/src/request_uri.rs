//! Request objects by reference (OIDC Core §6.2, RFC 9101 §5.2): the RP serves each request
//! object once, at an unguessable URL, for at most its lifetime; the authorization request
//! carries only that `request_uri`. [`PendingRequestObjects`] is the bounded, single-use,
//! expiring set the gateway's `/auth/request/{id}` and the CLI's loopback listener serve from.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use aws_lc_rs::rand::SecureRandom;
use relier_core::UnixTime;
use relier_core::request_object::RequestObjectError;
use url::Url;

use crate::Error;

/// Where a relying party publishes a request object to send it by reference.
pub trait RequestObjectHost: Send + Sync + fmt::Debug {
    /// Serves `object` once, until `expires_at`, and returns the URL it is served at.
    ///
    /// # Errors
    /// The object cannot be kept (too many pending, the random source failed).
    fn publish(
        &self,
        object: String,
        expires_at: UnixTime,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<Url, Error>;
}

/// Random bytes of a request object's id: 256 bits (RFC 9101 §5.2: "the Request URI MUST
/// contain some part generated using a cryptographically strong pseudorandom algorithm").
pub const ID_BYTES: usize = 32;

/// Most request objects pending at once: a login adds one; beyond this a login is refused
/// until some are fetched or expire.
pub const MAX_PENDING: usize = 10_000;

/// Request objects waiting for the OP to fetch them, each once, keyed by a random id.
#[derive(Debug)]
pub struct PendingRequestObjects {
    base: Url,
    max: usize,
    objects: Mutex<HashMap<String, Pending>>,
}

struct Pending {
    object: String,
    expires_at: u64,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl PendingRequestObjects {
    /// Request objects served at `base` followed by the id (e.g.
    /// `https://app.example.com/auth/request/`; a missing final `/` is added).
    #[must_use]
    pub fn new(mut base: Url) -> Self {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Self {
            base,
            max: MAX_PENDING,
            objects: Mutex::new(HashMap::new()),
        }
    }

    /// At most `max` pending at once (default [`MAX_PENDING`]).
    #[must_use]
    pub fn with_max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    fn with_objects<T>(&self, f: impl FnOnce(&mut HashMap<String, Pending>) -> T) -> T {
        // Nothing that can panic runs under this lock.
        f(&mut self.objects.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Single use: removes the request object `id` and returns it, unless it expired
    /// (`now >= exp`) or is unknown.
    pub fn take(&self, id: &str, now: UnixTime) -> Option<String> {
        let p = self.with_objects(|m| m.remove(id))?;
        (now.0 < p.expires_at).then_some(p.object)
    }

    /// How many are pending (expired ones included until the next publish sweeps them).
    pub fn len(&self) -> usize {
        self.with_objects(|m| m.len())
    }

    /// None pending?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RequestObjectHost for PendingRequestObjects {
    fn publish(
        &self,
        object: String,
        expires_at: UnixTime,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<Url, Error> {
        let mut raw = [0u8; ID_BYTES];
        rng.fill(&mut raw).map_err(|_| RequestObjectError::Rng)?;
        let id = relier_jose::b64::encode(&raw);
        let url = self
            .base
            .join(&id)
            .map_err(|_| RequestObjectError::RequestUri {
                reason: "cannot be built from the base URL",
            })?;
        let full = self.with_objects(|m| {
            if m.len() >= self.max {
                m.retain(|_, p| now.0 < p.expires_at);
            }
            if m.len() >= self.max {
                return true;
            }
            m.insert(
                id,
                Pending {
                    object,
                    expires_at: expires_at.0,
                },
            );
            false
        });
        if full {
            return Err(RequestObjectError::RequestUri {
                reason: "cannot be served: too many request objects pending",
            }
            .into());
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests;
