//! Verifying a broker's entity statement and signed JWK set with pinned entity keys
//! (OpenID Federation 1.0 §3, §5.2.1; the FTN OpenID Connect profile).
//!
//! The broker's entity statement is handed over out of band and stored as received; it is
//! self-signed by one of the entity keys it lists, and those keys are then *pinned*: the
//! broker's signed JWK set (its ID token signing keys) is accepted only when one of them
//! signed it. The algorithm of every signature is pinned from the key (its JWK `alg`, else its
//! type: RS256 or PS256 for RSA, ES256 for P-256) — never from the header alone; `none` and
//! MACs are refused. No I/O, no clock: `now` is a parameter.

use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, Jwk, JwkSet, VerifyingKey};
use serde_json::{Map, Value};

use super::{ENTITY_STATEMENT_TYP, EntityMetadata, SIGNED_JWKS_CONTENT_TYPE, SIGNED_JWKS_TYP};
use crate::discovery::{DiscoveryError, ProviderMetadata};
use crate::http::{HttpRequest, HttpResponse};
use crate::jwks::{JwksError, KeySet};
use crate::types::{IssuerUrl, UnixTime};

/// Allowed clock skew for `exp` and `iat`, seconds (as for ID tokens).
pub const CLOCK_SKEW_SECS: u64 = 60;
/// A statement expiring within this many seconds earns an [`ExpiryWarning`] (30 days).
pub const EXPIRY_WARNING_SECS: u64 = 30 * 24 * 3600;
/// `typ` the OP Identity Service Broker puts on its signed JWK set (its README §14).
pub const ISB_SIGNED_JWKS_TYP: &str = "JWS";
/// Media types accepted for a signed JWK set response: `application/jwk-set+jwt` (OpenID
/// Federation 1.0 §5.2.1), and the generic `application/jwt` (RFC 7519 §10.3.1) and
/// `application/jose` (RFC 7515 §9.2.1). JSON is refused: an unsigned set is not trusted.
pub const SIGNED_JWKS_MEDIA_TYPES: [&str; 3] = [
    SIGNED_JWKS_CONTENT_TYPE,
    "application/jwt",
    "application/jose",
];
/// Signature algorithms an entity key may use.
const ENTITY_ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// Why an entity statement or a signed JWK set was refused: each variant names the check that
/// failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// Not a compact JWS, or its payload is not the JSON object it should be.
    #[error("{what}: malformed: {reason}")]
    Malformed {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The header `typ` is not the one this kind of JWS must carry.
    #[error("{what}: wrong typ {typ:?} (expected {expected})")]
    WrongTyp {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The header `typ` as sent (`None`: absent).
        typ: Option<String>,
        /// What is accepted.
        expected: &'static str,
    },
    /// The header names no `kid`: the entity key cannot be chosen.
    #[error("{what}: no kid in the header")]
    MissingKid {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
    },
    /// The header `kid` is none of the pinned entity keys.
    #[error("{what}: signed by an unknown entity key, kid {kid:?}")]
    UnknownKid {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The header `kid`.
        kid: String,
    },
    /// The entity statement's `kid` is not one of the keys in its own `jwks`.
    #[error("entity statement: not self-signed: kid {kid:?} is not in its own jwks")]
    NotSelfSigned {
        /// The header `kid`.
        kid: String,
    },
    /// The header `alg` is not one the key allows (`none` and MACs never are).
    #[error("{what}: alg {alg:?} refused for entity key {kid:?} (allowed: {allowed})")]
    AlgorithmRefused {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The header `alg`.
        alg: String,
        /// The key's `kid`.
        kid: String,
        /// The algorithms the key allows.
        allowed: String,
    },
    /// The signature does not verify with the entity key the header names.
    #[error("{what}: bad signature (entity key {kid:?}): {reason}")]
    BadSignature {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The key's `kid`.
        kid: String,
        /// What the verifier said.
        reason: String,
    },
    /// A required claim is absent or not of its type.
    #[error("{what}: claim {claim} missing or malformed")]
    MissingClaim {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The claim.
        claim: &'static str,
    },
    /// `iss` is not the expected entity (OpenID Federation 1.0 §5.2.1.1).
    #[error("{what}: iss mismatch: expected {expected:?}, found {found:?}")]
    IssuerMismatch {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The broker's entity id.
        expected: String,
        /// `iss` as sent.
        found: String,
    },
    /// `sub` differs from `iss` (a self-signed statement, or a signed JWK set, is about its
    /// issuer).
    #[error("{what}: sub {sub:?} is not iss {iss:?}")]
    SubjectMismatch {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// `iss`.
        iss: String,
        /// `sub`.
        sub: String,
    },
    /// `exp` has passed (beyond the skew).
    #[error("{what}: expired: exp {exp} is before now {now} (skew {CLOCK_SKEW_SECS}s)")]
    Expired {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// `exp`.
        exp: u64,
        /// The time checked at.
        now: u64,
    },
    /// `iat` is in the future (beyond the skew).
    #[error("{what}: iat {iat} is in the future (now {now}, skew {CLOCK_SKEW_SECS}s)")]
    IssuedInFuture {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// `iat`.
        iat: u64,
        /// The time checked at.
        now: u64,
    },
    /// A key in the set has private members: refused whole, a leak is not a key to trust.
    #[error("{what}: key {kid:?} has private members")]
    PrivateKey {
        /// "entity statement" or "signed JWK set".
        what: &'static str,
        /// The key's `kid` (no key material).
        kid: Option<String>,
    },
    /// An entity key cannot be used (unsupported type, too small).
    #[error("{what}: entity key {kid:?} unusable: {reason}")]
    BadEntityKey {
        /// "entity statement" or "entity keys".
        what: &'static str,
        /// The key's `kid`.
        kid: Option<String>,
        /// Why.
        reason: String,
    },
    /// The statement has no `metadata.openid_provider`.
    #[error("entity statement: no metadata.openid_provider")]
    NoProviderMetadata,
    /// `metadata.openid_provider` fails the provider metadata checks.
    #[error("entity statement: metadata.openid_provider: {0}")]
    ProviderMetadata(#[from] DiscoveryError),
    /// The signed JWK set response is not 2xx.
    #[error("signed JWK set: {url} answered HTTP {status}")]
    Status {
        /// The `signed_jwks_uri`.
        url: String,
        /// The status.
        status: u16,
    },
    /// The signed JWK set response is not a JWT media type.
    #[error(
        "signed JWK set: content type {content_type:?} refused (expected {SIGNED_JWKS_CONTENT_TYPE})"
    )]
    ContentType {
        /// The `Content-Type` as sent.
        content_type: Option<String>,
    },
}

