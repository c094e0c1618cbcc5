//! # relier-gateway
//!
//! The login gateway: puts "Login with …" in front of an existing application without changing
//! its code, either as a **forward-auth** endpoint (`GET /auth/check` for nginx `auth_request`,
//! Traefik `forwardAuth`, Caddy `forward_auth`) or as a **reverse proxy** (`[upstream] url`);
//! either way the upstream may get the user's access token (`pass_access_token`, optionally
//! exchanged: RFC 8693).
//!
//! - Logins: authorization code + PKCE S256 + nonce + state, query and `form_post` response
//!   modes, RFC 9207 `iss` check, full ID-token validation and UserInfo — all through
//!   [`relier::RelyingParty`]. The login state lives in the store (any instance can finish it).
//! - Sessions: an opaque random id in an `HttpOnly; SameSite=Lax` cookie (`__Host-relier` on
//!   https), the data server-side in the store with idle and absolute timeouts, an in-memory
//!   cache for the hot path, access-token refresh with a single flight per session.
//! - Logout: CSRF-protected RP-initiated logout (revocation + end_session redirect) and
//!   OpenID Connect Back-Channel Logout 1.0 with a jti replay guard.
//! - Keys: the RP's public JWKS at `/.well-known/jwks.json`, scheduled automatic rotation
//!   (publish → activate → retire); `private_key_jwt` always signs with the active key.
//!
//! ```no_run
//! # async fn demo() -> Result<(), relier_gateway::GatewayError> {
//! let config = relier_gateway::Config::from_file("relier.toml")?;
//! relier_gateway::run(config).await
//! # }
//! ```
//!
//! In-process (tests, embedding): [`Gateway::build`] then [`Gateway::serve`] with a listener
//! and a shutdown future, or [`Gateway::router`] for `tower::ServiceExt::oneshot`;
//! [`Gateway::reload`] (or a [`Reloader`] while it serves) applies a new configuration without
//! a restart, as `SIGHUP` does in `relier serve`.

mod access;
mod api;
mod background;
mod cache;
pub mod check;
mod clock;
pub mod config;
mod cookies;
pub mod embed;
mod error;
pub mod federation;
mod forwarding;
mod hook;
mod identity;
mod keys;
mod limits;
mod metrics;
mod names;
mod original_uri;
mod paths;
pub mod presets;
mod providers;
mod proxy;
mod random;
mod reload;
mod return_to;
mod routes;
mod server;
mod session;
mod settings;
pub mod standalone;
mod state;
mod subject_log;
mod telemetry;
mod templates;
mod touch;
mod upstream_token;
pub mod userinfo;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use access::ClaimMatch;
pub use config::Config;
pub use error::GatewayError;
pub use forwarding::{Cidr, CidrError, TrustedProxies};
pub use providers::LoginStart;
pub use reload::ReloadError;
pub use return_to::sanitize_return_to;
pub use templates::{escape as html_escape, html_response};

use reload::Live;
use state::AppState;

