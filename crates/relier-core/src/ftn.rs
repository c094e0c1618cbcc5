//! The Finnish Trust Network as its brokers run it (the OP Identity Service Broker's Service
//! Provider API, github.com/op-developer/Identity-Service-Broker-API, README §6, §7, §9): the
//! scopes, the request-object claims of its own (`ftn_spname`, `ui_locales`, `ftn_idp_id`), the
//! subject, the `cancel` error, and the embedded chooser's data (`/api/embedded-ui/{client_id}`).
//! The keys (entity statements, signed JWK sets) are [`crate::federation`]'s.

use serde::{Deserialize, Serialize};
use url::Url;

/// README §7: `openid` and `personal_identity_code` are required, `profile` adds the names and
/// the birth date.
pub const SCOPES: [&str; 3] = ["openid", "profile", "personal_identity_code"];
/// README §9: the broker's `sub` is "not persistent"; the personal identity code is the stable
/// identifier.
pub const SUBJECT_CLAIM: &str = "personal_identity_code";
/// The person's attributes a login carries (README §9).
pub const ATTRIBUTES: [&str; 5] = [
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "personal_identity_code",
];
/// README §7: the request-object claim naming the service to the user.
pub const SPNAME_CLAIM: &str = "ftn_spname";
/// README §7: the request-object claim choosing the user-interface language.
pub const UI_LOCALES_CLAIM: &str = "ui_locales";
/// README §5, §7: the request-object claim carrying the identity provider the user chose on
/// the SP's own (embedded) chooser.
pub const IDP_CLAIM: &str = "ftn_idp_id";
/// README §7: the error the broker returns when the user cancels ("user cancel"); the SP
/// shows its chooser again.
pub const CANCEL_ERROR: &str = "cancel";
/// The largest embedded-UI answer read.
pub const MAX_EMBEDDED_UI_BYTES: usize = 256 * 1024;
/// The most identity providers taken from one embedded-UI answer.
pub const MAX_IDPS: usize = 64;

/// README §7: the purpose of a login that creates new credentials, sent as a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Purpose {
    /// "weak identifiers, for example password account".
    Weak,
    /// "strong electronic identification which is only for the officially licensed members of
    /// the Finnish Trust Network".
    Strong,
}

impl Purpose {
    /// The scope value.
    pub fn scope(self) -> &'static str {
        match self {
            Purpose::Weak => "weak",
            Purpose::Strong => "strong",
        }
    }
}

/// README §6, §7: the user-interface languages of the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UiLocale {
    /// Finnish (the broker's default).
    Fi,
    /// Swedish.
    Sv,
    /// English.
    En,
}

impl UiLocale {
    /// The language tag.
    pub fn as_str(self) -> &'static str {
        match self {
            UiLocale::Fi => "fi",
            UiLocale::Sv => "sv",
            UiLocale::En => "en",
        }
    }
}

/// The scopes of an FTN login: [`SCOPES`], plus the purpose's when given.
pub fn scopes(purpose: Option<Purpose>) -> Vec<String> {
    SCOPES
        .iter()
        .copied()
        .chain(purpose.map(Purpose::scope))
        .map(str::to_owned)
        .collect()
}

/// One identity provider of the embedded chooser (README §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    /// The bank's or service's name.
    pub name: String,
    /// Its logo.
    #[serde(rename = "imageUrl")]
    pub image_url: String,
    /// The value of [`IDP_CLAIM`] when the user chooses it.
    pub ftn_idp_id: String,
}

/// The broker's answer to `GET /api/embedded-ui/{client_id}` (README §6): the identity
/// providers and the texts the SP must show with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedUi {
    /// The identity providers, in the broker's order.
    #[serde(rename = "identityProviders")]
    pub identity_providers: Vec<IdentityProvider>,
    /// Mandatory text: who provides the broker.
    #[serde(rename = "isbProviderInfo")]
    pub isb_provider_info: String,
    /// Mandatory text: what is passed on to the service provider.
    #[serde(rename = "isbConsent")]
    pub isb_consent: String,
    /// The privacy notice link's text.
    #[serde(rename = "privacyNoticeText", default)]
    pub privacy_notice_text: Option<String>,
    /// The privacy notice link.
    #[serde(rename = "privacyNoticeLink", default)]
    pub privacy_notice_link: Option<String>,
}

/// Why the embedded-UI data could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedUiError {
    /// The issuer and client id do not make a URL.
    #[error("embedded UI: no URL from the issuer and client id")]
    Url,
    /// Larger than [`MAX_EMBEDDED_UI_BYTES`].
    #[error("embedded UI: answer larger than {MAX_EMBEDDED_UI_BYTES} bytes")]
    TooLarge,
    /// Not the JSON of README §6.
    #[error("embedded UI: not the broker's JSON: {0}")]
    Malformed(String),
    /// More than [`MAX_IDPS`] identity providers, or none.
    #[error("embedded UI: {0} identity providers (1 to {MAX_IDPS} expected)")]
    Count(usize),
    /// A logo that is not an http(s) URL.
    #[error("embedded UI: the logo of {ftn_idp_id:?} is not an http(s) URL")]
    Logo {
        /// The identity provider.
        ftn_idp_id: String,
    },
}

