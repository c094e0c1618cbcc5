//! # relier-example
//!
//! A small web application with local accounts (username + Argon2id password, in SQLite beside
//! relier's store) and, beside the password form, "Login with …" for every provider of a
//! `relier.toml`, through relier's embedding API. External identities are linked to local
//! accounts by `(issuer, sub)` only — see [`hook`].
//!
//! HTTP contract: `GET /` (sign-in page or account page), `POST /signup`, `POST /login`,
//! `GET /me` (JSON), `POST /link/{provider}`, `POST /unlink/{provider}`, `GET /first-login`
//! with `POST /first-login/create` and `POST /first-login/link`, plus relier's `/auth/*`
//! routes (signing out is relier's `POST /auth/logout`).
//!
//! One session: relier's, for provider logins and password sign-ins alike, with the
//! signed-in account as its application data ([`session`]); no cookie, table or CSRF token of
//! the application's own for a signed-in user.
//!
//! Password checks are capped at one per core with a bounded queue ([`password::Hasher`]) and
//! limited per account name and per client address with backoff ([`attempts`]); an anonymous
//! page view writes nothing ([`csrf`]).

pub mod attempts;
pub mod csrf;
pub mod db;
pub mod error;
pub mod hook;
pub mod pages;
pub mod password;
mod routes;
pub mod session;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use relier_gateway::{Config, Gateway, TrustedProxies};
use relier_store::StoreUrl;

use crate::attempts::Attempts;
use crate::csrf::CsrfKey;
use crate::db::Db;
use crate::error::AppError;
use crate::password::Hasher;
use crate::session::Visitors;

/// The application's state.
#[derive(Debug)]
pub struct App {
    /// The application's database.
    pub db: Db,
    /// The CSRF tokens of visitors without a session.
    pub visitors: Visitors,
    /// relier, embedded.
    pub relier: Gateway,
    /// The public origin (`public_url` without a trailing slash): the only accepted `Origin`.
    pub origin: String,
    /// `(name, display name)` of every provider.
    pub providers: Vec<(String, String)>,
    /// Every Argon2 computation runs here (capped, queue bounded).
    pub hasher: Hasher,
    /// Password attempt limits.
    pub attempts: Attempts,
    /// Whose forwarding headers name the client (relier's `trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
    dummy_hash: String,
}

/// Where the application's database goes by default: `relier-example.db` beside an SQLite
/// store.
///
/// # Errors
/// [`AppError::Config`] for a store that is not an SQLite file.
pub fn default_db_path(config: &Config) -> Result<PathBuf, AppError> {
    let url = StoreUrl::parse(&config.store_url())
        .map_err(|e| AppError::Config(format!("store: {e}")))?;
    match url {
        StoreUrl::Sqlite { path } => Ok(path
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
            .join("relier-example.db")),
        _ => Err(AppError::Config(
            "the store is not an SQLite file: give the application's database with --db FILE"
                .into(),
        )),
    }
}

impl App {
    /// Opens the application's database at `db_path` and builds relier from `config` with the
    /// linking hook.
    ///
    /// # Errors
    /// [`AppError`] naming what failed (database, configuration, store, a provider).
    pub async fn build(config: Config, db_path: &Path) -> Result<Arc<App>, AppError> {
        App::build_with(config, db_path, Hasher::default(), Attempts::default()).await
    }

    /// As [`App::build`], with the given Argon2 cap and attempt limits.
    ///
    /// # Errors
    /// As [`App::build`].
    pub async fn build_with(
        config: Config,
        db_path: &Path,
        hasher: Hasher,
        attempts: Attempts,
    ) -> Result<Arc<App>, AppError> {
        let trusted_proxies = config.trusted_proxies()?;
        let db = Db::open(db_path).await?;
        let origin = config.public_url.trim_end_matches('/').to_owned();
        let secure = origin.starts_with("https://");
        let visitors = Visitors::new(secure, CsrfKey::random()?);
        let hook = hook::Linking { db: db.clone() };
        let relier = Gateway::builder(config).on_login(hook).build().await?;
        let providers = relier.providers();
        let dummy_hash = hasher.dummy_hash().await?;
        Ok(Arc::new(App {
            db,
            visitors,
            relier,
            origin,
            providers,
            hasher,
            attempts,
            trusted_proxies,
            dummy_hash,
        }))
    }

    /// The application's router: its own routes, relier's login routes, relier's layer.
    pub fn router(self: &Arc<Self>) -> Router {
        routes::router(self.clone())
            .merge(self.relier.login_router())
            .layer(self.relier.layer())
    }

    /// Stops relier's background tasks and closes both databases (once the router is gone).
    pub async fn shutdown(self: Arc<Self>) {
        match Arc::try_unwrap(self) {
            Ok(app) => {
                app.relier.shutdown().await;
                app.db.close().await;
            }
            Err(app) => app.db.close().await,
        }
    }

    fn provider_display(&self, name: &str) -> Option<&str> {
        self.providers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }
}
