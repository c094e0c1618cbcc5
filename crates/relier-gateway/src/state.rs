//! [`AppState`]: everything the handlers share. One configuration's part (settings, providers,
//! rules, routes, keys, federation) is replaced whole by a reload ([`crate::reload`]); the
//! [`Shared`] part (store, sessions, caches, metrics) lives across reloads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use relier_store::{MasterKeySource, Store, StoreUrl, UnixTime};

use crate::cache::{RefreshLocks, SessionCache};
use crate::clock;
use crate::config::{Config, LogFormat, TelemetryConfig};
use crate::error::GatewayError;
use crate::hook::LoginHook;
use crate::keys::KeyManager;
use crate::limits::LoginLimiter;
use crate::metrics::Metrics;
use crate::original_uri::PeerLog;
use crate::providers::{self, Providers};
use crate::proxy::Routes;
use crate::server::ServerLimits;
use crate::settings::{self, Settings};
use crate::touch::Touches;

/// What lives across configuration reloads: the store and what holds sessions, caches and
/// counts.
pub struct Shared {
    /// The store.
    pub store: Arc<dyn Store>,
    /// In-memory session cache.
    pub sessions: SessionCache,
    /// Single-flight refresh locks.
    pub refresh_locks: RefreshLocks,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Sliding-expiry writes waiting for the background task.
    pub touches: Touches,
    /// The application's say on each completed login (embedding; `AcceptAll` otherwise).
    pub login_hook: Arc<dyn LoginHook>,
    /// Untrusted peers refused on `/auth/check`, logged once a minute each.
    pub untrusted_peers: PeerLog,
    /// `[[api]]`: validated access tokens until their expiry.
    pub api_tokens: crate::api::TokenCache,
    /// `[[api]]`: DPoP proof ids seen and the nonce key.
    pub dpop: crate::api::DpopState,
    /// `exchange_audience`: the sessions' exchanged tokens for the upstream.
    pub exchanged: crate::upstream_token::ExchangeCache,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// Shared state of the handlers: one configuration's part, and (through `Deref`) the
/// [`Shared`] part.
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// The providers.
    pub providers: Arc<Providers>,
    /// Key rotation and the store key of private_key_jwt providers.
    pub keys: KeyManager,
    /// Reverse proxy: the `[upstream]` or the `[[upstream]]` routes.
    pub proxy: Option<Routes>,
    /// Login-start rate limit (`None` when off); kept by a reload that does not change it.
    pub login_limiter: Option<Arc<LoginLimiter>>,
    /// `[federation]`: the entity statement and signed JWK set, signed and cached.
    pub(crate) federation: Option<crate::federation::Publisher>,
    /// What a reload cannot change.
    pub(crate) fixed: Fixed,
    shared: Arc<Shared>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

/// The settings a reload cannot apply without half-applying them: the listeners and their
/// limits, the store and its master key, the session cache and touch writer, the routes that
/// exist or not (`metrics`, `[federation]` on or off), the log format and `[telemetry]` (set
/// up once by `relier serve`). A new file that
/// changes one is refused as a whole.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fixed {
    pub(crate) listen: SocketAddr,
    metrics_listen: Option<SocketAddr>,
    metrics: bool,
    store: String,
    master_key_file: Option<PathBuf>,
    limits: ServerLimits,
    session_cache: (usize, Duration),
    touch_writes_per_second: u32,
    log_format: LogFormat,
    telemetry: Option<TelemetryConfig>,
    federation: bool,
}

impl Fixed {
    fn of(config: &Config) -> Result<Fixed, GatewayError> {
        Ok(Fixed {
            listen: config.listen,
            metrics_listen: config.metrics_listen,
            metrics: config.metrics,
            store: config.store_url(),
            master_key_file: config.master_key_file.as_deref().map(|p| config.resolve(p)),
            limits: ServerLimits::new(&config.limits)?,
            session_cache: (config.session.cache_capacity, config.session.cache_ttl),
            touch_writes_per_second: config.session.touch_writes_per_second,
            log_format: config.log_format,
            telemetry: config.telemetry.clone(),
            federation: config.federation.is_some(),
        })
    }

    /// The keys whose values differ, as the file names them.
    pub(crate) fn changed(&self, new: &Fixed) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut differs = |same: bool, key| {
            if !same {
                keys.push(key);
            }
        };
        differs(self.listen == new.listen, "listen");
        differs(self.metrics_listen == new.metrics_listen, "metrics_listen");
        differs(self.metrics == new.metrics, "metrics");
        differs(self.store == new.store, "store");
        differs(
            self.master_key_file == new.master_key_file,
            "master_key_file",
        );
        differs(
            self.limits == new.limits,
            "[limits] header_read_timeout/idle_timeout/max_connections/max_header_bytes/max_headers",
        );
        differs(
            self.session_cache == new.session_cache,
            "[session] cache_capacity/cache_ttl",
        );
        differs(
            self.touch_writes_per_second == new.touch_writes_per_second,
            "[session] touch_writes_per_second",
        );
        differs(self.log_format == new.log_format, "log_format");
        differs(self.telemetry == new.telemetry, "[telemetry]");
        differs(
            self.federation == new.federation,
            "[federation] (added or removed)",
        );
        keys
    }
}

