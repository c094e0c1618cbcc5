//! Several upstreams in proxy mode (`[[upstream]]`), through real HTTP against two upstreams
//! on loopback: routing by host, by path, by both, the longest prefix, `strip_prefix`, 404 for
//! a request no route takes (no upstream contacted), each route's own access rules,
//! `skip_auth`, `pass_access_token` and WebSocket origins, and attempts to leave a route by
//! case, `;`, encoded separators and dot segments.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::Request;
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// An upstream echoing each request as JSON ([`relier_tests::echo`]) with its own name under
/// `upstream` (the connection's end, whatever `Host` says), a WebSocket at `/ws`, counting
/// the requests it answers.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Upstream {
    async fn start(name: &'static str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = Router::new()
            .route("/ws", axum::routing::get(common::ws_echo))
            .fallback(move |req: Request| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    let mut seen = relier_tests::echo::echo(req).await.0;
                    seen["upstream"] = json!(name);
                    axum::Json(seen)
                }
            });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Upstream { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

struct Setup {
    gw: common::Running,
    op: BadOp,
    a: Upstream,
    b: Upstream,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Routes: any host `/grafana/` (stripped) → A, with an `[[upstream.access]]` rule for
/// `/grafana/admin`, the user's access token and a WebSocket origin of its own; any host
/// `/grafana/public/` → B without a session; host `wiki.test` → B (its own `skip_auth`);
/// any host `/app/` → B under `/base`. Nothing else.
async fn setup() -> Setup {
    let (a, b) = (Upstream::start("A").await, Upstream::start("B").await);
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
public_url = "http://127.0.0.1:8088"
store = "sqlite://{db}"

[[upstream]]
path = "/grafana/"
strip_prefix = true
url = "http://{a}"
pass_access_token = true
websocket_origins = ["https://grafana.example"]
[[upstream.access]]
path = "/grafana/admin"
groups = ["admins"]

[[upstream]]
path = "/grafana/public"
url = "http://{b}"
skip_auth = ["/grafana/public/"]

[[upstream]]
host = "Wiki.Test"
url = "http://{b}"
skip_auth = ["/public/"]

[[upstream]]
path = "/app/"
url = "http://{b}/base"

[[providers]]
name = "bad"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
"#,
        db = dir.path().join("g.db").display(),
        a = a.addr,
        b = b.addr,
        iss = op.issuer(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = common::Running::start(listener, &toml).await;
    Setup {
        gw,
        op,
        a,
        b,
        http: common::browser(),
        _dir: dir,
    }
}

impl Setup {
    /// A login through the gateway's own port: the session cookie lands in `http`'s jar.
    async fn login(&self) {
        let r = self
            .http
            .get(format!("{}/auth/login/bad", self.gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let cb = common::bad_env::op_callback(&common::location(r.headers())).await;
        let r = self
            .http
            .get(format!(
                "{}{}?{}",
                self.gw.base,
                cb.path(),
                cb.query().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    }

    async fn get(&self, host: Option<&str>, target: &str) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{target}", self.gw.base));
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send().await.unwrap()
    }

    /// What the upstream that answered saw: (which upstream, the request target it got).
    async fn seen(&self, host: Option<&str>, target: &str) -> (&'static str, String, Value) {
        let r = self.get(host, target).await;
        assert_eq!(r.status(), 200, "{target}: {}", r.text().await.unwrap());
        let v: Value = json_of(r).await;
        let which = match v["upstream"].as_str() {
            Some("A") => "A",
            Some("B") => "B",
            other => panic!("{target}: {other:?}"),
        };
        let told = if which == "A" {
            self.a.addr
        } else {
            self.b.addr
        };
        assert_eq!(v["headers"]["host"], json!([told.to_string()]), "{target}");
        (which, v["uri"].as_str().unwrap().to_owned(), v)
    }
}

#[tokio::test]
async fn requests_are_routed_by_host_then_the_longest_path_prefix() {
    let s = setup().await;
    s.login().await;
    for (host, target, which, upstream_target) in [
        (None, "/grafana/d/x?q=1&r=%2f", "A", "/d/x?q=1&r=%2f"),
        (None, "/grafana", "A", "/"),
        (None, "/grafana/", "A", "/"),
        (None, "/GRAFANA/d", "A", "/d"),
        (Some("other.test"), "/grafana/d", "A", "/d"),
        (None, "/grafana/public/x", "B", "/grafana/public/x"),
        (None, "/grafana/publicity", "A", "/publicity"),
        (None, "/app/x?y", "B", "/base/app/x?y"),
        (Some("wiki.test"), "/grafana/d", "B", "/grafana/d"),
        (Some("WIKI.test:8088"), "/x", "B", "/x"),
        // Back to A on the same client connection: each upstream has its own connection.
        (None, "/grafana/again", "A", "/again"),
    ] {
        let (got, uri, _) = s.seen(host, target).await;
        assert_eq!(
            (got, uri.as_str()),
            (which, upstream_target),
            "{host:?} {target}"
        );
    }
    // The upstream of a host route is told that host; the others public_url's.
    let (_, _, v) = s.seen(Some("wiki.test"), "/x").await;
    assert_eq!(v["headers"]["x-forwarded-host"], json!(["wiki.test:8088"]));
    let (_, _, v) = s.seen(None, "/app/x").await;
    assert_eq!(v["headers"]["x-forwarded-host"], json!(["127.0.0.1:8088"]));
    s.gw.stop().await;
}

#[tokio::test]
async fn a_request_no_route_takes_gets_404_and_reaches_no_upstream() {
    let s = setup().await;
    s.login().await;
    let before = (s.a.hits(), s.b.hits());
    for (host, target) in [
        (None, "/"),
        (None, "/other/x"),
        (None, "/grafanaX/d"),
        (None, "/ap"),
        (Some("wiki.test.evil"), "/x"),
        (Some("evilwiki.test"), "/x"),
    ] {
        let r = s.get(host, target).await;
        assert_eq!(r.status(), 404, "{host:?} {target}");
        assert_eq!(r.text().await.unwrap(), "not found\n");
    }
    assert_eq!((s.a.hits(), s.b.hits()), before, "no upstream contacted");
    s.gw.stop().await;
}

#[tokio::test]
async fn each_route_has_its_own_rules() {
    let s = setup().await;
    // Without a session: each route's skip_auth, and nothing else.
    let anonymous = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |host: Option<&'static str>, target: &str| {
        let mut r = anonymous.get(format!("{}{target}", s.gw.base));
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send()
    };
    assert_eq!(get(None, "/grafana/public/x").await.unwrap().status(), 200);
    assert_eq!(
        get(Some("wiki.test"), "/public/x").await.unwrap().status(),
        200
    );
    assert_eq!(
        get(None, "/public/x").await.unwrap().status(),
        404,
        "no route"
    );
    for (host, target) in [
        (None, "/grafana/d"),
        (Some("wiki.test"), "/grafana/public/x"),
        (None, "/app/x"),
    ] {
        let r = get(host, target).await.unwrap();
        assert_eq!(r.status(), 401, "{host:?} {target}");
    }
    // Signed in without the group: the grafana route's rule refuses, on every reading of its
    // path; the same path on another route is not under it.
    s.login().await;
    for target in [
        "/grafana/admin",
        "/grafana/ADMIN/x",
        "/grafana/admin./x",
        "/grafana/admin;x/y",
        "/grafana/admin%2fx",
    ] {
        let r = s.get(None, target).await;
        assert_eq!(r.status(), 403, "{target}");
    }
    let (which, uri, _) = s.seen(Some("wiki.test"), "/grafana/admin").await;
    assert_eq!((which, uri.as_str()), ("B", "/grafana/admin"));
    let (which, _, _) = s.seen(None, "/grafana/d").await;
    assert_eq!(which, "A");
    // With the group (a new login), the rule admits.
    s.op.set(Misbehavior {
        claims: vec![("groups".into(), Some(json!(["admins"])))],
        ..Misbehavior::default()
    });
    s.login().await;
    let (which, uri, _) = s.seen(None, "/grafana/admin/x").await;
    assert_eq!((which, uri.as_str()), ("A", "/admin/x"));
    s.gw.stop().await;
}

#[tokio::test]
async fn the_access_token_goes_only_to_the_routes_that_pass_it() {
    let s = setup().await;
    s.login().await;
    let basic = "Basic Y2xpZW50OnNlY3JldA==";
    let seen = |target: &'static str| {
        s.http
            .get(format!("{}{target}", s.gw.base))
            .header("authorization", basic)
            .send()
    };
    let a = json_of(seen("/grafana/x").await.unwrap()).await;
    let token = a["headers"]["authorization"][0].as_str().unwrap();
    assert!(token.starts_with("Bearer "), "{a}");
    assert_ne!(token, basic);
    let b = json_of(seen("/app/x").await.unwrap()).await;
    assert_eq!(b["headers"]["authorization"], json!([basic]), "as before");
    s.gw.stop().await;
}

#[tokio::test]
async fn leaving_a_route_by_spelling_is_refused_before_any_upstream() {
    let s = setup().await;
    let cookie = session_cookie(&s).await;
    let before = (s.a.hits(), s.b.hits());
    for (target, code) in [
        // Readings that go to different routes (or to a route and to none).
        ("/grafana%2fadmin", "ambiguous_route"),
        ("/grafana;x/admin", "ambiguous_route"),
        ("//grafana/admin", "ambiguous_route"),
        ("/grafana/public%2fx", "ambiguous_route"),
        ("/grafana/public;x/y", "ambiguous_route"),
        ("/%67rafana/d", "ambiguous_route"),
        // Paths no browser sends (sent as they are: an HTTP client library would resolve them).
        ("/grafana/..%2fapp/x", "non_canonical_path"),
        ("/grafana/%2e%2e/app/x", "non_canonical_path"),
        ("/grafana/public/../../app/x", "non_canonical_path"),
        ("/grafana/.%2E/app/x", "non_canonical_path"),
    ] {
        let answer = raw(
            &s,
            &cookie,
            &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
        assert!(
            answer.contains(&format!("{{\"error\":\"{code}\"}}")),
            "{target}: {answer}"
        );
    }
    assert_eq!((s.a.hits(), s.b.hits()), before, "no upstream contacted");
    // Two Host fields name no host.
    let answer = raw(
        &s,
        &cookie,
        "GET /x HTTP/1.1\r\nHost: wiki.test\r\nHost: other.test\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("ambiguous_host"), "{answer}");
    s.gw.stop().await;
}

#[tokio::test]
async fn websockets_on_a_route_with_its_own_origins() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest as _};
    let s = setup().await;
    s.login().await;
    let jar_cookie = session_cookie(&s).await;
    let handshake = |host: Option<&str>, path: &str, origin: &str| {
        let mut r = format!("ws://{}{path}", s.gw.addr)
            .into_client_request()
            .unwrap();
        let h = r.headers_mut();
        h.insert("cookie", jar_cookie.parse().unwrap());
        h.insert("origin", origin.parse().unwrap());
        if let Some(host) = host {
            h.insert("host", host.parse().unwrap());
        }
        r
    };
    // /grafana/ws reaches A's /ws (prefix stripped), from the route's own origin too.
    for origin in ["http://127.0.0.1:8088", "https://grafana.example"] {
        let (mut ws, resp) =
            tokio_tungstenite::connect_async(handshake(None, "/grafana/ws", origin))
                .await
                .unwrap();
        assert_eq!(resp.status(), 101, "{origin}");
        ws.send(Message::text("hi")).await.unwrap();
        let got = ws.next().await.unwrap().unwrap();
        assert_eq!(got.into_text().unwrap().as_str(), "alice: hi");
        ws.close(None).await.unwrap();
    }
    // That origin is the grafana route's only: refused on the wiki route.
    match tokio_tungstenite::connect_async(handshake(
        Some("wiki.test"),
        "/ws",
        "https://grafana.example",
    ))
    .await
    {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let (ws, resp) = tokio_tungstenite::connect_async(handshake(
        Some("wiki.test"),
        "/ws",
        "http://127.0.0.1:8088",
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 101);
    drop(ws);
    s.gw.stop().await;
}

/// A fresh login's session cookie as a `Cookie` header value (`name=value`).
async fn session_cookie(s: &Setup) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/auth/login/bad", s.gw.base))
        .send()
        .await
        .unwrap();
    let binding: Vec<String> = set_cookies(&r);
    let cb = common::bad_env::op_callback(&common::location(r.headers())).await;
    let r = http
        .get(format!(
            "{}{}?{}",
            s.gw.base,
            cb.path(),
            cb.query().unwrap()
        ))
        .header("cookie", binding.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("relier_session="))
        .expect("a session cookie")
}

/// A request written byte for byte (`head` without its blank line, the session cookie added),
/// and the whole answer.
async fn raw(s: &Setup, cookie: &str, head: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(s.gw.addr).await.unwrap();
    tcp.write_all(format!("{head}Cookie: {cookie}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer
}

async fn json_of(r: reqwest::Response) -> Value {
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect()
}
