//! `relier.toml`: the gateway's configuration (see `examples/relier.toml` for every key).

pub mod duration;
mod error;
pub mod federation;
mod provider;
pub mod telemetry;
mod upstream;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relier_core::Secret;
use serde::Deserialize;

use crate::error::GatewayError;
use crate::forwarding::{Cidr, TrustedProxies};

pub use error::ConfigError;
#[cfg(test)]
pub(crate) use error::line_of;
pub use federation::FederationConfig;
pub use provider::{
    Apple, Entra, EntraTenant, Ftn, GatewayKeys, GitHub, Oidc, Policy, ProviderConfig,
    ProviderKind, Registry, UnknownKey,
};
pub use telemetry::{OtlpProtocol, TelemetryConfig};
pub(crate) use upstream::{BOTH_FORMS as UPSTREAM_BOTH_FORMS, both_forms as upstream_both_forms};
pub use upstream::{UpstreamConfig, UpstreamRoute, Upstreams};

/// Environment variable naming the store when the file has no `store`.
pub const STORE_ENV: &str = "RELIER_STORE";

/// Configuration files larger than this are refused.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8088`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL browsers use to reach the gateway: https, or http on loopback only.
    pub public_url: String,
    /// Store URL; wins over `RELIER_STORE`; default `sqlite://relier.db`. A [`Secret`]: a
    /// PostgreSQL URL may hold a password, and `Debug` must not print it.
    #[serde(default)]
    pub store: Option<Secret>,
    /// Master key file (else `RELIER_MASTER_KEY`, else `<db>.key` beside an SQLite store).
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// A CSS file served after the built-in style sheet on the gateway's pages.
    #[serde(default)]
    pub theme_css: Option<PathBuf>,
    /// Heading of the login page (default "Sign in").
    #[serde(default)]
    pub title: Option<String>,
    /// Also serve `/metrics` on the public listener (default false: metrics describe the
    /// gateway's traffic and belong on an operations address, see `metrics_listen`).
    #[serde(default)]
    pub metrics: bool,
    /// Serve `/metrics` (and `/healthz`, `/readyz`) on this address of their own, e.g.
    /// `127.0.0.1:9108`.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// How `relier serve` writes its log lines on stderr: `"text"` (default) or `"json"`
    /// (one JSON object per line). `RELIER_LOG_FORMAT` wins over it.
    #[serde(default)]
    pub log_format: LogFormat,
    /// What `relier serve` logs: a level (`"info"`, the default; `"debug"`, `"warn"`) or
    /// `RUST_LOG`-style directives (`"warn,relier_gateway=debug"`). `RUST_LOG` and `-v` win
    /// over it. A SIGHUP applies a new value.
    #[serde(default)]
    pub log_level: Option<String>,
    /// Reverse proxies in front of the gateway whose forwarding headers (`X-Forwarded-For`,
    /// `Forwarded`) are believed: addresses or CIDR blocks (default: 127.0.0.1 and ::1).
    #[serde(default)]
    pub trusted_proxies: Option<Vec<Cidr>>,
    /// Pass request headers whose names contain `_` to the upstream (default false: they are
    /// dropped, as nginx does, because frameworks read `_` and `-` alike). Identity headers are
    /// stripped in every spelling either way.
    #[serde(default)]
    pub underscores_in_headers: bool,
    /// One login for every host under this domain (`"example.com"`): the session cookie
    /// becomes `__Secure-relier` with `Domain=example.com`, and `return_to` may name any https
    /// host under it. Needs an https `public_url` whose host is under the domain.
    #[serde(default)]
    pub cookie_domain: Option<String>,
    /// Sessions.
    #[serde(default)]
    pub session: SessionConfig,
    /// RP signing keys.
    #[serde(default)]
    pub keys: KeysConfig,
    /// The RP as a federation entity: its entity statement and signed JWK set.
    #[serde(default)]
    pub federation: Option<FederationConfig>,
    /// OpenTelemetry traces over OTLP/HTTP (`relier serve`); off without the table.
    #[serde(default)]
    pub telemetry: Option<TelemetryConfig>,
    /// Rate limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Reverse-proxy mode: one `[upstream]` table, or `[[upstream]]` routes by host and path.
    #[serde(default)]
    pub upstream: Option<Upstreams>,
    /// Extra identity headers: header name → claim name (dots walk into objects).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Path prefixes answered without a session (public only if every reading the upstream
    /// may make of the path is under one).
    #[serde(default)]
    pub skip_auth: Vec<String>,
    /// The header `/auth/check` takes the original URI from (default `X-Forwarded-Uri`; nginx
    /// sets it with `proxy_set_header X-Forwarded-Uri $request_uri`).
    #[serde(default)]
    pub original_uri_header: Option<String>,
    /// Let paths that no browser sends (dot segments in any spelling, double encoding, `\`,
    /// encoded control characters) through instead of answering 400 `non_canonical_path`
    /// (default false). Path rules still hold on every reading of them.
    #[serde(default)]
    pub allow_non_canonical_paths: bool,
    /// Per-path access rules: every rule whose prefix matches must pass.
    #[serde(default)]
    pub access: Vec<AccessRule>,
    /// `[[api]]`: path prefixes served as a resource server (bearer and DPoP access tokens).
    #[serde(default)]
    pub api: Vec<ApiConfig>,
    /// The providers offered on the login page, in this order.
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// Directory relative file paths are resolved against (the config file's; not in TOML).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// Environment variable that chooses the log format (wins over `log_format`).
pub const LOG_FORMAT_ENV: &str = "RELIER_LOG_FORMAT";

