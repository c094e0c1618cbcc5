use super::*;
use aws_lc_rs::rand::SystemRandom;
use relier_jose::{SigningKey, jws};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ISS: &str = "https://op.example.com";
const AUD: &str = "https://app.example.com/api";

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("k")
}

fn sign(key: &SigningKey, typ: Option<&str>, claims: &Value) -> String {
    let header = jws::Header {
        typ: typ.map(str::to_owned),
        ..Default::default()
    };
    jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

fn good() -> Value {
    json!({
        "iss": ISS, "aud": [AUD, "other"], "sub": "svc", "client_id": "svc",
        "iat": NOW - 10, "exp": NOW + 300, "scope": "orders:read orders:write",
        "jti": "j1"
    })
}

fn run_with(
    k: &SigningKey,
    keys: &KeySet,
    typ: Option<&str>,
    claims: &Value,
    alg: Algorithm,
) -> Result<VerifiedAccessToken, AccessTokenError> {
    let issuer = IssuerUrl::new(ISS).unwrap();
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: AUD,
        alg,
        skew: 60,
    };
    validate_access_token(&sign(k, typ, claims), keys, &expect, UnixTime(NOW))
}

fn run(typ: Option<&str>, claims: &Value) -> Result<VerifiedAccessToken, AccessTokenError> {
    let k = key();
    let keys = KeySet::from_keys(vec![k.verifying_key().unwrap()]);
    run_with(&k, &keys, typ, claims, Algorithm::ES256)
}

#[test]
fn rfc9068_token_is_accepted_with_its_claims() {
    let t = run(Some("at+jwt"), &good()).unwrap();
    assert_eq!((t.sub.as_str(), t.client_id.as_str()), ("svc", "svc"));
    assert_eq!(t.scopes, ["orders:read", "orders:write"]);
    assert!(t.has_scopes(&["orders:read".into()]));
    assert!(!t.has_scopes(&["admin".into()]));
    assert_eq!(t.jkt, None);
    assert!(run(Some("application/at+JWT"), &good()).is_ok());
    let mut bound = good();
    bound["cnf"] = json!({"jkt": "thumb"});
    assert_eq!(
        run(Some("at+jwt"), &bound).unwrap().jkt.as_deref(),
        Some("thumb")
    );
}

#[test]
fn id_token_is_refused_by_typ() {
    for typ in [None, Some("JWT"), Some("dpop+jwt"), Some("logout+jwt")] {
        assert!(
            matches!(run(typ, &good()), Err(AccessTokenError::Type { .. })),
            "{typ:?}"
        );
    }
}

#[test]
fn issuer_audience_and_times_are_checked() {
    let with = |k: &str, v: Value| {
        let mut c = good();
        c[k] = v;
        run(Some("at+jwt"), &c)
    };
    assert!(matches!(
        with("iss", json!("https://evil.example.com")),
        Err(AccessTokenError::IssuerMismatch { .. })
    ));
    assert!(matches!(
        with("aud", json!("https://other.example.com")),
        Err(AccessTokenError::AudienceMismatch { .. })
    ));
    assert!(with("aud", json!(AUD)).is_ok());
    assert!(matches!(
        with("exp", json!(NOW - 61)),
        Err(AccessTokenError::Expired { .. })
    ));
    assert!(with("exp", json!(NOW - 59)).is_ok());
    assert!(matches!(
        with("nbf", json!(NOW + 61)),
        Err(AccessTokenError::NotYetValid { .. })
    ));
    assert!(with("nbf", json!(NOW + 59)).is_ok());
    assert!(matches!(
        with("iat", json!(NOW + 61)),
        Err(AccessTokenError::IssuedInFuture { .. })
    ));
    assert!(matches!(
        with("scope", json!(["a"])),
        Err(AccessTokenError::InvalidClaim { claim: "scope", .. })
    ));
    for claim in ["sub", "client_id", "exp", "iat", "aud", "iss"] {
        let mut c = good();
        c.as_object_mut().unwrap().remove(claim);
        assert!(
            matches!(
                run(Some("at+jwt"), &c),
                Err(AccessTokenError::MissingClaim { .. })
            ),
            "{claim}"
        );
    }
}

