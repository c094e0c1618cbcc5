//! `return_to`: only same-origin relative paths, so the gateway is never an open redirect.

use url::Url;

use crate::settings::Settings;

/// Longest `return_to` kept.
pub(crate) const MAX_RETURN_TO: usize = 2048;

/// Returns `return_to` if it is a safe same-origin path, else `/`.
///
/// Accepted: starts with exactly one `/` (not `//`, not `/\`), no backslash anywhere, no
/// control characters or whitespace, none percent-encoded either (`/%09/evil`), no scheme, at
/// most 2 KiB, and — parsed against a dummy origin the way a browser would — still on that
/// origin. The result is the normalized path,
/// query and fragment (percent-encoded as needed, so it is a valid `Location`).
pub fn sanitize_return_to(raw: Option<&str>) -> String {
    raw.and_then(check).unwrap_or_else(|| "/".to_owned())
}

/// `return_to` under the gateway's settings: a same-origin path as [`sanitize_return_to`]
/// accepts, or — with `cookie_domain` — an absolute https URL on a host under that domain
/// ([`crate::cookies::CookieDomain::absolute_target`]); anything else becomes `/`.
pub fn sanitize_for(settings: &Settings, raw: Option<&str>) -> String {
    raw.and_then(|r| {
        check(r).or_else(|| {
            settings
                .cookie_domain
                .as_ref()?
                .absolute_target(r, MAX_RETURN_TO)
        })
    })
    .unwrap_or_else(|| "/".to_owned())
}

/// `return_to` from the raw query of `/auth/login…`: form-decoded as usual, except when the
/// query *starts* with an unencoded `return_to=/…` — then the whole rest of the query is the
/// value as it is, so that `return 302 /auth/login?return_to=$request_uri;` (nginx, which
/// cannot URL-encode) keeps the original query string intact.
pub fn from_query(raw: &str) -> Option<String> {
    if let Some(rest) = raw.strip_prefix("return_to=")
        && rest.starts_with('/')
    {
        return Some(rest.to_owned());
    }
    url::form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
}

/// A third-party-initiated login's `target_link_uri` (OIDC Core §4), checked like `return_to`:
/// a same-origin path, or an absolute URL on `origin` (the gateway's `public_url` origin,
/// `scheme://host[:port]`) reduced to its path and query. `None` for anything else — another
/// origin, another scheme, a path `return_to` would refuse — which the caller refuses (400)
/// rather than sending the user somewhere they did not ask for.
pub fn target_link(raw: &str, origin: &str) -> Option<String> {
    if raw.starts_with('/') {
        return check(raw);
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    if url.origin().ascii_serialization() != origin {
        return None;
    }
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    check(&path)
}

fn check(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > MAX_RETURN_TO {
        return None;
    }
    let mut chars = s.chars();
    if chars.next() != Some('/') {
        return None;
    }
    if matches!(chars.next(), Some('/' | '\\')) {
        return None;
    }
    if s.chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        || encoded_control(s)
    {
        return None;
    }
    let base = Url::parse("https://relier.invalid/").ok()?;
    let joined = base.join(s).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    let mut out = joined.path().to_owned();
    // "/." segments and the like normalize away; a path that becomes "//…" would be
    // network-path relative in a Location header.
    if out.starts_with("//") {
        return None;
    }
    if let Some(q) = joined.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = joined.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// Whether `s` percent-decodes to a control character (`%09`, `%0A`, `%7F`, `%C2%85`, …).
/// WHATWG URL §4.4 strips tab and newline from a URL, so a target decoded once on its way to
/// a `Location` (`/%09/evil.example` → `/\t/evil.example` → `//evil.example`) would leave
/// the origin; no legitimate path needs them.
fn encoded_control(s: &str) -> bool {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut decoded = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%'
            && let [h, l, more @ ..] = tail
            && let (Some(h), Some(l)) = (hex(*h), hex(*l))
        {
            decoded.push(h << 4 | l);
            rest = more;
        } else {
            decoded.push(b);
            rest = tail;
        }
    }
    String::from_utf8_lossy(&decoded)
        .chars()
        .any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_redirect_attempts_fall_back_to_root() {
        for bad in [
            "https://evil.example",
            "http://evil.example/x",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "evil.example",
            "",
            "/\tevil",
            "/\n/evil",
            "/ /evil",
            "/x\u{7f}",
            "/\u{2028}x",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/x%00",
            "/x%7f",
            "/x%C2%85",
        ] {
            assert_eq!(sanitize_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(sanitize_return_to(None), "/");
        assert_eq!(sanitize_return_to(Some(&"/a".repeat(2000))), "/");
    }

    #[test]
    fn raw_and_encoded_query_values() {
        assert_eq!(
            from_query("return_to=/a?b=1&c=2").as_deref(),
            Some("/a?b=1&c=2")
        );
        assert_eq!(
            from_query("return_to=%2Fa%3Fb%3D1%26c%3D2&x=1").as_deref(),
            Some("/a?b=1&c=2")
        );
        assert_eq!(from_query("x=1&return_to=%2Fz").as_deref(), Some("/z"));
        assert_eq!(from_query("x=1").as_deref(), None);
        assert_eq!(
            sanitize_return_to(from_query("return_to=//evil").as_deref()),
            "/"
        );
        assert_eq!(
            sanitize_return_to(from_query("return_to=/\\evil").as_deref()),
            "/"
        );
    }

    #[test]
    fn target_link_uri_on_the_origin_only() {
        let origin = "https://app.example";
        for (input, out) in [
            ("https://app.example/docs?x=1#f", Some("/docs?x=1")),
            ("https://app.example", Some("/")),
            ("https://APP.example:443/a", Some("/a")),
            ("/local?y=2", Some("/local?y=2")),
            ("https://evil.example/docs", None),
            ("http://app.example/docs", None),
            ("https://app.example:8443/docs", None),
            ("https://app.example.evil.example/", None),
            ("//evil.example/x", None),
            ("javascript:alert(1)", None),
            ("https://app.example//evil.example", None),
            ("https://app.example/%09/evil.example", None),
            (" https://app.example/", None),
            ("docs", None),
        ] {
            assert_eq!(target_link(input, origin).as_deref(), out, "{input:?}");
        }
    }

    #[test]
    fn same_origin_paths_are_kept() {
        for (input, out) in [
            ("/", "/"),
            ("/app", "/app"),
            ("/app?x=1&y=2#frag", "/app?x=1&y=2#frag"),
            // percent-encoded slashes stay encoded: a path on this origin
            ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
            ("/%5Cevil", "/%5Cevil"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("/a/../b", "/b"),
            ("/my%20files/%25", "/my%20files/%25"),
            ("/x%2", "/x%2"),
        ] {
            assert_eq!(sanitize_return_to(Some(input)), out, "{input:?}");
        }
        // dot segments cannot climb into a network-path reference
        assert_eq!(sanitize_return_to(Some("/./")), "/");
        assert_eq!(sanitize_return_to(Some("/.//evil")), "/");
    }
}
