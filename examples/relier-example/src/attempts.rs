//! Limits on password attempts, per account name and per client address, with exponential
//! backoff: the first `free` failures cost nothing, each one after that doubles the wait
//! before the next attempt (from `base` up to `max`), and a key left alone for `forget_after`
//! starts over. A refused attempt is answered 429 with `Retry-After` (RFC 6585 §4, RFC 9110
//! §10.2.3) before any Argon2 work.
//!
//! An attempt counts as a failure when it starts, so that concurrent guesses cannot all slip in
//! before the first one fails; a successful login clears its account's count and gives its
//! address its attempt back. The account key is the lowercased name whether or not such an
//! account exists, so that a 429 says nothing about which names exist. IPv6 addresses count per
//! /64, the smallest block a subscriber is usually given.
//!
//! Both maps are bounded ([`MAX_TRACKED`] keys each): when one is full, keys that carry no
//! wait any more go first, then the longest idle ones.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use relier_gateway::TrustedProxies;

use crate::{App, pages};

/// Most keys each map tracks at once.
pub const MAX_TRACKED: usize = 50_000;

/// The backoff of one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed without any wait.
    pub free: u32,
    /// The wait after the first failure past `free`; it doubles with each further one.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
    /// A key with no attempt for this long starts over.
    pub forget_after: Duration,
}

impl Backoff {
    /// Per account name: 5 free failures, then 1 s, 2 s, 4 s, … up to 15 minutes.
    pub const ACCOUNT: Backoff = Backoff {
        free: 5,
        base: Duration::from_secs(1),
        max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(3600),
    };
    /// Per client address (several people may share one): 20 free failures, then as above.
    pub const CLIENT: Backoff = Backoff {
        free: 20,
        base: Duration::from_secs(1),
        max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(3600),
    };

    /// The wait required after `failures` failures.
    fn wait(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.free) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(over).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// One kind of key's counts.
#[derive(Debug)]
struct Counts<K> {
    backoff: Backoff,
    map: Mutex<HashMap<K, Entry>>,
}

impl<K: Eq + Hash + Clone> Counts<K> {
    fn new(backoff: Backoff) -> Self {
        Counts {
            backoff,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait, or `None` when it may try now.
    fn blocked(&self, map: &HashMap<K, Entry>, key: &K, now: Instant) -> Option<Duration> {
        let e = map.get(key)?;
        let until = e.last.checked_add(self.backoff.wait(e.failures))?;
        let left = until.saturating_duration_since(now);
        (!left.is_zero()).then_some(left)
    }

    /// Counts a failure for `key` at `now` (making room first when the map is full).
    fn count(&self, map: &mut HashMap<K, Entry>, key: &K, now: Instant) {
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            self.make_room(map, now);
        }
        let forget = self.backoff.forget_after;
        let e = map.entry(key.clone()).or_insert(Entry {
            failures: 0,
            last: now,
        });
        if now.saturating_duration_since(e.last) >= forget {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
    }

    /// Drops the keys that make nobody wait any more; if that is not enough, the idlest eighth.
    fn make_room(&self, map: &mut HashMap<K, Entry>, now: Instant) {
        let b = self.backoff;
        map.retain(|_, e| {
            let waits = e
                .last
                .checked_add(b.wait(e.failures))
                .is_none_or(|u| u > now);
            waits && now.saturating_duration_since(e.last) < b.forget_after
        });
        if map.len() < MAX_TRACKED {
            return;
        }
        let mut lasts: Vec<Instant> = map.values().map(|e| e.last).collect();
        let nth = lasts.len() / 8;
        let (_, cutoff, _) = lasts.select_nth_unstable(nth);
        let cutoff = *cutoff;
        map.retain(|_, e| e.last > cutoff);
        tracing::warn!(
            tracked = map.len(),
            "password attempt limits: table full, the idlest keys were dropped"
        );
    }
}

/// The client address a request's attempts count against, IPv6 per /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    /// The key of `ip`: itself, or for IPv6 its /64.
    pub fn new(ip: IpAddr) -> Self {
        ClientAddr(match ip {
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            v4 @ IpAddr::V4(_) => v4,
        })
    }

    /// The client of a request from `peer` (none: the unspecified address), by the gateway's
    /// forwarding rules: the TCP peer, or behind `trusted_proxies` the right-most untrusted
    /// `X-Forwarded-For` entry — a client cannot pick its own address.
    pub fn of(trusted: &TrustedProxies, peer: Option<SocketAddr>, headers: &HeaderMap) -> Self {
        // The route's addresses are canonical already (IPv4-mapped IPv6 read as IPv4).
        let ip = match peer {
            Some(p) => trusted.route(p.ip(), headers).client(),
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        ClientAddr::new(ip)
    }
}

impl FromRequestParts<Arc<App>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddr::of(&app.trusted_proxies, peer, &parts.headers))
    }
}

