//! Which upstream a proxied request goes to: the one `[upstream]`, or the `[[upstream]]` route
//! its `Host` and path select.
//!
//! A route with `host` takes only requests whose `Host` (HTTP/1.1) or `:authority` (HTTP/2)
//! names that host — compared case-insensitively, a trailing `.` and the port ignored; a route
//! without `host` takes any host. Routes whose host matches come first; among them, and then
//! among the routes without `host`, the longest `path` prefix that holds wins (no `path`: `/`).
//! A request no route takes gets 404 without reaching any upstream.
//!
//! The choice is made as the path rules are ([`crate::paths`]): on every reading an upstream
//! may make of the path (case, trailing dots, `%2F`, `;` parameters, `//`). A request whose
//! readings would go to different routes (`/grafana%2fx`, `/grafana;x/y` beside a `/` route)
//! is refused (400 `ambiguous_route`): a decision that holds for one reading only is no
//! decision. So is a request whose host cannot be told (RFC 9112 §3.2: several `Host` fields,
//! or an absolute-form target naming another host than `Host`; 400 `ambiguous_host`).
//!
//! `strip_prefix` removes the route's segments from the path the upstream gets; every reading
//! of the request is under the prefix (else another route, or none, would have been chosen for
//! one of them), and the literal segments removed are the prefix's own, so what is left is the
//! rest of the same path — it cannot climb out of the route.

use axum::http::{HeaderMap, Uri, header};

use crate::access::{PathRules, Prefix};
use crate::config::{Config, UpstreamRoute, Upstreams};
use crate::error::GatewayError;
use crate::forwarding::PublicOrigin;
use crate::paths;
use crate::settings::{self, Settings};

use super::{Proxy, Target, UpstreamClient};

/// One route: where it applies, its path rules, its upstream.
#[derive(Debug)]
pub struct Route {
    /// Lower case, without a trailing dot.
    host: Option<String>,
    /// `None`: every path.
    prefix: Option<Prefix>,
    /// The top-level `skip_auth` and `[[access]]` with the route's own.
    pub rules: PathRules,
    /// The upstream.
    pub proxy: Proxy,
    /// The route's host when it is another host than `public_url`'s under `cookie_domain`:
    /// a login asked for here returns to `https://{host}{path}`.
    pub login_host: Option<String>,
}

/// The routes of proxy mode.
#[derive(Debug)]
pub struct Routes {
    routes: Vec<Route>,
    /// Some route has a `host`: the request's host is needed.
    by_host: bool,
}

/// Where a request goes.
#[derive(Debug)]
pub enum Choice<'a> {
    /// This route.
    Route(&'a Route),
    /// No route takes it: 404.
    NotFound,
    /// Its readings go to different routes: 400 `ambiguous_route`.
    AmbiguousRoute,
    /// Its host cannot be told: 400 `ambiguous_host`.
    AmbiguousHost,
}

impl Routes {
    /// From `[upstream]` (with `url`) or `[[upstream]]`; `None` in forward-auth mode.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the route and key.
    pub fn from_config(
        config: &Config,
        settings: &Settings,
    ) -> Result<Option<Routes>, GatewayError> {
        let routes = match &config.upstream {
            Some(Upstreams::Single(u)) if u.url.is_some() => {
                let route = Route {
                    host: None,
                    prefix: None,
                    rules: settings.path_rules.clone(),
                    proxy: Proxy::single(u, settings, &super::client()?)?,
                    login_host: None,
                };
                vec![route]
            }
            Some(Upstreams::Routes(list)) => {
                if list.is_empty() {
                    return Err(GatewayError::config("upstream: no routes"));
                }
                let client = super::client()?;
                let mut routes: Vec<Route> = Vec::with_capacity(list.len());
                for (i, cfg) in list.iter().enumerate() {
                    let route = route(i, cfg, settings, &client)?;
                    if routes
                        .iter()
                        .any(|r| r.host == route.host && r.prefix == route.prefix)
                    {
                        return Err(GatewayError::config(format!(
                            "upstream[{i}]: another route has the same host ({}) and path ({})",
                            cfg.host.as_deref().unwrap_or("any"),
                            cfg.path.as_deref().unwrap_or("/")
                        )));
                    }
                    routes.push(route);
                }
                routes
            }
            _ => return Ok(None),
        };
        let by_host = routes.iter().any(|r| r.host.is_some());
        Ok(Some(Routes { routes, by_host }))
    }

