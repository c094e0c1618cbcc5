//! What a stored registration says about encrypted and signed responses (OIDC Registration §2),
//! and the RP's decryption keys for it.

use relier_core::encryption::{EncryptedResponse, ResponseEncryption};
use relier_jose::Algorithm;
use relier_jose::jwe::DecryptionKeys;
use serde_json::Value;

use crate::error::StoreError;
use crate::model::ProviderRecord;
use crate::store::KeyStore;

impl ProviderRecord {
    /// The registered `id_token_encrypted_response_*` or `userinfo_encrypted_response_*`
    /// (`enc` defaulting to A128CBC-HS256); `None` when the registration has none.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the registration names an algorithm relier cannot decrypt.
    pub fn response_encryption(
        &self,
        which: EncryptedResponse,
    ) -> Result<Option<ResponseEncryption>, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(None);
        };
        ResponseEncryption::from_registration(reg, which).map_err(|e| StoreError::Invalid {
            what: "registration",
            reason: e.to_string(),
        })
    }

    /// The registered `userinfo_signed_response_alg` (a signed UserInfo response is then
    /// required); `None` when absent.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown algorithm or `none`.
    pub fn userinfo_signed_alg(&self) -> Result<Option<Algorithm>, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(None);
        };
        let invalid = |reason: String| StoreError::Invalid {
            what: "registration",
            reason,
        };
        match reg.get("userinfo_signed_response_alg") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => match s.parse::<Algorithm>() {
                Ok(Algorithm::None) => Err(invalid(
                    "userinfo_signed_response_alg \"none\" is not accepted".into(),
                )),
                Ok(alg) => Ok(Some(alg)),
                Err(_) => Err(invalid(format!(
                    "userinfo_signed_response_alg: unknown algorithm {:?}",
                    s.chars().take(32).collect::<String>()
                ))),
            },
            Some(_) => Err(invalid(
                "userinfo_signed_response_alg is not a string".into(),
            )),
        }
    }

    /// The ID token algorithm to pin: [`Self::id_token_alg`], which must agree with the
    /// registration response's `id_token_signed_response_alg` when either is `none` — unsigned
    /// ID tokens only when the client explicitly registered them (OIDC Core §2). A record
    /// without a registration response (a client registered by hand) is taken at its word.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when one says `none` and the other does not.
    pub fn pinned_id_token_alg(&self) -> Result<Option<Algorithm>, StoreError> {
        // OIDC Registration §2: an absent id_token_signed_response_alg means RS256.
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(self.id_token_alg);
        };
        let registered = reg.get("id_token_signed_response_alg");
        let says_none = registered.and_then(Value::as_str) == Some("none");
        if (self.id_token_alg == Some(Algorithm::None)) != says_none {
            return Err(StoreError::Invalid {
                what: "registration",
                reason: format!(
                    "id_token_alg {} disagrees with the registered id_token_signed_response_alg {}: `none` needs both",
                    self.id_token_alg.map_or("(unset)", |a| a.as_str()),
                    registered
                        .map_or_else(|| "(absent: RS256)".to_owned(), Value::to_string)
                        .chars()
                        .take(32)
                        .collect::<String>()
                ),
            });
        }
        Ok(self.id_token_alg)
    }
}

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

#[cfg(test)]
mod tests {
    use relier_core::AuthMethod;
    use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg};
    use serde_json::json;

    use super::*;

    fn record(reg: Value) -> ProviderRecord {
        let mut r = ProviderRecord::new("op", "https://op", "c", AuthMethod::PrivateKeyJwt);
        r.registration = Some(reg);
        r
    }

    #[test]
    fn id_token_alg_none_needs_the_registration_to_agree() {
        let mut r = ProviderRecord::new("op", "https://op.example.com", "rp", AuthMethod::None);
        r.id_token_alg = Some(Algorithm::None);
        // registered by hand: taken at its word
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
        r.registration = Some(json!({"id_token_signed_response_alg": "none"}));
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
        r.registration = Some(json!({"id_token_signed_response_alg": "RS256"}));
        assert!(r.pinned_id_token_alg().is_err());
        r.registration = Some(json!({}));
        assert!(r.pinned_id_token_alg().is_err());
        // the registration pins none: a record saying RS256 is refused, not trusted
        r.id_token_alg = Some(Algorithm::RS256);
        r.registration = Some(json!({"id_token_signed_response_alg": "none"}));
        assert!(r.pinned_id_token_alg().is_err());
        r.registration = Some(json!({"id_token_signed_response_alg": "RS256"}));
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::RS256));
    }

    #[test]
    fn registration_drives_encryption_and_signed_userinfo() {
        let r = record(json!({
            "id_token_encrypted_response_alg": "RSA-OAEP-256",
            "id_token_encrypted_response_enc": "A256GCM",
            "userinfo_encrypted_response_alg": "ECDH-ES",
            "userinfo_signed_response_alg": "ES256",
        }));
        assert_eq!(
            r.response_encryption(EncryptedResponse::IdToken).unwrap(),
            Some(ResponseEncryption::new(
                KeyManagementAlg::RsaOaep256,
                ContentEncAlg::A256Gcm
            ))
        );
        assert_eq!(
            r.response_encryption(EncryptedResponse::UserInfo)
                .unwrap()
                .map(|e| e.enc),
            Some(ContentEncAlg::A128CbcHs256)
        );
        assert_eq!(r.userinfo_signed_alg().unwrap(), Some(Algorithm::ES256));
        let none = ProviderRecord::new("op", "https://op", "c", AuthMethod::PrivateKeyJwt);
        assert_eq!(
            none.response_encryption(EncryptedResponse::IdToken)
                .unwrap(),
            None
        );
        assert_eq!(none.userinfo_signed_alg().unwrap(), None);
        let bad = record(json!({"id_token_encrypted_response_alg": "RSA1_5",
            "userinfo_signed_response_alg": "none"}));
        assert!(bad.response_encryption(EncryptedResponse::IdToken).is_err());
        assert!(bad.userinfo_signed_alg().is_err());
    }
}
