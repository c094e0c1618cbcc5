//! One test per check of OIDC Core §3.1.3.7 / §3.1.3.8 / §12.2.

use super::*;
use aws_lc_rs::rand::SystemRandom;
use relier_jose::{SigningKey, jws};
use serde_json::json;

const NOW: u64 = 1_700_000_000;

struct Fixture {
    key: SigningKey,
    keys: KeySet,
    validator: IdTokenValidator,
    nonce: Nonce,
}

fn fixture() -> Fixture {
    let key = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("k1");
    let keys = KeySet::from_keys(vec![key.verifying_key().unwrap()]);
    let validator = IdTokenValidator::new(
        IssuerUrl::new("https://op.example.com").unwrap(),
        ClientId::new("rp").unwrap(),
    );
    let nonce = Nonce::from_stored("n-0S6_WzA2Mj").unwrap();
    Fixture {
        key,
        keys,
        validator,
        nonce,
    }
}

fn claims() -> Value {
    json!({
        "iss": "https://op.example.com",
        "sub": "alice",
        "aud": "rp",
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
    })
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

fn check(f: &Fixture, token: &str) -> Result<VerifiedIdToken, IdTokenError> {
    let expect = Expectations {
        nonce: Some(&f.nonce),
        ..Default::default()
    };
    f.validator.validate(token, &f.keys, &expect, UnixTime(NOW))
}

fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut c = claims();
    change(c.as_object_mut().unwrap());
    c
}

#[test]
fn valid_token_passes() {
    let f = fixture();
    let v = check(&f, &sign(&f.key, &claims())).unwrap();
    assert_eq!(v.claims().sub, "alice");
    assert_eq!(v.alg(), Algorithm::RS256);
}

#[test]
fn step2_iss_exact() {
    let f = fixture();
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                c.insert("iss".into(), json!("https://op.example.com/"));
            }),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: iss mismatch: expected https://op.example.com, got https://op.example.com/"
    );
}

#[test]
fn step3_aud() {
    let f = fixture();
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                c.insert("aud".into(), json!("someone-else"));
            }),
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, IdTokenError::AudienceMismatch { .. }),
        "{err}"
    );
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                c.remove("aud");
            }),
        ),
    )
    .unwrap_err();
    assert!(matches!(err, IdTokenError::MissingClaim { claim: "aud" }));
    // array with an untrusted extra audience
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                c.insert("aud".into(), json!(["rp", "other"]));
                c.insert("azp".into(), json!("rp"));
            }),
        ),
    )
    .unwrap_err();
    assert!(matches!(err, IdTokenError::UntrustedAudience { .. }));
}

#[test]
fn step4_5_azp() {
    let mut f = fixture();
    f.validator = f.validator.with_trusted_audiences(vec!["other".into()]);
    let two = |c: &mut Map<String, Value>| {
        c.insert("aud".into(), json!(["rp", "other"]));
    };
    assert!(matches!(
        check(&f, &sign(&f.key, &with(two))).unwrap_err(),
        IdTokenError::MissingAzp
    ));
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                two(c);
                c.insert("azp".into(), json!("other"));
            }),
        ),
    )
    .unwrap_err();
    assert!(matches!(err, IdTokenError::AzpMismatch { .. }));
    assert!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    two(c);
                    c.insert("azp".into(), json!("rp"));
                })
            )
        )
        .is_ok()
    );
}

#[test]
fn step6_signature() {
    let f = fixture();
    let token = sign(&f.key, &claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = sign(
        &f.key,
        &with(|c| {
            c.insert("sub".into(), json!("mallory"));
        }),
    );
    let other_payload = other.split('.').nth(1).unwrap();
    parts[1] = other_payload;
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        token.split('.').nth(2).unwrap()
    );
    let err = check(&f, &forged).unwrap_err();
    assert!(
        matches!(err, IdTokenError::Jwt(JwtError::InvalidSignature)),
        "{err}"
    );
    // signed by a key the OP never published, same kid
    let rogue = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("k1");
    let err = check(&f, &sign(&rogue, &claims())).unwrap_err();
    assert!(matches!(err, IdTokenError::Jwt(JwtError::InvalidSignature)));
    // unknown kid: refetchable
    let rogue = SigningKey::generate(Algorithm::RS256, None)
        .unwrap()
        .with_kid("k2");
    let err = check(&f, &sign(&rogue, &claims())).unwrap_err();
    assert!(err.is_refetchable());
}

