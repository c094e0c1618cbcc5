//! The device authorization grant (RFC 8628), as values: the device authorization request
//! (§3.1) and its response (§3.2), the token request (§3.4), and the polling decisions (§3.5):
//! wait `interval` seconds, five more after each `slow_down`, keep polling on
//! `authorization_pending`, stop on `access_denied`, `expired_token` or when the code's
//! lifetime has run out. The driver sends the requests and sleeps for the seconds returned.

use std::fmt;

use serde::Deserialize;

use crate::http::{Form, HttpResponse};
use crate::secret::Secret;
use crate::token::{self, TokenError, TokenResponse};
use crate::types::{UnixTime, parse_secure_url};

/// RFC 8628 §3.4 `grant_type`.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL: u64 = 5;
/// RFC 8628 §3.5: `slow_down` — "the interval MUST be increased by 5 seconds".
pub const SLOW_DOWN_STEP: u64 = 5;
/// Longest poll interval accepted from the OP (seconds).
pub const MAX_INTERVAL: u64 = 600;
/// Longest device code lifetime accepted from the OP (seconds).
pub const MAX_EXPIRES_IN: u64 = 24 * 3600;
/// Longest `user_code` accepted (characters).
pub const MAX_USER_CODE_CHARS: usize = 64;

/// RFC 8628 §3.1: the device authorization request (client authentication added separately).
pub fn authorization_form(scope: &str) -> Form {
    let mut f = Form::new();
    if !scope.is_empty() {
        f.push("scope", scope);
    }
    f
}

/// RFC 8628 §3.4: the token request for `auth`'s device code.
pub fn token_form(auth: &DeviceAuthorization) -> Form {
    let mut f = Form::new();
    f.push("grant_type", GRANT_TYPE)
        .push("device_code", auth.device_code.expose());
    f
}

/// Why a device authorization response or poll was refused, or how the flow ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The device authorization response is not what RFC 8628 §3.2 requires.
    #[error("device authorization: invalid response: {reason}")]
    InvalidResponse {
        /// What is wrong (never includes the device code).
        reason: String,
    },
    /// RFC 8628 §3.5 `access_denied`.
    #[error("device login: the user denied access (access_denied)")]
    AccessDenied,
    /// RFC 8628 §3.5 `expired_token`, or the code's `expires_in` ran out while polling.
    #[error(
        "device login: the code expired before the user approved it (expired_token); start again"
    )]
    Expired,
    /// The token endpoint refused the poll otherwise.
    #[error(transparent)]
    Token(#[from] TokenError),
}

#[derive(Deserialize)]
struct RawAuthorization {
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    #[serde(deserialize_with = "token::lenient_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "token::lenient_u64")]
    interval: Option<u64>,
}

