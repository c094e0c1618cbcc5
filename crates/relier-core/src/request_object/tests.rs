//! Request objects: decoded and verified as the OP would (RFC 9101 §4, §5, §10.8; RFC 9126 §3).

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jws::UnverifiedJws;
use serde_json::json;

use super::*;
use crate::types::RedirectUrl;

const NOW: u64 = 1_700_000_000;

fn md(extra: Value) -> ProviderMetadata {
    let mut doc = json!({
        "issuer": "https://op.example.com",
        "authorization_endpoint": "https://op.example.com/auth?tenant=a",
    });
    if let (Value::Object(d), Value::Object(e)) = (&mut doc, extra) {
        d.extend(e);
    }
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
}

fn key(alg: Algorithm) -> SigningKey {
    SigningKey::generate(alg, None).unwrap().with_kid("rp-1")
}

fn params() -> AuthorizationParams {
    AuthorizationParams {
        scopes: vec!["profile".into()],
        prompt: Some("login".into()),
        max_age: Some(300),
        login_hint: Some("alice".into()),
        acr_values: Some("urn:acr:high".into()),
        extra: vec![(
            "claims".into(),
            r#"{"id_token":{"acr":{"essential":true}}}"#.into(),
        )],
        ..Default::default()
    }
}

/// Verifies the JWT with the RP's public key, the way the OP does, and returns header and claims.
fn open(jwt: &str, key: &SigningKey) -> (relier_jose::jws::Header, Map<String, Value>) {
    let jws = UnverifiedJws::parse(jwt).unwrap();
    let header = jws.header().clone();
    let payload = jws
        .verify(key.algorithm(), &key.verifying_key().unwrap())
        .unwrap();
    let Value::Object(claims) = serde_json::from_slice(payload).unwrap() else {
        panic!("claims are not an object")
    };
    (header, claims)
}

#[test]
fn by_value_carries_every_parameter_signed_and_typed() {
    for alg in [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA] {
        let k = key(alg);
        let signer = RequestObjectSigner::new(alg, k.clone()).unwrap();
        let cid = ClientId::new("rp").unwrap();
        let redirect = RedirectUrl::new("http://127.0.0.1:9/cb").unwrap();
        let (url, pending) = authorization_url(
            &md(json!({})),
            &cid,
            &redirect,
            &params(),
            &signer,
            UnixTime(NOW),
            &SystemRandom::new(),
        )
        .unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
        // RFC 9101 §5 + OIDC Core §6.1: client_id, response_type, scope outside; nothing else.
        assert_eq!(
            names,
            ["tenant", "response_type", "client_id", "scope", "request"]
        );
        let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("scope"), Some("openid profile"));
        let (header, c) = open(get("request").unwrap(), &k);
        // RFC 9101 §10.8: explicit typing; the kid names the RP key.
        assert_eq!(header.typ.as_deref(), Some(TYP));
        assert_eq!(header.kid.as_deref(), Some("rp-1"));
        assert_eq!(header.alg, alg.as_str());
        // RFC 9101 §4: iss = client_id, aud = the issuer, exactly.
        assert_eq!(c["iss"], "rp");
        assert_eq!(c["aud"], "https://op.example.com");
        assert_eq!(c["client_id"], "rp");
        assert_eq!(c["iat"], NOW);
        assert_eq!(c["nbf"], NOW);
        assert_eq!(c["exp"], NOW + DEFAULT_LIFETIME_SECS);
        assert!(c["jti"].as_str().unwrap().len() >= 32);
        assert_eq!(c["response_type"], "code");
        assert_eq!(c["redirect_uri"], "http://127.0.0.1:9/cb");
        assert_eq!(c["scope"], "openid profile");
        assert_eq!(c["state"], pending.state.expose());
        assert_eq!(c["nonce"], pending.nonce.expose());
        assert_eq!(c["code_challenge"], pending.pkce_verifier.s256_challenge());
        assert_eq!(c["code_challenge_method"], "S256");
        assert_eq!(c["prompt"], "login");
        assert_eq!(c["login_hint"], "alice");
        assert_eq!(c["acr_values"], "urn:acr:high");
        // OIDC Core §6.1: max_age a number, claims an object.
        assert_eq!(c["max_age"], 300);
        assert_eq!(c["claims"]["id_token"]["acr"]["essential"], true);
        assert!(!c.contains_key("request") && !c.contains_key("request_uri"));
    }
}