const STATEMENT: &str = "entity statement";
const SIGNED_JWKS: &str = "signed JWK set";

/// One pinned entity key: its public JWK and the verifier built from it.
#[derive(Clone)]
pub struct EntityKey {
    jwk: Jwk,
    kid: String,
    key: VerifyingKey,
}

impl EntityKey {
    /// The key's `kid` (its RFC 7638 thumbprint when the JWK names none).
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK.
    #[must_use]
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The signature algorithms this key is pinned to: its JWK `alg` when given, else by
    /// type (RSA: RS256, PS256; EC P-256: ES256).
    #[must_use]
    pub fn algorithms(&self) -> Vec<Algorithm> {
        ENTITY_ALGS
            .into_iter()
            .filter(|a| self.key.is_compatible(*a))
            .collect()
    }
}

impl std::fmt::Debug for EntityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityKey")
            .field("kid", &self.kid)
            .field("kty", &self.jwk.kty)
            .finish_non_exhaustive()
    }
}

/// The pinned entity keys of one entity: from its verified statement, or from a PEM file.
#[derive(Debug, Clone, Default)]
pub struct EntityKeys {
    keys: Vec<EntityKey>,
}

impl EntityKeys {
    /// Pins the public keys of `set` (`what` names the source in errors). A key without `kid`
    /// is known by its RFC 7638 thumbprint (as FTN brokers name them).
    ///
    /// # Errors
    /// [`TrustError::PrivateKey`], [`TrustError::BadEntityKey`].
    pub fn from_jwks(what: &'static str, set: &[Jwk]) -> Result<Self, TrustError> {
        let mut keys = Vec::with_capacity(set.len());
        for jwk in set {
            if jwk.is_private() {
                return Err(TrustError::PrivateKey {
                    what,
                    kid: jwk.kid.clone(),
                });
            }
            let bad = |reason: String| TrustError::BadEntityKey {
                what,
                kid: jwk.kid.clone(),
                reason,
            };
            let kid = match &jwk.kid {
                Some(kid) => kid.clone(),
                None => jwk.thumbprint_sha256().map_err(|e| bad(e.to_string()))?,
            };
            let key = VerifyingKey::from_jwk(jwk)
                .map_err(|e| bad(e.to_string()))?
                .with_kid(kid.clone());
            keys.push(EntityKey {
                jwk: jwk.clone(),
                kid,
                key,
            });
        }
        Ok(Self { keys })
    }

