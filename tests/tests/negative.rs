//! Negative tests: a misbehaving OP breaks one rule at a time; relier must reject each with its
//! specific error, and never call the next endpoint after a bad response (the RP conformance
//! suite's criterion).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::UnixTime;
use relier::core::authorize::CallbackParams;
use relier::core::encryption::{
    ContentEncAlg, DecryptionKey, DecryptionKeys, EncryptedResponse, KeyManagementAlg,
    ResponseEncryption,
};
use relier::core::jwks::DEFAULT_REFETCH_INTERVAL_SECS;
use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
use relier::{Clock, Error, HttpClient, RelyingParty, SystemClock};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Encryption, Jarm, Misbehavior, Signing};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

async fn rp(op: &BadOp) -> Result<RelyingParty, Error> {
    rp_with_clock(op, Arc::new(SystemClock)).await
}

async fn rp_with_clock(op: &BadOp, clock: Arc<dyn Clock>) -> Result<RelyingParty, Error> {
    Ok(builder(op).await?.clock(clock).build())
}

async fn builder(op: &BadOp) -> Result<relier::RelyingPartyBuilder, Error> {
    let http = HttpClient::new(&Default::default())?;
    let issuer = IssuerUrl::new(op.issuer())?;
    let md = relier::discover(&http, &issuer).await?;
    let auth = ClientAuth::client_secret_basic(ClientId::new(CLIENT_ID)?, Secret::new("s3cret"));
    Ok(RelyingParty::builder(http, md, auth).redirect_uri(RedirectUrl::new(REDIRECT)?))
}

/// The system clock moved forward by a number of seconds the test sets.
#[derive(Debug, Default)]
struct AheadClock(AtomicU64);

impl Clock for AheadClock {
    fn now(&self) -> UnixTime {
        UnixTime(SystemClock.now().0 + self.0.load(Ordering::SeqCst))
    }
}

/// A clock that stands still.
#[derive(Debug)]
struct FixedClock(UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

/// Authorization request → the OP's immediate redirect → callback → token.
async fn code_flow(rp: &RelyingParty) -> Result<relier::Login, Error> {
    let (url, pending) = rp.authorization_url(&AuthorizationParams::default())?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser.get(url.as_str()).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let callback = CallbackParams::from_url(&url::Url::parse(&location).unwrap())?;
    rp.complete_login(callback, &pending).await
}

/// The code flow, then userinfo.
async fn login(rp: &RelyingParty) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let done = code_flow(rp).await?;
    rp.userinfo(&done.tokens.access_token, &done.id_token.claims().sub)
        .await
}

async fn expect_rejected(m: Misbehavior, want: &str) -> BadOp {
    let op = BadOp::start().await.unwrap();
    op.set(m);
    let rp = rp(&op).await.unwrap();
    let err = login(&rp).await.expect_err("the login must be rejected");
    let msg = err.to_string();
    assert!(msg.contains(want), "expected {want:?} in {msg:?}");
    assert_eq!(
        op.userinfo_calls(),
        0,
        "userinfo must not be called after a rejection"
    );
    op
}

fn claim(name: &str, v: serde_json::Value) -> Vec<(String, Option<serde_json::Value>)> {
    vec![(name.into(), Some(v))]
}

fn without(name: &str) -> Vec<(String, Option<serde_json::Value>)> {
    vec![(name.into(), None)]
}

/// `oidcc-client-test`: the code flow, the token endpoint and UserInfo, all well behaved.
#[tokio::test]
async fn oidcc_client_test_happy_path() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    let info = login(&rp).await.unwrap();
    assert_eq!(info["sub"], "alice");
    assert_eq!(op.token_calls(), 1);
}

/// `oidcc-client-test-idtoken-sig-rs256`: an ID token signed RS256 with the OP's published key
/// (OIDC Core §3.1.3.7 (6), (7)) is verified and accepted.
#[tokio::test]
async fn oidcc_client_test_idtoken_sig_rs256() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    let done = code_flow(&rp).await.unwrap();
    assert_eq!(done.id_token.alg(), relier::jose::Algorithm::RS256);
    assert_eq!(done.id_token.claims().sub, "alice");
}

