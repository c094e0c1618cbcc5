//! A WebFinger server (RFC 7033) on 127.0.0.1 over http — loopback lookups are allowed for
//! tests — that answers every lookup with a JRD naming a fixed issuer `href` (OIDC Discovery
//! §2), after an unrelated link. It keeps the query strings it was asked.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// A running WebFinger server; stopped when dropped.
pub struct WebFingerServer {
    /// `127.0.0.1:PORT`: the host of the resources it answers for.
    pub host: String,
    queries: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    href: String,
    queries: Arc<Mutex<Vec<String>>>,
}

async fn lookup(State(s): State<Shared>, RawQuery(q): RawQuery) -> impl IntoResponse {
    s.queries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(q.clone().unwrap_or_default());
    let subject = q
        .as_deref()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "resource")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let jrd = serde_json::json!({
        "subject": subject,
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "href": "https://example.com/profile"},
            {"rel": "http://openid.net/specs/connect/1.0/issuer", "href": s.href},
        ],
    });
    (
        [(header::CONTENT_TYPE, "application/jrd+json")],
        jrd.to_string(),
    )
}

impl WebFingerServer {
    /// Serve lookups naming `href` as the issuer.
    pub async fn start(href: &str) -> anyhow::Result<Self> {
        let queries = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            href: href.to_owned(),
            queries: Arc::clone(&queries),
        };
        let app = Router::new()
            .route("/.well-known/webfinger", get(lookup))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let host = listener.local_addr()?.to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            host,
            queries,
            task,
        })
    }

    /// The raw query strings of the lookups so far.
    pub fn queries(&self) -> Vec<String> {
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for WebFingerServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
