//! The application's routes (relier's `/auth/*` routes are merged in by [`crate::App::router`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use relier_gateway::embed::{Identity, LocalLogin, SessionError};
use serde_json::json;

use crate::attempts::ClientAddr;
use crate::db::{AccountId, Created, Linked, UnlinkOutcome};
use crate::error::AppError;
use crate::hook::link_refused;
use crate::pages::{self, NewIdentity};
use crate::session::{Posted, SignInForm, SignedIn, account_of, with_cookies};
use crate::{App, password};

const WRONG_PASSWORD: &str = "Wrong username or password.";

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/signup", post(signup))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/link/{provider}", post(link))
        .route("/unlink/{provider}", post(unlink))
        .route("/first-login", get(first_login))
        .route("/first-login/create", post(first_login_create))
        .route("/first-login/link", post(first_login_link))
        .route("/assets/example.css", get(css))
        .with_state(app)
}

type Page = Result<Response, AppError>;

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// 1–64 of `A–Z a–z 0–9 . _ -`.
fn valid_username(u: &str) -> bool {
    (1..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn linked(who: &Identity) -> Linked {
    Linked {
        provider: who.provider().to_owned(),
        issuer: who.issuer().to_owned(),
        subject: who.subject().to_owned(),
    }
}

/// What a password check found.
enum Checked {
    /// The password is this account's.
    Account(AccountId),
    /// Wrong username or password.
    Wrong,
    /// Too many attempts at this name or from this address: the 429 page.
    Refused(Response),
}

impl App {
    /// The account whose password this is, within the attempt limits. An unknown user, an
    /// account without a password and a wrong password all cost one Argon2 verification and
    /// count as a failed attempt; a refused attempt costs none.
    async fn check_password(
        &self,
        username: &str,
        pw: &str,
        client: ClientAddr,
    ) -> Result<Checked, AppError> {
        let attempt = match self.attempts.begin(username, client) {
            Ok(a) => a,
            Err(too_many) => {
                tracing::info!(?client, wait = ?too_many.0, "password attempt refused: too many");
                return Ok(Checked::Refused(too_many.response()));
            }
        };
        let checked = self.verify_password(username, pw).await;
        match checked {
            Ok(Some(id)) => {
                attempt.succeeded();
                Ok(Checked::Account(id))
            }
            Ok(None) => Ok(Checked::Wrong),
            Err(e) => {
                attempt.not_tried();
                Err(e)
            }
        }
    }

    async fn verify_password(
        &self,
        username: &str,
        pw: &str,
    ) -> Result<Option<AccountId>, AppError> {
        let found = self.db.account_by_username(username).await?;
        let (account, stored) = match found {
            Some((id, Some(hash))) => (Some(id), hash),
            _ => (None, self.dummy_hash.clone()),
        };
        let ok = self.hasher.verify(pw.to_owned(), stored).await?;
        Ok(account.filter(|_| ok))
    }

    /// Signs `account` in after a password check: a new relier session (a local one, ending
    /// the request's session), the account as its data; 303 to `/`.
    async fn signed_in(&self, account: AccountId, request: &HeaderMap) -> Page {
        let mut login = LocalLogin::new(account.to_string());
        if let Some(name) = self.db.username(account).await? {
            login = login.name(name);
        }
        let set = self
            .relier
            .start_local_session(request, login, SignedIn::slot(account)?)
            .await?;
        let mut resp = see_other("/");
        resp.headers_mut().extend(set);
        Ok(resp)
    }

    /// Signs `account` in on the request's provider session (the first-login page): the
    /// account becomes the session's data; 303 to `/`.
    async fn account_on_session(&self, account: AccountId, request: &HeaderMap) -> Page {
        match self
            .relier
            .set_app_data(request, SignedIn::slot(account)?)
            .await
        {
            Ok(()) => Ok(see_other("/")),
            Err(SessionError::NoSession) => Ok(pages::message(
                StatusCode::UNAUTHORIZED,
                "Session expired",
                "Your sign-in with the provider has expired. Sign in again.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The CSRF token for the page's forms: the relier session's, else a visitor's (with the
    /// cookie to set, when new).
    fn csrf_for(
        &self,
        who: Option<&Identity>,
        headers: &HeaderMap,
    ) -> Result<(String, Option<HeaderValue>), AppError> {
        match who {
            Some(w) => Ok((w.csrf_token().to_owned(), None)),
            None => self.visitors.csrf(headers),
        }
    }

    fn sign_in_page(&self, status: StatusCode, csrf: &str, error: &str) -> Response {
        pages::sign_in(status, csrf, &self.providers, Some(error))
    }
}

async fn index(State(app): State<Arc<App>>, headers: HeaderMap, who: Option<Identity>) -> Page {
    if let Some(w) = &who
        && let Some(account) = account_of(w)
        && let Some(name) = app.db.username(account).await?
    {
        let ids = app.db.identities(account).await?;
        return Ok(pages::home(&name, &ids, &app.providers, w.csrf_token()));
    }
    // No account signed in: the session's token, or a visitor's (nothing stored).
    let (csrf, cookie) = app.csrf_for(who.as_ref(), &headers)?;
    let page = pages::sign_in(StatusCode::OK, &csrf, &app.providers, None);
    Ok(with_cookies(page, cookie))
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::CSS,
    )
        .into_response()
}

async fn signup(State(app): State<Arc<App>>, form: SignInForm) -> Page {
    let username = form.field("username").unwrap_or_default().trim();
    let pw = form.field("password").unwrap_or_default();
    let csrf = &form.csrf;
    if !valid_username(username) {
        let e = "A username is 1 to 64 letters, digits, '.', '_' or '-'.";
        return Ok(app.sign_in_page(StatusCode::BAD_REQUEST, csrf, e));
    }
    if pw.chars().count() < password::MIN_LEN || pw.len() > password::MAX_LEN {
        let e = "A password is 8 to 1024 characters long.";
        return Ok(app.sign_in_page(StatusCode::BAD_REQUEST, csrf, e));
    }
    let hash = app.hasher.hash(pw.to_owned()).await?;
    match app.db.create_account(username, Some(&hash)).await? {
        Created::Account(id) => app.signed_in(id, &form.headers).await,
        Created::UsernameTaken | Created::IdentityTaken => {
            Ok(app.sign_in_page(StatusCode::CONFLICT, csrf, "That username is taken."))
        }
    }
}

async fn login(State(app): State<Arc<App>>, client: ClientAddr, form: SignInForm) -> Page {
    let username = form.field("username").unwrap_or_default().trim();
    let pw = form.field("password").unwrap_or_default();
    match app.check_password(username, pw, client).await? {
        Checked::Account(id) => app.signed_in(id, &form.headers).await,
        Checked::Wrong => {
            Ok(app.sign_in_page(StatusCode::UNAUTHORIZED, &form.csrf, WRONG_PASSWORD))
        }
        Checked::Refused(page) => Ok(page),
    }
}

async fn me(State(app): State<Arc<App>>, who: Option<Identity>) -> Page {
    if let Some(w) = &who
        && let Some(account) = account_of(w)
        && let Some(username) = app.db.username(account).await?
    {
        let ids: Vec<_> = app
            .db
            .identities(account)
            .await?
            .into_iter()
            .map(|l| json!({"provider": l.provider, "issuer": l.issuer, "sub": l.subject}))
            .collect();
        let body = json!({"username": username, "identities": ids, "csrf_token": w.csrf_token()});
        return Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response());
    }
    Ok((
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": "not signed in"})),
    )
        .into_response())
}

/// `POST /link/{provider}`: starts the provider's login carrying a link intent for the
/// signed-in account in relier's login state (see [`crate::hook`]), straight to the OP.
async fn link(State(app): State<Arc<App>>, Path(provider): Path<String>, form: Posted) -> Page {
    let account = form.account;
    if app.provider_display(&provider).is_none() {
        return Ok(pages::message(
            StatusCode::NOT_FOUND,
            "Unknown provider",
            "No such provider.",
        ));
    }
    let intent = crate::hook::link_intent(account)?;
    Ok(app.relier.start_login(&provider, "/", Some(intent)).await)
}

async fn unlink(State(app): State<Arc<App>>, Path(provider): Path<String>, form: Posted) -> Page {
    match app.db.unlink(form.account, &provider).await? {
        UnlinkOutcome::Unlinked | UnlinkOutcome::NotLinked => Ok(see_other("/")),
        UnlinkOutcome::LastSignInMethod => Ok(pages::message(
            StatusCode::CONFLICT,
            "Not unlinked",
            "This identity is the only way to sign in to this account (it has no password).",
        )),
    }
}

/// The provider identity of a session that no account is signed in to: what the first-login
/// page links. Never a local session's (the application's own sign-in, no external identity)
/// nor a session already signed in to an account.
fn unlinked_identity(who: Option<Identity>) -> Option<Identity> {
    who.filter(|w| !w.is_local() && account_of(w).is_none())
}

/// The first-login page for the relier session's identity, when no account has it.
async fn first_login(State(app): State<Arc<App>>, who: Option<Identity>) -> Page {
    let Some(who) = unlinked_identity(who) else {
        return Ok(see_other("/"));
    };
    if app
        .db
        .account_for(who.issuer(), who.subject())
        .await?
        .is_some()
    {
        return Ok(see_other("/"));
    }
    Ok(first_login_page(
        &app,
        &who,
        StatusCode::OK,
        who.csrf_token(),
        None,
    ))
}

fn first_login_page(
    app: &App,
    who: &Identity,
    status: StatusCode,
    csrf: &str,
    error: Option<&str>,
) -> Response {
    let display = app
        .provider_display(who.provider())
        .unwrap_or(who.provider());
    let new = NewIdentity {
        provider: display,
        issuer: who.issuer(),
        subject: who.subject(),
        name: who.name(),
    };
    pages::first_login(status, &new, csrf, error)
}

fn no_external_login() -> Response {
    pages::message(
        StatusCode::BAD_REQUEST,
        "No external sign-in",
        "There is no sign-in with a provider to link. Use a \"Login with …\" button first.",
    )
}

async fn first_login_create(State(app): State<Arc<App>>, form: SignInForm) -> Page {
    let Some(who) = unlinked_identity(form.who.clone()) else {
        return Ok(no_external_login());
    };
    let username = form.field("username").unwrap_or_default().trim();
    let csrf = &form.csrf;
    if !valid_username(username) {
        let e = "A username is 1 to 64 letters, digits, '.', '_' or '-'.";
        return Ok(first_login_page(
            &app,
            &who,
            StatusCode::BAD_REQUEST,
            csrf,
            Some(e),
        ));
    }
    match app
        .db
        .create_account_linked(username, &linked(&who))
        .await?
    {
        Created::Account(id) => app.account_on_session(id, &form.headers).await,
        Created::UsernameTaken => {
            let e = "That username is taken.";
            Ok(first_login_page(
                &app,
                &who,
                StatusCode::CONFLICT,
                csrf,
                Some(e),
            ))
        }
        Created::IdentityTaken => Ok(
            link_refused(crate::db::LinkOutcome::OtherAccount).unwrap_or_else(|| see_other("/"))
        ),
    }
}

async fn first_login_link(
    State(app): State<Arc<App>>,
    client: ClientAddr,
    form: SignInForm,
) -> Page {
    let Some(who) = unlinked_identity(form.who.clone()) else {
        return Ok(no_external_login());
    };
    let username = form.field("username").unwrap_or_default().trim();
    let pw = form.field("password").unwrap_or_default();
    let account = match app.check_password(username, pw, client).await? {
        Checked::Account(id) => id,
        Checked::Refused(page) => return Ok(page),
        Checked::Wrong => {
            return Ok(first_login_page(
                &app,
                &who,
                StatusCode::UNAUTHORIZED,
                &form.csrf,
                Some(WRONG_PASSWORD),
            ));
        }
    };
    let outcome = app.db.link(account, &linked(&who)).await?;
    if let Some(refused) = link_refused(outcome) {
        return Ok(refused);
    }
    app.account_on_session(account, &form.headers).await
}
