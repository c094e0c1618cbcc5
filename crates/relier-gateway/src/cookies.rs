//! The gateway's cookies: the session cookie (`__Host-relier` on https, `relier_session` on
//! http, `__Secure-relier` with `Domain=` under `cookie_domain`) and the short-lived
//! login-binding cookies (always host-only).

mod domain;

use axum::http::{HeaderMap, HeaderValue, header};

pub use domain::CookieDomain;

use crate::settings::Settings;

/// The value of the first cookie named `name` in the request's `Cookie` headers.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"'))
        })
}

/// Builds a `Set-Cookie` value: `HttpOnly; Path=/; SameSite=…`, plus `Secure` when `secure`.
pub fn set(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    secure: bool,
    same_site: &str,
) -> Option<HeaderValue> {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if secure {
        s.push_str("; Secure");
    }
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&s).ok()
}

/// A `Set-Cookie` that deletes `name`.
pub fn expire(name: &str, secure: bool, same_site: &str) -> Option<HeaderValue> {
    set(name, "", Some(0), secure, same_site)
}

/// The session cookie's `Set-Cookie`: [`set`] with `SameSite=Lax`, plus `Domain=` under
/// `cookie_domain` (RFC 6265bis §4.1.2.3: then every host under the domain is sent it).
pub fn set_session(settings: &Settings, value: &str, max_age: u64) -> Option<HeaderValue> {
    with_domain(
        set(
            settings.cookie_name,
            value,
            Some(max_age),
            settings.secure,
            "Lax",
        )?,
        settings.cookie_domain.as_ref(),
    )
}

/// The `Set-Cookie` that deletes the session cookie (with the same `Domain` it was set with:
/// a browser keys cookies on it, so a host-only deletion would leave the domain cookie).
pub fn expire_session(settings: &Settings) -> Option<HeaderValue> {
    with_domain(
        expire(settings.cookie_name, settings.secure, "Lax")?,
        settings.cookie_domain.as_ref(),
    )
}

fn with_domain(v: HeaderValue, domain: Option<&CookieDomain>) -> Option<HeaderValue> {
    let Some(d) = domain else { return Some(v) };
    let mut bytes = v.as_bytes().to_vec();
    bytes.extend_from_slice(b"; Domain=");
    bytes.extend_from_slice(d.as_str().as_bytes());
    HeaderValue::from_bytes(&bytes).ok()
}

/// Removes the named cookies (and those starting with `prefix`) from the request's `Cookie`
/// headers, so the session id never reaches the upstream application.
pub fn strip(headers: &mut HeaderMap, names: &[&str], prefix: &str) {
    // Per proxied request: the kept pairs are joined as they are found, in one string.
    let mut kept = String::new();
    for pair in headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
    {
        let name = pair.split_once('=').map_or(pair, |(k, _)| k).trim();
        if !pair.is_empty() && !names.contains(&name) && !name.starts_with(prefix) {
            if !kept.is_empty() {
                kept.push_str("; ");
            }
            kept.push_str(pair);
        }
    }
    headers.remove(header::COOKIE);
    if !kept.is_empty()
        && let Ok(v) = HeaderValue::try_from(kept)
    {
        headers.insert(header::COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_strips() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; relier_session=abc"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("relier_login_x=1; b=2"),
        );
        assert_eq!(get(&h, "relier_session"), Some("abc"));
        assert_eq!(get(&h, "b"), Some("2"));
        assert_eq!(get(&h, "c"), None);
        strip(&mut h, &["relier_session"], "relier_login");
        assert_eq!(h.get(header::COOKIE).unwrap(), "a=1; b=2");
        let mut only = HeaderMap::new();
        only.insert(
            header::COOKIE,
            HeaderValue::from_static("relier_session=abc"),
        );
        strip(&mut only, &["relier_session"], "relier_login");
        assert!(only.get(header::COOKIE).is_none());
    }

    #[test]
    fn domain_is_appended() {
        let d = CookieDomain::parse("Example.COM", "auth.example.com").unwrap();
        let v = with_domain(
            set("__Secure-relier", "v", Some(60), true, "Lax").unwrap(),
            Some(&d),
        );
        assert_eq!(
            v.unwrap(),
            "__Secure-relier=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60; Domain=example.com"
        );
    }

    #[test]
    fn set_cookie_attributes() {
        let v = set("__Host-relier", "v", Some(60), true, "Lax").unwrap();
        assert_eq!(
            v,
            "__Host-relier=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60"
        );
    }
}
