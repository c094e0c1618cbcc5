//! Server-rendered pages: no JavaScript, every dynamic value HTML-escaped, accessible (lang,
//! landmarks, visible focus), themable with `theme_css` (served at `/auth/assets/theme.css`
//! after the built-in sheet at `/auth/assets/relier.css`).

mod brands;
mod ftn;

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use brands::{BRAND_CSS, Brand};
pub use ftn::logo_origins;

/// The built-in style sheet (served with [`BRAND_CSS`] after it).
pub const BASE_CSS: &str = r#":root{color-scheme:light dark;--relier-accent:#2457d6;--relier-bg:#f5f6f8;--relier-card:#fff;--relier-fg:#1b1d21;--relier-muted:#5b6170;--relier-border:#d5d9e0}
@media (prefers-color-scheme:dark){:root{--relier-bg:#15171b;--relier-card:#1f2228;--relier-fg:#eceef2;--relier-muted:#a4aab6;--relier-border:#3a3f48;--relier-accent:#7aa2ff}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--relier-bg);color:var(--relier-fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:26rem;margin:1rem;padding:2rem;background:var(--relier-card);border:1px solid var(--relier-border);border-radius:12px}
h1{font-size:1.4rem;margin:0 0 1rem}
p{margin:0 0 1rem;color:var(--relier-muted)}
ul.relier-providers{list-style:none;margin:0;padding:0;display:grid;gap:.75rem}
a.relier-button,button.relier-button{display:block;width:100%;padding:.75rem 1rem;border:1px solid var(--relier-border);border-radius:8px;background:var(--relier-card);color:var(--relier-fg);font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
a.relier-button:hover,button.relier-button:hover{border-color:var(--relier-accent)}
span.relier-unavailable{display:block;padding:.75rem 1rem;border:1px dashed var(--relier-border);border-radius:8px;text-align:center;opacity:.6;cursor:not-allowed}
a:focus-visible,button:focus-visible{outline:3px solid var(--relier-accent);outline-offset:2px}
a{color:var(--relier-accent)}
.relier-ref{font-size:.85rem;font-family:ui-monospace,monospace}
a.relier-idp{display:flex;align-items:center;gap:.75rem;text-align:left}
a.relier-idp img{flex:none;border-radius:4px}
"#;

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{}</title>\n\
         <link rel=\"stylesheet\" href=\"/auth/assets/relier.css\">\n\
         <link rel=\"stylesheet\" href=\"/auth/assets/theme.css\">\n</head>\n<body>\n\
         <main aria-labelledby=\"relier-title\">\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// One button of the login page.
#[derive(Debug, Clone)]
pub struct Choice<'a> {
    /// Provider name (URL path segment).
    pub name: &'a str,
    /// Text shown.
    pub display_name: &'a str,
    /// A preset's branded button ("Sign in with Apple" and the logo) instead of "Continue
    /// with {display_name}".
    pub brand: Option<Brand>,
    /// False while the provider's OP has not been reached: the button is shown disabled and
    /// says the provider is unavailable.
    pub ready: bool,
    /// A `preset = "ftn"` provider's embedded chooser (its identity providers and texts)
    /// instead of one button.
    pub embedded: Option<&'a relier_core::ftn::EmbeddedUi>,
}

/// The login page: one link per provider, each carrying `return_to`.
pub fn chooser(title: &str, choices: &[Choice<'_>], return_to: &str) -> String {
    let mut body = format!("<h1 id=\"relier-title\">{}</h1>\n", escape(title));
    if choices.is_empty() {
        body.push_str("<p>No sign-in provider is configured.</p>\n");
        return page(title, &body);
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to)
        .finish();
    body.push_str("<ul class=\"relier-providers\">\n");
    for c in choices {
        if !c.ready {
            let _ = writeln!(
                body,
                "<li><span class=\"relier-button relier-unavailable\" aria-disabled=\"true\">{} (unavailable)</span></li>",
                escape(&c.brand.map_or_else(
                    || format!("Continue with {}", c.display_name),
                    |b| b.label().to_owned()
                ))
            );
            continue;
        }
        if let Some(ui) = c.embedded {
            ftn::section(&mut body, &encode_segment(c.name), &query, ui);
            continue;
        }
        let href = escape(&format!("/auth/login/{}?{query}", encode_segment(c.name)));
        let _ = match c.brand {
            Some(b) => writeln!(
                body,
                "<li><a class=\"relier-button relier-brand {}\" href=\"{href}\">{}<span>{}</span></a></li>",
                b.class(),
                b.logo(),
                b.label()
            ),
            None => writeln!(
                body,
                "<li><a class=\"relier-button\" href=\"{href}\">Continue with {}</a></li>",
                escape(c.display_name)
            ),
        };
    }
    body.push_str("</ul>\n");
    page(title, &body)
}

fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An error page with its correlation id.
pub fn error_page(title: &str, message: &str, correlation_id: &str) -> String {
    let body = format!(
        "<h1 id=\"relier-title\">{}</h1>\n<p>{}</p>\n\
         <p class=\"relier-ref\">Reference: <span>{}</span></p>\n\
         <p><a href=\"/auth/login\">Back to sign-in</a></p>\n",
        escape(title),
        escape(message),
        escape(correlation_id)
    );
    page(title, &body)
}

/// After logout.
pub fn logged_out() -> String {
    page(
        "Signed out",
        "<h1 id=\"relier-title\">You are signed out</h1>\n\
         <p>You can close this window.</p>\n\
         <p><a class=\"relier-button\" href=\"/auth/login\">Sign in again</a></p>\n",
    )
}

/// `GET /auth/logout`: a confirmation form (POST with the session's CSRF token).
pub fn logout_confirm(csrf_token: &str) -> String {
    let body = format!(
        "<h1 id=\"relier-title\">Sign out?</h1>\n\
         <form method=\"post\" action=\"/auth/logout\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\n\
         <button class=\"relier-button\" type=\"submit\">Sign out</button>\n</form>\n",
        escape(csrf_token)
    );
    page("Sign out", &body)
}

/// An HTML response with the security headers every gateway page carries.
pub fn page_response(status: StatusCode, html: &str) -> Response {
    html_response(
        status,
        html.to_owned(),
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
    )
}

/// [`page_response`] that may also show images from `origins` (the embedded chooser's
/// logos; ASCII-serialised origins).
pub fn page_response_with_images(status: StatusCode, html: &str, origins: &[String]) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data: {}; base-uri 'none'; frame-ancestors 'none'",
        origins.join(" ")
    );
    let Ok(csp) = HeaderValue::from_str(&csp) else {
        return page_response(status, html);
    };
    let mut resp = secured(status, html.to_owned(), csp);
    resp.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// An uncached HTML page under the Content-Security-Policy `csp`, not framable, no
/// MIME sniffing, no referrer (the gateway's pages and `relier login`'s loopback page).
pub fn html_response(status: StatusCode, html: String, csp: &'static str) -> Response {
    let mut resp = secured(status, html, HeaderValue::from_static(csp));
    resp.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// The page of `GET /auth/frontchannel-logout/{provider}`: framable by `op_origin` only
/// (Front-Channel Logout 1.0 §2: the OP renders it in an iframe; CSP Level 2 §7.7.3
/// `frame-ancestors`, so no `X-Frame-Options`), uncached (§2: the RP's response SHOULD carry
/// `Cache-Control: no-cache, no-store` and `Pragma: no-cache`). `op_origin` is an ASCII-serialised origin; anything
/// else (an opaque origin) makes the page framable by nobody.
pub fn frontchannel_logout_response(op_origin: &str) -> Response {
    let html = page(
        "Signed out",
        "<h1 id=\"relier-title\">You are signed out</h1>\n",
    );
    let csp = format!(
        "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors {op_origin}"
    );
    let csp = if op_origin.starts_with("https://") || op_origin.starts_with("http://") {
        HeaderValue::from_str(&csp).ok()
    } else {
        None
    };
    let csp = csp.unwrap_or_else(|| {
        HeaderValue::from_static("default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    });
    let mut resp = secured(StatusCode::OK, html, csp);
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// An uncached HTML page under the Content-Security-Policy `csp`, no MIME sniffing, no
/// referrer.
fn secured(status: StatusCode, html: String, csp: HeaderValue) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooser_escapes_and_carries_return_to() {
        let html = chooser(
            "Sign <in>",
            &[Choice {
                name: "a",
                display_name: "<script>alert(1)</script> & \"Co\"",
                brand: None,
                ready: true,
                embedded: None,
            }],
            "/app?x=1&y=\"2\"",
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"));
        assert!(html.contains("Sign &lt;in&gt;"));
        assert!(html.contains("href=\"/auth/login/a?return_to=%2Fapp%3Fx%3D1%26y%3D%222%22\""));
        assert!(html.contains("<html lang=\"en\">"));
    }

    #[test]
    fn branded_buttons_carry_the_providers_wording_and_a_hidden_logo() {
        let brands = [Brand::GitHub, Brand::Apple, Brand::Microsoft, Brand::Google];
        let choices: Vec<Choice<'_>> = brands
            .iter()
            .map(|b| Choice {
                name: "p",
                display_name: "ignored",
                brand: Some(*b),
                ready: true,
                embedded: None,
            })
            .collect();
        let html = chooser("Sign in", &choices, "/");
        for (b, text) in brands.iter().zip([
            "Sign in with GitHub",
            "Sign in with Apple",
            "Sign in with Microsoft",
            "Sign in with Google",
        ]) {
            assert!(html.contains(&format!("<span>{text}</span>")), "{html}");
            assert!(html.contains(b.class()));
            assert!(BRAND_CSS.contains(&format!("a.{}", b.class())));
        }
        assert!(!html.contains("ignored"));
        assert!(!html.contains("Continue with"));
        assert_eq!(html.matches("<svg ").count(), 4);
        assert_eq!(
            html.matches("aria-hidden=\"true\" focusable=\"false\"")
                .count(),
            4
        );
        // Nothing the page's CSP (style-src 'self', no script) would block.
        for banned in ["style=", "<style", "<script", "http://", "https://"] {
            assert!(!html.contains(banned), "{banned}");
        }
    }

    #[test]
    fn embedded_chooser_lists_identity_providers_with_the_brokers_texts() {
        let ui: relier_core::ftn::EmbeddedUi = serde_json::from_value(serde_json::json!({
            "identityProviders": [
                {"name": "Osuus<pankki>", "imageUrl": "https://isb.example/op.png", "ftn_idp_id": "fi-op"},
                {"name": "Nordea", "imageUrl": "https://cdn.example/n.png", "ftn_idp_id": "fi-nordea"}
            ],
            "isbProviderInfo": "Provided by OP & co.",
            "isbConsent": "Your personal ID and name are forwarded.",
            "privacyNoticeText": "Privacy",
            "privacyNoticeLink": "javascript:alert(1)"
        }))
        .unwrap();
        let html = chooser(
            "Sign in",
            &[Choice {
                name: "ftn",
                display_name: "bank ID or Mobile ID",
                brand: None,
                ready: true,
                embedded: Some(&ui),
            }],
            "/app",
        );
        assert!(html.contains("Provided by OP &amp; co."), "{html}");
        assert!(html.contains("Your personal ID and name are forwarded."));
        assert!(html.contains("Osuus&lt;pankki&gt;"));
        assert!(
            html.contains("href=\"/auth/login/ftn?return_to=%2Fapp&amp;ftn_idp_id=fi-nordea\"")
        );
        assert!(html.contains("<img src=\"https://isb.example/op.png\" alt=\"\""));
        assert!(
            !html.contains("javascript:"),
            "a link that is not http(s) is left out"
        );
        assert!(!html.contains("Continue with"));
        assert_eq!(
            logo_origins(&ui),
            ["https://isb.example", "https://cdn.example"]
        );
    }

    #[test]
    fn error_page_shows_only_the_id() {
        let html = error_page("T", "M", "abc<");
        assert!(html.contains("abc&lt;"));
    }
}
