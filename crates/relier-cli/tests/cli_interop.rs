//! `relier login` / `relier token` / `relier discover` end to end: the real binary against the real
//! OP (oidc-provider) for every client authentication method, and against the misbehaving OP for
//! callback checks that must stop the login before the token endpoint.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{
    SECRET, assert_logged_in, asymmetric, client, free_port, login, relier, run_cmd, write,
};
use relier::jose::{Algorithm, SigningKey};
use relier_tests::bad_op::{BadOp, CLIENT_ID as BAD_CLIENT, Misbehavior};
use relier_tests::oidc_provider::{OpConfig, TestOp, cert_jwk, self_signed_client_cert};
use serde_json::{Value, json};

/// `relier token …` with the token on stdin.
async fn token(sub: &str, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> common::Run {
    let mut cmd = relier();
    cmd.arg("token").arg(sub).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run_cmd(cmd, stdin).await
}

#[tokio::test]
async fn client_secret_methods_and_token_commands() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start(OpConfig {
        clients: vec![
            client("rp-basic", "client_secret_basic", &redirect),
            client("rp-post", "client_secret_post", &redirect),
            client("rp-jwt", "client_secret_jwt", &redirect),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = write(&dir, "secret", &format!("{SECRET}\n"));
    let iss = op.issuer.as_str();
    let scope = "openid profile email offline_access";
    let env = [("RP_SECRET", SECRET)];

    let basic = [
        "--issuer",
        iss,
        "--client-id",
        "rp-basic",
        "--auth-method",
        "client_secret_basic",
        "--client-secret-env",
        "RP_SECRET",
        "--scope",
        scope,
        "--prompt",
        "consent",
    ];
    let out = assert_logged_in(&login(&basic, &env, &redirect).await, "client_secret_basic");

    let post = [
        "--issuer",
        iss,
        "--client-id",
        "rp-post",
        "--auth-method",
        "client_secret_post",
        "--client-secret-file",
        &secret_file,
    ];
    assert_logged_in(&login(&post, &[], &redirect).await, "client_secret_post");
    // RFC 9126: the request pushed first, the printed URL carries only client_id + request_uri.
    let mut par = post.to_vec();
    par.push("--par");
    let run = login(&par, &[], &redirect).await;
    assert_logged_in(&run, "client_secret_post");
    assert!(run.stderr.contains("request_uri="), "{}", run.stderr);
    assert!(!run.stderr.contains("code_challenge="), "{}", run.stderr);

    // No --auth-method: a 47-byte secret and an OP that supports client_secret_jwt → recommended.
    let jwt = [
        "--issuer",
        iss,
        "--client-id",
        "rp-jwt",
        "--client-secret-env",
        "RP_SECRET",
    ];
    let run = login(&jwt, &env, &redirect).await;
    assert_logged_in(&run, "client_secret_jwt");
    assert!(
        run.stderr.contains("client_secret_jwt"),
        "the recommendation is explained: {}",
        run.stderr
    );

    // token refresh / introspect / revoke, tokens on stdin (whitespace trimmed).
    let auth = [
        "--issuer",
        iss,
        "--client-id",
        "rp-basic",
        "--auth-method",
        "client_secret_basic",
        "--client-secret-env",
        "RP_SECRET",
        "--json",
    ];
    let rt = out["refresh_token"]
        .as_str()
        .expect("offline_access + consent gives a refresh token");
    let refreshed = token("refresh", &auth, &env, &format!("  {rt}\n")).await;
    assert_eq!(refreshed.code, 0, "{}", refreshed.stderr);
    let r = refreshed.json();
    assert_eq!(r["id_token_claims"]["sub"], "alice");
    assert!(r["userinfo"].is_null());
    // OIDC Core §12.2 against the ID token from the login: the same iss/sub/aud pass, a
    // changed sub is refused.
    let rt = r["refresh_token"].as_str().unwrap_or(rt).to_owned();
    let original = out["id_token"].as_str().unwrap();
    let mut with_original = auth.to_vec();
    let original_file = write(&dir, "id_token.jwt", &format!("{original}\n"));
    with_original.extend(["--id-token-file", &original_file]);
    let kept = token("refresh", &with_original, &env, &rt).await;
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    let r = kept.json();
    let rt = r["refresh_token"].as_str().unwrap_or(&rt).to_owned();
    let mut parts: Vec<String> = original.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&relier_jose::b64::decode(&parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("mallory");
    parts[1] = relier_jose::b64::encode(claims.to_string().as_bytes());
    let forged_file = write(&dir, "other.jwt", &parts.join("."));
    let mut with_other = auth.to_vec();
    with_other.extend(["--id-token-file", &forged_file]);
    let changed = token("refresh", &with_other, &env, &rt).await;
    assert_ne!(changed.code, 0);
    assert!(changed.stderr.contains("changed sub"), "{}", changed.stderr);
    let at = r["access_token"].as_str().unwrap();
    let intro = token("introspect", &auth, &env, at).await;
    assert_eq!(intro.code, 0, "{}", intro.stderr);
    assert_eq!(intro.json()["active"], true);
    let rt2 = r["refresh_token"].as_str().unwrap_or(&rt);
    let mut revoke_args = auth.to_vec();
    revoke_args.extend(["--token-type-hint", "refresh_token"]);
    let revoked = token("revoke", &revoke_args, &env, rt2).await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    let again = token("refresh", &auth, &env, rt2).await;
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("invalid_grant"), "{}", again.stderr);
    assert_eq!(
        again.stderr.trim().lines().count(),
        1,
        "one line on failure: {}",
        again.stderr
    );
    let empty = token("introspect", &auth, &env, "  \n").await;
    assert_ne!(empty.code, 0);
}

#[tokio::test]
async fn private_key_jwt_pem_and_jwk_inline_and_jwks_uri() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let dir = tempfile::tempdir().unwrap();
    let rs = SigningKey::generate(Algorithm::RS256, None).unwrap();
    let ed = SigningKey::generate(Algorithm::EdDSA, None).unwrap();
    let es = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("es-key-1");
    // the JWKS the OP sees: kid = thumbprint for PEM keys (no kid of their own), the JWK's kid otherwise
    let pub_with_thumb = |k: &SigningKey| {
        let mut j = serde_json::to_value(k.public_jwk().unwrap()).unwrap();
        j["kid"] = json!(k.thumbprint_sha256().unwrap());
        j
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_uri = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let served = json!({ "keys": [pub_with_thumb(&ed)] });
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let j = served.clone();
            async move { axum::Json(j) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let op = TestOp::start(OpConfig {
        clients: vec![
            asymmetric("rp-rs", "private_key_jwt", &redirect, json!({"token_endpoint_auth_signing_alg": "RS256", "jwks": {"keys": [pub_with_thumb(&rs)]}})),
            asymmetric("rp-es", "private_key_jwt", &redirect, json!({"token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [es.public_jwk().unwrap()]}})),
            asymmetric("rp-ed", "private_key_jwt", &redirect, json!({"token_endpoint_auth_signing_alg": "EdDSA", "jwks_uri": jwks_uri})),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let iss = op.issuer.as_str();
    let rs_pem = write(&dir, "rs.pem", &rs.to_pkcs8_pem().unwrap());
    let ed_pem = write(&dir, "ed.pem", &ed.to_pkcs8_pem().unwrap());
    let es_pem = write(&dir, "es.pem", &es.to_pkcs8_pem().unwrap());
    // PEM, no --auth-method: private_key_jwt is recommended when a key is given.
    let run = login(
        &[
            "--issuer",
            iss,
            "--client-id",
            "rp-rs",
            "--private-key",
            &rs_pem,
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "private_key_jwt");
    // ES256 with an explicit --key-id (the registered JWK's kid).
    let run = login(
        &[
            "--issuer",
            iss,
            "--client-id",
            "rp-es",
            "--private-key",
            &es_pem,
            "--key-id",
            "es-key-1",
            "--auth-method",
            "private_key_jwt",
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "private_key_jwt");
    // EdDSA through the RP's jwks_uri.
    let run = login(
        &[
            "--issuer",
            iss,
            "--client-id",
            "rp-ed",
            "--private-key",
            &ed_pem,
            "--signing-alg",
            "EdDSA",
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "private_key_jwt");
}

#[tokio::test]
async fn private_jwk_file_is_accepted() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let dir = tempfile::tempdir().unwrap();
    // A private JWK as a user would download it from a key tool.
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let private_jwk = private_jwk_of(&der);
    let kid = private_jwk["kid"].as_str().unwrap().to_owned();
    let jwk_path = write(&dir, "key.jwk", &private_jwk.to_string());
    let op = TestOp::start(OpConfig {
        clients: vec![asymmetric(
            "rp-jwk",
            "private_key_jwt",
            &redirect,
            json!({"token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [with_kid(key.public_jwk().unwrap(), &kid)]}}),
        )],
        ..Default::default()
    })
    .await
    .unwrap();
    let run = login(
        &[
            "--issuer",
            &op.issuer,
            "--client-id",
            "rp-jwk",
            "--private-key",
            &jwk_path,
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "private_key_jwt");
}

fn with_kid(jwk: relier::jose::Jwk, kid: &str) -> Value {
    let mut j = serde_json::to_value(jwk).unwrap();
    j["kid"] = json!(kid);
    j
}

/// A private P-256 JWK from PKCS#8 DER, as a key tool would export it.
fn private_jwk_of(der: &[u8]) -> Value {
    // PKCS#8 for P-256 from aws-lc-rs: the 32-byte private scalar follows `04 20` inside the
    // ECPrivateKey, the public point follows `03 42 00 04`.
    let find = |pat: &[u8]| der.windows(pat.len()).position(|w| w == pat).unwrap() + pat.len();
    let d = &der[find(&[0x04, 0x20])..][..32];
    let p = &der[find(&[0x03, 0x42, 0x00, 0x04])..][..64];
    let b = relier::jose::b64::encode;
    json!({"kty": "EC", "crv": "P-256", "x": b(&p[..32]), "y": b(&p[32..]), "d": b(d), "kid": "my-private-jwk"})
}

#[tokio::test]
async fn public_client_and_mutual_tls() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let dir = tempfile::tempdir().unwrap();
    let (ss_cert, ss_key) = self_signed_client_cert("rp-self").unwrap();
    let op = TestOp::start(OpConfig {
        clients: vec![
            asymmetric("rp-public", "none", &redirect, json!({})),
            asymmetric(
                "rp-mtls",
                "tls_client_auth",
                &redirect,
                json!({"tls_client_auth_subject_dn": "CN=rp-mtls"}),
            ),
            asymmetric(
                "rp-self",
                "self_signed_tls_client_auth",
                &redirect,
                json!({"jwks": {"keys": [cert_jwk(&ss_cert, &ss_key).unwrap()]}}),
            ),
        ],
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let iss = op.issuer.as_str();
    // no credential at all → none (PKCE is always sent)
    let run = login(
        &["--issuer", iss, "--client-id", "rp-public"],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "none");

    let ca = write(&dir, "ca.pem", &op.ca.ca_pem);
    let (cert, key) = op.ca.client_cert("rp-mtls").unwrap();
    let cert = write(&dir, "c.pem", &cert);
    let key = write(&dir, "c.key", &key);
    let run = login(
        &[
            "--issuer",
            iss,
            "--client-id",
            "rp-mtls",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--ca-file",
            &ca,
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "tls_client_auth");

    let sc = write(&dir, "s.pem", &ss_cert);
    let sk = write(&dir, "s.key", &ss_key);
    let run = login(
        &[
            "--issuer",
            iss,
            "--client-id",
            "rp-self",
            "--auth-method",
            "self_signed_tls_client_auth",
            "--tls-cert",
            &sc,
            "--tls-key",
            &sk,
            "--ca-file",
            &ca,
        ],
        &[],
        &redirect,
    )
    .await;
    assert_logged_in(&run, "self_signed_tls_client_auth");
}

#[tokio::test]
async fn discover_json_and_recommendation() {
    let op = TestOp::start(OpConfig::default()).await.unwrap();
    let mut cmd = relier();
    cmd.args(["discover", &op.issuer, "--json"]);
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["issuer"], op.issuer.as_str());
    assert_eq!(v["recommended_auth_method"], "private_key_jwt");
    assert!(
        v["recommendation"]
            .as_str()
            .unwrap()
            .contains("no shared secret")
    );
    // every member as received, including ones relier does not model
    assert!(v["claims_parameter_supported"].is_boolean(), "{v}");
    assert!(v["token_endpoint_auth_methods_supported"].is_array());

    // an issuer that does not match the document
    let wrong = format!("{}/", op.issuer);
    let out = relier().args(["discover", &wrong]).output().await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("issuer mismatch"), "{err}");
    // http on a non-loopback host is refused before any request
    let out = relier()
        .args(["discover", "http://op.example.com"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
}

async fn bad_login(m: Misbehavior, want: &str) {
    let op = BadOp::start().await.unwrap();
    op.set(m);
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let run = login(
        &[
            "--issuer",
            op.issuer(),
            "--client-id",
            BAD_CLIENT,
            "--auth-method",
            "client_secret_basic",
            "--client-secret-env",
            "S",
        ],
        &[("S", "whatever")],
        &redirect,
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains(want),
        "expected {want:?} in {}",
        run.stderr
    );
    let (_, page) = run.page.unwrap();
    assert!(
        page.contains(want)
            || page.to_lowercase().contains("fail")
            || page.to_lowercase().contains("error"),
        "{page}"
    );
    assert_eq!(op.token_calls(), 0, "the token endpoint must not be called");
    assert!(run.stdout.trim().is_empty());
}

#[tokio::test]
async fn state_mismatch_ends_the_login() {
    bad_login(
        Misbehavior {
            callback_state: Some("forged".into()),
            ..Default::default()
        },
        "state mismatch",
    )
    .await;
}

#[tokio::test]
async fn wrong_iss_ends_the_login() {
    bad_login(
        Misbehavior {
            callback_iss: Some("http://127.0.0.1:9/evil".into()),
            ..Default::default()
        },
        "iss mismatch",
    )
    .await;
}

#[tokio::test]
async fn missing_iss_ends_the_login() {
    bad_login(
        Misbehavior {
            callback_iss: Some(String::new()),
            ..Default::default()
        },
        "iss is missing",
    )
    .await;
}

#[tokio::test]
async fn op_error_ends_the_login() {
    bad_login(
        Misbehavior {
            callback_error: Some(("access_denied".into(), "no thanks".into())),
            ..Default::default()
        },
        "access_denied",
    )
    .await;
}

#[tokio::test]
async fn timeout_without_a_browser() {
    let op = BadOp::start().await.unwrap();
    let out = relier()
        .args([
            "login",
            "--issuer",
            op.issuer(),
            "--client-id",
            BAD_CLIENT,
            "--client-secret-env",
            "S",
            "--no-browser",
            "--timeout",
            "1",
        ])
        .env("S", "some-secret")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("timed out"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// RFC 9101 §10.5: an OP that requires signed request objects of every client says so;
/// `relier login --private-key` signs them with that key unasked.
#[tokio::test]
async fn login_at_an_op_requiring_signed_request_objects() {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::ES256, None)
        .unwrap()
        .with_kid("es-1");
    let op = TestOp::start_with(
        OpConfig {
            clients: vec![asymmetric(
                "rp-jar",
                "private_key_jwt",
                &redirect,
                json!({"token_endpoint_auth_signing_alg": "ES256",
                    "jwks": {"keys": [key.public_jwk().unwrap()]}}),
            )],
            ..Default::default()
        },
        json!({"secured_authorization": "require_signed_request_object"}),
    )
    .await
    .unwrap();
    let pem = write(&dir, "es.pem", &key.to_pkcs8_pem().unwrap());
    let args = [
        "--issuer",
        op.issuer.as_str(),
        "--client-id",
        "rp-jar",
        "--private-key",
        pem.as_str(),
        "--key-id",
        "es-1",
    ];
    let run = login(&args, &[], &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    let url = run.authorization_url();
    assert!(
        url.contains("&request=") && !url.contains("state="),
        "{url}"
    );
}
