//! The RP's decryption keys for a registered response encryption (OIDC Registration §2; what
//! is registered is [`crate::ProviderRecord::registered`]'s).

use relier_core::encryption::ResponseEncryption;
use relier_jose::jwe::DecryptionKeys;

use crate::error::StoreError;
use crate::store::KeyStore;

/// The RP's keys to decrypt responses registered with `expect`: every stored key of
/// `expect.alg` (current first, retired ones included until removed). Symmetric key management
/// (`dir`, `A*KW`) needs no stored key (the client secret is used; OIDC Core §10.2): empty.
///
/// # Errors
/// [`StoreError::NotFound`] when the store has no key of `expect.alg` (generate one with
/// `relier keys generate --use enc --alg …`); as [`KeyStore::decryption_keys`].
pub async fn decryption_keys_for(
    store: &dyn KeyStore,
    expect: ResponseEncryption,
) -> Result<DecryptionKeys, StoreError> {
    if expect.alg.is_symmetric() {
        return Ok(DecryptionKeys::new());
    }
    let keys = store.decryption_keys(expect.alg).await?;
    if keys.keys().is_empty() {
        return Err(StoreError::NotFound {
            what: "encryption key",
            name: expect.alg.as_str().to_owned(),
        });
    }
    Ok(keys)
}
