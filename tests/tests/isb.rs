//! The OP Identity Service Broker stand-in against a hand-made Service Provider: the ISB
//! README's flow works (a nested ID token the SP opens with its encryption key and verifies
//! with the broker's signed JWKS), and every deviation is refused with the failed check named —
//! unsigned or non-RS256 request objects, a request object signed by a key outside the SP's
//! signed JWKS, a short nonce, a reused or missing `jti`, an assertion `aud` other than the
//! token endpoint, SP keys not verifiable through its statement.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::HashMap;

use axum::Router;
use axum::routing::get;
use relier_jose::jwe::{
    ContentEncAlg, DecryptionKey, DecryptionKeys, JweExpectation, KeyManagementAlg, decrypt_compact,
};
use relier_jose::jws::{Header, UnverifiedJws, sign_compact};
use relier_jose::{Algorithm, JwkSet, SigningKey, VerifyingKey};
use relier_tests::standins::isb::{Isb, PERSON, SIGNED_JWKS_PATH};
use serde_json::{Value, json};

const CLIENT_ID: &str = "saippuakauppias";
const REDIRECT: &str = "https://sp.example/oauth/code";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rs256() -> SigningKey {
    let k = SigningKey::generate(Algorithm::RS256, Some(2048)).unwrap();
    let kid = k.thumbprint_sha256().unwrap();
    k.with_kid(kid)
}

fn jws(key: &SigningKey, claims: &Value, typ: Option<&str>) -> String {
    let header = Header {
        typ: typ.map(str::to_owned),
        ..Default::default()
    };
    sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap()
}

/// The Service Provider: entity key, signing key, encryption key, its signed JWKS served on
/// loopback (signed by `jwks_signer`, normally the entity key).
struct Sp {
    entity: SigningKey,
    sig: SigningKey,
    enc: DecryptionKey,
    statement: String,
    _task: tokio::task::JoinHandle<()>,
}

