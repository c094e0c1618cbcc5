use super::*;
use crate::dpop::{DpopKey, ProofTarget};
use crate::http::Method;
use crate::secret::Secret;
use aws_lc_rs::rand::SystemRandom;
use relier_jose::{SigningKey, jws};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const URL: &str = "https://app.example.com/api/orders";

fn proof(key: &DpopKey, method: Method, url: &str, token: &str, iat: u64) -> String {
    let at = Secret::new(token);
    key.proof(
        &ProofTarget {
            method,
            url,
            now: UnixTime(iat),
            nonce: None,
            access_token: Some(&at),
        },
        &SystemRandom::new(),
    )
    .unwrap()
}

fn expect<'a>(jkt: &'a str) -> ProofExpectations<'a> {
    ProofExpectations {
        htm: "GET",
        htu: URL,
        access_token: "tok",
        jkt,
        nonce: None,
        window: 60,
        now: UnixTime(NOW),
    }
}

#[test]
fn a_proof_for_the_request_and_token_passes() {
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let p = proof(&key, Method::Get, &format!("{URL}?q=1"), "tok", NOW - 5);
    let v = verify_proof(&p, &expect(key.thumbprint())).unwrap();
    assert_eq!(v.iat, NOW - 5);
    assert!(!v.jti.is_empty());
}

#[test]
fn every_mismatch_is_refused() {
    let key = DpopKey::generate(Algorithm::ES256).unwrap();
    let jkt = key.thumbprint().to_owned();
    let run = |p: &str| verify_proof(p, &expect(&jkt));
    assert_eq!(
        run(&proof(&key, Method::Post, URL, "tok", NOW)),
        Err(ProofError::Method)
    );
    assert_eq!(
        run(&proof(
            &key,
            Method::Get,
            "https://app.example.com/api/other",
            "tok",
            NOW
        )),
        Err(ProofError::Uri)
    );
    assert_eq!(
        run(&proof(&key, Method::Get, URL, "other", NOW)),
        Err(ProofError::AccessTokenHash)
    );
    assert!(matches!(
        run(&proof(&key, Method::Get, URL, "tok", NOW - 61)),
        Err(ProofError::Time { .. })
    ));
    assert!(matches!(
        run(&proof(&key, Method::Get, URL, "tok", NOW + 61)),
        Err(ProofError::Time { .. })
    ));
    let other = DpopKey::generate(Algorithm::ES256).unwrap();
    assert_eq!(
        run(&proof(&other, Method::Get, URL, "tok", NOW)),
        Err(ProofError::KeyBinding)
    );
    let mut with_nonce = expect(&jkt);
    with_nonce.nonce = Some("n1");
    assert_eq!(
        verify_proof(&proof(&key, Method::Get, URL, "tok", NOW), &with_nonce),
        Err(ProofError::Nonce)
    );
}

fn signed(key: &SigningKey, typ: &str, jwk: Value, claims: &Value) -> String {
    let mut header = jws::Header {
        typ: Some(typ.into()),
        ..Default::default()
    };
    header.extra.insert("jwk".into(), jwk);
    jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

#[test]
fn typ_alg_and_private_keys_are_refused() {
    let sk = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let public = serde_json::to_value(sk.public_jwk().unwrap()).unwrap();
    let jkt = sk.public_jwk().unwrap().thumbprint_sha256().unwrap();
    let claims = json!({"jti": "j", "htm": "GET", "htu": URL, "iat": NOW,
        "ath": b64::encode(digest::digest(&digest::SHA256, b"tok").as_ref())});
    assert!(
        verify_proof(
            &signed(&sk, "dpop+jwt", public.clone(), &claims),
            &expect(&jkt)
        )
        .is_ok()
    );
    assert_eq!(
        verify_proof(&signed(&sk, "JWT", public.clone(), &claims), &expect(&jkt)),
        Err(ProofError::Type)
    );
    let mut private = public.clone();
    private["d"] = json!("AAAA");
    assert_eq!(
        verify_proof(&signed(&sk, "dpop+jwt", private, &claims), &expect(&jkt)),
        Err(ProofError::PrivateKey)
    );
    let hs = SigningKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap();
    assert!(matches!(
        verify_proof(&signed(&hs, "dpop+jwt", public, &claims), &expect(&jkt)),
        Err(ProofError::Algorithm { .. })
    ));
}

#[test]
fn a_cached_key_serves_only_proofs_with_the_same_jwk() {
    let key = DpopKey::generate(Algorithm::EdDSA).unwrap();
    let jkt = key.thumbprint().to_owned();
    let cache = ProofKeyCache::default();
    let run = |p: &str, jkt: &str| verify_proof_cached(p, &expect(jkt), &cache);
    // A refused proof leaves nothing behind.
    let late = proof(&key, Method::Get, URL, "tok", NOW - 600);
    assert!(matches!(run(&late, &jkt), Err(ProofError::Time { .. })));
    assert!(cache.0.get().is_none());
    run(&proof(&key, Method::Get, URL, "tok", NOW), &jkt).unwrap();
    assert!(
        cache.0.get().is_some(),
        "kept after the first proof that passed"
    );
    // Later proofs of the same key pass through the cached key, and every claim is checked.
    run(&proof(&key, Method::Get, URL, "tok", NOW - 5), &jkt).unwrap();
    assert_eq!(
        run(&proof(&key, Method::Get, URL, "other", NOW), &jkt),
        Err(ProofError::AccessTokenHash)
    );
    // A bad signature under the same jwk is still a bad signature.
    let good = proof(&key, Method::Get, URL, "tok", NOW);
    let (input, sig) = good.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let forged = format!("{input}.{flipped}{}", &sig[1..]);
    assert_eq!(run(&forged, &jkt), Err(ProofError::Signature));
    // Another key is checked in full: not the token's.
    let other = DpopKey::generate(Algorithm::EdDSA).unwrap();
    assert_eq!(
        run(&proof(&other, Method::Get, URL, "tok", NOW), &jkt),
        Err(ProofError::KeyBinding)
    );
    // The cache answers only for the thumbprint it was checked against.
    assert_eq!(
        run(
            &proof(&key, Method::Get, URL, "tok", NOW),
            other.thumbprint()
        ),
        Err(ProofError::KeyBinding)
    );
}

#[test]
fn htu_compares_exactly_or_after_normalisation() {
    assert!(same_uri(URL, URL));
    assert!(same_uri("HTTPS://APP.example.com:443/api/orders", URL));
    assert!(same_uri(&format!("{URL}?a=1#f"), URL));
    assert!(!same_uri("https://app.example.com/api/other", URL));
    // Equal, but not an absolute URI: never a match.
    assert!(!same_uri("/api/orders", "/api/orders"));
}
