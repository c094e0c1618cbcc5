//! `[telemetry]`: `relier serve` sends its spans over OTLP/HTTP to a collector — here a
//! loopback receiver of the test's own that decodes what arrives with `opentelemetry-proto` —
//! for a login through the misbehaving OP and a proxied request that comes with a W3C
//! `traceparent`: the request's span continues that trace, the steps of the login are its
//! children (the token request naming the client-auth method), and the upstream receives the
//! gateway's `traceparent`. JSON log lines of a traced request carry its `trace_id`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use common::gateway::{log_in, serve_with};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message as _;
use relier_tests::bad_op::BadOp;
use relier_tests::web::browser;
use serde_json::Value;

/// The incoming request's trace and the client's span in it.
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN: &str = "b7ad6b7169203331";

/// One span as received.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    trace: String,
    id: String,
    parent: String,
    attributes: HashMap<String, String>,
    service: String,
}

type Spans = Arc<Mutex<Vec<Received>>>;

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// `POST /v1/traces` (OTLP/HTTP, protobuf): every span of the request, kept.
async fn receive(State(spans): State<Spans>, headers: HeaderMap, body: Bytes) -> &'static str {
    assert_eq!(headers["content-type"], "application/x-protobuf");
    let req = ExportTraceServiceRequest::decode(body).unwrap();
    let mut got = spans.lock().unwrap();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref()))
            .unwrap_or_default();
        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            got.push(Received {
                name: span.name,
                trace: hex(&span.trace_id),
                id: hex(&span.span_id),
                parent: hex(&span.parent_span_id),
                attributes: span
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
                    .collect(),
                service: service.clone(),
            });
        }
    }
    ""
}

async fn receiver() -> (SocketAddr, Spans) {
    let spans = Spans::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, spans)
}

/// Waits (up to 20 s) until a span matching `pred` has arrived; returns everything so far.
async fn until(spans: &Spans, what: &str, pred: impl Fn(&Received) -> bool) -> Vec<Received> {
    for _ in 0..200 {
        let now = spans.lock().unwrap().clone();
        if now.iter().any(&pred) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no span {what} arrived; got {:#?}",
        spans
            .lock()
            .unwrap()
            .iter()
            .map(|s| &s.name)
            .collect::<Vec<_>>()
    );
}

fn one<'a>(all: &'a [Received], pred: impl Fn(&Received) -> bool, what: &str) -> &'a Received {
    all.iter()
        .find(|s| pred(s))
        .unwrap_or_else(|| panic!("no span {what} in {all:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_collector_and_the_upstream_continues_the_trace() {
    let (collector, spans) = receiver().await;
    let (upstream, _task) = relier_tests::echo::upstream().await;
    let op = BadOp::start().await.unwrap();
    let tables = format!(
        "[upstream]\nurl = \"http://{upstream}\"\n\n[telemetry]\notlp_endpoint = \"http://{collector}\"\nservice_name = \"relier-under-test\"\n"
    );
    let s = serve_with(
        &op,
        "log_format = \"json\"",
        &tables,
        &[("OTEL_BSP_SCHEDULE_DELAY", "100")],
    )
    .await;
    let client = browser();
    log_in(&client, &s).await;

    // A proxied request inside the client's trace.
    let incoming = format!("00-{TRACE}-{CLIENT_SPAN}-01");
    let r = client
        .get(s.url("/app/page?token=not-in-a-span"))
        .header("traceparent", &incoming)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let sent = seen["headers"]["traceparent"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "{sent}");
    assert_eq!(parts[1], TRACE, "the upstream continues the client's trace");
    assert_ne!(
        parts[2], CLIENT_SPAN,
        "the upstream's parent is the gateway's span"
    );
    assert_eq!(parts[3], "01");

    let all = until(&spans, "proxy", |s| s.trace == TRACE && s.name == "proxy").await;
    let request = one(
        &all,
        |s| s.trace == TRACE && s.parent == CLIENT_SPAN,
        "continuing the traceparent",
    );
    assert_eq!(request.name, "GET");
    assert_eq!(request.service, "relier-under-test");
    assert_eq!(request.attributes["http.request.method"], "GET");
    assert_eq!(request.attributes["url.path"], "/app/page");
    assert_eq!(request.attributes["http.response.status_code"], "200");
    let proxy = one(&all, |s| s.trace == TRACE && s.name == "proxy", "proxy");
    assert_eq!(proxy.parent, request.id);
    assert_eq!(
        parts[2], proxy.id,
        "the upstream's parent is the proxy span"
    );
    assert!(
        all.iter()
            .all(|s| s.attributes.values().all(|v| !v.contains("not-in-a-span"))),
        "a query string reached a span"
    );

    // The login: its steps below the callback's request span.
    let all = until(&spans, "store_write", |s| s.name == "store_write").await;
    let callback_req = one(
        &all,
        |s| s.name == "GET /auth/callback/{provider}",
        "callback request",
    );
    assert_eq!(callback_req.attributes["http.response.status_code"], "302");
    let callback = one(&all, |s| s.name == "callback", "callback");
    assert_eq!(callback.parent, callback_req.id);
    assert_eq!(callback.attributes["relier.provider"], "bad");
    let token = one(&all, |s| s.name == "token_request", "token_request");
    assert_eq!(token.parent, callback.id);
    assert_eq!(
        token.attributes["relier.client_auth"],
        "client_secret_basic"
    );
    for step in ["id_token_validation", "store_write"] {
        let span = one(&all, |s| s.name == step, step);
        assert_eq!(span.parent, callback.id, "{step}");
        assert_eq!(span.trace, callback_req.trace, "{step}");
    }
    assert!(all.iter().any(|s| s.name == "op_jwks_fetch"));
    let start_req = one(
        &all,
        |s| s.name == "GET /auth/login/{provider}",
        "login request",
    );
    let start = one(
        &all,
        |s| s.name == "authorization_start",
        "authorization_start",
    );
    assert_eq!(start.parent, start_req.id);
    let check_req = one(&all, |s| s.name == "GET /auth/check", "check request");
    let check = one(&all, |s| s.name == "auth_check", "auth_check");
    assert_eq!(check.parent, check_req.id);

    // A JSON log line written inside the callback carries its trace id at the top level.
    let log = s.stop().await;
    let completed = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "login completed")
        .unwrap_or_else(|| panic!("no 'login completed' line: {log}"));
    assert_eq!(
        completed["trace_id"],
        callback_req.trace.as_str(),
        "{completed}"
    );
    assert_eq!(
        completed["span_id"],
        callback_req.id.as_str(),
        "{completed}"
    );
}
