//! Verification of signed JWTs from the OP (ID tokens, signed UserInfo, logout tokens), with the
//! algorithm pinned by configuration — never taken from the token header (RFC 8725 §3.1).

use relier_jose::jws::{Header, UnverifiedJws};
use relier_jose::{Algorithm, JoseError, VerifyingKey};
use serde_json::{Map, Value};

use crate::jwks::{KeySelectError, KeySet};

/// Header parameters relier understands when listed in `crit` (RFC 7515 §4.1.11): none.
const UNDERSTOOD_CRIT: &[&str] = &[];

/// Why a JWT's signature or structure was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a compact JWS, or a non-JSON payload.
    #[error("malformed: {0}")]
    Malformed(String),
    /// Five parts: a JWE, and no encryption was registered for this response (OIDC Core §10.2:
    /// register `id_token_encrypted_response_alg`/`userinfo_encrypted_response_alg`).
    #[error("encrypted token (JWE), but no encryption is registered for it")]
    Encrypted,
    /// RFC 7515 §4.1.11: an extension the RP does not understand is marked critical.
    #[error("unsupported crit header: {name}")]
    UnsupportedCrit {
        /// The critical header parameter's name.
        name: String,
    },
    /// `alg: none` where a signature is required: everywhere but an ID token of a client that
    /// registered `none`, from the token endpoint over TLS (OIDC Core §2).
    #[error("alg none: unsigned tokens are rejected")]
    Unsigned,
    /// `alg: none` with a non-empty signature part (RFC 7518 §3.6: it MUST be empty).
    #[error("alg none: the signature part must be empty")]
    UnsignedWithSignature,
    /// The header alg is not the one configured (RFC 8725 §3.1; OIDC Core §3.1.3.7 (7)).
    #[error("alg mismatch: expected {expected}, got {got}")]
    AlgorithmMismatch {
        /// The configured algorithm.
        expected: &'static str,
        /// The token's `alg` header.
        got: String,
    },
    /// No key could be chosen.
    #[error("{0}")]
    Key(#[from] KeySelectError),
    /// HS* expected but the RP holds no client secret.
    #[error("{alg} requires the client secret, which is not configured")]
    NoClientSecret {
        /// The token's HMAC algorithm.
        alg: &'static str,
    },
    /// Bad signature.
    #[error("signature verification failed")]
    InvalidSignature,
}

impl JwtError {
    /// True when the OP may have rotated its keys and a JWKS refetch could help.
    pub fn is_refetchable(&self) -> bool {
        matches!(self, JwtError::Key(k) if k.is_refetchable())
    }

    /// The key a JWKS refetch would look for, when one could help.
    pub fn missing_key(&self) -> Option<crate::jwks::MissingKey> {
        match self {
            JwtError::Key(k) => k.missing_key(),
            _ => None,
        }
    }
}

/// A verified JWT: header and claims, built only by [`verify_jwt`].
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The JOSE header.
    pub header: Header,
    /// The claims object.
    pub claims: Map<String, Value>,
}

/// How to verify.
#[derive(Clone, Copy)]
pub struct JwtPolicy<'a> {
    /// The only algorithm accepted.
    pub alg: Algorithm,
    /// For HS*: the client secret as an HMAC key (OIDC Core §10.1).
    pub hmac_key: Option<&'a VerifyingKey>,
}

impl std::fmt::Debug for JwtPolicy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtPolicy")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Verify structure, `crit`, algorithm and signature; return the claims. `alg: none` is always
/// refused here.
pub fn verify_jwt(
    token: &str,
    keys: &KeySet,
    policy: JwtPolicy<'_>,
) -> Result<VerifiedJwt, JwtError> {
    let jws = parse(token)?;
    let header = jws.header().clone();
    let payload = verify(jws, keys, policy)?;
    Ok(VerifiedJwt {
        header,
        claims: claims_of(&payload)?,
    })
}

/// Like [`verify_jwt`], for callers that read the claims themselves: the header and the
/// verified payload bytes.
pub(crate) fn verify_jwt_header_payload(
    token: &str,
    keys: &KeySet,
    policy: JwtPolicy<'_>,
) -> Result<(Header, Vec<u8>), JwtError> {
    let jws = parse(token)?;
    let header = jws.header().clone();
    Ok((header, verify(jws, keys, policy)?))
}

