//! `relier login` with unsigned ID tokens (OIDC Core §2; the OpenID Foundation module
//! `oidcc-client-test-idtoken-sig-none`) against the misbehaving OP issuing `alg: none` from
//! its loopback token endpoint: `--id-token-alg none` (or a stored provider registered with
//! `none`) logs in with a warning naming the provider; without it the token is refused;
//! `--profile fapi2` with `none` ends before the browser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{free_port, login, login_cmd, run_cmd, store_cmd};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior, Signing};

async fn unsigned_op() -> BadOp {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        signing: Signing::Unsigned,
        ..Default::default()
    });
    op
}

async fn login_at(op: &BadOp, extra: &[&str]) -> common::Run {
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let mut args = common::bad_op_client_flags(op);
    args.extend_from_slice(extra);
    login(&args, &[("S", "whatever")], &redirect).await
}

#[tokio::test]
async fn oidcc_client_test_idtoken_sig_none() {
    let op = unsigned_op().await;
    let run = login_at(&op, &["--id-token-alg", "none"]).await.ok();
    assert_eq!(
        run.json()["id_token_claims"]["sub"],
        "alice",
        "{}",
        run.stdout
    );
    let warning = format!(
        "warning: provider {}: id_token_alg is \"none\"",
        op.issuer()
    );
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
}

#[tokio::test]
async fn a_stored_provider_registered_with_none_logs_in() {
    let op = unsigned_op().await;
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let add = format!(
        "providers add bad --issuer {} --client-id {CLIENT_ID} --auth-method client_secret_basic \
         --client-secret-stdin --redirect-uri {redirect} --id-token-alg none",
        op.issuer()
    );
    run_cmd(store_cmd(&dir, &add), "whatever\n").await.ok();
    let mut cmd = store_cmd(
        &dir,
        "login --provider bad --no-browser --json --timeout 60",
    );
    cmd.env_remove("S");
    let run = login_cmd(cmd, &redirect).await.ok();
    assert_eq!(
        run.json()["id_token_claims"]["sub"],
        "alice",
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("warning: provider bad: id_token_alg is \"none\""),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn unsigned_refused_under_rs256() {
    let op = unsigned_op().await;
    for extra in [&[][..], &["--id-token-alg", "RS256"][..]] {
        let run = login_at(&op, extra).await;
        assert_ne!(run.code, 0);
        assert!(
            run.stderr
                .contains("id_token: alg none: unsigned tokens are rejected"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("warning: provider"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn none_refuses_signed_tokens() {
    let op = BadOp::start().await.unwrap();
    let run = login_at(&op, &["--id-token-alg", "none"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("id_token: alg mismatch: expected none, got RS256"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn none_with_a_signature_part_refused() {
    let op = BadOp::start().await.unwrap();
    op.set(Misbehavior {
        signing: Signing::UnsignedWithSignature,
        ..Default::default()
    });
    let run = login_at(&op, &["--id-token-alg", "none"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("id_token: alg none: the signature part must be empty"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn none_under_fapi2_refused_before_the_browser() {
    let op = unsigned_op().await;
    let run = login_at(&op, &["--id-token-alg", "none", "--profile", "fapi2"]).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains(
            "id_token_alg \"none\" (unsigned ID tokens) is never allowed with --profile fapi2"
        ),
        "{}",
        run.stderr
    );
    assert!(run.page.is_none());
    assert_eq!(op.token_calls(), 0);
}

#[tokio::test]
async fn providers_register_id_token_alg_none_then_login() {
    let op = unsigned_op().await;
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let register = format!(
        "providers register bad --issuer {} --redirect-uri {redirect} \
         --auth-method client_secret_basic --id-token-alg none --json",
        op.issuer()
    );
    run_cmd(store_cmd(&dir, &register), "").await.ok();
    let run = login_cmd(
        store_cmd(
            &dir,
            "login --provider bad --no-browser --json --timeout 60",
        ),
        &redirect,
    )
    .await
    .ok();
    assert_eq!(run.json()["id_token_claims"]["sub"], "alice");
    assert!(
        run.stderr
            .contains("warning: provider bad: id_token_alg is \"none\""),
        "{}",
        run.stderr
    );
    // JARM responses are never unsigned: --jarm without its own alg is refused.
    let jarm = format!(
        "providers register bad2 --issuer {} --redirect-uri {redirect} \
         --auth-method client_secret_basic --id-token-alg none --jarm",
        op.issuer()
    );
    let run = run_cmd(store_cmd(&dir, &jarm), "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("--jarm: JARM responses are never unsigned"),
        "{}",
        run.stderr
    );
}
