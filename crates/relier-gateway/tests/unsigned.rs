//! `id_token_alg = "none"` (OIDC Core §2; the OpenID Foundation module
//! `oidcc-client-test-idtoken-sig-none`): against the misbehaving OP issuing `alg: none` ID
//! tokens from its (loopback) token endpoint, a provider configured `none` logs in with a
//! warning at start naming it; the same OP under the default RS256 is refused; `none` under
//! `profile = "fapi2"` does not start.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::bad_env::{Env, build_with_tail, login};
use common::text;
use relier_tests::bad_op::{Misbehavior, Signing};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn unsigned_op() -> Misbehavior {
    Misbehavior {
        signing: Signing::Unsigned,
        ..Default::default()
    }
}

/// The login failed at the ID token: after the token endpoint answered, no session.
fn refused(e: &Env, r: axum::http::Response<axum::body::Body>) {
    assert_ne!(r.status(), StatusCode::FOUND);
    assert!(!e.app.jar.contains_key("relier_session"));
    assert!(e.op.token_calls() >= 1);
}

#[tokio::test]
async fn oidcc_client_test_idtoken_sig_none() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut e = build_with_tail("id_token_alg = \"none\"").await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warning = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("id_token_alg is \"none\""))
        .unwrap_or_else(|| panic!("no warning in {logs}"));
    assert!(warning.contains("provider=bad"), "{warning}");
    e.op.set(unsigned_op());
    let r = login(&mut e, "/app").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert!(e.app.jar.contains_key("relier_session"));
    assert_eq!(e.op.token_calls(), 1);
}

#[tokio::test]
async fn none_registration_refuses_signed_tokens() {
    // The registration pins none: an RS256 token from the same OP is an alg mismatch.
    let mut e = build_with_tail("id_token_alg = \"none\"").await;
    let r = login(&mut e, "/app").await;
    refused(&e, r);
}

#[tokio::test]
async fn unsigned_tokens_refused_under_rs256() {
    let mut e = build_with_tail("").await;
    e.op.set(unsigned_op());
    let r = login(&mut e, "/app").await;
    refused(&e, r);
    // …and under an explicit RS256 too.
    let mut e = build_with_tail("id_token_alg = \"RS256\"").await;
    e.op.set(unsigned_op());
    let r = login(&mut e, "/app").await;
    refused(&e, r);
}

#[tokio::test]
async fn none_with_a_non_empty_signature_refused() {
    let mut e = build_with_tail("id_token_alg = \"none\"").await;
    e.op.set(Misbehavior {
        signing: Signing::UnsignedWithSignature,
        ..Default::default()
    });
    let r = login(&mut e, "/app").await;
    refused(&e, r);
}

#[tokio::test]
async fn none_under_fapi2_does_not_start() {
    let op = relier_tests::bad_op::BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"http://127.0.0.1:8088\"\nstore = \"sqlite://{}\"\n[[providers]]\n\
         name = \"bank\"\nissuer = \"{}\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
         profile = \"fapi2\"\nid_token_alg = \"none\"\n",
        dir.path().join("g.db").display(),
        op.issuer()
    );
    let config = relier_gateway::Config::from_toml(&toml).unwrap();
    let err = relier_gateway::Gateway::build(config)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("bank"), "{err}");
    assert!(
        err.contains(
            "id_token_alg \"none\" (unsigned ID tokens) is never allowed with profile = \"fapi2\""
        ),
        "{err}"
    );
}
