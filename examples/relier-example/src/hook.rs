//! What a completed provider login means for the application ([`LoginHook`]).
//!
//! 1. The browser's session asked to link this provider (`POST /link/{provider}`, within ten
//!    minutes): link `(issuer, sub)` to the signed-in account — or, when it is linked to
//!    another account, answer 409 and change nothing.
//! 2. `(issuer, sub)` is linked: sign in as that account (a new application session).
//! 3. Otherwise: keep relier's session (it carries the verified identity) and send the user to
//!    `/first-login` to create an account or prove a password. Never an account found by
//!    e-mail or name.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use relier_gateway::embed::{CompletedLogin, LoginDecision, LoginHook};

use crate::db::{Db, LinkOutcome, Linked, now};
use crate::error::AppError;
use crate::pages;
use crate::session::{Current, Sessions};

/// The account-linking hook.
#[derive(Debug, Clone)]
pub struct Linking {
    pub(crate) db: Db,
    pub(crate) sessions: Sessions,
}

fn accept(to: &str, headers: HeaderMap) -> LoginDecision {
    LoginDecision::Accept {
        redirect_to: Some(to.to_owned()),
        headers,
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
        request: &HeaderMap,
    ) -> Result<LoginDecision, AppError> {
        let current = self.sessions.current(request).await?;
        let identity = Linked {
            provider: login.provider.to_owned(),
            issuer: login.issuer.to_owned(),
            subject: login.subject.to_owned(),
        };
        if let Some(cur) = &current
            && cur.row.link_intent.is_some()
        {
            // An intent is used once, whatever happens.
            self.db.set_link_intent(&cur.id_hash, None).await?;
            if let Some(account) = intended_account(cur, login.provider) {
                let outcome = self.db.link(account, &identity).await?;
                tracing::info!(account, provider = login.provider, ?outcome, "link");
                return Ok(match link_refused(outcome) {
                    Some(page) => LoginDecision::Respond(page),
                    None => accept("/", HeaderMap::new()),
                });
            }
        }
        if let Some(account) = self.db.account_for(login.issuer, login.subject).await? {
            let (_, cookie) = self.sessions.start(Some(account), current.as_ref()).await?;
            let mut headers = HeaderMap::new();
            headers.insert(header::SET_COOKIE, cookie);
            tracing::info!(
                account,
                provider = login.provider,
                "signed in with a linked identity"
            );
            return Ok(accept("/", headers));
        }
        Ok(accept("/first-login", HeaderMap::new()))
    }
}

/// The signed-in account of a session whose live link intent names `provider`.
fn intended_account(cur: &Current, provider: &str) -> Option<i64> {
    let (p, until) = cur.row.link_intent.as_ref()?;
    (p == provider && *until > now()).then_some(cur.row.account?)
}

#[async_trait::async_trait]
impl LoginHook for Linking {
    async fn on_login(&self, login: &CompletedLogin<'_>, request: &HeaderMap) -> LoginDecision {
        match self.decide(login, request).await {
            Ok(d) => d,
            Err(e) => LoginDecision::Respond(axum::response::IntoResponse::into_response(e)),
        }
    }
}
