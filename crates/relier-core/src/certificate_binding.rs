//! Certificate-bound access tokens (RFC 8705 §3): with `tls_client_certificate_bound_access_tokens`
//! registered, the token, refresh, UserInfo and revocation requests all go to the
//! `mtls_endpoint_aliases` (§5) with the client certificate, and a `cnf` confirmation that the OP
//! returns must name that certificate: `x5t#S256` = base64url(SHA-256(DER)) (§3.1).

use aws_lc_rs::digest;
use relier_jose::b64;
use serde_json::{Map, Value};

use crate::http::HttpResponse;

/// Why a certificate binding was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// A `cnf` whose `x5t#S256` is not the client certificate's (RFC 8705 §3.1).
    #[error("{source_of}: cnf x5t#S256 does not match the client certificate (RFC 8705 §3.1)")]
    Mismatch {
        /// Where the `cnf` came from: `token response` or `ID token`.
        source_of: &'static str,
    },
    /// A `cnf` that is not an object with a string `x5t#S256`.
    #[error("{source_of}: cnf is malformed (RFC 8705 §3.1 wants an object with x5t#S256)")]
    Malformed {
        /// Where the `cnf` came from.
        source_of: &'static str,
    },
}

/// RFC 8705 §3.1: the `x5t#S256` of a DER certificate.
pub fn x5t_s256(certificate_der: &[u8]) -> String {
    b64::encode(digest::digest(&digest::SHA256, certificate_der).as_ref())
}

/// Check the `cnf` member of a JSON object (token response body or ID token claims) against
/// the client certificate's thumbprint. An absent `cnf`, or one without `x5t#S256` (e.g. a DPoP
/// `jkt` only), passes: the OP binds the token whether or not it says so.
///
/// # Errors
/// [`BindingError`].
pub fn check_cnf(
    source_of: &'static str,
    object: &Map<String, Value>,
    expected_x5t_s256: &str,
) -> Result<(), BindingError> {
    let Some(cnf) = object.get("cnf") else {
        return Ok(());
    };
    let cnf = cnf
        .as_object()
        .ok_or(BindingError::Malformed { source_of })?;
    match cnf.get("x5t#S256") {
        None => Ok(()),
        Some(Value::String(got)) if got == expected_x5t_s256 => Ok(()),
        Some(Value::String(_)) => Err(BindingError::Mismatch { source_of }),
        Some(_) => Err(BindingError::Malformed { source_of }),
    }
}

/// [`check_cnf`] on a token endpoint response body (a body that is not a JSON object has no
/// `cnf` to check; the token parser refuses it on its own).
///
/// # Errors
/// [`BindingError`].
pub fn check_token_response(
    resp: &HttpResponse,
    expected_x5t_s256: &str,
) -> Result<(), BindingError> {
    match serde_json::from_slice::<Map<String, Value>>(&resp.body) {
        Ok(body) => check_cnf("token response", &body, expected_x5t_s256),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cnf_must_name_the_certificate() {
        let der = b"not really DER, any bytes hash the same way";
        let mine = x5t_s256(der);
        assert_eq!(mine.len(), 43);
        let obj = |v: Value| v.as_object().unwrap().clone();
        // RFC 8705 §3.1 example shape.
        assert!(check_cnf("ID token", &obj(json!({"cnf": {"x5t#S256": mine}})), &mine).is_ok());
        assert!(check_cnf("ID token", &obj(json!({"sub": "a"})), &mine).is_ok());
        assert!(check_cnf("ID token", &obj(json!({"cnf": {"jkt": "x"}})), &mine).is_ok());
        assert!(matches!(
            check_cnf(
                "ID token",
                &obj(json!({"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}})),
                &mine
            ),
            Err(BindingError::Mismatch { .. })
        ));
        for bad in [json!({"cnf": "x"}), json!({"cnf": {"x5t#S256": 5}})] {
            assert!(matches!(
                check_cnf("ID token", &obj(bad), &mine),
                Err(BindingError::Malformed { .. })
            ));
        }
        let resp = HttpResponse::json(
            200,
            &json!({"access_token": "a", "cnf": {"x5t#S256": "zz"}}).to_string(),
        );
        assert!(check_token_response(&resp, &mine).is_err());
        assert!(check_token_response(&HttpResponse::json(200, "[]"), &mine).is_ok());
    }
}
