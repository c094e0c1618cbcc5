//! Third-party-initiated login (OIDC Core §4): the OP (or another party) sends the browser to
//! the provider's `initiate_login_uri`, `{public_url}/auth/login/{provider}`, by GET or by a
//! form POST, with `iss` (required by §4, checked here when present so that a plain
//! `/auth/login/{provider}` link keeps working), and optionally `login_hint` and
//! `target_link_uri`.

use crate::error::{PageError, Problem};
use crate::providers::Provider;
use crate::return_to::{self, sanitize_for, target_link};
use crate::settings::Settings;

use super::param;

/// Longest `login_hint` passed on to the OP.
const MAX_LOGIN_HINT: usize = 512;

/// What a login start asks for, checked.
#[derive(Debug)]
pub(crate) struct Initiation {
    /// Where to go after the login: `target_link_uri` reduced to a local path if given (it
    /// wins over `return_to`: it is what the initiator asked for, §4), else the sanitised
    /// `return_to`.
    pub return_to: String,
    /// `login_hint` to send in the authorization request (OIDC Core §3.1.2.1).
    pub login_hint: Option<String>,
    /// The identity provider chosen on the embedded chooser of a `preset = "ftn"` provider
    /// (`ftn_idp_id`, ISB README §7).
    pub ftn_idp_id: Option<String>,
}

/// Reads `raw` (the query of a GET, the form body of a POST).
///
/// # Errors
/// [`Problem::BadLoginRequest`] when `iss` is not exactly the provider's issuer (§4: "the RP
/// MUST verify the value of the iss" — a GitHub provider has none, so any `iss` is refused),
/// when `target_link_uri` is not on the gateway's own origin (§4: "MUST verify the value of
/// the target_link_uri to prevent being used as an open redirector"), or when `login_hint` is
/// too long or holds control characters.
pub(crate) fn read(
    raw: &str,
    settings: &Settings,
    provider: &Provider,
) -> Result<Initiation, PageError> {
    let bytes = raw.as_bytes();
    let refuse = |detail: String| PageError::new(Problem::BadLoginRequest, detail);
    if let Some(iss) = param(bytes, "iss") {
        let expected = provider.issuer();
        if expected.as_deref() != Some(iss.as_str()) {
            return Err(refuse(format!(
                "third-party-initiated login at provider {:?}: iss {iss:?} is not its issuer {expected:?}",
                provider.name
            )));
        }
    }
    let login_hint = param(bytes, "login_hint").filter(|h| !h.is_empty());
    if let Some(h) = &login_hint
        && (h.len() > MAX_LOGIN_HINT || h.chars().any(char::is_control))
    {
        return Err(refuse(format!(
            "login_hint refused: {} bytes or control characters",
            h.len()
        )));
    }
    let return_to = match param(bytes, "target_link_uri") {
        Some(t) => target_link(&t, &settings.origin).ok_or_else(|| {
            refuse(format!(
                "target_link_uri {t:?} is not on this gateway's origin {}",
                settings.origin
            ))
        })?,
        None => sanitize_for(settings, return_to::from_query(raw).as_deref()),
    };
    let ftn_idp_id = param(bytes, "ftn_idp_id");
    if let Some(id) = &ftn_idp_id {
        provider.check_idp_choice(id).map_err(refuse)?;
    }
    Ok(Initiation {
        return_to,
        login_hint,
        ftn_idp_id,
    })
}
