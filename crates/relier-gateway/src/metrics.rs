//! Prometheus metrics with hand-rolled atomics (no registry, no allocation on the hot path).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;

/// Upper bounds (seconds) of the token endpoint histogram.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Outcome of `/auth/check` (and of the proxy's authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    /// 200.
    Ok,
    /// 401 / redirect to login.
    Unauthorized,
    /// Store failure.
    Error,
    /// 403: refused (a client-sent identity header, a foreign WebSocket origin).
    Refused,
}

/// Every counter the gateway exports.
#[derive(Debug, Default)]
pub struct Metrics {
    logins: Mutex<BTreeMap<(String, &'static str), u64>>,
    token_buckets: [AtomicU64; BUCKETS.len()],
    token_count: AtomicU64,
    token_sum_micros: AtomicU64,
    /// Live sessions (refreshed by the background task).
    pub sessions: AtomicU64,
    check_ok: AtomicU64,
    check_unauthorized: AtomicU64,
    check_error: AtomicU64,
    check_refused: AtomicU64,
    proxy_ok: AtomicU64,
    proxy_unauthorized: AtomicU64,
    proxy_error: AtomicU64,
    proxy_refused: AtomicU64,
    refresh_success: AtomicU64,
    refresh_failure: AtomicU64,
    backchannel: Mutex<BTreeMap<&'static str, u64>>,
    frontchannel: Mutex<BTreeMap<&'static str, u64>>,
    /// Key rotations started by this instance.
    pub key_rotations: AtomicU64,
    /// Sessions in the in-memory cache.
    pub cache_entries: AtomicU64,
    /// Idle-expiry writes waiting ([`crate::touch`]).
    pub touches_pending: AtomicU64,
    login_rate_limited: AtomicU64,
    /// Client connections open on the gateway's listeners ([`crate::server`]).
    pub connections_open: AtomicU64,
    /// Client connections closed at accept because `[limits] max_connections` were open.
    pub connections_refused: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_error: AtomicU64,
    reloads_restart_required: AtomicU64,
}

/// Outcome of a configuration reload ([`crate::reload`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// The new configuration is in force.
    Ok,
    /// Refused (a file that does not parse or check, a provider that cannot start): the old
    /// configuration stays.
    Error,
    /// Refused because it changes what only a restart applies: the old configuration stays.
    RestartRequired,
}

impl Metrics {
    /// A login finished with `outcome` (`success`, `denied`, `expired`, `failed`).
    pub fn login(&self, provider: &str, outcome: &'static str) {
        *self
            .logins
            .lock()
            .entry((provider.to_owned(), outcome))
            .or_insert(0) += 1;
    }

    /// A login start was refused by the rate limit.
    pub fn login_rate_limited(&self) {
        self.login_rate_limited.fetch_add(1, Relaxed);
    }

