//! An upstream application that answers every request with what it received, as JSON:
//! `method`, `uri` (path and query), `headers` (name → every value), `body`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The handler: the request as JSON.
pub async fn echo(req: Request) -> axum::Json<serde_json::Value> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let headers: BTreeMap<String, Vec<String>> = parts
        .headers
        .keys()
        .map(|k| {
            (
                k.as_str().to_owned(),
                parts
                    .headers
                    .get_all(k)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect(),
            )
        })
        .collect();
    axum::Json(serde_json::json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// A WebSocket that answers each text message with `"{subject}: {message}"`, the subject
/// being the `X-Relier-Subject` the gateway passed (`nobody` without one).
pub async fn ws_echo(
    headers: axum::http::HeaderMap,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> axum::response::Response {
    use axum::extract::ws::Message;
    let who = headers
        .get("x-relier-subject")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("nobody")
        .to_owned();
    ws.on_upgrade(move |mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if let Message::Text(t) = msg {
                let reply = format!("{who}: {}", t.as_str());
                if socket.send(Message::Text(reply.into())).await.is_err() {
                    break;
                }
            }
        }
    })
}

/// [`echo`] on an ephemeral loopback port.
pub async fn upstream() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(echo);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