/// `log_format`: how log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogFormat {
    /// Human-readable lines (default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp` (RFC 3339, UTC), `level`, `target`, `message`
    /// and every field of the event at the top level.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = GatewayError;

    /// `text` or `json` (the values of `RELIER_LOG_FORMAT`).
    fn from_str(s: &str) -> Result<Self, GatewayError> {
        match s.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(GatewayError::config(format!(
                "{LOG_FORMAT_ENV}: expected \"text\" or \"json\", got {other:?}"
            ))),
        }
    }
}

/// `[session]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// A session unused this long ends (default 8h).
    #[serde(default = "d_8h", deserialize_with = "duration::deserialize")]
    pub idle_timeout: Duration,
    /// A session ends this long after the login, used or not (default 24h).
    #[serde(default = "d_24h", deserialize_with = "duration::deserialize")]
    pub absolute_timeout: Duration,
    /// Refresh the access token when it expires within this (default 60s).
    #[serde(default = "d_60s", deserialize_with = "duration::deserialize")]
    pub refresh_before: Duration,
    /// How long a cached session is trusted before it is re-read from the store (default 5s).
    /// A logout on another instance sharing the store still ends it here within 1 s: every
    /// instance reads the store's list of ended sessions four times a second, and an entry
    /// older than 1 s is re-read while that list cannot be read.
    #[serde(default = "d_5s", deserialize_with = "duration::deserialize")]
    pub cache_ttl: Duration,
    /// Most sessions kept in memory (default 100000).
    #[serde(default = "default_cache_capacity")]
    pub cache_capacity: usize,
    /// The idle expiry is written to the store at most this often per session (default 60s).
    #[serde(default = "d_60s", deserialize_with = "duration::deserialize")]
    pub touch_interval: Duration,
    /// Idle-expiry writes per second at most while no session is close to its stored idle
    /// expiry (default 1000): a wave of touches is written over time instead of at once, so
    /// it does not slow the reads of sessions that miss the cache. A session with less than
    /// half its idle timeout left in the store is written at once, whatever this says.
    #[serde(default = "default_touch_writes")]
    pub touch_writes_per_second: u32,
    /// A login must complete within this (default 10m).
    #[serde(default = "d_10m", deserialize_with = "duration::deserialize")]
    pub login_timeout: Duration,
    /// Bind each login to the browser that started it with a short-lived cookie holding a
    /// random value the login state keeps (login CSRF protection; default true). A login an
    /// embedding application starts with an `app_state` is bound whatever this says.
    #[serde(default = "yes")]
    pub bind_login: bool,
}

/// `[keys]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// Algorithm of the key generated on first start (default ES256).
    #[serde(default = "default_alg")]
    pub alg: String,
    /// Rotate every algorithm's active key this long after it became active (default: never).
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub rotation_interval: Option<Duration>,
    /// A new key is published this long before it signs (default 1h; 1d with `[federation]`,
    /// see [`Config::key_propagation`]). Must exceed how long the OPs cache the gateway's
    /// JWKS.
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub propagation: Option<Duration>,
    /// How often due key transitions, expired rows and the session gauge are handled
    /// (default 30s).
    #[serde(default = "d_30s", deserialize_with = "duration::deserialize")]
    pub check_interval: Duration,
}

