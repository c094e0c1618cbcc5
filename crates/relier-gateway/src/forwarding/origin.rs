//! The origin (`scheme://host[:port]`) the client used for a request, for DPoP's `htu`
//! (RFC 9449 §4.3 (9): "the HTTP URI value for the HTTP request in which the JWT was
//! received"): from a trusted proxy's `X-Forwarded-Host` (and `X-Forwarded-Proto`, else
//! `public_url`'s scheme) — a forward-auth gateway may guard several hosts — else
//! `public_url`'s. A client's own forwarding headers are never believed.

use std::borrow::Cow;

use axum::http::HeaderMap;
use axum::http::uri::Authority;

/// The request's origin: `base` (`public_url` without a trailing slash) unless `trusted` (the
/// peer is in `trusted_proxies`) and it sent one well-formed `X-Forwarded-Host` (an authority
/// without userinfo) and at most one `X-Forwarded-Proto` of `http` or `https`. A malformed or
/// repeated forwarding header is not believed (the proof is then checked against `base`).
pub fn request_origin<'a>(base: &'a str, trusted: bool, headers: &HeaderMap) -> Cow<'a, str> {
    if !trusted {
        return Cow::Borrowed(base);
    }
    let single = |name: &str| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().ok().map(str::trim),
            _ => None,
        }
    };
    let Some(host) = single("x-forwarded-host")
        .filter(|h| !h.is_empty() && !h.contains('@') && !h.contains(','))
        .filter(|h| Authority::try_from(*h).is_ok())
    else {
        return Cow::Borrowed(base);
    };
    let scheme = match headers.get_all("x-forwarded-proto").iter().count() {
        0 => base.split_once("://").map_or("https", |(s, _)| s),
        _ => match single("x-forwarded-proto") {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            Some(p) if p.eq_ignore_ascii_case("http") => "http",
            _ => return Cow::Borrowed(base),
        },
    };
    Cow::Owned(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use axum::http::HeaderValue;

    const BASE: &str = "https://auth.example.com";

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn a_trusted_proxy_names_the_origin_others_cannot() {
        let fwd = h(&[
            ("x-forwarded-host", "App.Example.com:8443"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            request_origin(BASE, true, &fwd),
            "https://app.example.com:8443"
        );
        assert_eq!(request_origin(BASE, false, &fwd), BASE);
        assert_eq!(request_origin(BASE, true, &HeaderMap::new()), BASE);
        // Without X-Forwarded-Proto: public_url's scheme.
        let host_only = h(&[("x-forwarded-host", "app.example.com")]);
        assert_eq!(
            request_origin("http://127.0.0.1:8088", true, &host_only),
            "http://app.example.com"
        );
    }

    #[test]
    fn malformed_or_repeated_forwarding_headers_are_not_believed() {
        for bad in [
            h(&[("x-forwarded-host", "a.example, b.example")]),
            h(&[
                ("x-forwarded-host", "a.example"),
                ("x-forwarded-host", "b.example"),
            ]),
            h(&[("x-forwarded-host", "user@a.example")]),
            h(&[("x-forwarded-host", "a.example/x")]),
            h(&[("x-forwarded-host", "")]),
            h(&[
                ("x-forwarded-host", "a.example"),
                ("x-forwarded-proto", "ftp"),
            ]),
            h(&[
                ("x-forwarded-host", "a.example"),
                ("x-forwarded-proto", "https, http"),
            ]),
        ] {
            assert_eq!(request_origin(BASE, true, &bad), BASE, "{bad:?}");
        }
    }
}