    /// Pins the public keys of a PEM file (`PUBLIC KEY` / `RSA PUBLIC KEY` blocks), each known
    /// by its RFC 7638 thumbprint.
    ///
    /// # Errors
    /// [`TrustError::BadEntityKey`] when the text holds no usable public key.
    pub fn from_pem(text: &str) -> Result<Self, TrustError> {
        let jwks = Jwk::public_keys_from_pem(text).map_err(|e| TrustError::BadEntityKey {
            what: "entity keys",
            kid: None,
            reason: e.to_string(),
        })?;
        Self::from_jwks("entity keys", &jwks)
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[EntityKey] {
        &self.keys
    }

    /// The key with this `kid`.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&EntityKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// An entity statement whose self-signature, `typ`, `iss` = `sub` and expiry were checked.
#[derive(Debug, Clone)]
pub struct VerifiedStatement {
    /// The entity id (`iss` = `sub`).
    pub entity_id: String,
    /// The entity keys from its `jwks`, now pinned.
    pub keys: EntityKeys,
    /// `metadata`.
    pub metadata: EntityMetadata,
    /// `iat`.
    pub iat: u64,
    /// `exp`.
    pub exp: u64,
    /// Every claim as received.
    pub claims: Map<String, Value>,
}

/// A statement close to expiry: the caller logs it, so a new one is asked for in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryWarning {
    /// `exp`.
    pub exp: u64,
    /// Whole days left.
    pub days_left: u64,
}

impl VerifiedStatement {
    /// Some when the statement expires within [`EXPIRY_WARNING_SECS`] of `now`.
    #[must_use]
    pub fn expiry_warning(&self, now: UnixTime) -> Option<ExpiryWarning> {
        let left = self.exp.saturating_sub(now.0);
        (left < EXPIRY_WARNING_SECS).then_some(ExpiryWarning {
            exp: self.exp,
            days_left: left / 86_400,
        })
    }

    /// `metadata.openid_provider` as provider metadata, through the same checks as a discovery
    /// document (its own `issuer`, https endpoints). The unsigned `jwks_uri` is dropped: this
    /// provider's keys come only from its `signed_jwks_uri` ([`Self::signed_jwks_uri`]).
    ///
    /// # Errors
    /// [`TrustError::NoProviderMetadata`], [`TrustError::ProviderMetadata`].
    pub fn provider_metadata(&self) -> Result<ProviderMetadata, TrustError> {
        let op = self
            .metadata
            .openid_provider
            .as_ref()
            .ok_or(TrustError::NoProviderMetadata)?;
        let issuer = match op.get("issuer") {
            Some(Value::String(s)) => IssuerUrl::new(s).map_err(|e| {
                TrustError::ProviderMetadata(DiscoveryError::InvalidJson {
                    reason: format!("issuer: {e}"),
                })
            })?,
            _ => {
                return Err(TrustError::ProviderMetadata(
                    DiscoveryError::MissingMember { member: "issuer" },
                ));
            }
        };
        let body = serde_json::to_vec(op).map_err(|e| DiscoveryError::InvalidJson {
            reason: e.to_string(),
        })?;
        let mut md = ProviderMetadata::from_json(&issuer, &body)?;
        md.jwks_uri = None;
        Ok(md)
    }