/// RFC 8628 §3.2 device authorization response, checked.
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// `device_code` (kept secret: it is the grant).
    pub device_code: Secret,
    /// `user_code`: printable, at most [`MAX_USER_CODE_CHARS`].
    pub user_code: String,
    /// `verification_uri`: https (or loopback http).
    pub verification_uri: String,
    /// `verification_uri_complete` (§3.3.1), same rule.
    pub verification_uri_complete: Option<String>,
    /// `expires_in`, at most [`MAX_EXPIRES_IN`].
    pub expires_in: u64,
    /// `interval`, [`DEFAULT_INTERVAL`] when absent, at most [`MAX_INTERVAL`].
    pub interval: u64,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl DeviceAuthorization {
    /// Parse a device authorization response (RFC 8628 §3.2; errors as RFC 6749 §5.2).
    ///
    /// # Errors
    /// [`DeviceError::Token`] for an error response, [`DeviceError::InvalidResponse`] for a
    /// missing or unusable member.
    pub fn from_response(resp: &HttpResponse) -> Result<Self, DeviceError> {
        let raw: RawAuthorization = token::parse_json("device_authorization", resp)?;
        let invalid = |reason: String| DeviceError::InvalidResponse { reason };
        if raw.device_code.is_empty() {
            return Err(invalid("device_code is empty".into()));
        }
        let chars = raw.user_code.chars().count();
        // Shown on a terminal: no control characters (they could drive it).
        if chars == 0 || chars > MAX_USER_CODE_CHARS || raw.user_code.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "user_code must be 1 to {MAX_USER_CODE_CHARS} printable characters"
            )));
        }
        for (member, uri) in [
            ("verification_uri", Some(&raw.verification_uri)),
            (
                "verification_uri_complete",
                raw.verification_uri_complete.as_ref(),
            ),
        ] {
            if let Some(u) = uri {
                parse_secure_url("verification_uri", u)
                    .map_err(|e| invalid(format!("{member}: {e}")))?;
            }
        }
        let expires_in = match raw.expires_in {
            Some(e) if (1..=MAX_EXPIRES_IN).contains(&e) => e,
            _ => {
                return Err(invalid(format!(
                    "expires_in must be 1 to {MAX_EXPIRES_IN} seconds"
                )));
            }
        };
        let interval = raw.interval.unwrap_or(DEFAULT_INTERVAL);
        if interval > MAX_INTERVAL {
            return Err(invalid(format!(
                "interval must be at most {MAX_INTERVAL} seconds"
            )));
        }
        Ok(Self {
            device_code: raw.device_code,
            user_code: raw.user_code,
            verification_uri: raw.verification_uri,
            verification_uri_complete: raw.verification_uri_complete,
            expires_in,
            interval,
        })
    }
}

/// What to do after a poll (or before the first one).
#[derive(Debug)]
pub enum PollStep {
    /// Wait this many seconds, then poll again.
    Wait(u64),
    /// The user approved: the token response.
    Tokens(Box<TokenResponse>),
}

/// The polling state of one device authorization (RFC 8628 §3.5).
#[derive(Debug, Clone)]
pub struct DevicePolling {
    interval: u64,
    started: UnixTime,
    deadline: UnixTime,
}

impl DevicePolling {
    /// Polling for `auth`, received at `now`.
    pub fn new(auth: &DeviceAuthorization, now: UnixTime) -> Self {
        Self {
            interval: auth.interval.max(1),
            started: now,
            deadline: UnixTime(now.0.saturating_add(auth.expires_in)),
        }
    }

    /// The current interval (seconds).
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// The first wait: RFC 8628 §3.5, the client waits `interval` before each request.
    ///
    /// # Errors
    /// [`DeviceError::Expired`] when the code runs out before the first poll.
    pub fn first_wait(&self) -> Result<u64, DeviceError> {
        self.wait(self.started)
    }

    fn wait(&self, now: UnixTime) -> Result<u64, DeviceError> {
        // The poll would come after the code's lifetime: it can only answer expired_token.
        if now.0.saturating_add(self.interval) >= self.deadline.0 {
            return Err(DeviceError::Expired);
        }
        Ok(self.interval)
    }

    /// Consume the token endpoint's answer to a poll made at `now`.
    ///
    /// # Errors
    /// [`DeviceError::AccessDenied`], [`DeviceError::Expired`], or any other token error.
    pub fn on_response(
        &mut self,
        resp: &HttpResponse,
        now: UnixTime,
    ) -> Result<PollStep, DeviceError> {
        if resp.is_success() {
            return Ok(PollStep::Tokens(Box::new(TokenResponse::from_response(
                resp,
            )?)));
        }
        let err = token::error_from_response("token", resp);
        let TokenError::OAuth { error, .. } = &err else {
            return Err(err.into());
        };
        match error.as_str() {
            // RFC 8628 §3.5: "the client SHOULD repeat the access token request".
            "authorization_pending" => self.wait(now).map(PollStep::Wait),
            // §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent
            // requests".
            "slow_down" => {
                self.interval = self
                    .interval
                    .saturating_add(SLOW_DOWN_STEP)
                    .min(MAX_INTERVAL);
                self.wait(now).map(PollStep::Wait)
            }
            "access_denied" => Err(DeviceError::AccessDenied),
            "expired_token" => Err(DeviceError::Expired),
            _ => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests;
