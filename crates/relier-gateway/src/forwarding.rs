//! Who the client is, and what the application behind the gateway is told about the request's
//! route: one algorithm for the login rate limit and for the reverse proxy's forwarding headers.
//!
//! The TCP peer is the client unless it is a trusted proxy (`trusted_proxies`, addresses or
//! CIDR blocks). From a trusted peer, `X-Forwarded-For` (or, without it, the `for=` of RFC 7239
//! `Forwarded`) is read from the right: every entry is the address the hop to its right saw;
//! entries added by trusted proxies are skipped and the first untrusted one is the client. What
//! stands left of it was written by the client itself and is dropped (the right-most-untrusted
//! rule; RFC 7239 §5.2, RFC 7239 §8.1 on why client-supplied values are not to be believed).

mod origin;

pub use origin::request_origin;

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use serde::{Deserialize, Deserializer};

/// Request headers about the route of a request: never taken from the client, always written by
/// the gateway in proxy mode.
pub static FORWARDING_HEADERS: [HeaderName; 8] = [
    header::FORWARDED,
    X_FORWARDED_FOR,
    X_FORWARDED_HOST,
    X_FORWARDED_PROTO,
    X_FORWARDED_PORT,
    HeaderName::from_static("x-forwarded-prefix"),
    HeaderName::from_static("x-forwarded-server"),
    X_REAL_IP,
];

// Named once: a name given as `&str` would be parsed again on every proxied request.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Most `X-Forwarded-For` entries read; a longer chain is cut from the left (those entries
/// would be client-written anyway unless every hop is trusted).
const MAX_HOPS: usize = 32;

/// An address block: `192.0.2.0/24`, `2001:db8::/32` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// A `trusted_proxies` entry that is neither an address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)")]
pub struct CidrError {
    input: String,
}

impl Cidr {
    /// Whether `ip` is in the block (IPv4-mapped IPv6 compared as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8) -> bool {
    match u32::from(prefix) {
        0 => true,
        p if p >= 128 => a == b,
        p => (a ^ b) >> (128 - p) == 0,
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CidrError {
            input: s.to_owned(),
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl From<IpAddr> for Cidr {
    fn from(ip: IpAddr) -> Self {
        let addr = canonical(ip);
        Cidr {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// From the configured blocks.
    pub fn new(blocks: Vec<Cidr>) -> Self {
        TrustedProxies(blocks)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client of a request that reached the gateway from `peer`, and the hops between.
    pub fn route(&self, peer: IpAddr, headers: &HeaderMap) -> Route {
        let peer = canonical(peer);
        let mut hops = vec![peer];
        if !self.contains(peer) {
            return Route { hops };
        }
        let claimed = forwarded_for(headers);
        for entry in claimed.iter().rev() {
            let Some(ip) = entry.map(canonical) else {
                // Unreadable: neither it nor anything left of it is believed; the hop to its
                // right (a trusted proxy) is the client as far as the gateway can tell.
                break;
            };
            hops.push(ip);
            if !self.contains(ip) {
                break;
            }
        }
        hops.reverse();
        Route { hops }
    }
}

/// The path of a request: the client first, the gateway's TCP peer last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    hops: Vec<IpAddr>,
}

impl Route {
    /// The client's address (right-most untrusted).
    pub fn client(&self) -> IpAddr {
        self.hops
            .first()
            .copied()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// `X-Forwarded-For` as the gateway passes it on: the client, then each trusted hop, then
    /// the gateway's peer.
    pub fn x_forwarded_for(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(16 * self.hops.len());
        for (i, hop) in self.hops.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{hop}");
        }
        out
    }
}

/// The route of a request with an optional peer (no peer: unspecified address).
pub fn route(trusted: &TrustedProxies, peer: Option<SocketAddr>, headers: &HeaderMap) -> Route {
    match peer {
        Some(p) => trusted.route(p.ip(), headers),
        None => Route {
            hops: vec![IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)],
        },
    }
}

/// The claimed hops, left to right: every `X-Forwarded-For` line in order, else the `for=` of
/// every `Forwarded` element. `None` for an entry that is not an address (`unknown`, an
/// obfuscated identifier, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut out: Vec<Option<IpAddr>> = Vec::new();
    let xff = headers.get_all(X_FORWARDED_FOR);
    if xff.iter().next().is_some() {
        for line in xff {
            let Ok(line) = line.to_str() else {
                out.push(None);
                continue;
            };
            out.extend(line.split(',').map(|e| parse_node(e.trim())));
        }
    } else {
        for line in headers.get_all(header::FORWARDED) {
            let Ok(line) = line.to_str() else {
                out.push(None);
                continue;
            };
            for element in line.split(',') {
                let node = element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
                });
                out.push(node.and_then(parse_node));
            }
        }
    }
    let skip = out.len().saturating_sub(MAX_HOPS);
    out.drain(..skip);
    out
}

/// A node: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`, `[2001:db8::1]:80`, optionally quoted
/// (RFC 7239 §6).
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|v6| v6.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, from a dual-stack socket) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// What the gateway tells the upstream about the request's route, from its own knowledge:
/// the public URL's host, scheme and port, and the client address by [`TrustedProxies::route`].
#[derive(Debug, Clone)]
pub struct PublicOrigin {
    host: HeaderValue,
    proto: &'static str,
    port: HeaderValue,
}

impl PublicOrigin {
    /// From `public_url`.
    pub fn new(public_url: &url::Url) -> Option<Self> {
        Self::with_host(public_url, public_url.host_str()?)
    }

