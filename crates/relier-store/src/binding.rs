//! What a stored registration says about sender-constrained access tokens: DPoP (RFC 9449
//! §5.2) and certificate binding (RFC 8705 §3.4).

use relier_core::token_binding::TokenBinding;
use serde_json::Value;

use crate::error::StoreError;
use crate::model::ProviderRecord;

impl ProviderRecord {
    /// The registered `dpop_bound_access_tokens` and
    /// `tls_client_certificate_bound_access_tokens` (both false without a registration).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when a member is not a boolean.
    pub fn token_binding(&self) -> Result<TokenBinding, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(TokenBinding::default());
        };
        TokenBinding::from_registration(reg).map_err(|e| StoreError::Invalid {
            what: "registration",
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relier_core::AuthMethod;

    #[test]
    fn from_the_registration() {
        let mut r = ProviderRecord::new("op", "https://op.example.com", "rp", AuthMethod::None);
        assert_eq!(r.token_binding().unwrap(), TokenBinding::default());
        r.registration = Some(serde_json::json!({"dpop_bound_access_tokens": true}));
        assert!(r.token_binding().unwrap().dpop);
        r.registration = Some(serde_json::json!({"tls_client_certificate_bound_access_tokens": 1}));
        assert!(r.token_binding().is_err());
    }
}
