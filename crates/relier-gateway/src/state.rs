//! [`AppState`]: everything the handlers share, built once at start.

use std::path::Path;
use std::sync::Arc;

use relier_store::{MasterKeySource, Store, StoreUrl, UnixTime};

use crate::cache::{RefreshLocks, SessionCache};
use crate::clock;
use crate::config::Config;
use crate::error::GatewayError;
use crate::hook::LoginHook;
use crate::keys::KeyManager;
use crate::limits::LoginLimiter;
use crate::metrics::Metrics;
use crate::original_uri::PeerLog;
use crate::providers::{self, Providers};
use crate::proxy::Routes;
use crate::settings::{self, Settings};
use crate::touch::Touches;

/// Shared state of the handlers.
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The providers.
    pub providers: Arc<Providers>,
    /// In-memory session cache.
    pub sessions: SessionCache,
    /// Single-flight refresh locks.
    pub refresh_locks: RefreshLocks,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Key rotation and the store key of private_key_jwt providers.
    pub keys: KeyManager,
    /// Reverse proxy: the `[upstream]` or the `[[upstream]]` routes.
    pub proxy: Option<Routes>,
    /// Sliding-expiry writes waiting for the background task.
    pub touches: Touches,
    /// Login-start rate limit (`None` when off).
    pub login_limiter: Option<LoginLimiter>,
    /// The application's say on each completed login (embedding; `AcceptAll` otherwise).
    pub login_hook: Arc<dyn LoginHook>,
    /// Untrusted peers refused on `/auth/check`, logged once a minute each.
    pub untrusted_peers: PeerLog,
    /// `[[api]]`: validated access tokens until their expiry.
    pub api_tokens: crate::api::TokenCache,
    /// `[[api]]`: DPoP proof ids seen and the nonce key.
    pub dpop: crate::api::DpopState,
    /// `[federation]`: the entity statement and signed JWK set, signed and cached.
    pub(crate) federation: Option<crate::federation::Publisher>,
    /// `exchange_audience`: the sessions' exchanged tokens for the upstream.
    pub exchanged: crate::upstream_token::ExchangeCache,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Validates the configuration, opens the store, bootstraps keys, discovers providers.
    pub async fn build(
        config: Config,
        login_hook: Arc<dyn LoginHook>,
    ) -> Result<AppState, GatewayError> {
        let config = crate::presets::expand(config)?;
        let settings = settings::settings(&config)?;
        warn_forward_auth_trust(&config, &settings);
        let touches = Touches::new(settings.touch_writes_per_second);
        let store = open_store(&config).await?;
        let metrics = Arc::new(Metrics::default());
        let now = clock::now();
        let algs = providers::needed_store_algs(&config, store.as_ref()).await?;
        let enc_algs = providers::needed_enc_algs(&config, store.as_ref()).await?;
        KeyManager::bootstrap(store.as_ref(), &config.keys, &algs, &enc_algs, now).await?;
        let providers = Arc::new(providers::build_all(&config, store.as_ref()).await?);
        let keys = KeyManager::new(
            store.clone(),
            providers.clone(),
            &config.keys,
            config.key_propagation(),
            metrics.clone(),
        );
        keys.tick(now).await?;
        let federation = publisher(&config, store.as_ref(), now).await?;
        let proxy = Routes::from_config(&config, &settings)?;
        if let Ok(n) = store.count_sessions(UnixTime(now)).await {
            metrics
                .sessions
                .store(n, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(AppState {
            sessions: SessionCache::new(config.session.cache_capacity, config.session.cache_ttl),
            refresh_locks: RefreshLocks::default(),
            settings,
            store,
            providers,
            metrics,
            keys,
            proxy,
            touches,
            login_limiter: LoginLimiter::new(&config.limits),
            login_hook,
            untrusted_peers: PeerLog::default(),
            api_tokens: crate::api::TokenCache::default(),
            dpop: crate::api::DpopState::new()
                .ok_or_else(|| GatewayError::Config("the system random source failed".into()))?,
            federation,
            exchanged: crate::upstream_token::ExchangeCache::default(),
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
