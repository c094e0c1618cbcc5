//! `preset = "ftn"` end to end: `relier serve` against the OP Identity Service Broker stand-in
//! (`relier_tests::standins::isb`), which refuses every deviation from the ISB's Service
//! Provider API. The login sends a signed RS256 request object with `ftn_spname` and
//! `ui_locales`, authenticates with an RS256 assertion to the token endpoint URL, opens the
//! nested encrypted ID token, and keys the session on the personal identity code — never
//! written to the log in clear. Keys are exchanged only through entity statements and signed
//! JWK sets: the broker knows relier only through the statement `relier federation statement`
//! prints and its keys only through `/.well-known/signed-jwks`; relier knows the broker only
//! through its statement stored as `entity_statement` and its keys only through its signed JWK
//! set (the stand-in has no discovery document and no plain JWKS).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;

use common::{Served, free_port, relier, serve_until, store_ok, write};
use relier_tests::standins::isb::{self, Isb, Knobs, PERSON};
use relier_tests::web::{browser, location};
use reqwest::StatusCode;
use serde_json::Value;

const CLIENT_ID: &str = "saippuakauppias";
const SPNAME: &str = "Soap for the people";

/// The store's master key (`relier keys …` and `relier serve` share the store).
fn master_key() -> String {
    relier::jose::b64::encode(&[9u8; 32])
}

/// The onboarding of the README's "Finnish Trust Network", in order: the entity key, the
/// statement printed and handed to the broker, the broker's statement stored as
/// `entity_statement`, `relier serve` (`provider_extra` appended to the provider's table).
async fn onboarded(provider_extra: &str) -> (Isb, Served) {
    let isb = Isb::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (upstream, _) = relier_tests::echo::upstream().await;
    let broker = write(&dir, "isb-entity-statement.jwt", &isb.entity_statement());
    let config = write(
        &dir,
        "relier.toml",
        &format!(
            r#"listen = "{addr}"
public_url = "http://{addr}"
store = "sqlite://{db}"

[federation]
organization_name = "Example Oy"

[upstream]
url = "http://{upstream}"

[headers]
"X-Hetu" = "personal_identity_code"
"X-Given-Name" = "given_name"
"X-Family-Name" = "family_name"
"X-Birthdate" = "birthdate"

[[providers]]
name = "ftn"
preset = "ftn"
client_id = "{CLIENT_ID}"
entity_statement = "{broker}"
ftn_spname = "{SPNAME}"
ui_locales = "en"
{provider_extra}
"#,
            db = dir.path().join("relier.db").display(),
        ),
    );
    store_ok(&dir, "keys generate --use entity").await;
    let statement = store_ok(&dir, &format!("federation statement --config {config}"))
        .await
        .stdout;
    let served = serve(dir, addr, "stderr.log").await;
    isb.onboard(CLIENT_ID, statement.trim()).unwrap();
    (isb, served)
}

/// `relier serve` of the configuration `onboarded` wrote in `dir`, its stderr to `log`.
async fn serve(dir: tempfile::TempDir, addr: SocketAddr, log: &str) -> Served {
    let mut cmd = relier();
    cmd.args(["serve", "--config"])
        .arg(dir.path().join("relier.toml"))
        .env("RELIER_MASTER_KEY", master_key())
        .env(
            "RUST_LOG",
            "info,relier=trace,relier_gateway=trace,relier_core=trace",
        );
    let mut served = serve_until(cmd, addr, dir.path().join(log), "/readyz").await;
    served.dir = Some(dir);
    served
}

/// The keyed hash a log line carries as the subject of "login completed".
fn logged_hash(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains("login completed"))
        .unwrap_or_else(|| panic!("no login in {log}"));
    let at = line.find("hmac:").unwrap_or_else(|| panic!("{line}"));
    line[at..at + 5 + 32].to_owned()
}

