//! Signed (and encrypted) request objects (RFC 9101, OIDC Core §6.1) for a client given on the
//! command line: `--request-object-signing-alg` and `--encrypt-request-object`, read as the
//! registration members of the same names.

use relier_core::request_object::RequestObjectRule;

/// The request object rule the flags state, checked as a registration of the same members is.
pub fn from_flags(
    alg: Option<relier_core::Algorithm>,
    encryption: Option<relier_core::ResponseEncryption>,
) -> anyhow::Result<RequestObjectRule> {
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
    Ok(RequestObjectRule::from_registration(&reg)?)
}
