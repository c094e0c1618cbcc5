//! [`Settings`]: what the handlers read from the configuration, checked and derived once at
//! start (public URL, cookies, timeouts, identity headers, forwarding, access rules).

use std::collections::HashMap;
use std::path::Path;

use axum::http::HeaderName;
use url::Url;

use crate::access::{PathRules, Policy, Prefix};
use crate::config::Config;
use crate::error::GatewayError;
use crate::forwarding::{FORWARDING_HEADERS, PublicOrigin, TrustedProxies};
use crate::identity::{self, IdentityHeaders};
use crate::original_uri::OriginalUriPolicy;

/// Header names a claim mapping may not use (besides the forwarding and built-in identity
/// headers).
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "location",
    "x-csrf-token",
];

/// Settings derived from the configuration.
#[derive(Debug)]
pub struct Settings {
    /// `public_url`, parsed.
    pub public_url: Url,
    /// `public_url` without a trailing slash.
    pub base: String,
    /// Its origin (`scheme://host[:port]`), for the CSRF checks.
    pub origin: String,
    /// https: `Secure` cookies with the `__Host-` prefix.
    pub secure: bool,
    /// The session cookie's name.
    pub cookie_name: &'static str,
    /// `cookie_domain`: the session cookie's `Domain`, and the hosts `return_to` may name.
    pub cookie_domain: Option<crate::cookies::CookieDomain>,
    /// Prefix of the login-binding cookies.
    pub login_cookie_prefix: &'static str,
    /// Seconds.
    pub idle_timeout: u64,
    /// Seconds.
    pub absolute_timeout: u64,
    /// Seconds.
    pub refresh_before: u64,
    /// Seconds.
    pub touch_interval: u64,
    /// Idle-expiry writes per second that are not urgent ([`crate::touch`]).
    pub touch_writes_per_second: u32,
    /// Seconds.
    pub login_timeout: u64,
    /// Login-binding cookies on.
    pub bind_login: bool,
    /// Login page heading.
    pub title: String,
    /// The theme CSS file's content.
    pub theme_css: Option<String>,
    /// `/metrics` served on the public listener.
    pub metrics: bool,
    /// `/metrics` served on an address of its own.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The identity headers (built-in and `[headers]` claim mappings).
    pub identity: IdentityHeaders,
    /// Request headers with `_` in their names reach the upstream.
    pub underscores_in_headers: bool,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// What the upstream is told about the public side of the request.
    pub public_origin: PublicOrigin,
    /// Origins a proxied WebSocket handshake may come from (`public_url`'s first).
    pub websocket_origins: Vec<String>,
    /// `skip_auth` and `[[access]]`.
    pub path_rules: PathRules,
    /// `[[api]]`.
    pub api: crate::api::ApiRules,
    /// `[upstream] pass_access_token` and the providers' `exchange_audience`.
    pub upstream_token: crate::upstream_token::UpstreamTokenSettings,
    /// Where `/auth/check` finds the original URI, and how strictly it is read.
    pub original_uri: OriginalUriPolicy,
    /// Who may log in, per provider (absent: everyone the OP vouches for).
    pub login_policies: HashMap<String, Policy>,
    /// `Cache-Control: max-age` of the JWKS (a quarter of the propagation delay, ≤ 5 min).
    pub jwks_max_age: u64,
    /// Period of the background task.
    pub check_interval: std::time::Duration,
    /// The providers whose subject is personal data (`preset = "ftn"`): logged only as a keyed
    /// hash ([`crate::subject_log`]).
    pub personal_subjects: Vec<String>,
    /// The key of those hashes: the store-derived one once the gateway has opened its store
    /// ([`crate::state`]), the per-process fallback until then.
    pub subject_hash: crate::subject_log::SubjectHash,
    /// `[telemetry]` is on: requests get a span of their own, continuing an incoming
    /// `traceparent`, and the upstream gets the gateway's ([`crate::telemetry`]).
    pub traces: bool,
}