/// How long [`Gateway::end_session`] waits for the OP's answer to the refresh token's revocation.
pub const REVOCATION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A built gateway: the router, its state and its background tasks (key rotation, purge,
/// session gauge). Dropping it without [`Gateway::shutdown`] aborts the tasks.
pub struct Gateway {
    live: Live,
    /// The router, and the reverse proxy without it where it can be ([`routes::router`]).
    app: server::App,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    limits: server::ServerLimits,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.live.current();
        f.debug_struct("Gateway")
            .field("public_url", &state.settings.public_url.as_str())
            .field("providers", &state.providers.names())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the store, makes sure the RP has a signing key (ES256 by default, generated on first
    /// start), discovers every provider (fails fast with the provider's name on a configuration
    /// error; a provider whose OP cannot be discovered waits, retried in the background, and
    /// `/readyz` answers 503 meanwhile) and starts the background tasks.
    ///
    /// # Errors
    /// [`GatewayError`] naming what is wrong: configuration, store, a provider.
    pub async fn build(config: Config) -> Result<Gateway, GatewayError> {
        Gateway::builder(config).build().await
    }

    /// A gateway with options: the embedding API's entry point.
    pub fn builder(config: Config) -> GatewayBuilder {
        GatewayBuilder {
            config,
            login_hook: Arc::new(hook::AcceptAll),
        }
    }

    async fn build_with(
        config: Config,
        login_hook: Arc<dyn hook::LoginHook>,
    ) -> Result<Gateway, GatewayError> {
        let limits = server::ServerLimits::new(&config.limits)?;
        let state = Arc::new(AppState::build(config, login_hook).await?);
        let (stop, rx) = watch::channel(false);
        let live = Live::new(state, rx.clone());
        let app = server::App::from(routes::router(live.clone()));
        let tasks = background::spawn_background(&live, rx);
        Ok(Gateway {
            live,
            app,
            tasks,
            stop,
            limits,
        })
    }

    /// The axum router (cheap to clone), e.g. for `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> axum::Router {
        self.app.router().clone()
    }

    /// The login routes for an application that embeds relier (merge them into its router):
    /// `/auth/login`, `/auth/login/{provider}`, `/auth/callback/{provider}`, `/auth/session`,
    /// `/auth/logout`, `/auth/logged-out`, `/auth/backchannel-logout/{provider}`,
    /// `/auth/frontchannel-logout/{provider}`, the chooser's assets and the RP's JWKS at
    /// `/.well-known/jwks.json`. No forward auth, no proxy.
    pub fn login_router(&self) -> axum::Router {
        routes::embedded_router(self.live.clone())
    }

    /// The layer that lets the [`embed::Identity`] and [`embed::Principal`] extractors find
    /// this gateway's sessions. It enforces nothing by itself: the extractors do, in the
    /// handlers that use them; [`Gateway::require_login`] enforces for every route it wraps.
    pub fn layer(&self) -> axum::Extension<embed::RelierHandle> {
        axum::Extension(embed::RelierHandle(self.live.clone()))
    }

    /// A tower layer that admits every request before the application's handler runs, as
    /// `/auth/check` does (sessions, `skip_auth`, `[[access]]`, access tokens on `[[api]]`
    /// paths), and hands the handler an [`embed::Principal`]. Add [`embed::RequireScope`]
    /// inside it for scopes.
    pub fn require_login(&self) -> embed::RequireLogin {
        embed::RequireLogin::new(self.live.clone())
    }

    /// The providers, in configuration order: `(name, display name)`, e.g. to draw one
    /// "Login with …" button per provider on the application's own sign-in page (linking to
    /// `/auth/login/{name}`).
    pub fn providers(&self) -> Vec<(String, String)> {
        self.live
            .current()
            .providers
            .listed()
            .map(|p| (p.name.to_owned(), p.display_name.to_owned()))
            .collect()
    }

    /// Starts a login at `provider` from one of the application's own routes: the response is
    /// what `GET /auth/login/{provider}?return_to=…` answers (302 to the OP with the
    /// login-binding cookie, or the same error page), to return as it is. `return_to` is
    /// checked like the query's (anything but a path on this origin becomes `/`). `app_state`
    /// comes back to the [`embed::LoginHook`] with this login only, as
    /// `CompletedLogin::app_state`; a login that carries it is always bound to this browser
    /// (the binding cookie), whatever `bind_login` says. Not counted by `login_rate_limit`:
    /// the application's route is behind its own session and checks.
    pub async fn start_login(
        &self,
        provider: &str,
        return_to: &str,
        app_state: Option<embed::LoginAppState>,
    ) -> axum::response::Response {
        let state = self.live.current();
        let return_to = return_to::sanitize_for(&state.settings, Some(return_to));
        let app_state = app_state.map(embed::LoginAppState::into_secret);
        routes::login::begin(&state, provider, return_to, app_state)
            .await
            .unwrap_or_else(axum::response::IntoResponse::into_response)
    }

    /// Ends the request's relier session here and, as `POST /auth/logout` does, revokes its
    /// refresh token at the OP where the OP has a revocation endpoint (RFC 7009); no redirect
    /// to the OP's end_session_endpoint. Returns the `Set-Cookie` header that clears the session
    /// cookie, to add to the application's response. For a logout at the OP too, post to
    /// `/auth/logout` instead.
    ///
    /// The OP's answer to the revocation is awaited for up to [`REVOCATION_WAIT`] (then it
    /// goes on in the background): the user's session at the OP lives on, and an OP that
    /// revokes the whole grant with the refresh token (oidc-provider does) would otherwise
    /// invalidate the code of a login started right after the logout, in the same grant.
    ///
    /// # Errors
    /// [`GatewayError::Store`] if the store fails.
    pub async fn end_session(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<axum::http::HeaderValue>, GatewayError> {
        let state = self.live.current();
        if let Some(a) = session::peek(&state, headers).await?
            && let Some(revocation) = routes::logout::end(&state, &a).await?
            && tokio::time::timeout(REVOCATION_WAIT, revocation)
                .await
                .is_err()
        {
            tracing::warn!(
                wait = ?REVOCATION_WAIT,
                "refresh token revocation still running: it goes on in the background"
            );
        }
        Ok(cookies::expire_session(&state.settings))
    }

    /// Signs in a user the application authenticated itself (a password, a passkey) with a
    /// relier session: a new session id (the request's previous session, if any, ends — no
    /// fixation), the same cookie, CSRF token, idle and absolute expiry and `/auth/logout` as
    /// a login at an OP, with `slot` as its application data. Its provider is
    /// [`embed::LOCAL_PROVIDER`]: no tokens, never refreshed, a logout that does not go to an
    /// OP, and never taken for an OP login ([`embed::Identity::is_local`]; it has no claims, so
    /// no `[[access]]` rule admits it). Returns the response headers
    /// (`Set-Cookie`) to add to the application's response.
    ///
    /// # Errors
    /// [`embed::SessionError::InvalidLogin`] for a subject that is empty, longer than 255
    /// bytes or has a control character; [`embed::SessionError::Random`];
    /// [`embed::SessionError::Store`].
    pub async fn start_local_session(
        &self,
        request: &axum::http::HeaderMap,
        login: embed::LocalLogin,
        slot: embed::AppSlot,
    ) -> Result<axum::http::HeaderMap, embed::SessionError> {
        embed::start_local(&self.live.current(), request, login, slot).await
    }

    /// Replaces the application data of the request's session with `slot` (e.g. the account
    /// the user just created on a first-login page). The next request sees it on this
    /// instance; another instance sees it once its cached copy of the session is older than
    /// `[session] cache_ttl` (as it sees refreshed tokens).
    ///
    /// # Errors
    /// [`embed::SessionError::NoSession`] when the request has no live session,
    /// [`embed::SessionError::Store`].
    pub async fn set_app_data(
        &self,
        request: &axum::http::HeaderMap,
        slot: embed::AppSlot,
    ) -> Result<(), embed::SessionError> {
        embed::set_app_data(&self.live.current(), request, slot).await
    }

    /// The operations router (`/metrics`, `/healthz`, `/readyz`) that `metrics_listen` serves.
    pub fn operations_router(&self) -> axum::Router {
        routes::operations_router(self.live.clone())
    }

    /// The public URL of the configuration in force.
    pub fn public_url(&self) -> String {
        self.live.current().settings.public_url.as_str().to_owned()
    }

    /// Applies a new configuration without a restart, as `SIGHUP` does in `relier serve`:
    /// built as at the start while the configuration in force keeps serving, then swapped in
    /// whole; sessions, connections and WebSockets stay. Settings, rules, `[headers]`,
    /// `[[api]]`, upstream routes and providers (added, removed, changed) are reloadable; a
    /// provider that is removed takes no new login and its sessions end at their next
    /// refresh. Logged and counted in `relier_config_reloads_total{result}`.
    ///
    /// # Errors
    /// [`ReloadError`], the configuration in force staying: the new one is invalid, a provider
    /// cannot be set up, or it changes what only a restart applies (listeners, store, master
    /// key, …: [`ReloadError::RestartRequired`]).
    pub async fn reload(&self, config: Config) -> Result<(), ReloadError> {
        self.live.reload(config).await
    }

    /// A handle that reloads this gateway, for use while [`Gateway::serve`] runs (e.g. from
    /// a signal handler).
    pub fn reloader(&self) -> Reloader {
        Reloader(self.live.clone())
    }

    /// Serves on `listener` (and `/metrics` on `metrics_listen`, when set) until `shutdown`
    /// completes, then drains connections, stops the background tasks and closes the store.
    ///
    /// Both listeners hold their clients to `[limits]` (`header_read_timeout`, `idle_timeout`,
    /// `max_connections`, `max_header_bytes`, `max_headers`).
    ///
    /// # Errors
    /// [`GatewayError::Bind`] if `metrics_listen` cannot be bound.
    pub async fn serve<F>(mut self, listener: TcpListener, shutdown: F) -> Result<(), GatewayError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let state = self.live.current();
        if let Some(ops) = state.settings.metrics_listen {
            let ops_listener = TcpListener::bind(ops)
                .await
                .map_err(|source| GatewayError::Bind { addr: ops, source })?;
            tracing::info!(listen = ?ops_listener.local_addr().ok(), "metrics listening");
            let app = self.operations_router();
            let mut stop = self.stop.subscribe();
            let done = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let metrics = state.metrics.clone();
            self.tasks.push(tokio::spawn(server::serve(
                ops_listener,
                app.into(),
                self.limits,
                metrics,
                done,
            )));
        }
        let addr = listener.local_addr().ok();
        tracing::info!(
            listen = ?addr,
            public_url = %state.settings.public_url,
            providers = ?state.providers.names(),
            proxy = state.proxy.is_some(),
            "relier gateway listening"
        );
        let metrics = state.metrics.clone();
        drop(state);
        server::serve(listener, self.app.clone(), self.limits, metrics, shutdown).await;
        self.shutdown().await;
        Ok(())
    }

    /// Stops the background tasks and closes the store (checkpointing SQLite's WAL).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let retry = self.live.take_retry();
        for task in self.tasks.drain(..).chain(retry) {
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("a background task did not stop in time");
            }
        }
        self.live.current().store.close().await;
        tracing::info!("relier gateway stopped");
    }
}

