use aws_lc_rs::rand::SystemRandom;
use relier_jose::jws::{self, Header};
use relier_jose::{Algorithm, SigningKey};
use serde_json::json;

use super::*;
use crate::http::HttpResponse;

macro_rules! isb {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/isb/",
            $file
        ))
    };
}

const SP_STATEMENT: &str = isb!("example-sp-entity-statement.jwt");
const SP_SIGNED_JWKS: &str = isb!("example-sp-signed-jwks.jwt");
const BROKER_SIGNED_JWKS: &str = isb!("example-broker-signed-jwks.jwt");
const BROKER_ENTITY_KEY: &str = isb!("broker-entity-signing-pubkey.pem");

/// 2026-12-07: later than every example's `exp` but the SP statement's (2033).
const TODAY: UnixTime = UnixTime(1_796_601_600);
const BROKER: &str = "https://isb-test.op.fi";
const SP: &str = "https://paras-saippuakauppias.com";

fn key(alg: Algorithm) -> SigningKey {
    let k = SigningKey::generate(alg, None).unwrap();
    let kid = k.thumbprint_sha256().unwrap();
    k.with_kid(kid)
}

fn sign(key: &SigningKey, typ: Option<&str>, claims: &serde_json::Value) -> String {
    let header = Header {
        typ: typ.map(str::to_owned),
        ..Header::default()
    };
    jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &SystemRandom::new(),
    )
    .unwrap()
}

fn statement_claims(entity: &SigningKey, now: u64) -> serde_json::Value {
    json!({
        "iss": BROKER, "sub": BROKER, "iat": now, "exp": now + 365 * 86_400,
        "jwks": {"keys": [entity.public_jwk().unwrap()]},
        "metadata": {"openid_provider": {
            "issuer": BROKER,
            "authorization_endpoint": "https://isb-test.op.fi/oauth/authorize",
            "token_endpoint": "https://isb-test.op.fi/oauth/token",
            "userinfo_endpoint": "https://isb-test.op.fi/oauth/profile",
            "jwks_uri": "https://isb-test.op.fi/jwks/broker",
            "signed_jwks_uri": "https://isb-test.op.fi/jwks/broker-signed",
            "id_token_signing_alg_values_supported": ["RS256"],
        }},
    })
}

fn jwks_claims(signing: &SigningKey, now: u64) -> serde_json::Value {
    json!({
        "keys": [signing.public_jwk().unwrap()],
        "iss": BROKER, "sub": BROKER, "iat": now, "exp": now + 3600,
    })
}

fn pinned(keys: &[&SigningKey]) -> EntityKeys {
    let jwks: Vec<Jwk> = keys.iter().map(|k| k.public_jwk().unwrap()).collect();
    EntityKeys::from_jwks("test", &jwks).unwrap()
}

#[test]
fn isb_example_sp_statement_verifies_as_self_signed() {
    let st = verify_entity_statement(SP_STATEMENT, TODAY).unwrap();
    assert_eq!(st.entity_id, SP);
    assert_eq!(st.iat, 1_675_095_869);
    assert_eq!(st.exp, 1_990_455_869);
    assert_eq!(st.keys.keys().len(), 1);
    assert_eq!(
        st.keys.keys()[0].kid(),
        "QUGHzS05831lYsOB7_o-Nz2Ode2jmnmh5dJjDA5Q5SM"
    );
    let rp = st.metadata.openid_relying_party.as_ref().unwrap();
    assert_eq!(
        rp["signed_jwks_uri"],
        "https://paras-saippuakauppias.com/signed-jwks"
    );
    // No openid_provider metadata in an RP's statement.
    assert!(matches!(
        st.provider_metadata(),
        Err(TrustError::NoProviderMetadata)
    ));
    // Far from expiry today: no warning; 29 days before its exp: a warning.
    assert!(st.expiry_warning(TODAY).is_none());
    let w = st.expiry_warning(UnixTime(st.exp - 29 * 86_400)).unwrap();
    assert_eq!(w.days_left, 29);
}

