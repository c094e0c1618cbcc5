//! Which sender constraint a client registered for its access tokens: DPoP
//! (`dpop_bound_access_tokens`, RFC 9449 §5.2) and/or certificate binding
//! (`tls_client_certificate_bound_access_tokens`, RFC 8705 §3.4). Read from a registration
//! response, a stored registration or configuration keys of the same names.

use serde_json::{Map, Value};

/// RFC 9449 §5.2 client metadata.
pub const DPOP_MEMBER: &str = "dpop_bound_access_tokens";
/// RFC 8705 §3.4 client metadata.
pub const CERTIFICATE_MEMBER: &str = "tls_client_certificate_bound_access_tokens";

/// A registration member that is not a boolean.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenBindingError {
    /// Both members are booleans (RFC 9449 §5.2, RFC 8705 §3.4).
    #[error("registration: {member} is not a boolean")]
    NotABool {
        /// The member.
        member: &'static str,
    },
}

/// The sender constraints registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenBinding {
    /// `dpop_bound_access_tokens`: every token request carries a DPoP proof.
    pub dpop: bool,
    /// `tls_client_certificate_bound_access_tokens`: tokens are bound to the client certificate.
    pub certificate: bool,
}

impl TokenBinding {
    /// From registration metadata (absent or `null` means false).
    ///
    /// # Errors
    /// [`TokenBindingError::NotABool`].
    pub fn from_registration(reg: &Map<String, Value>) -> Result<Self, TokenBindingError> {
        let flag = |member: &'static str| match reg.get(member) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(TokenBindingError::NotABool { member }),
        };
        Ok(Self {
            dpop: flag(DPOP_MEMBER)?,
            certificate: flag(CERTIFICATE_MEMBER)?,
        })
    }

    /// Add the members that are on to a registration request.
    pub fn add_to(self, reg: &mut Map<String, Value>) {
        if self.dpop {
            reg.insert(DPOP_MEMBER.into(), Value::Bool(true));
        }
        if self.certificate {
            reg.insert(CERTIFICATE_MEMBER.into(), Value::Bool(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_read_and_written() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            TokenBinding::from_registration(&obj(json!({}))).unwrap(),
            TokenBinding::default()
        );
        let both = TokenBinding::from_registration(&obj(json!({
            "dpop_bound_access_tokens": true,
            "tls_client_certificate_bound_access_tokens": true,
        })))
        .unwrap();
        assert!(both.dpop && both.certificate);
        let mut reg = Map::new();
        both.add_to(&mut reg);
        assert_eq!(TokenBinding::from_registration(&reg).unwrap(), both);
        assert!(matches!(
            TokenBinding::from_registration(&obj(json!({"dpop_bound_access_tokens": "true"}))),
            Err(TokenBindingError::NotABool {
                member: DPOP_MEMBER
            })
        ));
    }
}