    /// The route for a request with this URI and headers (`lenient`:
    /// `allow_non_canonical_paths`).
    pub fn choose(&self, uri: &Uri, headers: &HeaderMap, lenient: bool) -> Choice<'_> {
        if let [only] = self.routes.as_slice()
            && only.host.is_none()
            && only.prefix.is_none()
        {
            return Choice::Route(only);
        }
        let host = if self.by_host {
            match request_host(uri, headers) {
                Ok(h) => h,
                Err(()) => return Choice::AmbiguousHost,
            }
        } else {
            None
        };
        let path = uri.path();
        let lenient = lenient || paths::check_canonical(path).is_err();
        let mut picked = None;
        for reading in paths::readings(path, lenient) {
            let this = self.pick(host.as_deref(), &reading);
            match picked {
                None => picked = Some(this),
                Some(before) if before != this => return Choice::AmbiguousRoute,
                Some(_) => {}
            }
        }
        match picked.flatten().and_then(|i| self.routes.get(i)) {
            Some(route) => Choice::Route(route),
            None => Choice::NotFound,
        }
    }

    /// The route for one reading: host matches first, then the longest prefix.
    fn pick(&self, host: Option<&str>, segments: &[String]) -> Option<usize> {
        let mut best: Option<((bool, usize), usize)> = None;
        for (i, r) in self.routes.iter().enumerate() {
            let by_host = match &r.host {
                Some(h) if Some(h.as_str()) == host => true,
                Some(_) => continue,
                None => false,
            };
            let len = match &r.prefix {
                Some(p) if p.matches(segments) => p.len(),
                Some(_) => continue,
                None => 0,
            };
            if best.is_none_or(|(key, _)| (by_host, len) > key) {
                best = Some(((by_host, len), i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// `[[upstream]]` entry `i`, checked.
fn route(
    i: usize,
    cfg: &UpstreamRoute,
    settings: &Settings,
    client: &UpstreamClient,
) -> Result<Route, GatewayError> {
    let key = format!("upstream[{i}]");
    let bad = |m: String| GatewayError::config(format!("{key}: {m}"));
    let host = cfg
        .host
        .as_deref()
        .map(route_host)
        .transpose()
        .map_err(bad)?;
    let prefix = match cfg.path.as_deref() {
        Some(p) if p.contains(['%', ';']) => {
            return Err(bad(format!(
                "path {p:?}: percent-escapes and ';' are not allowed in a route's path"
            )));
        }
        Some(p) => Some(settings::prefix(&format!("{key}.path"), p)?).filter(|p| !p.is_empty()),
        None => None,
    };
    if cfg.strip_prefix && prefix.is_none() {
        return Err(bad("strip_prefix needs a path other than /".into()));
    }
    let mut rules = settings.path_rules.clone();
    let under = |p: &Prefix, what: &str, raw: &str| match &prefix {
        Some(outer) if !p.within(outer) => Err(bad(format!(
            "{what} {raw:?} is not under the route's path {:?} (route rules name absolute \
             request paths)",
            cfg.path.as_deref().unwrap_or("/")
        ))),
        _ => Ok(()),
    };
    for raw in &cfg.skip_auth {
        let p = settings::prefix(&format!("{key}.skip_auth"), raw)?;
        under(&p, "skip_auth", raw)?;
        rules.skip.push(p);
    }
    for rule in &cfg.access {
        let (p, policy) = settings::access_rule(&format!("{key}.access"), rule)?;
        under(&p, "access.path", &rule.path)?;
        rules.rules.push((p, policy));
    }
    let public_origin = match &host {
        Some(h) => PublicOrigin::with_host(&settings.public_url, h),
        None => Some(settings.public_origin.clone()),
    }
    .ok_or_else(|| bad(format!("host {:?}: not a header value", cfg.host)))?;
    let target = Target {
        key: &format!("{key}.url"),
        url: &cfg.url,
        preserve_host: cfg.preserve_host,
        strip: if cfg.strip_prefix {
            prefix.as_ref().map_or(0, Prefix::len)
        } else {
            0
        },
        websocket_origins: settings::websocket_origins(
            &format!("{key}.websocket_origins"),
            &cfg.websocket_origins,
            &settings.origin,
        )?,
        public_origin,
        pass_access_token: cfg.pass_access_token,
    };
    let login_host = host.clone().filter(|h| cross_host(settings, h));
    Ok(Route {
        host,
        prefix,
        rules,
        proxy: Proxy::new(target, client)?,
        login_host,
    })
}

/// Whether a route's host is another than `public_url`'s and the session cookie reaches it
/// (`cookie_domain`); warned about when it does not.
fn cross_host(settings: &Settings, host: &str) -> bool {
    if settings
        .public_url
        .host_str()
        .is_some_and(|h| normal_host(h) == host)
    {
        return false;
    }
    let covered = settings
        .cookie_domain
        .as_ref()
        .is_some_and(|d| d.covers(host));
    if !covered {
        tracing::warn!(
            host,
            "an [[upstream]] route's host is not public_url's host and not under cookie_domain: \
             browsers will not send the session cookie there"
        );
    }
    covered
}

/// A route's `host`: a DNS name or IP literal, without port, lower-cased.
fn route_host(raw: &str) -> Result<String, String> {
    let host = normal_host(raw);
    let ipv6 = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok());
    let name = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.contains("..");
    if ipv6 || name {
        Ok(host)
    } else {
        Err(format!(
            "host {raw:?} must be a host name (IDNs in their xn-- form) or an IP address, without \
             port or wildcard"
        ))
    }
}

/// Lower case, one trailing dot dropped (`Example.COM.` → `example.com`).
fn normal_host(h: &str) -> String {
    h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase()
}

/// The host a request names, without port: the absolute-form target's or `:authority`
/// (RFC 9112 §3.2.2, RFC 9113 §8.3.1) and the `Host` field must agree; several `Host` fields
/// are refused (RFC 9112 §3.2). `Ok(None)` when it names none.
fn request_host(uri: &Uri, headers: &HeaderMap) -> Result<Option<String>, ()> {
    let mut fields = headers.get_all(header::HOST).iter();
    let field = match (fields.next(), fields.next()) {
        (Some(v), None) => Some(v.to_str().map_err(|_| ())?),
        (None, _) => None,
        (Some(_), Some(_)) => return Err(()),
    };
    let from_field = field.map(host_of).transpose()?;
    let from_uri = uri.authority().map(|a| a.host()).map(normal_host);
    match (from_uri, from_field) {
        (Some(a), Some(b)) if a != b => Err(()),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

/// The host of a `Host` value (`name`, `name:port`, `[v6]:port`), normalised.
fn host_of(value: &str) -> Result<String, ()> {
    let authority: axum::http::uri::Authority = value.trim().parse().map_err(|_| ())?;
    if authority.as_str().contains('@') {
        return Err(());
    }
    Ok(normal_host(authority.host()))
}

/// `path` without its first `n` segments (`/a/b/c`, 1 → `/b/c`; `/a`, 1 → `/`), cut at its
/// literal `/` separators; `None` if it has fewer.
pub fn strip_segments(path: &str, n: usize) -> Option<&str> {
    if n == 0 {
        return Some(path);
    }
    let mut rest = path.strip_prefix('/')?;
    for _ in 1..n {
        let at = rest.find('/')?;
        rest = rest.get(at + 1..)?;
    }
    Some(rest.find('/').and_then(|at| rest.get(at..)).unwrap_or("/"))
}

#[cfg(test)]
mod tests;
