//! The UserInfo endpoint (OIDC Core §5.3): Bearer request, JSON, signed and/or encrypted JWT
//! response, and the rule that its `sub` MUST equal the ID token's (§5.3.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::encryption::{DecryptError, Decryptor};
use crate::http::{Form, HttpRequest, HttpResponse, MAX_BODY_BYTES, TlsIdentity};
use crate::jwks::KeySet;
use crate::jwt::{JwtError, JwtPolicy, verify_jwt};
use crate::secret::Secret;
use crate::types::{ClientId, IssuerUrl};

/// Why a UserInfo response was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserInfoError {
    /// Non-2xx (RFC 6750 §3 details from `WWW-Authenticate` when present).
    #[error("userinfo: HTTP {status}{}", www_authenticate.as_ref().map(|w| format!(" ({w})")).unwrap_or_default())]
    Status {
        /// The HTTP status the UserInfo endpoint answered with.
        status: u16,
        /// Its `WWW-Authenticate` header, if any.
        www_authenticate: Option<String>,
    },
    /// Neither a JSON object nor a JWT.
    #[error("userinfo: invalid response: {0}")]
    Invalid(String),
    /// A plain JSON response when a signed one was registered.
    #[error("userinfo: expected a signed response (application/jwt), got {0:?}")]
    ExpectedSigned(Option<String>),
    /// Signed response failed verification.
    #[error("userinfo: {0}")]
    Jwt(#[from] JwtError),
    /// `userinfo_encrypted_response_alg` was registered and the response is not encrypted
    /// with it, or does not decrypt (OIDC Core §5.3.2).
    #[error("userinfo: {0}")]
    Decryption(#[from] DecryptError),
    /// §5.3.2: signed responses' iss must be the OP.
    #[error("userinfo: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The OP's issuer identifier.
        expected: String,
        /// The response's `iss`.
        got: String,
    },
    /// §5.3.2: signed responses' aud must contain the client_id.
    #[error("userinfo: aud does not contain {client_id}")]
    AudienceMismatch {
        /// The RP's client ID, which `aud` must contain.
        client_id: String,
    },
    /// §5.3.2: sub MUST match the ID token's.
    #[error("userinfo: sub mismatch: expected {expected}, got {got}")]
    SubMismatch {
        /// The ID token's `sub`.
        expected: String,
        /// The UserInfo response's `sub`.
        got: String,
    },
    /// §5.3.2: sub is always returned.
    #[error("userinfo: sub is missing")]
    MissingSub,
    /// RFC 9449 §7.1: a DPoP-bound access token goes in the `Authorization` header, never in
    /// the body.
    #[error(
        "userinfo: the access token is DPoP-bound, which needs the Authorization header (RFC 9449 §7.1): userinfo_token_method \"body\" cannot be used with DPoP"
    )]
    BodyWithDpop,
}

/// How the access token travels to UserInfo (OIDC Core §5.3.1 allows both of RFC 6750's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenMethod {
    /// RFC 6750 §2.1: `GET` with `Authorization: Bearer …`.
    #[default]
    Header,
    /// RFC 6750 §2.2: `POST` of the form `access_token=…`.
    Body,
}

impl TokenMethod {
    /// The name in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenMethod::Header => "header",
            TokenMethod::Body => "body",
        }
    }

    /// RFC 9449 §7.1: DPoP-bound tokens only go in the header.
    ///
    /// # Errors
    /// [`UserInfoError::BodyWithDpop`] for the body with `dpop`.
    pub fn check_dpop(self, dpop: bool) -> Result<(), UserInfoError> {
        if dpop && self == TokenMethod::Body {
            return Err(UserInfoError::BodyWithDpop);
        }
        Ok(())
    }
}

impl fmt::Display for TokenMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "header" => Ok(TokenMethod::Header),
            "body" => Ok(TokenMethod::Body),
            other => Err(format!(
                "unknown userinfo token method {other:?} (header or body)"
            )),
        }
    }
}

/// OIDC Core §5.3.1: GET with the access token as a Bearer token (RFC 6750 §2.1).
pub fn request(endpoint: &str, access_token: &Secret, mtls: bool) -> HttpRequest {
    request_with(endpoint, access_token, mtls, TokenMethod::Header)
}

/// OIDC Core §5.3.1 with the token sent as `method` says: a GET with `Authorization: Bearer`
/// (RFC 6750 §2.1), or a POST of the form `access_token=…` (RFC 6750 §2.2).
pub fn request_with(
    endpoint: &str,
    access_token: &Secret,
    mtls: bool,
    method: TokenMethod,
) -> HttpRequest {
    const ACCEPT: &str = "application/json, application/jwt";
    let mut req = match method {
        TokenMethod::Header => {
            let mut req = HttpRequest::get(endpoint, ACCEPT);
            req.headers.push((
                "authorization".into(),
                format!("Bearer {}", access_token.expose()),
            ));
            req
        }
        TokenMethod::Body => {
            let mut form = Form::new();
            form.push("access_token", access_token.expose());
            let mut req = HttpRequest::form_post(endpoint, &form);
            req.headers.retain(|(name, _)| name != "accept");
            req.headers.push(("accept".into(), ACCEPT.into()));
            req
        }
    };
    if mtls {
        req.tls_identity = TlsIdentity::ClientCertificate;
    }
    req
}

