//! `GET|POST /auth/callback/{provider}`: query and `form_post` responses. The login state is
//! taken (once) from the store by the `state` parameter — never from a SameSite=Lax cookie, so
//! cross-site `form_post` (Sign in with Apple) works; the optional binding cookie is
//! `SameSite=None` on https.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use relier_core::{CallbackError, CallbackParams, Secret, TokenResponse};
use relier_store::{LoginState, SessionRecord, UnixTime};
use serde_json::{Map, Value};
use tracing::Instrument as _;

use super::login::{binding_cookie, binding_same_site};
use super::{param, redirect};
use crate::cache::ID_BYTES;
use crate::clock;
use crate::cookies;
use crate::embed::AppSlot;
use crate::error::{PageError, Problem};
use crate::hook::{CompletedLogin, LoginDecision};
use crate::identity;
use crate::names;
use crate::providers::Provider;
use crate::random::try_random_token;
use crate::return_to::sanitize_return_to;
use crate::settings::Settings;
use crate::state::AppState;

/// Protocol claims not kept in the session's identity claims.
const DROPPED_CLAIMS: [&str; 11] = [
    "nonce", "at_hash", "c_hash", "s_hash", "aud", "azp", "exp", "iat", "nbf", "jti", "sid",
];

/// `GET /auth/callback/{provider}?code=…&state=…&iss=…`.
pub async fn query(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let raw = q.unwrap_or_default();
    complete(&state, &name, raw.as_bytes(), &headers).await
}

/// `POST /auth/callback/{provider}` (`response_mode=form_post`).
pub async fn form_post(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    complete(&state, &name, &body, &headers).await
}

async fn complete(
    state: &AppState,
    name: &str,
    raw: &[u8],
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let span = tracing::info_span!("callback", relier.provider = %name);
    let result = finish(state, name, raw, headers).instrument(span).await;
    let outcome = match &result {
        Ok((_, o)) | Err((o, _)) => *o,
    };
    if state.providers.get(name).is_some() {
        state.metrics.login(name, outcome);
    }
    result.map(|(r, _)| r).map_err(|(_, e)| e)
}

