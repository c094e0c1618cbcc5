//! The RFC 8252 loopback redirect listener: one HTTP server on 127.0.0.1 (or ::1) that waits for
//! the authorization response on the redirect path, by GET (query) or POST (form_post), hands it
//! to the login task, and answers the browser with that task's verdict. It also serves the
//! login's request objects by reference (OIDC Core §6.2), each once, at `/request/{id}`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use relier::request_uri::PendingRequestObjects;
use relier_core::authorize::{CallbackError, CallbackParams};
use relier_core::request_object::CONTENT_TYPE;
use relier_core::types::is_loopback;
use relier_core::{RedirectUrl, types::InvalidValue};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::output::html_escape;

/// Largest request body accepted on the redirect path (a form_post response is small).
const MAX_BODY: usize = 64 * 1024;
/// Where request objects are served by reference (the id follows).
const REQUEST_PATH: &str = "/request/";
/// Where the signed JWK set of a federation entity is published (OpenID Federation
/// `signed_jwks_uri`, as `relier serve` publishes it).
const SIGNED_JWKS_PATH: &str = "/.well-known/signed-jwks";
/// How long the server may take to finish answering after the verdict.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A `--redirect-uri` that relier can serve itself: `http`, a loopback host, a port.
#[derive(Debug, Clone)]
pub struct RedirectSpec {
    /// The URI as given (kept verbatim: the OP compares it as a string); `None` for the default.
    given: Option<(String, Url)>,
    path: String,
    bind: SocketAddr,
}

/// Why a `--redirect-uri` cannot be served.
#[derive(Debug)]
pub enum RedirectError {
    /// Not a valid redirect URI at all.
    Invalid(InvalidValue),
    /// Not `http://` on a loopback address.
    NotLoopbackHttp,
}

impl std::fmt::Display for RedirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectError::Invalid(e) => write!(f, "{e}"),
            RedirectError::NotLoopbackHttp => f.write_str(
                "redirect_uri: relier receives the response itself, so it must be http://127.0.0.1:PORT/PATH (or [::1] or localhost), RFC 8252 §7.3",
            ),
        }
    }
}

impl std::error::Error for RedirectError {}

const DEFAULT_PATH: &str = "/callback";

