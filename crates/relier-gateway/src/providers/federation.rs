//! A provider whose keys are exchanged as in an OpenID Federation (the Finnish Trust Network):
//! its entity keys pinned from the entity statement it handed over (`entity_statement`, also
//! the source of its metadata: no discovery) or from a PEM file (`entity_keys`, with
//! `signed_jwks_uri` and discovery); its ID token keys then come only from its signed JWK set,
//! verified with those keys — its unsigned `jwks_uri` is never consulted.

use relier_core::ProviderMetadata;
use relier_core::federation::trust::{self, EntityKeys, SignedJwksSource};
use relier_core::types::parse_secure_url;

use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// The largest entity statement or PEM file read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// How a provider's keys are trusted.
pub(super) enum Trust {
    /// The plain way: discovery, and the keys at its `jwks_uri` (or the configured one).
    Plain {
        /// `jwks_uri` from the configuration, replacing the discovered one.
        jwks_uri: Option<String>,
    },
    /// The broker's entity statement: metadata and entity keys from it, no discovery.
    Statement {
        /// `metadata.openid_provider`, checked as a discovery document would be.
        metadata: Box<ProviderMetadata>,
        /// Its signed JWK set and the pinned keys.
        source: SignedJwksSource,
    },
    /// Entity keys from a PEM file, `signed_jwks_uri` from the configuration, metadata by
    /// discovery; the signed set's `iss` must be the discovered issuer.
    EntityKeys {
        /// The pinned keys.
        keys: EntityKeys,
        /// `signed_jwks_uri`.
        uri: String,
    },
}

impl Trust {
    /// Reads and checks the provider's federation settings: a statement is verified now
    /// (`now`, seconds) — refused when expired, warned about when it expires within 30 days.
    ///
    /// # Errors
    /// [`GatewayError::Provider`] naming the keys that conflict or the failed check.
    pub(super) fn load(
        config: &Config,
        p: &ProviderConfig,
        now: u64,
    ) -> Result<Self, GatewayError> {
        let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
        let both = |a: &str, b: &str| {
            err(&format!(
                "{a} and {b} are both set: the OP's keys come only from the signed JWK set its \
                 entity keys sign; remove {b}"
            ))
        };
        if let Some(uri) = &p.gateway_keys().jwks_uri {
            parse_secure_url("jwks_uri", uri).map_err(|e| err(&format!("jwks_uri: {e}")))?;
        }
        if let Some(path) = &p.settings.entity_statement {
            if p.gateway_keys().jwks_uri.is_some() {
                return Err(both("entity_statement", "jwks_uri"));
            }
            if p.settings.entity_keys.is_some() {
                return Err(both("entity_statement", "entity_keys"));
            }
            if p.gateway_keys().signed_jwks_uri.is_some() {
                return Err(both("entity_statement", "signed_jwks_uri"));
            }
            let text = read(config, path).map_err(|e| err(&e))?;
            let st = trust::verify_entity_statement(&text, relier_core::UnixTime(now))
                .map_err(|e| err(&format!("entity_statement {}: {e}", path.display())))?;
            if let Some(w) = st.expiry_warning(relier_core::UnixTime(now)) {
                tracing::warn!(provider = %p.name, exp = w.exp, days_left = w.days_left,
                    "the broker's entity statement expires within 30 days: ask the broker for a new one");
            }
            let metadata = st
                .provider_metadata()
                .map_err(|e| err(&format!("entity_statement {}: {e}", path.display())))?;
            if let Some(issuer) = &p.settings.issuer
                && issuer != metadata.issuer.as_str()
            {
                return Err(err(&format!(
                    "issuer {issuer:?} is not the entity statement's metadata.openid_provider.issuer {:?}",
                    metadata.issuer.as_str()
                )));
            }
            let uri = st.signed_jwks_uri().ok_or_else(|| {
                err(&format!(
                    "entity_statement {}: no metadata.openid_provider.signed_jwks_uri",
                    path.display()
                ))
            })?;
            parse_secure_url("signed_jwks_uri", uri)
                .map_err(|e| err(&format!("signed_jwks_uri: {e}")))?;
            return Ok(Trust::Statement {
                metadata: Box::new(metadata),
                source: SignedJwksSource {
                    uri: uri.to_owned(),
                    entity_id: st.entity_id,
                    keys: st.keys,
                },
            });
        }
        if let Some(path) = &p.settings.entity_keys {
            if p.gateway_keys().jwks_uri.is_some() {
                return Err(both("entity_keys", "jwks_uri"));
            }
            let uri = p
                .gateway_keys()
                .signed_jwks_uri
                .map(str::to_owned)
                .ok_or_else(|| {
                    err(&"entity_keys needs signed_jwks_uri (the broker's signed JWK set)")
                })?;
            parse_secure_url("signed_jwks_uri", &uri)
                .map_err(|e| err(&format!("signed_jwks_uri: {e}")))?;
            let text = read(config, path).map_err(|e| err(&e))?;
            let keys = EntityKeys::from_pem(&text)
                .map_err(|e| err(&format!("entity_keys {}: {e}", path.display())))?;
            return Ok(Trust::EntityKeys { keys, uri });
        }
        if p.gateway_keys().signed_jwks_uri.is_some() {
            return Err(err(
                &"signed_jwks_uri needs entity_keys (the PEM keys that sign it)",
            ));
        }
        Ok(Trust::Plain {
            jwks_uri: p.gateway_keys().jwks_uri.map(str::to_owned),
        })
    }

    /// The issuer when the statement names it (no discovery needed).
    pub(super) fn issuer(&self) -> Option<&str> {
        match self {
            Trust::Statement { metadata, .. } => Some(metadata.issuer.as_str()),
            _ => None,
        }
    }

    /// The provider's metadata after discovery (`discovered`: what discovery answered, for
    /// every kind but a statement) and where its signing keys come from.
    pub(super) fn into_metadata(
        self,
        discovered: Option<ProviderMetadata>,
    ) -> Option<(ProviderMetadata, Option<SignedJwksSource>)> {
        match self {
            Trust::Statement { metadata, source } => Some((*metadata, Some(source))),
            Trust::Plain { jwks_uri } => {
                let mut md = discovered?;
                if jwks_uri.is_some() {
                    md.jwks_uri = jwks_uri;
                }
                Some((md, None))
            }
            Trust::EntityKeys { keys, uri } => {
                let mut md = discovered?;
                md.jwks_uri = None;
                let entity_id = md.issuer.as_str().to_owned();
                Some((
                    md,
                    Some(SignedJwksSource {
                        uri,
                        entity_id,
                        keys,
                    }),
                ))
            }
        }
    }
}

fn read(config: &Config, path: &std::path::Path) -> Result<String, String> {
    let path = config.resolve(path);
    let len = std::fs::metadata(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "{}: larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}