#[test]
fn each_object_has_its_own_jti() {
    let k = key(Algorithm::ES256);
    let signer = RequestObjectSigner::new(Algorithm::ES256, k.clone()).unwrap();
    let cid = ClientId::new("rp").unwrap();
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    let rng = SystemRandom::new();
    let jti = || {
        let jwt = signer.sign(&[], &cid, &iss, UnixTime(NOW), &rng).unwrap();
        open(&jwt, &k).1["jti"].clone()
    };
    assert_ne!(jti(), jti());
}

#[test]
fn pushed_form_has_only_the_request_and_client_authentication() {
    let k = key(Algorithm::PS256);
    let signer = RequestObjectSigner::new(Algorithm::PS256, k.clone()).unwrap();
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    let redirect = RedirectUrl::new("http://127.0.0.1:9/cb").unwrap();
    let rng = SystemRandom::new();
    let cid = || ClientId::new("rp").unwrap();
    for auth in [
        ClientAuth::none(cid()),
        ClientAuth::client_secret_basic(cid(), crate::Secret::new("s".repeat(32))),
        ClientAuth::private_key_jwt(cid(), key(Algorithm::ES256)).unwrap(),
    ] {
        let (form, pending) = pushed_request(
            &auth,
            &iss,
            &redirect,
            &params(),
            &signer,
            UnixTime(NOW),
            &rng,
        )
        .unwrap();
        let req = auth
            .request(
                &iss,
                "https://op.example.com/par",
                form,
                UnixTime(NOW),
                &rng,
            )
            .unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        for (name, _) in &pairs {
            assert!(
                matches!(
                    name.as_str(),
                    "request" | "client_id" | "client_assertion" | "client_assertion_type"
                ),
                "{name} outside the request object ({})",
                auth.method()
            );
        }
        let ids = pairs.iter().filter(|(n, _)| n == "client_id").count();
        assert_eq!(ids, usize::from(auth.puts_client_id_in_body()));
        let jwt = &pairs.iter().find(|(n, _)| n == "request").unwrap().1;
        let (_, c) = open(jwt, &k);
        assert_eq!(c["state"], pending.state.expose());
        assert_eq!(c["client_id"], "rp");
    }
}

#[test]
fn algorithms_are_asymmetric_and_match_the_key() {
    for bad in [Algorithm::None, Algorithm::HS256] {
        assert!(matches!(
            check_alg(bad),
            Err(RequestObjectError::UnsupportedAlg { .. })
        ));
    }
    assert!(matches!(
        RequestObjectSigner::new(Algorithm::PS256, key(Algorithm::ES256)),
        Err(RequestObjectError::KeyMismatch {
            registered: "PS256",
            key: "ES256"
        })
    ));
    let s = RequestObjectSigner::new(Algorithm::ES256, key(Algorithm::ES256)).unwrap();
    assert!(matches!(
        s.clone().with_lifetime(0),
        Err(RequestObjectError::Lifetime)
    ));
    assert!(s.clone().with_lifetime(MAX_LIFETIME_SECS + 1).is_err());
    assert!(s.with_key(key(Algorithm::PS256)).is_err());
}

#[test]
fn extra_parameters_cannot_override_claims() {
    let s = RequestObjectSigner::new(Algorithm::ES256, key(Algorithm::ES256)).unwrap();
    let cid = ClientId::new("rp").unwrap();
    let iss = IssuerUrl::new("https://op.example.com").unwrap();
    for name in ["aud", "exp", "iss"] {
        let pairs = vec![(name.to_owned(), "x".to_owned())];
        assert!(matches!(
            s.sign(&pairs, &cid, &iss, UnixTime(NOW), &SystemRandom::new()),
            Err(RequestObjectError::ReservedClaim(n)) if n == name
        ));
    }
}

