//! What a provider registered about its responses (OIDC Registration §2): encrypted ID tokens
//! and UserInfo (`…_encrypted_response_alg`/`_enc`) and signed UserInfo
//! (`userinfo_signed_response_alg`), JARM authorization responses
//! (`authorization_signed_response_alg`, `authorization_encrypted_response_*`) and signed
//! request objects (`request_object_signing_alg`, `require_signed_request_object`,
//! `request_object_encryption_alg`/`_enc`, RFC 9101, OIDC Core §6.1) —
//! from an inline provider's configuration keys of the same names, or a registry provider's
//! registration — and the store's encryption keys for them.

use relier::RelyingPartyBuilder;
use relier_core::encryption::{
    DecryptionKeys, EncryptedResponse, KeyManagementAlg, ResponseEncryption,
};
use relier_core::jarm::JarmRule;
use relier_core::request_object::RequestObjectRule;
use relier_core::{Algorithm, ProviderMetadata};
use relier_jose::SigningKey;
use relier_store::{KeyStore, ProviderRecord, StoreError};

use crate::config::ProviderConfig;
use crate::error::GatewayError;

/// The registered response rules of one provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Responses {
    /// `id_token_encrypted_response_*`.
    pub id_token: Option<ResponseEncryption>,
    /// `userinfo_encrypted_response_*`.
    pub userinfo: Option<ResponseEncryption>,
    /// `userinfo_signed_response_alg`.
    pub userinfo_signed_alg: Option<Algorithm>,
    /// `authorization_signed_response_alg`, `authorization_encrypted_response_*` (JARM).
    pub jarm: Option<JarmRule>,
    /// `request_object_signing_alg`, `require_signed_request_object` (RFC 9101).
    pub request_objects: RequestObjectRule,
}

impl Responses {
    /// An inline provider's configuration keys.
    pub fn configured(p: &ProviderConfig) -> Result<Self, GatewayError> {
        let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
        let mut reg = serde_json::Map::new();
        let members = [
            (
                "id_token_encrypted_response_alg",
                &p.id_token_encrypted_response_alg,
            ),
            (
                "id_token_encrypted_response_enc",
                &p.id_token_encrypted_response_enc,
            ),
            (
                "userinfo_encrypted_response_alg",
                &p.userinfo_encrypted_response_alg,
            ),
            (
                "userinfo_encrypted_response_enc",
                &p.userinfo_encrypted_response_enc,
            ),
            (
                "userinfo_signed_response_alg",
                &p.userinfo_signed_response_alg,
            ),
            ("request_object_signing_alg", &p.request_object_signing_alg),
            (
                "request_object_encryption_alg",
                &p.request_object_encryption_alg,
            ),
            (
                "request_object_encryption_enc",
                &p.request_object_encryption_enc,
            ),
            (
                "authorization_signed_response_alg",
                &p.authorization_signed_response_alg,
            ),
            (
                "authorization_encrypted_response_alg",
                &p.authorization_encrypted_response_alg,
            ),
            (
                "authorization_encrypted_response_enc",
                &p.authorization_encrypted_response_enc,
            ),
        ];
        for (member, value) in members {
            if let Some(v) = value {
                reg.insert(member.to_owned(), v.clone().into());
            }
        }
        if let Some(required) = p.require_signed_request_object {
            reg.insert("require_signed_request_object".to_owned(), required.into());
        }
        let mut record = ProviderRecord::new(&p.name, "", "", relier_core::AuthMethod::None);
        record.registration = Some(serde_json::Value::Object(reg));
        Self::registered(&record).map_err(|e| err(&e))
    }

    /// A registry provider's registration.
    pub fn registered(r: &ProviderRecord) -> Result<Self, StoreError> {
        Ok(Responses {
            id_token: r.response_encryption(EncryptedResponse::IdToken)?,
            userinfo: r.response_encryption(EncryptedResponse::UserInfo)?,
            userinfo_signed_alg: r.userinfo_signed_alg()?,
            jarm: r.jarm_rule()?,
            request_objects: r.request_object_rule()?,
        })
    }

    /// The encrypted responses whose algorithm uses an RP key (not the client secret).
    pub fn store_algs(&self) -> Vec<(EncryptedResponse, KeyManagementAlg)> {
        [
            (EncryptedResponse::IdToken, self.id_token),
            (EncryptedResponse::UserInfo, self.userinfo),
            (
                EncryptedResponse::AuthorizationResponse,
                self.jarm.and_then(|j| j.encryption),
            ),
        ]
        .into_iter()
        .filter_map(|(which, e)| Some((which, e?.alg)))
        .filter(|(_, alg)| !alg.is_symmetric())
        .collect()
    }
}

/// The registered rules with the store's keys loaded.
#[derive(Debug, Clone, Default)]
pub(super) struct Decryption {
    rules: Responses,
    id_token: Option<DecryptionKeys>,
    userinfo: Option<DecryptionKeys>,
    jarm: Option<DecryptionKeys>,
}

impl Decryption {
    /// Loads the keys every encrypted response needs.
    pub async fn load(rules: Responses, store: &dyn KeyStore) -> Result<Self, GatewayError> {
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
            rules,
            id_token: keys(rules.id_token).await?,
            userinfo: keys(rules.userinfo).await?,
            jarm: keys(rules.jarm.and_then(|j| j.encryption)).await?,
        })
    }

    /// The registered rules.
    pub fn rules(&self) -> &Responses {
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
        if let (Some(expect), Some(keys)) = (self.rules.id_token, &self.id_token) {
            b = b.id_token_decryption(expect, keys.clone());
        }
        if let (Some(expect), Some(keys)) = (self.rules.userinfo, &self.userinfo) {
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
