//! `preset = "ftn"` end to end: `relier serve` against the OP Identity Service Broker stand-in
//! (`relier_tests::standins::isb`), which refuses every deviation from the ISB's Service
//! Provider API. The login sends a signed RS256 request object with `ftn_spname` and
//! `ui_locales`, authenticates with an RS256 assertion to the token endpoint URL, opens the
//! nested encrypted ID token, and keys the session on the personal identity code — never
//! written to the log in clear. The broker knows relier only through its entity statement and
//! its keys only through its signed JWK set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use common::{free_port, relier};
use relier_jose::{Algorithm, SigningKey};
use relier_tests::standins::isb::{self, Isb, Knobs, PERSON};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENT_ID: &str = "saippuakauppias";
const SPNAME: &str = "Soap for the people";

struct Served {
    addr: SocketAddr,
    child: tokio::process::Child,
    log: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn stop(mut self) -> String {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        self.log()
    }
}

/// An upstream answering with the request's headers (UTF-8, as the gateway sends a name) as
/// JSON.
async fn echo() -> SocketAddr {
    async fn headers(h: HeaderMap) -> axum::Json<Value> {
        let m: serde_json::Map<String, Value> = h
            .iter()
            .map(|(k, v)| {
                let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), text.into())
            })
            .collect();
        axum::Json(Value::Object(m))
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(l, Router::new().fallback(headers))
            .await
            .unwrap();
    });
    addr
}

/// `relier serve` with the ftn provider (`provider_extra` appended to its table).
async fn serve(isb: &Isb, provider_extra: &str) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let upstream = echo().await;
    let config = dir.path().join("relier.toml");
    std::fs::write(
        &config,
        format!(
            r#"listen = "{addr}"
public_url = "http://{addr}"
store = "sqlite://{db}"

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
issuer = "{iss}"
client_id = "{CLIENT_ID}"
ftn_spname = "{SPNAME}"
ui_locales = "en"
{provider_extra}
"#,
            db = dir.path().join("g.db").display(),
            iss = isb.issuer(),
        ),
    )
    .unwrap();
    let log = dir.path().join("stderr.log");
    let mut cmd = relier();
    cmd.args(["serve", "--config"])
        .arg(&config)
        .env(
            "RUST_LOG",
            "info,relier=trace,relier_gateway=trace,relier_core=trace",
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true);
    let served = Served {
        addr,
        child: cmd.spawn().unwrap(),
        log,
        dir,
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..300 {
        if let Ok(r) = http.get(served.url("/readyz")).send().await
            && r.status().is_success()
        {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("relier serve did not start: {}", served.log());
}

/// The RP's entity key and a server publishing the gateway's keys as a signed JWK set signed
/// with it, and the RP's entity statement naming both.
struct RpFederation {
    statement: String,
    _task: tokio::task::JoinHandle<()>,
}

struct Signer {
    entity_key: SigningKey,
    entity_id: String,
    jwks_url: String,
}

async fn signed_jwks(State(s): State<Arc<Signer>>) -> String {
    let jwks: Value = reqwest::get(&s.jwks_url)
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let now = relier_tests_now();
    let claims = json!({
        "keys": jwks["keys"],
        "iss": s.entity_id,
        "sub": s.entity_id,
        "iat": now,
        "exp": now + 3600,
    });
    sign(&s.entity_key, &claims, "jwk-set+jwt")
}

fn relier_tests_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(key: &SigningKey, claims: &Value, typ: &str) -> String {
    let header = relier_jose::jws::Header {
        typ: Some(typ.to_owned()),
        ..Default::default()
    };
    relier_jose::jws::sign_compact(
        &header,
        claims.to_string().as_bytes(),
        key,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap()
}

impl RpFederation {
    async fn start(served: &Served) -> RpFederation {
        let entity_key = SigningKey::generate(Algorithm::RS256, Some(2048)).unwrap();
        let kid = entity_key.thumbprint_sha256().unwrap();
        let entity_key = entity_key.with_kid(kid);
        let entity_id = served.url("");
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let signed_jwks_uri = format!("http://{}/signed-jwks", l.local_addr().unwrap());
        let now = relier_tests_now();
        let statement = sign(
            &entity_key,
            &json!({
                "iss": entity_id,
                "sub": entity_id,
                "iat": now,
                "exp": now + 86400,
                "jwks": {"keys": [entity_key.public_jwk().unwrap()]},
                "metadata": {"openid_relying_party": {
                    "redirect_uris": [served.url("/auth/callback/ftn")],
                    "application_type": "web",
                    "id_token_signed_response_alg": "RS256",
                    "id_token_encrypted_response_alg": "RSA-OAEP",
                    "id_token_encrypted_response_enc": "A128CBC-HS256",
                    "request_object_signing_alg": "RS256",
                    "token_endpoint_auth_method": "private_key_jwt",
                    "token_endpoint_auth_signing_alg": "RS256",
                    "client_registration_types": [],
                    "organization_name": "Example Oy",
                    "signed_jwks_uri": signed_jwks_uri,
                }},
            }),
            "entity-statement+jwt",
        );
        let signer = Arc::new(Signer {
            entity_key,
            entity_id,
            jwks_url: served.url("/.well-known/jwks.json"),
        });
        let app = Router::new()
            .route("/signed-jwks", get(signed_jwks))
            .with_state(signer);
        let task = tokio::spawn(async move {
            axum::serve(l, app).await.unwrap();
        });
        RpFederation {
            statement,
            _task: task,
        }
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
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

/// The broker, `relier serve` with the ftn preset, the RP's statement handed to the broker.
async fn onboarded(provider_extra: &str) -> (Isb, Served, RpFederation) {
    let isb = Isb::start().await.unwrap();
    isb.set(Knobs {
        legacy_discovery: true,
        ..Knobs::default()
    });
    let served = serve(&isb, provider_extra).await;
    let fed = RpFederation::start(&served).await;
    isb.onboard(CLIENT_ID, &fed.statement).unwrap();
    (isb, served, fed)
}

#[tokio::test]
async fn ftn_login_keys_on_the_personal_identity_code() {
    let (isb, served, _fed) = onboarded("").await;
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
    assert_eq!(
        up["x-relier-subject"], PERSON.personal_identity_code,
        "{up}"
    );
    assert_eq!(up["x-hetu"], PERSON.personal_identity_code);
    assert_eq!(up["x-birthdate"], PERSON.birthdate);
    assert_eq!(up["x-family-name"], PERSON.family_name);

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

#[tokio::test]
async fn ftn_cancel_returns_to_the_chooser() {
    let (isb, served, _fed) = onboarded("").await;
    isb.set(Knobs {
        cancel: true,
        legacy_discovery: true,
        ..Knobs::default()
    });
    let b = browser();
    let r = login(&served, &b, "").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/auth/login?return_to=%2Fapp");
    let r = b.get(served.url("/auth/session")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The user picks again and gets in.
    isb.set(Knobs {
        legacy_discovery: true,
        ..Knobs::default()
    });
    assert_eq!(login(&served, &b, "").await.status(), StatusCode::FOUND);
    drop(served.dir);
}

#[tokio::test]
async fn ftn_embedded_chooser_lists_the_brokers_identity_providers() {
    let (isb, served, _fed) = onboarded("embedded_ui = true\npurpose = \"strong\"").await;
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
    let (isb, served, _fed) = onboarded("").await;
    isb.set(Knobs {
        attributes_only_in_profile: true,
        legacy_discovery: true,
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