    /// From `public_url`, for another host it answers (an `[[upstream]]` route's `host`): that
    /// host with `public_url`'s scheme and port.
    pub fn with_host(public_url: &url::Url, host: &str) -> Option<Self> {
        let host = match public_url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let proto = if public_url.scheme() == "https" {
            "https"
        } else {
            "http"
        };
        let port = public_url.port_or_known_default()?;
        Some(PublicOrigin {
            host: HeaderValue::from_str(&host).ok()?,
            proto,
            port: HeaderValue::from(port),
        })
    }

    /// Removes every forwarding header the client sent and writes the gateway's own.
    pub fn rewrite(&self, headers: &mut HeaderMap, route: &Route) {
        for name in &FORWARDING_HEADERS {
            headers.remove(name);
        }
        // Per proxied request: each value is written once, without `format!`.
        let client = route.client();
        let ip = client.to_string();
        let host = self.host.to_str().unwrap_or_default();
        let mut forwarded = String::with_capacity(32 + ip.len() + host.len());
        forwarded.push_str("for=");
        match client {
            IpAddr::V4(_) => forwarded.push_str(&ip),
            // RFC 7239 §6: an IPv6 node is bracketed and quoted.
            IpAddr::V6(_) => {
                forwarded.push_str("\"[");
                forwarded.push_str(&ip);
                forwarded.push_str("]\"");
            }
        }
        forwarded.push_str(";host=\"");
        forwarded.push_str(host);
        forwarded.push_str("\";proto=");
        forwarded.push_str(self.proto);
        if let Ok(v) = HeaderValue::try_from(forwarded) {
            headers.insert(header::FORWARDED, v);
        }
        if let Ok(v) = HeaderValue::try_from(route.x_forwarded_for()) {
            headers.insert(X_FORWARDED_FOR, v);
        }
        if let Ok(v) = HeaderValue::try_from(ip) {
            headers.insert(X_REAL_IP, v);
        }
        headers.insert(X_FORWARDED_HOST, self.host.clone());
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(self.proto));
        headers.insert(X_FORWARDED_PORT, self.port.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", l.parse().unwrap());
        }
        h
    }

    #[test]
    fn cidr_blocks() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped");
        let c: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c.contains(ip("2001:db8:ffff::1")));
        assert!(!c.contains(ip("2001:db9::1")));
        assert!(!c.contains(ip("10.0.0.1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let t = trusted(&["127.0.0.1"]);
        let h = xff(&["203.0.113.9"]);
        let r = t.route(ip("192.0.2.1"), &h);
        assert_eq!(r.client(), ip("192.0.2.1"));
        assert_eq!(r.x_forwarded_for(), "192.0.2.1");
    }

    #[test]
    fn right_most_untrusted_behind_trusted_hops() {
        let t = trusted(&["127.0.0.1", "10.0.0.0/8"]);
        // The client forged "1.1.1.1"; the trusted edge proxy (10.0.0.2) appended what it saw
        // (198.51.100.7), the next trusted proxy (10.0.0.3) appended 10.0.0.2.
        let h = xff(&["1.1.1.1, 198.51.100.7", "10.0.0.2"]);
        let r = t.route(ip("10.0.0.3"), &h);
        assert_eq!(r.client(), ip("198.51.100.7"));
        assert_eq!(r.x_forwarded_for(), "198.51.100.7, 10.0.0.2, 10.0.0.3");
        // Rotating the forged part changes nothing.
        let h2 = xff(&["9.9.9.9, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(t.route(ip("10.0.0.3"), &h2), r);
    }

    #[test]
    fn garbage_and_missing_headers() {
        let t = trusted(&["127.0.0.1"]);
        let r = t.route(ip("127.0.0.1"), &xff(&["not-an-ip"]));
        assert_eq!(r.client(), ip("127.0.0.1"));
        let r = t.route(ip("127.0.0.1"), &HeaderMap::new());
        assert_eq!(r.client(), ip("127.0.0.1"));
        let r = t.route(ip("::ffff:127.0.0.1"), &xff(&["[2001:db8::5]:443"]));
        assert_eq!(r.client(), ip("2001:db8::5"));
    }

    #[test]
    fn rfc7239_forwarded_when_there_is_no_x_forwarded_for() {
        let t = trusted(&["127.0.0.1"]);
        let mut h = HeaderMap::new();
        h.insert(
            header::FORWARDED,
            "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\";by=203.0.113.43"
                .parse()
                .unwrap(),
        );
        let r = t.route(ip("127.0.0.1"), &h);
        assert_eq!(r.client(), ip("2001:db8:cafe::17"));
        h.insert(header::FORWARDED, "for=unknown".parse().unwrap());
        assert_eq!(t.route(ip("127.0.0.1"), &h).client(), ip("127.0.0.1"));
    }

    #[test]
    fn the_gateway_writes_every_forwarding_header() {
        let origin =
            PublicOrigin::new(&url::Url::parse("https://app.example.com").unwrap()).unwrap();
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("forwarded", "for=1.2.3.4;host=evil"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-port", "1"),
            ("x-forwarded-prefix", "/admin"),
            ("x-real-ip", "1.2.3.4"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        let route = trusted(&[]).route(ip("2001:db8::9"), &h);
        origin.rewrite(&mut h, &route);
        assert_eq!(
            h["forwarded"],
            "for=\"[2001:db8::9]\";host=\"app.example.com\";proto=https"
        );
        assert_eq!(h["x-forwarded-for"], "2001:db8::9");
        assert_eq!(h["x-real-ip"], "2001:db8::9");
        assert_eq!(h["x-forwarded-host"], "app.example.com");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-port"], "443");
        assert!(h.get("x-forwarded-prefix").is_none());
    }
}