/// A configuration as far as it is checked before anything is built: presets expanded, the
/// settings derived, the fixed part taken.
pub(crate) struct Prepared {
    config: Config,
    settings: Settings,
    pub(crate) fixed: Fixed,
}

impl Prepared {
    /// The first steps of a start and of a reload.
    pub(crate) fn new(config: Config) -> Result<Prepared, GatewayError> {
        let config = crate::presets::expand(config)?;
        let fixed = Fixed::of(&config)?;
        let settings = settings::settings(&config)?;
        Ok(Prepared {
            config,
            settings,
            fixed,
        })
    }
}

impl AppState {
    /// Validates the configuration, opens the store, bootstraps keys, discovers providers.
    pub async fn build(
        config: Config,
        login_hook: Arc<dyn LoginHook>,
    ) -> Result<AppState, GatewayError> {
        let prepared = Prepared::new(config)?;
        let (config, settings) = (&prepared.config, &prepared.settings);
        let store = open_store(config).await?;
        let metrics = Arc::new(Metrics::default());
        if let Ok(n) = store.count_sessions(UnixTime(clock::now())).await {
            metrics
                .sessions
                .store(n, std::sync::atomic::Ordering::Relaxed);
        }
        let shared = Arc::new(Shared {
            sessions: SessionCache::new(config.session.cache_capacity, config.session.cache_ttl),
            refresh_locks: RefreshLocks::default(),
            touches: Touches::new(settings.touch_writes_per_second),
            store,
            metrics,
            login_hook,
            untrusted_peers: PeerLog::default(),
            api_tokens: crate::api::TokenCache::default(),
            dpop: crate::api::DpopState::new()
                .ok_or_else(|| GatewayError::config("the system random source failed"))?,
            exchanged: crate::upstream_token::ExchangeCache::default(),
        });
        AppState::assemble(prepared, shared, None).await
    }

    /// The state of `prepared` on this state's [`Shared`] part (a reload): built as at the
    /// start — keys bootstrapped for new providers, every provider discovered again — while
    /// this state keeps serving. The login rate limiter is kept when `[limits]` leaves it as
    /// it is.
    pub(crate) async fn rebuild(&self, prepared: Prepared) -> Result<AppState, GatewayError> {
        AppState::assemble(prepared, self.shared.clone(), Some(self)).await
    }

    /// What a start and a reload build from a prepared configuration.
    async fn assemble(
        prepared: Prepared,
        shared: Arc<Shared>,
        previous: Option<&AppState>,
    ) -> Result<AppState, GatewayError> {
        let Prepared {
            config,
            mut settings,
            fixed,
        } = prepared;
        warn_forward_auth_trust(&config, &settings);
        let store = shared.store.as_ref();
        settings.subject_hash = crate::subject_log::SubjectHash::from_store(store)?;
        let now = clock::now();
        let algs = providers::needed_store_algs(&config, store).await?;
        let enc_algs = providers::needed_enc_algs(&config, store).await?;
        KeyManager::bootstrap(store, &config.keys, &algs, &enc_algs, now).await?;
        let providers = Arc::new(providers::build_all(&config, store).await?);
        let keys = KeyManager::new(
            shared.store.clone(),
            providers.clone(),
            &config.keys,
            config.key_propagation(),
            shared.metrics.clone(),
        );
        keys.tick(now).await?;
        let federation = publisher(&config, store, now).await?;
        let proxy = Routes::from_config(&config, &settings)?;
        let login_limiter = match previous.and_then(|p| p.login_limiter.as_ref()) {
            Some(kept) if kept.same_limits(&config.limits) => Some(kept.clone()),
            _ => LoginLimiter::new(&config.limits).map(Arc::new),
        };
        Ok(AppState {
            settings,
            providers,
            keys,
            proxy,
            login_limiter,
            federation,
            fixed,
            shared,
        })
    }
}

/// `[federation]`: the statement and the signed JWK set, signed once here so that a missing
/// entity key stops the start with the command that makes one.
async fn publisher(
    config: &Config,
    store: &dyn Store,
    now: u64,
) -> Result<Option<crate::federation::Publisher>, GatewayError> {
    use crate::federation::{Document, Federation, Publisher};
    let Some(federation) = Federation::from_config(config, store).await? else {
        return Ok(None);
    };
    let publisher = Publisher::new(federation);
    for doc in [Document::Statement, Document::SignedJwks] {
        publisher.get(store, doc, now).await?;
    }
    Ok(Some(publisher))
}

