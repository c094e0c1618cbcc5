//! What the login gateway keeps: login states (between the redirect to the OP and the callback),
//! sessions, and the replay guard of back-channel logout tokens.
//!
//! Rows are keyed by the hex SHA-256 of the bearer value (session id, `state`), never the
//! value itself, so a leaked database yields no usable cookie; every secret in a row (the
//! pending login with its PKCE verifier and nonce, the OP's tokens, the CSRF token) is
//! encrypted under the master key with the row's identity as associated data.

use std::fmt;

use relier_core::{PendingLogin, Secret, UnixTime};
use serde::{Deserialize, Serialize};

use crate::crypto::sha256_hex;

/// A login in progress: stored under its `state` when the gateway redirects to the OP, taken
/// (once) by the callback. Stored encrypted as a whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginState {
    /// The provider the login goes to.
    pub provider: String,
    /// State, nonce, PKCE verifier, redirect URI and `max_age` sent.
    pub pending: PendingLogin,
    /// Where to send the user after the login.
    pub return_to: String,
    /// The login's DPoP key (RFC 9449), `alg:base64url(PKCS#8)`: the code is bound to it
    /// (`dpop_jkt`), and so are the session's tokens. Absent without DPoP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<Secret>,
    /// The value of the login-binding cookie the callback must present (random, 256 bits),
    /// compared in constant time. Absent when the login was not bound to a browser — and in
    /// rows written before it existed, which a binding callback then refuses (the user starts
    /// again; such rows expire within the login timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Secret>,
    /// An opaque value the embedding application attached to the login when it started it,
    /// handed back with the completed login (e.g. "link the identity to account 42").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_state: Option<Secret>,
    /// When the login started (unix seconds).
    pub created_at: u64,
    /// When the state expires (unix seconds): from then on it is as good as absent.
    pub expires_at: u64,
}

/// A gateway session. The session id itself is not part of it (the store keeps only its
/// SHA-256, see [`session_id_hash`]). `Debug` redacts the tokens, the CSRF token and the
/// personal data (email, name, claims).
#[derive(Clone)]
pub struct SessionRecord {
    /// The provider the user logged in with.
    pub provider: String,
    /// The ID token's `iss`.
    pub iss: String,
    /// The ID token's `sub`.
    pub sub: String,
    /// The ID token's `sid` (OpenID Connect Front-/Back-Channel Logout), if any.
    pub sid: Option<String>,
    /// `email` claim, if any.
    pub email: Option<String>,
    /// `name` claim, if any.
    pub name: Option<String>,
    /// Non-secret identity claims, for headers / the session JSON. Stored in the clear.
    pub claims: serde_json::Value,
    /// The OP's access token (encrypted at rest).
    pub access_token: Option<Secret>,
    /// The OP's refresh token (encrypted at rest).
    pub refresh_token: Option<Secret>,
    /// The OP's ID token (encrypted at rest), e.g. for `id_token_hint` at logout.
    pub id_token: Option<Secret>,
    /// The DPoP key the tokens are bound to (RFC 9449), `alg:base64url(PKCS#8)` (encrypted at
    /// rest); gone with the session.
    pub dpop_key: Option<Secret>,
    /// When the access token expires (unix seconds), if known.
    pub access_expires_at: Option<u64>,
    /// The session's CSRF token (encrypted at rest).
    pub csrf_token: Secret,
    /// When the session was created (unix seconds).
    pub created_at: u64,
    /// Last [`crate::SessionStore::touch_session`] (unix seconds).
    pub last_seen_at: u64,
    /// Idle expiry (unix seconds); never after `absolute_expires_at` once stored.
    pub idle_expires_at: u64,
    /// Absolute expiry (unix seconds).
    pub absolute_expires_at: u64,
    /// Bumped by every [`crate::SessionStore::update_session_tokens`] (optimistic concurrency).
    pub version: u64,
    /// The embedding application's own data: JSON text of at most [`MAX_APP_DATA_LEN`] bytes
    /// (encrypted at rest), replaced with [`crate::SessionStore::set_session_app_data`].
    pub app_data: Option<Secret>,
}

/// The largest [`SessionRecord::app_data`], in bytes: it is read with the session on every
/// cache miss, so it stays small (an account id, a role, a preference — not a document).
pub const MAX_APP_DATA_LEN: usize = 4096;

/// Refuses application data beyond [`MAX_APP_DATA_LEN`] bytes.
pub(crate) fn check_app_data(app_data: Option<&Secret>) -> Result<(), crate::StoreError> {
    match app_data.map(|d| d.expose().len()) {
        Some(len) if len > MAX_APP_DATA_LEN => Err(crate::StoreError::TooLarge {
            what: "session app_data",
            len,
            max: MAX_APP_DATA_LEN,
        }),
        _ => Ok(()),
    }
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn redacted<T>(v: Option<&T>) -> Option<&'static str> {
            v.map(|_| "[REDACTED]")
        }
        f.debug_struct("SessionRecord")
            .field("provider", &self.provider)
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("sid", &self.sid)
            .field("email", &redacted(self.email.as_ref()))
            .field("name", &redacted(self.name.as_ref()))
            .field("claims", &"[REDACTED]")
            .field("access_token", &redacted(self.access_token.as_ref()))
            .field("refresh_token", &redacted(self.refresh_token.as_ref()))
            .field("id_token", &redacted(self.id_token.as_ref()))
            .field("dpop_key", &redacted(self.dpop_key.as_ref()))
            .field("access_expires_at", &self.access_expires_at)
            .field("csrf_token", &"[REDACTED]")
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("idle_expires_at", &self.idle_expires_at)
            .field("absolute_expires_at", &self.absolute_expires_at)
            .field("version", &self.version)
            .field("app_data", &redacted(self.app_data.as_ref()))
            .finish()
    }
}