/// `oidcc-client-test-signing-key-rotation`: after a first login, the OP rotates its signing key;
/// the second ID token's new kid makes the RP refetch the JWKS (OIDC Core §10.1.1) and accept it.
#[tokio::test]
async fn oidcc_client_test_signing_key_rotation() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1);
    op.rotate_key().unwrap();
    let second = login(&rp).await.unwrap();
    assert_eq!(second["sub"], "alice");
    assert_eq!(
        op.jwks_calls(),
        2,
        "the rotation made the RP refetch the JWKS"
    );
}

/// The `kid` in a verified ID token's JWS header.
fn kid(token: &relier::core::id_token::VerifiedIdToken) -> String {
    let raw = token.raw().expose();
    let header = raw.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&relier_jose::b64::decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// `oidcc-client-test-signing-key-rotation-just-before-signing`: the RP holds the OP's JWKS from
/// a first login; the OP then rotates its signing key just before it signs the next ID token, so
/// the token's kid is in no JWKS the RP has. The unknown kid makes the RP refetch the JWKS
/// (OIDC Core §10.1.1) and the login succeeds, verified with the new key.
#[tokio::test]
async fn oidcc_client_test_signing_key_rotation_just_before_signing() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    let first = code_flow(&rp).await.unwrap();
    assert_eq!(kid(&first.id_token), "rsa-1");
    assert_eq!(op.jwks_calls(), 1);
    op.set(Misbehavior {
        rotate_key_before_signing: true,
        ..Default::default()
    });
    let (url, pending) = rp
        .authorization_url(&AuthorizationParams::default())
        .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser.get(url.as_str()).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let callback = CallbackParams::from_url(&url::Url::parse(&location).unwrap()).unwrap();
    // the authorization is done with the old key still current: the rotation comes at signing
    assert_eq!((op.token_calls(), op.jwks_calls()), (1, 1));
    let second = rp.complete_login(callback, &pending).await.unwrap();
    assert_eq!(kid(&second.id_token), "rsa-rotated-1");
    assert_eq!(second.id_token.claims().sub, "alice");
    assert_eq!(
        op.jwks_calls(),
        2,
        "the unknown kid made the RP refetch the JWKS"
    );
    let info = rp
        .userinfo(&second.tokens.access_token, &second.id_token.claims().sub)
        .await
        .unwrap();
    assert_eq!(info["sub"], "alice");
}

/// `oidcc-client-test-discovery-openid-config`: the RP reads the OP's
/// `/.well-known/openid-configuration` (OIDC Discovery 1.0 §4) and logs in with the endpoints it
/// names.
#[tokio::test]
async fn oidcc_client_test_discovery_openid_config() {
    let op = BadOp::start().await.unwrap();
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer()).unwrap())
        .await
        .unwrap();
    let iss = op.issuer();
    assert_eq!(md.issuer.as_str(), iss);
    assert_eq!(md.authorization_endpoint, format!("{iss}/authorize"));
    assert_eq!(md.token_endpoint.as_deref(), Some(&*format!("{iss}/token")));
    assert_eq!(md.jwks_uri.as_deref(), Some(&*format!("{iss}/jwks")));
    let info = login(&rp(&op).await.unwrap()).await.unwrap();
    assert_eq!(info["sub"], "alice");
    assert_eq!((op.token_calls(), op.userinfo_calls()), (1, 1));
}

/// `oidcc-client-test-discovery-jwks-uri-keys`: the ID token is verified with the keys fetched
/// from the discovered `jwks_uri`, once; a token signed by a key not there is refused.
#[tokio::test]
async fn oidcc_client_test_discovery_jwks_uri_keys() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    assert_eq!(op.jwks_calls(), 0);
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1);
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1, "the keys are cached");
    op.set(Misbehavior {
        signing: Signing::UnpublishedKeySameKid,
        ..Default::default()
    });
    let err = login(&rp).await.unwrap_err();
    assert_eq!(err.to_string(), "id_token: signature verification failed");
}

/// A relying party re-made with a new credential (RP key rotation) keeps the OP's JWKS cache.
#[tokio::test]
async fn new_credential_keeps_the_jwks_cache() {
    let op = BadOp::start().await.unwrap();
    let rp = rp(&op).await.unwrap();
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1);
    let again = rp.with_client_auth(rp.auth().clone()).unwrap();
    login(&again).await.unwrap();
    assert_eq!(
        op.jwks_calls(),
        1,
        "the second relying party fetched the JWKS again"
    );
    let other = ClientAuth::none(ClientId::new("someone-else").unwrap());
    assert!(rp.with_client_auth(other).is_err());
}

