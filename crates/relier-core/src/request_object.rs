//! Signed request objects (RFC 9101, "JAR"): the authorization request's parameters travel as
//! a JWT signed with the RP's key, so neither the browser nor anything on the way can read
//! them unnoticed or change them.
//!
//! Sans-I/O: [`RequestObjectSigner::sign`] builds the JWT from the request's parameters;
//! [`authorization_url`] sends it by value in the authorization URL (RFC 9101 §5, OIDC Core
//! §6.1), [`pushed_request`] pushes it (RFC 9126 §3). What turns it on is the registration
//! ([`RequestObjectRule`]: `request_object_signing_alg`, `require_signed_request_object`) and
//! the OP's metadata (`require_signed_request_object`, RFC 9101 §10.5).

use std::sync::Arc;

use aws_lc_rs::rand::SecureRandom;
use relier_jose::jws::{CompactSigner, Header};
use relier_jose::{Algorithm, SigningKey};
use serde_json::{Map, Value};
use url::Url;

use crate::authorize::{self, AuthorizationParams, AuthorizeError, PendingLogin};
use crate::client_auth::ClientAuth;
use crate::discovery::ProviderMetadata;
use crate::http::Form;
use crate::types::{ClientId, IssuerUrl, RedirectUrl, UnixTime};

/// RFC 9101 §10.8: the media type of a request object, in the `typ` header.
pub const TYP: &str = "oauth-authz-req+jwt";

/// Default lifetime of a request object (`exp - iat`), seconds.
pub const DEFAULT_LIFETIME_SECS: u64 = 120;

/// Longest lifetime accepted: a request object is used at once (FAPI 2.0 Message Signing
/// §5.3.1 allows at most 60 minutes; relier stays far below).
pub const MAX_LIFETIME_SECS: u64 = 300;

/// The registration metadata naming the algorithm (OIDC Registration §2).
pub const ALG_MEMBER: &str = "request_object_signing_alg";

/// The client and OP metadata that make request objects mandatory (RFC 9101 §10.5).
pub const REQUIRE_MEMBER: &str = "require_signed_request_object";

/// Claims relier sets itself; an extra authorization parameter cannot use their names.
const RESERVED_CLAIMS: [&str; 7] = ["iss", "aud", "iat", "nbf", "exp", "jti", "sub"];

/// Why a request object could not be configured or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestObjectError {
    /// `none` or a MAC: request objects are signed with the RP's private key only.
    #[error(
        "request object: alg {alg} is refused (an asymmetric signature such as PS256, ES256 or EdDSA is required)"
    )]
    UnsupportedAlg {
        /// The algorithm named.
        alg: &'static str,
    },
    /// The registered algorithm is not the one the RP's key signs with.
    #[error(
        "request object: request_object_signing_alg is {registered}, but the RP's key signs {key}"
    )]
    KeyMismatch {
        /// `request_object_signing_alg`.
        registered: &'static str,
        /// The key's algorithm.
        key: &'static str,
    },
    /// The OP lists the algorithms it accepts and the chosen one is not among them.
    #[error(
        "request object: the OP does not accept {alg} (request_object_signing_alg_values_supported)"
    )]
    NotAcceptedByOp {
        /// The algorithm.
        alg: &'static str,
    },
    /// Request objects are registered or required but the RP has no signing key.
    #[error(
        "request object: signed request objects are registered or required (RFC 9101 §10.5) but the RP has no private key to sign them"
    )]
    NoKey,
    /// A registration member has the wrong type or names an unknown algorithm.
    #[error("request object: {member}: {reason}")]
    Registration {
        /// The member.
        member: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An extra authorization parameter has the name of a JWT claim relier sets.
    #[error("request object: parameter {0} is a claim relier sets and cannot be overridden")]
    ReservedClaim(String),
    /// The lifetime is zero or too long.
    #[error("request object: lifetime must be 1 to {MAX_LIFETIME_SECS} seconds")]
    Lifetime,
    /// The authorization request itself.
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    /// `now` plus the lifetime overflows.
    #[error("request object: time overflow")]
    Time,
    /// The random source failed.
    #[error("request object: random number generator failed")]
    Rng,
    /// Signing failed (the key refused).
    #[error("request object: signing failed")]
    Signing,
}

/// Checks that `alg` may sign request objects: asymmetric only (RFC 8725 §3.1 pins it; a MAC
/// would need the client secret on both sides, `none` would not be a signed request object).
fn check_alg(alg: Algorithm) -> Result<Algorithm, RequestObjectError> {
    if alg == Algorithm::None || alg.is_hmac() {
        return Err(RequestObjectError::UnsupportedAlg { alg: alg.as_str() });
    }
    Ok(alg)
}

/// The RP's key with the request object header (`alg`, `kid`, `typ`) fixed.
#[derive(Debug, Clone)]
pub struct RequestObjectSigner {
    signer: Arc<CompactSigner>,
    lifetime: u64,
}

