//! The SSRF guard of claims sources: a URL relier fetches because a token named it must be
//! https and on a public address — unless the provider's own issuer is on a non-public
//! address of the same class (a test set-up on loopback, an OP on a private network), where
//! that class (and, on loopback, plain http) is allowed too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::types::IssuerUrl;

/// The kind of network an address is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressClass {
    /// Anywhere on the Internet.
    Public,
    /// 127.0.0.0/8, ::1 (and `localhost`).
    Loopback,
    /// RFC 1918, RFC 6598 shared space, RFC 4193 unique local.
    Private,
    /// 169.254.0.0/16 (cloud metadata services live here), fe80::/10.
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation and other reserved ranges: never
    /// fetched.
    Reserved,
}

impl AddressClass {
    fn as_str(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Reserved => "reserved",
        }
    }
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of `ip` (an IPv4-mapped IPv6 address as its IPv4 address).
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments().first().copied().unwrap_or(0);
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        AddressClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || (first == 0x2001 && ip.segments().get(1) == Some(&0x0db8))
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

/// Why a claims source's URL or address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointRefusal {
    /// Not https (http only on loopback, when the issuer is on loopback).
    #[error("{url}: must use https")]
    NotHttps {
        /// The refused endpoint URL.
        url: String,
    },
    /// No host, or user information in the URL.
    #[error("{url}: not a plain https URL with a host")]
    NotPlain {
        /// The refused endpoint URL.
        url: String,
    },
    /// The host is, or resolves to, an address relier does not fetch from.
    #[error(
        "{host}: {class} address {addr} refused (only public addresses, or the issuer's own kind)"
    )]
    Address {
        /// The endpoint's host.
        host: String,
        /// The address the host resolved to (or is).
        addr: IpAddr,
        /// The kind of address it is (loopback, private, …).
        class: AddressClass,
    },
    /// The host resolves to no address.
    #[error("{host}: resolves to no address")]
    Unresolved {
        /// The host that did not resolve.
        host: String,
    },
}

/// What a claims source's URL may point at, given the provider's issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointGuard {
    /// The issuer's own non-public class, allowed besides public addresses.
    also: Option<AddressClass>,
}

impl EndpointGuard {
    /// Public addresses only (and https).
    pub fn public_only() -> Self {
        EndpointGuard { also: None }
    }

    /// For a provider at `issuer`: public addresses, plus the issuer's own class when its
    /// host is a loopback, private or link-local address (or `localhost`).
    pub fn for_issuer(issuer: &IssuerUrl) -> Self {
        let class = Url::parse(issuer.as_str())
            .ok()
            .and_then(|u| host_class(&u))
            .filter(|c| {
                matches!(
                    c,
                    AddressClass::Loopback | AddressClass::Private | AddressClass::LinkLocal
                )
            });
        EndpointGuard { also: class }
    }

    /// The URL's scheme and, for an IP literal or `localhost`, its address. A host name must
    /// still have its resolved addresses checked with [`Self::check_addr`] before connecting.
    ///
    /// # Errors
    /// [`EndpointRefusal::NotHttps`], [`EndpointRefusal::NotPlain`],
    /// [`EndpointRefusal::Address`].
    pub fn check_url(&self, url: &Url) -> Result<(), EndpointRefusal> {
        let host = url.host_str().unwrap_or_default().to_owned();
        if host.is_empty() || !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointRefusal::NotPlain {
                url: url.as_str().to_owned(),
            });
        }
        let class = host_class(url);
        let loopback_http = url.scheme() == "http"
            && class == Some(AddressClass::Loopback)
            && self.also == Some(AddressClass::Loopback);
        if url.scheme() != "https" && !loopback_http {
            return Err(EndpointRefusal::NotHttps {
                url: url.as_str().to_owned(),
            });
        }
        match url.host() {
            Some(Host::Ipv4(ip)) => self.check_addr(&host, IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_addr(&host, IpAddr::V6(ip)),
            _ if class == Some(AddressClass::Loopback) => {
                self.check_addr(&host, IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            _ => Ok(()),
        }
    }

    /// An address `host` resolved to (every one must pass, and the connection must go to
    /// the checked ones).
    ///
    /// # Errors
    /// [`EndpointRefusal::Address`].
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), EndpointRefusal> {
        let class = classify(addr);
        if class == AddressClass::Public || Some(class) == self.also {
            return Ok(());
        }
        Err(EndpointRefusal::Address {
            host: host.to_owned(),
            addr,
            class,
        })
    }
}

/// The class of a URL's host when it is an IP literal or `localhost`.
fn host_class(url: &Url) -> Option<AddressClass> {
    match url.host()? {
        Host::Ipv4(ip) => Some(classify(IpAddr::V4(ip))),
        Host::Ipv6(ip) => Some(classify(IpAddr::V6(ip))),
        Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            (d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost"))
                .then_some(AddressClass::Loopback)
        }
    }
}