#[tokio::test]
async fn oidcc_client_test_discovery_issuer_mismatch() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        discovery_issuer: Some("http://127.0.0.1:9/other".into()),
        ..Default::default()
    });
    let err = rp(&op).await.unwrap_err();
    assert!(
        err.to_string().starts_with("discovery: issuer mismatch"),
        "{err}"
    );
}

/// `fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails`:
/// a state the RP did not send (RFC 6749 §10.12) stops the login before the token endpoint.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_ensure_authorization_response_with_invalid_state_fails()
 {
    let op = expect_rejected(
        Misbehavior {
            callback_state: Some("forged".into()),
            ..Default::default()
        },
        "callback: state mismatch",
    )
    .await;
    assert_eq!(op.token_calls(), 0);
}

/// `fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails`:
/// no state at all stops the login before the token endpoint.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_ensure_authorization_response_with_invalid_missing_state_fails()
 {
    let op = expect_rejected(
        Misbehavior {
            callback_state: Some(String::new()),
            ..Default::default()
        },
        "callback: state is missing",
    )
    .await;
    assert_eq!(op.token_calls(), 0);
}

/// `fapi2-security-profile-final-client-test-invalid-authorization-response-iss`: an `iss`
/// authorization response parameter other than the issuer (RFC 9207 §2.4) stops the login.
#[tokio::test]
async fn fapi2_security_profile_final_client_test_invalid_authorization_response_iss() {
    let op = expect_rejected(
        Misbehavior {
            callback_iss: Some("http://127.0.0.1:9/attacker".into()),
            ..Default::default()
        },
        "callback: iss mismatch",
    )
    .await;
    assert_eq!(op.token_calls(), 0);
}

/// `fapi2-security-profile-final-client-test-remove-authorization-response-iss`: no `iss` where
/// the OP advertises `authorization_response_iss_parameter_supported` (RFC 9207 §2.4).
#[tokio::test]
async fn fapi2_security_profile_final_client_test_remove_authorization_response_iss() {
    // the OP advertises authorization_response_iss_parameter_supported
    let op = expect_rejected(
        Misbehavior {
            callback_iss: Some(String::new()),
            ..Default::default()
        },
        "callback: iss is missing",
    )
    .await;
    assert_eq!(op.token_calls(), 0);
}

#[tokio::test]
async fn error_response_surfaces() {
    let op = expect_rejected(
        Misbehavior {
            callback_error: Some(("access_denied".into(), "the user said no".into())),
            ..Default::default()
        },
        "the OP returned error access_denied: the user said no",
    )
    .await;
    assert_eq!(op.token_calls(), 0);
}

