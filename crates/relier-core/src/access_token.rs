//! JWT access tokens at a resource server (RFC 9068 §4): the signature with the algorithm pinned
//! by configuration (never the header's), `typ`, `iss`, `aud`, the time claims and the claims a
//! resource server acts on (`sub`, `client_id`, `scope`, `cnf.jkt`). [`VerifiedAccessToken`]
//! can only be built by passing all of them.

use std::sync::OnceLock;

use relier_jose::Algorithm;
use relier_jose::members::{RawValue, object_members};
use serde_json::{Map, Value};

use crate::jwks::KeySet;
use crate::jwt::{JwtError, JwtPolicy, verify_jwt_header_payload};
use crate::types::{IssuerUrl, UnixTime};

/// What a resource server expects of an access token.
#[derive(Debug, Clone, Copy)]
pub struct AccessTokenExpectations<'a> {
    /// The authorization server's issuer identifier (RFC 9068 §4 (3)).
    pub issuer: &'a IssuerUrl,
    /// This resource server's audience: a URL or any string the AS uses (RFC 9068 §4 (4)).
    pub audience: &'a str,
    /// The only signature algorithm accepted, from configuration (RFC 8725 §3.1). A MAC
    /// algorithm is refused: the resource server shares no key with the AS.
    pub alg: Algorithm,
    /// Allowed clock skew, seconds.
    pub skew: u64,
}

/// Why an access token was refused. Messages name the failed check, never the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenError {
    /// Signature, algorithm, key selection or structure.
    #[error("access token: {0}")]
    Jwt(#[from] JwtError),
    /// RFC 9068 §4 (5): the configured algorithm is a MAC; access tokens are verified with
    /// the AS's public keys only.
    #[error("access token: {alg} is not accepted for access tokens (asymmetric algorithms only)")]
    SymmetricAlg {
        /// The configured algorithm (a MAC, or `none`).
        alg: &'static str,
    },
    /// RFC 9068 §4 (1): `typ` is not `at+jwt` (an ID token, or any other JWT).
    #[error("access token: typ {got:?} is not at+jwt")]
    Type {
        /// The token's `typ` header, if it has one.
        got: Option<String>,
    },
    /// RFC 9068 §4 (3).
    #[error("access token: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The authorization server's issuer identifier.
        expected: String,
        /// The token's `iss`.
        got: String,
    },
    /// RFC 9068 §4 (4).
    #[error("access token: audience {audience} is not in {aud:?}")]
    AudienceMismatch {
        /// The resource server's identifier, which `aud` must contain.
        audience: String,
        /// The token's `aud` values.
        aud: Vec<String>,
    },
    /// RFC 9068 §2.2: a required claim is absent.
    #[error("access token: required claim {claim} is missing")]
    MissingClaim {
        /// The name of the missing claim.
        claim: &'static str,
    },
    /// A claim has the wrong JSON type or an impossible value.
    #[error("access token: claim {claim} is invalid: {reason}")]
    InvalidClaim {
        /// The name of the invalid claim.
        claim: &'static str,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// RFC 7662 §2.2: the provider says the token is not active.
    #[error("access token: not active (introspection)")]
    Inactive,
    /// RFC 9068 §4 (6).
    #[error("access token: expired at {exp} (now {now}, skew {skew}s)")]
    Expired {
        /// The token's `exp` (seconds since the epoch).
        exp: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// The clock skew allowed, in seconds.
        skew: u64,
    },
    /// RFC 7519 §4.1.5.
    #[error("access token: not valid before {nbf} (now {now}, skew {skew}s)")]
    NotYetValid {
        /// The token's `nbf` (seconds since the epoch).
        nbf: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// The clock skew allowed, in seconds.
        skew: u64,
    },
    /// `iat` in the future beyond the skew.
    #[error("access token: iat {iat} is in the future (now {now}, skew {skew}s)")]
    IssuedInFuture {
        /// The token's `iat` (seconds since the epoch).
        iat: u64,
        /// The current time (seconds since the epoch).
        now: u64,
        /// The clock skew allowed, in seconds.
        skew: u64,
    },
}

impl AccessTokenError {
    /// The key a JWKS refetch would look for, when one could help.
    pub fn missing_key(&self) -> Option<crate::jwks::MissingKey> {
        match self {
            AccessTokenError::Jwt(e) => e.missing_key(),
            _ => None,
        }
    }
}

/// A verified access token, built only by [`validate_access_token`].
#[derive(Debug, Clone)]
pub struct VerifiedAccessToken {
    /// Issuer.
    pub iss: String,
    /// Subject: the resource owner, or for client_credentials usually the client (RFC 9068 §2.2);
    /// empty when an introspection response left it out.
    pub sub: String,
    /// The client the token was issued to (empty when an introspection response left it out).
    pub client_id: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// Expiry.
    pub exp: u64,
    /// Granted scopes (RFC 9068 §2.2.3: space-separated `scope`).
    pub scopes: Vec<String>,
    /// RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`).
    pub jkt: Option<String>,
    /// Every claim: [`Self::claims`].
    all: AllClaims,
}