impl RedirectSpec {
    /// Check that `s` is a loopback http redirect URI relier can listen on.
    pub fn parse(s: &str) -> Result<Self, RedirectError> {
        let checked = RedirectUrl::new(s).map_err(RedirectError::Invalid)?;
        let url = checked.url().map_err(RedirectError::Invalid)?;
        if url.scheme() != "http" || !is_loopback(&url) {
            return Err(RedirectError::NotLoopbackHttp);
        }
        let ip = match url.host() {
            Some(url::Host::Ipv6(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            // 127.0.0.1, and `localhost` (RFC 8252 §8.3 prefers the literal; bind the IPv4 one).
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Self {
            path: url.path().to_owned(),
            given: Some((s.to_owned(), url)),
            bind: SocketAddr::new(ip, port),
        })
    }

    /// The default: an ephemeral port on 127.0.0.1, path `/callback`.
    pub fn default_ephemeral() -> Self {
        Self {
            given: None,
            path: DEFAULT_PATH.to_owned(),
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        }
    }

    /// The URI as given on the command line (`None` for the default).
    pub fn as_given(&self) -> Option<&str> {
        self.given.as_ref().map(|(text, _)| text.as_str())
    }

    /// The port to bind (0: ephemeral).
    pub fn port(&self) -> u16 {
        self.bind.port()
    }

    /// The path the OP redirects to.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The redirect URI to register and send, once bound to `port`.
    fn uri_for(&self, port: u16) -> anyhow::Result<String> {
        match &self.given {
            Some((text, _)) if self.port() != 0 => Ok(text.clone()),
            Some((_, url)) => {
                let mut url = url.clone();
                if url.set_port(Some(port)).is_err() {
                    bail!("redirect_uri: cannot set the port of {url}");
                }
                Ok(url.to_string())
            }
            None => Ok(format!("http://127.0.0.1:{port}{DEFAULT_PATH}")),
        }
    }
}

/// One authorization response, and where to send the verdict for the browser page.
#[derive(Debug)]
pub struct Callback {
    /// The parsed parameters (or why they could not be parsed).
    pub params: Result<CallbackParams, CallbackError>,
    /// The parameters as received (query or form body), for provider-specific ones such as
    /// Sign in with Apple's `user`.
    pub raw: Vec<u8>,
    /// `Ok(())` → success page; `Err(message)` → error page.
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// A bound listener, serving in the background.
#[derive(Debug)]
pub struct Listener {
    redirect_uri: RedirectUrl,
    request_objects: Arc<PendingRequestObjects>,
    signed_jwks: Arc<OnceLock<String>>,
    callbacks: mpsc::Receiver<Callback>,
    shutdown: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    path: String,
    tx: mpsc::Sender<Callback>,
    request_objects: Arc<PendingRequestObjects>,
    signed_jwks: Arc<OnceLock<String>>,
}

impl Listener {
    /// Bind the redirect URI's address and start serving.
    pub async fn bind(spec: &RedirectSpec) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(spec.bind)
            .await
            .with_context(|| format!("redirect_uri: cannot listen on {}", spec.bind))?;
        let local = listener
            .local_addr()
            .context("redirect_uri: listener address")?;
        let redirect_uri = RedirectUrl::new(spec.uri_for(local.port())?)?;
        let (tx, callbacks) = mpsc::channel(1);
        let mut base = Url::parse(redirect_uri.as_str()).context("redirect_uri")?;
        base.set_path(REQUEST_PATH);
        base.set_query(None);
        let request_objects = Arc::new(PendingRequestObjects::new(base));
        let signed_jwks = Arc::new(OnceLock::new());
        let shared = Arc::new(Shared {
            path: spec.path().to_owned(),
            tx,
            request_objects: request_objects.clone(),
            signed_jwks: signed_jwks.clone(),
        });
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared);
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            // TCP_NODELAY on every accepted socket, as the gateway's listeners have it.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY not set");
                }
            });
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "loopback listener stopped");
            }
        });
        tracing::debug!(%local, "loopback listener ready");
        Ok(Self {
            redirect_uri,
            request_objects,
            signed_jwks,
            callbacks,
            shutdown: Some(shutdown),
            server,
        })
    }

    /// The redirect URI to send (with the bound port).
    pub fn redirect_uri(&self) -> &RedirectUrl {
        &self.redirect_uri
    }

    /// The request objects this listener serves by reference, each once, at
    /// `/request/{id}` (OIDC Core §6.2).
    pub fn request_objects(&self) -> Arc<PendingRequestObjects> {
        self.request_objects.clone()
    }

    /// Serves `jwks` (a signed JWK set) at `/.well-known/signed-jwks` from now on: the keys an
    /// OP that knows this client as a federation entity fetches during the login.
    pub fn publish_signed_jwks(&self, jwks: &str) {
        let _ = self.signed_jwks.set(jwks.to_owned());
    }

    /// Wait for the first authorization response. Later ones are answered "already handled".
    pub async fn next_callback(&mut self, timeout: Duration) -> anyhow::Result<Callback> {
        let got = tokio::time::timeout(timeout, self.callbacks.recv()).await;
        self.callbacks.close();
        match got {
            Ok(Some(cb)) => Ok(cb),
            Ok(None) => bail!("login: the loopback listener stopped"),
            Err(_) => bail!(
                "login: timed out: no authorization response within {} s (--timeout)",
                timeout.as_secs()
            ),
        }
    }

    /// Stop serving once the pending answers are written (bounded by a grace period).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.server)
            .await
            .is_err()
        {
            self.server.abort();
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::GET
        && let Some(id) = uri.path().strip_prefix(REQUEST_PATH)
    {
        return request_object(&shared, id);
    }
    if method == Method::GET
        && uri.path() == SIGNED_JWKS_PATH
        && let Some(jwks) = shared.signed_jwks.get()
    {
        let mut r = Response::new(axum::body::Body::from(jwks.clone()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+jwt"),
        );
        return r;
    }
    if uri.path() != shared.path {
        return page(StatusCode::NOT_FOUND, "Not found", "Nothing here.", false);
    }
    let encoded: &[u8] = if method == Method::GET {
        uri.query().unwrap_or_default().as_bytes()
    } else if method == Method::POST {
        if !is_form(&headers) {
            return page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported request",
                "Expected an application/x-www-form-urlencoded authorization response.",
                false,
            );
        }
        &body
    } else {
        let mut r = page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "Use GET or POST.",
            false,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return r;
    };
    let (reply, verdict) = oneshot::channel();
    let cb = Callback {
        params: CallbackParams::parse(encoded),
        raw: encoded.to_vec(),
        reply,
    };
    if shared.tx.try_send(cb).is_err() {
        return already_handled();
    }
    match verdict.await {
        Ok(Ok(())) => page(
            StatusCode::OK,
            "Login complete",
            "relier received the authorization response and completed the login. You can close this window.",
            true,
        ),
        Ok(Err(message)) => page(StatusCode::BAD_REQUEST, "Login failed", &message, true),
        Err(_) => already_handled(),
    }
}

/// RFC 9101 §5.2: the request object `id`, once, until its `exp`; else 404.
fn request_object(shared: &Shared, id: &str) -> Response {
    let now = relier_core::UnixTime(crate::clock::now_secs());
    let Some(object) = shared.request_objects.take(id, now) else {
        return page(StatusCode::NOT_FOUND, "Not found", "Nothing here.", false);
    };
    let mut r = Response::new(axum::body::Body::from(object));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn already_handled() -> Response {
    page(
        StatusCode::CONFLICT,
        "Already handled",
        "This login has already received its authorization response.",
        false,
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A small self-contained HTML page (no scripts, no external resources, not cached).
fn page(status: StatusCode, title: &str, message: &str, close: bool) -> Response {
    let mut r = relier_gateway::html_response(
        status,
        render_page(title, message),
        "default-src 'none'; style-src 'unsafe-inline'",
    );
    if close {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// The HTML of a result page; `title` and `message` are escaped.
pub fn render_page(title: &str, message: &str) -> String {
    let t = html_escape(title);
    let m = html_escape(message);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>relier: {t}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         p{{white-space:pre-wrap;overflow-wrap:anywhere}}</style></head>\
         <body><h1>{t}</h1><p>{m}</p></body></html>\n"
    )
}

#[cfg(test)]
mod tests;