#[test]
fn the_registration_and_the_op_turn_it_on() {
    let reg = |v: Value| {
        let Value::Object(m) = v else { panic!() };
        RequestObjectRule::from_registration(&m)
    };
    let plain = md(json!({}));
    let off = reg(json!({})).unwrap();
    assert!(!off.applies(&plain));
    assert!(off.signer(None, &plain).unwrap().is_none());
    // RFC 9101 §10.5: the OP requires it of every client.
    let requiring = md(json!({"require_signed_request_object": true,
        "request_object_signing_alg_values_supported": ["PS256", "ES256"]}));
    assert!(off.applies(&requiring));
    assert!(matches!(
        off.signer(None, &requiring),
        Err(RequestObjectError::NoKey)
    ));
    let es = key(Algorithm::ES256);
    assert_eq!(
        off.signer(Some(&es), &requiring).unwrap().unwrap().alg(),
        Algorithm::ES256
    );
    assert!(matches!(
        off.signer(Some(&key(Algorithm::EdDSA)), &requiring),
        Err(RequestObjectError::NotAcceptedByOp { alg: "EdDSA" })
    ));
    // The client's registration.
    let required = reg(json!({"require_signed_request_object": true})).unwrap();
    assert!(required.required && required.applies(&plain));
    let pinned = reg(json!({"request_object_signing_alg": "PS256"})).unwrap();
    assert_eq!(pinned.alg, Some(Algorithm::PS256));
    assert!(matches!(
        pinned.signer(Some(&es), &plain),
        Err(RequestObjectError::KeyMismatch { .. })
    ));
    for bad in [
        json!({"request_object_signing_alg": "none", "require_signed_request_object": true}),
        json!({"request_object_encryption_enc": "A128GCM"}),
        json!({"request_object_encryption_alg": "A128KW"}),
        json!({"request_object_encryption_alg": "RSA1_5"}),
        json!({"request_object_signing_alg": "HS256"}),
        json!({"request_object_signing_alg": "XS1"}),
        json!({"request_object_signing_alg": 1}),
        json!({"require_signed_request_object": "yes"}),
    ] {
        assert!(reg(bad.clone()).is_err(), "{bad}");
    }
}

fn signed_request(signer: &RequestObjectSigner) -> SignedRequest {
    sign_request(
        &IssuerUrl::new("https://op.example.com").unwrap(),
        &ClientId::new("rp").unwrap(),
        &RedirectUrl::new("https://rp.example.com/cb").unwrap(),
        &params(),
        signer,
        UnixTime(NOW),
        &SystemRandom::new(),
    )
    .unwrap()
}

#[test]
fn by_reference_carries_request_uri_and_the_required_parameters() {
    let k = key(Algorithm::ES256);
    let signed = signed_request(&RequestObjectSigner::new(Algorithm::ES256, k.clone()).unwrap());
    assert_eq!(signed.expires_at(), UnixTime(NOW + DEFAULT_LIFETIME_SECS));
    let object = signed.object().to_owned();
    let (_, claims) = open(&object, &k);
    assert_eq!(claims["exp"], NOW + DEFAULT_LIFETIME_SECS);
    let uri = Url::parse("https://rp.example.com/auth/request/abc").unwrap();
    let (url, pending) = signed.by_reference(&md(json!({})), &uri).unwrap();
    // OIDC Core §6.2: client_id, response_type and scope (with openid) outside too.
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "tenant",
            "response_type",
            "client_id",
            "scope",
            "request_uri"
        ]
    );
    assert_eq!(q[4].1, uri.as_str());
    assert!(q[3].1.split(' ').any(|s| s == "openid"));
    assert_eq!(claims["state"], pending.state.expose());
}

#[test]
fn request_uri_must_be_https_or_loopback_and_short() {
    let signer = RequestObjectSigner::new(Algorithm::ES256, key(Algorithm::ES256)).unwrap();
    let metadata = md(json!({}));
    for ok in [
        "https://rp.example.com/auth/request/x",
        "http://127.0.0.1:8080/request/x",
    ] {
        let uri = Url::parse(ok).unwrap();
        assert!(
            signed_request(&signer)
                .by_reference(&metadata, &uri)
                .is_ok()
        );
    }
    let long = format!("https://rp.example.com/{}", "a".repeat(MAX_REQUEST_URI_LEN));
    for bad in [
        "http://rp.example.com/auth/request/x",
        "https://rp.example.com/auth/request/x#f",
        long.as_str(),
    ] {
        let uri = Url::parse(bad).unwrap();
        assert!(matches!(
            signed_request(&signer).by_reference(&metadata, &uri),
            Err(RequestObjectError::RequestUri { .. })
        ));
    }
}

