//! Entity statements and signed JWK sets, as the Finnish Trust Network brokers run them
//! (OpenID Federation 1.0 §3, §5.2.1, §9; the FTN OpenID Connect profile, Traficom
//! recommendation 213/2023 S).
//!
//! Each side has a long-lived *entity key* that signs only its entity statement and its signed
//! JWK set; the signing and encryption keys a login uses are published only inside that signed
//! set. [`publish`] builds the RP's own statement and set; [`trust`] verifies the broker's with
//! the entity keys pinned from the statement it handed over out of band.

use relier_jose::JwkSet;
use serde::{Deserialize, Serialize};

pub mod publish;
pub mod trust;

/// JOSE `typ` of an entity statement (OpenID Federation 1.0 §3).
pub const ENTITY_STATEMENT_TYP: &str = "entity-statement+jwt";
/// Media type an entity statement is served with (OpenID Federation 1.0 §9).
pub const ENTITY_STATEMENT_CONTENT_TYPE: &str = "application/entity-statement+jwt";
/// JOSE `typ` of a signed JWK set (OpenID Federation 1.0 §5.2.1).
pub const SIGNED_JWKS_TYP: &str = "jwk-set+jwt";
/// Media type a signed JWK set is served with (OpenID Federation 1.0 §5.2.1).
pub const SIGNED_JWKS_CONTENT_TYPE: &str = "application/jwk-set+jwt";
/// Where an entity publishes its own statement (OpenID Federation 1.0 §9).
pub const WELL_KNOWN_FEDERATION: &str = "/.well-known/openid-federation";
/// Where relier publishes its signed JWK set (`signed_jwks_uri` = entity id + this).
pub const WELL_KNOWN_SIGNED_JWKS: &str = "/.well-known/signed-jwks";

/// The claims of an entity statement (OpenID Federation 1.0 §3.1), as far as relier reads or
/// writes them. Unknown claims are ignored on reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityStatementClaims {
    /// The entity that signed the statement.
    pub iss: String,
    /// The entity the statement is about (= `iss` for a self-signed statement).
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// The entity keys: public keys only; they sign the statement and the signed JWK set.
    pub jwks: JwkSet,
    /// Metadata by entity type (`openid_relying_party`, `openid_provider`, …).
    #[serde(default)]
    pub metadata: EntityMetadata,
}

/// `metadata` of an entity statement (OpenID Federation 1.0 §5.1): one JSON object per entity
/// type; the members are the usual OIDC Registration / Discovery metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntityMetadata {
    /// An RP's metadata (OIDC Registration §2 members, plus `signed_jwks_uri`,
    /// `organization_name`, `client_registration_types`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid_relying_party: Option<serde_json::Map<String, serde_json::Value>>,
    /// An OP's metadata (OIDC Discovery §3 members, plus `signed_jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid_provider: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The claims of a signed JWK set (OpenID Federation 1.0 §5.2.1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedJwksClaims {
    /// The public signing and encryption keys.
    pub keys: Vec<relier_jose::Jwk>,
    /// The entity publishing the set.
    pub iss: String,
    /// The entity the set is about (= `iss`); optional on reading (the ISB omits nothing, but
    /// the specification allows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}
