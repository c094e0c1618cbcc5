//! The RP's own entity statement and signed JWK set (OpenID Federation 1.0 §3, §5.2.1), as the
//! Finnish Trust Network brokers take them (OP Identity Service Broker README §13, §14).
//!
//! Sans-I/O: the caller hands in the entity id, the time, the lifetimes, the public keys and
//! the entity key that signs; out come the claims and the compact JWSs. Every published key
//! is public: a key carrying a private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) is
//! refused, never silently stripped, so a caller's mistake shows.

use std::fmt;

use aws_lc_rs::rand::SecureRandom;
use relier_jose::jws::{self, Header};
use relier_jose::{Algorithm, JoseError, Jwk, JwkSet, SigningKey};
use serde_json::{Map, Value};

use super::{
    ENTITY_STATEMENT_TYP, EntityMetadata, EntityStatementClaims, SIGNED_JWKS_TYP, SignedJwksClaims,
    WELL_KNOWN_SIGNED_JWKS,
};
use crate::encryption::ResponseEncryption;
use crate::types::parse_secure_url;
use crate::{AuthMethod, UnixTime};

/// Most keys one published set holds (entity keys, or signing and encryption keys).
pub const MAX_PUBLISHED_KEYS: usize = 64;

/// Why a statement or a signed JWK set was not built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The entity id is not an https URL (http on loopback) without query and fragment.
    #[error("entity_id {value:?}: {reason}")]
    EntityId {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key to publish carries private key material.
    #[error("key {kid:?} carries private key material: only public keys are published")]
    PrivateKeyMaterial {
        /// Its kid, if it has one.
        kid: Option<String>,
    },
    /// More keys than [`MAX_PUBLISHED_KEYS`].
    #[error("{count} keys to publish, more than {max}")]
    TooManyKeys {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The entity key that signs has no kid, or is not among the statement's entity keys (the
    /// statement would not verify with its own `jwks`, OpenID Federation 1.0 §3.1).
    #[error("the entity key {kid:?} that signs is not among the published entity keys")]
    SignerNotPublished {
        /// Its kid.
        kid: Option<String>,
    },
    /// The signing key is not an asymmetric key (an entity key signs with RS*, PS*, ES*,
    /// EdDSA).
    #[error("an entity key signs with an asymmetric algorithm, not {alg}")]
    SymmetricSigner {
        /// The key's algorithm.
        alg: Algorithm,
    },
    /// `iat` + lifetime does not fit the claim.
    #[error("issued at {iat} with a lifetime of {lifetime_secs} s is out of range")]
    TimeOutOfRange {
        /// Issued at.
        iat: u64,
        /// Lifetime.
        lifetime_secs: u64,
    },
    /// The claims did not serialize.
    #[error("serializing the claims: {0}")]
    Serialize(String),
    /// Signing failed.
    #[error(transparent)]
    Jose(#[from] JoseError),
}

/// An entity identifier (OpenID Federation 1.0 §1.2): an https URL (http on loopback, for
/// tests), no query, no fragment, kept without a trailing slash.
#[derive(Clone, PartialEq, Eq)]
pub struct EntityId(String);

impl EntityId {
    /// Checks `value` and drops a trailing slash.
    ///
    /// # Errors
    /// [`PublishError::EntityId`].
    pub fn new(value: &str) -> Result<Self, PublishError> {
        let bad = |reason: String| PublishError::EntityId {
            value: value.to_owned(),
            reason,
        };
        let url = parse_secure_url("entity_id", value).map_err(|e| bad(e.to_string()))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment allowed".to_owned()));
        }
        Ok(EntityId(value.trim_end_matches('/').to_owned()))
    }

    /// The identifier.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where its signed JWK set is served: `{entity_id}/.well-known/signed-jwks`.
    #[must_use]
    pub fn signed_jwks_uri(&self) -> String {
        format!("{}{WELL_KNOWN_SIGNED_JWKS}", self.0)
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityId({:?})", self.0)
    }
}

/// What the RP states about itself in `metadata.openid_relying_party` (OIDC Registration §2
/// members, plus OpenID Federation 1.0 §5.1.2's `client_registration_types` and
/// `organization_name` and §5.2.1's `signed_jwks_uri`): what relier will actually do with
/// the provider the statement is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingPartyMetadata {
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `id_token_signed_response_alg`.
    pub id_token_signed_response_alg: Algorithm,
    /// `id_token_encrypted_response_alg` / `_enc`.
    pub id_token_encryption: Option<ResponseEncryption>,
    /// `userinfo_encrypted_response_alg` / `_enc`.
    pub userinfo_encryption: Option<ResponseEncryption>,
    /// `request_object_signing_alg`: authorization requests are request objects signed so.
    pub request_object_signing_alg: Option<Algorithm>,
    /// `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: AuthMethod,
    /// `token_endpoint_auth_signing_alg` (private_key_jwt, client_secret_jwt).
    pub token_endpoint_auth_signing_alg: Option<Algorithm>,
    /// `organization_name`.
    pub organization_name: Option<String>,
}