    /// `metadata.openid_provider.signed_jwks_uri`.
    #[must_use]
    pub fn signed_jwks_uri(&self) -> Option<&str> {
        self.metadata
            .openid_provider
            .as_ref()?
            .get("signed_jwks_uri")?
            .as_str()
    }
}

/// Verifies a self-signed entity statement (OpenID Federation 1.0 §3): header `typ`
/// `entity-statement+jwt`, signed by the key its `kid` names in the statement's own `jwks`
/// with an algorithm that key allows, `iss` = `sub`, `iat` present and not in the future,
/// `exp` not passed (both with [`CLOCK_SKEW_SECS`]).
///
/// # Errors
/// The [`TrustError`] naming the failed check.
pub fn verify_entity_statement(jws: &str, now: UnixTime) -> Result<VerifiedStatement, TrustError> {
    let parsed = parse(STATEMENT, jws)?;
    // OpenID Federation 1.0 §3.1: "Entity Statement JWTs MUST be explicitly typed".
    let typ = parsed.header().typ.as_deref();
    if typ != Some(ENTITY_STATEMENT_TYP) {
        return Err(TrustError::WrongTyp {
            what: STATEMENT,
            typ: typ.map(str::to_owned),
            expected: ENTITY_STATEMENT_TYP,
        });
    }
    let claims = object(STATEMENT, parsed.unverified_payload())?;
    let jwks = match claims.get("jwks") {
        Some(v @ Value::Object(_)) => JwkSet::from_slice(v.to_string().as_bytes())
            .map_err(|e| malformed(STATEMENT, format!("jwks: {e}")))?,
        _ => return Err(missing(STATEMENT, "jwks")),
    };
    let keys = EntityKeys::from_jwks(STATEMENT, &jwks.keys)?;
    let kid = header_kid(STATEMENT, &parsed)?;
    let key = keys
        .get(&kid)
        .ok_or_else(|| TrustError::NotSelfSigned { kid: kid.clone() })?;
    check_signature(STATEMENT, &parsed, key)?;
    let iss = string_claim(STATEMENT, &claims, "iss")?;
    let sub = string_claim(STATEMENT, &claims, "sub")?;
    if iss != sub {
        return Err(TrustError::SubjectMismatch {
            what: STATEMENT,
            iss,
            sub,
        });
    }
    let iat = time_claim(STATEMENT, &claims, "iat")?.ok_or(missing(STATEMENT, "iat"))?;
    let exp = time_claim(STATEMENT, &claims, "exp")?.ok_or(missing(STATEMENT, "exp"))?;
    check_times(STATEMENT, Some(iat), Some(exp), now)?;
    let metadata = match claims.get("metadata") {
        None => EntityMetadata::default(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| malformed(STATEMENT, format!("metadata: {e}")))?,
    };
    Ok(VerifiedStatement {
        entity_id: iss,
        keys,
        metadata,
        iat,
        exp,
        claims,
    })
}

/// A signed JWK set whose signature, `iss` and expiry were checked.
#[derive(Debug, Clone)]
pub struct VerifiedJwks {
    /// The keys (public only), parsed with the usual caps ([`JwkSet`]).
    pub keys: JwkSet,
    /// `iss`.
    pub iss: String,
    /// `iat`, when given.
    pub iat: Option<u64>,
    /// `exp`, when given.
    pub exp: Option<u64>,
    /// The entity key that signed it.
    pub signed_by: String,
}

/// Verifies a signed JWK set (OpenID Federation 1.0 §5.2.1) with the pinned entity keys:
/// header `typ` absent, `jwk-set+jwt` or `JWS` (what the ISB sends); signed by the pinned key
/// its `kid` names, with an algorithm that key allows; `iss` = `entity_id` (and `sub`, when
/// present, too); `exp`, when present, not passed; no key with private members.
///
/// # Errors
/// The [`TrustError`] naming the failed check.
pub fn verify_signed_jwks(
    jws: &str,
    pinned: &EntityKeys,
    entity_id: &str,
    now: UnixTime,
) -> Result<VerifiedJwks, TrustError> {
    let parsed = parse(SIGNED_JWKS, jws)?;
    let typ = parsed.header().typ.as_deref();
    if !matches!(
        typ,
        None | Some(SIGNED_JWKS_TYP) | Some(ISB_SIGNED_JWKS_TYP)
    ) {
        return Err(TrustError::WrongTyp {
            what: SIGNED_JWKS,
            typ: typ.map(str::to_owned),
            expected: "absent, jwk-set+jwt or JWS",
        });
    }
    let kid = header_kid(SIGNED_JWKS, &parsed)?;
    let key = pinned.get(&kid).ok_or_else(|| TrustError::UnknownKid {
        what: SIGNED_JWKS,
        kid: kid.clone(),
    })?;
    check_signature(SIGNED_JWKS, &parsed, key)?;
    let payload = parsed.unverified_payload();
    let claims = object(SIGNED_JWKS, payload)?;
    let iss = string_claim(SIGNED_JWKS, &claims, "iss")?;
    if iss != entity_id {
        return Err(TrustError::IssuerMismatch {
            what: SIGNED_JWKS,
            expected: entity_id.to_owned(),
            found: iss,
        });
    }
    if let Some(sub) = claims.get("sub") {
        let sub = sub.as_str().ok_or(missing(SIGNED_JWKS, "sub"))?;
        if sub != iss {
            return Err(TrustError::SubjectMismatch {
                what: SIGNED_JWKS,
                iss,
                sub: sub.to_owned(),
            });
        }
    }
    let iat = time_claim(SIGNED_JWKS, &claims, "iat")?;
    let exp = time_claim(SIGNED_JWKS, &claims, "exp")?;
    check_times(SIGNED_JWKS, iat, exp, now)?;
    let keys = JwkSet::from_slice(payload).map_err(|e| malformed(SIGNED_JWKS, e.to_string()))?;
    if let Some(private) = keys.keys.iter().find(|k| k.is_private()) {
        return Err(TrustError::PrivateKey {
            what: SIGNED_JWKS,
            kid: private.kid.clone(),
        });
    }
    Ok(VerifiedJwks {
        keys,
        iss,
        iat,
        exp,
        signed_by: kid,
    })
}

/// The request for a `signed_jwks_uri`.
#[must_use]
pub fn signed_jwks_request(uri: &str) -> HttpRequest {
    HttpRequest::get(uri, SIGNED_JWKS_CONTENT_TYPE)
}

/// Consumes a `signed_jwks_uri` response: 2xx, a JWT media type
/// ([`SIGNED_JWKS_MEDIA_TYPES`]; JSON is refused), then [`verify_signed_jwks`].
///
/// # Errors
/// [`TrustError::Status`], [`TrustError::ContentType`], [`TrustError::Malformed`], or the
/// verification's error.
pub fn signed_jwks_from_response(
    url: &str,
    resp: &HttpResponse,
    pinned: &EntityKeys,
    entity_id: &str,
    now: UnixTime,
) -> Result<VerifiedJwks, TrustError> {
    if !resp.is_success() {
        return Err(TrustError::Status {
            url: url.to_owned(),
            status: resp.status,
        });
    }
    let media = resp.media_type();
    if !media
        .as_deref()
        .is_some_and(|m| SIGNED_JWKS_MEDIA_TYPES.contains(&m))
    {
        return Err(TrustError::ContentType {
            content_type: resp.content_type.clone(),
        });
    }
    let body = std::str::from_utf8(&resp.body)
        .map_err(|_| malformed(SIGNED_JWKS, "the body is not UTF-8"))?;
    verify_signed_jwks(body.trim(), pinned, entity_id, now)
}

/// A `signed_jwks_uri` response as the OP's key set: [`signed_jwks_from_response`], then the
/// usable keys as for a plain JWKS ([`KeySet::from_jwk_set`]).
///
/// # Errors
/// [`JwksError::Untrusted`] naming the failed check.
pub fn key_set_from_signed_response(
    url: &str,
    resp: &HttpResponse,
    pinned: &EntityKeys,
    entity_id: &str,
    now: UnixTime,
) -> Result<KeySet, JwksError> {
    let verified = signed_jwks_from_response(url, resp, pinned, entity_id, now)?;
    Ok(KeySet::from_jwk_set(&verified.keys))
}

/// Where a federation OP's signing keys come from: its `signed_jwks_uri`, verified with the
/// pinned entity keys of `entity_id` — never its unsigned `jwks_uri`.
#[derive(Debug, Clone)]
pub struct SignedJwksSource {
    /// The `signed_jwks_uri`.
    pub uri: String,
    /// The broker's entity id: the signed set's `iss`.
    pub entity_id: String,
    /// The pinned entity keys.
    pub keys: EntityKeys,
}

impl SignedJwksSource {
    /// The request for the signed set.
    #[must_use]
    pub fn request(&self) -> HttpRequest {
        signed_jwks_request(&self.uri)
    }