/// Options of a [`Gateway`] before it is built.
pub struct GatewayBuilder {
    config: Config,
    login_hook: Arc<dyn hook::LoginHook>,
}

impl std::fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayBuilder")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

impl GatewayBuilder {
    /// The application's say on every completed login (account linking): see
    /// [`embed::LoginHook`].
    pub fn on_login(mut self, hook: impl hook::LoginHook) -> Self {
        self.login_hook = Arc::new(hook);
        self
    }

    /// As [`Gateway::build`].
    ///
    /// # Errors
    /// As [`Gateway::build`].
    pub async fn build(self) -> Result<Gateway, GatewayError> {
        Gateway::build_with(self.config, self.login_hook).await
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(retry) = self.live.take_retry() {
            retry.abort();
        }
    }
}

/// Reloads a [`Gateway`]'s configuration: made by [`Gateway::reloader`], cheap to clone.
#[derive(Clone, Debug)]
pub struct Reloader(Live);

impl Reloader {
    /// As [`Gateway::reload`].
    ///
    /// # Errors
    /// As [`Gateway::reload`].
    pub async fn reload(&self, config: Config) -> Result<(), ReloadError> {
        self.0.reload(config).await
    }

    /// Reads `path`, checks it as `relier config check` does (a mistake is logged as
    /// `path:line: error`) and applies it as [`Gateway::reload`]; returns the configuration now
    /// in force.
    ///
    /// # Errors
    /// As [`Gateway::reload`]; [`ReloadError::Invalid`] for a file that does not check.
    pub async fn reload_file(&self, path: &std::path::Path) -> Result<Config, ReloadError> {
        self.0.reload_file(path).await
    }
}

/// Builds the gateway and serves on `listener` until Ctrl-C or SIGTERM.
///
/// # Errors
/// As [`Gateway::build`] and [`Gateway::serve`].
pub async fn serve_on(listener: TcpListener, config: Config) -> Result<(), GatewayError> {
    let gateway = Gateway::build(config).await?;
    gateway.serve(listener, shutdown_signal()).await
}

/// `relier serve`: binds `config.listen` and serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`GatewayError::Bind`] if the address cannot be bound; otherwise as [`serve_on`].
pub async fn run(config: Config) -> Result<(), GatewayError> {
    // Build first so that a configuration or provider error is reported before binding.
    Gateway::build(config).await?.run().await
}

impl Gateway {
    /// Binds `listen` and serves until Ctrl-C or SIGTERM (`relier serve`).
    ///
    /// # Errors
    /// [`GatewayError::Bind`] if the address cannot be bound; otherwise as [`Gateway::serve`].
    pub async fn run(self) -> Result<(), GatewayError> {
        let addr = self.live.current().fixed.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        self.serve(listener, shutdown_signal()).await
    }
}

/// Completes on Ctrl-C or (Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received");
}