/// `userinfo` of a provider: when to call the OP's UserInfo endpoint ([`crate::userinfo`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UserinfoPolicy {
    /// Only when the ID token lacks a claim the gateway uses (default).
    #[default]
    Auto,
    /// After every login, when the OP has the endpoint.
    Always,
    /// Never: the identity is the ID token's.
    Never,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Login starts (`/auth/login/{provider}`) per minute per client address, IPv6 per /64
    /// (default 60; 0 turns the limit off).
    #[serde(default = "default_login_per_minute")]
    pub login_per_minute: u32,
    /// Login starts a client may make at once before the rate applies (default 20).
    #[serde(default = "default_login_burst")]
    pub login_burst: u32,
    /// Keep the login buckets in the store, shared by every instance on it, so that N
    /// instances behind one load balancer allow the rate once, not N times (default false: each
    /// instance counts on its own, in memory). Costs one store write per login start.
    #[serde(default)]
    pub shared_login_limit: bool,
    /// Deprecated place of the top-level `trusted_proxies` (still read when that is absent).
    #[serde(default)]
    pub trusted_proxies: Option<Vec<Cidr>>,
    /// A client that has not sent a whole request head this long after connecting (or after
    /// the first byte of its next request) is disconnected (default 10s).
    #[serde(default = "d_10s", deserialize_with = "duration::deserialize")]
    pub header_read_timeout: Duration,
    /// A connection with no request in flight this long is closed (default 60s).
    #[serde(default = "d_60s", deserialize_with = "duration::deserialize")]
    pub idle_timeout: Duration,
    /// Open client connections per listener; beyond them a new connection is closed at
    /// once (default 10000).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes; larger: 431 (default 65536,
    /// at least 8192).
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Most header fields in an HTTP/1.1 request; more: 431 (default 100).
    #[serde(default = "default_max_headers")]
    pub max_headers: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            login_per_minute: default_login_per_minute(),
            login_burst: default_login_burst(),
            shared_login_limit: false,
            trusted_proxies: None,
            header_read_timeout: d_10s(),
            idle_timeout: d_60s(),
            max_connections: default_max_connections(),
            max_header_bytes: default_max_header_bytes(),
            max_headers: default_max_headers(),
        }
    }
}

fn default_max_connections() -> usize {
    10_000
}
fn default_max_header_bytes() -> usize {
    64 * 1024
}
fn default_max_headers() -> usize {
    100
}

fn default_login_per_minute() -> u32 {
    60
}
fn default_login_burst() -> u32 {
    20
}
fn default_trusted_proxies() -> Vec<Cidr> {
    vec![
        Cidr::from(std::net::IpAddr::from([127, 0, 0, 1])),
        Cidr::from(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ]
}

/// One `[[access]]` rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    /// Path prefix (`/admin` covers `/admin` and `/admin/…`).
    pub path: String,
    /// The user must have one of these groups (`groups` or `roles` claim).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Verified e-mail addresses allowed (with `domains`: either list).
    #[serde(default)]
    pub emails: Vec<String>,
    /// Domains of verified e-mail addresses allowed.
    #[serde(default)]
    pub domains: Vec<String>,
}

/// One `[[api]]` entry: a path prefix whose requests authenticate with an access token.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Path prefix, matched exactly like `[[access]]` prefixes.
    pub path: String,
    /// The providers whose access tokens are accepted (their issuer and keys).
    pub providers: Vec<String>,
    /// The audience the tokens must be issued for (a URL or any string, e.g. a client id).
    pub audience: String,
    /// Scopes the token must all have (may be empty).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Opaque tokens: RFC 7662 introspection at the provider, cached until `exp`.
    #[serde(default)]
    pub introspect: bool,
    /// Whether a browser session cookie counts as well (default true).
    #[serde(default = "default_true")]
    pub sessions: bool,
    /// Issue `DPoP-Nonce` values (RFC 9449 §9).
    #[serde(default)]
    pub dpop_nonce: bool,
}

fn default_true() -> bool {
    true
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8088))
}
fn yes() -> bool {
    true
}
fn default_alg() -> String {
    "ES256".into()
}
fn default_cache_capacity() -> usize {
    100_000
}
fn default_touch_writes() -> u32 {
    1000
}
fn d_5s() -> Duration {
    Duration::from_secs(5)
}
fn d_10s() -> Duration {
    Duration::from_secs(10)
}
fn d_30s() -> Duration {
    Duration::from_secs(30)
}
fn d_60s() -> Duration {
    Duration::from_secs(60)
}
fn d_10m() -> Duration {
    Duration::from_secs(600)
}
fn d_1h() -> Duration {
    Duration::from_secs(3600)
}
fn d_8h() -> Duration {
    Duration::from_secs(8 * 3600)
}
fn d_24h() -> Duration {
    Duration::from_secs(24 * 3600)
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout: d_8h(),
            absolute_timeout: d_24h(),
            refresh_before: d_60s(),
            cache_ttl: d_5s(),
            cache_capacity: default_cache_capacity(),
            touch_interval: d_60s(),
            touch_writes_per_second: default_touch_writes(),
            login_timeout: d_10m(),
            bind_login: true,
        }
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            alg: default_alg(),
            rotation_interval: None,
            propagation: None,
            check_interval: d_30s(),
        }
    }
}