/// How to check a signed response.
#[derive(Debug, Clone, Copy)]
pub struct SignedUserInfo<'a> {
    /// Keys of the OP.
    pub keys: &'a KeySet,
    /// Pinned algorithm (`userinfo_signed_response_alg`).
    pub policy: JwtPolicy<'a>,
    /// Require a signed response.
    pub required: bool,
    /// The OP.
    pub issuer: &'a IssuerUrl,
    /// This RP.
    pub client_id: &'a ClientId,
    /// The registered `userinfo_encrypted_response_*` and the RP's keys: the response must
    /// then be a JWE.
    pub decryptor: Option<&'a Decryptor>,
}

/// Parse and check a UserInfo response against the ID token's `sub`.
pub fn parse(
    resp: &HttpResponse,
    expected_sub: &str,
    signed: &SignedUserInfo<'_>,
) -> Result<Map<String, Value>, UserInfoError> {
    if !resp.is_success() {
        return Err(UserInfoError::Status {
            status: resp.status,
            www_authenticate: resp.www_authenticate.clone(),
        });
    }
    if resp.body.len() > MAX_BODY_BYTES {
        return Err(UserInfoError::Invalid("body too large".into()));
    }
    let is_jwt = resp.media_type().as_deref() == Some("application/jwt");
    let claims = if let Some(decryptor) = signed.decryptor {
        // §5.3.2: a signed and/or encrypted response is a JWT, application/jwt.
        if !is_jwt {
            return Err(DecryptError::NotEncrypted {
                expected: decryptor.expectation(),
            }
            .into());
        }
        let plaintext = decryptor.decrypt(body_text(resp)?)?;
        if signed.required {
            // Signed, then encrypted (a nested JWT, OIDC Core §5.3.2).
            verified_claims(&plaintext, signed)?
        } else {
            json_object(plaintext.as_bytes())?
        }
    } else if is_jwt {
        verified_claims(body_text(resp)?, signed)?
    } else {
        if signed.required {
            return Err(UserInfoError::ExpectedSigned(resp.content_type.clone()));
        }
        json_object(&resp.body)?
    };
    // §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly match".
    match claims.get("sub") {
        Some(Value::String(s)) if s == expected_sub => Ok(claims),
        Some(Value::String(s)) => Err(UserInfoError::SubMismatch {
            expected: expected_sub.to_owned(),
            got: s.clone(),
        }),
        _ => Err(UserInfoError::MissingSub),
    }
}

fn body_text(resp: &HttpResponse) -> Result<&str, UserInfoError> {
    std::str::from_utf8(&resp.body)
        .map(str::trim)
        .map_err(|_| UserInfoError::Invalid("JWT is not UTF-8".into()))
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, UserInfoError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(UserInfoError::Invalid("not a JSON object".into())),
        Err(e) => Err(UserInfoError::Invalid(e.to_string())),
    }
}

/// A signed response: signature with the pinned algorithm, then iss and aud when present.
fn verified_claims(
    text: &str,
    signed: &SignedUserInfo<'_>,
) -> Result<Map<String, Value>, UserInfoError> {
    let claims = verify_jwt(text.trim(), signed.keys, signed.policy)?.claims;
    // §5.3.2: if signed, the response SHOULD contain iss and aud; check them when present.
    if let Some(iss) = claims.get("iss")
        && iss.as_str() != Some(signed.issuer.as_str())
    {
        return Err(UserInfoError::IssuerMismatch {
            expected: signed.issuer.as_str().to_owned(),
            got: iss.to_string(),
        });
    }
    if let Some(aud) = claims.get("aud") {
        let cid = signed.client_id.as_str();
        let ok = match aud {
            Value::String(s) => s == cid,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(cid)),
            _ => false,
        };
        if !ok {
            return Err(UserInfoError::AudienceMismatch {
                client_id: cid.to_owned(),
            });
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    #[test]
    fn token_in_the_header_or_the_body() {
        let token = Secret::new("at+/=1");
        let get = request_with("https://op/userinfo", &token, false, TokenMethod::Header);
        assert_eq!(get.method, Method::Get);
        assert_eq!(get.header("authorization"), Some("Bearer at+/=1"));
        assert!(get.body.is_empty());
        // RFC 6750 §2.2: POST, form-encoded, no Authorization header.
        let post = request_with("https://op/userinfo", &token, true, TokenMethod::Body);
        assert_eq!(post.method, Method::Post);
        assert_eq!(
            post.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            post.header("accept"),
            Some("application/json, application/jwt")
        );
        assert_eq!(post.header("authorization"), None);
        assert_eq!(post.body, b"access_token=at%2B%2F%3D1");
        assert_eq!(post.tls_identity, TlsIdentity::ClientCertificate);
    }

    #[test]
    fn method_names_and_dpop() {
        assert_eq!("body".parse::<TokenMethod>(), Ok(TokenMethod::Body));
        assert_eq!("header".parse::<TokenMethod>(), Ok(TokenMethod::Header));
        assert!("query".parse::<TokenMethod>().is_err());
        assert_eq!(TokenMethod::default(), TokenMethod::Header);
        assert!(TokenMethod::Header.check_dpop(true).is_ok());
        assert!(TokenMethod::Body.check_dpop(false).is_ok());
        assert!(matches!(
            TokenMethod::Body.check_dpop(true),
            Err(UserInfoError::BodyWithDpop)
        ));
    }
}
