//! Rate limit on login starts. `GET /auth/login/{provider}` needs no session and writes a login
//! state to the store, so without a limit one client could fill the store (the rows only go
//! after `login_timeout`). Each client address gets a token bucket; IPv6 addresses are grouped
//! by their /64, the smallest block a single subscriber is usually given.
//!
//! With `[limits] shared_login_limit = true` the buckets live in the store, shared by every
//! instance on it (so N instances do not allow N times the rate); the per-instance buckets then
//! only stand in while the store cannot be reached.
//!
//! The client address is the one [`crate::forwarding`] finds (the TCP peer, or behind trusted
//! proxies the right-most untrusted `X-Forwarded-For` entry), so a client cannot buy fresh
//! buckets by rotating the header's values.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use relier_store::{LoginAllowance, LoginRate, SessionStore};

use crate::config::LimitsConfig;

/// Most client addresses tracked at once; beyond it, buckets that are full again (and so carry
/// no information) are dropped first.
const MAX_TRACKED: usize = 100_000;

/// Per-client token buckets for login starts.
#[derive(Debug)]
pub struct LoginLimiter {
    /// Tokens added per second.
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    /// Buckets in the store, shared by every instance.
    shared: Option<LoginRate>,
    /// `login_per_minute`, `login_burst`, `shared_login_limit` it was made from.
    made_from: (u32, u32, bool),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl LoginLimiter {
    /// `None` when the limit is off (`login_per_minute = 0`).
    pub fn new(cfg: &LimitsConfig) -> Option<Self> {
        if cfg.login_per_minute == 0 {
            return None;
        }
        Some(LoginLimiter {
            rate: f64::from(cfg.login_per_minute) / 60.0,
            burst: f64::from(cfg.login_burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            shared: cfg.shared_login_limit.then_some(LoginRate {
                per_minute: cfg.login_per_minute,
                burst: cfg.login_burst.max(1),
            }),
            made_from: Self::key(cfg),
        })
    }

    /// Whether `cfg` sets the limit this one was made from: a configuration reload keeps the
    /// limiter (and its buckets) then.
    pub fn same_limits(&self, cfg: &LimitsConfig) -> bool {
        cfg.login_per_minute != 0 && Self::key(cfg) == self.made_from
    }

    fn key(cfg: &LimitsConfig) -> (u32, u32, bool) {
        (
            cfg.login_per_minute,
            cfg.login_burst.max(1),
            cfg.shared_login_limit,
        )
    }

    /// Takes one token for `client` from the shared buckets in `store` when the limit is
    /// shared (falling back to this instance's buckets while the store fails), else from this
    /// instance's; or says how long until one is available.
    pub async fn admit(
        &self,
        client: IpAddr,
        now: Instant,
        store: &dyn SessionStore,
    ) -> Result<(), Duration> {
        let Some(rate) = self.shared else {
            return self.check(client, now);
        };
        let key = bucket_key(crate::forwarding::canonical(client)).to_string();
        match store.take_login_token(&key, rate).await {
            Ok(LoginAllowance::Wait(wait)) => Err(wait),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "shared login rate limit unavailable: this instance's limit applies");
                self.check(client, now)
            }
        }
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let client = bucket_key(crate::forwarding::canonical(client));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| refilled(*b, now, rate, burst) < burst);
            if buckets.len() >= MAX_TRACKED {
                tracing::warn!(
                    tracked = buckets.len(),
                    "login rate limit: too many clients at once; refusing new ones"
                );
                return Err(Duration::from_secs(60));
            }
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = refilled(*b, now, self.rate, self.burst);
        if tokens >= 1.0 {
            *b = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *b = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64(((1.0 - tokens) / self.rate).ceil()))
        }
    }
}

fn refilled(b: Bucket, now: Instant, rate: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * rate).min(burst)
}

/// IPv6 addresses count per /64.
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32, burst: u32) -> LoginLimiter {
        LoginLimiter::new(&LimitsConfig {
            login_per_minute: per_minute,
            login_burst: burst,
            ..LimitsConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn a_reload_keeps_the_limiter_only_for_the_same_limits() {
        let l = limiter(60, 3);
        let same = LimitsConfig {
            login_per_minute: 60,
            login_burst: 3,
            ..LimitsConfig::default()
        };
        assert!(l.same_limits(&same));
        for other in [
            LimitsConfig {
                login_per_minute: 30,
                ..same.clone()
            },
            LimitsConfig {
                login_burst: 4,
                ..same.clone()
            },
            LimitsConfig {
                shared_login_limit: true,
                ..same.clone()
            },
            LimitsConfig {
                login_per_minute: 0,
                ..same.clone()
            },
        ] {
            assert!(!l.same_limits(&other), "{other:?}");
        }
    }

    #[test]
    fn burst_then_refill() {
        let l = limiter(60, 3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(ip, t0).is_ok());
        }
        assert_eq!(l.check(ip, t0), Err(Duration::from_secs(1)));
        // Another client is not affected.
        assert!(l.check("192.0.2.2".parse().unwrap(), t0).is_ok());
        // One token per second at 60/min.
        assert!(l.check(ip, t0 + Duration::from_millis(1000)).is_ok());
        assert!(l.check(ip, t0 + Duration::from_millis(1100)).is_err());
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(l.check(ip, later).is_ok());
        }
        assert!(l.check(ip, later).is_err());
    }

    #[test]
    fn off_when_zero() {
        assert!(
            LoginLimiter::new(&LimitsConfig {
                login_per_minute: 0,
                ..LimitsConfig::default()
            })
            .is_none()
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let l = limiter(60, 1);
        let t0 = Instant::now();
        assert!(l.check("2001:db8:1:2:aaaa::1".parse().unwrap(), t0).is_ok());
        assert!(
            l.check("2001:db8:1:2:bbbb::9".parse().unwrap(), t0)
                .is_err()
        );
        assert!(l.check("2001:db8:1:3::1".parse().unwrap(), t0).is_ok());
        assert!(l.check("192.0.2.1".parse().unwrap(), t0).is_ok());
        assert!(l.check("::ffff:192.0.2.1".parse().unwrap(), t0).is_err());
    }

    #[test]
    fn table_is_bounded() {
        let l = limiter(60, 1);
        let t0 = Instant::now();
        {
            let mut b = l.buckets.lock().unwrap();
            for i in 0..MAX_TRACKED {
                let ip = IpAddr::from((i as u32).to_be_bytes());
                b.insert(
                    ip,
                    Bucket {
                        tokens: 0.0,
                        at: t0,
                    },
                );
            }
        }
        // Every tracked client is still rate limited: a new one is refused, not tracked.
        let new: IpAddr = "255.255.255.255".parse().unwrap();
        assert!(l.check(new, t0).is_err());
        // Once their buckets are full again they are forgotten and the new client gets in.
        assert!(l.check(new, t0 + Duration::from_secs(2)).is_ok());
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }
}
