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
