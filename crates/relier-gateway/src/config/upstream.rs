//! `[upstream]` (one application behind the gateway) and `[[upstream]]` (several, routed by
//! `Host` and path prefix).

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::AccessRule;

/// `upstream` in the file: one `[upstream]` table or an array of `[[upstream]]` routes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Upstreams {
    /// `[upstream]`: every proxied request goes to its `url` (without one, forward-auth mode).
    Single(UpstreamConfig),
    /// `[[upstream]]`: each request goes to the route its `Host` and path select, or gets 404.
    Routes(Vec<UpstreamRoute>),
}

impl Upstreams {
    /// `[upstream]`, when that is the form used.
    pub fn single(&self) -> Option<&UpstreamConfig> {
        match self {
            Upstreams::Single(u) => Some(u),
            Upstreams::Routes(_) => None,
        }
    }

    /// Whether the upstream of any request gets the user's access token.
    pub fn any_pass_access_token(&self) -> bool {
        match self {
            Upstreams::Single(u) => u.pass_access_token,
            Upstreams::Routes(r) => r.iter().any(|r| r.pass_access_token),
        }
    }
}

impl<'de> Deserialize<'de> for Upstreams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = Upstreams;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an [upstream] table or [[upstream]] routes")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Upstreams, A::Error> {
                UpstreamConfig::deserialize(MapAccessDeserializer::new(map)).map(Upstreams::Single)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Upstreams, A::Error> {
                Vec::<UpstreamRoute>::deserialize(SeqAccessDeserializer::new(seq))
                    .map(Upstreams::Routes)
            }
        }
        d.deserialize_any(Either)
    }
}

/// `[upstream]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Base URL of the application, e.g. `http://127.0.0.1:3000`: the gateway is then a
    /// reverse proxy. Without it (forward-auth mode) `[upstream]` only holds
    /// `pass_access_token`, for `/auth/check`'s answers.
    #[serde(default)]
    pub url: Option<String>,
    /// The upstream gets the user's access token (`Authorization: Bearer`, or DPoP with a
    /// proof; the provider's `exchange_audience` exchanges it first); the client's own
    /// `Authorization` header never reaches it.
    #[serde(default)]
    pub pass_access_token: bool,
    /// Send the browser's `Host` instead of the upstream's (default false).
    #[serde(default)]
    pub preserve_host: bool,
    /// Origins, besides `public_url`'s, from which a WebSocket handshake is accepted
    /// (cross-site WebSocket hijacking: a browser sends the session cookie with any site's
    /// handshake, and `Origin` is the only sign of where it came from).
    #[serde(default)]
    pub websocket_origins: Vec<String>,
}

/// One `[[upstream]]` route: the requests whose `Host` is `host` (any host without it) and
/// whose path is under `path` (any path without it) go to `url`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamRoute {
    /// Host name (or IP literal) the request's `Host` / `:authority` must name, compared
    /// case-insensitively, its port ignored.
    #[serde(default)]
    pub host: Option<String>,
    /// Path prefix, matched segment by segment like `[[access]]` prefixes (`/grafana` and
    /// `/grafana/` are the same prefix, and neither matches `/grafanaX`).
    #[serde(default)]
    pub path: Option<String>,
    /// Remove `path` from the path the upstream gets (`/grafana/d/x` → `/d/x`).
    #[serde(default)]
    pub strip_prefix: bool,
    /// Base URL of the application (http or https).
    pub url: String,
    /// Send the browser's `Host` instead of the upstream's (default false).
    #[serde(default)]
    pub preserve_host: bool,
    /// This route's upstream gets the user's access token (as `[upstream]`'s).
    #[serde(default)]
    pub pass_access_token: bool,
    /// Origins, besides `public_url`'s, from which a WebSocket handshake on this route is
    /// accepted.
    #[serde(default)]
    pub websocket_origins: Vec<String>,
    /// Path prefixes of this route answered without a session (absolute request paths, under
    /// `path`), besides the top-level `skip_auth`.
    #[serde(default)]
    pub skip_auth: Vec<String>,
    /// `[[upstream.access]]`: this route's access rules (absolute request paths, under
    /// `path`), besides the top-level `[[access]]`.
    #[serde(default)]
    pub access: Vec<AccessRule>,
}

/// Whether `text` has both an `[upstream]` table and `[[upstream]]` routes (which TOML
/// itself refuses with a message about duplicate keys).
pub(crate) fn both_forms(text: &str) -> bool {
    let header = |l: &str, open: &str, close: &str| {
        l.trim()
            .strip_prefix(open)
            .and_then(|r| r.split('#').next())
            .and_then(|r| r.trim_end().strip_suffix(close))
            .is_some_and(|name| name.trim() == "upstream")
    };
    text.lines().any(|l| header(l, "[[", "]]"))
        && text
            .lines()
            .any(|l| !l.trim().starts_with("[[") && header(l, "[", "]"))
}

/// The message for a file with both forms.
pub(crate) const BOTH_FORMS: &str = "both [upstream] and [[upstream]]: use either one [upstream] \
     table (every request to one application) or [[upstream]] routes (by host and path), not both";