/// The account key of a name: lowercased (account names are case-insensitive), and one shared
/// key for names that cannot exist (they are never more than 64 bytes).
fn account_key(username: &str) -> String {
    if username.len() > 64 {
        return "\0too-long".to_owned();
    }
    username.to_ascii_lowercase()
}

/// The attempt limits of the application.
#[derive(Debug)]
pub struct Attempts {
    accounts: Counts<String>,
    clients: Counts<ClientAddr>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts::new(Backoff::ACCOUNT, Backoff::CLIENT)
    }
}

/// A password attempt that was let through and counted as a failure until
/// [`Attempt::succeeded`] or [`Attempt::not_tried`] says otherwise.
#[derive(Debug)]
pub struct Attempt<'a> {
    limits: &'a Attempts,
    account: String,
    client: ClientAddr,
}

/// An attempt refused: how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany(pub Duration);

impl TooMany {
    /// The 429 page with `Retry-After` in whole seconds (at least 1).
    pub fn response(self) -> Response {
        let secs = self
            .0
            .as_secs()
            .saturating_add(u64::from(self.0.subsec_nanos() > 0));
        let secs = secs.max(1);
        let mut resp = pages::message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!("Too many sign-in attempts. Try again in {secs} seconds."),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        resp
    }
}

impl Attempts {
    /// With the given backoffs per account name and per client address.
    pub fn new(account: Backoff, client: Backoff) -> Self {
        Attempts {
            accounts: Counts::new(account),
            clients: Counts::new(client),
        }
    }

    /// Lets an attempt at `username` from `client` through (counting it as a failure), or says
    /// how long to wait — the longer of the two waits.
    ///
    /// # Errors
    /// [`TooMany`] while the account name or the client address must wait.
    pub fn begin(&self, username: &str, client: ClientAddr) -> Result<Attempt<'_>, TooMany> {
        self.begin_at(username, client, Instant::now())
    }

    fn begin_at(
        &self,
        username: &str,
        client: ClientAddr,
        now: Instant,
    ) -> Result<Attempt<'_>, TooMany> {
        let account = account_key(username);
        // Lock order: accounts, then clients.
        let mut accounts = self
            .accounts
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut clients = self
            .clients
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let wait = self
            .accounts
            .blocked(&accounts, &account, now)
            .max(self.clients.blocked(&clients, &client, now));
        if let Some(wait) = wait {
            return Err(TooMany(wait));
        }
        self.accounts.count(&mut accounts, &account, now);
        self.clients.count(&mut clients, &client, now);
        Ok(Attempt {
            limits: self,
            account,
            client,
        })
    }

    fn refund_client(&self, client: ClientAddr) {
        let mut clients = self
            .clients
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = clients.get_mut(&client) {
            e.failures = e.failures.saturating_sub(1);
        }
    }
}