impl RequestObjectSigner {
    /// `alg` is the registered `request_object_signing_alg`; `key` must sign exactly it.
    ///
    /// # Errors
    /// [`RequestObjectError::UnsupportedAlg`] for `none` and MACs,
    /// [`RequestObjectError::KeyMismatch`] when the key signs another algorithm.
    pub fn new(alg: Algorithm, key: SigningKey) -> Result<Self, RequestObjectError> {
        let alg = check_alg(alg)?;
        if key.algorithm() != alg {
            return Err(RequestObjectError::KeyMismatch {
                registered: alg.as_str(),
                key: key.algorithm().as_str(),
            });
        }
        let header = Header {
            // RFC 9101 §10.8: explicit typing.
            typ: Some(TYP.to_owned()),
            ..Header::default()
        };
        let signer = CompactSigner::new(&header, key).map_err(|_| RequestObjectError::Signing)?;
        Ok(Self {
            signer: Arc::new(signer),
            lifetime: DEFAULT_LIFETIME_SECS,
        })
    }

    /// Lifetime of each request object (`exp - iat`), 1 to [`MAX_LIFETIME_SECS`] seconds.
    ///
    /// # Errors
    /// [`RequestObjectError::Lifetime`].
    pub fn with_lifetime(mut self, secs: u64) -> Result<Self, RequestObjectError> {
        if secs == 0 || secs > MAX_LIFETIME_SECS {
            return Err(RequestObjectError::Lifetime);
        }
        self.lifetime = secs;
        Ok(self)
    }

    /// The signing algorithm.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.signer.key().algorithm()
    }

    /// The key's `kid` (in the header when set).
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.signer.key().kid()
    }

    /// The same header and lifetime with another key of the same algorithm (after a rotation).
    ///
    /// # Errors
    /// As [`RequestObjectSigner::new`].
    pub fn with_key(&self, key: SigningKey) -> Result<Self, RequestObjectError> {
        Ok(Self {
            lifetime: self.lifetime,
            ..Self::new(self.alg(), key)?
        })
    }

    /// Signs the authorization parameters `params` (in order, as built by
    /// [`crate::authorize`]) as a request object for the OP `audience`.
    ///
    /// RFC 9101 §4: the claims are the authorization request parameters; `iss` is the client_id
    /// and `aud` the OP's issuer identifier, exactly (§10.2 (b)); `iat`, `nbf`, `exp` bound it
    /// in time and `jti` (192 random bits) names it once.
    ///
    /// # Errors
    /// [`RequestObjectError::ReservedClaim`], [`RequestObjectError::Time`],
    /// [`RequestObjectError::Rng`], [`RequestObjectError::Signing`].
    pub fn sign(
        &self,
        params: &[(String, String)],
        client_id: &ClientId,
        audience: &IssuerUrl,
        now: UnixTime,
        rng: &dyn SecureRandom,
    ) -> Result<String, RequestObjectError> {
        let mut claims = Map::new();
        for (k, v) in params {
            if RESERVED_CLAIMS.contains(&k.as_str()) {
                return Err(RequestObjectError::ReservedClaim(k.clone()));
            }
            claims.insert(k.clone(), claim_value(k, v));
        }
        let mut jti = [0u8; 24];
        rng.fill(&mut jti).map_err(|_| RequestObjectError::Rng)?;
        let exp = now
            .0
            .checked_add(self.lifetime)
            .ok_or(RequestObjectError::Time)?;
        claims.insert("iss".into(), client_id.as_str().into());
        claims.insert("aud".into(), audience.as_str().into());
        claims.insert("iat".into(), now.0.into());
        claims.insert("nbf".into(), now.0.into());
        claims.insert("exp".into(), exp.into());
        claims.insert("jti".into(), relier_jose::b64::encode(&jti).into());
        let payload =
            serde_json::to_vec(&Value::Object(claims)).map_err(|_| RequestObjectError::Signing)?;
        self.signer
            .sign(&payload, rng)
            .map_err(|_| RequestObjectError::Signing)
    }
}

/// OIDC Core §6.1: `max_age` is a number and `claims` a JSON object inside a request object;
/// every other parameter stays a string.
fn claim_value(name: &str, value: &str) -> Value {
    match name {
        "max_age" => value
            .parse::<u64>()
            .map_or_else(|_| value.into(), Value::from),
        "claims" => match serde_json::from_str::<Value>(value) {
            Ok(v @ Value::Object(_)) => v,
            _ => value.into(),
        },
        _ => value.into(),
    }
}

