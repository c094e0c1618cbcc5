//! ID token validation (OIDC Core §3.1.3.7): `IdTokenValidator::validate` with the fixed key set.
//!
//! Real signatures cannot be forged by a fuzzer, so besides the signed validators (one per
//! asymmetric algorithm family, and HS256 with the client secret) a validator of a client that
//! registered `none` runs too, on tokens stated to come from the token endpoint over TLS: it
//! reaches the claims parsing and every claims check with arbitrary claims. Invariants on success: iss, aud, azp, exp, iat, nonce and auth_time obey
//! the rules the validator was configured with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relier_core::id_token::{Expectations, IdTokenAlg, IdTokenSource, IdTokenValidator};
use relier_core::{Algorithm, Nonce, Secret, UnixTime, VerifiedIdToken};
use relier_fuzz::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, ISSUER, KEYS, NONCE, NOW, TRUSTED_AUDIENCE, client_id,
    issuer,
};

const SIGNED: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

const SKEW: u64 = 60;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys = &KEYS.set;
    let secret = Secret::new(CLIENT_SECRET);
    for alg in SIGNED {
        let v = IdTokenValidator::new(issuer(), client_id())
            .with_alg(alg)
            .with_client_secret(&secret);
        let r = v.validate(token, keys, &Expectations::default(), UnixTime(NOW));
        if let Ok(t) = r {
            check(&t, alg, NOW, &Expectations::default());
        }
    }

    let nonce = match Nonce::from_stored(NONCE) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    let access = Secret::new(ACCESS_TOKEN);
    let unsigned = IdTokenValidator::new(issuer(), client_id())
        .with_registered_alg(IdTokenAlg::registered(Algorithm::None))
        .with_trusted_audiences(vec![TRUSTED_AUDIENCE.to_owned()]);
    let source = IdTokenSource::token_endpoint(&format!("{ISSUER}/token"));
    let minimal = Expectations {
        source,
        ..Default::default()
    };
    let full = Expectations {
        nonce: Some(&nonce),
        max_age: Some(600),
        access_token: Some(&access),
        source,
    };
    for expect in [minimal, full] {
        for now in [0, NOW, u64::MAX] {
            if let Ok(t) = unsigned.validate(token, keys, &expect, UnixTime(now)) {
                check(&t, Algorithm::None, now, &expect);
                // A refresh that returns the very same token is accepted (OIDC Core §12.2):
                // it checks a subset of the above and nothing can have changed.
                let again = unsigned.validate_refreshed(
                    token,
                    keys,
                    t.claims(),
                    expect.access_token,
                    source,
                    UnixTime(now),
                );
                if let Err(e) = again {
                    panic!("refresh with the same token refused: {e}");
                }
            }
        }
    }
    // Unsigned tokens are refused without a none registration, and under one from anywhere
    // but the token endpoint.
    let strict = IdTokenValidator::new(issuer(), client_id()).with_alg(Algorithm::None);
    assert!(
        strict
            .validate(token, keys, &minimal, UnixTime(NOW))
            .is_err()
    );
    assert!(
        unsigned
            .validate(token, keys, &Expectations::default(), UnixTime(NOW))
            .is_err()
    );
});

fn check(t: &VerifiedIdToken, alg: Algorithm, now: u64, expect: &Expectations<'_>) {
    let c = t.claims();
    assert_eq!(t.alg(), alg);
    // The full claims are parsed on demand: they may be refused, but when parsed they agree
    // with the typed registered claims.
    if let Ok(all) = c.all() {
        assert_eq!(
            all.get("iss").and_then(|v| v.as_str()),
            Some(c.iss.as_str())
        );
        assert_eq!(
            all.get("sub").and_then(|v| v.as_str()),
            Some(c.sub.as_str())
        );
    }
    assert_eq!(c.iss, ISSUER);
    assert!(c.aud.iter().any(|a| a == CLIENT_ID));
    assert!(
        c.aud
            .iter()
            .all(|a| a == CLIENT_ID || (alg == Algorithm::None && a == TRUSTED_AUDIENCE))
    );
    if c.aud.len() > 1 {
        assert_eq!(c.azp.as_deref(), Some(CLIENT_ID));
    }
    if let Some(azp) = &c.azp {
        assert_eq!(azp, CLIENT_ID);
    }
    assert!(!c.sub.is_empty() && c.sub.len() <= 255);
    assert!(now < c.exp.saturating_add(SKEW), "expired token accepted");
    assert!(c.iat <= now.saturating_add(SKEW), "future iat accepted");
    if expect.nonce.is_some() {
        assert_eq!(c.nonce.as_deref(), Some(NONCE));
    }
    if let Some(max_age) = expect.max_age {
        let Some(auth_time) = c.auth_time else {
            panic!("max_age sent but auth_time missing");
        };
        assert!(now <= auth_time.saturating_add(max_age).saturating_add(SKEW));
    }
}