impl Attempt<'_> {
    /// The password was right: the account starts over, the address gets its attempt back.
    pub fn succeeded(self) {
        self.limits
            .accounts
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.account);
        self.limits.refund_client(self.client);
    }

    /// No password was checked (the server was busy or failed): nothing counts.
    pub fn not_tried(self) {
        let mut accounts = self
            .limits
            .accounts
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = accounts.get_mut(&self.account) {
            e.failures = e.failures.saturating_sub(1);
        }
        drop(accounts);
        self.limits.refund_client(self.client);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn ip(s: &str) -> ClientAddr {
        ClientAddr::new(s.parse().unwrap())
    }

    #[test]
    fn backoff_doubles_from_base_to_max() {
        let b = Backoff::ACCOUNT;
        assert_eq!(b.wait(0), Duration::ZERO);
        assert_eq!(b.wait(4), Duration::ZERO);
        assert_eq!(b.wait(5), Duration::from_secs(1));
        assert_eq!(b.wait(6), Duration::from_secs(2));
        assert_eq!(b.wait(9), Duration::from_secs(16));
        assert_eq!(b.wait(15), Duration::from_secs(900));
        assert_eq!(b.wait(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn an_account_waits_after_its_free_failures_whatever_the_address() {
        let a = Attempts::default();
        let t0 = Instant::now();
        for i in 0..5 {
            a.begin_at("Carol", ip(&format!("192.0.2.{i}")), t0)
                .unwrap();
        }
        assert_eq!(
            a.begin_at("carol", ip("192.0.2.99"), t0).unwrap_err(),
            TooMany(Duration::from_secs(1))
        );
        // Another name is not affected; after the wait, one more try, then twice the wait.
        a.begin_at("dave", ip("192.0.2.99"), t0).unwrap();
        let t1 = t0 + Duration::from_secs(1);
        a.begin_at("CAROL", ip("192.0.2.99"), t1).unwrap();
        assert_eq!(
            a.begin_at("carol", ip("192.0.2.99"), t1).unwrap_err(),
            TooMany(Duration::from_secs(2))
        );
        // Left alone for an hour, it starts over.
        let later = t1 + Duration::from_secs(3600);
        for _ in 0..5 {
            a.begin_at("carol", ip("192.0.2.99"), later).unwrap();
        }
        assert!(a.begin_at("carol", ip("192.0.2.99"), later).is_err());
    }

    #[test]
    fn an_address_waits_after_its_free_failures_whatever_the_name() {
        let a = Attempts::default();
        let t0 = Instant::now();
        for i in 0..20 {
            a.begin_at(&format!("user{i}"), ip("2001:db8:1:2::1"), t0)
                .unwrap();
        }
        // The same /64 is the same client.
        let refused = a.begin_at("another", ip("2001:db8:1:2:ffff::9"), t0);
        assert_eq!(refused.unwrap_err(), TooMany(Duration::from_secs(1)));
        a.begin_at("another", ip("2001:db8:1:3::1"), t0).unwrap();
    }

    #[test]
    fn success_clears_the_account_and_refunds_the_address() {
        let a = Attempts::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            a.begin_at("carol", ip("192.0.2.1"), t0).unwrap();
        }
        a.begin_at("carol", ip("192.0.2.1"), t0)
            .unwrap()
            .succeeded();
        for _ in 0..5 {
            a.begin_at("carol", ip("192.0.2.1"), t0).unwrap();
        }
        assert!(a.begin_at("carol", ip("192.0.2.1"), t0).is_err());
        // 4 + 5 failures counted against the address (the success was refunded), 11 left.
        for i in 0..11 {
            a.begin_at(&format!("u{i}"), ip("192.0.2.1"), t0).unwrap();
        }
        assert!(a.begin_at("u99", ip("192.0.2.1"), t0).is_err());
        // An attempt that checked nothing does not count.
        let b = Attempts::default();
        for _ in 0..10 {
            b.begin_at("x", ip("192.0.2.1"), t0).unwrap().not_tried();
        }
        assert!(b.begin_at("x", ip("192.0.2.1"), t0).is_ok());
    }

    #[test]
    fn maps_are_bounded() {
        let a = Attempts::default();
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED + 10) {
            let n = u32::try_from(i).unwrap();
            let at = t0 + Duration::from_millis(u64::from(n));
            a.begin_at(
                &format!("u{i}"),
                ClientAddr::new(IpAddr::from(n.to_be_bytes())),
                at,
            )
            .unwrap();
        }
        assert!(a.accounts.map.lock().unwrap().len() <= MAX_TRACKED);
        assert!(a.clients.map.lock().unwrap().len() <= MAX_TRACKED);
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_names_it() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.7, 192.0.2.9"),
        );
        let peer: SocketAddr = "192.0.2.9:4000".parse().unwrap();
        let none = TrustedProxies::new(Vec::new());
        assert_eq!(ClientAddr::of(&none, Some(peer), &headers), ip("192.0.2.9"));
        let proxy = TrustedProxies::new(vec!["192.0.2.0/24".parse().unwrap()]);
        assert_eq!(
            ClientAddr::of(&proxy, Some(peer), &headers),
            ip("198.51.100.7")
        );
        // What the client wrote left of the first untrusted entry does not count.
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.1, 198.51.100.7, 192.0.2.9"),
        );
        assert_eq!(
            ClientAddr::of(&proxy, Some(peer), &headers),
            ip("198.51.100.7")
        );
        let mapped: SocketAddr = "[::ffff:192.0.2.9]:4000".parse().unwrap();
        assert_eq!(
            ClientAddr::of(&none, Some(mapped), &headers),
            ip("192.0.2.9")
        );
    }

    #[test]
    fn the_429_page_says_when_to_come_back() {
        let r = TooMany(Duration::from_millis(1500)).response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = TooMany(Duration::from_millis(10)).response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