#[test]
fn alg_is_pinned_not_taken_from_the_header() {
    let k = key();
    let keys = KeySet::from_keys(vec![k.verifying_key().unwrap()]);
    // HS256 keyed with the public key's bytes: refused by the pinned alg.
    let public = serde_json::to_vec(&k.public_jwk().unwrap()).unwrap();
    let hs = SigningKey::hmac(Algorithm::HS256, &public).unwrap();
    assert!(matches!(
        run_with(&hs, &keys, Some("at+jwt"), &good(), Algorithm::ES256),
        Err(AccessTokenError::Jwt(JwtError::AlgorithmMismatch { .. }))
    ));
    // A MAC algorithm is never accepted as configuration.
    assert!(matches!(
        run_with(&hs, &keys, Some("at+jwt"), &good(), Algorithm::HS256),
        Err(AccessTokenError::SymmetricAlg { .. })
    ));
    // alg none.
    let unsigned = format!(
        "{}.{}.",
        relier_jose::b64::encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        relier_jose::b64::encode(good().to_string().as_bytes())
    );
    let issuer = IssuerUrl::new(ISS).unwrap();
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: AUD,
        alg: Algorithm::ES256,
        skew: 60,
    };
    assert!(matches!(
        validate_access_token(&unsigned, &keys, &expect, UnixTime(NOW)),
        Err(AccessTokenError::Jwt(JwtError::Unsigned))
    ));
    // Another key with the same kid: bad signature.
    let other = key();
    assert!(matches!(
        run_with(&other, &keys, Some("at+jwt"), &good(), Algorithm::ES256),
        Err(AccessTokenError::Jwt(JwtError::InvalidSignature))
    ));
}

#[test]
fn introspection_responses_are_checked_like_jwts() {
    let issuer = IssuerUrl::new(ISS).unwrap();
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: AUD,
        alg: Algorithm::ES256,
        skew: 60,
    };
    let run = |v: Value| from_introspection(v.as_object().unwrap().clone(), &expect, UnixTime(NOW));
    let ok = json!({"active": true, "aud": AUD, "exp": NOW + 60, "scope": "orders:read",
                    "client_id": "svc", "cnf": {"jkt": "t"}});
    let t = run(ok.clone()).unwrap();
    assert_eq!(
        (t.client_id.as_str(), t.sub.as_str(), t.iss.as_str()),
        ("svc", "", ISS)
    );
    assert_eq!(t.jkt.as_deref(), Some("t"));
    assert!(matches!(
        run(json!({"active": false})),
        Err(AccessTokenError::Inactive)
    ));
    assert!(matches!(
        run(json!({"active": "true", "aud": AUD, "exp": NOW + 60})),
        Err(AccessTokenError::Inactive)
    ));
    let with = |k: &str, v: Value| {
        let mut c = ok.clone();
        c[k] = v;
        run(c)
    };
    assert!(matches!(
        with("aud", json!("other")),
        Err(AccessTokenError::AudienceMismatch { .. })
    ));
    assert!(matches!(
        with("iss", json!("https://evil")),
        Err(AccessTokenError::IssuerMismatch { .. })
    ));
    assert!(matches!(
        with("exp", json!(NOW - 61)),
        Err(AccessTokenError::Expired { .. })
    ));
    let mut no_exp = ok.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(matches!(
        run(no_exp),
        Err(AccessTokenError::MissingClaim { claim: "exp" })
    ));
}

#[test]
fn every_claim_is_there_for_the_headers() {
    let mut claims = good();
    claims["email"] = json!("svc@example.com");
    claims["groups"] = json!(["a", "b"]);
    let t = run(Some("at+jwt"), &claims).unwrap();
    let all = t.claims().unwrap();
    assert_eq!(Value::Object(all.clone()), claims);
    // Parsed once: the same map on every call.
    assert!(std::ptr::eq(all, t.claims().unwrap()));
    let issuer = IssuerUrl::new(ISS).unwrap();
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: AUD,
        alg: Algorithm::ES256,
        skew: 60,
    };
    let mut response = claims.as_object().unwrap().clone();
    response.insert("active".into(), json!(true));
    let t = from_introspection(response.clone(), &expect, UnixTime(NOW)).unwrap();
    assert_eq!(t.claims().unwrap(), &response);
}

#[test]
fn claims_are_read_from_the_whole_object() {
    // A repeated registered claim, broken JSON after the claims: refused, not read in part.
    let k = key();
    let keys = KeySet::from_keys(vec![k.verifying_key().unwrap()]);
    let issuer = IssuerUrl::new(ISS).unwrap();
    let expect = AccessTokenExpectations {
        issuer: &issuer,
        audience: AUD,
        alg: Algorithm::ES256,
        skew: 60,
    };
    let text = good().to_string();
    for payload in [
        text.replacen('{', "{\"sub\":\"x\",", 1),
        format!("{}, }}", &text[..text.len() - 1]),
    ] {
        let header = jws::Header {
            typ: Some("at+jwt".into()),
            ..Default::default()
        };
        let token =
            jws::sign_compact(&header, payload.as_bytes(), &k, &SystemRandom::new()).unwrap();
        assert!(
            matches!(
                validate_access_token(&token, &keys, &expect, UnixTime(NOW)),
                Err(AccessTokenError::Jwt(JwtError::Malformed(_)))
            ),
            "{payload}"
        );
    }
}