/// Path rules in forward-auth mode need the front proxy in `trusted_proxies`: from any other
/// peer `/auth/check` refuses (403 `untrusted_proxy`) instead of judging `/`.
fn warn_forward_auth_trust(config: &Config, settings: &settings::Settings) {
    let defaults = config.trusted_proxies.is_none() && config.limits.trusted_proxies.is_none();
    if !config.is_reverse_proxy() && !settings.path_rules.is_empty() && defaults {
        tracing::warn!(
            "skip_auth/[[access]] rules in forward-auth mode with the default trusted_proxies \
             (127.0.0.1, ::1): /auth/check refuses requests from any other front proxy \
             (403 untrusted_proxy); list your proxy's address in trusted_proxies"
        );
    }
}

pub(crate) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, GatewayError> {
    let url = StoreUrl::parse(&config.store_url())?;
    let env = std::env::var(relier_store::MASTER_KEY_ENV)
        .ok()
        .filter(|s| !s.is_empty());
    let file = config.master_key_file.as_deref().map(|p| config.resolve(p));
    let (store, created) =
        relier_store::open(&url, MasterKeySource::from_inputs(env, file.clone())).await?;
    if let Some(created) = created {
        tracing::warn!("{created}");
    }
    warn_lax_permissions(&url, file.as_deref());
    // Issue 20 §3: a remote PostgreSQL store whose URL asks for less than verify-full.
    if let Some(warning) = relier_store::transport_warning(&url) {
        tracing::warn!(store = %url, "{warning}");
    }
    Ok(Arc::from(store))
}

/// One warning per existing store file (database, `-wal`, `-shm`, master key file) that group
/// or others may read or write (issue 7, item 5): relier creates them 0600, but a store made
/// by an older version, copied or restored from a backup may not be. Not an error: the
/// operator may have reasons (a backup group); the warning says how to fix it.
fn warn_lax_permissions(url: &StoreUrl, master_key_file: Option<&Path>) {
    for file in relier_store::lax_permissions(url, master_key_file) {
        tracing::warn!(
            path = ?file.path,
            mode = %format_args!("{:04o}", file.mode),
            fix = ?file.fix(),
            "{} is readable or writable by group or others",
            file.kind
        );
    }
}

#[cfg(test)]
mod fixed_tests {
    use super::*;

    fn fixed(toml: &str) -> Fixed {
        let base = "public_url = \"http://127.0.0.1:8088\"\n";
        Fixed::of(&Config::from_toml(&format!("{base}{toml}")).unwrap()).unwrap()
    }

    #[test]
    fn a_reload_tells_what_only_a_restart_changes() {
        let now = fixed("");
        // Rules, providers, log level: reloadable.
        let reloadable = "log_level = \"debug\"\nskip_auth = [\"/public\"]\n\
                          [[access]]\npath = \"/admin\"\ngroups = [\"admins\"]\n\
                          [limits]\nlogin_per_minute = 5\n";
        assert_eq!(now.changed(&fixed(reloadable)), Vec::<&str>::new());
        let restart = "listen = \"127.0.0.1:9999\"\nstore = \"sqlite://other.db\"\n\
                       master_key_file = \"k\"\nmetrics = true\n\
                       [limits]\nmax_connections = 7\n[session]\ncache_ttl = \"1s\"\n";
        assert_eq!(
            now.changed(&fixed(restart)),
            [
                "listen",
                "metrics",
                "store",
                "master_key_file",
                "[limits] header_read_timeout/idle_timeout/max_connections/max_header_bytes/max_headers",
                "[session] cache_capacity/cache_ttl",
            ]
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::sync::Arc;

    use parking_lot::Mutex;

    use super::*;

    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn lax_store_files_are_warned_about_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("relier.db");
        let key = dir.path().join("master.key");
        for (path, mode) in [(&db, 0o644), (&key, 0o600)] {
            std::fs::write(path, b"").unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            warn_lax_permissions(&StoreUrl::sqlite(&db), Some(&key));
        });
        let logged = String::from_utf8(out.0.lock().clone()).unwrap();
        assert_eq!(logged.lines().count(), 1, "{logged}");
        assert!(logged.contains("WARN"), "{logged}");
        assert!(
            logged.contains("store database is readable or writable by group or others"),
            "{logged}"
        );
        assert!(logged.contains("mode=0644"), "{logged}");
        assert!(
            logged.contains(&format!("path={db:?}")) && logged.contains("fix=\"chmod 600 "),
            "{logged}"
        );
    }
}