impl RelyingPartyMetadata {
    /// The `openid_relying_party` object. `application_type` is `web` (a server-side RP) and
    /// `client_registration_types` empty: the registration is explicit, out of band (the FTN
    /// brokers' contract, ISB README §13).
    #[must_use]
    pub fn to_json(&self, entity_id: &EntityId) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_owned(), v);
        };
        put("redirect_uris", Value::from(self.redirect_uris.clone()));
        put("application_type", "web".into());
        put(
            "id_token_signed_response_alg",
            self.id_token_signed_response_alg.as_str().into(),
        );
        for (prefix, encryption) in [
            ("id_token", self.id_token_encryption),
            ("userinfo", self.userinfo_encryption),
        ] {
            if let Some(e) = encryption {
                put(
                    &format!("{prefix}_encrypted_response_alg"),
                    e.alg.as_str().into(),
                );
                put(
                    &format!("{prefix}_encrypted_response_enc"),
                    e.enc.as_str().into(),
                );
            }
        }
        if let Some(alg) = self.request_object_signing_alg {
            put("request_object_signing_alg", alg.as_str().into());
        }
        put(
            "token_endpoint_auth_method",
            self.token_endpoint_auth_method.as_str().into(),
        );
        if let Some(alg) = self.token_endpoint_auth_signing_alg {
            put("token_endpoint_auth_signing_alg", alg.as_str().into());
        }
        put("client_registration_types", Value::Array(Vec::new()));
        if let Some(name) = &self.organization_name {
            put("organization_name", name.clone().into());
        }
        put("signed_jwks_uri", entity_id.signed_jwks_uri().into());
        m
    }
}

/// The public keys of `set`, checked: none carries a private member, at most
/// [`MAX_PUBLISHED_KEYS`].
fn public_keys(set: &JwkSet) -> Result<Vec<Jwk>, PublishError> {
    if set.keys.len() > MAX_PUBLISHED_KEYS {
        return Err(PublishError::TooManyKeys {
            count: set.keys.len(),
            max: MAX_PUBLISHED_KEYS,
        });
    }
    for key in &set.keys {
        if key.is_private() || key.kty == "oct" {
            return Err(PublishError::PrivateKeyMaterial {
                kid: key.kid.clone(),
            });
        }
    }
    Ok(set.keys.clone())
}

/// `iat` and `exp` = `iat` + `lifetime_secs`, as claim values.
fn times(iat: UnixTime, lifetime_secs: u64) -> Result<(i64, i64), PublishError> {
    let out = || PublishError::TimeOutOfRange {
        iat: iat.0,
        lifetime_secs,
    };
    let exp = iat.0.checked_add(lifetime_secs).ok_or_else(out)?;
    Ok((
        i64::try_from(iat.0).map_err(|_| out())?,
        i64::try_from(exp).map_err(|_| out())?,
    ))
}

