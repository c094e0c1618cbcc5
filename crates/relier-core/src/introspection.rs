//! Token introspection (RFC 7662) and revocation (RFC 7009): request forms and responses.

use serde_json::{Map, Value};

use crate::http::{Form, HttpResponse};
use crate::secret::Secret;
use crate::token::{TokenError, error_from_response, parse_json};

/// `token_type_hint` values (RFC 7009 §2.1, RFC 7662 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

/// The form for either endpoint: `token` and an optional hint.
pub fn form(token: &Secret, hint: Option<TokenTypeHint>) -> Form {
    let mut f = Form::new();
    f.push("token", token.expose());
    if let Some(h) = hint {
        f.push("token_type_hint", h.as_str());
    }
    f
}

/// RFC 7662 §2.2: a JSON object with a boolean `active`; every other member kept as received.
pub fn parse_introspection(resp: &HttpResponse) -> Result<Map<String, Value>, TokenError> {
    let m: Map<String, Value> = parse_json("introspection", resp)?;
    match m.get("active") {
        Some(Value::Bool(_)) => Ok(m),
        _ => Err(TokenError::InvalidResponse {
            endpoint: "introspection",
            reason: "active is missing or not a boolean (RFC 7662 §2.2)".into(),
        }),
    }
}

/// RFC 7009 §2.2: HTTP 200 means revoked (or the token was already invalid).
pub fn parse_revocation(resp: &HttpResponse) -> Result<(), TokenError> {
    if resp.status == 200 {
        Ok(())
    } else {
        Err(error_from_response("revocation", resp))
    }
}
