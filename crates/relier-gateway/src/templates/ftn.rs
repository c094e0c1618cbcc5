//! The embedded chooser of a `preset = "ftn"` provider with `embedded_ui = true` (ISB README
//! §5, §6): the broker's identity providers as links that start the login with the chosen
//! `ftn_idp_id`, each with its logo, and the texts the broker makes mandatory
//! (`isbProviderInfo`, `isbConsent`, the privacy notice link).

use std::fmt::Write as _;

use relier_core::ftn::EmbeddedUi;

use super::escape;

/// The chooser's section for provider `name` (a URL path segment, already encoded) with
/// `query` (the encoded `return_to` pair).
pub(super) fn section(out: &mut String, name: &str, query: &str, ui: &EmbeddedUi) {
    let _ = writeln!(
        out,
        "<li><section class=\"relier-ftn\" aria-label=\"Identification\">\n<p>{}</p>\n<ul class=\"relier-providers relier-idps\">",
        escape(&ui.isb_provider_info)
    );
    for idp in &ui.identity_providers {
        let id: String = url::form_urlencoded::byte_serialize(idp.ftn_idp_id.as_bytes()).collect();
        let href = escape(&format!("/auth/login/{name}?{query}&ftn_idp_id={id}"));
        let _ = writeln!(
            out,
            "<li><a class=\"relier-button relier-idp\" href=\"{href}\"><img src=\"{}\" alt=\"\" width=\"70\" height=\"38\"><span>{}</span></a></li>",
            escape(&idp.image_url),
            escape(&idp.name)
        );
    }
    let _ = writeln!(out, "</ul>\n<p>{}</p>", escape(&ui.isb_consent));
    if let (Some(text), Some(link)) = (&ui.privacy_notice_text, &ui.privacy_notice_link)
        && (link.starts_with("https://") || link.starts_with("http://"))
    {
        let _ = writeln!(
            out,
            "<p><a href=\"{}\" rel=\"noopener noreferrer\">{}</a></p>",
            escape(link),
            escape(text)
        );
    }
    out.push_str("</section></li>\n");
}

/// The origins the logos are loaded from (for the page's `img-src`).
pub fn logo_origins(ui: &EmbeddedUi) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for idp in &ui.identity_providers {
        if let Ok(u) = url::Url::parse(&idp.image_url) {
            let o = u.origin().ascii_serialization();
            if o != "null" && !origins.contains(&o) {
                origins.push(o);
            }
        }
    }
    origins
}