#[tokio::test]
async fn token_error_surfaces() {
    expect_rejected(
        Misbehavior {
            token_error: Some("invalid_grant".into()),
            ..Default::default()
        },
        "token: the OP returned error invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_invalid_iss() {
    expect_rejected(
        Misbehavior {
            claims: claim("iss", json!("https://evil.example")),
            ..Default::default()
        },
        "id_token: iss mismatch",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_invalid_aud() {
    expect_rejected(
        Misbehavior {
            claims: claim("aud", json!("someone-else")),
            ..Default::default()
        },
        "id_token: aud mismatch",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_missing_aud() {
    expect_rejected(
        Misbehavior {
            claims: without("aud"),
            ..Default::default()
        },
        "id_token: required claim aud is missing",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_missing_sub() {
    expect_rejected(
        Misbehavior {
            claims: without("sub"),
            ..Default::default()
        },
        "id_token: required claim sub is missing",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_missing_iat() {
    expect_rejected(
        Misbehavior {
            claims: without("iat"),
            ..Default::default()
        },
        "id_token: required claim iat is missing",
    )
    .await;
}

#[tokio::test]
async fn iat_in_the_future() {
    let future = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    expect_rejected(
        Misbehavior {
            claims: claim("iat", json!(future)),
            ..Default::default()
        },
        "is in the future",
    )
    .await;
}

#[tokio::test]
async fn expired() {
    expect_rejected(
        Misbehavior {
            claims: claim("exp", json!(1_000_000_000u64)),
            ..Default::default()
        },
        "id_token: expired at 1000000000",
    )
    .await;
}

#[tokio::test]
async fn oidcc_client_test_nonce_invalid() {
    expect_rejected(
        Misbehavior {
            claims: claim("nonce", json!("not-the-nonce")),
            ..Default::default()
        },
        "id_token: nonce mismatch",
    )
    .await;
}

#[tokio::test]
async fn azp_required_with_several_audiences() {
    expect_rejected(
        Misbehavior {
            claims: claim("aud", json!([CLIENT_ID, "other"])),
            ..Default::default()
        },
        // the extra audience is untrusted before azp is even looked at
        "id_token: untrusted audience other",
    )
    .await;
}

#[tokio::test]
async fn azp_mismatch() {
    expect_rejected(
        Misbehavior {
            claims: claim("azp", json!("other-client")),
            ..Default::default()
        },
        "id_token: azp mismatch",
    )
    .await;
}

#[tokio::test]
async fn bad_signature() {
    expect_rejected(
        Misbehavior {
            signing: Signing::TamperedPayload,
            ..Default::default()
        },
        "id_token: signature verification failed",
    )
    .await;
}

/// The OpenID Foundation's `oidcc-client-test-invalid-sig-rs256`, end to end: a correctly
/// encoded RS256 signature with one byte flipped (see also relier-core's id_token conformance
/// tests for every algorithm).
#[tokio::test]
async fn oidcc_client_test_invalid_sig_rs256() {
    expect_rejected(
        Misbehavior {
            signing: Signing::FlippedSignatureByte,
            ..Default::default()
        },
        "id_token: signature verification failed",
    )
    .await;
}

#[tokio::test]
async fn alg_none() {
    expect_rejected(
        Misbehavior {
            signing: Signing::Unsigned,
            ..Default::default()
        },
        "id_token: alg none: unsigned tokens are rejected",
    )
    .await;
}

#[tokio::test]
async fn alg_confusion_rs256_to_hs256() {
    expect_rejected(
        Misbehavior {
            signing: Signing::HmacWithPublicKey,
            ..Default::default()
        },
        "id_token: alg mismatch: expected RS256, got HS256",
    )
    .await;
}

#[tokio::test]
async fn alg_not_the_registered_one() {
    expect_rejected(
        Misbehavior {
            signing: Signing::WrongAlg,
            ..Default::default()
        },
        "id_token: alg mismatch: expected RS256, got ES256",
    )
    .await;
}

#[tokio::test]
async fn unknown_crit() {
    expect_rejected(
        Misbehavior {
            signing: Signing::UnknownCrit,
            ..Default::default()
        },
        "id_token: unsupported crit header",
    )
    .await;
}

#[tokio::test]
async fn unpublished_key_with_published_kid() {
    expect_rejected(
        Misbehavior {
            signing: Signing::UnpublishedKeySameKid,
            ..Default::default()
        },
        "id_token: signature verification failed",
    )
    .await;
}

#[tokio::test]
async fn unpublished_key_is_refetched_once_then_rejected() {
    let op = expect_rejected(
        Misbehavior {
            signing: Signing::UnpublishedKeyNewKid,
            ..Default::default()
        },
        "id_token: no key with kid \"never-published\"",
    )
    .await;
    // initial fetch + exactly one refetch
    assert_eq!(op.jwks_calls(), 2);
}

#[tokio::test]
async fn refetch_is_rate_limited() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        signing: Signing::UnpublishedKeyNewKid,
        ..Default::default()
    });
    // One instant: the logins below fall inside the token-endpoint interval however slow the
    // machine.
    let rp = rp_with_clock(&op, Arc::new(FixedClock(SystemClock.now())))
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(login(&rp).await.is_err());
    }
    // five tokens with the same unknown kid within the interval: initial fetch + one refetch
    assert_eq!(op.jwks_calls(), 2);
}

/// A back-channel logout token (anyone can post one) signed by a key the OP never published,
/// under `kid`.
fn rogue_logout_token(op: &BadOp, now: u64, kid: &str) -> String {
    let rogue = relier::jose::SigningKey::generate(relier::jose::Algorithm::RS256, None)
        .unwrap()
        .with_kid(kid);
    let claims = json!({
        "iss": op.issuer(), "aud": CLIENT_ID, "iat": now, "jti": kid, "sid": "s1",
        "events": { relier::core::logout::BACKCHANNEL_LOGOUT_EVENT: {} },
    });
    let header = relier::jose::jws::Header {
        typ: Some("logout+jwt".into()),
        ..Default::default()
    };
    relier::jose::jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        &rogue,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap()
}

/// OIDC Core §10.1.1: the OP rotates twice, a second apart. An ID token from the token
/// endpoint (TLS to the OP, client authenticated) refetches once per unknown kid, so the login
/// after each rotation works; a logout token (anyone can post one) with an unknown kid waits
/// out the whole cool-down since the last refetch.
#[tokio::test]
async fn two_op_rotations_a_second_apart() {
    let op = BadOp::start().await.unwrap();
    let clock = Arc::new(AheadClock::default());
    let rp = rp_with_clock(&op, clock.clone()).await.unwrap();
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1);
    op.rotate_key().unwrap();
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 2, "the first rotation refetched");
    clock.0.store(1, Ordering::SeqCst);
    op.rotate_key().unwrap();
    let second = login(&rp).await.unwrap();
    assert_eq!(second["sub"], "alice");
    assert_eq!(op.jwks_calls(), 3, "the second rotation refetched");

    let err = rp
        .validate_logout_token(&rogue_logout_token(&op, clock.now().0, "rogue-1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rogue-1"), "{err}");
    assert_eq!(
        op.jwks_calls(),
        3,
        "a logout token refetched in the cool-down"
    );
    // A cool-down after the last refetch, the logout token may refetch (once).
    clock
        .0
        .store(1 + DEFAULT_REFETCH_INTERVAL_SECS, Ordering::SeqCst);
    for kid in ["rogue-2", "rogue-3"] {
        let token = rogue_logout_token(&op, clock.now().0, kid);
        assert!(rp.validate_logout_token(&token).await.is_err());
    }
    assert_eq!(op.jwks_calls(), 4, "one refetch per cool-down");
}

/// Concurrent logins with the OP's new kid share one JWKS fetch, and every one of them
/// verifies: those that checked their ID token before the fetch began take its answer, those
/// that checked while it was under way retry on its keys.
#[tokio::test]
async fn concurrent_logins_after_a_rotation_share_one_fetch() {
    const LOGINS: usize = 8;
    let op = BadOp::start().await.unwrap();
    let rp = Arc::new(rp(&op).await.unwrap());
    login(&rp).await.unwrap();
    assert_eq!(op.jwks_calls(), 1);
    op.rotate_key().unwrap();
    // The refetch answers only once every login holds its new ID token.
    op.hold_jwks_until_token_calls(op.token_calls() + LOGINS);
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..LOGINS {
        let rp = Arc::clone(&rp);
        logins.spawn(async move { login(&rp).await });
    }
    while let Some(done) = logins.join_next().await {
        assert_eq!(done.unwrap().unwrap()["sub"], "alice");
    }
    assert_eq!(op.jwks_calls(), 2, "one fetch for the new kid");
}

/// `oidcc-client-test-kid-absent-multiple-jwks`: no kid and two RS256 keys in the OP's JWKS.
/// The module lets an RP either try every key or refuse; relier refuses (no key guessing).
#[tokio::test]
async fn oidcc_client_test_kid_absent_multiple_jwks() {
    let op = BadOp::start().await.unwrap();
    op.publish_second_rsa_key(true);
    op.set(Misbehavior {
        signing: Signing::NoKidSeveralKeys,
        ..Default::default()
    });
    let rp = rp(&op).await.unwrap();
    let err = login(&rp).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the token has no kid and 2 keys fit RS256"),
        "{err}"
    );
}

#[tokio::test]
async fn kid_absent_single_key_is_accepted() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        signing: Signing::NoKidSeveralKeys,
        ..Default::default()
    });
    let rp = rp(&op).await.unwrap();
    assert!(login(&rp).await.is_ok());
}