#[test]
fn isb_example_sp_signed_jwks_verifies_with_the_statement_keys() {
    let st = verify_entity_statement(SP_STATEMENT, TODAY).unwrap();
    // Its exp (2023-02-01) has passed: checked at its iat.
    let at_iat = UnixTime(1_675_096_256);
    let v = verify_signed_jwks(SP_SIGNED_JWKS, &st.keys, SP, at_iat).unwrap();
    let kids: Vec<_> = v.keys.keys.iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(
        kids,
        [
            "dl-lgRcT7LhEkqbnod6QGBHl8veqgZenwdB3RV2OJkY",
            "MfYGuONWQZabwwph02zJEqOQIPOV1PhEscgHch0QqD0"
        ]
    );
    let err = verify_signed_jwks(SP_SIGNED_JWKS, &st.keys, SP, TODAY).unwrap_err();
    assert!(matches!(err, TrustError::Expired { .. }), "{err}");
}

#[test]
fn isb_broker_pem_key_has_the_kid_the_broker_signs_with() {
    let keys = EntityKeys::from_pem(BROKER_ENTITY_KEY).unwrap();
    assert_eq!(keys.keys().len(), 1);
    assert_eq!(
        keys.keys()[0].kid(),
        "hk2l1ZRe47kVX5mkI_yBh6Tuel-5yIbN4d1UOgzU6mE"
    );
}

