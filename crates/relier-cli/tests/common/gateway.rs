//! `relier serve` in front of the misbehaving OP (`relier_tests::bad_op`) with a client secret,
//! and one login through it: shared by the tests of what `serve` emits (log lines, traces).

use std::net::SocketAddr;

use relier_tests::bad_op::{BadOp, CLIENT_ID};
use reqwest::StatusCode;

use super::{Served, free_port, relier, serve_until};

/// The client secret of the provider (it must never be logged).
pub const CLIENT_SECRET: &str = "s3cret-s3cret-never-logged";

/// `relier serve` in front of `op`, with `extra` at the top of its file and `env` set.
pub async fn serve(op: &BadOp, extra: &str, env: &[(&str, &str)]) -> Served {
    serve_with(op, extra, "", env).await
}

/// [`serve`], with `tables` (TOML tables such as `[upstream]`) after the provider's.
pub async fn serve_with(op: &BadOp, extra: &str, tables: &str, env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = dir.path().join("relier.toml");
    std::fs::write(
        &config,
        format!(
            r#"{extra}
listen = "{addr}"
public_url = "http://{addr}"
store = "sqlite://{db}"

[[providers]]
name = "bad"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"

{tables}
"#,
            db = dir.path().join("g.db").display(),
            iss = op.issuer(),
        ),
    )
    .unwrap();
    let mut cmd = relier();
    cmd.args(["serve", "--config"]).arg(&config).env(
        "RUST_LOG",
        "info,relier=trace,relier_gateway=trace,relier_core=trace,relier_store=debug",
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let log = dir.path().join("stderr.log");
    let mut served = serve_until(cmd, addr, log, "/healthz").await;
    served.dir = Some(dir);
    served
}

use relier_tests::web::location;

/// What a login through the gateway puts on the wire that must never be logged.
pub struct LoginSecrets {
    pub code: String,
    pub state: String,
    pub session_cookie: String,
}

pub async fn log_in(client: &reqwest::Client, s: &Served) -> LoginSecrets {
    let r = client.get(s.url("/auth/login/bad")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = client.get(location(&r)).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let callback = url::Url::parse(&location(&r)).unwrap();
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (code, state) = (param("code"), param("state"));
    let r = client.get(callback.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let session_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("relier_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    assert!(session_cookie.len() > 16, "{session_cookie}");
    // The original URI: path rules (`[[access]]`, `skip_auth`) need it.
    let r = client
        .get(s.url("/auth/check"))
        .header("x-forwarded-uri", "/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-email"], "alice@example.com");
    LoginSecrets {
        code,
        state,
        session_cookie,
    }
}