/// RFC 9101 §5 with OIDC Core §6.1: the request object by value. The URL carries `client_id`
/// (RFC 9101 §5: REQUIRED, equal to the object's), and the OAuth 2.0 `response_type` and the
/// `scope` with `openid` that OIDC Core §6.1 requires outside the object too; everything else
/// is only inside it.
///
/// # Errors
/// [`AuthorizeError`] (through [`RequestObjectError::Authorize`]), and as
/// [`RequestObjectSigner::sign`].
pub fn authorization_url(
    metadata: &ProviderMetadata,
    client_id: &ClientId,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    signer: &RequestObjectSigner,
    now: UnixTime,
    rng: &dyn SecureRandom,
) -> Result<(Url, PendingLogin), RequestObjectError> {
    let mut url =
        Url::parse(&metadata.authorization_endpoint).map_err(|_| AuthorizeError::BadEndpoint)?;
    let (pairs, pending) = authorize::request_parameters(client_id, redirect_uri, params, rng)?;
    let jwt = signer.sign(&pairs, client_id, &metadata.issuer, now, rng)?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &pairs {
            if matches!(k.as_str(), "client_id" | "response_type" | "scope") {
                q.append_pair(k, v);
            }
        }
        q.append_pair("request", &jwt);
    }
    Ok((url, pending))
}

/// RFC 9126 §3: a pushed request object. The form carries `request`; the client
/// authentication ([`ClientAuth::request`]) adds what it needs; the parameters are only inside
/// the object.
///
/// # Errors
/// As [`authorization_url`].
pub fn pushed_request(
    auth: &ClientAuth,
    issuer: &IssuerUrl,
    redirect_uri: &RedirectUrl,
    params: &AuthorizationParams,
    signer: &RequestObjectSigner,
    now: UnixTime,
    rng: &dyn SecureRandom,
) -> Result<(Form, PendingLogin), RequestObjectError> {
    let client_id = auth.client_id();
    let (pairs, pending) = authorize::request_parameters(client_id, redirect_uri, params, rng)?;
    let jwt = signer.sign(&pairs, client_id, issuer, now, rng)?;
    // ClientAuth::request adds `client_id` to the body, or the Basic header names the client;
    // the object's `client_id` equals it (RFC 9126 §3).
    let mut form = Form::new();
    form.push("request", &jwt);
    Ok((form, pending))
}

/// What the registration (and the OP) say about request objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestObjectRule {
    /// `request_object_signing_alg` (OIDC Registration §2).
    pub alg: Option<Algorithm>,
    /// `require_signed_request_object` in the client's registration (RFC 9101 §10.5).
    pub required: bool,
}

impl RequestObjectRule {
    /// From a registration response or a provider's configuration keys of the same names.
    ///
    /// # Errors
    /// [`RequestObjectError::Registration`] for a member of the wrong type or an unknown
    /// algorithm; [`RequestObjectError::UnsupportedAlg`] for `none` and MACs.
    pub fn from_registration(reg: &Map<String, Value>) -> Result<Self, RequestObjectError> {
        let alg = match reg.get(ALG_MEMBER) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(check_alg(s.parse::<Algorithm>().map_err(|_| {
                RequestObjectError::Registration {
                    member: ALG_MEMBER,
                    reason: "unknown algorithm",
                }
            })?)?),
            Some(_) => {
                return Err(RequestObjectError::Registration {
                    member: ALG_MEMBER,
                    reason: "not a string",
                });
            }
        };
        let required = match reg.get(REQUIRE_MEMBER) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(RequestObjectError::Registration {
                    member: REQUIRE_MEMBER,
                    reason: "not a boolean",
                });
            }
        };
        Ok(Self { alg, required })
    }

    /// Whether authorization requests are sent as request objects: a registered algorithm,
    /// a registered requirement, or an OP that requires them of every client (RFC 9101 §10.5).
    #[must_use]
    pub fn applies(&self, op: &ProviderMetadata) -> bool {
        self.alg.is_some() || self.required || op_requires(op)
    }

    /// The signer for the OP `op`, if [`Self::applies`]: the registered algorithm (the key
    /// must sign it), else the key's own algorithm if the OP accepts it.
    ///
    /// # Errors
    /// [`RequestObjectError::NoKey`] when request objects apply and `key` is `None`; as
    /// [`RequestObjectSigner::new`]; [`RequestObjectError::NotAcceptedByOp`].
    pub fn signer(
        &self,
        key: Option<&SigningKey>,
        op: &ProviderMetadata,
    ) -> Result<Option<RequestObjectSigner>, RequestObjectError> {
        if !self.applies(op) {
            return Ok(None);
        }
        let key = key.ok_or(RequestObjectError::NoKey)?;
        let alg = check_alg(self.alg.unwrap_or(key.algorithm()))?;
        if let Some(Value::Array(supported)) =
            op.raw.get("request_object_signing_alg_values_supported")
            && !supported.iter().any(|a| a.as_str() == Some(alg.as_str()))
        {
            return Err(RequestObjectError::NotAcceptedByOp { alg: alg.as_str() });
        }
        RequestObjectSigner::new(alg, key.clone()).map(Some)
    }
}

/// RFC 9101 §10.5: the OP's `require_signed_request_object`.
#[must_use]
pub fn op_requires(op: &ProviderMetadata) -> bool {
    matches!(op.raw.get(REQUIRE_MEMBER), Some(Value::Bool(true)))
}

#[cfg(test)]
mod tests;