#[tokio::test]
async fn oidcc_client_test_userinfo_invalid_sub() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        userinfo_sub: Some("mallory".into()),
        ..Default::default()
    });
    let rp = rp(&op).await.unwrap();
    let err = login(&rp).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "userinfo: sub mismatch: expected alice, got mallory"
    );
}

// ---- encrypted ID tokens and UserInfo (OIDC Core §10.2) ----

/// What the RP registered: ID tokens RSA-OAEP-256/A256GCM, UserInfo ECDH-ES/A128GCM.
const ID_TOKEN_ENC: ResponseEncryption =
    ResponseEncryption::new(KeyManagementAlg::RsaOaep256, ContentEncAlg::A256Gcm);
const USERINFO_ENC: ResponseEncryption =
    ResponseEncryption::new(KeyManagementAlg::EcdhEs, ContentEncAlg::A128Gcm);

struct RpKeys {
    rsa: DecryptionKey,
    ec: DecryptionKey,
}

fn rp_keys() -> RpKeys {
    RpKeys {
        rsa: DecryptionKey::generate_rsa(2048)
            .unwrap()
            .with_kid("rp-enc-rsa"),
        ec: DecryptionKey::generate(KeyManagementAlg::EcdhEs, Some("P-256"))
            .unwrap()
            .with_kid("rp-enc-ec"),
    }
}

