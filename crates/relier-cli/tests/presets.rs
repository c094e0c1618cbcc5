//! `relier login --preset …` end to end: the real binary against the GitHub, Sign in with Apple
//! and Entra ID stand-ins (`relier_tests::standins`), with the gateway's preset rules.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{free_port, login, relier, run_cmd, write};
use relier_tests::standins::apple::{self, Apple};
use relier_tests::standins::entra::{self, Entra};
use relier_tests::standins::github::{self, GitHub};

fn redirect() -> String {
    format!("http://127.0.0.1:{}/callback", free_port())
}

#[tokio::test]
async fn github_login_prints_the_api_identity() {
    let gh = GitHub::start().await.unwrap();
    let run = login(
        &[
            "--preset",
            "github",
            "--github-url",
            gh.url(),
            "--client-id",
            github::CLIENT_ID,
            "--client-secret-env",
            "GH_SECRET",
        ],
        &[("GH_SECRET", github::CLIENT_SECRET)],
        &redirect(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["provider"], "github");
    assert_eq!(out["iss"], gh.url());
    assert_eq!(out["sub"], "583231");
    assert_eq!(out["identity"]["preferred_username"], "octocat");
    assert_eq!(out["identity"]["email"], "octocat@example.com");
    assert_eq!(run.page.as_ref().unwrap().0, 200);
    assert!(gh.complaints().is_empty(), "{:?}", gh.complaints());
}

#[tokio::test]
async fn apple_login_mints_the_client_secret_and_reads_the_name() {
    let a = Apple::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p8 = write(&dir, "AuthKey.p8", a.p8());
    let run = login(
        &[
            "--preset",
            "apple",
            "--issuer",
            a.issuer(),
            "--client-id",
            apple::CLIENT_ID,
            "--team-id",
            apple::TEAM_ID,
            "--key-id",
            apple::KEY_ID,
            "--private-key",
            &p8,
        ],
        &[],
        &redirect(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(a.complaints().is_empty(), "{:?}", a.complaints());
    let out = run.json();
    assert_eq!(out["auth_method"], "client_secret_post");
    assert_eq!(out["id_token_claims"]["sub"], apple::SUB);
    assert_eq!(out["id_token_claims"]["email_verified"], "true");
    assert_eq!(out["user"]["name"], "Ada Lovelace");
    assert_eq!(out["userinfo"], serde_json::Value::Null);
    // A conflicting response mode is refused before anything is sent.
    let run = login(
        &[
            "--preset",
            "apple",
            "--issuer",
            a.issuer(),
            "--client-id",
            apple::CLIENT_ID,
            "--team-id",
            apple::TEAM_ID,
            "--key-id",
            apple::KEY_ID,
            "--private-key",
            &p8,
            "--response-mode",
            "query",
        ],
        &[],
        &redirect(),
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("form_post"), "{}", run.stderr);
}

#[tokio::test]
async fn entra_multi_tenant_login_checks_the_tenant() {
    let e = Entra::start().await.unwrap();
    let args = [
        "--preset",
        "entra",
        "--tenant",
        "common",
        "--authority",
        e.authority(),
        "--allowed-tenant",
        entra::GOOD_TENANT,
        "--client-id",
        entra::CLIENT_ID,
        "--client-secret-env",
        "ENTRA_SECRET",
    ];
    let env = [("ENTRA_SECRET", entra::CLIENT_SECRET)];
    let run = login(&args, &env, &redirect()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["id_token_claims"]["tid"], entra::GOOD_TENANT);
    assert_eq!(
        out["id_token_claims"]["iss"],
        format!("{}/{}/v2.0", e.authority(), entra::GOOD_TENANT)
    );
    e.set(entra::Knobs {
        tid: entra::OTHER_TENANT.into(),
        ..Default::default()
    });
    let run = login(&args, &env, &redirect()).await;
    assert_ne!(run.code, 0, "{}", run.stdout);
    // Without a tenant choice, nothing starts.
    let without: Vec<&str> = args
        .iter()
        .copied()
        .filter(|x| *x != "--allowed-tenant" && *x != entra::GOOD_TENANT)
        .collect();
    let run = login(&without, &env, &redirect()).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("allowed_tenants"), "{}", run.stderr);
}

#[tokio::test]
async fn entra_certificate_credential_from_a_key_file() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = relier::jose::SigningKey::generate(relier::jose::Algorithm::RS256, None).unwrap();
    let pem = write(&dir, "entra.pem", &key.to_pkcs8_pem().unwrap());
    // What `relier keys cert --private-key` prints, uploaded.
    let printed = run_cmd(
        {
            let mut c = relier();
            c.args([
                "--store",
                &format!("sqlite://{}/s.db", dir.path().display()),
            ])
            .args(["keys", "cert", "--private-key", &pem]);
            c
        },
        "",
    )
    .await;
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert!(printed.stdout.starts_with("-----BEGIN CERTIFICATE-----"));
    let cert = relier::certificate::key_certificate(&key).unwrap();
    assert_eq!(printed.stdout, cert.pem);
    e.upload_certificate(&cert.x5t_s256, key.verifying_key().unwrap());
    let run = login(
        &[
            "--preset",
            "entra",
            "--tenant",
            entra::GOOD_TENANT,
            "--authority",
            e.authority(),
            "--client-id",
            entra::CLIENT_ID,
            "--private-key",
            &pem,
        ],
        &[],
        &redirect(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["auth_method"], "private_key_jwt");
    assert!(e.complaints().is_empty(), "{:?}", e.complaints());
}
