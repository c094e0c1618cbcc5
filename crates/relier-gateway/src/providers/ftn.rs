//! What a `preset = "ftn"` provider does beyond OpenID Connect (ISB README §5–§7): the user's
//! `cancel` sends them back to the chooser, and with `embedded_ui = true` the chooser lists the
//! broker's identity providers (`GET {issuer}/api/embedded-ui/{client_id}?lang=…`, cached for
//! a few minutes) and the login carries the chosen `ftn_idp_id`.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use relier::HttpClient;
use relier_core::ftn::{self, EmbeddedUi};
use relier_core::http::HttpRequest;
use url::Url;

use super::Provider;
use crate::config::ProviderConfig;
use crate::error::GatewayError;

/// How long the broker's list of identity providers is reused.
const EMBEDDED_UI_TTL: Duration = Duration::from_secs(300);
/// The longest `ftn_idp_id` passed on to the broker.
const MAX_IDP_ID: usize = 64;

/// A `preset = "ftn"` provider's extras.
pub(crate) struct Ftn {
    embedded: Option<Embedded>,
}

/// The embedded chooser's source.
struct Embedded {
    url: Url,
    http: HttpClient,
    cached: Mutex<Option<(Instant, EmbeddedUi)>>,
}

impl Ftn {
    /// For `p` (`None` unless `preset = "ftn"`); `issuer` and `client_id` name the embedded
    /// UI's URL.
    pub(crate) fn new(
        p: &ProviderConfig,
        issuer: &str,
        client_id: &str,
        http: &HttpClient,
    ) -> Result<Option<Ftn>, GatewayError> {
        if p.preset() != Some(crate::presets::Preset::Ftn) {
            return Ok(None);
        }
        let embedded = if p.settings.embedded_ui {
            let url = ftn::embedded_ui_url(issuer, client_id, p.settings.ui_locales)
                .map_err(|e| GatewayError::provider(&p.name, e))?;
            Some(Embedded {
                url,
                http: http.clone(),
                cached: Mutex::new(None),
            })
        } else {
            None
        };
        Ok(Some(Ftn { embedded }))
    }
}

impl Provider {
    /// Whether a callback with this `error` returns the user to the chooser rather than to
    /// an error page: a Finnish Trust Network broker's `cancel` (ISB README §7: "the SP should
    /// just simply display its own … UI again").
    pub fn returns_to_chooser(&self, error: Option<&str>) -> bool {
        self.ftn.is_some() && error == Some(ftn::CANCEL_ERROR)
    }

    /// Whether the chooser lists this provider's identity providers (`embedded_ui = true`).
    pub fn has_embedded_ui(&self) -> bool {
        self.ftn.as_ref().is_some_and(|f| f.embedded.is_some())
    }

    /// The broker's identity providers and texts (README §6), from the cache or fetched;
    /// `None` without `embedded_ui`.
    pub async fn embedded_ui(&self) -> Option<Result<EmbeddedUi, String>> {
        let e = self.ftn.as_ref()?.embedded.as_ref()?;
        if let Some((at, ui)) = e.cached.lock().as_ref()
            && at.elapsed() < EMBEDDED_UI_TTL
        {
            return Some(Ok(ui.clone()));
        }
        let fetched = async {
            let resp = e
                .http
                .send(HttpRequest::get(e.url.as_str(), "application/json"))
                .await
                .map_err(|err| err.to_string())?;
            if resp.status != 200 {
                return Err(format!("{}: HTTP {}", e.url, resp.status));
            }
            ftn::parse_embedded_ui(&resp.body).map_err(|err| err.to_string())
        }
        .await;
        if let Ok(ui) = &fetched {
            *e.cached.lock() = Some((Instant::now(), ui.clone()));
        }
        Some(fetched)
    }

    /// A chosen `ftn_idp_id` checked: only for a provider with `embedded_ui`, short, of
    /// letters, digits, `.`, `_` and `-` (the broker checks that it knows it).
    pub fn check_idp_choice(&self, id: &str) -> Result<(), String> {
        if !self.has_embedded_ui() {
            return Err(format!(
                "ftn_idp_id at provider {:?}, which has no embedded_ui",
                self.name
            ));
        }
        let ok = !id.is_empty()
            && id.len() <= MAX_IDP_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(())
        } else {
            Err("ftn_idp_id refused: empty, too long or unexpected characters".into())
        }
    }
}