#[test]
fn step7_alg_pinned() {
    let f = fixture();
    let es = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("k1");
    let err = check(&f, &sign(&es, &claims())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: alg mismatch: expected RS256, got ES256"
    );
}

#[test]
fn alg_none_rejected_without_a_none_registration() {
    let f = fixture();
    let header = relier_jose::b64::encode(br#"{"alg":"none"}"#);
    let payload = relier_jose::b64::encode(claims().to_string().as_bytes());
    let token = format!("{header}.{payload}.");
    let err = check(&f, &token).unwrap_err();
    assert_eq!(
        err.to_string(),
        "id_token: alg none: unsigned tokens are rejected"
    );
}

#[test]
fn alg_confusion_rs256_public_key_as_hs256_secret() {
    let f = fixture();
    let public = serde_json::to_vec(&f.key.public_jwk().unwrap()).unwrap();
    let hs = SigningKey::hmac(Algorithm::HS256, &public).unwrap();
    let err = check(&f, &sign(&hs, &claims())).unwrap_err();
    assert!(matches!(
        err,
        IdTokenError::Jwt(JwtError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn step8_hmac_with_client_secret() {
    let secret = Secret::new("a-client-secret-that-is-at-least-32-bytes");
    let mut f = fixture();
    f.validator = f
        .validator
        .with_alg(Algorithm::HS256)
        .with_client_secret(&secret);
    let hs = SigningKey::hmac(Algorithm::HS256, secret.expose().as_bytes()).unwrap();
    assert!(check(&f, &sign(&hs, &claims())).is_ok());
    let wrong = SigningKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap();
    assert!(matches!(
        check(&f, &sign(&wrong, &claims())).unwrap_err(),
        IdTokenError::Jwt(JwtError::InvalidSignature)
    ));
}

#[test]
fn step9_exp() {
    let f = fixture();
    let err = check(
        &f,
        &sign(
            &f.key,
            &with(|c| {
                c.insert("exp".into(), json!(NOW - 61));
            }),
        ),
    )
    .unwrap_err();
    assert!(matches!(err, IdTokenError::Expired { .. }));
    // within skew
    assert!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.insert("exp".into(), json!(NOW - 30));
                })
            )
        )
        .is_ok()
    );
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.remove("exp");
                })
            )
        )
        .unwrap_err(),
        IdTokenError::MissingClaim { claim: "exp" }
    ));
}

#[test]
fn step10_iat() {
    let f = fixture();
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.insert("iat".into(), json!(NOW + 61));
                })
            )
        )
        .unwrap_err(),
        IdTokenError::IssuedInFuture { .. }
    ));
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.remove("iat");
                })
            )
        )
        .unwrap_err(),
        IdTokenError::MissingClaim { claim: "iat" }
    ));
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.insert("iat".into(), json!("yesterday"));
                })
            )
        )
        .unwrap_err(),
        IdTokenError::InvalidClaim { claim: "iat", .. }
    ));
}

#[test]
fn missing_sub() {
    let f = fixture();
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.remove("sub");
                })
            )
        )
        .unwrap_err(),
        IdTokenError::MissingClaim { claim: "sub" }
    ));
}

#[test]
fn step11_nonce() {
    let f = fixture();
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.insert("nonce".into(), json!("other"));
                })
            )
        )
        .unwrap_err(),
        IdTokenError::NonceMismatch
    ));
    assert!(matches!(
        check(
            &f,
            &sign(
                &f.key,
                &with(|c| {
                    c.remove("nonce");
                })
            )
        )
        .unwrap_err(),
        IdTokenError::MissingNonce
    ));
}

#[test]
fn step13_max_age() {
    let f = fixture();
    let expect = Expectations {
        nonce: Some(&f.nonce),
        max_age: Some(600),
        ..Default::default()
    };
    let run = |c: &Value| {
        f.validator
            .validate(&sign(&f.key, c), &f.keys, &expect, UnixTime(NOW))
    };
    assert!(matches!(
        run(&claims()).unwrap_err(),
        IdTokenError::MissingAuthTime
    ));
    assert!(matches!(
        run(&with(|c| {
            c.insert("auth_time".into(), json!(NOW - 3600));
        }))
        .unwrap_err(),
        IdTokenError::AuthTooOld { .. }
    ));
    assert!(
        run(&with(|c| {
            c.insert("auth_time".into(), json!(NOW - 100));
        }))
        .is_ok()
    );
}

