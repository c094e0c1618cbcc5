//! `relier login --resolve-claims`: aggregated and distributed claims (OIDC Core §5.6.2) of the
//! misbehaving OP's ID token resolved — the aggregated JWT verified against the second issuer's
//! keys, the distributed claims fetched with their access token — and an unsigned aggregated
//! JWT dropped with a warning. Without the flag nothing is fetched.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{bad_op_client_flags, free_port, login};
use relier_tests::bad_op::{BadOp, Misbehavior};
use relier_tests::standins::claims::{ACCESS_TOKEN, Answer, ClaimsProvider};
use serde_json::json;

#[tokio::test]
async fn oidcc_client_test_aggregated_claims_and_distributed_claims_on_the_command_line() {
    let op = BadOp::start().await.unwrap();
    let cp = ClaimsProvider::start().await.unwrap();
    cp.answer(Answer::Json(json!({"payment_info": "Visa"})));
    op.set(Misbehavior {
        claims: vec![
            (
                "_claim_names".into(),
                Some(json!({"address": "agg", "payment_info": "dist", "nickname": "none"})),
            ),
            (
                "_claim_sources".into(),
                Some(json!({
                    "agg": {"JWT": cp.jwt(&json!({"address": {"country": "NL"}}))},
                    "dist": {"endpoint": cp.endpoint(), "access_token": ACCESS_TOKEN},
                    "none": {"JWT": cp.unsigned_jwt(&json!({"nickname": "mallory"}))},
                })),
            ),
        ],
        ..Default::default()
    });
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let mut args = bad_op_client_flags(&op);
    args.push("--resolve-claims");
    let run = login(&args, &[("S", "whatever")], &redirect).await.ok();
    let resolved = &run.json()["resolved_claims"];
    assert_eq!(resolved["address"]["country"], "NL");
    assert_eq!(resolved["payment_info"], "Visa");
    assert!(resolved.get("nickname").is_none(), "{resolved}");
    assert!(run.stderr.contains("unsigned JWT"), "{}", run.stderr);
    assert_eq!(cp.seen().len(), 1);

    // Without the flag: nothing fetched, nothing resolved.
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let run = login(&bad_op_client_flags(&op), &[("S", "whatever")], &redirect)
        .await
        .ok();
    assert!(run.json().get("resolved_claims").is_none());
    assert_eq!(cp.seen().len(), 1);
}