/// Every claim of a token: an introspection response as parsed, or a JWT's payload, parsed
/// when first asked for (validation reads only the claims it checks).
#[derive(Debug, Clone)]
enum AllClaims {
    Parsed(Map<String, Value>),
    Payload {
        json: Vec<u8>,
        parsed: OnceLock<Map<String, Value>>,
    },
}

impl VerifiedAccessToken {
    /// Every claim, for `[headers]` mappings.
    ///
    /// # Errors
    /// [`AccessTokenError::InvalidClaim`] if the payload, checked against the JSON grammar
    /// when the token was validated, still does not read as an object (serde_json refuses an
    /// unpaired surrogate escape the grammar allows).
    pub fn claims(&self) -> Result<&Map<String, Value>, AccessTokenError> {
        let (json, parsed) = match &self.all {
            AllClaims::Parsed(m) => return Ok(m),
            AllClaims::Payload { json, parsed } => (json, parsed),
        };
        if let Some(m) = parsed.get() {
            return Ok(m);
        }
        let invalid = AccessTokenError::InvalidClaim {
            claim: "claims",
            reason: "not a JSON object",
        };
        let map = serde_json::from_slice(json).map_err(|_| invalid)?;
        Ok(parsed.get_or_init(|| map))
    }

    /// Whether every scope in `required` was granted (RFC 6750 §3.1 `insufficient_scope`).
    pub fn has_scopes(&self, required: &[String]) -> bool {
        required.iter().all(|r| self.scopes.iter().any(|s| s == r))
    }
}

/// Validate a JWT access token as RFC 9068 §4 says a resource server does.
pub fn validate_access_token(
    token: &str,
    keys: &KeySet,
    expect: &AccessTokenExpectations<'_>,
    now: UnixTime,
) -> Result<VerifiedAccessToken, AccessTokenError> {
    // RFC 9068 §4 (5): verified with the AS's keys; a MAC would need a secret the RS lacks.
    if expect.alg.is_hmac() || expect.alg == Algorithm::None {
        return Err(AccessTokenError::SymmetricAlg {
            alg: expect.alg.as_str(),
        });
    }
    let policy = JwtPolicy {
        alg: expect.alg,
        hmac_key: None,
    };
    let (header, payload) = verify_jwt_header_payload(token, keys, policy)?;
    // RFC 9068 §4 (1): typ is at+jwt or application/at+jwt (media types compare
    // case-insensitively, RFC 7515 §4.1.9); an ID token ("JWT" or none) is refused here.
    let typ_ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(AccessTokenError::Type { got: header.typ });
    }
    // RFC 7519 §7.2 (10): the claims are a JSON object, checked against the whole grammar
    // here; only the claims below are decoded.
    let malformed =
        |reason| AccessTokenError::Jwt(JwtError::Malformed(format!("claims: {reason}")));
    let text = std::str::from_utf8(&payload).map_err(|_| malformed("not UTF-8".to_owned()))?;
    let members = object_members(text, &CHECKED)
        .map_err(|e| malformed(e.to_string()))?
        .wanted;
    let get = |claim: &'static str| {
        let v = CHECKED
            .iter()
            .position(|c| *c == claim)
            .and_then(|i| members.get(i).copied().flatten());
        v.map(|v| raw_value(v, claim)).transpose()
    };
    let t = check_claims(&get, expect, now, Source::Jwt)?;
    Ok(VerifiedAccessToken {
        all: AllClaims::Payload {
            json: payload,
            parsed: OnceLock::new(),
        },
        ..t
    })
}

/// The claims [`check_claims`] reads.
const CHECKED: [&str; 9] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "client_id",
    "scope",
    "cnf",
];

/// A claim's value: strings and plain integers directly, anything else by serde_json.
fn raw_value(v: RawValue<'_>, claim: &'static str) -> Result<Value, AccessTokenError> {
    let invalid = AccessTokenError::InvalidClaim {
        claim,
        reason: "not valid JSON text",
    };
    if let Some(u) = v.plain_u64() {
        return Ok(Value::from(u));
    }
    match v.string().map_err(|_| invalid)? {
        Some(s) => Ok(Value::String(s.into_owned())),
        None => v.value().map_err(|_| AccessTokenError::InvalidClaim {
            claim,
            reason: "not valid JSON text",
        }),
    }
}

/// RFC 7662 §2.2: an introspection response for an opaque token, checked as a resource server
/// checks a JWT access token: `active` true, `iss` (when given) the issuer, `aud` containing
/// the audience, `exp` present and not passed; `sub`, `client_id` and `scope` as given.
/// `alg` in `expect` is not used.
pub fn from_introspection(
    response: Map<String, Value>,
    expect: &AccessTokenExpectations<'_>,
    now: UnixTime,
) -> Result<VerifiedAccessToken, AccessTokenError> {
    if response.get("active") != Some(&Value::Bool(true)) {
        return Err(AccessTokenError::Inactive);
    }
    let get = |claim: &'static str| Ok(response.get(claim).cloned());
    let t = check_claims(&get, expect, now, Source::Introspection)?;
    Ok(VerifiedAccessToken {
        all: AllClaims::Parsed(response),
        ..t
    })
}

