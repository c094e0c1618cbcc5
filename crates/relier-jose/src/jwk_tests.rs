use super::*;

/// RFC 7638 §3.1 example key.
const RFC7638_N: &str = concat!(
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAt",
    "VT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6",
    "4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F",
    "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9",
    "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINH",
    "aQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
);

fn rfc7638_json() -> String {
    format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#)
}

#[test]
fn rfc7638_thumbprint_vector() {
    let jwk = Jwk::from_json(&rfc7638_json()).unwrap();
    assert_eq!(
        jwk.thumbprint_sha256().unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // Optional and unknown members do not change it (RFC 7638 §3.2).
    let mut decorated = jwk.clone();
    decorated.use_ = Some("sig".into());
    decorated.kid = Some("other".into());
    decorated.extra.insert("ext".into(), Value::Bool(true));
    assert_eq!(
        decorated.thumbprint_sha256().unwrap(),
        jwk.thumbprint_sha256().unwrap()
    );
}

#[test]
fn thumbprint_needs_required_members() {
    let jwk = Jwk::from_json(r#"{"kty":"RSA","e":"AQAB"}"#).unwrap();
    assert!(matches!(
        jwk.thumbprint_sha256(),
        Err(JoseError::MissingMember { member: "n" })
    ));
    let jwk = Jwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"AA"}"#).unwrap();
    assert!(matches!(
        jwk.thumbprint_sha256(),
        Err(JoseError::MissingMember { member: "y" })
    ));
    let jwk = Jwk::from_json(r#"{"kty":"weird"}"#).unwrap();
    assert!(matches!(
        jwk.thumbprint_sha256(),
        Err(JoseError::UnsupportedKeyType(_))
    ));
}

#[test]
fn okp_and_oct_thumbprints_use_the_right_members() {
    // RFC 8037 Appendix A.3: the thumbprint of the Ed25519 example key.
    let jwk = Jwk::from_json(
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    )
    .unwrap();
    assert_eq!(
        jwk.thumbprint_sha256().unwrap(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    let oct = Jwk::from_json(r#"{"kty":"oct","k":"AAAA"}"#).unwrap();
    let expected =
        b64::encode(digest::digest(&digest::SHA256, br#"{"k":"AAAA","kty":"oct"}"#).as_ref());
    assert_eq!(oct.thumbprint_sha256().unwrap(), expected);
}

#[test]
fn unknown_members_round_trip() {
    let json = r#"{"kty":"EC","crv":"P-256","x":"eA","y":"eQ","kid":"a","x5t#S256":"t","vendor":{"nested":[1,2]},"use":"sig"}"#;
    let jwk = Jwk::from_json(json).unwrap();
    assert_eq!(jwk.x5t_s256.as_deref(), Some("t"));
    assert_eq!(jwk.use_.as_deref(), Some("sig"));
    assert!(jwk.extra.contains_key("vendor"));
    let back: Value = serde_json::to_value(&jwk).unwrap();
    let orig: Value = serde_json::from_str(json).unwrap();
    assert_eq!(back, orig);
    // serde Deserialize goes through the same checks.
    let again: Jwk = serde_json::from_value(back).unwrap();
    assert_eq!(again.kid.as_deref(), Some("a"));
}

#[test]
fn serialization_skips_colliding_extra_members() {
    let mut jwk = Jwk::from_json(r#"{"kty":"OKP","crv":"Ed25519","x":"AA"}"#).unwrap();
    jwk.extra.insert("kty".into(), Value::String("RSA".into()));
    let s = serde_json::to_string(&jwk).unwrap();
    assert_eq!(s.matches("\"kty\"").count(), 1);
    assert!(s.contains(r#""kty":"OKP""#));
}

#[test]
fn malformed_jwks_are_errors() {
    for bad in [
        "",
        "[]",
        "{}",
        r#"{"kty":5}"#,
        r#"{"kty":"RSA","kid":5}"#,
        r#"{"kty":"RSA","key_ops":"sign"}"#,
        r#"{"kty":"RSA","key_ops":[1]}"#,
        r#"{"kty":"RSA","d":{}}"#,
        r#"{"kty":"RSA","kty":"EC"}"#,
        r#"{"kty":"RSA""#,
    ] {
        assert!(Jwk::from_json(bad).is_err(), "{bad}");
    }
    let huge = format!(r#"{{"kty":"RSA","n":"{}"}}"#, "A".repeat(MAX_JWK_BYTES));
    assert!(matches!(
        Jwk::from_json(&huge),
        Err(JoseError::TooLarge { .. })
    ));
}

#[test]
fn null_members_are_absent() {
    let jwk = Jwk::from_json(r#"{"kty":"RSA","kid":null,"d":null}"#).unwrap();
    assert!(jwk.kid.is_none());
    assert!(!jwk.is_private());
}

#[test]
fn debug_redacts_private_members() {
    let json = r#"{"kty":"RSA","n":"bm4","e":"AQAB","d":"SECRETd","p":"SECRETp","q":"SECRETq","dp":"SECRETdp","dq":"SECRETdq","qi":"SECRETqi","oth":[{"r":"SECRETr"}]}"#;
    let jwk = Jwk::from_json(json).unwrap();
    assert!(jwk.is_private());
    let dbg = format!("{jwk:?}");
    assert!(!dbg.contains("SECRET"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
    assert!(dbg.contains("oth"));
    let oct = Jwk::from_json(r#"{"kty":"oct","k":"SECRETk"}"#).unwrap();
    assert!(!format!("{oct:?}").contains("SECRET"));
}

#[test]
fn to_public_drops_private_members() {
    let json = r#"{"kty":"RSA","n":"bm4","e":"AQAB","d":"ZA","p":"cA","q":"cQ","dp":"ZHA","dq":"ZHE","qi":"cWk","oth":[],"kid":"k"}"#;
    let jwk = Jwk::from_json(json).unwrap();
    let public = jwk.to_public();
    assert!(!public.is_private());
    assert_eq!(public.kid.as_deref(), Some("k"));
    let s = serde_json::to_string(&public).unwrap();
    for member in [
        "\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\"", "\"oth\"",
    ] {
        assert!(!s.contains(member), "{member} in {s}");
    }
    let oct = Jwk::from_json(r#"{"kty":"oct","k":"AAAA"}"#).unwrap();
    assert!(oct.is_private());
    assert!(!oct.to_public().is_private());
}

fn key_json(kid: usize) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"eA","y":"eQ","kid":"{kid}"}}"#)
}

fn set_json(keys: &[String]) -> String {
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

#[test]
fn jwk_set_parses_and_finds() {
    let keys: Vec<String> = (0..3).map(key_json).collect();
    let set = JwkSet::from_json(&set_json(&keys)).unwrap();
    assert_eq!(set.keys.len(), 3);
    assert_eq!(set.find("1").count(), 1);
    assert_eq!(set.find("9").count(), 0);
    let round: JwkSet = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(round.keys.len(), 3);
}

#[test]
fn jwk_set_key_count_cap() {
    let keys: Vec<String> = (0..MAX_JWKS_KEYS).map(key_json).collect();
    assert_eq!(
        JwkSet::from_json(&set_json(&keys)).unwrap().keys.len(),
        MAX_JWKS_KEYS
    );
    let keys: Vec<String> = (0..=MAX_JWKS_KEYS).map(key_json).collect();
    assert!(matches!(
        JwkSet::from_json(&set_json(&keys)),
        Err(JoseError::TooLarge {
            max: MAX_JWKS_KEYS,
            ..
        })
    ));
}

#[test]
fn jwk_set_size_cap() {
    let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "A".repeat(MAX_JWKS_BYTES));
    assert!(matches!(
        JwkSet::from_json(&huge),
        Err(JoseError::TooLarge { .. })
    ));
}

#[test]
fn jwk_set_ignores_unusable_entries() {
    // RFC 7517 §5: ignore what cannot be used; keep the rest.
    let big = format!(r#"{{"kty":"RSA","n":"{}"}}"#, "A".repeat(MAX_JWK_BYTES));
    let json = format!(
        r#"{{"keys":[1,"x",null,[1,[2]],{{"kid":"no-kty"}},{{"kty":"RSA","kid":7}},{{"kty":"EC","kid":"d","kid":"d"}},{big},{},{{"kty":"unknown","kid":"u"}}],"other":{{"x":[1]}}}}"#,
        key_json(1)
    );
    let set = JwkSet::from_json(&json).unwrap();
    let kids: Vec<_> = set.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, ["1", "u"]);
}

#[test]
fn jwk_set_structure_errors() {
    for bad in [
        "",
        "[]",
        "{}",
        r#"{"keys":{}}"#,
        r#"{"keys":[],"keys":[]}"#,
        r#"{"keys":[}"#,
    ] {
        assert!(JwkSet::from_json(bad).is_err(), "{bad}");
    }
}
