//! The store's keys for what a provider registered encrypted ([`Registration`], OIDC
//! Registration §2, JARM §3): ID tokens, UserInfo and JARM authorization responses encrypted
//! to an RP key (RSA-OAEP*, ECDH-ES*) are opened with the store's encryption keys of that
//! algorithm; `dir` / `A*KW` ones with the client secret.

use relier::provider::ResponseKeys;
use relier_core::registration::Registration;
use relier_store::KeyStore;

use crate::error::GatewayError;

/// Loads the keys every encrypted response of `rules` needs.
pub(super) async fn load_keys(
    rules: &Registration,
    store: &dyn KeyStore,
) -> Result<ResponseKeys, GatewayError> {
    let mut keys = ResponseKeys::default();
    for (which, expect) in rules.encrypted_responses() {
        let Some(expect) = expect else { continue };
        let loaded = relier_store::decryption_keys_for(store, expect)
            .await
            .map_err(|err| GatewayError::config(format!("encryption {expect}: {err}")))?;
        keys.set(which, loaded);
    }
    Ok(keys)
}
