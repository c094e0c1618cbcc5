//! The UserInfo endpoint (OIDC Core §5.3): Bearer request, JSON or signed-JWT response, and the
//! rule that its `sub` MUST equal the ID token's (§5.3.2).

use serde_json::{Map, Value};

use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES, TlsIdentity};
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
        status: u16,
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
    /// §5.3.2: signed responses' iss must be the OP.
    #[error("userinfo: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch { expected: String, got: String },
    /// §5.3.2: signed responses' aud must contain the client_id.
    #[error("userinfo: aud does not contain {client_id}")]
    AudienceMismatch { client_id: String },
    /// §5.3.2: sub MUST match the ID token's.
    #[error("userinfo: sub mismatch: expected {expected}, got {got}")]
    SubMismatch { expected: String, got: String },
    /// §5.3.2: sub is always returned.
    #[error("userinfo: sub is missing")]
    MissingSub,
}

/// OIDC Core §5.3.1: GET with the access token as a Bearer token (RFC 6750 §2.1).
pub fn request(endpoint: &str, access_token: &Secret, mtls: bool) -> HttpRequest {
    let mut req = HttpRequest::get(endpoint, "application/json, application/jwt");
    req.headers.push((
        "authorization".into(),
        format!("Bearer {}", access_token.expose()),
    ));
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
    let media = resp.media_type();
    let claims = if media.as_deref() == Some("application/jwt") {
        let text = std::str::from_utf8(&resp.body)
            .map_err(|_| UserInfoError::Invalid("JWT is not UTF-8".into()))?;
        let jwt = verify_jwt(text.trim(), signed.keys, signed.policy)?;
        let claims = jwt.claims;
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
        claims
    } else {
        if signed.required {
            return Err(UserInfoError::ExpectedSigned(resp.content_type.clone()));
        }
        match serde_json::from_slice::<Value>(&resp.body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(UserInfoError::Invalid("not a JSON object".into())),
            Err(e) => return Err(UserInfoError::Invalid(e.to_string())),
        }
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
