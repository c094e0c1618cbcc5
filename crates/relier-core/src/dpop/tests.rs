use aws_lc_rs::rand::SystemRandom;
use relier_jose::{Jwk, VerifyingKey, jws::UnverifiedJws};

use super::*;
use serde_json::json;

fn claims_of(proof: &str, key: &DpopKey) -> (jws::Header, Value) {
    let jws = UnverifiedJws::parse(proof).unwrap();
    let header = jws.header().clone();
    // The proof verifies with the public key it carries.
    let jwk = Jwk::from_json(&header.extra["jwk"].to_string()).unwrap();
    let payload = jws
        .verify(key.algorithm(), &VerifyingKey::from_jwk(&jwk).unwrap())
        .unwrap();
    (header, serde_json::from_slice(payload).unwrap())
}

#[test]
fn proof_structure_rfc_9449_4_1() {
    let rng = SystemRandom::new();
    for alg in SUPPORTED_ALGS {
        let key = DpopKey::generate(alg).unwrap();
        let target = ProofTarget {
            method: Method::Post,
            url: "https://server.example.com/token?x=1#frag",
            now: UnixTime(1_562_262_616),
            nonce: None,
            access_token: None,
        };
        let proof = key.proof(&target, &rng).unwrap();
        let (header, claims) = claims_of(&proof, &key);
        // §4.2: typ dpop+jwt, the asymmetric alg, the public key and nothing private.
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        assert_eq!(header.alg, alg.as_str());
        assert_eq!(header.kid, None);
        let jwk = header.extra["jwk"].as_object().unwrap();
        assert!(
            jwk.keys()
                .all(|k| ["kty", "crv", "x", "y", "n", "e"].contains(&k.as_str()))
        );
        assert_eq!(
            Jwk::from_json(&header.extra["jwk"].to_string())
                .unwrap()
                .thumbprint_sha256()
                .unwrap(),
            key.thumbprint()
        );
        // §4.2: htu without query and fragment; no ath nor nonce unless given.
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://server.example.com/token");
        assert_eq!(claims["iat"], 1_562_262_616);
        assert!(claims["jti"].as_str().unwrap().len() >= 16);
        assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
        // A fresh jti for every proof (§4.2, §11.1).
        let again = claims_of(&key.proof(&target, &rng).unwrap(), &key).1;
        assert_ne!(again["jti"], claims["jti"]);
    }
}

