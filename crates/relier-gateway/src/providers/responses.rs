//! What a provider registered about its responses ([`Registration`], OIDC Registration §2):
//! encrypted ID tokens and UserInfo (`…_encrypted_response_alg`/`_enc`) and signed UserInfo
//! (`userinfo_signed_response_alg`), JARM authorization responses
//! (`authorization_signed_response_alg`, `authorization_encrypted_response_*`) and signed
//! request objects (`request_object_signing_alg`, `require_signed_request_object`,
//! `request_object_encryption_alg`/`_enc`, RFC 9101, OIDC Core §6.1) — with the store's
//! encryption keys for them.

use relier::RelyingPartyBuilder;
use relier_core::ProviderMetadata;
use relier_core::encryption::{DecryptionKeys, ResponseEncryption};
use relier_core::registration::Registration;
use relier_jose::SigningKey;
use relier_store::KeyStore;

use crate::error::GatewayError;

/// The registered rules with the store's keys loaded.
#[derive(Debug, Clone, Default)]
pub(super) struct Decryption {
    rules: Registration,
    id_token: Option<DecryptionKeys>,
    userinfo: Option<DecryptionKeys>,
    jarm: Option<DecryptionKeys>,
}

impl Decryption {
    /// Loads the keys every encrypted response needs.
    pub async fn load(rules: Registration, store: &dyn KeyStore) -> Result<Self, GatewayError> {
        let keys = |e: Option<ResponseEncryption>| async move {
            match e {
                Some(expect) => relier_store::decryption_keys_for(store, expect)
                    .await
                    .map(Some)
                    .map_err(|err| GatewayError::Config(format!("encryption {expect}: {err}"))),
                None => Ok(None),
            }
        };
        Ok(Decryption {
            id_token: keys(rules.id_token_encryption).await?,
            userinfo: keys(rules.userinfo_encryption).await?,
            jarm: keys(rules.jarm.and_then(|j| j.encryption)).await?,
            rules,
        })
    }

    /// The registered rules.
    pub fn rules(&self) -> &Registration {
        &self.rules
    }

    /// The kids of every key in use, sorted.
    pub fn key_ids(&self) -> Vec<String> {
        let mut kids: Vec<String> = [&self.id_token, &self.userinfo, &self.jarm]
            .into_iter()
            .flatten()
            .flat_map(|keys| {
                keys.keys()
                    .iter()
                    .filter_map(|k| k.kid().map(str::to_owned))
            })
            .collect();
        kids.sort_unstable();
        kids.dedup();
        kids
    }

    /// Applies the rules and keys to a relying party being built; request objects are signed
    /// with `key` (the provider's private key or the store's).
    pub fn apply(
        &self,
        mut b: RelyingPartyBuilder,
        key: Option<&SigningKey>,
        metadata: &ProviderMetadata,
    ) -> Result<RelyingPartyBuilder, relier::Error> {
        if let (Some(expect), Some(keys)) = (self.rules.id_token_encryption, &self.id_token) {
            b = b.id_token_decryption(expect, keys.clone());
        }
        if let (Some(expect), Some(keys)) = (self.rules.userinfo_encryption, &self.userinfo) {
            b = b.userinfo_decryption(expect, keys.clone());
        }
        if let Some(alg) = self.rules.userinfo_signed_alg {
            b = b.userinfo_signed_alg(alg);
        }
        if let Some(rule) = self.rules.jarm {
            b = b.jarm(rule, self.jarm.clone());
        }
        if let Some(signer) = self.rules.request_objects.signer(key, metadata)? {
            b = b.request_objects(signer);
            // OIDC Core §6.1: signed (or unsigned), then encrypted to the OP.
            if let Some(algs) = self.rules.request_objects.encryption {
                b = b.request_object_encryption(algs);
            }
        }
        Ok(b)
    }
}
