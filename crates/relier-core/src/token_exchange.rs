//! OAuth 2.0 Token Exchange (RFC 8693): a client trades a token it holds — here the user's
//! access token — for another one, e.g. for another audience. [`TokenExchangeRequest::form`]
//! builds the token request's parameters (§2.1; the client authentication is added by
//! [`crate::ClientAuth::request`] as for every other token request) and
//! [`ExchangedToken::from_response`] checks the answer (§2.2).

use crate::http::{Form, HttpResponse};
use crate::secret::Secret;
use crate::token::{TokenError, TokenResponse, parse_json};

/// RFC 8693 §2.1 `grant_type`.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3: the token type identifier of an OAuth 2.0 access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Longest `audience` value sent.
pub const MAX_AUDIENCE_LEN: usize = 2048;

/// Why a token exchange request was not built, or its answer refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenExchangeError {
    /// RFC 8693 §2.1: `audience` is a non-empty string (checked: printable ASCII, bounded).
    #[error("token exchange: the audience is empty, too long or not printable ASCII")]
    InvalidAudience,
    /// RFC 8693 §2.1: `subject_token` is required.
    #[error("token exchange: the subject token is empty")]
    EmptySubjectToken,
    /// The token endpoint refused or answered something that is not a token response.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// RFC 8693 §2.2.1: `issued_token_type` is REQUIRED.
    #[error("token exchange: the response has no issued_token_type (RFC 8693 §2.2.1)")]
    MissingIssuedTokenType,
    /// An issued token of another type than the access token that was requested.
    #[error("token exchange: the OP issued a token of type {got:?}, an access token was requested")]
    WrongIssuedTokenType {
        /// The type received (truncated).
        got: String,
    },
    /// RFC 8693 §2.2.1: `token_type` `N_A` means the token cannot be used as an access token.
    #[error("token exchange: the issued token is not usable as an access token (token_type N_A)")]
    NotAnAccessToken,
}

/// What to ask for (RFC 8693 §2.1): an access token for `audience`, in exchange for a subject
/// access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenExchangeRequest {
    audience: String,
}

impl TokenExchangeRequest {
    /// A request for an access token for `audience` (RFC 8693 §2.1: "the logical name of the
    /// target service where the client intends to use the requested security token").
    ///
    /// # Errors
    /// [`TokenExchangeError::InvalidAudience`].
    pub fn new(audience: impl Into<String>) -> Result<Self, TokenExchangeError> {
        let audience = audience.into();
        let ok = !audience.is_empty()
            && audience.len() <= MAX_AUDIENCE_LEN
            && audience.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(TokenExchangeError::InvalidAudience);
        }
        Ok(Self { audience })
    }

    /// The audience asked for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// RFC 8693 §2.1 parameters (client authentication added separately): `grant_type`,
    /// `subject_token` with `subject_token_type` access token (§3), `audience`, and
    /// `requested_token_type` access token, so the answer can be checked against it.
    ///
    /// # Errors
    /// [`TokenExchangeError::EmptySubjectToken`].
    pub fn form(&self, subject_token: &Secret) -> Result<Form, TokenExchangeError> {
        if subject_token.is_empty() {
            return Err(TokenExchangeError::EmptySubjectToken);
        }
        let mut f = Form::new();
        f.push("grant_type", GRANT_TYPE)
            .push("subject_token", subject_token.expose())
            .push("subject_token_type", ACCESS_TOKEN_TYPE)
            .push("audience", &self.audience)
            .push("requested_token_type", ACCESS_TOKEN_TYPE);
        Ok(f)
    }
}

/// A token the OP issued in exchange (RFC 8693 §2.2.1).
#[derive(Debug, Clone)]
pub struct ExchangedToken {
    /// The response as an RFC 6749 §5.1 token response (`access_token`, `token_type`,
    /// `expires_in`, `scope`, `refresh_token`).
    pub tokens: TokenResponse,
    /// `issued_token_type`.
    pub issued_token_type: String,
}

