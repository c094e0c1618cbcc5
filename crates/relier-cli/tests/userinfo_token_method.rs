//! `relier login --userinfo-token-method header|body`: the access token reaches UserInfo in
//! the `Authorization` header (RFC 6750 §2.1) or the body of a POST (§2.2), as the misbehaving
//! OP saw it; with DPoP (flag or registration) the body is refused before any login (RFC 9449
//! §7.1).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{bad_op_client_flags, free_port, login, relier, run_cmd, store_cmd};
use relier_tests::bad_op::BadOp;

#[tokio::test]
async fn the_token_goes_in_the_header_or_the_body() {
    let op = BadOp::start().await.unwrap();
    for method in [None, Some("header"), Some("body")] {
        let redirect = format!("http://127.0.0.1:{}/callback", free_port());
        let mut args = bad_op_client_flags(&op);
        if let Some(m) = method {
            args.extend(["--userinfo-token-method", m]);
        }
        let run = login(&args, &[("S", "whatever")], &redirect).await.ok();
        assert_eq!(run.json()["userinfo"]["email"], "alice@example.com");
    }
    let seen = op.userinfo_requests();
    assert_eq!(seen.len(), 3);
    for header in &seen[..2] {
        assert_eq!(header.method, "GET");
        assert_eq!(
            header.authorization.as_deref(),
            Some("Bearer at-from-bad-op")
        );
        assert_eq!(header.body_token, None);
    }
    let body = &seen[2];
    assert_eq!(body.method, "POST");
    assert_eq!(body.authorization, None);
    assert_eq!(
        body.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(body.body_token.as_deref(), Some("at-from-bad-op"));
}

#[tokio::test]
async fn the_body_is_refused_with_dpop() {
    let op = BadOp::start().await.unwrap();
    // Asked on the command line.
    let mut c = relier();
    c.arg("login")
        .args(bad_op_client_flags(&op))
        .args([
            "--userinfo-token-method",
            "body",
            "--dpop-bound-access-tokens",
        ])
        .args(["--no-browser", "--timeout", "5"])
        .env("S", "whatever");
    let run = run_cmd(c, "").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("RFC 9449 §7.1"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("http://127.0.0.1"),
        "no login started: {}",
        run.stderr
    );

    // Registered (dpop_bound_access_tokens).
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let register = format!(
        "providers register dp --issuer {} --redirect-uri {redirect} --auth-method client_secret_basic --dpop",
        op.issuer()
    );
    run_cmd(store_cmd(&dir, &register), "").await.ok();
    let run = run_cmd(
        store_cmd(
            &dir,
            "login --provider dp --userinfo-token-method body --no-browser --timeout 5",
        ),
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("provider dp registered dpop_bound_access_tokens"),
        "{}",
        run.stderr
    );
    assert_eq!(op.token_calls() + op.userinfo_calls(), 0);

    // An unknown method is a usage error.
    let mut c = relier();
    c.arg("login")
        .args(bad_op_client_flags(&op))
        .args(["--userinfo-token-method", "query"]);
    let run = run_cmd(c, "").await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("header or body"), "{}", run.stderr);
}
