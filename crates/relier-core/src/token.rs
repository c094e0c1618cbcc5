//! Token endpoint requests and responses (RFC 6749 §4.1.3–4.1.4, §5, §6; OIDC Core §3.1.3).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::authorize::{AuthorizationCode, PendingLogin};
use crate::http::{Form, HttpResponse, MAX_BODY_BYTES};
use crate::secret::Secret;

/// RFC 6749 §4.1.3 parameters of the code exchange (client authentication added separately).
pub fn code_exchange_form(code: &AuthorizationCode, pending: &PendingLogin) -> Form {
    let mut f = Form::new();
    f.push("grant_type", "authorization_code")
        .push("code", code.expose())
        .push("redirect_uri", pending.redirect_uri.as_str())
        // RFC 7636 §4.5
        .push("code_verifier", pending.pkce_verifier.expose());
    f
}

/// RFC 6749 §6 refresh parameters.
pub fn refresh_form(refresh_token: &Secret, scope: Option<&str>) -> Form {
    let mut f = Form::new();
    f.push("grant_type", "refresh_token")
        .push("refresh_token", refresh_token.expose());
    if let Some(s) = scope {
        f.push("scope", s);
    }
    f
}

/// An OAuth error response (RFC 6749 §5.2), as returned by the token, introspection and
/// revocation endpoints.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthErrorBody {
    /// `error`.
    pub error: String,
    /// `error_description`.
    pub error_description: Option<String>,
}

/// Why a token endpoint response was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// RFC 6749 §5.2 error.
    #[error("{endpoint}: the OP returned error {error}{} (HTTP {status})", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// Non-2xx without an OAuth error body.
    #[error("{endpoint}: HTTP {status}")]
    Status {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
    },
    /// Not the JSON RFC 6749 §5.1 requires.
    #[error("{endpoint}: invalid response: {reason}")]
    InvalidResponse {
        /// Which endpoint.
        endpoint: &'static str,
        /// What is wrong (never includes token values).
        reason: String,
    },
    /// OIDC Core §3.1.3.3: an authorization-code token response must contain an ID token.
    #[error("token: the response has no id_token")]
    MissingIdToken,
}

/// Turn a non-success response into the right error.
pub fn error_from_response(endpoint: &'static str, resp: &HttpResponse) -> TokenError {
    match serde_json::from_slice::<OAuthErrorBody>(&resp.body) {
        Ok(e) => TokenError::OAuth {
            endpoint,
            status: resp.status,
            error: e.error,
            description: e.error_description,
        },
        Err(_) => TokenError::Status {
            endpoint,
            status: resp.status,
        },
    }
}

/// Parse a JSON success body, or map the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: &HttpResponse,
) -> Result<T, TokenError> {
    if !resp.is_success() {
        return Err(error_from_response(endpoint, resp));
    }
    if resp.body.len() > MAX_BODY_BYTES {
        return Err(TokenError::InvalidResponse {
            endpoint,
            reason: format!("body larger than {MAX_BODY_BYTES} bytes"),
        });
    }
    serde_json::from_slice(&resp.body).map_err(|e| TokenError::InvalidResponse {
        endpoint,
        // serde_json errors name the position and expected type, never the value.
        reason: e.to_string(),
    })
}

/// RFC 6749 §5.1 / OIDC Core §3.1.3.3 token response.
#[derive(Clone, Deserialize, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: Secret,
    /// Token type; compare case-insensitively (RFC 6749 §5.1, §7.1).
    pub token_type: String,
    /// Lifetime in seconds; some OPs send a string, some send nothing.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub expires_in: Option<u64>,
    /// Refresh token.
    pub refresh_token: Option<Secret>,
    /// The ID token (compact JWS).
    pub id_token: Option<Secret>,
    /// Granted scope.
    pub scope: Option<String>,
    /// RFC 9396 §7: the authorization details granted, as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<serde_json::Value>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("has_id_token", &self.id_token.is_some())
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenResponse {
    /// Parse a token endpoint response.
    pub fn from_response(resp: &HttpResponse) -> Result<Self, TokenError> {
        let t: TokenResponse = parse_json("token", resp)?;
        if t.access_token.is_empty() {
            return Err(TokenError::InvalidResponse {
                endpoint: "token",
                reason: "access_token is empty".into(),
            });
        }
        Ok(t)
    }
}

/// Accept `3600`, `3600.0`, `"3600"` or null for a seconds count.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        U(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::U(u)) => Some(u),
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked finite and non-negative; fractional seconds are truncated"
        )]
        Some(N::F(f)) if f.is_finite() && f >= 0.0 => Some(f as u64),
        Some(N::F(_)) => None,
        Some(N::S(s)) => s.trim().parse().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::json(status, body)
    }

    #[test]
    fn expires_in_as_string_or_number() {
        for (body, want) in [
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
                Some(3600),
            ),
            (
                r#"{"access_token":"a","token_type":"bearer","expires_in":3600}"#,
                Some(3600),
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":59.9}"#,
                Some(59),
            ),
            (r#"{"access_token":"a","token_type":"Bearer"}"#, None),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":null}"#,
                None,
            ),
        ] {
            let t = TokenResponse::from_response(&resp(200, body)).unwrap();
            assert_eq!(t.expires_in, want, "{body}");
        }
    }

    /// `fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in`:
    /// `expires_in` is only RECOMMENDED (RFC 6749 §5.1); a response without it is accepted, with
    /// the tokens and no lifetime.
    #[test]
    fn fapi2_security_profile_final_client_test_token_endpoint_response_without_expires_in() {
        let t = TokenResponse::from_response(&resp(
            200,
            r#"{"access_token":"at-1","token_type":"DPoP","id_token":"x.y.z","refresh_token":"rt"}"#,
        ))
        .unwrap();
        assert_eq!(t.expires_in, None);
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.token_type, "DPoP");
        assert!(t.id_token.is_some() && t.refresh_token.is_some());
    }

    #[test]
    fn oauth_errors_surface() {
        let err = TokenResponse::from_response(&resp(
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "token: the OP returned error invalid_grant: grant request is invalid (HTTP 400)"
        );
        assert!(matches!(
            TokenResponse::from_response(&resp(502, "<html>")),
            Err(TokenError::Status { status: 502, .. })
        ));
    }

    #[test]
    fn debug_hides_tokens() {
        let t = TokenResponse::from_response(&resp(
            200,
            r#"{"access_token":"SECRET-AT","token_type":"Bearer","refresh_token":"SECRET-RT","id_token":"x.y.z"}"#,
        ))
        .unwrap();
        let d = format!("{t:?}");
        assert!(!d.contains("SECRET"));
    }
}
