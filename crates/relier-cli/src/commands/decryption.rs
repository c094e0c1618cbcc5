//! The encrypted responses a login expects (OIDC Core §10.2, OIDC Registration §2) and the keys
//! that open them: as the stored provider registered them, or as `--encrypt-id-token` /
//! `--encrypt-userinfo` say for a client given on the command line.

use anyhow::{Context as _, bail};
use relier::RelyingPartyBuilder;
use relier::credentials::ClientCredentials;
use relier_core::encryption::{DecryptionKeys, EncryptedResponse, ResponseEncryption};
use relier_core::registration::Registration;
use relier_store::KeyStore;

use crate::args::{ClientArgs, StoreArgs};
use crate::store;

/// What to expect encrypted, and the keys for it.
#[derive(Debug, Default)]
pub(super) struct Decryption {
    id_token: Option<(ResponseEncryption, DecryptionKeys)>,
    userinfo: Option<(ResponseEncryption, DecryptionKeys)>,
}

impl Decryption {
    /// What the stored provider registered (`*_encrypted_response_*`), with the store's keys.
    pub(super) async fn registered(
        store: &dyn KeyStore,
        name: &str,
        reg: &Registration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            id_token: registered(store, name, reg, EncryptedResponse::IdToken).await?,
            userinfo: registered(store, name, reg, EncryptedResponse::UserInfo).await?,
        })
    }

    /// `--encrypt-id-token` and `--encrypt-userinfo`: RSA-OAEP*/ECDH-ES* with the store's
    /// encryption keys (the store is opened only for them), dir/A*KW with the client secret.
    pub(super) async fn from_flags(
        client: &ClientArgs,
        loaded: &ClientCredentials,
        store_args: &StoreArgs,
    ) -> anyhow::Result<Self> {
        let flags = [
            ("--encrypt-id-token", client.encrypt_id_token),
            ("--encrypt-userinfo", client.encrypt_userinfo),
        ];
        for (flag, expect) in flags {
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
        if flags
            .iter()
            .all(|(_, e)| e.is_none_or(|e| e.alg.is_symmetric()))
        {
            return Ok(Self {
                id_token: client.encrypt_id_token.map(|e| (e, DecryptionKeys::new())),
                userinfo: client.encrypt_userinfo.map(|e| (e, DecryptionKeys::new())),
            });
        }
        let opened = store::open(store_args).await?;
        let result = async {
            Ok(Self {
                id_token: from_flag(&*opened, flags[0]).await?,
                userinfo: from_flag(&*opened, flags[1]).await?,
            })
        }
        .await;
        // Nothing is written during a login: the store is not held open while the browser is.
        opened.close().await;
        result
    }

    /// The relying party expects and decrypts these responses.
    pub(super) fn apply(self, mut b: RelyingPartyBuilder) -> RelyingPartyBuilder {
        if let Some((expect, keys)) = self.id_token {
            b = b.id_token_decryption(expect, keys);
        }
        if let Some((expect, keys)) = self.userinfo {
            b = b.userinfo_decryption(expect, keys);
        }
        b
    }
}

/// The registered encryption of `which` and the store's keys for it (OIDC Registration §2).
pub(super) async fn registered(
    store: &dyn KeyStore,
    name: &str,
    reg: &Registration,
    which: EncryptedResponse,
) -> anyhow::Result<Option<(ResponseEncryption, DecryptionKeys)>> {
    let Some(expect) = reg.encryption(which) else {
        return Ok(None);
    };
    let keys = relier_store::decryption_keys_for(store, expect)
        .await
        .with_context(|| {
            format!(
                "provider {name} registered {} {}: run `relier keys generate --use enc --alg {}`, then `relier providers sync {name}`",
                which.alg_member(),
                expect.alg,
                expect.alg
            )
        })?;
    Ok(Some((expect, keys)))
}

/// One `--encrypt-*` flag's expectation and the store's keys for it.
async fn from_flag(
    store: &dyn KeyStore,
    (flag, expect): (&str, Option<ResponseEncryption>),
) -> anyhow::Result<Option<(ResponseEncryption, DecryptionKeys)>> {
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
    Ok(Some((expect, keys)))
}