    /// A token endpoint call (code exchange or refresh) took `d`.
    pub fn token_endpoint(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (b, le) in self.token_buckets.iter().zip(BUCKETS) {
            if secs <= le {
                b.fetch_add(1, Relaxed);
            }
        }
        self.token_count.fetch_add(1, Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.token_sum_micros.fetch_add(micros, Relaxed);
    }

    /// One `/auth/check`.
    pub fn check(&self, r: CheckResult) {
        match r {
            CheckResult::Ok => &self.check_ok,
            CheckResult::Unauthorized => &self.check_unauthorized,
            CheckResult::Error => &self.check_error,
            CheckResult::Refused => &self.check_refused,
        }
        .fetch_add(1, Relaxed);
    }

    /// One proxied request.
    pub fn proxy(&self, r: CheckResult) {
        match r {
            CheckResult::Ok => &self.proxy_ok,
            CheckResult::Unauthorized => &self.proxy_unauthorized,
            CheckResult::Error => &self.proxy_error,
            CheckResult::Refused => &self.proxy_refused,
        }
        .fetch_add(1, Relaxed);
    }

    /// A refresh grant.
    pub fn refresh(&self, success: bool) {
        if success {
            &self.refresh_success
        } else {
            &self.refresh_failure
        }
        .fetch_add(1, Relaxed);
    }

    /// A configuration reload ended with `r`.
    pub fn reload(&self, r: ReloadResult) {
        match r {
            ReloadResult::Ok => &self.reloads_ok,
            ReloadResult::Error => &self.reloads_error,
            ReloadResult::RestartRequired => &self.reloads_restart_required,
        }
        .fetch_add(1, Relaxed);
    }

    /// A back-channel logout request (`success`, `invalid`, `replay`, `error`).
    pub fn backchannel(&self, outcome: &'static str) {
        *self.backchannel.lock().entry(outcome).or_insert(0) += 1;
    }

    /// A front-channel logout request (`success`, `invalid`, `error`).
    pub fn frontchannel(&self, outcome: &'static str) {
        *self.frontchannel.lock().entry(outcome).or_insert(0) += 1;
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        header(
            &mut o,
            "relier_logins_total",
            "counter",
            "Completed logins by provider and outcome.",
        );
        for ((provider, outcome), n) in self.logins.lock().iter() {
            let _ = writeln!(
                o,
                "relier_logins_total{{provider=\"{}\",outcome=\"{outcome}\"}} {n}",
                label(provider)
            );
        }
        self.render_token_histogram(&mut o);
        single(
            &mut o,
            ("relier_sessions", "gauge", "Live sessions in the store."),
            self.sessions.load(Relaxed),
        );
        by_label(
            &mut o,
            (
                "relier_check_requests_total",
                "Forward-auth checks by result.",
            ),
            "result",
            &[
                ("ok", &self.check_ok),
                ("unauthorized", &self.check_unauthorized),
                ("error", &self.check_error),
                ("refused", &self.check_refused),
            ],
        );
        by_label(
            &mut o,
            (
                "relier_proxy_requests_total",
                "Reverse-proxy requests by result.",
            ),
            "result",
            &[
                ("ok", &self.proxy_ok),
                ("unauthorized", &self.proxy_unauthorized),
                ("error", &self.proxy_error),
                ("refused", &self.proxy_refused),
            ],
        );
        by_label(
            &mut o,
            (
                "relier_token_refreshes_total",
                "Access token refreshes by outcome.",
            ),
            "outcome",
            &[
                ("success", &self.refresh_success),
                ("failure", &self.refresh_failure),
            ],
        );
        header(
            &mut o,
            "relier_backchannel_logouts_total",
            "counter",
            "Back-channel logout requests by outcome.",
        );
        for (outcome, n) in self.backchannel.lock().iter() {
            let _ = writeln!(
                o,
                "relier_backchannel_logouts_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        header(
            &mut o,
            "relier_frontchannel_logouts_total",
            "counter",
            "Front-channel logout requests by outcome.",
        );
        for (outcome, n) in self.frontchannel.lock().iter() {
            let _ = writeln!(
                o,
                "relier_frontchannel_logouts_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        for (metric, value) in [
            (
                (
                    "relier_key_rotations_total",
                    "counter",
                    "RP key rotations started by this instance.",
                ),
                &self.key_rotations,
            ),
            (
                (
                    "relier_login_rate_limited_total",
                    "counter",
                    "Login starts refused by the per-client rate limit.",
                ),
                &self.login_rate_limited,
            ),
            (
                (
                    "relier_session_cache_entries",
                    "gauge",
                    "Sessions in the in-memory cache.",
                ),
                &self.cache_entries,
            ),
            (
                (
                    "relier_session_touches_pending",
                    "gauge",
                    "Sessions whose extended idle expiry waits to be written to the store.",
                ),
                &self.touches_pending,
            ),
            (
                (
                    "relier_connections_open",
                    "gauge",
                    "Client connections open on the gateway's listeners.",
                ),
                &self.connections_open,
            ),
            (
                (
                    "relier_connections_refused_total",
                    "counter",
                    "Client connections closed at accept because max_connections were open.",
                ),
                &self.connections_refused,
            ),
        ] {
            single(&mut o, metric, value.load(Relaxed));
        }
        by_label(
            &mut o,
            (
                "relier_config_reloads_total",
                "Configuration reloads (SIGHUP) by result.",
            ),
            "result",
            &[
                ("ok", &self.reloads_ok),
                ("error", &self.reloads_error),
                ("restart_required", &self.reloads_restart_required),
            ],
        );
        o
    }

    fn render_token_histogram(&self, o: &mut String) {
        header(
            o,
            "relier_token_endpoint_seconds",
            "histogram",
            "Duration of token endpoint calls (code exchange and refresh).",
        );
        for (b, le) in self.token_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                o,
                "relier_token_endpoint_seconds_bucket{{le=\"{le}\"}} {}",
                b.load(Relaxed)
            );
        }
        let count = self.token_count.load(Relaxed);
        let _ = writeln!(
            o,
            "relier_token_endpoint_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(
            clippy::cast_precision_loss,
            reason = "a sum of microseconds as seconds"
        )]
        let sum = self.token_sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(o, "relier_token_endpoint_seconds_sum {sum}");
        let _ = writeln!(o, "relier_token_endpoint_seconds_count {count}");
    }
}