fn keys(of: &[&DecryptionKey]) -> DecryptionKeys {
    let mut set = DecryptionKeys::new();
    for k in of {
        set.push((*k).clone()).unwrap();
    }
    set
}

async fn encrypting_rp(op: &BadOp, k: &RpKeys) -> RelyingParty {
    builder(op)
        .await
        .unwrap()
        .id_token_decryption(ID_TOKEN_ENC, keys(&[&k.rsa]))
        .userinfo_decryption(USERINFO_ENC, keys(&[&k.ec]))
        .build()
}

/// The OP encrypting both as registered.
fn behaving(k: &RpKeys) -> Misbehavior {
    Misbehavior {
        id_token_encryption: Some(Encryption::to(&k.rsa, ID_TOKEN_ENC.alg, ID_TOKEN_ENC.enc)),
        userinfo_encryption: Some(Encryption::to(&k.ec, USERINFO_ENC.alg, USERINFO_ENC.enc)),
        ..Default::default()
    }
}

async fn expect_encryption_rejected(k: &RpKeys, m: Misbehavior, want: &str) -> BadOp {
    let op = BadOp::start().await.unwrap();
    op.set(m);
    let err = login(&encrypting_rp(&op, k).await).await.unwrap_err();
    assert!(err.to_string().contains(want), "expected {want:?} in {err}");
    op
}

#[tokio::test]
async fn encrypted_id_token_and_userinfo_log_in() {
    let k = rp_keys();
    let op = BadOp::start().await.unwrap();
    op.set(behaving(&k));
    let info = login(&encrypting_rp(&op, &k).await).await.unwrap();
    assert_eq!(info["email"], "alice@example.com");
}

#[tokio::test]
async fn unencrypted_id_token_where_encryption_was_registered() {
    let k = rp_keys();
    let op = expect_encryption_rejected(
        &k,
        Misbehavior {
            id_token_encryption: None,
            ..behaving(&k)
        },
        "id_token: expected an encrypted response (JWE, registered RSA-OAEP-256/A256GCM)",
    )
    .await;
    assert_eq!(op.userinfo_calls(), 0);
}

#[tokio::test]
async fn jwe_with_another_alg_or_enc_than_registered() {
    let k = rp_keys();
    let other_alg = Encryption::to(&k.rsa, KeyManagementAlg::RsaOaep, ID_TOKEN_ENC.enc);
    expect_encryption_rejected(
        &k,
        Misbehavior {
            id_token_encryption: Some(other_alg),
            ..behaving(&k)
        },
        "JWE alg mismatch: registered RSA-OAEP-256, got \"RSA-OAEP\"",
    )
    .await;
    let other_enc = Encryption::to(&k.rsa, ID_TOKEN_ENC.alg, ContentEncAlg::A128CbcHs256);
    expect_encryption_rejected(
        &k,
        Misbehavior {
            id_token_encryption: Some(other_enc),
            ..behaving(&k)
        },
        "JWE enc mismatch: registered A256GCM, got \"A128CBC-HS256\"",
    )
    .await;
}

#[tokio::test]
async fn jwe_to_an_unknown_key() {
    let k = rp_keys();
    let stranger = DecryptionKey::generate_rsa(2048)
        .unwrap()
        .with_kid("not-the-rps");
    expect_encryption_rejected(
        &k,
        Misbehavior {
            id_token_encryption: Some(Encryption::to(
                &stranger,
                ID_TOKEN_ENC.alg,
                ID_TOKEN_ENC.enc,
            )),
            ..behaving(&k)
        },
        "no RP decryption key for kid \"not-the-rps\"",
    )
    .await;
}