#[test]
fn isb_example_broker_signed_jwks_expired_today_accepted_at_its_iat() {
    let keys = EntityKeys::from_pem(BROKER_ENTITY_KEY).unwrap();
    let err = verify_signed_jwks(BROKER_SIGNED_JWKS, &keys, BROKER, TODAY).unwrap_err();
    assert!(
        matches!(
            err,
            TrustError::Expired {
                exp: 1_664_241_455,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
    let v = verify_signed_jwks(BROKER_SIGNED_JWKS, &keys, BROKER, UnixTime(1_664_237_855)).unwrap();
    assert_eq!(v.keys.keys.len(), 3);
    assert_eq!(v.signed_by, "hk2l1ZRe47kVX5mkI_yBh6Tuel-5yIbN4d1UOgzU6mE");
    let set = KeySet::from_jwk_set(&v.keys);
    assert_eq!(set.len(), 3);
}

#[test]
fn isb_broker_signed_jwks_refused_with_the_sp_entity_key_pinned() {
    let st = verify_entity_statement(SP_STATEMENT, TODAY).unwrap();
    let err = verify_signed_jwks(
        BROKER_SIGNED_JWKS,
        &st.keys,
        BROKER,
        UnixTime(1_664_237_855),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TrustError::UnknownKid { kid, .. } if kid == "hk2l1ZRe47kVX5mkI_yBh6Tuel-5yIbN4d1UOgzU6mE"),
        "{err}"
    );
}

#[test]
fn generated_statement_verifies_and_yields_provider_metadata() {
    let entity = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let jws = sign(
        &entity,
        Some("entity-statement+jwt"),
        &statement_claims(&entity, now),
    );
    let st = verify_entity_statement(&jws, UnixTime(now)).unwrap();
    assert_eq!(st.entity_id, BROKER);
    assert_eq!(
        st.signed_jwks_uri(),
        Some("https://isb-test.op.fi/jwks/broker-signed")
    );
    let md = st.provider_metadata().unwrap();
    assert_eq!(md.issuer.as_str(), BROKER);
    assert_eq!(
        md.token_endpoint.as_deref(),
        Some("https://isb-test.op.fi/oauth/token")
    );
    // The unsigned jwks_uri is never used for such a provider.
    assert_eq!(md.jwks_uri, None);
}

#[test]
fn statement_with_a_broken_self_signature_is_refused() {
    let entity = key(Algorithm::RS256);
    let jws = sign(
        &entity,
        Some("entity-statement+jwt"),
        &statement_claims(&entity, 1_800_000_000),
    );
    // Flip one signature character.
    let mut bytes = jws.into_bytes();
    let last = bytes.len() - 5;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let broken = String::from_utf8(bytes).unwrap();
    let err = verify_entity_statement(&broken, UnixTime(1_800_000_000)).unwrap_err();
    assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("bad signature"), "{err}");
}

#[test]
fn statement_signed_by_a_key_not_in_its_jwks_is_not_self_signed() {
    let entity = key(Algorithm::RS256);
    let other = key(Algorithm::RS256);
    let jws = sign(
        &other,
        Some("entity-statement+jwt"),
        &statement_claims(&entity, 1_800_000_000),
    );
    let err = verify_entity_statement(&jws, UnixTime(1_800_000_000)).unwrap_err();
    assert!(matches!(err, TrustError::NotSelfSigned { .. }), "{err}");
}

#[test]
fn statement_with_wrong_typ_is_refused() {
    let entity = key(Algorithm::RS256);
    let claims = statement_claims(&entity, 1_800_000_000);
    for typ in [None, Some("JWT"), Some("jwk-set+jwt")] {
        let jws = sign(&entity, typ, &claims);
        let err = verify_entity_statement(&jws, UnixTime(1_800_000_000)).unwrap_err();
        assert!(
            matches!(&err, TrustError::WrongTyp { typ: t, .. } if t.as_deref() == typ),
            "{err}"
        );
    }
}

#[test]
fn statement_iss_not_sub_expired_or_without_iat_is_refused() {
    let entity = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let mut claims = statement_claims(&entity, now);
    claims["sub"] = json!("https://other.example");
    let jws = sign(&entity, Some("entity-statement+jwt"), &claims);
    let err = verify_entity_statement(&jws, UnixTime(now)).unwrap_err();
    assert!(matches!(err, TrustError::SubjectMismatch { .. }), "{err}");

    let claims = statement_claims(&entity, now);
    let jws = sign(&entity, Some("entity-statement+jwt"), &claims);
    let exp = now + 365 * 86_400;
    assert!(verify_entity_statement(&jws, UnixTime(exp + 60)).is_ok());
    let err = verify_entity_statement(&jws, UnixTime(exp + 61)).unwrap_err();
    assert!(matches!(err, TrustError::Expired { .. }), "{err}");

    let mut claims = statement_claims(&entity, now);
    claims.as_object_mut().unwrap().remove("iat");
    let jws = sign(&entity, Some("entity-statement+jwt"), &claims);
    let err = verify_entity_statement(&jws, UnixTime(now)).unwrap_err();
    assert!(
        matches!(err, TrustError::MissingClaim { claim: "iat", .. }),
        "{err}"
    );
}

#[test]
fn statement_with_none_or_hmac_is_refused() {
    let entity = key(Algorithm::RS256);
    let claims = statement_claims(&entity, 1_800_000_000);
    let signed = sign(&entity, Some("entity-statement+jwt"), &claims);
    let payload = signed.split('.').nth(1).unwrap();
    let kid = entity.kid().unwrap();
    for alg in ["none", "HS256", "RS512"] {
        let header = relier_jose::b64::encode(
            json!({"alg": alg, "typ": "entity-statement+jwt", "kid": kid})
                .to_string()
                .as_bytes(),
        );
        let jws = format!("{header}.{payload}.AAAA");
        let err = verify_entity_statement(&jws, UnixTime(1_800_000_000)).unwrap_err();
        assert!(
            matches!(err, TrustError::AlgorithmRefused { .. }),
            "{alg}: {err}"
        );
    }
}

#[test]
fn ps256_and_es256_entity_keys_verify() {
    for alg in [Algorithm::PS256, Algorithm::ES256] {
        let entity = key(alg);
        let now = 1_800_000_000;
        let jws = sign(
            &entity,
            Some("entity-statement+jwt"),
            &statement_claims(&entity, now),
        );
        let st = verify_entity_statement(&jws, UnixTime(now)).unwrap();
        let signing = key(Algorithm::RS256);
        let set = sign(&entity, Some("jwk-set+jwt"), &jwks_claims(&signing, now));
        verify_signed_jwks(&set, &st.keys, BROKER, UnixTime(now)).unwrap();
    }
}

#[test]
fn signed_jwks_typ_absent_jwk_set_jwt_or_jws_only() {
    let entity = key(Algorithm::RS256);
    let signing = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let pins = pinned(&[&entity]);
    for typ in [None, Some("jwk-set+jwt"), Some("JWS")] {
        let jws = sign(&entity, typ, &jwks_claims(&signing, now));
        verify_signed_jwks(&jws, &pins, BROKER, UnixTime(now)).unwrap();
    }
    for typ in ["JWT", "entity-statement+jwt", "jws"] {
        let jws = sign(&entity, Some(typ), &jwks_claims(&signing, now));
        let err = verify_signed_jwks(&jws, &pins, BROKER, UnixTime(now)).unwrap_err();
        assert!(matches!(err, TrustError::WrongTyp { .. }), "{typ}: {err}");
    }
}

#[test]
fn signed_jwks_by_an_unpinned_key_is_refused_naming_the_kid() {
    let entity = key(Algorithm::RS256);
    let rogue = key(Algorithm::RS256);
    let signing = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let jws = sign(&rogue, Some("JWS"), &jwks_claims(&signing, now));
    let err = verify_signed_jwks(&jws, &pinned(&[&entity]), BROKER, UnixTime(now)).unwrap_err();
    assert!(
        matches!(&err, TrustError::UnknownKid { kid, .. } if kid == rogue.kid().unwrap()),
        "{err}"
    );
    assert!(err.to_string().contains(rogue.kid().unwrap()), "{err}");
    // The rogue key claiming the pinned kid: a bad signature.
    let forged = rogue.clone().with_kid(entity.kid().unwrap());
    let jws = sign(&forged, Some("JWS"), &jwks_claims(&signing, now));
    let err = verify_signed_jwks(&jws, &pinned(&[&entity]), BROKER, UnixTime(now)).unwrap_err();
    assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
}

#[test]
fn signed_jwks_iss_mismatch_expired_and_private_keys_are_refused() {
    let entity = key(Algorithm::RS256);
    let signing = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let pins = pinned(&[&entity]);

    let mut claims = jwks_claims(&signing, now);
    claims["iss"] = json!("https://evil.example");
    let jws = sign(&entity, None, &claims);
    let err = verify_signed_jwks(&jws, &pins, BROKER, UnixTime(now)).unwrap_err();
    assert!(
        matches!(&err, TrustError::IssuerMismatch { expected, found, .. }
            if expected == BROKER && found == "https://evil.example"),
        "{err}"
    );

    let jws = sign(&entity, None, &jwks_claims(&signing, now));
    let err = verify_signed_jwks(&jws, &pins, BROKER, UnixTime(now + 3600 + 61)).unwrap_err();
    assert!(matches!(err, TrustError::Expired { .. }), "{err}");

    let mut claims = jwks_claims(&signing, now);
    let mut private = signing.public_jwk().unwrap();
    private.d = Some(zeroize::Zeroizing::new("AQAB".to_owned()));
    let private = serde_json::to_value(private).unwrap();
    claims["keys"] = json!([private]);
    let jws = sign(&entity, None, &claims);
    let err = verify_signed_jwks(&jws, &pins, BROKER, UnixTime(now)).unwrap_err();
    assert!(matches!(err, TrustError::PrivateKey { .. }), "{err}");
}

#[test]
fn signed_jwks_response_content_type_and_status() {
    let entity = key(Algorithm::RS256);
    let signing = key(Algorithm::RS256);
    let now = 1_800_000_000;
    let pins = pinned(&[&entity]);
    let jws = sign(&entity, Some("jwk-set+jwt"), &jwks_claims(&signing, now));
    let resp = |status: u16, ct: &str| HttpResponse {
        status,
        content_type: Some(ct.to_owned()),
        www_authenticate: None,
        cache_control: None,
        body: jws.clone().into_bytes(),
    };
    let url = "https://isb-test.op.fi/jwks/broker-signed";
    for ct in [
        "application/jwk-set+jwt",
        "application/jwt; charset=utf-8",
        "application/jose",
    ] {
        let keys = key_set_from_signed_response(url, &resp(200, ct), &pins, BROKER, UnixTime(now))
            .unwrap();
        assert_eq!(keys.len(), 1);
    }
    for ct in ["application/json", "application/jwk-set+json", "text/plain"] {
        let err = signed_jwks_from_response(url, &resp(200, ct), &pins, BROKER, UnixTime(now))
            .unwrap_err();
        assert!(matches!(err, TrustError::ContentType { .. }), "{ct}: {err}");
    }
    let err = signed_jwks_from_response(
        url,
        &resp(500, "application/jwk-set+jwt"),
        &pins,
        BROKER,
        UnixTime(now),
    )
    .unwrap_err();
    assert!(
        matches!(err, TrustError::Status { status: 500, .. }),
        "{err}"
    );
}