impl Sp {
    async fn start(jwks_signer: Option<SigningKey>) -> Sp {
        let entity = rs256();
        let sig = rs256();
        let enc = DecryptionKey::generate_rsa(2048).unwrap();
        let enc_kid = enc.thumbprint_sha256().unwrap();
        let enc = enc.with_kid(enc_kid);
        let entity_id = "https://sp.example".to_owned();
        let mut sig_jwk = sig.public_jwk().unwrap();
        sig_jwk.use_ = Some("sig".into());
        let mut enc_jwk = enc.public_jwk().unwrap();
        enc_jwk.use_ = Some("enc".into());
        let signed = jws(
            jwks_signer.as_ref().unwrap_or(&entity),
            &json!({"keys": [sig_jwk, enc_jwk], "iss": entity_id, "sub": entity_id, "iat": now(), "exp": now() + 3600}),
            Some("jwk-set+jwt"),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/signed-jwks", l.local_addr().unwrap());
        let app = Router::new().route("/signed-jwks", get(move || async move { signed }));
        let task = tokio::spawn(async move {
            axum::serve(l, app).await.unwrap();
        });
        let statement = jws(
            &entity,
            &json!({
                "iss": entity_id, "sub": entity_id, "iat": now(), "exp": now() + 86400,
                "jwks": {"keys": [entity.public_jwk().unwrap()]},
                "metadata": {"openid_relying_party": {
                    "redirect_uris": ["https://sp.example/oauth/*"],
                    "application_type": "web",
                    "id_token_signed_response_alg": "RS256",
                    "id_token_encrypted_response_alg": "RSA-OAEP",
                    "id_token_encrypted_response_enc": "A128CBC-HS256",
                    "request_object_signing_alg": "RS256",
                    "token_endpoint_auth_method": "private_key_jwt",
                    "token_endpoint_auth_signing_alg": "RS256",
                    "client_registration_types": [],
                    "organization_name": "Saippuakauppias",
                    "signed_jwks_uri": uri,
                }},
            }),
            Some("entity-statement+jwt"),
        );
        Sp {
            entity,
            sig,
            enc,
            statement,
            _task: task,
        }
    }

    fn request_claims(nonce: &str, jti: &str) -> Value {
        json!({
            "client_id": CLIENT_ID, "iss": CLIENT_ID, "redirect_uri": REDIRECT,
            "response_type": "code", "scope": "openid profile personal_identity_code",
            "nonce": nonce, "state": "st-1", "exp": now() + 600, "jti": jti,
            "ftn_spname": "Soap for the people", "ui_locales": "fi",
        })
    }

    fn assertion(&self, aud: &str, jti: Option<&str>) -> String {
        let mut c = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": aud, "exp": now() + 600});
        if let Some(j) = jti {
            c["jti"] = j.into();
        }
        jws(&self.sig, &c, Some("JWT"))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// `GET /oauth/authorize?request=…`: the redirect's query, or the refusal's status and text.
async fn authorize(isb: &Isb, request: &str) -> Result<HashMap<String, String>, (u16, String)> {
    let url = format!(
        "{}/oauth/authorize?{}",
        isb.issuer(),
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("request", request)
            .finish()
    );
    let r = client().get(url).send().await.unwrap();
    if r.status().is_redirection() {
        let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        assert!(loc.as_str().starts_with(REDIRECT));
        return Ok(loc.query_pairs().into_owned().collect());
    }
    Err((r.status().as_u16(), r.text().await.unwrap()))
}

async fn token(isb: &Isb, code: &str, assertion: &str) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", assertion)
        .finish();
    let r = client()
        .post(isb.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

async fn onboarded() -> (Isb, Sp) {
    let isb = Isb::start().await.unwrap();
    let sp = Sp::start(None).await;
    isb.onboard(CLIENT_ID, &sp.statement).unwrap();
    (isb, sp)
}

const NONCE: &str = "abcdefghijklmnopqrstuv";

#[tokio::test]
async fn the_readme_flow_yields_a_nested_id_token_verifiable_through_the_brokers_statement() {
    let (isb, sp) = onboarded().await;
    let req = jws(&sp.sig, &Sp::request_claims(NONCE, "j1"), None);
    let q = authorize(&isb, &req).await.unwrap();
    assert_eq!(q["state"], "st-1");
    let (status, body) = token(
        &isb,
        &q["code"],
        &sp.assertion(&isb.token_endpoint(), Some("a1")),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // §12: the broker's statement, self-signed; §14: its signed JWKS, typ JWS, signed by an
    // entity key of the statement.
    let statement = isb.entity_statement();
    let st = UnverifiedJws::parse(&statement).unwrap();
    assert_eq!(st.header().typ.as_deref(), Some("entity-statement+jwt"));
    let claims: Value = serde_json::from_slice(st.unverified_payload()).unwrap();
    let entity_keys: JwkSet = serde_json::from_value(claims["jwks"].clone()).unwrap();
    let entity = VerifyingKey::from_jwk(&entity_keys.keys[0]).unwrap();
    st.verify(Algorithm::RS256, &entity).unwrap();
    let op = &claims["metadata"]["openid_provider"];
    assert_eq!(op["issuer"], isb.issuer());
    assert_eq!(
        op["signed_jwks_uri"],
        format!("{}{SIGNED_JWKS_PATH}", isb.issuer())
    );
    assert!(op.get("jwks_uri").is_none());
    let r = client()
        .get(op["signed_jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/jwk-set+jwt");
    let signed = r.text().await.unwrap();
    let sj = UnverifiedJws::parse(&signed).unwrap();
    assert_eq!(sj.header().typ.as_deref(), Some("JWS"));
    let set: Value = serde_json::from_slice(sj.verify(Algorithm::RS256, &entity).unwrap()).unwrap();
    let broker_keys: JwkSet = serde_json::from_value(json!({"keys": set["keys"]})).unwrap();
    // No discovery document (§11: removed).
    let r = client()
        .get(format!("{}/.well-known/openid-configuration", isb.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // §9: JWE RSA-OAEP / A128CBC-HS256 to the SP's encryption key, inner RS256.
    let keys = DecryptionKeys::new().with_key(sp.enc.clone()).unwrap();
    let inner = decrypt_compact(
        body["id_token"].as_str().unwrap(),
        &JweExpectation::new(KeyManagementAlg::RsaOaep, ContentEncAlg::A128CbcHs256),
        &keys,
    )
    .unwrap();
    let inner = std::str::from_utf8(inner.plaintext()).unwrap().to_owned();
    let idt = UnverifiedJws::parse(&inner).unwrap();
    let kid = idt.header().kid.clone().unwrap();
    let key = VerifyingKey::from_jwk(broker_keys.find(&kid).next().unwrap()).unwrap();
    let c: Value = serde_json::from_slice(idt.verify(Algorithm::RS256, &key).unwrap()).unwrap();
    assert_eq!(c["iss"], isb.issuer());
    assert_eq!(c["aud"], CLIENT_ID);
    assert_eq!(c["nonce"], NONCE);
    assert_eq!(c["personal_identity_code"], PERSON.personal_identity_code);
    assert_eq!(c["birthdate"], PERSON.birthdate);
    assert_eq!(isb.seen()[0].sub, c["sub"].as_str().unwrap());
    // §10: the profile as JSON with the same sub.
    let r = client()
        .get(format!("{}/oauth/profile", isb.issuer()))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let profile: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(profile["sub"], c["sub"]);
    assert_eq!(profile["name"], PERSON.name);
    assert!(isb.complaints().is_empty(), "{:?}", isb.complaints());
    drop(sp.entity);
}

/// Each request object refused, with the check it fails.
#[tokio::test]
async fn request_objects_that_break_the_contract_are_refused() {
    let (isb, sp) = onboarded().await;
    let good = Sp::request_claims(NONCE, "r0");
    let es256 = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("e");
    let hs256 = SigningKey::hmac(Algorithm::HS256, &[7u8; 32])
        .unwrap()
        .with_kid("h");
    let stranger = rs256();
    let unsigned = format!(
        "{}.{}.",
        relier_jose::b64::encode(br#"{"alg":"none"}"#),
        relier_jose::b64::encode(good.to_string().as_bytes())
    );
    let with = |k: &str, v: Value| {
        let mut c = Sp::request_claims(NONCE, &format!("r-{k}"));
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = Sp::request_claims(NONCE, &format!("r-no-{k}"));
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let cases: Vec<(String, &str)> = vec![
        (unsigned, "alg \"none\""),
        (jws(&es256, &good, None), "alg \"ES256\""),
        (jws(&hs256, &good, None), "alg \"HS256\""),
        (
            jws(&stranger, &good, None),
            "not a signing key of the SP's signed JWKS",
        ),
        (
            jws(&sp.sig, &with("nonce", "short-nonce".into()), None),
            "nonce of 11 characters",
        ),
        (jws(&sp.sig, &without("nonce"), None), "no nonce"),
        (jws(&sp.sig, &without("jti"), None), "no jti"),
        (jws(&sp.sig, &without("exp"), None), "no exp"),
        (
            jws(&sp.sig, &with("exp", (now() - 10).into()), None),
            "expired",
        ),
        (
            jws(&sp.sig, &with("iss", "someone".into()), None),
            "iss is not the client_id",
        ),
        (
            jws(&sp.sig, &with("scope", "openid profile".into()), None),
            "scope lacks personal_identity_code",
        ),
        (
            jws(
                &sp.sig,
                &with("scope", "openid personal_identity_code email".into()),
                None,
            ),
            "scope \"email\"",
        ),
        (
            jws(
                &sp.sig,
                &with("redirect_uri", "https://evil.example/cb".into()),
                None,
            ),
            "not registered",
        ),
        (
            jws(&sp.sig, &with("ui_locales", "de".into()), None),
            "ui_locales \"de\"",
        ),
        (
            jws(&sp.sig, &with("ftn_idp_id", "fi-unknown".into()), None),
            "unknown ftn_idp_id",
        ),
        (jws(&sp.sig, &without("ftn_spname"), None), "no ftn_spname"),
    ];
    for (request, why) in cases {
        let (status, text) = authorize(&isb, &request).await.unwrap_err();
        assert_eq!(status, 400, "{why}");
        assert!(text.contains(why), "expected {why:?}, got {text:?}");
    }
    // A jti is used once.
    let once = jws(&sp.sig, &Sp::request_claims(NONCE, "only-once"), None);
    authorize(&isb, &once).await.unwrap();
    let (_, text) = authorize(&isb, &once).await.unwrap_err();
    assert!(text.contains("jti \"only-once\" used before"), "{text}");
    // Plain OAuth parameters, without a request object.
    let r = client()
        .get(format!(
            "{}/oauth/authorize?client_id={CLIENT_ID}&response_type=code&scope=openid",
            isb.issuer()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no request parameter"));
}

#[tokio::test]
async fn client_assertions_that_break_the_contract_are_refused() {
    let (isb, sp) = onboarded().await;
    let code = |n: &str| {
        let req = jws(&sp.sig, &Sp::request_claims(NONCE, n), None);
        let isb = &isb;
        async move { authorize(isb, &req).await.unwrap()["code"].clone() }
    };
    let endpoint = isb.token_endpoint();
    for (assertion, why) in [
        (
            sp.assertion(isb.issuer(), Some("x1")),
            "is not the token endpoint URL",
        ),
        (sp.assertion(&endpoint, None), "no jti"),
        (
            jws(
                &rs256(),
                &json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": endpoint, "exp": now() + 60, "jti": "x2"}),
                None,
            ),
            "not a signing key of the SP's signed JWKS",
        ),
        (
            jws(
                &sp.sig,
                &json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": endpoint, "jti": "x3"}),
                None,
            ),
            "no exp",
        ),
    ] {
        let c = code(why).await;
        let (status, body) = token(&isb, &c, &assertion).await;
        assert_eq!(status, 400, "{why}");
        assert_eq!(body["error"], "unauthorized_client");
        assert!(
            body["error_description"].as_str().unwrap().contains(why),
            "{why}: {body}"
        );
    }
    let c = code("reuse-1").await;
    assert_eq!(
        token(&isb, &c, &sp.assertion(&endpoint, Some("same")))
            .await
            .0,
        200
    );
    let c = code("reuse-2").await;
    let (status, body) = token(&isb, &c, &sp.assertion(&endpoint, Some("same"))).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("used before"),
        "{body}"
    );
}

#[tokio::test]
async fn sp_keys_not_verifiable_through_its_statement_are_refused() {
    // The SP's signed JWKS signed by a key its statement does not name.
    let isb = Isb::start().await.unwrap();
    let sp = Sp::start(Some(rs256())).await;
    isb.onboard(CLIENT_ID, &sp.statement).unwrap();
    let req = jws(&sp.sig, &Sp::request_claims(NONCE, "k1"), None);
    let (status, text) = authorize(&isb, &req).await.unwrap_err();
    assert_eq!(status, 400);
    assert!(text.contains("SP signed JWKS: kid"), "{text}");

    // A statement whose self-signature is broken, or not a statement at all.
    let good = Sp::start(None).await;
    // A character inside the signature changed (not the last: its low bits are padding).
    let mut broken: Vec<char> = good.statement.chars().collect();
    let at = broken.len() - 10;
    broken[at] = if broken[at] == 'A' { 'B' } else { 'A' };
    let broken: String = broken.into_iter().collect();
    let e = isb.onboard(CLIENT_ID, &broken).unwrap_err();
    assert!(e.contains("SP statement: signature"), "{e}");
    let other_typ = jws(&good.entity, &json!({"iss": "a"}), Some("JWT"));
    let e = isb.onboard(CLIENT_ID, &other_typ).unwrap_err();
    assert!(e.contains("typ"), "{e}");
    // Nobody onboarded under this broker: refused.
    let fresh = Isb::start().await.unwrap();
    let (_, text) = authorize(&fresh, &req).await.unwrap_err();
    assert!(text.contains("no SP onboarded"), "{text}");
}