#[test]
fn unsigned_only_where_registered() {
    let reg = |v: Value| {
        let Value::Object(m) = v else { panic!() };
        RequestObjectRule::from_registration(&m).unwrap()
    };
    let none = reg(json!({"request_object_signing_alg": "none"}));
    assert_eq!(none.alg, Some(Algorithm::None));
    // No key needed; the OP must list none when it lists algorithms.
    let signer = none.signer(None, &md(json!({}))).unwrap().unwrap();
    assert_eq!(signer.alg(), Algorithm::None);
    assert!(matches!(
        none.signer(
            None,
            &md(json!({"request_object_signing_alg_values_supported": ["RS256"]}))
        ),
        Err(RequestObjectError::NotAcceptedByOp { alg: "none" })
    ));
    // RFC 9101 §10.5: an OP requiring signed request objects gets none unsigned.
    assert!(matches!(
        none.signer(None, &md(json!({"require_signed_request_object": true}))),
        Err(RequestObjectError::UnsupportedAlg { alg: "none" })
    ));
    // OIDC Core §6.1 / RFC 7519 §6.1: header alg none, empty signature.
    let jwt = signed_request(&signer).object().to_owned();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2], "");
    let header: Value =
        serde_json::from_slice(&relier_jose::b64::decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "none", "typ": TYP}));
    let jws = UnverifiedJws::parse(&jwt).unwrap();
    let claims: Value = serde_json::from_slice(jws.dangerous_accept_unsigned().unwrap()).unwrap();
    assert_eq!(claims["iss"], "rp");
    assert_eq!(claims["aud"], "https://op.example.com");
}

#[test]
fn encrypted_to_the_op_key_as_a_nested_jwt() {
    use relier_jose::jwe::{
        ContentEncAlg, DecryptionKey, DecryptionKeys, JweExpectation, decrypt_compact,
    };
    let reg = |v: Value| {
        let Value::Object(m) = v else { panic!() };
        RequestObjectRule::from_registration(&m).unwrap()
    };
    let rule = reg(json!({"request_object_signing_alg": "ES256",
        "request_object_encryption_alg": "RSA-OAEP-256"}));
    let algs = rule.encryption.unwrap();
    // OIDC Registration §2: enc defaults to A128CBC-HS256.
    assert_eq!(algs.enc, ContentEncAlg::A128CbcHs256);
    assert!(rule.applies(&md(json!({}))));
    let op_key = DecryptionKey::generate(KeyManagementAlg::RsaOaep256, None)
        .unwrap()
        .with_kid("op-enc");
    let mut public = serde_json::to_value(op_key.public_jwk().unwrap()).unwrap();
    public["use"] = "enc".into();
    let jwks =
        crate::jwks::KeySet::from_json(json!({"keys": [public]}).to_string().as_bytes()).unwrap();
    let encrypter = RequestObjectEncrypter::for_op(algs, &jwks).unwrap();
    assert_eq!(encrypter.kid(), Some("op-enc"));
    let k = key(Algorithm::ES256);
    let signed = signed_request(&RequestObjectSigner::new(Algorithm::ES256, k.clone()).unwrap());
    let jws = signed.object().to_owned();
    let encrypted = signed.encrypt(&encrypter, &SystemRandom::new()).unwrap();
    let jwe = encrypted.object().to_owned();
    let keys = DecryptionKeys::new().with_key(op_key).unwrap();
    let opened = decrypt_compact(&jwe, &JweExpectation::new(algs.alg, algs.enc), &keys).unwrap();
    assert!(opened.is_nested_jwt());
    assert_eq!(opened.into_plaintext().as_slice(), jws.as_bytes());
    let (url, _) = encrypted.by_value(&md(json!({}))).unwrap();
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "request" && v == jwe.as_str())
    );
    // No use:enc key for the algorithm: refused, never sent unencrypted.
    assert!(matches!(
        RequestObjectEncrypter::for_op(
            ResponseEncryption::new(KeyManagementAlg::EcdhEs, ContentEncAlg::A128Gcm),
            &jwks
        ),
        Err(RequestObjectError::NoEncryptionKey { .. })
    ));
}