/// README §6: `{issuer}/api/embedded-ui/{client_id}?lang=…`.
///
/// # Errors
/// [`EmbeddedUiError::Url`].
pub fn embedded_ui_url(
    issuer: &str,
    client_id: &str,
    lang: Option<UiLocale>,
) -> Result<Url, EmbeddedUiError> {
    let mut url = Url::parse(issuer).map_err(|_| EmbeddedUiError::Url)?;
    url.path_segments_mut()
        .map_err(|_| EmbeddedUiError::Url)?
        .pop_if_empty()
        .extend(["api", "embedded-ui", client_id]);
    if let Some(l) = lang {
        url.query_pairs_mut().append_pair("lang", l.as_str());
    }
    Ok(url)
}

/// README §6: the answer read and checked (size, shape, count, logos).
///
/// # Errors
/// [`EmbeddedUiError`] naming the failed check.
pub fn parse_embedded_ui(body: &[u8]) -> Result<EmbeddedUi, EmbeddedUiError> {
    if body.len() > MAX_EMBEDDED_UI_BYTES {
        return Err(EmbeddedUiError::TooLarge);
    }
    let ui: EmbeddedUi =
        serde_json::from_slice(body).map_err(|e| EmbeddedUiError::Malformed(e.to_string()))?;
    let n = ui.identity_providers.len();
    if n == 0 || n > MAX_IDPS {
        return Err(EmbeddedUiError::Count(n));
    }
    for idp in &ui.identity_providers {
        let ok = Url::parse(&idp.image_url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
        if !ok {
            return Err(EmbeddedUiError::Logo {
                ftn_idp_id: idp.ftn_idp_id.clone(),
            });
        }
    }
    Ok(ui)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_isb_readme() {
        assert_eq!(
            scopes(None),
            ["openid", "profile", "personal_identity_code"]
        );
        assert_eq!(
            scopes(Some(Purpose::Strong)),
            ["openid", "profile", "personal_identity_code", "strong"]
        );
        assert_eq!(
            scopes(Some(Purpose::Weak)).last().map(String::as_str),
            Some("weak")
        );
    }

    #[test]
    fn embedded_ui_url_is_the_readme_s() {
        let u = embedded_ui_url(
            "https://isb-test.op.fi",
            "saippuakauppias",
            Some(UiLocale::En),
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://isb-test.op.fi/api/embedded-ui/saippuakauppias?lang=en"
        );
        let u = embedded_ui_url("https://isb-test.op.fi/", "a b", None).unwrap();
        assert_eq!(u.as_str(), "https://isb-test.op.fi/api/embedded-ui/a%20b");
    }

    /// README §6's example answer.
    const EXAMPLE: &str = r#"{
      "identityProviders": [
        {"name": "Osuuspankki", "imageUrl": "https://isb-test.op.fi/public/images/idp/op_140x75.png", "ftn_idp_id": "fi-op"},
        {"name": "Nordea", "imageUrl": "https://isb-test.op.fi/public/images/idp/nordea_140x75.png", "ftn_idp_id": "fi-nordea"}
      ],
      "isbProviderInfo": "The OP Identity Service Broker is provided by OP Financial Group member cooperative banks and OP Corporate Bank plc.",
      "isbConsent": "During authentication, your personal ID and name are forwarded to the service provider.",
      "privacyNoticeText": "OP privacy notice",
      "privacyNoticeLink": "https://isb-test.op.fi/privacy-info?lang=en",
      "disturbanceInfo": {"header": "Notification of disruption", "text": "Network errors"}
    }"#;

    #[test]
    fn the_readme_example_parses() {
        let ui = parse_embedded_ui(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(ui.identity_providers.len(), 2);
        assert_eq!(ui.identity_providers[1].ftn_idp_id, "fi-nordea");
        assert!(ui.isb_consent.starts_with("During authentication"));
    }

    #[test]
    fn bad_answers_are_refused_naming_the_check() {
        let no_consent = EXAMPLE.replace("\"isbConsent\"", "\"other\"");
        assert!(matches!(
            parse_embedded_ui(no_consent.as_bytes()),
            Err(EmbeddedUiError::Malformed(_))
        ));
        let js_logo = EXAMPLE.replace(
            "https://isb-test.op.fi/public/images/idp/op_140x75.png",
            "javascript:alert(1)",
        );
        assert!(matches!(
            parse_embedded_ui(js_logo.as_bytes()),
            Err(EmbeddedUiError::Logo { ftn_idp_id }) if ftn_idp_id == "fi-op"
        ));
        let none = r#"{"identityProviders":[],"isbProviderInfo":"a","isbConsent":"b"}"#;
        assert!(matches!(
            parse_embedded_ui(none.as_bytes()),
            Err(EmbeddedUiError::Count(0))
        ));
        let big = vec![b' '; MAX_EMBEDDED_UI_BYTES + 1];
        assert!(matches!(
            parse_embedded_ui(&big),
            Err(EmbeddedUiError::TooLarge)
        ));
    }
}