/// The RP's self-signed entity statement (OpenID Federation 1.0 §3.1): `iss` = `sub` = the
/// entity id, `iat`, `exp` = `iat` + `lifetime_secs`, `jwks` = the entity keys (public), and
/// `metadata.openid_relying_party`.
///
/// # Errors
/// [`PublishError::PrivateKeyMaterial`], [`PublishError::TooManyKeys`],
/// [`PublishError::TimeOutOfRange`].
pub fn entity_statement_claims(
    entity_id: &EntityId,
    iat: UnixTime,
    lifetime_secs: u64,
    entity_keys: &JwkSet,
    rp: &RelyingPartyMetadata,
) -> Result<EntityStatementClaims, PublishError> {
    let (iat, exp) = times(iat, lifetime_secs)?;
    Ok(EntityStatementClaims {
        iss: entity_id.as_str().to_owned(),
        sub: entity_id.as_str().to_owned(),
        iat,
        exp,
        jwks: JwkSet {
            keys: public_keys(entity_keys)?,
        },
        metadata: EntityMetadata {
            openid_relying_party: Some(rp.to_json(entity_id)),
            openid_provider: None,
        },
    })
}

/// The RP's signed JWK set payload (OpenID Federation 1.0 §5.2.1.1): `keys` = the public
/// signing and encryption keys, `iss` = `sub` = the entity id, `iat`, `exp` = `iat` +
/// `lifetime_secs`.
///
/// # Errors
/// As [`entity_statement_claims`].
pub fn signed_jwks_claims(
    entity_id: &EntityId,
    iat: UnixTime,
    lifetime_secs: u64,
    keys: &JwkSet,
) -> Result<SignedJwksClaims, PublishError> {
    let (iat, exp) = times(iat, lifetime_secs)?;
    Ok(SignedJwksClaims {
        keys: public_keys(keys)?,
        iss: entity_id.as_str().to_owned(),
        sub: Some(entity_id.as_str().to_owned()),
        iat: Some(iat),
        exp: Some(exp),
    })
}

/// Signs the statement with the entity key: header `alg` (the key's), `typ:
/// entity-statement+jwt`, `kid`. The key must be one of the statement's own `jwks`.
///
/// # Errors
/// [`PublishError::SignerNotPublished`], [`PublishError::SymmetricSigner`],
/// [`PublishError::Jose`].
pub fn sign_entity_statement(
    claims: &EntityStatementClaims,
    entity_key: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<String, PublishError> {
    let published = claims
        .jwks
        .keys
        .iter()
        .any(|k| k.kid.is_some() && k.kid.as_deref() == entity_key.kid());
    if !published {
        return Err(PublishError::SignerNotPublished {
            kid: entity_key.kid().map(str::to_owned),
        });
    }
    sign(claims, ENTITY_STATEMENT_TYP, entity_key, rng)
}

/// Signs the JWK set with the entity key: header `alg` (the key's), `typ: jwk-set+jwt`,
/// `kid`.
///
/// # Errors
/// [`PublishError::SignerNotPublished`] (a key without kid), [`PublishError::SymmetricSigner`],
/// [`PublishError::Jose`].
pub fn sign_signed_jwks(
    claims: &SignedJwksClaims,
    entity_key: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<String, PublishError> {
    sign(claims, SIGNED_JWKS_TYP, entity_key, rng)
}

fn sign(
    claims: &impl serde::Serialize,
    typ: &str,
    key: &SigningKey,
    rng: &dyn SecureRandom,
) -> Result<String, PublishError> {
    let alg = key.algorithm();
    if alg.is_hmac() || alg == Algorithm::None {
        return Err(PublishError::SymmetricSigner { alg });
    }
    let Some(kid) = key.kid() else {
        return Err(PublishError::SignerNotPublished { kid: None });
    };
    let header = Header {
        typ: Some(typ.to_owned()),
        kid: Some(kid.to_owned()),
        ..Header::default()
    };
    let payload = serde_json::to_vec(claims).map_err(|e| PublishError::Serialize(e.to_string()))?;
    Ok(jws::sign_compact(&header, &payload, key, rng)?)
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