impl Settings {
    /// `sub` of a session or login at `provider`, as a log line may carry it.
    pub fn logged_subject<'a>(&self, provider: &str, sub: &'a str) -> std::borrow::Cow<'a, str> {
        self.subject_hash
            .logged(self.personal_subjects.iter().any(|p| p == provider), sub)
    }
}

fn secs(d: std::time::Duration) -> u64 {
    d.as_secs()
}

/// Checks the configuration and derives the settings.
pub fn settings(config: &Config) -> Result<Settings, GatewayError> {
    let bad = |m: String| GatewayError::config(m);
    let public_url = relier_core::types::parse_secure_url("public_url", &config.public_url)
        .map_err(|e| bad(e.to_string()))?;
    if public_url.path() != "/" || public_url.query().is_some() || public_url.fragment().is_some() {
        return Err(bad(format!(
            "public_url {} must be an origin (scheme, host, port) without path, query or fragment: the gateway serves /auth/… at the root",
            config.public_url
        )));
    }
    let secure = public_url.scheme() == "https";
    check_periods(config)?;
    check_log_level(config)?;
    if let Some(f) = &config.federation {
        f.check()?;
        f.entity_id(&config.public_url)?;
    }
    let s = &config.session;
    let header_map = claim_headers(config)?;
    let theme_css = match &config.theme_css {
        Some(p) => Some(read_theme(&config.resolve(p))?),
        None => None,
    };
    let base = public_url.as_str().trim_end_matches('/').to_owned();
    let origin = public_url.origin().ascii_serialization();
    let public_origin = PublicOrigin::new(&public_url)
        .ok_or_else(|| bad(format!("public_url {}: no host", config.public_url)))?;
    if let Some(u) = config
        .upstream
        .as_ref()
        .and_then(crate::config::Upstreams::single)
        .filter(|u| u.url.is_none())
        && (u.preserve_host || !u.websocket_origins.is_empty())
    {
        return Err(bad(
            "[upstream] preserve_host and websocket_origins need upstream.url (without it the \
             gateway answers forward auth only)"
                .into(),
        ));
    }
    let websocket_origins = websocket_origins(
        "upstream.websocket_origins",
        config
            .upstream
            .as_ref()
            .and_then(crate::config::Upstreams::single)
            .map_or(&[][..], |u| &u.websocket_origins),
        &origin,
    )?;
    let cookie_domain = cookie_domain(config, &public_url)?;
    let cookie_name = if cookie_domain.is_some() {
        // RFC 6265bis §4.1.3.2: `__Host-` forbids `Domain`; `__Secure-` keeps `Secure`
        // mandatory.
        "__Secure-relier"
    } else if secure {
        "__Host-relier"
    } else {
        "relier_session"
    };
    let (path_rules, login_policies) = access_rules(config)?;
    let api = crate::api::ApiRules::from_config(config)?;
    let original_uri = original_uri_policy(config, &path_rules, &api)?;
    let upstream_token = crate::upstream_token::UpstreamTokenSettings::from_config(config)?;
    let personal_subjects = config
        .providers
        .iter()
        .filter(|p| {
            p.preset()
                .and_then(crate::presets::Preset::subject_claim)
                .is_some()
        })
        .map(|p| p.name.clone())
        .collect();
    Ok(Settings {
        upstream_token,
        personal_subjects,
        subject_hash: crate::subject_log::SubjectHash::per_process(),
        traces: config.telemetry.is_some(),
        original_uri,
        path_rules,
        api,
        login_policies,
        origin,
        public_origin,
        websocket_origins,
        trusted_proxies: config.trusted_proxies()?,
        underscores_in_headers: config.underscores_in_headers,
        metrics_listen: config.metrics_listen,
        base,
        public_url,
        secure,
        cookie_domain,
        cookie_name,
        login_cookie_prefix: if secure {
            "__Host-relier-login-"
        } else {
            "relier_login_"
        },
        idle_timeout: secs(s.idle_timeout),
        absolute_timeout: secs(s.absolute_timeout),
        refresh_before: secs(s.refresh_before),
        touch_interval: secs(s.touch_interval),
        touch_writes_per_second: s.touch_writes_per_second,
        login_timeout: secs(s.login_timeout),
        bind_login: s.bind_login,
        title: config.title.clone().unwrap_or_else(|| "Sign in".into()),
        theme_css,
        metrics: config.metrics,
        identity: IdentityHeaders::new(header_map),
        jwks_max_age: (secs(config.key_propagation()) / 4).min(300),
        check_interval: config.keys.check_interval,
    })
}

