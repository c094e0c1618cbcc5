//! DPoP's untrusted server input (RFC 9449 §7.1, §8, §9): the `WWW-Authenticate` parser
//! (`dpop::parse_www_authenticate`, `dpop::dpop_challenge`), the nonce demand check
//! (`dpop::nonce_demanded` on a 401 with the fuzzed header and a 400 with the fuzzed body) and
//! the `DPoP-Nonce` syntax check (`DpopNonce::new`).
//!
//! Invariants: input over the cap is refused; at most `MAX_CHALLENGES` challenges of at most
//! `MAX_PARAMS` parameters, names lower-case and unique per challenge; `dpop_challenge` finds a
//! challenge exactly when one has the scheme DPoP; a 401 demand implies a DPoP challenge with
//! `error` `use_dpop_nonce`; an accepted nonce is 1..=MAX_NONCE_BYTES NQCHARs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::dpop::{
    self, ChallengeError, DpopNonce, MAX_CHALLENGES, MAX_HEADER_BYTES, MAX_NONCE_BYTES, MAX_PARAMS,
    Server,
};
use relier_core::http::HttpResponse;

fuzz_target!(|data: &[u8]| {
    let resp = |status, www: Option<String>| HttpResponse {
        status,
        content_type: Some("application/json".into()),
        www_authenticate: www,
        cache_control: None,
        body: data.to_vec(),
    };
    // A 400 body asking for a nonce is JSON with error use_dpop_nonce.
    if dpop::nonce_demanded(Server::Authorization, &resp(400, None)) {
        let v: serde_json::Value = serde_json::from_slice(data).expect("demand is JSON");
        assert_eq!(v["error"], "use_dpop_nonce");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match dpop::parse_www_authenticate(text) {
        Ok(all) => {
            assert!(text.len() <= MAX_HEADER_BYTES);
            assert!(all.len() <= MAX_CHALLENGES);
            for c in &all {
                assert!(!c.scheme.is_empty());
                assert!(c.params.len() <= MAX_PARAMS);
                for (i, (name, _)) in c.params.iter().enumerate() {
                    assert_eq!(*name, name.to_ascii_lowercase());
                    assert!(c.params.iter().skip(i + 1).all(|(n, _)| n != name));
                }
            }
            let found = dpop::dpop_challenge(text).expect("parses twice alike");
            assert_eq!(
                found.is_some(),
                all.iter().any(|c| c.scheme.eq_ignore_ascii_case("DPoP"))
            );
            if dpop::nonce_demanded(Server::Resource, &resp(401, Some(text.to_owned()))) {
                assert_eq!(
                    found.and_then(|c| c.error).as_deref(),
                    Some(dpop::USE_DPOP_NONCE)
                );
            }
        }
        Err(e) => {
            if text.len() > MAX_HEADER_BYTES {
                assert!(matches!(e, ChallengeError::TooLong { .. }));
            }
            assert!(!dpop::nonce_demanded(
                Server::Resource,
                &resp(401, Some(text.to_owned()))
            ));
            let _ = e.to_string();
        }
    }
    if let Ok(n) = DpopNonce::new(text) {
        let s = n.as_str();
        assert!(!s.is_empty() && s.len() <= MAX_NONCE_BYTES);
        assert!(
            s.bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        );
    }
});
