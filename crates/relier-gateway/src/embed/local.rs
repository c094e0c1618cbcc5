//! Local sessions: the embedding application signed the user in itself (a password, a passkey)
//! and keeps one session for everybody — relier's, with the same cookie, CSRF token, expiry and
//! logout as a login at an OP. Such a session is never taken for an OP login: its provider is
//! [`LOCAL_PROVIDER`] (a name no configured provider can have, so no `[[api]]` provider list,
//! back-channel logout, refresh or end-session redirect ever applies to it), it holds no
//! tokens, its issuer is relier's own public URL and it has no claims, so no `[[access]]`
//! rule (addresses, domains, groups, claims) admits it.

use axum::http::{HeaderMap, header};
use relier_core::Secret;
use relier_store::SessionRecord;
use serde_json::{Map, Value};

use super::{AppSlot, SessionError};
use crate::cache::ID_BYTES;
use crate::clock;
use crate::cookies;
use crate::names;
use crate::random::try_random_token;
use crate::state::AppState;

/// The provider of every local session (`Identity::provider`, `X-Relier-Provider`). Provider
/// names start with a letter or a digit, so no configured provider is ever called this.
pub const LOCAL_PROVIDER: &str = "@local";

/// The longest local subject, in bytes.
const MAX_SUBJECT: usize = 255;

/// A user the application signed in itself, for
/// [`crate::Gateway::start_local_session`]: its subject (the application's own stable key of
/// the user, e.g. the account id) and, optionally, a display name and an e-mail address — the
/// address is never treated as verified (relier did not see it verified).
#[derive(Debug, Clone)]
pub struct LocalLogin {
    subject: String,
    name: Option<String>,
    email: Option<String>,
}

impl LocalLogin {
    /// A local user whose subject is `subject` (1 to 255 bytes, no control characters).
    pub fn new(subject: impl Into<String>) -> Self {
        LocalLogin {
            subject: subject.into(),
            name: None,
            email: None,
        }
    }

    /// With a display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With an e-mail address (unverified).
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    fn check(&self) -> Result<(), SessionError> {
        let s = &self.subject;
        if s.is_empty() || s.len() > MAX_SUBJECT {
            return Err(SessionError::InvalidLogin {
                reason: "the subject must be 1 to 255 bytes",
            });
        }
        if s.chars().any(char::is_control) {
            return Err(SessionError::InvalidLogin {
                reason: "the subject has a control character",
            });
        }
        Ok(())
    }
}

/// The session record of a local sign-in at `now`: no tokens (never refreshed, nothing to
/// revoke), relier's own origin as issuer.
fn local_record(state: &AppState, login: LocalLogin, csrf: Secret, now: u64) -> SessionRecord {
    let s = &state.settings;
    let name = login
        .name
        .as_deref()
        .map(|n| names::clean_name(n).into_owned());
    SessionRecord {
        provider: LOCAL_PROVIDER.to_owned(),
        iss: s.base.clone(),
        sub: login.subject,
        sid: None,
        email: login.email,
        name,
        // No claims: nothing an `[[access]]` rule or a `[headers]` mapping could take for an
        // OP's assertion (the name and the unverified address are kept beside them).
        claims: Value::Object(Map::new()),
        access_token: None,
        refresh_token: None,
        id_token: None,
        dpop_key: None,
        access_expires_at: None,
        csrf_token: csrf,
        created_at: now,
        last_seen_at: now,
        idle_expires_at: now.saturating_add(s.idle_timeout),
        absolute_expires_at: now.saturating_add(s.absolute_timeout),
        version: 0,
        app_data: None,
    }
}

/// Starts a local session (see [`crate::Gateway::start_local_session`]): the response headers
/// that set its cookie.
pub(crate) async fn start(
    state: &AppState,
    request: &HeaderMap,
    login: LocalLogin,
    slot: AppSlot,
) -> Result<HeaderMap, SessionError> {
    login.check()?;
    let (Some(id), Some(csrf)) = (try_random_token(ID_BYTES), try_random_token(ID_BYTES)) else {
        return Err(SessionError::Random);
    };
    let id = Secret::new(id);
    let mut rec = local_record(state, login, Secret::new(csrf), clock::now());
    rec.app_data = slot.into_stored();
    crate::session::replace(state, request, &id, &rec).await?;
    tracing::info!(sub = %state.settings.logged_subject(LOCAL_PROVIDER, &rec.sub), "local sign-in");
    let mut out = HeaderMap::new();
    let s = &state.settings;
    if let Some(c) = cookies::set_session(s, id.expose(), s.absolute_timeout) {
        out.append(header::SET_COOKIE, c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn local_subjects_are_checked() {
        assert!(LocalLogin::new("42").check().is_ok());
        for bad in [String::new(), "a".repeat(256), "a\nb".to_owned()] {
            assert!(
                matches!(
                    LocalLogin::new(bad).check(),
                    Err(SessionError::InvalidLogin { .. })
                ),
                "refused"
            );
        }
    }

    #[test]
    fn no_provider_name_is_the_local_one() {
        assert!(relier_store::validate_provider_name(LOCAL_PROVIDER).is_err());
    }
}
