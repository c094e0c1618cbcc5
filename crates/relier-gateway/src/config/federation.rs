//! `[federation]`: the RP as an OpenID Federation entity, the way the Finnish Trust Network
//! brokers take it — its entity statement (`relier federation statement`, served at
//! `/.well-known/openid-federation`) and its signed JWK set (`/.well-known/signed-jwks`).

use std::time::Duration;

use relier_core::federation::publish::EntityId;
use serde::Deserialize;

use super::duration;
use crate::error::GatewayError;

/// Default `statement_lifetime`: 365 days.
pub const DEFAULT_STATEMENT_LIFETIME: Duration = Duration::from_secs(365 * 86_400);
/// Default `jwks_lifetime`: 1 day.
pub const DEFAULT_JWKS_LIFETIME: Duration = Duration::from_secs(86_400);
/// Default `[keys] propagation` when federation is in use: the FTN brokers cache an RP's
/// signed JWK set for up to a day, so a new key is published a day before it is used.
pub const FEDERATION_PROPAGATION: Duration = Duration::from_secs(86_400);

/// `[federation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// The entity identifier (`iss` and `sub` of the statement and the signed JWK set); default
    /// `public_url` without a trailing slash.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// `organization_name` of the RP's metadata (shown to the broker's operators).
    #[serde(default)]
    pub organization_name: Option<String>,
    /// How long a statement is valid (`exp` = `iat` + this; default 365d).
    #[serde(
        default = "default_statement_lifetime",
        deserialize_with = "duration::deserialize"
    )]
    pub statement_lifetime: Duration,
    /// How long a signed JWK set is valid (`exp` = `iat` + this; default 1d).
    #[serde(
        default = "default_jwks_lifetime",
        deserialize_with = "duration::deserialize"
    )]
    pub jwks_lifetime: Duration,
}

fn default_statement_lifetime() -> Duration {
    DEFAULT_STATEMENT_LIFETIME
}

fn default_jwks_lifetime() -> Duration {
    DEFAULT_JWKS_LIFETIME
}

impl FederationConfig {
    /// The entity id: `entity_id`, else `public_url`, without a trailing slash; checked
    /// (https, or http on loopback; no query or fragment).
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming `federation.entity_id`.
    pub fn entity_id(&self, public_url: &str) -> Result<EntityId, GatewayError> {
        let value = self.entity_id.as_deref().unwrap_or(public_url);
        EntityId::new(value).map_err(|e| GatewayError::config(format!("federation.{e}")))
    }

    /// Both lifetimes are at least a second.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the key.
    pub fn check(&self) -> Result<(), GatewayError> {
        for (key, d) in [
            ("statement_lifetime", self.statement_lifetime),
            ("jwks_lifetime", self.jwks_lifetime),
        ] {
            if d.as_secs() == 0 {
                return Err(GatewayError::config(format!(
                    "federation.{key} must be at least 1s"
                )));
            }
        }
        Ok(())
    }
}