#[test]
fn ath_rfc_9449_7_1() {
    // §7.1, Figure 13: the access token and its ath.
    let at = Secret::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
    assert_eq!(ath(&at), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn thumbprint_of_the_rfc_9449_key() {
    // §4.1's public key and its jkt in §6.1 (Figure 8).
    let jwk = Jwk::from_json(
        r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#,
    )
    .unwrap();
    assert_eq!(
        jwk.thumbprint_sha256().unwrap(),
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    );
}

#[test]
fn resource_request_carries_ath_and_nonce() {
    let rng = SystemRandom::new();
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let at = Secret::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
    let mut req = crate::userinfo::request("https://op.example.com/me?a=b", &at, false);
    let nonce = DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap();
    resource_request(&mut req, &at, &key, UnixTime(10), Some(&nonce), &rng).unwrap();
    assert_eq!(
        req.header("authorization"),
        Some("DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
    );
    assert_eq!(
        req.headers
            .iter()
            .filter(|(n, _)| n == "authorization")
            .count(),
        1
    );
    let (_, claims) = claims_of(req.header("dpop").unwrap(), &key);
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], "https://op.example.com/me");
    assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    assert_eq!(claims["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
    // attach replaces a previous proof.
    attach(&mut req, &key, UnixTime(11), None, &rng).unwrap();
    assert_eq!(req.headers.iter().filter(|(n, _)| n == "dpop").count(), 1);
}

#[test]
fn only_asymmetric_pinned_algs() {
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES384] {
        assert!(matches!(
            DpopKey::generate(alg),
            Err(DpopError::UnsupportedAlgorithm { .. })
        ));
    }
    let md = |algs: Option<Value>| {
        let mut doc = json!({
            "issuer": "https://op.example.com",
            "authorization_endpoint": "https://op.example.com/auth",
            "jwks_uri": "https://op.example.com/jwks",
        });
        if let Some(a) = algs {
            doc["dpop_signing_alg_values_supported"] = a;
        }
        let iss = crate::IssuerUrl::new("https://op.example.com").unwrap();
        ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
    };
    assert_eq!(choose_alg(&md(None)).unwrap(), Algorithm::ES256);
    assert_eq!(
        choose_alg(&md(Some(json!(["RS256", "PS256", "EdDSA"])))).unwrap(),
        Algorithm::EdDSA
    );
    assert!(matches!(
        choose_alg(&md(Some(json!(["none", "HS256", "RS256"])))),
        Err(DpopError::NoCommonAlgorithm { .. })
    ));
}

#[test]
fn stored_key_round_trip() {
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let key = DpopKey::generate(alg).unwrap();
        let stored = key.to_secret().unwrap();
        let back = DpopKey::from_secret(&stored).unwrap();
        assert_eq!(back.thumbprint(), key.thumbprint());
        assert_eq!(back.algorithm(), alg);
        assert!(!format!("{key:?}").contains(stored.expose()));
    }
    for bad in [
        "",
        "ES256",
        "HS256:AAAA",
        "ES256:!!",
        "ES256:AAAA",
        "XX:AAAA",
    ] {
        assert!(DpopKey::from_secret(&Secret::new(bad)).is_err(), "{bad}");
    }
}

#[test]
fn dpop_jkt_on_the_authorization_request_rfc_9449_10() {
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let params = AuthorizationParams {
        extra: vec![("dpop_jkt".into(), "stale".into())],
        ..Default::default()
    };
    let p = key.authorization_params(&params);
    assert_eq!(
        p.extra,
        vec![("dpop_jkt".to_owned(), key.thumbprint().to_owned())]
    );
}

#[test]
fn nonce_demands_rfc_9449_8_and_9() {
    let json = |status, body: &str| HttpResponse::json(status, body);
    // §8, Figure 19.
    let token = json(
        400,
        r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#,
    );
    assert!(nonce_demanded(Server::Authorization, &token));
    assert!(!nonce_demanded(Server::Resource, &token));
    assert!(!nonce_demanded(
        Server::Authorization,
        &json(400, r#"{"error":"invalid_dpop_proof"}"#)
    ));
    assert!(!nonce_demanded(
        Server::Authorization,
        &json(401, r#"{"error":"use_dpop_nonce"}"#)
    ));
    // §9, Figure 20.
    let mut rs = json(401, "");
    rs.www_authenticate = Some(
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
            .into(),
    );
    assert!(nonce_demanded(Server::Resource, &rs));
    rs.www_authenticate = Some(r#"Bearer error="use_dpop_nonce""#.into());
    assert!(!nonce_demanded(Server::Resource, &rs));
    rs.www_authenticate = Some(r#"DPoP error="use_dpop_nonce"#.into());
    assert!(!nonce_demanded(Server::Resource, &rs));
}

/// `fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity`: the
/// resource server's `use_dpop_nonce` challenge with the scheme in another case is a nonce
/// demand all the same (auth-schemes are case-insensitive, RFC 9110 §11.1), so the client
/// retries with the nonce (end to end: tests/tests/dpop_negative.rs,
/// `a_userinfo_nonce_demand_is_honoured_once`).
#[test]
fn fapi2_security_profile_final_client_test_rs_dpop_auth_scheme_case_insensitivity() {
    for scheme in ["DPoP", "dpop", "DPOP", "dPoP"] {
        let mut rs = HttpResponse::json(401, "");
        rs.www_authenticate = Some(format!(
            r#"{scheme} error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
        ));
        assert!(nonce_demanded(Server::Resource, &rs), "{scheme}");
    }
    let mut rs = HttpResponse::json(401, "");
    rs.www_authenticate = Some(r#"Bearer error="use_dpop_nonce""#.into());
    assert!(!nonce_demanded(Server::Resource, &rs));
}

#[test]
fn token_type_must_be_dpop_rfc_9449_5() {
    let tokens = |tt: &str| {
        TokenResponse::from_response(&HttpResponse::json(
            200,
            &format!(r#"{{"access_token":"a","token_type":"{tt}"}}"#),
        ))
        .unwrap()
    };
    assert!(check_token_type(&tokens("DPoP")).is_ok());
    assert!(check_token_type(&tokens("dpop")).is_ok());
    assert!(matches!(
        check_token_type(&tokens("Bearer")),
        Err(DpopError::NotDpopBound { got }) if got == "Bearer"
    ));
}

/// `fapi2-security-profile-final-client-test-token-type-case-insensitivity`: the AS answers a
/// DPoP token request with `token_type` in another case; the client accepts it (RFC 6749 §5.1:
/// case-insensitive), and a Bearer answer in any case stays refused.
#[test]
fn fapi2_security_profile_final_client_test_token_type_case_insensitivity() {
    let tokens = |tt: &str| {
        TokenResponse::from_response(&HttpResponse::json(
            200,
            &format!(r#"{{"access_token":"a","token_type":"{tt}"}}"#),
        ))
        .unwrap()
    };
    for tt in ["DPoP", "dpop", "DPOP", "dPoP", "dpoP"] {
        assert!(check_token_type(&tokens(tt)).is_ok(), "{tt}");
    }
    for tt in ["bearer", "BEARER", "bEaReR", "DPoP2", ""] {
        assert!(check_token_type(&tokens(tt)).is_err(), "{tt}");
    }
}

#[test]
fn htu_rules() {
    assert_eq!(
        htu("https://rs.example.com/p?q=1#f").unwrap(),
        "https://rs.example.com/p"
    );
    assert_eq!(
        htu("http://127.0.0.1:8080/token").unwrap(),
        "http://127.0.0.1:8080/token"
    );
    for bad in ["/token", "urn:x", "ftp://h/x", ""] {
        assert!(htu(bad).is_err(), "{bad}");
    }
}

#[test]
fn pem_round_trip_keeps_the_key_and_its_algorithm() {
    for alg in SUPPORTED_ALGS {
        let key = DpopKey::generate(alg).unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = DpopKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.algorithm(), alg);
        assert_eq!(back.thumbprint(), key.thumbprint());
    }
    // A P-384 key is not one relier proves with; text that is no key is refused too.
    let p384 = SigningKey::generate(Algorithm::ES384, None).unwrap();
    assert!(matches!(
        DpopKey::from_pkcs8_pem(&p384.to_pkcs8_pem().unwrap()),
        Err(DpopError::UnsupportedAlgorithm { .. })
    ));
    assert!(matches!(
        DpopKey::from_pkcs8_pem("not a key"),
        Err(DpopError::Key(_))
    ));
}

/// RFC 9449 §4.2 `htm` for any method a proxy forwards; a non-token method is refused.
#[test]
fn proof_with_any_http_method() {
    let rng = SystemRandom::new();
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let target = ProofTarget {
        method: Method::Get,
        url: "https://upstream.example/items?q=1",
        now: UnixTime(1_000),
        nonce: None,
        access_token: Some(&Secret::new("at")),
    };
    let proof = key.proof_with_method("PATCH", &target, &rng).unwrap();
    let (_, claims) = claims_of(&proof, &key);
    assert_eq!(claims["htm"], "PATCH");
    assert_eq!(claims["htu"], "https://upstream.example/items");
    assert_eq!(claims["ath"], ath(&Secret::new("at")));
    for bad in ["", "GET POST", "G\nET", "GÉT"] {
        assert!(
            matches!(
                key.proof_with_method(bad, &target, &rng),
                Err(DpopError::InvalidMethod)
            ),
            "{bad:?}"
        );
    }
}
