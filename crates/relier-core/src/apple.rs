//! Sign in with Apple: the client secret relier mints itself, and the `user` form field.
//!
//! Apple's quirks handled here (Apple developer documentation, "Generate and validate tokens"
//! and "Incorporating Sign in with Apple into other platforms"):
//! - The client secret is not a shared string but a JWT the client signs with its `.p8` key
//!   (ES256, P-256): header `kid` = the key id; claims `iss` = the team id, `iat`, `exp` (at
//!   most 15777000 s — six months — after `iat`), `aud` = `https://appleid.apple.com`, `sub` =
//!   the client id (the Services ID). [`AppleClientSecret`] mints it, `now` as a parameter; the
//!   caller mints a new one before [`MintedSecret::needs_renewal`].
//! - With the `name` or `email` scope the authorization response must be a `form_post`, and
//!   the user's name arrives only once, on the first authorization, as the `user` form field
//!   (JSON: `{"name":{"firstName":…,"lastName":…},"email":…}`): [`parse_user`]. Apple does not
//!   sign it; it is what the user chose to share, bound to the login by `state`.
//! - `email_verified` and `is_private_email` are the strings `"true"`/`"false"` in the ID token.
//! - There is no UserInfo endpoint.

use aws_lc_rs::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use relier_jose::{Algorithm, JoseError, SigningKey, jws};

use crate::secret::Secret;
use crate::types::{ClientId, UnixTime};

/// Apple's issuer.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
/// The client secret's `aud`, whatever the issuer is configured to (Apple: "aud … Use
/// `https://appleid.apple.com`").
pub const CLIENT_SECRET_AUDIENCE: &str = "https://appleid.apple.com";
/// Apple: "The expiration time … must not be greater than 15777000 (6 months in seconds)".
pub const MAX_CLIENT_SECRET_LIFETIME_SECS: u64 = 15_777_000;
/// The lifetime relier gives a client secret: one day. Far under Apple's maximum, so a leaked
/// secret (it sits in request bodies and logs of proxies) is useless the next day; minting
/// costs one ECDSA signature.
pub const CLIENT_SECRET_LIFETIME_SECS: u64 = 86_400;
/// A secret with less than this left is replaced before it is sent again (one hour: a token
/// request in flight, a skewed clock at Apple's, never meet an expired secret).
pub const RENEW_MARGIN_SECS: u64 = 3_600;
/// The scopes of an Apple login.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "name", "email"];
/// The longest `user` form field accepted (Apple's is a few hundred bytes).
pub const MAX_USER_FIELD_BYTES: usize = 4096;
/// The longest first or last name kept.
const MAX_NAME_CHARS: usize = 200;

/// Why a client secret could not be minted or a `user` field was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppleError {
    /// Apple's keys are EC P-256 for ES256.
    #[error("apple: the private key is {alg}, but Sign in with Apple keys are ES256 (EC P-256)")]
    KeyNotEs256 {
        /// The key's algorithm.
        alg: &'static str,
    },
    /// The team id or key id is not Apple's 10-character form.
    #[error("apple: {field} {value:?} is not a 10-character Apple identifier (A-Z, 0-9)")]
    InvalidIdentifier {
        /// `team_id` or `key_id`.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// Signing failed.
    #[error("apple: client secret: {0}")]
    Jose(#[from] JoseError),
    /// The claims could not be encoded.
    #[error("apple: client secret claims could not be encoded")]
    Encoding,
    /// `now` + lifetime overflows.
    #[error("apple: invalid time")]
    Time,
    /// The `user` field is larger than [`MAX_USER_FIELD_BYTES`].
    #[error("apple: the user form field is {len} bytes, more than {max}")]
    UserTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The `user` field is not the JSON Apple documents.
    #[error("apple: the user form field is not the documented JSON")]
    UserMalformed,
}

/// Checks Apple's identifier form: Apple's team ids and key ids are 10 upper-case letters and
/// digits.
fn apple_identifier(field: &'static str, value: &str) -> Result<(), AppleError> {
    if value.len() == 10
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(AppleError::InvalidIdentifier {
            field,
            value: value.to_owned(),
        })
    }
}

/// What mints a Services ID's client secrets: the `.p8` key, the team id, the client id.
#[derive(Debug, Clone)]
pub struct AppleClientSecret {
    team_id: String,
    client_id: ClientId,
    signer: jws::CompactSigner,
    lifetime_secs: u64,
}

/// A minted client secret and when it expires.
#[derive(Debug, Clone)]
pub struct MintedSecret {
    /// The JWT, sent as `client_secret` (client_secret_post).
    pub secret: Secret,
    /// Its `exp`.
    pub expires_at: UnixTime,
}

