//! A gateway in front of the in-process misbehaving OP (`relier_tests::bad_op`), driven with
//! `Router::oneshot`: the environment of the route tests.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::net::SocketAddr;

use relier_gateway::{Config, Gateway, GatewayBuilder, GatewayError};
use relier_tests::bad_op::{BadOp, CLIENT_ID};

use super::{OneShot, echo_upstream, loc, text};

pub const PUBLIC: &str = "http://127.0.0.1:8088";

pub struct Env {
    pub op: BadOp,
    pub gw: Gateway,
    pub app: OneShot,
    pub _dir: tempfile::TempDir,
    _upstream: Option<tokio::task::JoinHandle<()>>,
}

/// The gateway with top-level `extra` configuration, in proxy mode to an echoing upstream
/// when `upstream`.
pub async fn env_with(extra: &str, upstream: bool) -> Env {
    build(extra, upstream.then_some("")).await
}

/// Proxy mode with `upstream_extra` keys in `[upstream]`.
pub async fn env_upstream(extra: &str, upstream_extra: &str) -> Env {
    build(extra, Some(upstream_extra)).await
}

async fn build(extra: &str, upstream: Option<&str>) -> Env {
    let setup = Setup {
        extra,
        upstream,
        tail: "",
        store: None,
        public_url: None,
    };
    build_with(setup, |b| b, |gw| gw.router()).await
}

/// The gateway with `tail` appended to the provider's `[[providers]]` table.
pub async fn build_with_tail(tail: &str) -> Env {
    let setup = Setup {
        extra: "",
        upstream: None,
        tail,
        store: None,
        public_url: None,
    };
    build_with(setup, |b| b, |gw| gw.router()).await
}

/// Builds a gateway with top-level `extra` configuration, keeping the error.
pub async fn try_build(extra: &str) -> Result<Gateway, GatewayError> {
    try_build_with(Setup {
        extra,
        ..Setup::default()
    })
    .await
}

/// Builds a gateway from `setup` (no upstream), keeping the error.
pub async fn try_build_with(setup: Setup<'_>) -> Result<Gateway, GatewayError> {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    Gateway::build(Config::from_toml(&setup.toml(&op, dir.path(), None))?).await
}

/// What the test configuration holds besides the fixed parts.
#[derive(Clone, Copy, Default)]
pub struct Setup<'a> {
    /// Top-level keys and tables, before `[upstream]`.
    pub extra: &'a str,
    /// Proxy mode to an echoing upstream, with these extra `[upstream]` keys.
    pub upstream: Option<&'a str>,
    /// Appended to the provider's table.
    pub tail: &'a str,
    /// The store URL (default: `sqlite://<test dir>/g.db`).
    pub store: Option<&'a str>,
    /// `public_url` (default [`PUBLIC`]).
    pub public_url: Option<&'a str>,
}

impl Setup<'_> {
    fn toml(&self, op: &BadOp, dir: &std::path::Path, upstream: Option<SocketAddr>) -> String {
        let up = match (upstream, self.upstream) {
            (Some(addr), Some(more)) => format!("[upstream]\nurl = \"http://{addr}\"\n{more}\n"),
            _ => String::new(),
        };
        format!(
            r#"
public_url = "{public}"
store = "{store}"
{extra}
{up}
[headers]
"X-Relier-Groups" = "groups"
"X-Forwarded-User" = "preferred_username"

[[providers]]
name = "bad"
display_name = "<script>alert(1)</script> Bad & Co"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
{tail}
"#,
            store = self.store.map_or_else(
                || format!("sqlite://{}", dir.join("g.db").display()),
                str::to_owned
            ),
            iss = op.issuer(),
            public = self.public_url.unwrap_or(PUBLIC),
            extra = self.extra,
            tail = self.tail,
        )
    }
}

/// The gateway built through `builder` (e.g. with a login hook), driven through the router
/// `app` makes of it (e.g. an application that embeds it).
pub async fn build_with(
    setup: Setup<'_>,
    builder: impl FnOnce(GatewayBuilder) -> GatewayBuilder,
    app: impl FnOnce(&Gateway) -> axum::Router,
) -> Env {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (addr, task) = if setup.upstream.is_some() {
        let (addr, task) = echo_upstream().await;
        (Some(addr), Some(task))
    } else {
        (None, None)
    };
    let toml = setup.toml(&op, dir.path(), addr);
    let gw = builder(Gateway::builder(Config::from_toml(&toml).unwrap()))
        .build()
        .await
        .unwrap();
    let app = OneShot::new(app(&gw));
    Env {
        op,
        gw,
        app,
        _dir: dir,
        _upstream: task,
    }
}

/// Another gateway (as another instance) with `setup`, in front of `e`'s OP, sharing `e`'s
/// directory.
pub async fn another_instance(e: &Env, setup: Setup<'_>) -> OneShot {
    another_instance_with(e, setup, Gateway::router).await
}

/// [`another_instance`] serving `app` (e.g. an embedding application's routes).
pub async fn another_instance_with(
    e: &Env,
    setup: Setup<'_>,
    app: impl FnOnce(&Gateway) -> axum::Router,
) -> OneShot {
    let toml = setup.toml(&e.op, e._dir.path(), None);
    let gw = Gateway::build(Config::from_toml(&toml).unwrap())
        .await
        .unwrap();
    OneShot::new(app(&gw))
}

pub async fn env() -> Env {
    env_with("", false).await
}

/// The OP's answer to the authorization request: the callback URL (query mode).
pub async fn op_callback(auth_url: &str) -> url::Url {
    let c = super::browser();
    let r = c.get(auth_url).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    url::Url::parse(&super::location(r.headers())).unwrap()
}

/// Runs a full login; returns the callback response.
pub async fn login(e: &mut Env, return_to: &str) -> axum::http::Response<Body> {
    let q = super::form(&[("return_to", return_to)]);
    let r = e.app.get(&format!("/auth/login/bad?{q}")).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cb = op_callback(&loc(&r)).await;
    assert!(
        cb.as_str()
            .starts_with(&format!("{PUBLIC}/auth/callback/bad?"))
    );
    e.app
        .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await
}

pub async fn logged_in(e: &mut Env) {
    let r = login(e, "/app").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
}

pub fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}