/// The gateway's login start, the broker's answer, and the callback's response.
async fn login(served: &Served, b: &reqwest::Client, query: &str) -> reqwest::Response {
    let r = b
        .get(served.url(&format!("/auth/login/ftn?return_to=%2Fapp{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "{}", served.log());
    let r = b.get(location(&r)).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the broker refused: {}",
        r.text().await.unwrap()
    );
    let cb = location(&r);
    assert!(cb.starts_with(&served.url("/auth/callback/ftn?")), "{cb}");
    b.get(cb).send().await.unwrap()
}

#[tokio::test]
async fn ftn_login_keys_on_the_personal_identity_code() {
    let (isb, served) = onboarded("").await;
    let b = browser();
    let r = login(&served, &b, "").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", served.log());
    assert_eq!(location(&r), "/app");
    let session: Value = b
        .get(served.url("/auth/session"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(session["sub"], PERSON.personal_identity_code, "{session}");
    assert_eq!(session["iss"], isb.issuer());
    let up: Value = b
        .get(served.url("/app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let up = &up["headers"];
    assert_eq!(
        up["x-relier-subject"][0], PERSON.personal_identity_code,
        "{up}"
    );
    assert_eq!(up["x-hetu"][0], PERSON.personal_identity_code);
    assert_eq!(up["x-birthdate"][0], PERSON.birthdate);
    assert_eq!(up["x-family-name"][0], PERSON.family_name);

    // A second login: the broker's sub changes ("not persistent"), relier's subject does not.
    let b2 = browser();
    assert_eq!(login(&served, &b2, "").await.status(), StatusCode::FOUND);
    let again: Value = b2
        .get(served.url("/auth/session"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(again["sub"], PERSON.personal_identity_code);
    let seen = isb.seen();
    assert_eq!(seen.len(), 2);
    assert!(!seen[0].sub.is_empty() && seen[0].sub != seen[1].sub);

    // What the request object carried.
    let req = &seen[0].request;
    assert_eq!(req["ftn_spname"], SPNAME);
    assert_eq!(req["ui_locales"], "en");
    assert_eq!(req["scope"], "openid profile personal_identity_code");
    assert!(req["nonce"].as_str().unwrap().len() >= isb::checks::MIN_NONCE_CHARS);
    assert!(req.get("ftn_idp_id").is_none());
    assert!(isb.complaints().is_empty(), "{:?}", isb.complaints());

    let log = served.stop().await;
    assert!(log.contains("login completed"), "{log}");
    assert!(
        !log.contains(PERSON.personal_identity_code),
        "the personal identity code is in the log: {log}"
    );
    assert!(
        log.contains("sub=hmac:") || log.contains("\"sub\":\"hmac:"),
        "{log}"
    );
}

/// The log hash key is derived from the store's master key: after a restart on the same store
/// the same person's lines carry the same hash.
#[tokio::test]
async fn ftn_log_hash_survives_a_restart() {
    let (_isb, mut served) = onboarded("").await;
    assert_eq!(
        login(&served, &browser(), "").await.status(),
        StatusCode::FOUND
    );
    let (dir, addr) = (served.dir.take().unwrap(), served.addr);
    let before = logged_hash(&served.stop().await);
    let served = serve(dir, addr, "stderr-2.log").await;
    assert_eq!(
        login(&served, &browser(), "").await.status(),
        StatusCode::FOUND
    );
    let log = served.stop().await;
    assert!(!log.contains(PERSON.personal_identity_code), "{log}");
    assert_eq!(logged_hash(&log), before);
}

/// `relier login --preset ftn`: the loopback listener is the relying party's public side (its
/// origin the entity id, the redirect URI `{origin}/auth/callback/ftn`, the signed JWK set at
/// `/.well-known/signed-jwks`); the broker knows it through the statement `relier federation
/// statement` prints for a configuration with that `public_url`.
#[tokio::test]
async fn ftn_cli_login_prints_the_personal_identity_code_as_the_subject() {
    let isb = Isb::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let origin = format!("http://127.0.0.1:{}", free_port());
    let redirect = format!("{origin}/auth/callback/ftn");
    let broker = write(&dir, "isb-entity-statement.jwt", &isb.entity_statement());
    let store = format!("sqlite://{}", dir.path().join("relier.db").display());
    let config = write(
        &dir,
        "login.toml",
        &format!(
            r#"public_url = "{origin}"
store = "{store}"

[federation]

[[providers]]
name = "ftn"
preset = "ftn"
client_id = "{CLIENT_ID}"
entity_statement = "{broker}"
ftn_spname = "{SPNAME}"
"#
        ),
    );
    store_ok(&dir, "keys generate --use entity").await;
    let statement = store_ok(&dir, &format!("federation statement --config {config}"))
        .await
        .stdout;
    isb.onboard(CLIENT_ID, statement.trim()).unwrap();
    let args = [
        "--store",
        &store,
        "--preset",
        "ftn",
        "--client-id",
        CLIENT_ID,
        "--entity-statement",
        &broker,
        "--ftn-spname",
        SPNAME,
        "--ui-locales",
        "sv",
    ];
    let run = common::login(&args, &[("RELIER_MASTER_KEY", &master_key())], &redirect)
        .await
        .ok();
    let out = run.json();
    assert_eq!(out["subject"], PERSON.personal_identity_code, "{out}");
    assert_eq!(out["auth_method"], "private_key_jwt");
    // The broker's own sub is not the subject.
    let sub = out["id_token_claims"]["sub"].as_str().unwrap();
    assert!(!sub.is_empty() && sub != PERSON.personal_identity_code);
    let seen = isb.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0].request;
    assert_eq!(req["ftn_spname"], SPNAME);
    assert_eq!(req["ui_locales"], "sv");
    assert_eq!(req["redirect_uri"], redirect);
    assert!(isb.complaints().is_empty(), "{:?}", isb.complaints());
    // Without a fixed redirect URI the broker could not know it: refused before anything.
    let mut cmd = relier();
    cmd.arg("login")
        .args(args)
        .args(["--no-browser", "--json"])
        .env("RELIER_MASTER_KEY", master_key());
    let refused = common::run_cmd(cmd, "").await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("--redirect-uri"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn ftn_cancel_returns_to_the_chooser() {
    let (isb, served) = onboarded("").await;
    isb.set(Knobs {
        cancel: true,
        ..Knobs::default()
    });
    let b = browser();
    let r = login(&served, &b, "").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/auth/login?return_to=%2Fapp");
    let r = b.get(served.url("/auth/session")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The user picks again and gets in.
    isb.set(Knobs::default());
    assert_eq!(login(&served, &b, "").await.status(), StatusCode::FOUND);
    drop(served.dir);
}

#[tokio::test]
async fn ftn_embedded_chooser_lists_the_brokers_identity_providers() {
    let (isb, served) = onboarded("embedded_ui = true\npurpose = \"strong\"").await;
    let b = browser();
    let r = b.get(served.url("/auth/login")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();
    assert!(page.contains(isb::PROVIDER_INFO), "{page}");
    assert!(page.contains(isb::CONSENT), "{page}");
    for (id, name) in isb::IDPS {
        assert!(page.contains(name), "{page}");
        assert!(
            page.contains(&format!(
                "/auth/login/ftn?return_to=%2F&amp;ftn_idp_id={id}"
            )),
            "{page}"
        );
    }
    assert!(
        csp.contains(&format!("img-src 'self' data: {}", isb.issuer())),
        "{csp}"
    );
    let r = login(&served, &b, "&ftn_idp_id=fi-nordea").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let req = &isb.seen()[0].request;
    assert_eq!(req["ftn_idp_id"], "fi-nordea");
    assert_eq!(req["scope"], "openid profile personal_identity_code strong");
    // An identity provider id that is not one is refused before the broker.
    let r = b
        .get(served.url("/auth/login/ftn?ftn_idp_id=%3Cx%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    drop(served.dir);
}

#[tokio::test]
async fn ftn_attributes_only_at_the_profile_endpoint_are_fetched() {
    let (isb, served) = onboarded("").await;
    isb.set(Knobs {
        attributes_only_in_profile: true,
        ..Knobs::default()
    });
    let b = browser();
    assert_eq!(login(&served, &b, "").await.status(), StatusCode::FOUND);
    let session: Value = b
        .get(served.url("/auth/session"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(session["sub"], PERSON.personal_identity_code, "{session}");
    assert_eq!(session["claims"]["given_name"], PERSON.given_name);
    drop(served.dir);
}