#[derive(serde::Deserialize)]
struct IssuedType {
    issued_token_type: Option<String>,
}

impl ExchangedToken {
    /// Parse and check a token exchange response: a successful token response (§2.2.1; an
    /// error response is §2.2.2, RFC 6749 §5.2) whose `issued_token_type` is the access token
    /// that was requested and whose `token_type` is not `N_A`.
    ///
    /// # Errors
    /// [`TokenExchangeError`] naming the check that failed.
    pub fn from_response(resp: &HttpResponse) -> Result<Self, TokenExchangeError> {
        let tokens = TokenResponse::from_response(resp)?;
        let issued: IssuedType = parse_json("token", resp)?;
        let issued_token_type = issued
            .issued_token_type
            .ok_or(TokenExchangeError::MissingIssuedTokenType)?;
        if issued_token_type != ACCESS_TOKEN_TYPE {
            return Err(TokenExchangeError::WrongIssuedTokenType {
                got: issued_token_type.chars().take(100).collect(),
            });
        }
        // §2.2.1: "If the issued token is not an access token or usable as an access token,
        // then the token_type value N_A is used."
        if tokens.token_type.eq_ignore_ascii_case("N_A") {
            return Err(TokenExchangeError::NotAnAccessToken);
        }
        Ok(Self {
            tokens,
            issued_token_type,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn ok(body: &str) -> Result<ExchangedToken, TokenExchangeError> {
        ExchangedToken::from_response(&HttpResponse::json(200, body))
    }

    #[test]
    fn the_request_carries_the_rfc_8693_parameters() {
        let r = TokenExchangeRequest::new("https://orders.internal").unwrap();
        let f = r.form(&Secret::new("user-at")).unwrap();
        let get = |k: &str| f.get(k).unwrap();
        assert_eq!(get("grant_type"), GRANT_TYPE);
        assert_eq!(get("subject_token"), "user-at");
        assert_eq!(get("subject_token_type"), ACCESS_TOKEN_TYPE);
        assert_eq!(get("audience"), "https://orders.internal");
        assert_eq!(get("requested_token_type"), ACCESS_TOKEN_TYPE);
        assert!(matches!(
            r.form(&Secret::new("")),
            Err(TokenExchangeError::EmptySubjectToken)
        ));
    }

    #[test]
    fn audiences_are_checked() {
        assert!(TokenExchangeRequest::new("orders").is_ok());
        for bad in ["", "a b", "x\n", &"a".repeat(MAX_AUDIENCE_LEN + 1)] {
            assert!(
                matches!(
                    TokenExchangeRequest::new(bad),
                    Err(TokenExchangeError::InvalidAudience)
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_response_is_checked_against_rfc_8693() {
        let t = ok(
            r#"{"access_token":"x","token_type":"Bearer","expires_in":60,
            "issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#,
        )
        .unwrap();
        assert_eq!(t.tokens.access_token.expose(), "x");
        assert_eq!(t.tokens.expires_in, Some(60));
        assert!(matches!(
            ok(r#"{"access_token":"x","token_type":"Bearer"}"#),
            Err(TokenExchangeError::MissingIssuedTokenType)
        ));
        assert!(matches!(
            ok(r#"{"access_token":"x","token_type":"Bearer",
                "issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}"#),
            Err(TokenExchangeError::WrongIssuedTokenType { .. })
        ));
        assert!(matches!(
            ok(r#"{"access_token":"x","token_type":"N_A",
                "issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#),
            Err(TokenExchangeError::NotAnAccessToken)
        ));
        let refused = ExchangedToken::from_response(&HttpResponse::json(
            400,
            r#"{"error":"invalid_target"}"#,
        ));
        assert!(matches!(
            refused,
            Err(TokenExchangeError::Token(TokenError::OAuth { ref error, .. })) if error == "invalid_target"
        ));
    }
}
