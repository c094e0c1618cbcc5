//! Traces (`[telemetry]`): every request of the standalone gateway gets a server span
//! (`http.request.method`, `url.path` without the query, `http.response.status_code`) that
//! continues the W3C `traceparent` the request came with, and the request the gateway sends
//! the upstream carries the gateway's own `traceparent` (W3C Trace Context §3.2), so the
//! upstream's spans hang below relier's. The steps inside (login start, callback, token
//! request, OP JWKS fetch, ID-token validation, UserInfo, store write, refresh, logout,
//! `/auth/check`, proxying) are `tracing` spans below it.
//!
//! Only the OpenTelemetry API is used here; the SDK, the exporter and the propagator are the
//! `relier` binary's (an embedding application brings its own). Nothing here runs unless
//! `[telemetry]` is configured: the hot path pays no span when traces are off.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use std::sync::Arc;
use tracing::{Instrument as _, Span, field};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::state::AppState;

/// The request's headers as a propagator reads them. A header sent more than once is not
/// read (W3C Trace Context §3.2.1: a `traceparent` that cannot be parsed is ignored, and two
/// of them cannot both be the parent).
struct Extract<'a>(&'a HeaderMap);

impl Extractor for Extract<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let mut values = self.0.get_all(key).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().ok(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The upstream request's headers as a propagator writes them: each value replaces what the
/// client sent under that name.
struct Inject<'a>(&'a mut HeaderMap);

impl Injector for Inject<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The middleware of [`crate::routes::router`] under `[telemetry]`: the request's server
/// span, parented by its `traceparent`, with the response status recorded on it.
pub async fn request_span(State(_): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    // OpenTelemetry HTTP semantic conventions: `{method} {route}`, the method alone without a
    // route (the proxied paths: low cardinality, no personal data in span names).
    let name = match req.extensions().get::<MatchedPath>() {
        Some(route) => format!("{method} {}", route.as_str()),
        None => method.clone(),
    };
    let span = tracing::info_span!(
        "http.request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = %method,
        url.path = %req.uri().path(),
        http.response.status_code = field::Empty,
        otel.status_code = field::Empty,
        trace_id = field::Empty,
        span_id = field::Empty,
    );
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Extract(req.headers())));
    // Fails only when the span is not recorded by an OpenTelemetry layer: nothing to continue.
    let _ = span.set_parent(parent);
    let cx = span.context();
    let ids = cx.span().span_context().clone();
    if ids.is_valid() {
        // For the log lines of the request (`log_format = "json"`).
        span.record("trace_id", field::display(ids.trace_id()));
        span.record("span_id", field::display(ids.span_id()));
    }
    let resp = next.run(req).instrument(span.clone()).await;
    span.record("http.response.status_code", resp.status().as_u16());
    if resp.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    resp
}

/// Sets the current span's `traceparent` (and `tracestate`) on a request to the upstream,
/// replacing the client's: the upstream's work is a child of the gateway's span.
pub fn inject_current(headers: &mut HeaderMap) {
    let cx = Span::current().context();
    if !cx.span().span_context().is_valid() {
        return;
    }
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut Inject(headers)));
}

/// A span for a step on the hot path (`/auth/check`, proxying): real under `[telemetry]`,
/// disabled otherwise so that the request pays nothing for it.
pub fn hot_span(traces: bool, make: impl FnOnce() -> Span) -> Span {
    if traces { make() } else { Span::none() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_repeated_header_is_not_read() {
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static("a"));
        assert_eq!(Extract(&h).get("traceparent"), Some("a"));
        h.append("traceparent", HeaderValue::from_static("b"));
        assert_eq!(Extract(&h).get("traceparent"), None);
        assert_eq!(Extract(&h).keys(), ["traceparent"]);
    }

    #[test]
    fn injected_values_replace_the_clients() {
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static("client-1"));
        h.append("traceparent", HeaderValue::from_static("client-2"));
        Inject(&mut h).set("traceparent", "gateway".into());
        Inject(&mut h).set("bad name", "x".into());
        assert_eq!(
            h.get_all("traceparent").iter().collect::<Vec<_>>(),
            ["gateway"]
        );
        assert_eq!(h.len(), 1);
    }
}