#[test]
fn at_hash_checked_when_present() {
    let f = fixture();
    let at = Secret::new("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
    let digest = Algorithm::RS256.digest(at.expose().as_bytes()).unwrap();
    let good = relier_jose::b64::encode(&digest[..16]);
    let expect = Expectations {
        nonce: Some(&f.nonce),
        access_token: Some(&at),
        ..Default::default()
    };
    let run = |h: &str| {
        let c = with(|c| {
            c.insert("at_hash".into(), json!(h));
        });
        f.validator
            .validate(&sign(&f.key, &c), &f.keys, &expect, UnixTime(NOW))
    };
    assert!(run(&good).is_ok());
    assert!(matches!(
        run("AAAAAAAAAAAAAAAAAAAAAA").unwrap_err(),
        IdTokenError::AtHashMismatch
    ));
}

#[test]
fn unknown_crit_rejected() {
    let f = fixture();
    let header = jws::Header {
        crit: Some(vec!["urn:example:unknown".into()]),
        extra: [("urn:example:unknown".to_owned(), json!(true))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let token = jws::sign_compact(
        &header,
        claims().to_string().as_bytes(),
        &f.key,
        &SystemRandom::new(),
    )
    .unwrap();
    let err = check(&f, &token).unwrap_err();
    assert!(
        matches!(err, IdTokenError::Jwt(JwtError::UnsupportedCrit { .. })),
        "{err}"
    );
}

/// `oidcc-client-test-kid-absent-single-jwks`: no kid in the header, one key (without a kid)
/// in the OP's JWKS: that key verifies it (OIDC Core §10.1), accepted.
#[test]
fn oidcc_client_test_kid_absent_single_jwks() {
    let f = fixture();
    let nokid = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let one = KeySet::from_keys(vec![nokid.verifying_key().unwrap()]);
    let expect = Expectations {
        nonce: Some(&f.nonce),
        ..Default::default()
    };
    let token = sign(&nokid, &claims());
    let verified = f
        .validator
        .validate(&token, &one, &expect, UnixTime(NOW))
        .unwrap();
    assert_eq!(verified.claims().sub, "alice");
    // another lone key does not verify it
    let other = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let wrong = KeySet::from_keys(vec![other.verifying_key().unwrap()]);
    assert!(
        f.validator
            .validate(&token, &wrong, &expect, UnixTime(NOW))
            .is_err()
    );
}

/// No kid and two keys that fit: refused, no key guessing (end to end:
/// `oidcc_client_test_kid_absent_multiple_jwks` in tests/tests/negative.rs).
#[test]
fn kid_absent_multiple_keys_rejected() {
    let f = fixture();
    let nokid = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let expect = Expectations {
        nonce: Some(&f.nonce),
        ..Default::default()
    };
    let token = sign(&nokid, &claims());
    let two = KeySet::from_keys(vec![
        nokid.verifying_key().unwrap(),
        f.key.verifying_key().unwrap(),
    ]);
    assert!(
        f.validator
            .validate(&token, &two, &expect, UnixTime(NOW))
            .is_err()
    );
}

#[test]
fn jwe_and_garbage_rejected() {
    let f = fixture();
    assert!(matches!(
        check(&f, "a.b.c.d.e").unwrap_err(),
        IdTokenError::Jwt(JwtError::Encrypted)
    ));
    for bad in ["", "a", "a.b", "....", "!!.!!.!!"] {
        assert!(check(&f, bad).is_err());
    }
}

#[test]
fn refresh_keeps_iss_sub_aud() {
    let f = fixture();
    let orig = check(&f, &sign(&f.key, &claims())).unwrap();
    let refreshed = |c: &Value| {
        f.validator.validate_refreshed(
            &sign(&f.key, c),
            &f.keys,
            orig.claims(),
            None,
            IdTokenSource::Elsewhere,
            UnixTime(NOW + 10),
        )
    };
    let mut newer = claims();
    newer["iat"] = json!(NOW + 10);
    newer.as_object_mut().unwrap().remove("nonce");
    assert!(refreshed(&newer).is_ok());
    let mut other_sub = newer.clone();
    other_sub["sub"] = json!("bob");
    assert_eq!(
        refreshed(&other_sub).unwrap_err().to_string(),
        "id_token: refreshed token changed sub: was alice, now bob"
    );
    let mut other_iss = newer.clone();
    other_iss["iss"] = json!("https://evil.example");
    // iss is checked against the issuer first (§3.1.3.7 (2)), then against the original
    assert!(refreshed(&other_iss).is_err());
}

/// OIDC Core §12.2 (errata set 2): a nonce in a refreshed ID token, when present, is the
/// original's; a refreshed token without one is fine.
#[test]
fn refresh_keeps_the_nonce_when_present() {
    let f = fixture();
    let orig = check(&f, &sign(&f.key, &claims())).unwrap();
    let refreshed = |c: &Value, original: &IdTokenClaims| {
        f.validator.validate_refreshed(
            &sign(&f.key, c),
            &f.keys,
            original,
            None,
            IdTokenSource::Elsewhere,
            UnixTime(NOW + 10),
        )
    };
    let mut same = claims();
    same["iat"] = json!(NOW + 10);
    assert!(refreshed(&same, orig.claims()).is_ok());
    let mut other = same.clone();
    other["nonce"] = json!("n-other");
    let err = refreshed(&other, orig.claims()).unwrap_err();
    assert!(
        matches!(err, IdTokenError::RefreshChanged { claim: "nonce", .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("n-other"), "{err}");
    let mut none = same.clone();
    none.as_object_mut().unwrap().remove("nonce");
    assert!(refreshed(&none, orig.claims()).is_ok());
    // An original without a nonce: a refreshed token may not bring one.
    let plain = IdTokenClaims::of_validated_token(&sign(&f.key, &none)).unwrap();
    assert!(refreshed(&none, &plain).is_ok());
    assert!(matches!(
        refreshed(&same, &plain),
        Err(IdTokenError::RefreshChanged { claim: "nonce", .. })
    ));
}

fn sign_text(key: &SigningKey, payload: &str) -> String {
    jws::sign_compact(
        &jws::Header::default(),
        payload.as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

#[test]
fn other_claims_parsed_on_demand() {
    let f = fixture();
    let token = sign(
        &f.key,
        &with(|c| {
            c.insert("email".into(), json!("alice@example.com"));
            c.insert("address".into(), json!({"country": "NL"}));
        }),
    );
    let v = check(&f, &token).unwrap();
    let c = v.claims();
    assert_eq!(c.all().unwrap().len(), 8);
    assert_eq!(c.get("email"), Some(&json!("alice@example.com")));
    assert_eq!(c.get("absent"), None);
    #[derive(serde::Deserialize)]
    struct Mine {
        email: String,
        address: Map<String, Value>,
    }
    let mine: Mine = c.deserialize().unwrap();
    assert_eq!(mine.email, "alice@example.com");
    assert_eq!(mine.address.get("country"), Some(&json!("NL")));
    // A clone keeps the claims.
    assert_eq!(c.clone().all().unwrap(), c.all().unwrap());
}

#[test]
fn claims_payload_shape() {
    let f = fixture();
    // RFC 7519 §7.2 (10): the claims set is a JSON object — not an array in field order.
    let token = sign_text(
        &f.key,
        &format!(
            r#"["https://op.example.com","alice","rp",{},{}]"#,
            NOW + 300,
            NOW
        ),
    );
    assert!(matches!(
        check(&f, &token),
        Err(IdTokenError::Jwt(JwtError::Malformed(_)))
    ));
    // A repeated registered claim is refused rather than resolved either way.
    let good = claims().to_string();
    let twice = good.replacen('{', r#"{"sub":"mallory","#, 1);
    let err = check(&f, &sign_text(&f.key, &twice)).unwrap_err();
    assert!(
        err.to_string().contains(r#"member "sub" appears twice"#),
        "{err}"
    );
    // Wrong types name the claim.
    let token = sign(
        &f.key,
        &with(|c| {
            c.insert("nonce".into(), json!(5));
        }),
    );
    assert!(matches!(
        check(&f, &token),
        Err(IdTokenError::InvalidClaim { claim: "nonce", .. })
    ));
    // A claim relier does not check may hold text the full parse refuses (an unpaired
    // surrogate): validation passes, `all` reports it instead of inventing a value.
    let odd = good.replacen('{', r#"{"x":"\ud800","#, 1);
    let v = check(&f, &sign_text(&f.key, &odd)).unwrap();
    assert!(v.claims().all().is_err());
    assert_eq!(v.claims().get("sub"), None);
    assert_eq!(v.claims().sub, "alice");
}

#[test]
fn claims_of_a_token_validated_earlier() {
    let f = fixture();
    let token = sign(&f.key, &claims());
    let c = IdTokenClaims::of_validated_token(&token).unwrap();
    assert_eq!(c.sub, "alice");
    assert_eq!(c.aud, ["rp"]);
    for bad in ["", "a.b", "a.b.c.d", "e30.%%%.sig", "e30.W10.sig"] {
        assert!(IdTokenClaims::of_validated_token(bad).is_err(), "{bad}");
    }
}
