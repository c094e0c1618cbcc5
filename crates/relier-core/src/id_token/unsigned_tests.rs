//! Unsigned ID tokens (OIDC Core §2, §3.1.3.7 (6)): accepted only under a `none` registration
//! ([`IdTokenAlg::registered`]) for a token the caller states came from the token endpoint over
//! TLS ([`IdTokenSource::token_endpoint`]); every other check unchanged; never for logout tokens
//! or signed UserInfo. The OpenID Foundation module: `oidcc-client-test-idtoken-sig-none`.

use super::*;
use crate::http::HttpResponse;
use crate::logout::{BACKCHANNEL_LOGOUT_EVENT, LogoutTokenError, validate_logout_token};
use crate::userinfo::{self, SignedUserInfo, UserInfoError};
use aws_lc_rs::rand::SystemRandom;
use relier_jose::{SigningKey, jws};
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://op.example.com";

fn validator(alg: IdTokenAlg) -> IdTokenValidator {
    IdTokenValidator::new(
        IssuerUrl::new(ISSUER).unwrap(),
        ClientId::new("rp").unwrap(),
    )
    .with_registered_alg(alg)
}

fn none() -> IdTokenValidator {
    validator(IdTokenAlg::registered(Algorithm::None))
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "alice", "aud": "rp", "exp": NOW + 300, "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
    })
}

fn unsigned(claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        relier_jose::b64::encode(br#"{"alg":"none"}"#),
        relier_jose::b64::encode(claims.to_string().as_bytes())
    )
}