    /// The response as the OP's key set ([`key_set_from_signed_response`]).
    ///
    /// # Errors
    /// [`JwksError::Untrusted`] naming the failed check.
    pub fn key_set(&self, resp: &HttpResponse, now: UnixTime) -> Result<KeySet, JwksError> {
        key_set_from_signed_response(&self.uri, resp, &self.keys, &self.entity_id, now)
    }
}

fn parse<'a>(what: &'static str, jws: &'a str) -> Result<UnverifiedJws<'a>, TrustError> {
    UnverifiedJws::parse(jws.trim()).map_err(|e| malformed(what, e.to_string()))
}

fn header_kid(what: &'static str, jws: &UnverifiedJws<'_>) -> Result<String, TrustError> {
    jws.header()
        .kid
        .clone()
        .ok_or(TrustError::MissingKid { what })
}

/// Verifies with the algorithm the key allows that the header names: the key pins the set
/// (RFC 8725 §3.1), the header only chooses within it.
fn check_signature(
    what: &'static str,
    jws: &UnverifiedJws<'_>,
    key: &EntityKey,
) -> Result<(), TrustError> {
    let allowed = key.algorithms();
    let alg = allowed
        .iter()
        .copied()
        .find(|a| a.as_str() == jws.header_alg())
        .ok_or_else(|| TrustError::AlgorithmRefused {
            what,
            alg: jws.header_alg().chars().take(32).collect(),
            kid: key.kid.clone(),
            allowed: allowed
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    jws.verify(alg, &key.key)
        .map(|_| ())
        .map_err(|e| TrustError::BadSignature {
            what,
            kid: key.kid.clone(),
            reason: e.to_string(),
        })
}

fn check_times(
    what: &'static str,
    iat: Option<u64>,
    exp: Option<u64>,
    now: UnixTime,
) -> Result<(), TrustError> {
    if let Some(exp) = exp
        && now.0 > exp.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(TrustError::Expired {
            what,
            exp,
            now: now.0,
        });
    }
    if let Some(iat) = iat
        && iat > now.0.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(TrustError::IssuedInFuture {
            what,
            iat,
            now: now.0,
        });
    }
    Ok(())
}

fn object(what: &'static str, payload: &[u8]) -> Result<Map<String, Value>, TrustError> {
    serde_json::from_slice(payload).map_err(|e| malformed(what, format!("payload: {e}")))
}

fn string_claim(
    what: &'static str,
    claims: &Map<String, Value>,
    claim: &'static str,
) -> Result<String, TrustError> {
    claims
        .get(claim)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(missing(what, claim))
}

/// A NumericDate claim (RFC 7519 §2) in whole seconds: `None` when absent, refused when not a
/// non-negative integer.
fn time_claim(
    what: &'static str,
    claims: &Map<String, Value>,
    claim: &'static str,
) -> Result<Option<u64>, TrustError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(missing(what, claim)),
    }
}

fn missing(what: &'static str, claim: &'static str) -> TrustError {
    TrustError::MissingClaim { what, claim }
}

fn malformed(what: &'static str, reason: impl Into<String>) -> TrustError {
    TrustError::Malformed {
        what,
        reason: reason.into(),
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