/// `cookie_domain`, checked: an https `public_url` (the cookie becomes `__Secure-`, which
/// needs `Secure`) whose host the domain covers.
fn cookie_domain(
    config: &Config,
    public_url: &Url,
) -> Result<Option<crate::cookies::CookieDomain>, GatewayError> {
    let Some(raw) = &config.cookie_domain else {
        return Ok(None);
    };
    if public_url.scheme() != "https" {
        return Err(GatewayError::config(format!(
            "cookie_domain {raw:?} needs an https public_url (the session cookie becomes __Secure-relier with Domain={raw}), not {public_url}"
        )));
    }
    let host = public_url.host_str().unwrap_or_default();
    crate::cookies::CookieDomain::parse(raw, host)
        .map(Some)
        .map_err(|e| GatewayError::config(e.to_string()))
}

/// `log_level` is a filter `relier serve` can apply.
fn check_log_level(config: &Config) -> Result<(), GatewayError> {
    match &config.log_level {
        Some(level) => tracing_subscriber::EnvFilter::try_new(level)
            .map(drop)
            .map_err(|e| GatewayError::config(format!("log_level {level:?}: {e}"))),
        None => Ok(()),
    }
}

/// Every timeout and period of `[session]` and `[keys]` is positive.
fn check_periods(config: &Config) -> Result<(), GatewayError> {
    let s = &config.session;
    if s.idle_timeout.is_zero() || s.absolute_timeout.is_zero() || s.login_timeout.is_zero() {
        return Err(GatewayError::config(
            "session: idle_timeout, absolute_timeout and login_timeout must be positive",
        ));
    }
    if s.touch_writes_per_second == 0 {
        return Err(GatewayError::config(
            "session.touch_writes_per_second must be positive",
        ));
    }
    if config.keys.check_interval.is_zero() {
        return Err(GatewayError::config("keys.check_interval must be positive"));
    }
    if matches!(config.keys.rotation_interval, Some(d) if d.is_zero()) {
        return Err(GatewayError::config(
            "keys.rotation_interval must be positive",
        ));
    }
    Ok(())
}

/// `[headers]`: a header name per claim; none of the reserved, forwarding or built-in
/// identity headers, none twice (compared as the upstream would: case and `-`/`_` aside).
fn claim_headers(config: &Config) -> Result<Vec<(HeaderName, String)>, GatewayError> {
    let mut header_map = Vec::new();
    for (name, claim) in &config.headers {
        let h = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            GatewayError::config(format!("headers: {name:?} is not a valid header name"))
        })?;
        let lower = h.as_str();
        if RESERVED_HEADERS
            .iter()
            .copied()
            .chain(FORWARDING_HEADERS.iter().map(HeaderName::as_str))
            .chain(identity::BUILT_IN.iter().copied())
            .any(|r| identity::eq_normalized(lower, r))
            || header_map
                .iter()
                .any(|(m, _): &(HeaderName, String)| identity::eq_normalized(m.as_str(), lower))
        {
            return Err(GatewayError::config(format!(
                "headers: {name} is reserved and cannot carry a claim"
            )));
        }
        if claim.is_empty() {
            return Err(GatewayError::config(format!(
                "headers: {name}: empty claim name"
            )));
        }
        header_map.push((h, claim.clone()));
    }
    Ok(header_map)
}

