//! OpenID Provider metadata (OIDC Discovery §3–4): `ProviderMetadata::from_json`.
//!
//! Invariants on success: the issuer is exactly the expected one, every endpoint lookup works,
//! and the typed document survives a serialize → parse round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::ProviderMetadata;
use relier_core::discovery::Endpoint;
use relier_fuzz::{ISSUER, issuer};

const ENDPOINTS: [Endpoint; 5] = [
    Endpoint::Token,
    Endpoint::Revocation,
    Endpoint::Introspection,
    Endpoint::UserInfo,
    Endpoint::PushedAuthorization,
];

fuzz_target!(|data: &[u8]| {
    let expected = issuer();
    let Ok(md) = ProviderMetadata::from_json(&expected, data) else {
        return;
    };
    // OIDC Discovery §4.3: the document's issuer is the one it was fetched for.
    assert_eq!(md.issuer.as_str(), ISSUER);
    assert_eq!(md.raw.get("issuer").and_then(|v| v.as_str()), Some(ISSUER));
    assert!(!md.token_auth_methods().is_empty());
    for kind in ENDPOINTS {
        let _ = kind.member();
        let plain = md.endpoint(kind, false);
        let mtls = md.endpoint(kind, true);
        // Without an alias the mTLS lookup falls back to the plain endpoint.
        if plain.is_some() {
            assert!(mtls.is_some());
        }
    }
    // What relier accepted it must be able to write back and accept again, identically.
    let Ok(json) = serde_json::to_vec(&md) else {
        panic!("accepted metadata does not serialize");
    };
    let again = match ProviderMetadata::from_json(&expected, &json) {
        Ok(m) => m,
        Err(e) => panic!("re-serialized metadata is refused: {e}"),
    };
    assert_eq!(
        serde_json::to_value(&md).ok(),
        serde_json::to_value(&again).ok()
    );
});
