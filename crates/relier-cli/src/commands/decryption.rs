//! The keys that open the encrypted responses a login expects (OIDC Core §10.2, OIDC
//! Registration §2, JARM §3): as the stored provider registered them, or as `--encrypt-id-token`
//! / `--encrypt-userinfo` say for a client given on the command line.

use anyhow::{Context as _, bail};
use relier::credentials::ClientCredentials;
use relier::provider::ResponseKeys;
use relier_core::encryption::{DecryptionKeys, EncryptedResponse, ResponseEncryption};
use relier_core::registration::Registration;
use relier_store::KeyStore;

use crate::args::{ClientArgs, StoreArgs};
use crate::store;

/// The store's keys for what the stored provider registered encrypted
/// (`*_encrypted_response_*`).
pub(super) async fn registered(
    store: &dyn KeyStore,
    name: &str,
    reg: &Registration,
) -> anyhow::Result<ResponseKeys> {
    let mut keys = ResponseKeys::default();
    for (which, expect) in reg.encrypted_responses() {
        let Some(expect) = expect else { continue };
        let loaded = relier_store::decryption_keys_for(store, expect)
            .await
            .with_context(|| {
                format!(
                    "provider {name} registered {} {}: run `relier keys generate --use enc --alg {}`, then `relier providers sync {name}`",
                    which.alg_member(),
                    expect.alg,
                    expect.alg
                )
            })?;
        keys.set(which, loaded);
    }
    Ok(keys)
}

/// `--encrypt-id-token` and `--encrypt-userinfo`: RSA-OAEP*/ECDH-ES* with the store's
/// encryption keys (the store is opened only for them), dir/A*KW with the client secret.
pub(super) async fn from_flags(
    client: &ClientArgs,
    loaded: &ClientCredentials,
    store_args: &StoreArgs,
) -> anyhow::Result<ResponseKeys> {
    let flags = [
        (
            "--encrypt-id-token",
            EncryptedResponse::IdToken,
            client.encrypt_id_token,
        ),
        (
            "--encrypt-userinfo",
            EncryptedResponse::UserInfo,
            client.encrypt_userinfo,
        ),
    ];
    for (flag, _, expect) in flags {
        if let Some(e) = expect
            && e.alg.is_symmetric()
            && loaded.secret.is_none()
        {
            bail!(
                "{flag} {}: dir and A*KW decrypt with a key derived from the client secret (OIDC Core §10.2): use --client-secret-env VAR or --client-secret-file FILE",
                e.alg
            );
        }
    }
    let mut keys = ResponseKeys::default();
    if flags
        .iter()
        .all(|(_, _, e)| e.is_none_or(|e| e.alg.is_symmetric()))
    {
        for (_, which, expect) in flags {
            if expect.is_some() {
                keys.set(which, DecryptionKeys::new());
            }
        }
        return Ok(keys);
    }
    let opened = store::open(store_args).await?;
    let result = async {
        for (flag, which, expect) in flags {
            if let Some(loaded) = from_flag(&*opened, flag, expect).await? {
                keys.set(which, loaded);
            }
        }
        anyhow::Ok(keys)
    }
    .await;
    // Nothing is written during a login: the store is not held open while the browser is.
    opened.close().await;
    result
}

/// The store's keys for one `--encrypt-*` flag's expectation.
async fn from_flag(
    store: &dyn KeyStore,
    flag: &str,
    expect: Option<ResponseEncryption>,
) -> anyhow::Result<Option<DecryptionKeys>> {
    let Some(expect) = expect else {
        return Ok(None);
    };
    let keys = relier_store::decryption_keys_for(store, expect)
        .await
        .with_context(|| {
            format!(
                "{flag} {}: run `relier keys generate --use enc --alg {}` and give the OP the store's public keys (`relier keys jwks`)",
                expect.alg, expect.alg
            )
        })?;
    Ok(Some(keys))
}