/// `public_url`'s origin and `list` (the `key` of the file), each an origin.
pub(crate) fn websocket_origins(
    key: &str,
    list: &[String],
    origin: &str,
) -> Result<Vec<String>, GatewayError> {
    let mut websocket_origins = vec![origin.to_owned()];
    for o in list {
        let url = Url::parse(o).map_err(|e| GatewayError::config(format!("{key}: {o:?}: {e}")))?;
        let serialized = url.origin().ascii_serialization();
        if serialized == "null" || url.path() != "/" {
            return Err(GatewayError::config(format!(
                "{key}: {o:?} must be an origin such as https://app.example.com"
            )));
        }
        websocket_origins.push(serialized);
    }
    Ok(websocket_origins)
}

/// A path prefix from the file (`key` names it in the message).
pub(crate) fn prefix(key: &str, p: &str) -> Result<Prefix, GatewayError> {
    Prefix::parse(p).ok_or_else(|| {
        GatewayError::config(format!(
            "{key}: {p:?} must be a path starting with / (without dot segments, backslashes, \
             double encoding or control characters)"
        ))
    })
}

/// One `[[access]]` rule, checked (`key` names its table in the message).
pub(crate) fn access_rule(
    key: &str,
    rule: &crate::config::AccessRule,
) -> Result<(Prefix, Policy), GatewayError> {
    let policy = Policy {
        emails: rule.emails.clone(),
        domains: rule.domains.clone(),
        groups: rule.groups.clone(),
        require: Default::default(),
    };
    if policy.is_empty() {
        return Err(GatewayError::config(format!(
            "{key}: the rule for {:?} names no groups, emails or domains",
            rule.path
        )));
    }
    Ok((prefix(&format!("{key}.path"), &rule.path)?, policy))
}

/// `skip_auth`, `[[access]]` and each provider's allow-lists, checked.
fn access_rules(config: &Config) -> Result<(PathRules, HashMap<String, Policy>), GatewayError> {
    let skip = config
        .skip_auth
        .iter()
        .map(|p| prefix("skip_auth", p))
        .collect::<Result<Vec<_>, _>>()?;
    let rules = config
        .access
        .iter()
        .map(|rule| access_rule("access", rule))
        .collect::<Result<Vec<_>, _>>()?;
    let mut policies = HashMap::new();
    for p in &config.providers {
        let policy = Policy {
            emails: p.policy.allowed_emails.clone(),
            domains: p.policy.allowed_domains.clone(),
            groups: p.policy.allowed_groups.clone(),
            require: p.policy.require.clone(),
        };
        if !policy.is_empty() {
            policies.insert(p.name.clone(), policy);
        }
    }
    Ok((
        PathRules {
            skip,
            rules,
            lenient: config.allow_non_canonical_paths,
        },
        policies,
    ))
}

/// `original_uri_header` (default `X-Forwarded-Uri`) and `allow_non_canonical_paths`.
fn original_uri_policy(
    config: &Config,
    rules: &PathRules,
    api: &crate::api::ApiRules,
) -> Result<OriginalUriPolicy, GatewayError> {
    let name = config
        .original_uri_header
        .as_deref()
        .unwrap_or("X-Forwarded-Uri");
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        GatewayError::config(format!("original_uri_header {name:?} is not a header name"))
    })?;
    Ok(OriginalUriPolicy {
        header,
        decides: !rules.is_empty() || !api.is_empty(),
        allow_non_canonical: config.allow_non_canonical_paths,
    })
}

fn read_theme(path: &Path) -> Result<String, GatewayError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| GatewayError::config(format!("theme_css {}: {e}", path.display())))?;
    if meta.len() > 1024 * 1024 {
        return Err(GatewayError::config(format!(
            "theme_css {}: larger than 1 MiB",
            path.display()
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| GatewayError::config(format!("theme_css {}: {e}", path.display())))
}