impl MintedSecret {
    /// Whether less than [`RENEW_MARGIN_SECS`] is left at `now`: mint a new one.
    pub fn needs_renewal(&self, now: UnixTime) -> bool {
        now.0.saturating_add(RENEW_MARGIN_SECS) >= self.expires_at.0
    }
}

impl AppleClientSecret {
    /// `key` is the `.p8` key (ES256), `key_id` its id in Apple's developer account.
    ///
    /// # Errors
    /// [`AppleError::KeyNotEs256`], [`AppleError::InvalidIdentifier`].
    pub fn new(
        team_id: &str,
        key_id: &str,
        client_id: ClientId,
        key: SigningKey,
    ) -> Result<Self, AppleError> {
        if key.algorithm() != Algorithm::ES256 {
            return Err(AppleError::KeyNotEs256 {
                alg: key.algorithm().as_str(),
            });
        }
        apple_identifier("team_id", team_id)?;
        apple_identifier("key_id", key_id)?;
        // Apple: header "kid: A 10-character key identifier generated for the Sign in with
        // Apple private key associated with your developer account".
        let key = key.with_kid(key_id);
        Ok(Self {
            team_id: team_id.to_owned(),
            client_id,
            signer: jws::CompactSigner::new(&jws::Header::default(), key)?,
            lifetime_secs: CLIENT_SECRET_LIFETIME_SECS,
        })
    }

    /// Another lifetime, capped at Apple's maximum (at least [`RENEW_MARGIN_SECS`] + 1 s, so
    /// that a fresh secret does not need renewal at once).
    #[must_use]
    pub fn with_lifetime(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs.clamp(RENEW_MARGIN_SECS + 1, MAX_CLIENT_SECRET_LIFETIME_SECS);
        self
    }

    /// The client id (`sub`).
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// A client secret valid from `now`.
    ///
    /// # Errors
    /// [`AppleError::Time`], [`AppleError::Encoding`], [`AppleError::Jose`] (signing).
    pub fn mint(&self, now: UnixTime, rng: &dyn SecureRandom) -> Result<MintedSecret, AppleError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: u64,
            exp: u64,
            aud: &'a str,
            sub: &'a str,
        }
        let exp = now
            .0
            .checked_add(self.lifetime_secs)
            .ok_or(AppleError::Time)?;
        // Apple, "Creating a client secret": iss = team id, iat, exp, aud, sub = client id.
        let claims = Claims {
            iss: &self.team_id,
            iat: now.0,
            exp,
            aud: CLIENT_SECRET_AUDIENCE,
            sub: self.client_id.as_str(),
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| AppleError::Encoding)?;
        Ok(MintedSecret {
            secret: Secret::new(self.signer.sign(&payload, rng)?),
            expires_at: UnixTime(exp),
        })
    }
}

/// The `user` form field of a first authorization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppleUser {
    /// The first name, if shared.
    pub first_name: Option<String>,
    /// The last name, if shared.
    pub last_name: Option<String>,
    /// The address Apple put in the field (the ID token's `email` is the one to use).
    pub email: Option<String>,
}

impl AppleUser {
    /// "firstName lastName", or whichever is there.
    pub fn name(&self) -> Option<String> {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (f, l) => f.clone().or_else(|| l.clone()),
        }
    }
}

/// Parses the `user` form field: size-capped, names trimmed, control characters refused,
/// empty names dropped.
///
/// # Errors
/// [`AppleError::UserTooLarge`], [`AppleError::UserMalformed`].
pub fn parse_user(raw: &str) -> Result<AppleUser, AppleError> {
    if raw.len() > MAX_USER_FIELD_BYTES {
        return Err(AppleError::UserTooLarge {
            len: raw.len(),
            max: MAX_USER_FIELD_BYTES,
        });
    }
    #[derive(Deserialize)]
    struct Name {
        #[serde(rename = "firstName")]
        first_name: Option<String>,
        #[serde(rename = "lastName")]
        last_name: Option<String>,
    }
    #[derive(Deserialize)]
    struct User {
        name: Option<Name>,
        email: Option<String>,
    }
    let u: User = serde_json::from_str(raw).map_err(|_| AppleError::UserMalformed)?;
    let clean = |s: Option<String>| -> Result<Option<String>, AppleError> {
        let Some(s) = s else { return Ok(None) };
        let s = s.trim();
        if s.chars().any(char::is_control) || s.chars().count() > MAX_NAME_CHARS {
            return Err(AppleError::UserMalformed);
        }
        Ok((!s.is_empty()).then(|| s.to_owned()))
    };
    let (first, last) = match u.name {
        Some(n) => (clean(n.first_name)?, clean(n.last_name)?),
        None => (None, None),
    };
    Ok(AppleUser {
        first_name: first,
        last_name: last,
        email: clean(u.email)?,
    })
}

#[cfg(test)]
mod tests;