/// Like [`verify_jwt`], for callers that type the claims themselves: the verified payload bytes.
pub(crate) fn verify_jwt_payload(
    token: &str,
    keys: &KeySet,
    policy: JwtPolicy<'_>,
) -> Result<Vec<u8>, JwtError> {
    verify(parse(token)?, keys, policy)
}

/// An Unsecured JWS (RFC 7518 §3.6): structure and `crit` as [`verify_jwt`], header `alg`
/// exactly `none`, an empty signature part; the payload bytes. Only for an ID token of a
/// client that registered `none`, from the token endpoint over TLS (OIDC Core §2,
/// §3.1.3.7 (6)): [`crate::id_token::IdTokenValidator::validate`] decides that.
pub(crate) fn unsigned_jwt_payload(token: &str) -> Result<Vec<u8>, JwtError> {
    let jws = parse(token)?;
    check_crit(jws.header())?;
    let got = jws.header_alg();
    // OIDC Core §3.1.3.7 (7): the registered alg, here `none`, and no other.
    if got != Algorithm::None.as_str() {
        return Err(JwtError::AlgorithmMismatch {
            expected: Algorithm::None.as_str(),
            got: got.to_owned(),
        });
    }
    jws.dangerous_accept_unsigned()
        .map(<[u8]>::to_vec)
        .map_err(|_| JwtError::UnsignedWithSignature)
}

/// RFC 7515 §4.1.11: reject unknown critical extensions.
fn check_crit(header: &Header) -> Result<(), JwtError> {
    relier_jose::jws::check_crit(header, UNDERSTOOD_CRIT).map_err(|e| match e {
        JoseError::UnsupportedCrit { name, .. } => JwtError::UnsupportedCrit { name },
        other => JwtError::Malformed(other.to_string()),
    })
}

fn parse(token: &str) -> Result<UnverifiedJws<'_>, JwtError> {
    UnverifiedJws::parse(token).map_err(|e| {
        // OIDC Core §3.1.3.7 (1): an encrypted token has five parts; it is decrypted before
        // this point when encryption was registered (crate::encryption).
        if token.split('.').count() == 5 {
            JwtError::Encrypted
        } else {
            JwtError::Malformed(e.to_string())
        }
    })
}

fn verify(
    jws: UnverifiedJws<'_>,
    keys: &KeySet,
    policy: JwtPolicy<'_>,
) -> Result<Vec<u8>, JwtError> {
    let header = jws.header();
    check_crit(header)?;
    let got = jws.header_alg();
    // RFC 8725 §3.1 / OIDC Core §2: unsigned tokens are refused on this path, whatever the
    // policy (logout tokens, signed UserInfo, JARM, any ID token not from the token endpoint).
    if got == Algorithm::None.as_str() {
        return Err(JwtError::Unsigned);
    }
    // OIDC Core §3.1.3.7 (7): the alg MUST be the one registered (id_token_signed_response_alg).
    if got != policy.alg.as_str() {
        return Err(JwtError::AlgorithmMismatch {
            expected: policy.alg.as_str(),
            got: got.to_owned(),
        });
    }
    let key = if policy.alg.is_hmac() {
        // OIDC Core §3.1.3.7 (8): MAC algorithms use the client_secret octets as the key.
        policy.hmac_key.ok_or(JwtError::NoClientSecret {
            alg: policy.alg.as_str(),
        })?
    } else {
        // OIDC Core §3.1.3.7 (6), §10.1: the key is chosen by kid; without kid, exactly one fits.
        keys.select(header.kid.as_deref(), policy.alg)?
    };
    jws.verify_into_payload(policy.alg, key)
        .map_err(|e| match e {
            JoseError::InvalidSignature => JwtError::InvalidSignature,
            other => JwtError::Malformed(other.to_string()),
        })
}

fn claims_of(payload: &[u8]) -> Result<Map<String, Value>, JwtError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(JwtError::Malformed("payload is not a JSON object".into())),
        Err(e) => Err(JwtError::Malformed(format!("payload is not JSON: {e}"))),
    }
}
