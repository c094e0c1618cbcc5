//! What a completed provider login means for the application ([`LoginHook`]).
//!
//! 1. The login was started by `POST /link/{provider}` (signed in): it carries a *link intent*
//!    naming the account, in relier's login state (`CompletedLogin::app_state`, see
//!    [`link_intent`]) — so no other login can trigger it, and it arrives with a cross-site
//!    `form_post` callback (Sign in with Apple) that no `SameSite=Lax` cookie reaches. Link
//!    `(issuer, sub)` to that account and keep it signed in (the account goes into the new
//!    session's [`AppSlot`]) — or, when the identity is linked to another account, answer 409
//!    and change nothing.
//! 2. `(issuer, sub)` is linked: sign in as that account (in the session's [`AppSlot`]).
//! 3. Otherwise: a session without an account (it carries the verified identity), and
//!    `/first-login` to create an account or prove a password. Never an account found by
//!    e-mail or name.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use relier_gateway::embed::{AppSlot, CompletedLogin, LoginAppState, LoginDecision, LoginHook};

use crate::db::{AccountId, Db, LinkOutcome, Linked};
use crate::error::AppError;
use crate::pages;
use crate::session::SignedIn;

/// How a link intent starts, in a login's `app_state`.
const LINK_INTENT: &str = "link:";

/// The `app_state` of a login that links its identity to `account` (`POST /link/{provider}`).
///
/// # Errors
/// [`AppError::AppState`] (not for an account id: it is far below the size cap).
pub fn link_intent(account: AccountId) -> Result<LoginAppState, AppError> {
    Ok(LoginAppState::new(format!("{LINK_INTENT}{account}"))?)
}

/// The account a login's `app_state` asks to link to, if it is a link intent.
fn intended_account(app_state: Option<&str>) -> Option<AccountId> {
    app_state?.strip_prefix(LINK_INTENT)?.parse().ok()
}

/// The account-linking hook.
#[derive(Debug, Clone)]
pub struct Linking {
    pub(crate) db: Db,
}

fn accept(to: &str) -> LoginDecision {
    LoginDecision::Accept {
        redirect_to: Some(to.to_owned()),
        headers: HeaderMap::new(),
    }
}

/// The page for a link that was refused.
pub fn link_refused(outcome: LinkOutcome) -> Option<Response> {
    let text = match outcome {
        LinkOutcome::Linked | LinkOutcome::AlreadyLinked => return None,
        LinkOutcome::OtherAccount => {
            "This external identity is already linked to another account. Nothing was changed: \
             sign in to that account and unlink it there first."
        }
        LinkOutcome::ProviderTaken => {
            "Your account is already linked to another identity of this provider. Nothing was \
             changed: unlink it first."
        }
    };
    Some(pages::message(StatusCode::CONFLICT, "Not linked", text))
}

impl Linking {
    async fn decide(
        &self,
        login: &CompletedLogin<'_>,
        slot: &mut AppSlot,
    ) -> Result<LoginDecision, AppError> {
        let identity = Linked {
            provider: login.provider.to_owned(),
            issuer: login.issuer.to_owned(),
            subject: login.subject.to_owned(),
        };
        // Used once: the login state it travels in is taken by this callback.
        if let Some(account) = intended_account(login.app_state) {
            let outcome = self.db.link(account, &identity).await?;
            tracing::info!(account, provider = login.provider, ?outcome, "link");
            return Ok(match link_refused(outcome) {
                Some(page) => LoginDecision::Respond(page),
                None => {
                    // The new session replaces the one that asked: still this account.
                    *slot = SignedIn::slot(account)?;
                    accept("/")
                }
            });
        }
        if let Some(account) = self.db.account_for(login.issuer, login.subject).await? {
            *slot = SignedIn::slot(account)?;
            tracing::info!(
                account,
                provider = login.provider,
                "signed in with a linked identity"
            );
            return Ok(accept("/"));
        }
        Ok(accept("/first-login"))
    }
}

#[async_trait::async_trait]
impl LoginHook for Linking {
    async fn on_login(&self, login: CompletedLogin<'_>, slot: &mut AppSlot) -> LoginDecision {
        match self.decide(&login, slot).await {
            Ok(d) => d,
            Err(e) => LoginDecision::Respond(axum::response::IntoResponse::into_response(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_intents_round_trip_and_nothing_else_is_one() {
        let state = link_intent(42).unwrap();
        assert!(!format!("{state:?}").contains("42"));
        assert_eq!(intended_account(Some("link:42")), Some(42));
        for other in [
            None,
            Some(""),
            Some("link:"),
            Some("link:x"),
            Some("42"),
            Some("unlink:4"),
        ] {
            assert_eq!(intended_account(other), None, "{other:?}");
        }
    }
}
