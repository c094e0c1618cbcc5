//! Configuration reload (`SIGHUP` in `relier serve`, [`crate::Gateway::reload`] when embedded):
//! a new file is checked as `relier config check` checks it, then built as at the start
//! ([`AppState::rebuild`]: settings, rules, upstream routes, keys, every provider discovered
//! again) while the old configuration keeps serving, then swapped in whole. Each handler takes
//! the configuration in force once, when the request reaches it, so a request sees one
//! configuration; connections and upgraded WebSockets stay open.
//!
//! - Refused, the old configuration staying in force: a file that does not parse or check
//!   (the log names the line), a provider that cannot be set up (bad credentials, an OP that
//!   answers for another issuer), and any change to what only a restart applies
//!   ([`crate::state::Fixed`]: listeners, store, master key…).
//! - A provider whose OP cannot be reached during the reload is taken as at the start: it
//!   waits (its button says it is unavailable, `/readyz` names it) and is retried in the
//!   background; its sessions stay, their refreshes postponed until it is ready.
//! - A provider no longer in the file takes no new login; its sessions end at their next
//!   refresh (the refresh finds no provider).
//!
//! Outcomes are counted in `relier_config_reloads_total{result}`.

use std::path::Path;
use std::sync::Arc;

use axum::extract::FromRef;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::check::Finding;
use crate::config::Config;
use crate::error::GatewayError;
use crate::metrics::ReloadResult;
use crate::state::{AppState, Prepared};

/// Why a reload was refused; the configuration in force stays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The new file does not parse or does not check (what `relier config check` says), or a
    /// provider of it cannot be set up: each mistake with its line where one can be told.
    #[error("{}", findings_line(.0))]
    Invalid(Vec<Finding>),
    /// The new configuration could not be set up (a provider, the store, a key).
    #[error("{0}")]
    Build(GatewayError),
    /// The new configuration changes settings only a restart applies (named as in the file).
    #[error("needs a restart to change {}; nothing of the new file applied", .0.join(", "))]
    RestartRequired(Vec<&'static str>),
}

impl ReloadError {
    fn result(&self) -> ReloadResult {
        match self {
            ReloadError::RestartRequired(_) => ReloadResult::RestartRequired,
            ReloadError::Invalid(_) | ReloadError::Build(_) => ReloadResult::Error,
        }
    }
}

fn findings_line(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| match f.line {
            Some(line) => format!("line {line}: {}", f.error),
            None => f.error.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The configuration in force, swapped whole by a reload; the routers' state.
#[derive(Clone)]
pub(crate) struct Live(Arc<Inner>);

struct Inner {
    current: RwLock<Arc<AppState>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// The retry of the providers in force that wait for their OP.
    retry: Mutex<Option<JoinHandle<()>>>,
    stop: watch::Receiver<bool>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Live").field(&self.current()).finish()
    }
}

impl FromRef<Live> for Arc<AppState> {
    fn from_ref(live: &Live) -> Arc<AppState> {
        live.current()
    }
}

impl Live {
    /// `state` in force; `stop` ends the background retry of waiting providers.
    pub(crate) fn new(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Live {
        let live = Live(Arc::new(Inner {
            current: RwLock::new(state.clone()),
            reloading: tokio::sync::Mutex::new(()),
            retry: Mutex::new(None),
            stop,
        }));
        live.retry_waiting(&state);
        live
    }

    /// The configuration in force.
    pub(crate) fn current(&self) -> Arc<AppState> {
        self.0.current.read().clone()
    }

    /// The retry task of the providers in force, to await at shutdown.
    pub(crate) fn take_retry(&self) -> Option<JoinHandle<()>> {
        self.0.retry.lock().take()
    }

    /// Providers whose OP could not be reached, tried again with backoff (the previous
    /// configuration's retry ends).
    fn retry_waiting(&self, state: &Arc<AppState>) {
        let (providers, store, stop) = (
            state.providers.clone(),
            state.store.clone(),
            self.0.stop.clone(),
        );
        let task = tokio::spawn(async move { providers.retry_waiting(store.as_ref(), stop).await });
        if let Some(old) = self.0.retry.lock().replace(task) {
            old.abort();
        }
    }

    /// Reads, checks and applies `path`; logs and counts the outcome.
    pub(crate) async fn reload_file(&self, path: &Path) -> Result<Config, ReloadError> {
        let _one = self.0.reloading.lock().await;
        let result = match load(path) {
            Ok((config, text)) => match self.apply(config.clone()).await {
                Ok(()) => Ok(config),
                // A provider that cannot be set up: its `name` line.
                Err(ReloadError::Build(e)) => {
                    Err(ReloadError::Invalid(vec![Finding::located(&text, e)]))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        self.finish(Some(path), result)
    }

    /// Applies `config`; logs and counts the outcome.
    pub(crate) async fn reload(&self, config: Config) -> Result<(), ReloadError> {
        let _one = self.0.reloading.lock().await;
        let result = self.apply(config).await;
        self.finish(None, result)
    }

    async fn apply(&self, config: Config) -> Result<(), ReloadError> {
        let prepared = Prepared::new(config).map_err(ReloadError::Build)?;
        let old = self.current();
        let changed = old.fixed.changed(&prepared.fixed);
        if !changed.is_empty() {
            return Err(ReloadError::RestartRequired(changed));
        }
        let new = Arc::new(old.rebuild(prepared).await.map_err(ReloadError::Build)?);
        *self.0.current.write() = new.clone();
        self.retry_waiting(&new);
        tracing::info!(providers = ?new.providers.names(), "configuration reloaded");
        Ok(())
    }

    fn finish<T>(
        &self,
        path: Option<&Path>,
        result: Result<T, ReloadError>,
    ) -> Result<T, ReloadError> {
        let metrics = self.current().metrics.clone();
        match &result {
            Ok(_) => metrics.reload(ReloadResult::Ok),
            Err(e) => {
                metrics.reload(e.result());
                log_refusal(path, e);
            }
        }
        result
    }
}

/// The file as `relier config check` reads it (every mistake with its line), and its text.
fn load(path: &Path) -> Result<(Config, String), ReloadError> {
    let invalid = |error| ReloadError::Invalid(vec![Finding::new(None, error)]);
    crate::check::check_file(path).map_err(ReloadError::Invalid)?;
    let config = Config::from_file(path).map_err(invalid)?;
    let text = std::fs::read_to_string(path).map_err(|source| {
        invalid(GatewayError::ConfigFile {
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok((config, text))
}

fn log_refusal(path: Option<&Path>, e: &ReloadError) {
    let file = path.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string());
    match e {
        ReloadError::Invalid(findings) => {
            for f in findings {
                let at = match f.line {
                    Some(line) => format!("{file}:{line}"),
                    None => file.clone(),
                };
                tracing::error!(
                    "reload refused, the old configuration stays: {at}: {}",
                    f.error
                );
            }
        }
        ReloadError::Build(error) => {
            tracing::error!("reload refused, the old configuration stays: {file}: {error}");
        }
        ReloadError::RestartRequired(_) => {
            tracing::warn!("reload refused, the old configuration stays: {file}: {e}");
        }
    }
}