fn rs256() -> (SigningKey, KeySet) {
    let key = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("k1");
    let keys = KeySet::from_keys(vec![key.verifying_key().unwrap()]);
    (key, keys)
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    jws::sign_compact(
        &jws::Header::default(),
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

fn tls() -> IdTokenSource {
    IdTokenSource::token_endpoint("https://op.example.com/token")
}

fn validate(
    v: &IdTokenValidator,
    token: &str,
    keys: &KeySet,
    source: IdTokenSource,
) -> Result<VerifiedIdToken, IdTokenError> {
    let nonce = Nonce::from_stored("n-0S6_WzA2Mj").unwrap();
    let expect = Expectations {
        nonce: Some(&nonce),
        source,
        ..Default::default()
    };
    v.validate(token, keys, &expect, UnixTime(NOW))
}

#[test]
fn oidcc_client_test_idtoken_sig_none_accepted_with_the_typed_opt_in() {
    let t = validate(&none(), &unsigned(&claims(), ""), &KeySet::empty(), tls()).unwrap();
    assert_eq!(t.claims().sub, "alice");
    assert_eq!(t.alg(), Algorithm::None);
    // loopback http is TLS's stand-in for a test OP
    let loopback = IdTokenSource::token_endpoint("http://127.0.0.1:9/token");
    assert!(
        validate(
            &none(),
            &unsigned(&claims(), ""),
            &KeySet::empty(),
            loopback
        )
        .is_ok()
    );
}

#[test]
fn unsigned_refused_unless_from_the_token_endpoint_over_tls() {
    for source in [
        IdTokenSource::Elsewhere,
        IdTokenSource::token_endpoint("http://op.example.com/token"),
    ] {
        let err = validate(&none(), &unsigned(&claims(), ""), &KeySet::empty(), source);
        assert!(
            matches!(err, Err(IdTokenError::UnsignedElsewhere)),
            "{err:?}"
        );
    }
    // A caller's token (validate_id_token) carries the default source.
    let err = none()
        .validate(
            &unsigned(&claims(), ""),
            &KeySet::empty(),
            &Expectations::default(),
            UnixTime(NOW),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: alg none is accepted only in a token endpoint response over TLS (OIDC Core §3.1.3.7 (6))"
    );
}

#[test]
fn unsigned_with_a_signature_part_refused() {
    for sig in ["AAAA", "c2lnbmF0dXJl"] {
        let err = validate(&none(), &unsigned(&claims(), sig), &KeySet::empty(), tls());
        assert!(
            matches!(err, Err(IdTokenError::Jwt(JwtError::UnsignedWithSignature))),
            "{err:?}"
        );
    }
}

#[test]
fn unsigned_refused_under_any_other_registration() {
    let token = unsigned(&claims(), "");
    for alg in Algorithm::ALL {
        // `Signed(None)` is no opt-in either.
        let v = validator(IdTokenAlg::Signed(alg));
        let err = validate(&v, &token, &KeySet::empty(), tls()).unwrap_err();
        assert!(
            matches!(err, IdTokenError::Jwt(JwtError::Unsigned)),
            "{alg}: {err:?}"
        );
    }
    // with_alg never opts in
    let v = validator(IdTokenAlg::default()).with_alg(Algorithm::None);
    assert!(validate(&v, &token, &KeySet::empty(), tls()).is_err());
}

#[test]
fn signed_refused_under_a_none_registration() {
    let (key, keys) = rs256();
    let err = validate(&none(), &sign(&key, &claims()), &keys, tls()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: alg mismatch: expected none, got RS256"
    );
    // …and the same token passes under RS256, so only the pin refused it.
    assert!(
        validate(
            &validator(IdTokenAlg::default()),
            &sign(&key, &claims()),
            &keys,
            tls()
        )
        .is_ok()
    );
}

#[test]
fn every_other_check_still_applies() {
    let cases: [(&str, Value, &str); 6] = [
        ("iss", json!("https://evil.example"), "iss mismatch"),
        ("aud", json!("other"), "aud mismatch"),
        ("azp", json!("other"), "azp mismatch"),
        ("exp", json!(NOW - 3600), "expired"),
        ("iat", json!(NOW + 3600), "in the future"),
        ("nonce", json!("n-other"), "nonce mismatch"),
    ];
    for (claim, value, message) in cases {
        let mut c = claims();
        c[claim] = value;
        let err = validate(&none(), &unsigned(&c, ""), &KeySet::empty(), tls()).unwrap_err();
        assert!(err.to_string().contains(message), "{claim}: {err}");
    }
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nonce");
    let err = validate(&none(), &unsigned(&c, ""), &KeySet::empty(), tls()).unwrap_err();
    assert!(matches!(err, IdTokenError::MissingNonce), "{err:?}");
    // §3.1.3.6 takes at_hash's hash from the alg: none has none, so an at_hash never matches.
    let mut c = claims();
    c["at_hash"] = json!("77QmUPtjPfzWtF2AnpK9RQ");
    let at = Secret::new("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
    let nonce = Nonce::from_stored("n-0S6_WzA2Mj").unwrap();
    let expect = Expectations {
        nonce: Some(&nonce),
        access_token: Some(&at),
        source: tls(),
        ..Default::default()
    };
    let err = none()
        .validate(&unsigned(&c, ""), &KeySet::empty(), &expect, UnixTime(NOW))
        .unwrap_err();
    assert!(matches!(err, IdTokenError::AtHashMismatch), "{err:?}");
}

#[test]
fn refreshed_unsigned_only_from_the_token_endpoint() {
    let original = validate(&none(), &unsigned(&claims(), ""), &KeySet::empty(), tls()).unwrap();
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nonce");
    let token = unsigned(&c, "");
    let refresh = |source| {
        none().validate_refreshed(
            &token,
            &KeySet::empty(),
            original.claims(),
            None,
            source,
            UnixTime(NOW),
        )
    };
    assert!(refresh(tls()).is_ok());
    assert!(matches!(
        refresh(IdTokenSource::Elsewhere),
        Err(IdTokenError::UnsignedElsewhere)
    ));
}

#[test]
fn logout_tokens_never_unsigned() {
    let claims = json!({
        "iss": ISSUER, "aud": "rp", "iat": NOW, "jti": "j1", "sid": "s1",
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} }
    });
    let cid = ClientId::new("rp").unwrap();
    let (key, keys) = rs256();
    for token in [unsigned(&claims, ""), sign(&key, &claims)] {
        let err = validate_logout_token(&token, &none(), &cid, &keys, UnixTime(NOW)).unwrap_err();
        assert!(matches!(err, LogoutTokenError::Jwt(_)), "{err:?}");
    }
    let rs = validator(IdTokenAlg::default());
    let err =
        validate_logout_token(&unsigned(&claims, ""), &rs, &cid, &keys, UnixTime(NOW)).unwrap_err();
    assert!(
        matches!(err, LogoutTokenError::Jwt(JwtError::Unsigned)),
        "{err:?}"
    );
}

#[test]
fn signed_userinfo_never_unsigned() {
    let v = none();
    let issuer = IssuerUrl::new(ISSUER).unwrap();
    let cid = ClientId::new("rp").unwrap();
    let body = unsigned(&json!({"sub": "alice", "iss": ISSUER, "aud": "rp"}), "");
    let resp = HttpResponse {
        status: 200,
        content_type: Some("application/jwt".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.into_bytes(),
    };
    for required in [false, true] {
        let signed = SignedUserInfo {
            keys: &KeySet::empty(),
            policy: v.policy(),
            required,
            issuer: &issuer,
            client_id: &cid,
            decryptor: None,
        };
        let err = userinfo::parse(&resp, "alice", &signed).unwrap_err();
        assert!(
            matches!(err, UserInfoError::Jwt(JwtError::Unsigned)),
            "{err:?}"
        );
    }
}
