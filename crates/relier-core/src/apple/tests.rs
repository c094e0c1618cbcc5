#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use aws_lc_rs::rand::SystemRandom;
use relier_jose::jws::UnverifiedJws;
use serde_json::Value;

use super::*;

const TEAM: &str = "TEAM123456";
const KID: &str = "KEY1234567";

fn minter() -> (AppleClientSecret, SigningKey) {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let m = AppleClientSecret::new(
        TEAM,
        KID,
        ClientId::new("com.example.web").unwrap(),
        key.clone(),
    )
    .unwrap();
    (m, key)
}

#[test]
fn the_client_secret_is_an_es256_jwt_with_apples_claims() {
    let (m, key) = minter();
    let minted = m
        .mint(UnixTime(1_700_000_000), &SystemRandom::new())
        .unwrap();
    let jws = UnverifiedJws::parse(minted.secret.expose()).unwrap();
    assert_eq!(jws.header().alg, "ES256");
    assert_eq!(jws.header().kid.as_deref(), Some(KID));
    let payload = jws
        .verify(Algorithm::ES256, &key.verifying_key().unwrap())
        .unwrap();
    let c: Value = serde_json::from_slice(payload).unwrap();
    assert_eq!(c["iss"], TEAM);
    assert_eq!(c["sub"], "com.example.web");
    assert_eq!(c["aud"], "https://appleid.apple.com");
    assert_eq!(c["iat"], 1_700_000_000u64);
    assert_eq!(c["exp"], 1_700_000_000u64 + CLIENT_SECRET_LIFETIME_SECS);
    assert_eq!(
        minted.expires_at,
        UnixTime(1_700_000_000 + CLIENT_SECRET_LIFETIME_SECS)
    );
    // Another key does not verify it.
    let other = SigningKey::generate(Algorithm::ES256, None).unwrap();
    assert!(
        jws.verify(Algorithm::ES256, &other.verifying_key().unwrap())
            .is_err()
    );
}

#[test]
fn a_secret_is_renewed_within_the_margin_of_its_expiry() {
    let (m, _) = minter();
    let minted = m.mint(UnixTime(1000), &SystemRandom::new()).unwrap();
    let exp = minted.expires_at.0;
    assert!(!minted.needs_renewal(UnixTime(1000)));
    assert!(!minted.needs_renewal(UnixTime(exp - RENEW_MARGIN_SECS - 1)));
    assert!(minted.needs_renewal(UnixTime(exp - RENEW_MARGIN_SECS)));
    assert!(minted.needs_renewal(UnixTime(exp + 1)));
}

#[test]
fn the_lifetime_stays_under_apples_maximum() {
    let (m, _) = minter();
    let long = m.clone().with_lifetime(u64::MAX);
    let minted = long.mint(UnixTime(0), &SystemRandom::new()).unwrap();
    assert_eq!(minted.expires_at, UnixTime(MAX_CLIENT_SECRET_LIFETIME_SECS));
    let short = m
        .with_lifetime(1)
        .mint(UnixTime(0), &SystemRandom::new())
        .unwrap();
    assert!(!short.needs_renewal(UnixTime(0)));
    assert!(matches!(
        minter().0.mint(UnixTime(u64::MAX), &SystemRandom::new()),
        Err(AppleError::Time)
    ));
}

#[test]
fn only_es256_keys_and_apple_identifiers_are_accepted() {
    let id = || ClientId::new("com.example.web").unwrap();
    let rsa = SigningKey::generate(Algorithm::RS256, None).unwrap();
    assert!(matches!(
        AppleClientSecret::new(TEAM, KID, id(), rsa),
        Err(AppleError::KeyNotEs256 { alg: "RS256" })
    ));
    let ec = SigningKey::generate(Algorithm::ES256, None).unwrap();
    for (team, kid, field) in [
        ("short", KID, "team_id"),
        (TEAM, "lower12345", "key_id"),
        (TEAM, "KEY1234567X", "key_id"),
    ] {
        let e = AppleClientSecret::new(team, kid, id(), ec.clone()).unwrap_err();
        assert!(
            matches!(e, AppleError::InvalidIdentifier { field: f, .. } if f == field),
            "{e}"
        );
    }
}

#[test]
fn the_user_field_gives_the_name() {
    let u = parse_user(
        r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ada@privaterelay.appleid.com"}"#,
    )
    .unwrap();
    assert_eq!(u.name().as_deref(), Some("Ada Lovelace"));
    assert_eq!(u.email.as_deref(), Some("ada@privaterelay.appleid.com"));
    let only_first = parse_user(r#"{"name":{"firstName":" Ada ","lastName":""}}"#).unwrap();
    assert_eq!(only_first.name().as_deref(), Some("Ada"));
    assert_eq!(
        parse_user(r#"{"email":"a@b.example"}"#).unwrap().name(),
        None
    );
    assert_eq!(parse_user("{}").unwrap(), AppleUser::default());
}

#[test]
fn a_malformed_or_oversized_user_field_is_refused() {
    for bad in [
        "",
        "not json",
        "[]",
        r#"{"name":"Ada"}"#,
        r#"{"name":{"firstName":1}}"#,
        r#"{"name":{"firstName":"Ada\nX-Injected: 1"}}"#,
        "\u{0}",
    ] {
        assert!(
            matches!(parse_user(bad), Err(AppleError::UserMalformed)),
            "{bad:?}"
        );
    }
    let long_name = format!(r#"{{"name":{{"firstName":"{}"}}}}"#, "a".repeat(201));
    assert!(matches!(
        parse_user(&long_name),
        Err(AppleError::UserMalformed)
    ));
    let huge = format!(r#"{{"email":"{}"}}"#, "a".repeat(MAX_USER_FIELD_BYTES));
    assert!(matches!(
        parse_user(&huge),
        Err(AppleError::UserTooLarge { .. })
    ));
    // Deeply nested input fails without a stack overflow.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_user(&deep[..MAX_USER_FIELD_BYTES]).is_err());
}
