//! The client metadata that only a relier gateway's registration carries: recognised by a
//! redirect URI of the gateway's shape, `{public_url}/auth/callback/{name}` (`name` the
//! provider's local name, which the gateway's routes use).

use url::Url;

/// `public_url` (no trailing slash) of the gateway a registration is for: the first redirect
/// URI that is `{public_url}/auth/callback/{name}`, without query or fragment.
fn gateway_base<'a>(name: &str, redirect_uris: &'a [String]) -> Option<&'a str> {
    let tail = format!("/auth/callback/{name}");
    redirect_uris.iter().find_map(|u| {
        let url = Url::parse(u).ok()?;
        if url.query().is_some() || url.fragment().is_some() {
            return None;
        }
        u.strip_suffix(tail.as_str())
    })
}

/// `initiate_login_uri` (OIDC Core §4, OIDC Dynamic Client Registration 1.0 §2): the gateway's
/// `{public_url}/auth/login/{name}`, which takes `iss`, `login_hint` and `target_link_uri`.
/// Registration §2: it "MUST use the https scheme" — so none for an http gateway (loopback
/// tests), which the OP would refuse.
pub(super) fn initiate_login_uri(name: &str, redirect_uris: &[String]) -> Option<String> {
    let base = gateway_base(name, redirect_uris)?;
    base.starts_with("https://")
        .then(|| format!("{base}/auth/login/{name}"))
}

/// `frontchannel_logout_uri` (Front-Channel Logout 1.0 §2): the gateway's
/// `{public_url}/auth/frontchannel-logout/{name}`, which ends the sessions named by the `iss`
/// and `sid` the OP sends — so `frontchannel_logout_session_required` is registered `true`
/// with it. §2: the URL "SHOULD use the https scheme …; however, it MAY use the http scheme,
/// provided that the Client Type is confidential" — so none for an http gateway registered as
/// a public client (`confidential` false).
pub(super) fn frontchannel_logout_uri(
    name: &str,
    redirect_uris: &[String],
    confidential: bool,
) -> Option<String> {
    let base = gateway_base(name, redirect_uris)?;
    (base.starts_with("https://") || (confidential && base.starts_with("http://")))
        .then(|| format!("{base}/auth/frontchannel-logout/{name}"))
}

/// `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3.1): the gateway's
/// `{public_url}/auth/logged-out`, where its logout sends the browser back.
pub(super) fn post_logout_redirect_uri(name: &str, redirect_uris: &[String]) -> Option<String> {
    gateway_base(name, redirect_uris).map(|base| format!("{base}/auth/logged-out"))
}

/// `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2): the gateway's
/// `{public_url}/auth/backchannel-logout/{name}`, which ends the sessions a logout token names
/// by `sid` or `sub` — so `backchannel_logout_session_required` is registered `true` with it.
/// §2.2: https, or http "provided that the Client Type is confidential".
pub(super) fn backchannel_logout_uri(
    name: &str,
    redirect_uris: &[String],
    confidential: bool,
) -> Option<String> {
    let base = gateway_base(name, redirect_uris)?;
    (base.starts_with("https://") || (confidential && base.starts_with("http://")))
        .then(|| format!("{base}/auth/backchannel-logout/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(u: &[&str]) -> Vec<String> {
        u.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn initiate_login_uri_for_a_gateway_registration_only() {
        assert_eq!(
            initiate_login_uri(
                "corp",
                &uris(&[
                    "http://127.0.0.1:8080/cb",
                    "https://app.example/sso/auth/callback/corp"
                ])
            )
            .as_deref(),
            Some("https://app.example/sso/auth/login/corp")
        );
        for not_gateway in [
            &["https://app.example/auth/callback/other"][..],
            &["https://app.example/auth/callback/corp?x=1"],
            &["https://app.example/callback"],
            &["http://127.0.0.1:8080/auth/callback/corp"],
            &[],
        ] {
            assert_eq!(
                initiate_login_uri("corp", &uris(not_gateway)),
                None,
                "{not_gateway:?}"
            );
        }
    }

    #[test]
    fn frontchannel_logout_uri_for_a_gateway_registration_only() {
        let https = uris(&["https://app.example/sso/auth/callback/corp"]);
        let http = uris(&["http://127.0.0.1:8080/auth/callback/corp"]);
        for confidential in [true, false] {
            assert_eq!(
                frontchannel_logout_uri("corp", &https, confidential).as_deref(),
                Some("https://app.example/sso/auth/frontchannel-logout/corp")
            );
        }
        assert_eq!(
            frontchannel_logout_uri("corp", &http, true).as_deref(),
            Some("http://127.0.0.1:8080/auth/frontchannel-logout/corp")
        );
        assert_eq!(frontchannel_logout_uri("corp", &http, false), None);
        for not_gateway in [
            &["https://app.example/auth/callback/other"][..],
            &["https://app.example/callback"],
            &[],
        ] {
            assert_eq!(
                frontchannel_logout_uri("corp", &uris(not_gateway), true),
                None,
                "{not_gateway:?}"
            );
        }
    }

    #[test]
    fn logout_uris_for_a_gateway_registration_only() {
        let https = uris(&["https://app.example/sso/auth/callback/corp"]);
        let http = uris(&["http://127.0.0.1:8080/auth/callback/corp"]);
        assert_eq!(
            post_logout_redirect_uri("corp", &https).as_deref(),
            Some("https://app.example/sso/auth/logged-out")
        );
        assert_eq!(
            post_logout_redirect_uri("corp", &http).as_deref(),
            Some("http://127.0.0.1:8080/auth/logged-out")
        );
        assert_eq!(
            backchannel_logout_uri("corp", &https, false).as_deref(),
            Some("https://app.example/sso/auth/backchannel-logout/corp")
        );
        assert_eq!(
            backchannel_logout_uri("corp", &http, true).as_deref(),
            Some("http://127.0.0.1:8080/auth/backchannel-logout/corp")
        );
        assert_eq!(backchannel_logout_uri("corp", &http, false), None);
        let other = uris(&["https://app.example/callback"]);
        assert_eq!(post_logout_redirect_uri("corp", &other), None);
        assert_eq!(backchannel_logout_uri("corp", &other, true), None);
    }
}
