//! Loopback stand-ins for providers with quirks of their own, each reproducing the documented
//! behaviour relier's presets must cope with: [`github`] (OAuth 2.0, no ID token, identity from
//! the REST API), [`apple`] (a client secret the client signs, form_post, the name only once),
//! [`entra`] (multi-tenant issuer template, the groups overage through Microsoft Graph) and
//! [`google`] (`hd` of Workspace accounts), [`isb`] (the OP Identity Service Broker of the
//! Finnish Trust Network: entity statements, signed JWK sets, signed request objects, nested
//! encrypted ID tokens); and [`claims`], a claims provider for aggregated and
//! distributed claims (OIDC Core §5.6.2).

pub mod apple;
pub mod claims;
pub mod entra;
pub mod github;
pub mod google;
pub mod isb;

use std::net::SocketAddr;

use axum::Router;

/// Serves `app` on 127.0.0.1:0; the task ends when the handle is aborted.
pub(crate) async fn serve(
    app: impl FnOnce(SocketAddr) -> Router,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = app(addr);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((addr, task))
}

/// Serves `routes` on 127.0.0.1:0 with the state `state` builds from the base URL
/// (`http://127.0.0.1:PORT`, the issuer of most stand-ins); the task ends when the handle is
/// aborted.
pub(crate) async fn start<S: Send + Sync + 'static>(
    state: impl FnOnce(String) -> S,
    routes: Router<std::sync::Arc<S>>,
) -> anyhow::Result<(std::sync::Arc<S>, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let inner = std::sync::Arc::new(state(format!("http://{addr}")));
    let router = routes.with_state(inner.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((inner, task))
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
pub(crate) fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    relier_jose::b64::encode(d.as_ref()) == challenge
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `claims` signed with `key` as a compact JWS (header `typ` if given).
pub(crate) fn sign(
    key: &relier_jose::SigningKey,
    claims: &serde_json::Value,
    typ: Option<&str>,
) -> String {
    let header = relier_jose::jws::Header {
        typ: typ.map(str::to_owned),
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
