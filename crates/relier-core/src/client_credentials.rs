//! The client credentials grant (RFC 6749 §4.4): a client asks for a token with its own
//! identity. The request carries `scope`, `resource` indicators (RFC 8707 §2) and
//! `authorization_details` (RFC 9396 §2); the client authentication is added by
//! [`crate::ClientAuth::request`] as for every other token request. [`CachedToken`] says when a
//! token obtained this way must be renewed.

use serde_json::Value;
use url::Url;

use crate::http::Form;
use crate::token::TokenResponse;
use crate::types::{InvalidValue, UnixTime};

/// Longest `authorization_details` sent (serialized JSON).
pub const MAX_AUTHORIZATION_DETAILS_BYTES: usize = 16 * 1024;
/// Most `resource` parameters in one request.
pub const MAX_RESOURCES: usize = 32;

/// A resource indicator (RFC 8707 §2): an absolute URI without a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceIndicator(String);

impl ResourceIndicator {
    /// Check `s`.
    ///
    /// # Errors
    /// Not an absolute URI, or it has a fragment (RFC 8707 §2).
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        let url = Url::parse(&s).map_err(|e| InvalidValue::NotAUrl {
            what: "resource",
            reason: e.to_string(),
        })?;
        // RFC 8707 §2: "MUST be an absolute URI ... MUST NOT include a fragment component".
        if url.fragment().is_some() {
            return Err(InvalidValue::ForbiddenPart {
                what: "resource",
                part: "fragment",
            });
        }
        Ok(Self(s))
    }

    /// The URI as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ResourceIndicator {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// RFC 9396 §2 `authorization_details`: a JSON array of objects, each with a string `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationDetails(Value);

impl AuthorizationDetails {
    /// Check `v`.
    ///
    /// # Errors
    /// Not an array of objects with a string `type`, or larger than
    /// [`MAX_AUTHORIZATION_DETAILS_BYTES`].
    pub fn new(v: Value) -> Result<Self, InvalidValue> {
        let syntax = |reason| InvalidValue::Syntax {
            what: "authorization_details",
            reason,
        };
        let Value::Array(items) = &v else {
            return Err(syntax("must be a JSON array (RFC 9396 §2)"));
        };
        // RFC 9396 §2: "type: REQUIRED. The type of authorization details as a string."
        let typed = |i: &Value| i.get("type").is_some_and(Value::is_string);
        if !items.iter().all(typed) {
            return Err(syntax("each entry must be an object with a string type"));
        }
        if v.to_string().len() > MAX_AUTHORIZATION_DETAILS_BYTES {
            return Err(syntax("longer than 16 KiB"));
        }
        Ok(Self(v))
    }

    /// The JSON value.
    pub fn as_json(&self) -> &Value {
        &self.0
    }
}

/// What a client credentials request asks for.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentialsRequest {
    /// Scopes (joined with spaces into `scope`, RFC 6749 §3.3); none: the OP's default.
    pub scopes: Vec<String>,
    /// RFC 8707 `resource`, one parameter each.
    pub resources: Vec<ResourceIndicator>,
    /// RFC 9396 `authorization_details`.
    pub authorization_details: Option<AuthorizationDetails>,
}

/// Why a client credentials request was not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientCredentialsError {
    /// A scope that is not a `scope-token` (RFC 6749 §3.3).
    #[error("client_credentials: scope {index} is not a scope token (RFC 6749 §3.3)")]
    InvalidScope {
        /// Its position in the list.
        index: usize,
    },
    /// More than [`MAX_RESOURCES`] resource indicators.
    #[error("client_credentials: more than {max} resource indicators")]
    TooManyResources {
        /// The limit.
        max: usize,
    },
    /// RFC 6749 §4.4: only confidential clients may use the grant; `none` has no credential.
    #[error(
        "client_credentials: the client authenticates with none; the grant needs a confidential client (RFC 6749 §4.4)"
    )]
    PublicClient,
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

impl ClientCredentialsRequest {
    /// A request for `scopes` at `resources`.
    pub fn new(scopes: Vec<String>, resources: Vec<ResourceIndicator>) -> Self {
        Self {
            scopes,
            resources,
            authorization_details: None,
        }
    }

    /// RFC 6749 §4.4.2 parameters (client authentication added separately).
    ///
    /// # Errors
    /// A scope that is not a scope token, too many resources.
    pub fn form(&self) -> Result<Form, ClientCredentialsError> {
        if let Some(index) = self.scopes.iter().position(|s| !is_scope_token(s)) {
            return Err(ClientCredentialsError::InvalidScope { index });
        }
        if self.resources.len() > MAX_RESOURCES {
            return Err(ClientCredentialsError::TooManyResources { max: MAX_RESOURCES });
        }
        let mut f = Form::new();
        f.push("grant_type", "client_credentials");
        if !self.scopes.is_empty() {
            f.push("scope", &self.scopes.join(" "));
        }
        // RFC 8707 §2: "the resource parameter ... MAY be used multiple times".
        for r in &self.resources {
            f.push("resource", r.as_str());
        }
        // RFC 9396 §2: a JSON array, form-encoded as one parameter.
        if let Some(d) = &self.authorization_details {
            f.push("authorization_details", &d.as_json().to_string());
        }
        Ok(f)
    }
}

/// A token obtained at `obtained_at`, and when it stops being handed out.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The token response.
    pub tokens: TokenResponse,
    /// When it was received.
    pub obtained_at: UnixTime,
}

impl CachedToken {
    /// When the token expires (RFC 6749 §5.1 `expires_in` from when it was received); `None`
    /// without `expires_in`.
    pub fn expires_at(&self) -> Option<UnixTime> {
        let lifetime = self.tokens.expires_in?;
        Some(UnixTime(self.obtained_at.0.saturating_add(lifetime)))
    }

    /// Whether the token may still be handed out at `now`: more than `margin` seconds before
    /// it expires. A token without `expires_in` is used for `default_lifetime` seconds (the OP
    /// did not say; RFC 6749 §5.1 only recommends the member).
    pub fn is_fresh(&self, now: UnixTime, margin: u64, default_lifetime: u64) -> bool {
        let expires_at = self.expires_at().unwrap_or(UnixTime(
            self.obtained_at.0.saturating_add(default_lifetime),
        ));
        now.0.saturating_add(margin) < expires_at.0
    }
}

#[cfg(test)]
mod tests;
