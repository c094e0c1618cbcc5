//! DPoP at the resource server (RFC 9449 §7): the proof in the `DPoP` header is checked
//! ([`relier_core::dpop::verify`]) against the request as the client made it — the method, and
//! the origin (`public_url`, or a trusted proxy's `X-Forwarded-Proto`/`-Host`:
//! [`crate::forwarding::request_origin`]) with the original path — and the token's `cnf.jkt`; its `jti` is remembered
//! for the `iat` window so it cannot be replayed; with `dpop_nonce = true` it must carry a
//! nonce the gateway issued (§9).

use aws_lc_rs::hmac;
use axum::http::{HeaderMap, Method};
use parking_lot::Mutex;
use relier_core::UnixTime;
use relier_core::dpop::verify::{
    ProofError, ProofExpectations, ProofKeyCache, verify_proof_cached,
};
use relier_core::jose::b64;

use super::replay::Seen;
use super::{ApiRule, Challenge};
use crate::paths;
use crate::state::AppState;

/// How far a proof's `iat` may be from now, either side (RFC 9449 §11.1).
pub const WINDOW_SECS: u64 = 60;
/// A nonce is accepted for this long (two periods: the current and the previous).
const NONCE_PERIOD_SECS: u64 = 300;
/// Longest `DPoP` header accepted.
const MAX_PROOF_LEN: usize = 8 * 1024;

/// Proof ids seen within the window, and the key nonces are derived from.
pub struct DpopState {
    seen: Mutex<Seen>,
    nonce_key: hmac::Key,
}

impl std::fmt::Debug for DpopState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopState").finish_non_exhaustive()
    }
}

impl DpopState {
    /// A fresh replay cache and a random nonce key; `None` if the random source fails.
    pub fn new() -> Option<DpopState> {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).ok()?;
        Some(DpopState {
            seen: Mutex::new(Seen::default()),
            nonce_key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    /// The nonce for a period (RFC 9449 §8.1 NQCHAR: base64url is).
    fn nonce_for(&self, period: u64) -> String {
        b64::encode(hmac::sign(&self.nonce_key, &period.to_be_bytes()).as_ref())
    }

    /// The nonce to hand out now.
    pub fn current_nonce(&self, now: u64) -> String {
        self.nonce_for(now / NONCE_PERIOD_SECS)
    }

    fn nonce_ok(&self, got: Option<&str>, now: u64) -> bool {
        let period = now / NONCE_PERIOD_SECS;
        got.is_some_and(|n| {
            n == self.nonce_for(period) || n == self.nonce_for(period.saturating_sub(1))
        })
    }

    /// Records a proof id; false if it was seen within the window (RFC 9449 §11.1) or the
    /// cache is full of live ids. It is remembered for as long as a proof with this `iat`
    /// could be accepted.
    fn first_use(&self, jkt: &str, jti: &str, iat: u64, now: u64) -> bool {
        let id = Seen::id(jkt, jti);
        let until = iat.saturating_add(WINDOW_SECS);
        self.seen.lock().first_use(id, until, now)
    }
}

/// Checks the request's proof for `token`, bound to `jkt` (its proofs' key kept in
/// `proof_key`): `htm` is `method`, `htu` is `origin` (the scheme and authority the client
/// used) with `target`'s path.
pub fn check(
    state: &AppState,
    rule: &ApiRule,
    headers: &HeaderMap,
    (method, origin, target): (&Method, &str, &str),
    token: &str,
    (jkt, proof_key): (Option<&str>, &ProofKeyCache),
    now: u64,
) -> Result<(), Challenge> {
    // RFC 9449 §7.1: the DPoP scheme needs a DPoP-bound token.
    let Some(jkt) = jkt else {
        tracing::info!("api: DPoP scheme with a token that is not DPoP-bound; refused");
        return Err(Challenge::InvalidDpop);
    };
    let mut proofs = headers.get_all("dpop").iter();
    // §4.3 (1): exactly one DPoP header.
    let (Some(proof), None) = (proofs.next(), proofs.next()) else {
        return Err(Challenge::InvalidDpopProof);
    };
    let proof = proof
        .to_str()
        .ok()
        .filter(|p| p.len() <= MAX_PROOF_LEN)
        .ok_or(Challenge::InvalidDpopProof)?;
    // §4.3 (9): the URI the client used: its origin (public_url, or a trusted proxy's
    // forwarding headers) and the original path.
    let htu = format!("{origin}{}", paths::path_of(target));
    let nonce = rule.dpop_nonce.then(|| state.dpop.current_nonce(now));
    let expect = ProofExpectations {
        htm: method.as_str(),
        htu: &htu,
        access_token: token,
        jkt,
        nonce: None,
        window: WINDOW_SECS,
        now: UnixTime(now),
    };
    let verified = verify_proof_cached(proof, &expect, proof_key).map_err(|e| {
        tracing::info!(error = %e, "api: DPoP proof refused");
        match e {
            ProofError::KeyBinding | ProofError::AccessTokenHash => Challenge::InvalidDpop,
            _ => Challenge::InvalidDpopProof,
        }
    })?;
    // §9: a nonce the gateway issued, else use_dpop_nonce with a fresh one.
    if let Some(fresh) = nonce
        && !state.dpop.nonce_ok(verified.nonce.as_deref(), now)
    {
        return Err(Challenge::UseDpopNonce { nonce: fresh });
    }
    if !state.dpop.first_use(jkt, &verified.jti, verified.iat, now) {
        tracing::info!("api: DPoP proof replayed; refused");
        return Err(Challenge::InvalidDpopProof);
    }
    Ok(())
}