impl Config {
    /// Whether the gateway is a reverse proxy: `[upstream] url`, or `[[upstream]]` routes (else
    /// it answers forward auth only).
    pub fn is_reverse_proxy(&self) -> bool {
        match &self.upstream {
            Some(Upstreams::Single(u)) => u.url.is_some(),
            Some(Upstreams::Routes(r)) => !r.is_empty(),
            None => false,
        }
    }

    /// Reads and parses a TOML file; relative paths in it are resolved against its directory.
    ///
    /// # Errors
    /// [`GatewayError::ConfigFile`] (I/O), [`GatewayError::Config`] (syntax, unknown keys).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, GatewayError> {
        let path = path.as_ref();
        let io = |source| GatewayError::ConfigFile {
            path: path.to_path_buf(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_CONFIG_BYTES,
            }
            .into());
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut config = Self::parse(&text).map_err(|e| ConfigError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })?;
        config.base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf);
        Ok(config)
    }

    /// Adds the provider `name` with `settings` (a preset already applied: the command line's
    /// `--preset`), as a `[[providers]]` table of those keys would
    /// ([`ProviderConfig::assembled`]).
    pub fn push_provider(&mut self, name: &str, settings: relier::provider::ProviderSettings) {
        self.providers
            .push(ProviderConfig::assembled(name, settings));
    }

    /// Parses TOML text (relative paths are relative to the working directory).
    ///
    /// # Errors
    /// [`GatewayError::Config`]: [`ConfigError::Toml`] with toml's message (line and column
    /// included).
    pub fn from_toml(text: &str) -> Result<Config, GatewayError> {
        Ok(Self::parse(text)?)
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Toml`].
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let both = upstream_both_forms(text).then_some(UPSTREAM_BOTH_FORMS);
            ConfigError::toml(text, &e, both)
        })
    }

    /// The store URL: `store` from the file, else `RELIER_STORE`, else `sqlite://relier.db`.
    pub fn store_url(&self) -> String {
        self.store
            .as_ref()
            .map(|s| s.expose().to_owned())
            .or_else(|| std::env::var(STORE_ENV).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| relier_store::DEFAULT_STORE_URL.to_owned())
    }

    /// Whether the RP publishes its keys as a federation entity (`[federation]`): its signing
    /// and encryption keys then reach the OPs only through its signed JWK set.
    pub fn uses_federation(&self) -> bool {
        self.federation.is_some()
    }

    /// `[keys] propagation`: as set, else 1 day when federation is in use or a provider has
    /// `preset = "ftn"` (the FTN brokers cache an RP's signed JWK set for up to a day), else 1
    /// hour.
    pub fn key_propagation(&self) -> Duration {
        let ftn = self
            .providers
            .iter()
            .any(|p| p.preset() == Some(crate::presets::Preset::Ftn));
        match self.keys.propagation {
            Some(d) => d,
            None if self.uses_federation() || ftn => federation::FEDERATION_PROPAGATION,
            None => d_1h(),
        }
    }

    /// The trusted reverse proxies: top-level `trusted_proxies`, else the deprecated
    /// `[limits] trusted_proxies`, else the loopback addresses.
    ///
    /// # Errors
    /// [`GatewayError::Config`] when both places are set.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, GatewayError> {
        match (&self.trusted_proxies, &self.limits.trusted_proxies) {
            (Some(_), Some(_)) => Err(GatewayError::config(
                "trusted_proxies is set both at the top level and in [limits]; keep the top-level one",
            )),
            (Some(t), None) | (None, Some(t)) => Ok(TrustedProxies::new(t.clone())),
            (None, None) => Ok(TrustedProxies::new(default_trusted_proxies())),
        }
    }

    /// A path from the file, resolved against the config file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }
}

/// The environment variable that overrides a provider's client secret:
/// `RELIER_CLIENT_SECRET_<NAME>` (upper case, `.` and `-` as `_`).
pub fn secret_override_env(provider: &str) -> String {
    let name: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("RELIER_CLIENT_SECRET_{name}")
}

#[cfg(test)]
mod tests;
