use super::*;
use aws_lc_rs::rand::SystemRandom;
use serde_json::json;

fn keys() -> Vec<SigningKey> {
    let rng = SystemRandom::new();
    let mut keys: Vec<SigningKey> = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ]
    .into_iter()
    .map(|alg| SigningKey::generate(alg, None).unwrap())
    .collect();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        keys.push(SigningKey::generate_hmac(alg, &rng).unwrap());
    }
    keys
}

/// A token with the given header JSON, payload and signature bytes.
fn raw_token(header: &serde_json::Value, payload: &[u8], sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(payload),
        b64::encode(sig)
    )
}

#[test]
fn sign_verify_round_trip_for_every_algorithm() {
    let rng = SystemRandom::new();
    for key in keys() {
        let alg = key.algorithm();
        let key = key.with_kid(format!("kid-{alg}"));
        let header = Header {
            typ: Some("JWT".into()),
            ..Header::default()
        };
        let token = sign_compact(&header, br#"{"sub":"x"}"#, &key, &rng).unwrap();
        let jws = UnverifiedJws::parse(&token).unwrap();
        assert_eq!(jws.header_alg(), alg.as_str());
        assert_eq!(
            jws.header().kid.as_deref(),
            Some(format!("kid-{alg}").as_str())
        );
        assert_eq!(jws.header().typ.as_deref(), Some("JWT"));
        assert_eq!(jws.unverified_payload(), br#"{"sub":"x"}"#);
        let verifier = key.verifying_key().unwrap();
        assert_eq!(
            jws.verify(alg, &verifier).unwrap(),
            br#"{"sub":"x"}"#,
            "{alg}"
        );
        // Tampered payload.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = b64::encode(br#"{"sub":"y"}"#);
        parts[1] = &other;
        let text = parts.join(".");
        let tampered = UnverifiedJws::parse(&text).unwrap();
        assert!(matches!(
            tampered.verify(alg, &verifier),
            Err(JoseError::InvalidSignature)
        ));
    }
}

#[test]
fn sign_compact_sets_alg_and_kid() {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("key-kid");
    let mut header = Header {
        alg: "none".into(),
        ..Header::default()
    };
    header.extra.insert("nonce".into(), json!("n-1"));
    let text = sign_compact(&header, b"p", &key, &rng).unwrap();
    let jws = UnverifiedJws::parse(&text).unwrap();
    assert_eq!(jws.header_alg(), "ES256");
    assert_eq!(jws.header().kid.as_deref(), Some("key-kid"));
    assert_eq!(jws.header().extra.get("nonce"), Some(&json!("n-1")));
    header.kid = Some("explicit".into());
    let text = sign_compact(&header, b"p", &key, &rng).unwrap();
    let jws = UnverifiedJws::parse(&text).unwrap();
    assert_eq!(jws.header().kid.as_deref(), Some("explicit"));
    // A colliding extra member cannot smuggle a second "alg" into the header.
    header.extra.insert("alg".into(), json!("none"));
    let token = sign_compact(&header, b"p", &key, &rng).unwrap();
    let header_json = b64::decode(token.split('.').next().unwrap()).unwrap();
    let text = String::from_utf8(header_json).unwrap();
    assert_eq!(text.matches("\"alg\"").count(), 1, "{text}");
    assert!(UnverifiedJws::parse(&token).is_ok());
}

#[test]
fn header_alg_must_equal_the_pinned_algorithm() {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let token = sign_compact(&Header::default(), b"p", &key, &rng).unwrap();
    let jws = UnverifiedJws::parse(&token).unwrap();
    let verifier = key.verifying_key().unwrap();
    assert!(matches!(
        jws.verify(Algorithm::RS384, &verifier),
        Err(JoseError::AlgorithmMismatch {
            expected: Algorithm::RS384,
            ..
        })
    ));
    assert!(matches!(
        jws.verify(Algorithm::None, &verifier),
        Err(JoseError::AlgorithmNoneRefused)
    ));
    // Header says RS256 and so does the caller, but the key cannot do it.
    let ec = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .verifying_key()
        .unwrap();
    assert!(matches!(
        jws.verify(Algorithm::RS256, &ec),
        Err(JoseError::KeyTypeMismatch { .. })
    ));
}

#[test]
fn alg_confusion_hs256_with_rsa_public_key() {
    // Attacker signs HS256 using the RSA public key (as published) as the HMAC secret.
    let rsa = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let public = rsa.public_jwk().unwrap();
    let secret = serde_json::to_vec(&public).unwrap();
    let forged_key = SigningKey::hmac(Algorithm::HS256, &secret).unwrap();
    let token = sign_compact(
        &Header::default(),
        b"evil",
        &forged_key,
        &SystemRandom::new(),
    )
    .unwrap();
    let jws = UnverifiedJws::parse(&token).unwrap();
    let verifier = VerifyingKey::from_jwk(&public).unwrap();
    // A caller pinned to RS256 rejects the header...
    assert!(matches!(
        jws.verify(Algorithm::RS256, &verifier),
        Err(JoseError::AlgorithmMismatch { .. })
    ));
    // ...and even a caller that (wrongly) pins HS256 cannot use an RSA key for it.
    assert!(matches!(
        jws.verify(Algorithm::HS256, &verifier),
        Err(JoseError::KeyTypeMismatch { .. })
    ));
}

#[test]
fn unsigned_tokens() {
    let none = raw_token(&json!({"alg":"none"}), b"claims", b"");
    let jws = UnverifiedJws::parse(&none).unwrap();
    assert_eq!(jws.dangerous_accept_unsigned().unwrap(), b"claims");
    let hmac = VerifyingKey::hmac(&[1; 32]);
    assert!(matches!(
        jws.verify(Algorithm::HS256, &hmac),
        Err(JoseError::AlgorithmMismatch { .. })
    ));
    assert!(matches!(
        jws.verify(Algorithm::None, &hmac),
        Err(JoseError::AlgorithmNoneRefused)
    ));
    let with_sig = raw_token(&json!({"alg":"none"}), b"claims", b"sig");
    assert!(
        UnverifiedJws::parse(&with_sig)
            .unwrap()
            .dangerous_accept_unsigned()
            .is_err()
    );
    for alg in ["HS256", "None", "NONE", "nOnE"] {
        let t = raw_token(&json!({ "alg": alg }), b"claims", b"");
        assert!(matches!(
            UnverifiedJws::parse(&t)
                .unwrap()
                .dangerous_accept_unsigned(),
            Err(JoseError::AlgorithmMismatch { .. })
        ));
    }
}

#[test]
fn malformed_tokens_are_errors() {
    let good_header = b64::encode(br#"{"alg":"HS256"}"#);
    let p = b64::encode(b"{}");
    let s = b64::encode(&[1; 32]);
    let cases = vec![
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        format!("{good_header}.{p}"),
        format!("{good_header}.{p}.{s}.{s}"),
        format!("{good_header}.{p}.{s}.{s}.{s}"),
        format!("{good_header}=.{p}.{s}"),
        format!("{good_header}.{p}=.{s}"),
        format!("{good_header}.{p}.{s}="),
        format!("{good_header}.{p}.{s}+"),
        format!("{good_header}.{p}.a"),
        format!("{good_header} .{p}.{s}"),
        format!(".{p}.{s}"),
        format!("{}.{p}.{s}", b64::encode(b"[]")),
        format!("{}.{p}.{s}", b64::encode(b"\"HS256\"")),
        format!("{}.{p}.{s}", b64::encode(b"{}")),
        format!("{}.{p}.{s}", b64::encode(br#"{"alg":256}"#)),
        format!(
            "{}.{p}.{s}",
            b64::encode(br#"{"alg":"HS256","alg":"none"}"#)
        ),
        format!("{}.{p}.{s}", b64::encode(br#"{"alg":"HS256","kid":1}"#)),
        format!(
            "{}.{p}.{s}",
            b64::encode(br#"{"alg":"HS256","crit":"b64"}"#)
        ),
        format!("{}.{p}.{s}", b64::encode(b"{\"alg\":\"HS256\"")),
        format!("{}.{p}.{s}", b64::encode(b"\xff\xfe")),
    ];
    for token in cases {
        assert!(
            matches!(
                UnverifiedJws::parse(&token),
                Err(JoseError::Malformed { .. })
            ),
            "{token}"
        );
    }
    let huge = format!("{good_header}.{}.{s}", "A".repeat(MAX_COMPACT_JWS_BYTES));
    assert!(matches!(
        UnverifiedJws::parse(&huge),
        Err(JoseError::TooLarge { .. })
    ));
}

#[test]
fn five_part_tokens_hint_at_jwe() {
    let err = UnverifiedJws::parse("a.b.c.d.e").unwrap_err().to_string();
    assert!(err.contains("JWE"), "{err}");
}

#[test]
fn arbitrary_input_never_panics() {
    // A small deterministic fuzz over the characters that matter to the parser.
    let alphabet: Vec<char> = "eyJhbGciOiJIUzI1NiJ9.AZaz09-_=+/ {}\"\\\u{e9}"
        .chars()
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let key = VerifyingKey::hmac(&[2; 32]);
    for _ in 0..5000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let len = (state >> 33) as usize % 80;
        let token: String = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                alphabet[(state >> 33) as usize % alphabet.len()]
            })
            .collect();
        if let Ok(jws) = UnverifiedJws::parse(&token) {
            let _ = jws.verify(Algorithm::HS256, &key);
            let _ = jws.dangerous_accept_unsigned();
        }
        let _ = b64::decode(&token);
        let _ = crate::Jwk::from_json(&token);
        let _ = crate::JwkSet::from_json(&token);
    }
}

#[test]
fn signing_input_is_the_received_text() {
    let token = raw_token(&json!({"alg":"HS256"}), b"abc", &[0; 32]);
    let jws = UnverifiedJws::parse(&token).unwrap();
    let cut = token.rfind('.').unwrap();
    assert_eq!(jws.signing_input(), &token.as_bytes()[..cut]);
    assert_eq!(jws.signature(), &[0; 32]);
}

#[test]
fn header_round_trip_and_collisions() {
    let text = r#"{"alg":"ES256","kid":"k","typ":"dpop+jwt","cty":"JWT","crit":["exp"],"jwk":{"kty":"EC"},"exp":1}"#;
    let header: Header = serde_json::from_str(text).unwrap();
    assert_eq!(header.crit.as_deref(), Some(&["exp".to_owned()][..]));
    assert!(header.extra.contains_key("jwk"));
    let back: serde_json::Value = serde_json::to_value(&header).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    let minimal = serde_json::to_string(&Header {
        alg: "HS256".into(),
        ..Header::default()
    })
    .unwrap();
    assert_eq!(minimal, r#"{"alg":"HS256"}"#);
    assert!(serde_json::from_str::<Header>(r#"{"alg":"a","alg":"b"}"#).is_err());
    assert!(serde_json::from_str::<Header>(r#"{"kid":"a"}"#).is_err());
}

#[test]
fn crit_rules() {
    let with = |crit: Option<Vec<&str>>| Header {
        alg: "ES256".into(),
        crit: crit.map(|c| c.into_iter().map(str::to_owned).collect()),
        ..Header::default()
    };
    assert!(check_crit(&with(None), &[]).is_ok());
    assert!(check_crit(&with(Some(vec!["b64"])), &["b64"]).is_ok());
    assert!(check_crit(&with(Some(vec!["b64", "exp"])), &["exp", "b64"]).is_ok());
    let refused = |h: Header, understood: &[&str]| {
        matches!(
            check_crit(&h, understood),
            Err(JoseError::UnsupportedCrit { .. })
        )
    };
    assert!(refused(with(Some(vec![])), &["b64"]));
    assert!(refused(with(Some(vec!["b64"])), &[]));
    assert!(refused(with(Some(vec!["b64", "other"])), &["b64"]));
    for registered in ["alg", "kid", "typ", "cty", "crit", "jwk", "x5t#S256"] {
        assert!(
            refused(with(Some(vec![registered])), &[registered]),
            "{registered}"
        );
    }
}

#[test]
fn debug_does_not_dump_payload() {
    let token = raw_token(&json!({"alg":"HS256"}), b"secret-claims", &[0; 32]);
    let dbg = format!("{:?}", UnverifiedJws::parse(&token).unwrap());
    assert!(!dbg.contains("secret-claims"));
    assert!(dbg.contains("HS256"));
}

#[test]
fn compact_signer_equals_sign_compact() {
    let rng = SystemRandom::new();
    // Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the outputs must be equal.
    let key = SigningKey::generate(Algorithm::EdDSA, None)
        .unwrap()
        .with_kid("ed-1");
    let header = Header {
        typ: Some("JWT".into()),
        ..Header::default()
    };
    let signer = CompactSigner::new(&header, key.clone()).unwrap();
    for payload in [&b""[..], b"p", b"pa", b"pay", br#"{"iss":"x","sub":"x"}"#] {
        let one = signer.sign(payload, &rng).unwrap();
        assert_eq!(one, sign_compact(&header, payload, &key, &rng).unwrap());
        let jws = UnverifiedJws::parse(&one).unwrap();
        let vk = key.verifying_key().unwrap();
        assert_eq!(jws.verify(Algorithm::EdDSA, &vk).unwrap(), payload);
        assert_eq!(jws.header().kid.as_deref(), Some("ed-1"));
    }
    // RSA 4096 signatures (the longest) fit the preallocated buffer and verify.
    let rsa = SigningKey::generate(Algorithm::PS256, Some(4096)).unwrap();
    let token = CompactSigner::new(&Header::default(), rsa.clone())
        .unwrap()
        .sign(b"{}", &rng)
        .unwrap();
    let jws = UnverifiedJws::parse(&token).unwrap();
    assert_eq!(jws.signature().len(), 512);
    assert!(
        jws.verify(Algorithm::PS256, &rsa.verifying_key().unwrap())
            .is_ok()
    );
}
