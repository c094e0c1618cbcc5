//! Authorization responses (RFC 6749 §4.1.2, OIDC Core §3.1.2.5–6, RFC 9207 §2.4):
//! `CallbackParams::parse`, then `validate` against a fixed pending login, with and without
//! the OP advertising the `iss` parameter.
//!
//! Invariants on success: the query holds each of code/state/iss once, state is the one sent,
//! iss (when present, and always when advertised) is the issuer, there is no error, and the
//! returned code is the non-empty code received.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::authorize::CallbackParams;
use relier_fuzz::{ISSUER, STATE, issuer, pending_login};

fuzz_target!(|data: &[u8]| {
    let Ok(params) = CallbackParams::parse(data) else {
        return;
    };
    let _ = format!("{params:?}");
    let pending = pending_login();
    let issuer = issuer();
    let values = |name: &str| -> Vec<String> {
        url::form_urlencoded::parse(data)
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    assert_eq!(params.iss().map(str::to_owned), values("iss").pop());
    for iss_supported in [false, true] {
        let Ok(code) = params.clone().validate(&pending, &issuer, iss_supported) else {
            continue;
        };
        assert_eq!(values("state"), [STATE]);
        let code_values = values("code");
        assert_eq!(code_values.len(), 1);
        assert_eq!(Some(code.expose()), code_values.first().map(String::as_str));
        assert!(!code.expose().is_empty());
        assert!(values("error").is_empty());
        match values("iss").as_slice() {
            [] => assert!(!iss_supported, "missing iss accepted although advertised"),
            [iss] => assert_eq!(iss, ISSUER),
            _ => panic!("duplicate iss accepted"),
        }
    }
});