type Failed = (&'static str, PageError);

fn failed(p: Problem, d: impl std::fmt::Display) -> Failed {
    let outcome = match p {
        Problem::LoginExpired => "expired",
        Problem::Denied => "denied",
        _ => "failed",
    };
    (outcome, PageError::new(p, d))
}

async fn finish(
    state: &AppState,
    name: &str,
    raw: &[u8],
    headers: &HeaderMap,
) -> Result<(Response, &'static str), Failed> {
    let s = &state.settings;
    let now = clock::now();
    let (provider, params, login, binding) =
        verified_callback(state, name, raw, headers, now).await?;
    // ISB README §7: a user who cancels at a Finnish Trust Network broker is shown the chooser
    // again, not an error.
    if provider.returns_to_chooser(param(raw, "error").as_deref()) {
        tracing::info!(provider = ?name, "login cancelled at the broker: back to the chooser");
        return Ok((back_to_chooser(s, &login, &binding), "cancelled"));
    }
    // Sign in with Apple: the user's name, on the first authorization only.
    let apple_user = provider.is_apple().then(|| param(raw, "user")).flatten();
    let mut done = exchange(state, &provider, params, &login, apple_user).await?;
    // The one place a login's names are cleaned: the session, the login hook, the headers and
    // the pages all read them from here on.
    names::clean_name_claims(&mut done.claims);
    let (Some(id), Some(csrf)) = (try_random_token(ID_BYTES), try_random_token(ID_BYTES)) else {
        return Err(failed(Problem::Internal, "random source failed"));
    };
    let id = Secret::new(id);
    let mut slot = AppSlot::new();
    let (redirect_to, extra) = match admit(state, name, &done, &login, &mut slot).await? {
        LoginDecision::Accept {
            redirect_to,
            headers,
        } => (redirect_to.map(|r| local_target(&r)), headers),
        LoginDecision::Respond(resp) => {
            tracing::info!(provider = ?name, sub = %s.logged_subject(name, &done.sub), "login completed; the application answered without a session");
            return Ok((resp, "success"));
        }
    };
    let mut rec = session_record(s, name, done, &login, Secret::new(csrf), now);
    rec.app_data = slot.into_stored();
    // A new login replaces the browser's previous session (no fixation, no orphan).
    crate::session::replace(state, headers, &id, &rec)
        .instrument(tracing::info_span!("store_write"))
        .await
        .map_err(|e| failed(Problem::Internal, e))?;
    tracing::info!(provider = ?name, sub = %s.logged_subject(name, &rec.sub), "login completed");
    let mut resp = redirect(
        StatusCode::FOUND,
        redirect_to.as_deref().unwrap_or(&login.return_to),
    );
    let h = resp.headers_mut();
    for (k, v) in &extra {
        h.append(k.clone(), v.clone());
    }
    if let Some(c) = cookies::set_session(s, id.expose(), s.absolute_timeout) {
        h.append(header::SET_COOKIE, c);
    }
    if login.binding.is_some()
        && let Some(c) = cookies::expire(&binding, s.secure, binding_same_site(s))
    {
        h.append(header::SET_COOKIE, c);
    }
    Ok((resp, "success"))
}

/// The chooser again, keeping the login's `return_to`; the login-binding cookie expired.
fn back_to_chooser(s: &Settings, login: &LoginState, binding: &str) -> Response {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &login.return_to)
        .finish();
    let mut resp = redirect(StatusCode::FOUND, &format!("/auth/login?{query}"));
    if login.binding.is_some()
        && let Some(c) = cookies::expire(binding, s.secure, binding_same_site(s))
    {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// The application's `redirect_to`, checked like `return_to`: a path on this origin, else `/`.
fn local_target(raw: &str) -> String {
    let target = sanitize_return_to(Some(raw));
    if target == "/" && raw != "/" {
        tracing::warn!(
            redirect_to = ?raw,
            "the login hook's redirect_to is not a path on this origin: sent to /"
        );
    }
    target
}

/// Whether the request carries the login's binding cookie with the value the login state
/// keeps (compared in constant time). A login state without one (bound logins only: it
/// predates the random value) never matches.
fn binding_matches(login: &LoginState, headers: &HeaderMap, name: &str) -> bool {
    match (&login.binding, cookies::get(headers, name)) {
        (Some(expected), Some(sent)) => expected.ct_eq_str(sent),
        _ => false,
    }
}

/// The callback's provider, parameters (a JARM response opened and checked), the login it
/// completes (taken from the store, once) and the name of its binding cookie — or why the
/// callback is refused before anything is sent to the OP.
async fn verified_callback(
    state: &AppState,
    name: &str,
    raw: &[u8],
    headers: &HeaderMap,
    now: u64,
) -> Result<(Arc<Provider>, CallbackParams, LoginState, String), Failed> {
    let provider = state
        .providers
        .get(name)
        .ok_or_else(|| {
            failed(
                Problem::UnknownProvider,
                format!("callback for unknown provider {name:?}"),
            )
        })?
        .clone();
    let params = CallbackParams::parse(raw).map_err(|e| failed(Problem::LoginFailed, e))?;
    // JARM §2.4: a JWT response is checked before its state is read.
    let params = match provider.rp() {
        Some(rp) => rp
            .open_callback(params)
            .await
            .map_err(|e| failed(Problem::LoginFailed, e))?,
        None => params,
    };
    let st = params
        .state()
        .map(str::to_owned)
        .ok_or_else(|| failed(Problem::LoginFailed, "callback without state"))?;
    // A logout state lives in the same storage under its own prefix: never a login's.
    if st.starts_with(super::logout::LOGOUT_STATE_PREFIX) {
        return Err(failed(
            Problem::LoginExpired,
            "a logout state at the callback",
        ));
    }
    let login = state
        .store
        .take_login_state(&st, UnixTime(now))
        .await
        .map_err(|e| failed(Problem::Internal, e))?
        .ok_or_else(|| {
            failed(
                Problem::LoginExpired,
                "unknown, expired or already used state",
            )
        })?;
    if login.provider != name {
        return Err(failed(
            Problem::LoginFailed,
            format!(
                "callback at provider {name} for a login started with {}",
                login.provider
            ),
        ));
    }
    let binding = binding_cookie(&state.settings, &st);
    // A login bound to its browser (every one with `bind_login`, and every one that carries
    // the application's `app_state`) completes only where the cookie with its random value is.
    if (state.settings.bind_login || login.binding.is_some())
        && !binding_matches(&login, headers, &binding)
    {
        return Err(failed(
            Problem::LoginExpired,
            "login-binding cookie missing or wrong: the callback reached a browser that did not start this login",
        ));
    }
    Ok((provider, params, login, binding))
}

/// The provider's access rules, then the application's login hook, on a completed login.
async fn admit(
    state: &AppState,
    name: &str,
    done: &Completed,
    login: &LoginState,
    slot: &mut AppSlot,
) -> Result<LoginDecision, Failed> {
    let claims = &done.claims;
    if let Some(policy) = state.settings.login_policies.get(name)
        && let Err(refusal) = policy.check(&Value::Object(claims.clone()))
    {
        return Err((
            "refused",
            PageError::new(
                Problem::AccessDenied,
                format_args!(
                    "login of {:?} at {name:?} refused: {refusal}",
                    state.settings.logged_subject(name, &done.sub)
                ),
            ),
        ));
    }
    Ok(state
        .login_hook
        .on_login(
            CompletedLogin {
                provider: name,
                issuer: &done.iss,
                subject: &done.sub,
                email: claims.get("email").and_then(Value::as_str),
                email_verified: identity::email_verified(&Value::Object(claims.clone())),
                name: names::display_name(claims).as_deref(),
                claims,
                return_to: &login.return_to,
                app_state: login.app_state.as_ref().map(Secret::expose),
            },
            slot,
        )
        .await)
}

/// The session a completed login starts at `now`.
fn session_record(
    s: &Settings,
    name: &str,
    done: Completed,
    login: &LoginState,
    csrf_token: Secret,
    now: u64,
) -> SessionRecord {
    let claims = done.claims;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    SessionRecord {
        provider: name.to_owned(),
        iss: done.iss,
        sub: done.sub,
        sid: done.sid,
        email: text("email"),
        name: names::display_name(&claims),
        access_token: Some(done.tokens.access_token.clone()),
        refresh_token: done.tokens.refresh_token.clone(),
        id_token: done.id_token,
        dpop_key: login.dpop_key.clone(),
        access_expires_at: done.tokens.expires_in.map(|e| now.saturating_add(e)),
        csrf_token,
        created_at: now,
        last_seen_at: now,
        idle_expires_at: now.saturating_add(s.idle_timeout),
        absolute_expires_at: now.saturating_add(s.absolute_timeout),
        version: 0,
        app_data: None,
        claims: Value::Object(claims),
    }
}

/// What a completed login yields, whatever the provider speaks.
struct Completed {
    iss: String,
    sub: String,
    sid: Option<String>,
    /// The identity claims (`iss`, `sub`, `email`, `email_verified`, `name`, …).
    claims: Map<String, Value>,
    tokens: TokenResponse,
    id_token: Option<Secret>,
}

fn login_error(e: relier::Error) -> Failed {
    match e {
        relier::Error::Callback(CallbackError::OpError { .. }) => failed(Problem::Denied, e),
        relier::Error::Http { .. } => failed(Problem::ProviderUnavailable, e),
        e => failed(Problem::LoginFailed, e),
    }
}

/// Checks the callback, exchanges the code and assembles the identity: from the ID token and
/// UserInfo (OpenID Connect), or from GitHub's API.
async fn exchange(
    state: &AppState,
    provider: &Provider,
    params: CallbackParams,
    login: &LoginState,
    apple_user: Option<String>,
) -> Result<Completed, Failed> {
    let pending = &login.pending;
    let started = Instant::now();
    let timed = |callback_failed: bool| {
        if !callback_failed {
            state.metrics.token_endpoint(started.elapsed());
        }
    };
    if let Some(gh) = provider.github() {
        let result = gh.complete_login(params, pending).await;
        timed(matches!(result, Err(relier::Error::Callback(_))));
        let mut done = result.map_err(login_error)?;
        // No refresh: a GitHub session lives by the gateway's own timeouts.
        done.tokens.refresh_token = None;
        return Ok(Completed {
            iss: done.identity.issuer.clone(),
            sub: done.identity.sub(),
            sid: None,
            claims: done.identity.claims(),
            tokens: done.tokens,
            id_token: None,
        });
    }
    // With DPoP, bound to the login's key (RFC 9449 §10: the code is bound to it).
    let rp = provider
        .rp_for(login.dpop_key.as_ref())
        .ok_or_else(|| failed(Problem::Internal, "provider without a relying party"))?;
    let result = rp.complete_login(params, pending).await;
    timed(matches!(result, Err(relier::Error::Callback(_))));
    let done = result.map_err(login_error)?;
    let idt = done.id_token.claims();
    let mut claims = identity_claims(provider, &rp, &done, idt).await?;
    if let Some(raw) = apple_user {
        add_apple_name(&mut claims, &raw, &provider.name);
    }
    let sub = subject(provider, idt, &claims)?;
    if let Some(overage) = identity::groups_overage(&claims) {
        tracing::warn!(provider = %provider.name, sub = %state.settings.logged_subject(&provider.name, &sub), source = %overage,
            "the ID token omits the user's groups (Entra ID groups overage: too many groups for a token) and they were not resolved through Microsoft Graph; allowed_groups cannot see them");
    }
    Ok(Completed {
        iss: idt.iss.clone(),
        sub,
        sid: idt.sid.clone(),
        claims,
        tokens: done.tokens.clone(),
        id_token: Some(done.id_token.raw().clone()),
    })
}

/// The user's stable identifier ([`Provider::subject`]).
fn subject(
    provider: &Provider,
    idt: &relier_core::IdTokenClaims,
    claims: &Map<String, Value>,
) -> Result<String, Failed> {
    provider.subject(&idt.sub, claims).map_err(|claim| {
        failed(
            Problem::LoginFailed,
            format!("neither the ID token nor UserInfo carries {claim}, this provider's subject"),
        )
    })
}

/// The identity claims of a login: the ID token's, then UserInfo's (when the OP has the
/// endpoint and the provider's `userinfo` policy wants it), each with its aggregated and
/// distributed claims resolved when the provider says so, protocol claims removed.
async fn identity_claims(
    provider: &Provider,
    rp: &relier::RelyingParty,
    done: &relier::Login,
    idt: &relier_core::IdTokenClaims,
) -> Result<Map<String, Value>, Failed> {
    let mut claims: Map<String, Value> = idt
        .all()
        .map_err(|e| failed(Problem::LoginFailed, e))?
        .clone();
    let resolve = provider.resolve_claims();
    if let Some(which) = resolve {
        resolve_claims(provider, rp, done, &mut claims, which).await;
    }
    if rp.metadata().userinfo_endpoint.is_some() && provider.wants_userinfo(&claims) {
        let mut info = rp
            .userinfo(&done.tokens.access_token, &idt.sub)
            .instrument(tracing::info_span!("userinfo", otel.kind = "client"))
            .await
            .map_err(|e| match e {
                relier::Error::Http { .. } => {
                    failed(Problem::ProviderUnavailable, format!("userinfo: {e}"))
                }
                e => failed(Problem::LoginFailed, format!("userinfo: {e}")),
            })?;
        if let Some(which) = resolve {
            resolve_claims(provider, rp, done, &mut info, which).await;
        }
        // An address from UserInfo carries its own verification: the ID token's flag, which
        // spoke of the ID token's address, is not carried over to a different one.
        if info
            .get("email")
            .is_some_and(|e| claims.get("email") != Some(e))
            && !info.contains_key("email_verified")
        {
            claims.remove("email_verified");
        }
        for (k, v) in info {
            if !matches!(k.as_str(), "iss" | "sub" | "aud") {
                claims.insert(k, v);
            }
        }
    }
    for c in DROPPED_CLAIMS {
        claims.remove(c);
    }
    Ok(claims)
}

/// OIDC Core §5.6.2: the aggregated and distributed claims of the ID token and UserInfo,
/// merged in; a source that fails is dropped and logged, never the login.
async fn resolve_claims(
    provider: &Provider,
    rp: &relier::RelyingParty,
    done: &relier::Login,
    claims: &mut Map<String, Value>,
    which: relier_core::claims_sources::Resolve,
) {
    let r = rp
        .resolve_claims(claims, &done.tokens.access_token, which)
        .await;
    if !r.merged.is_empty() {
        tracing::debug!(provider = %provider.name, claims = ?r.merged, "aggregated/distributed claims resolved");
    }
    for e in &r.dropped {
        tracing::warn!(provider = %provider.name, error = %e, "claims source dropped");
    }
}

/// Sign in with Apple's `user` form field: the name the ID token never carries, as `name`,
/// `given_name` and `family_name` (claims already there win). Apple does not sign the field
/// (it is what the user chose to share, bound to this login by `state`); one that cannot be
/// read is left out of the identity, not a reason to fail the login.
fn add_apple_name(claims: &mut Map<String, Value>, raw: &str, provider: &str) {
    let user = match relier_core::apple::parse_user(raw) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "Sign in with Apple: the user form field is ignored");
            return;
        }
    };
    for (claim, value) in [
        ("name", user.name()),
        ("given_name", user.first_name),
        ("family_name", user.last_name),
    ] {
        if let Some(v) = value
            && !claims.contains_key(claim)
        {
            claims.insert(claim.to_owned(), Value::String(v));
        }
    }
}