/// The lowercase hex SHA-256 of a session id: the key of its row in the store, and the key the
/// gateway's in-memory cache should use (so the cache holds no usable cookie either).
/// [`crate::SessionStore::delete_sessions_for`] returns these.
#[must_use]
pub fn session_id_hash(session_id: &Secret) -> String {
    sha256_hex(session_id.expose().as_bytes())
}

/// The lowercase hex SHA-256 of a login `state`: the key of its row.
pub(crate) fn state_hash(state: &str) -> String {
    sha256_hex(state.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let rec = SessionRecord {
            provider: "op".into(),
            iss: "https://op.example".into(),
            sub: "alice".into(),
            sid: Some("sid-1".into()),
            email: Some("alice@example.com".into()),
            name: Some("Alice Liddell".into()),
            claims: serde_json::json!({"groups": ["wonderland"]}),
            access_token: Some(Secret::new("at-secret")),
            refresh_token: Some(Secret::new("rt-secret")),
            id_token: None,
            dpop_key: Some(Secret::new("ES256:dpop-secret")),
            access_expires_at: Some(10),
            csrf_token: Secret::new("csrf-secret"),
            created_at: 1,
            last_seen_at: 2,
            idle_expires_at: 3,
            absolute_expires_at: 4,
            version: 5,
            app_data: Some(Secret::new(r#"{"account":"app-secret"}"#)),
        };
        let text = format!("{rec:?}");
        for secret in [
            "at-secret",
            "rt-secret",
            "csrf-secret",
            "dpop-secret",
            "alice@example.com",
            "Alice Liddell",
            "wonderland",
            "app-secret",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("alice") && text.contains("sid-1") && text.contains("version: 5"));
        assert!(text.contains("id_token: None"));
    }

    #[test]
    fn session_id_hash_is_hex_sha256() {
        let h = session_id_hash(&Secret::new("abc"));
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(state_hash("abc"), h);
    }

    /// A login state stored before `binding` and `app_state` existed still reads (both
    /// absent), and one without them is stored exactly as before.
    #[test]
    fn login_states_without_binding_or_app_state_read_as_before() {
        use relier_core::{Nonce, PendingLogin, PkceVerifier, RedirectUrl, State};
        let login = LoginState {
            provider: "op".into(),
            pending: PendingLogin {
                state: State::from_stored("st").unwrap(),
                nonce: Nonce::from_stored("n").unwrap(),
                pkce_verifier: PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                    .unwrap(),
                redirect_uri: RedirectUrl::new("https://rp.example/cb").unwrap(),
                max_age: None,
            },
            return_to: "/".into(),
            dpop_key: None,
            binding: Some(Secret::new("b")),
            app_state: Some(Secret::new("a")),
            created_at: 1,
            expires_at: 2,
        };
        let mut old = serde_json::to_value(&login).unwrap();
        let members = old.as_object_mut().unwrap();
        assert!(members.remove("binding").is_some() && members.remove("app_state").is_some());
        let read: LoginState = serde_json::from_value(old.clone()).unwrap();
        assert!(read.binding.is_none() && read.app_state.is_none());
        assert_eq!(serde_json::to_value(&read).unwrap(), old);
    }
}

/// The shared login rate limit's parameters ([`crate::SessionStore::take_login_token`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRate {
    /// Login starts a client may make per minute (at least 1).
    pub per_minute: u32,
    /// Login starts a client may make at once before the rate applies (at least 1).
    pub burst: u32,
}

/// What the shared login rate limit decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginAllowance {
    /// A token was taken: go on.
    Granted,
    /// None left: the next one is available after this long.
    Wait(std::time::Duration),
}

impl LoginRate {
    /// The decision for a bucket after a take: `granted`, with `tokens_left`.
    pub(crate) fn decide(self, granted: bool, tokens_left: f64) -> LoginAllowance {
        if granted {
            return LoginAllowance::Granted;
        }
        let per_sec = f64::from(self.per_minute.max(1)) / 60.0;
        let secs = ((1.0 - tokens_left).max(0.0) / per_sec).ceil().max(1.0);
        LoginAllowance::Wait(std::time::Duration::from_secs_f64(secs.min(3600.0)))
    }
}

/// One session's sliding expiry, for [`crate::SessionStore::touch_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTouch {
    /// The session id's hash ([`session_id_hash`]).
    pub id_hash: String,
    /// When it was used.
    pub now: UnixTime,
    /// Its new idle expiry (capped by the absolute one in the store).
    pub idle_expires_at: u64,
}
