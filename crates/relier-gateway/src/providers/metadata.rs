//! The RP's metadata as a federation entity states it (`metadata.openid_relying_party` of its
//! entity statement): derived from the provider's spec — the same code that decides what the
//! gateway does at login (client authentication, ID token signing and encryption, request
//! objects) — so the statement cannot disagree with the logins.

use relier_core::AuthMethod;
use relier_core::federation::publish::RelyingPartyMetadata;
use relier_store::Store;

use super::list::redirect_uri;
use super::spec::{StoreKey, inline_spec, registry_spec};
use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// The provider the entity statement describes: the first `[[providers]]` entry (the
/// provider registered with the broker by that statement).
fn federation_provider(config: &Config) -> Result<&ProviderConfig, GatewayError> {
    config.providers.first().ok_or_else(|| {
        GatewayError::config(
            "[federation] describes the RP to a provider: configure one in [[providers]]",
        )
    })
}

/// `metadata.openid_relying_party` for `config` (after presets): redirect URI, ID token
/// signing and encryption, request object signing, client authentication — from the
/// provider's spec, as the gateway builds it — and `organization_name`.
///
/// # Errors
/// The provider's configuration errors, as at start; a registry provider not in the store.
pub(crate) async fn relying_party_metadata(
    config: &Config,
    store: &dyn Store,
    organization_name: Option<String>,
) -> Result<RelyingPartyMetadata, GatewayError> {
    let p = federation_provider(config)?;
    let spec = if p.is_registry() {
        registry_spec(config, p, store).await?
    } else {
        inline_spec(config, p)?
    };
    // The key client assertions (and request objects) are signed with.
    let key_alg = match spec.store_key {
        Some(StoreKey::Configured(alg)) => Some(alg),
        Some(StoreKey::Registered(alg)) => alg,
        None => spec.provider.client.signing_alg,
    };
    let jwt_auth = matches!(
        spec.method,
        AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
    );
    let objects = spec.provider.registration.request_objects;
    Ok(RelyingPartyMetadata {
        redirect_uris: vec![redirect_uri(config, p)],
        id_token_signed_response_alg: spec.id_token_alg.algorithm(),
        id_token_encryption: spec.provider.registration.id_token_encryption,
        userinfo_encryption: spec.provider.registration.userinfo_encryption,
        // RFC 9101 §10.5: a required signed request object without an algorithm is signed
        // with the key's own.
        request_object_signing_alg: objects.alg.or_else(|| key_alg.filter(|_| objects.required)),
        token_endpoint_auth_method: spec.method,
        token_endpoint_auth_signing_alg: key_alg.filter(|_| jwt_auth),
        organization_name,
    })
}