/// A claim by name: `None` when absent.
type ClaimGetter<'a> = dyn Fn(&'static str) -> Result<Option<Value>, AccessTokenError> + 'a;

/// Where the claims come from: a JWT (RFC 9068 §2.2 requires `iss`, `sub`, `client_id`,
/// `iat`) or an introspection response (RFC 7662 §2.2: all optional but `active`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Jwt,
    Introspection,
}

/// The checks of RFC 9068 §4 on the claims `get` reads; every claim is left out of the result
/// (the caller adds them).
fn check_claims(
    get: &ClaimGetter<'_>,
    expect: &AccessTokenExpectations<'_>,
    now: UnixTime,
    source: Source,
) -> Result<VerifiedAccessToken, AccessTokenError> {
    let required = |claim: &'static str| -> Result<String, AccessTokenError> {
        match (string(get(claim)?, claim), source) {
            (Err(AccessTokenError::MissingClaim { .. }), Source::Introspection) => {
                Ok(String::new())
            }
            (r, _) => r,
        }
    };
    let iss = match required("iss")? {
        s if s.is_empty() => expect.issuer.as_str().to_owned(),
        s => s,
    };
    // RFC 9068 §4 (3): exactly the issuer identifier.
    if iss != expect.issuer.as_str() {
        return Err(AccessTokenError::IssuerMismatch {
            expected: expect.issuer.as_str().to_owned(),
            got: iss,
        });
    }
    let aud = audiences(get("aud")?)?;
    // RFC 9068 §4 (4): the audience identifies this resource server.
    if !aud.iter().any(|a| a == expect.audience) {
        return Err(AccessTokenError::AudienceMismatch {
            audience: expect.audience.to_owned(),
            aud,
        });
    }
    let skew = expect.skew;
    let now = now.0;
    let exp = date(get("exp")?, "exp")?.ok_or(AccessTokenError::MissingClaim { claim: "exp" })?;
    // RFC 9068 §4 (6): the current time is before exp.
    if now >= exp.saturating_add(skew) {
        return Err(AccessTokenError::Expired { exp, now, skew });
    }
    if let Some(nbf) = date(get("nbf")?, "nbf")?
        && nbf > now.saturating_add(skew)
    {
        return Err(AccessTokenError::NotYetValid { nbf, now, skew });
    }
    let iat = match (date(get("iat")?, "iat")?, source) {
        (Some(iat), _) => iat,
        (None, Source::Introspection) => 0,
        (None, Source::Jwt) => return Err(AccessTokenError::MissingClaim { claim: "iat" }),
    };
    if iat > now.saturating_add(skew) {
        return Err(AccessTokenError::IssuedInFuture { iat, now, skew });
    }
    let scopes = match get("scope")? {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            return Err(AccessTokenError::InvalidClaim {
                claim: "scope",
                reason: "not a string",
            });
        }
    };
    let jkt = match get("cnf")?.as_ref().and_then(|c| c.get("jkt")) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(AccessTokenError::InvalidClaim {
                claim: "cnf.jkt",
                reason: "not a string",
            });
        }
    };
    Ok(VerifiedAccessToken {
        iss,
        sub: required("sub")?,
        client_id: required("client_id")?,
        aud,
        exp,
        scopes,
        jkt,
        all: AllClaims::Parsed(Map::new()),
    })
}

/// A required string claim.
fn string(v: Option<Value>, claim: &'static str) -> Result<String, AccessTokenError> {
    match v {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(AccessTokenError::MissingClaim { claim }),
        Some(_) => Err(AccessTokenError::InvalidClaim {
            claim,
            reason: "not a string",
        }),
    }
}

/// RFC 7519 §4.1.3: one string or an array of strings.
fn audiences(v: Option<Value>) -> Result<Vec<String>, AccessTokenError> {
    let bad = AccessTokenError::InvalidClaim {
        claim: "aud",
        reason: "not a string or an array of strings",
    };
    match v {
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or(bad),
        None | Some(Value::Null) => Err(AccessTokenError::MissingClaim { claim: "aud" }),
        Some(_) => Err(bad),
    }
}

/// RFC 7519 §2 NumericDate: a non-negative JSON number (a fraction is truncated).
fn date(v: Option<Value>, claim: &'static str) -> Result<Option<u64>, AccessTokenError> {
    let bad = AccessTokenError::InvalidClaim {
        claim,
        reason: "not a non-negative number",
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                return Ok(Some(u));
            }
            match n.as_f64() {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "finite, non-negative, below 2^53: fraction truncated"
                )]
                Some(f) if f.is_finite() && (0.0..9.0e15).contains(&f) => Ok(Some(f as u64)),
                _ => Err(bad),
            }
        }
        Some(_) => Err(bad),
    }
}

#[cfg(test)]
mod tests;
