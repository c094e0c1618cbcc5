//! What a stored provider's registration decides, typed: [`ProviderRecord::registered`] reads
//! the stored registration response once into a [`Registration`] (client authentication, ID
//! token and UserInfo signing and encryption, request objects, JARM, PAR, sender-constrained
//! tokens, redirect URIs), with the record's own columns for what a provider added by hand has
//! no registration response for.

use relier_core::registration::Registration;
use relier_jose::Algorithm;
use serde_json::Value;

use crate::error::StoreError;
use crate::model::ProviderRecord;

impl ProviderRecord {
    /// The registration, typed: the stored registration response's members (RFC 7591 §2
    /// defaults for those it lacks), with the record's method, client assertion algorithm,
    /// redirect URIs and pinned ID token algorithm.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] naming the member relier cannot use (an unknown or refused
    /// algorithm, a member of the wrong type), or when `id_token_alg` `none` is not what the
    /// registration says ([`Self::pinned_id_token_alg`]).
    pub fn registered(&self) -> Result<Registration, StoreError> {
        let mut r = match &self.registration {
            Some(Value::Object(m)) => Registration::from_metadata(m).map_err(|e| invalid(&e))?,
            _ => Registration::default(),
        };
        r.auth_method = self.auth_method;
        r.auth_signing_alg = self.signing_alg;
        r.redirect_uris.clone_from(&self.redirect_uris);
        r.id_token_signed_alg = self.pinned_id_token_alg()?;
        Ok(r)
    }

    /// The ID token algorithm to pin: `id_token_alg`, which may be `none` (unsigned ID tokens,
    /// OIDC Core §2) only when the stored registration's `id_token_signed_response_alg` says
    /// `none` too — a hand-added provider has only `id_token_alg`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the two disagree about `none`.
    pub fn pinned_id_token_alg(&self) -> Result<Option<Algorithm>, StoreError> {
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

fn invalid(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        what: "registration",
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use relier_core::AuthMethod;
    use relier_core::encryption::ResponseEncryption;
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
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
        r.registration = Some(json!({"id_token_signed_response_alg": "none"}));
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::None));
        assert_eq!(
            r.registered().unwrap().id_token_signed_alg,
            Some(Algorithm::None)
        );
        r.registration = Some(json!({"id_token_signed_response_alg": "RS256"}));
        assert!(r.pinned_id_token_alg().is_err());
        assert!(r.registered().is_err());
        r.registration = Some(json!({}));
        assert!(r.pinned_id_token_alg().is_err());
        r.id_token_alg = Some(Algorithm::RS256);
        r.registration = Some(json!({"id_token_signed_response_alg": "none"}));
        assert!(r.pinned_id_token_alg().is_err());
        r.registration = Some(json!({"id_token_signed_response_alg": "RS256"}));
        assert_eq!(r.pinned_id_token_alg().unwrap(), Some(Algorithm::RS256));
    }

    #[test]
    fn the_registration_decides_and_the_record_columns_fill_in() {
        let r = record(json!({
            "id_token_encrypted_response_alg": "RSA-OAEP-256",
            "id_token_encrypted_response_enc": "A256GCM",
            "userinfo_encrypted_response_alg": "ECDH-ES",
            "userinfo_signed_response_alg": "ES256",
            "request_object_signing_alg": "PS256",
            "require_signed_request_object": true,
            "authorization_signed_response_alg": "ES256",
            "require_pushed_authorization_requests": true,
            "dpop_bound_access_tokens": true,
        }));
        let reg = r.registered().unwrap();
        assert_eq!(
            reg.id_token_encryption,
            Some(ResponseEncryption::new(
                KeyManagementAlg::RsaOaep256,
                ContentEncAlg::A256Gcm
            ))
        );
        assert_eq!(
            reg.userinfo_encryption.map(|e| e.enc),
            Some(ContentEncAlg::A128CbcHs256)
        );
        assert_eq!(reg.userinfo_signed_alg, Some(Algorithm::ES256));
        assert_eq!(
            (reg.request_objects.alg, reg.request_objects.required),
            (Some(Algorithm::PS256), true)
        );
        assert_eq!(reg.jarm.map(|j| j.alg), Some(Algorithm::ES256));
        assert!(reg.requires_par && reg.binding.dpop);
        // The method is the record's (a hand-added provider has no registration response).
        assert_eq!(reg.auth_method, AuthMethod::PrivateKeyJwt);
        let plain = ProviderRecord::new("op", "https://op", "c", AuthMethod::None).registered();
        let plain = plain.unwrap();
        assert_eq!(plain.auth_method, AuthMethod::None);
        assert_eq!(plain.id_token_encryption, None);
        assert!(!plain.requires_par);
    }

    #[test]
    fn an_unusable_member_is_named() {
        for (reg, member) in [
            (
                json!({"id_token_encrypted_response_alg": "RSA1_5"}),
                "id_token_encrypted_response_alg",
            ),
            (
                json!({"userinfo_signed_response_alg": "none"}),
                "userinfo_signed_response_alg",
            ),
            (
                json!({"tls_client_certificate_bound_access_tokens": 1}),
                "tls_client_certificate_bound_access_tokens",
            ),
            (
                json!({"require_pushed_authorization_requests": "yes"}),
                "require_pushed_authorization_requests",
            ),
            (
                json!({"request_object_signing_alg": "HS256"}),
                "request_object_signing_alg",
            ),
        ] {
            let e = record(reg).registered().unwrap_err().to_string();
            assert!(e.contains(member), "{e}");
        }
    }
}