/// One metric without labels: (name, type, help) and its value.
fn single(o: &mut String, (name, kind, help): (&str, &str, &str), value: u64) {
    header(o, name, kind, help);
    let _ = writeln!(o, "{name} {value}");
}

/// One counter with one label: (name, help), the label's name, and a value per label value.
fn by_label(
    o: &mut String,
    (name, help): (&str, &str),
    label_name: &str,
    values: &[(&str, &AtomicU64)],
) {
    header(o, name, "counter", help);
    for (v, c) in values {
        let _ = writeln!(o, "{name}{{{label_name}=\"{v}\"}} {}", c.load(Relaxed));
    }
}

fn header(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.login("local", "success");
        m.login("local", "success");
        m.token_endpoint(Duration::from_millis(30));
        m.check(CheckResult::Ok);
        let t = m.render();
        assert!(t.contains("relier_logins_total{provider=\"local\",outcome=\"success\"} 2\n"));
        assert!(t.contains("relier_token_endpoint_seconds_bucket{le=\"0.025\"} 0\n"));
        assert!(t.contains("relier_token_endpoint_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(t.contains("relier_token_endpoint_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(t.contains("relier_token_endpoint_seconds_count 1\n"));
        assert!(t.contains("relier_check_requests_total{result=\"ok\"} 1\n"));
        assert!(t.contains("# TYPE relier_sessions gauge\n"));
        assert_eq!(label("a\"b\\"), "a\\\"b\\\\");
    }
    #[test]
    fn every_family_is_typed_once_in_a_fixed_order() {
        let t = Metrics::default().render();
        let types: Vec<&str> = t
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .collect();
        assert_eq!(
            types,
            [
                "relier_logins_total counter",
                "relier_token_endpoint_seconds histogram",
                "relier_sessions gauge",
                "relier_check_requests_total counter",
                "relier_proxy_requests_total counter",
                "relier_token_refreshes_total counter",
                "relier_backchannel_logouts_total counter",
                "relier_frontchannel_logouts_total counter",
                "relier_key_rotations_total counter",
                "relier_login_rate_limited_total counter",
                "relier_session_cache_entries gauge",
                "relier_session_touches_pending gauge",
                "relier_connections_open gauge",
                "relier_connections_refused_total counter",
                "relier_config_reloads_total counter",
            ]
        );
        assert_eq!(
            t.lines().filter(|l| l.starts_with("# HELP ")).count(),
            types.len()
        );
        for line in [
            "relier_sessions 0",
            "relier_proxy_requests_total{result=\"refused\"} 0",
            "relier_token_refreshes_total{outcome=\"failure\"} 0",
            "relier_key_rotations_total 0",
            "relier_session_touches_pending 0",
            "relier_config_reloads_total{result=\"restart_required\"} 0",
        ] {
            assert!(t.lines().any(|l| l == line), "{line}");
        }
    }
}
