//! What a stored registration says about the authorization request and response: signed
//! request objects (RFC 9101: `request_object_signing_alg`, `require_signed_request_object`)
//! JARM (`authorization_signed_response_alg`, `authorization_encrypted_response_*`) and
//! pushed authorization requests (`require_pushed_authorization_requests`, RFC 9126 §6).

use relier_core::jarm::JarmRule;
use relier_core::request_object::RequestObjectRule;
use serde_json::Value;

use crate::error::StoreError;
use crate::model::ProviderRecord;

impl ProviderRecord {
    /// The registered request object rule (all off without a registration).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a member of the wrong type, an unknown algorithm, `none` or
    /// a MAC.
    pub fn request_object_rule(&self) -> Result<RequestObjectRule, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(RequestObjectRule::default());
        };
        RequestObjectRule::from_registration(reg).map_err(|e| invalid(&e))
    }

    /// The registered JARM rule; `None` when the registration asks for no JARM response.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a member of the wrong type, an unknown algorithm or `none`.
    pub fn jarm_rule(&self) -> Result<Option<JarmRule>, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(None);
        };
        JarmRule::from_registration(reg).map_err(|e| invalid(&e))
    }
}

impl ProviderRecord {
    /// The client's registered `require_pushed_authorization_requests` (RFC 9126 §6): the OP
    /// accepts this client's authorization requests only pushed. False without a registration.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the member is not a boolean.
    pub fn requires_par(&self) -> Result<bool, StoreError> {
        let Some(Value::Object(reg)) = &self.registration else {
            return Ok(false);
        };
        match reg.get(PAR_MEMBER) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(invalid(&format_args!("{PAR_MEMBER} is not a boolean"))),
        }
    }
}

/// RFC 9126 §6 client metadata.
const PAR_MEMBER: &str = "require_pushed_authorization_requests";

fn invalid(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        what: "registration",
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use relier_core::AuthMethod;
    use relier_jose::Algorithm;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_registration_decides() {
        let mut r = ProviderRecord::new("op", "https://op", "c", AuthMethod::PrivateKeyJwt);
        assert_eq!(
            r.request_object_rule().unwrap(),
            RequestObjectRule::default()
        );
        assert_eq!(r.jarm_rule().unwrap(), None);
        r.registration = Some(json!({
            "request_object_signing_alg": "PS256",
            "require_signed_request_object": true,
            "authorization_signed_response_alg": "ES256",
        }));
        let jar = r.request_object_rule().unwrap();
        assert_eq!((jar.alg, jar.required), (Some(Algorithm::PS256), true));
        assert_eq!(
            r.jarm_rule().unwrap().map(|j| j.alg),
            Some(Algorithm::ES256)
        );
        r.registration = Some(json!({"request_object_signing_alg": "HS256",
            "authorization_signed_response_alg": "none"}));
        assert!(r.request_object_rule().is_err());
        assert!(r.jarm_rule().is_err());
    }

    #[test]
    fn par_required_by_the_registration() {
        let mut r = ProviderRecord::new("op", "https://op", "c", AuthMethod::PrivateKeyJwt);
        assert!(!r.requires_par().unwrap());
        r.registration = Some(json!({"require_pushed_authorization_requests": true}));
        assert!(r.requires_par().unwrap());
        r.registration = Some(json!({"require_pushed_authorization_requests": false}));
        assert!(!r.requires_par().unwrap());
        r.registration = Some(json!({"require_pushed_authorization_requests": "yes"}));
        let e = r.requires_par().unwrap_err().to_string();
        assert!(e.contains("require_pushed_authorization_requests"), "{e}");
    }
}
