//! Rate limit on login starts. `GET /auth/login/{provider}` needs no session and writes a login
//! state to the store, so without a limit one client could fill the store (the rows only go
//! after `login_timeout`). Each client address gets a token bucket; IPv6 addresses are grouped
//! by their /64, the smallest block a single subscriber is usually given.
//!
//! The client address is the TCP peer, or — when the peer is a trusted reverse proxy
//! (`[limits] trusted_proxies`, default the loopback addresses) — the last `X-Forwarded-For`
//! entry, the one that proxy appended.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

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
    trusted_proxies: Vec<IpAddr>,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
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
            trusted_proxies: cfg.trusted_proxies.clone(),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// The address a request is counted against.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let Some(peer) = peer.map(|p| canonical(p.ip())) else {
            return IpAddr::from([0, 0, 0, 0]);
        };
        if !self.trusted_proxies.contains(&peer) {
            return bucket_key(peer);
        }
        // The proxy appends the address it saw to the last X-Forwarded-For line.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|s| s.trim().parse::<IpAddr>().ok());
        bucket_key(forwarded.map_or(peer, canonical))
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
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

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, from a dual-stack socket) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
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
    fn client_address() {
        let l = limiter(60, 3);
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        h.append("x-forwarded-for", "10.0.0.1, 198.51.100.8".parse().unwrap());
        let local: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let remote: SocketAddr = "192.0.2.1:5555".parse().unwrap();
        // From the trusted (loopback) proxy: the address it appended, last on the last line.
        assert_eq!(
            l.client(Some(local), &h),
            "198.51.100.8".parse::<IpAddr>().unwrap()
        );
        // From anyone else the header is the client's own claim: ignored.
        assert_eq!(l.client(Some(remote), &h), remote.ip());
        // Garbage in the header: the peer counts.
        let mut bad = HeaderMap::new();
        bad.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(l.client(Some(local), &bad), local.ip());
        // IPv6 per /64; IPv4-mapped IPv6 as IPv4.
        let a: SocketAddr = "[2001:db8:1:2:aaaa::1]:1".parse().unwrap();
        let b: SocketAddr = "[2001:db8:1:2:bbbb::9]:1".parse().unwrap();
        assert_eq!(
            l.client(Some(a), &HeaderMap::new()),
            l.client(Some(b), &HeaderMap::new())
        );
        let mapped: SocketAddr = "[::ffff:192.0.2.1]:1".parse().unwrap();
        assert_eq!(l.client(Some(mapped), &HeaderMap::new()), remote.ip());
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
