//! The gateway's cookies: the session cookie (`__Host-relier` on https, `relier_session` on
//! http) and the short-lived login-binding cookies.

use axum::http::{HeaderMap, HeaderValue, header};

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
    fn set_cookie_attributes() {
        let v = set("__Host-relier", "v", Some(60), true, "Lax").unwrap();
        assert_eq!(
            v,
            "__Host-relier=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60"
        );
    }
}
