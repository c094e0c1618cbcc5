//! Signed request objects (RFC 9101) and JARM responses as a stored provider registered them
//! (or, for any OP, as the OP requires: `require_signed_request_object`, RFC 9101 §10.5).

use anyhow::Context as _;
use relier::RelyingPartyBuilder;
use relier_core::ProviderMetadata;
use relier_core::encryption::{DecryptionKeys, EncryptedResponse};
use relier_core::jarm::JarmRule;
use relier_core::registration::Registration;
use relier_core::request_object::RequestObjectRule;
use relier_jose::SigningKey;
use relier_store::Store;

use super::decryption;

/// What a provider registered about the authorization request and response.
#[derive(Debug, Default)]
pub(super) struct Secured {
    request_objects: RequestObjectRule,
    jarm: Option<(JarmRule, Option<DecryptionKeys>)>,
}

impl Secured {
    /// From the stored registration, with the store's keys for encrypted JARM responses.
    pub async fn registered(
        store: &dyn Store,
        name: &str,
        reg: &Registration,
    ) -> anyhow::Result<Self> {
        let jarm = match reg.jarm {
            Some(rule) => {
                let which = EncryptedResponse::AuthorizationResponse;
                let keys = decryption::registered(store, name, reg, which)
                    .await?
                    .map(|(_, keys)| keys);
                Some((rule, keys))
            }
            None => None,
        };
        Ok(Self {
            request_objects: reg.request_objects,
            jarm,
        })
    }

    /// `--request-object-signing-alg` and `--encrypt-request-object` for a client given on the
    /// command line, checked as a registration of the same members is.
    pub fn from_flags(
        alg: Option<relier_core::Algorithm>,
        encryption: Option<relier_core::ResponseEncryption>,
    ) -> anyhow::Result<Self> {
        let mut reg = serde_json::Map::new();
        if let Some(a) = alg {
            reg.insert("request_object_signing_alg".into(), a.as_str().into());
        }
        if let Some(e) = encryption {
            reg.insert(
                "request_object_encryption_alg".into(),
                e.alg.as_str().into(),
            );
            reg.insert(
                "request_object_encryption_enc".into(),
                e.enc.as_str().into(),
            );
        }
        Ok(Self {
            request_objects: RequestObjectRule::from_registration(&reg)?,
            jarm: None,
        })
    }

    /// Applies them to a relying party being built: request objects signed with `key` (the
    /// provider's private_key_jwt key, or `--private-key`).
    pub fn apply(
        self,
        mut b: RelyingPartyBuilder,
        key: Option<&SigningKey>,
        metadata: &ProviderMetadata,
    ) -> anyhow::Result<RelyingPartyBuilder> {
        if let Some(signer) = self
            .request_objects
            .signer(key, metadata)
            .context("signed request objects need the client's private key (private_key_jwt)")?
        {
            b = b.request_objects(signer);
            // OIDC Core §6.1: signed (or unsigned), then encrypted to the OP.
            if let Some(algs) = self.request_objects.encryption {
                b = b.request_object_encryption(algs);
            }
        }
        if let Some((rule, keys)) = self.jarm {
            b = b.jarm(rule, keys);
        }
        Ok(b)
    }
}