#[tokio::test]
async fn jwe_to_a_retired_key_then_to_a_removed_one() {
    let k = rp_keys();
    let new = DecryptionKey::generate_rsa(2048)
        .unwrap()
        .with_kid("rp-enc-new");
    let op = BadOp::start().await.unwrap();
    // The OP still encrypts to the key the RP just rotated away from.
    op.set(behaving(&k));
    let rp = encrypting_rp(&op, &k).await;
    let rotated = rp.with_decryption_keys(EncryptedResponse::IdToken, keys(&[&new, &k.rsa]));
    login(&rotated).await.unwrap();
    // Once the retired key is removed, it no longer decrypts.
    let removed = rp.with_decryption_keys(EncryptedResponse::IdToken, keys(&[&new]));
    let err = login(&removed).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no RP decryption key for kid \"rp-enc-rsa\""),
        "{err}"
    );
}

#[tokio::test]
async fn compressed_jwe_is_refused() {
    let k = rp_keys();
    let zipped =
        Encryption::to(&k.rsa, ID_TOKEN_ENC.alg, ID_TOKEN_ENC.enc).with_header("zip", json!("DEF"));
    expect_encryption_rejected(
        &k,
        Misbehavior {
            id_token_encryption: Some(zipped),
            ..behaving(&k)
        },
        "JWE compression (zip) is refused",
    )
    .await;
}

#[tokio::test]
async fn unencrypted_userinfo_where_encryption_was_registered() {
    let k = rp_keys();
    let op = expect_encryption_rejected(
        &k,
        Misbehavior {
            userinfo_encryption: None,
            ..behaving(&k)
        },
        "userinfo: expected an encrypted response (JWE, registered ECDH-ES/A128GCM)",
    )
    .await;
    assert_eq!(op.userinfo_calls(), 1);
    // UserInfo to the RSA key with the EC registration: the alg is pinned.
    let wrong = Encryption::to(&k.rsa, ID_TOKEN_ENC.alg, USERINFO_ENC.enc);
    expect_encryption_rejected(
        &k,
        Misbehavior {
            userinfo_encryption: Some(wrong),
            ..behaving(&k)
        },
        "userinfo: JWE alg mismatch: registered ECDH-ES",
    )
    .await;
}

/// JARM registered (`authorization_signed_response_alg` ES256): a valid response logs in; each
/// broken one (JARM §2.4) is refused before the token endpoint, and so is a plain response.
#[tokio::test]
async fn jarm_responses_are_checked_before_the_token_endpoint() {
    let rule = relier::core::jarm::JarmRule::from_registration(
        json!({"authorization_signed_response_alg": "ES256"})
            .as_object()
            .unwrap(),
    )
    .unwrap()
    .unwrap();
    let op = BadOp::start().await.unwrap();
    let rp = builder(&op).await.unwrap().jarm(rule, None).build();
    op.set(Misbehavior {
        jarm: Some(Jarm::Normal),
        ..Default::default()
    });
    assert_eq!(login(&rp).await.unwrap()["sub"], "alice");
    assert_eq!(op.token_calls(), 1);
    for (jarm, want) in [
        (Jarm::WrongIss, "JARM: iss mismatch"),
        (Jarm::WrongAud, "JARM: aud does not contain the client_id"),
        (Jarm::BadSignature, "JARM: signature verification failed"),
        (Jarm::Expired, "JARM: expired"),
        (
            Jarm::WrongAlg,
            "JARM: alg mismatch: expected ES256, got RS256",
        ),
        (Jarm::Plain, "JARM: the callback has no response parameter"),
    ] {
        let op = BadOp::start().await.unwrap();
        op.set(Misbehavior {
            jarm: Some(jarm),
            ..Default::default()
        });
        let rp = builder(&op).await.unwrap().jarm(rule, None).build();
        let err = login(&rp)
            .await
            .expect_err("the JARM response must be refused");
        assert!(
            matches!(err, Error::Jarm(_)) && err.to_string().contains(want),
            "{jarm:?}: expected {want:?} in {err}"
        );
        assert_eq!(
            op.token_calls(),
            0,
            "{jarm:?}: the token endpoint was called"
        );
    }
}
