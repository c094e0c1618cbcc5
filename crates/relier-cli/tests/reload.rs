//! `SIGHUP` to `relier serve` (issue 24 §4), under load: a signed-in session, an open
//! WebSocket through the reverse proxy and a stream of proxied requests stay up while a reload
//! adds a provider, changes an `[[access]]` rule and the log level; a broken file and a
//! change of `listen` leave the configuration in force, the log naming why (the line of the
//! mistake), `relier_config_reloads_total` counting each outcome.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::gateway::{CLIENT_SECRET, log_in, serve_with};
use common::{Served, free_port};
use futures_util::{SinkExt as _, StreamExt as _};
use relier_tests::bad_op::{BadOp, CLIENT_ID};
use relier_tests::web::{browser, location};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _};

/// An upstream echoing requests as JSON, with a WebSocket at `/ws`.
async fn upstream() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/ws", axum::routing::get(relier_tests::echo::ws_echo))
        .fallback(relier_tests::echo::echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn hang_up(s: &Served) {
    let pid = s.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (up to 30 s) until the log has `needle` `n` times.
async fn logged(s: &Served, needle: &str, n: usize) -> String {
    for _ in 0..300 {
        let log = s.log();
        if log.matches(needle).count() >= n {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle:?} not logged {n} times: {}", s.log());
}

async fn metric(http: &reqwest::Client, s: &Served, result: &str) -> String {
    let body = http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let name = format!("relier_config_reloads_total{{result=\"{result}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&name))
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

/// Proxied requests on one keep-alive client until `stop`: (sent, failed).
fn load(
    s: &Served,
    cookie: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    let url = s.url("/load");
    tokio::spawn(async move {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let (mut sent, mut failed) = (0, Vec::new());
        while !stop.load(Ordering::SeqCst) {
            sent += 1;
            match http.get(&url).header("cookie", &cookie).send().await {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => failed.push(r.status().to_string()),
                Err(e) => failed.push(e.to_string()),
            }
        }
        (sent, failed)
    })
}

fn rewrite(file: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from} in {text}");
    let new = text.replace(from, to);
    std::fs::write(file, &new).unwrap();
    new
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_under_load_with_a_live_session_and_an_open_websocket() {
    let op = BadOp::start().await.unwrap();
    let second = BadOp::start().await.unwrap();
    let up = upstream().await;
    let tables = format!(
        "[upstream]\nurl = \"http://{up}\"\n\n[[access]]\npath = \"/admin\"\nemails = [\"bob@example.com\"]\n"
    );
    // The file's log_level rules: RUST_LOG emptied.
    let s = serve_with(
        &op,
        "metrics = true\nlog_level = \"info\"",
        &tables,
        &[("RUST_LOG", "")],
    )
    .await;
    let file = s.dir.as_ref().unwrap().path().join("relier.toml");
    let http = browser();
    let secrets = log_in(&http, &s).await;
    let cookie = format!("relier_session={}", secrets.session_cookie);
    assert_eq!(
        http.get(s.url("/admin")).send().await.unwrap().status(),
        403
    );

    // An open WebSocket through the proxy.
    let mut handshake = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
    handshake
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    handshake
        .headers_mut()
        .insert("origin", s.url("").parse().unwrap());
    let (mut ws, resp) = tokio_tungstenite::connect_async(handshake).await.unwrap();
    assert_eq!(resp.status(), 101);
    let mut echo = async |msg: &str| {
        ws.send(Message::text(msg)).await.unwrap();
        let got = ws.next().await.unwrap().unwrap().into_text().unwrap();
        assert!(got.ends_with(&format!(": {msg}")), "{got}");
    };
    echo("before").await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = load(&s, cookie.clone(), stop.clone());

    // 1. A provider added, an [[access]] rule changed, the log level raised.
    rewrite(
        &file,
        "emails = [\"bob@example.com\"]",
        "emails = [\"alice@example.com\"]",
    );
    rewrite(&file, "log_level = \"info\"", "log_level = \"warn\"");
    let text = std::fs::read_to_string(&file).unwrap();
    let valid = format!(
        "{text}\n[[providers]]\nname = \"second\"\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
        second.issuer()
    );
    std::fs::write(&file, &valid).unwrap();
    hang_up(&s);
    logged(&s, "configuration reloaded", 1).await;
    let chooser = http.get(s.url("/auth/login")).send().await.unwrap();
    assert!(chooser.text().await.unwrap().contains("/auth/login/second"));
    let r = http.get(s.url("/auth/login/second")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(
        location(&r).starts_with(second.issuer()),
        "{}",
        location(&r)
    );
    assert_eq!(
        http.get(s.url("/admin")).send().await.unwrap().status(),
        200
    );
    echo("after the reload").await;
    assert_eq!(metric(&http, &s, "ok").await, "1");

    // 2. A broken file: the old configuration stays, the log names the line.
    let line = valid.lines().count() + 1;
    std::fs::write(&file, format!("{valid}title = \"unterminated\n")).unwrap();
    hang_up(&s);
    let log = logged(&s, "reload refused, the old configuration stays", 1).await;
    assert!(
        log.contains(&format!("{}:{line}:", file.display())),
        "line {line} named: {log}"
    );
    assert_eq!(metric(&http, &s, "error").await, "1");
    assert_eq!(
        http.get(s.url("/auth/login/second"))
            .send()
            .await
            .unwrap()
            .status(),
        302
    );
    assert_eq!(
        http.get(s.url("/admin")).send().await.unwrap().status(),
        200
    );
    // log_level = "warn" is in force: the info line of a SIGHUP is no longer written.
    assert_eq!(
        log.matches("SIGHUP: reloading the configuration").count(),
        1,
        "{log}"
    );

    // 3. `listen` changed: a restart is needed, nothing applies.
    let elsewhere = format!("127.0.0.1:{}", free_port());
    let moved = valid
        .replace(
            &format!("listen = \"{}\"", s.addr),
            &format!("listen = \"{elsewhere}\""),
        )
        .replace(
            "emails = [\"alice@example.com\"]",
            "emails = [\"bob@example.com\"]",
        );
    assert_ne!(moved, valid);
    std::fs::write(&file, moved).unwrap();
    hang_up(&s);
    logged(&s, "needs a restart to change listen", 1).await;
    assert_eq!(metric(&http, &s, "restart_required").await, "1");
    assert_eq!(
        http.get(s.url("/admin")).send().await.unwrap().status(),
        200,
        "the rule change of that file did not apply"
    );
    echo("still open").await;

    stop.store(true, Ordering::SeqCst);
    let (sent, failed) = load.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} of {sent} failed: {failed:?}",
        failed.len()
    );
    assert!(sent > 10, "{sent} requests across the reloads");
    let check = http
        .get(s.url("/auth/check"))
        .header("x-forwarded-uri", "/");
    assert_eq!(
        check.send().await.unwrap().status(),
        200,
        "the session lives on"
    );
    ws.close(None).await.unwrap();
    s.stop().await;
}
