//! `relier login`: the RFC 8252 native-app flow. Bind the loopback redirect URI, print the
//! authorization URL (alone on its stderr line), open a browser, wait for the response, check it,
//! exchange the code, validate the ID token, call UserInfo, and answer the browser. With
//! `--preset`, the provider's rules ([`crate::preset`]); GitHub has a flow of its own
//! ([`github`]: OAuth 2.0 and its API). With `--device`, the device authorization grant
//! ([`device`], RFC 8628) instead of a browser on this machine.

mod device;
mod ftn;
mod github;

use std::process::Stdio;
use std::time::Duration;

use relier::{Login, RelyingParty};
use relier_core::AuthorizationParams;
use relier_core::authorize::{CallbackError, CallbackParams, PendingLogin};
use relier_core::claims_sources::Resolve;
use relier_core::discovery::Endpoint;
use serde_json::{Map, Value};

use relier::preset::Preset;

use super::Session;
use crate::args::{LoginArgs, RequestObjectArg, StoreArgs};
use crate::clock::now_secs;
use crate::loopback::{Callback, Listener};
use crate::{output, preset};

/// Run `login`.
pub async fn run(a: &LoginArgs, store: &StoreArgs) -> anyhow::Result<()> {
    if a.device {
        return device::run(a, store).await;
    }
    let preset = preset::expand(
        &a.client,
        a.scope.as_deref(),
        a.response_mode.map(|m| m.as_str()),
    )?;
    let session = match &preset {
        Some(e) if e.preset == Preset::GitHub => return github::run(a, e).await,
        Some(e) if e.preset == Preset::Ftn => return ftn::run(a, e, store).await,
        Some(e) => Session::from_preset(&a.client, e).await?,
        None => Session::connect(&a.client, store).await?,
    };
    let session = session.with_profile(&a.security).await?;
    let response_mode = match &preset {
        Some(e) => e.response_mode().map(str::to_owned),
        None => a.response_mode.map(|m| m.as_str().to_owned()),
    };
    let apple = preset.as_ref().is_some_and(|e| e.preset == Preset::Apple);
    let spec = session.redirect_spec(a.redirect_uri.as_ref())?;
    let scope = session.scopes(a.scope.as_deref());
    let listener = Listener::bind(&spec).await?;
    let by_reference = a.request_object == Some(RequestObjectArg::ByReference);
    let session = if by_reference {
        session.with_request_uri(listener.request_objects())
    } else {
        session
    };
    let rp = session
        .relying_party(
            &a.validation,
            Some(listener.redirect_uri().clone()),
            a.userinfo_signed_alg,
        )?
        .with_pushed_authorization_requests(a.par);
    if by_reference && !rp.uses_request_objects() {
        anyhow::bail!(
            "--request-object by-reference: this provider sends no request objects (register request_object_signing_alg)"
        );
    }
    let params = AuthorizationParams {
        scopes: vec![scope],
        prompt: a.prompt.clone(),
        max_age: a.max_age,
        login_hint: a.login_hint.clone(),
        acr_values: a.acr_values.clone(),
        response_mode,
        extra: a.auth_param.clone(),
    };
    let (url, pending) = rp.login_url(&params).await?;
    let (callback, listener) = browser_round_trip(a, listener, &url).await?;
    // Sign in with Apple: the user's name, on the first authorization only.
    let user = apple.then(|| apple_user(&callback.raw)).flatten();
    let result = complete(&rp, callback.params, &pending).await;
    finish(callback.reply, listener, result.as_ref().map(|_| ())).await;
    let (login, userinfo) = result?;
    report(a, &rp, &login, userinfo, user, None).await
}

/// The end of a login (browser or device): its claim sources resolved with `--resolve-claims`,
/// then the result printed.
async fn report(
    a: &LoginArgs,
    rp: &RelyingParty,
    login: &Login,
    mut userinfo: Option<Map<String, Value>>,
    user: Option<Map<String, Value>>,
    subject: Option<String>,
) -> anyhow::Result<()> {
    let resolved = if a.resolve_claims {
        Some(resolve_claims(rp, login, userinfo.as_mut()).await?)
    } else {
        None
    };
    print(
        a,
        rp.auth().method(),
        login,
        userinfo.as_ref(),
        user,
        resolved,
        subject,
    )
}

/// The result of a login (browser or device), as JSON with `--json`, else for people;
/// `subject` is the user's stable identifier when it is not `sub` (`--preset ftn`).
fn print(
    a: &LoginArgs,
    method: relier_core::AuthMethod,
    login: &Login,
    userinfo: Option<&Map<String, Value>>,
    user: Option<Map<String, Value>>,
    resolved: Option<Map<String, Value>>,
    subject: Option<String>,
) -> anyhow::Result<()> {
    let id_token = Some(&login.id_token);
    if a.json {
        let mut out = output::tokens_json(method, &login.tokens, id_token, userinfo);
        if let (Some(u), Some(obj)) = (user, out.as_object_mut()) {
            obj.insert("user".into(), Value::Object(u));
        }
        if let (Some(r), Some(obj)) = (resolved, out.as_object_mut()) {
            obj.insert("resolved_claims".into(), Value::Object(r));
        }
        if let (Some(s), Some(obj)) = (subject, out.as_object_mut()) {
            obj.insert("subject".into(), Value::String(s));
        }
        output::json_stdout(&out)
    } else {
        let mut text = output::tokens_human(method, &login.tokens, id_token, userinfo, now_secs());
        if let Some(name) = user.as_ref().and_then(|u| u.get("name")?.as_str()) {
            text.push_str(&format!("{:<15} {name}\n", "name (Apple)"));
        }
        if let Some(s) = subject {
            text.push_str(&format!("{:<15} {s}\n", "subject"));
        }
        for (claim, value) in resolved.iter().flatten() {
            text.push_str(&format!("{:<15} {value}\n", format!("{claim} (resolved)")));
        }
        output::stdout(&text)
    }
}

/// Print the authorization URL (and open a browser), then wait for the response on the
/// loopback listener; on failure the listener is shut down.
async fn browser_round_trip(
    a: &LoginArgs,
    mut listener: Listener,
    url: &url::Url,
) -> anyhow::Result<(Callback, Listener)> {
    output::note(&format!(
        "open this URL in a browser to log in (waiting up to {} s for {}):",
        a.timeout,
        listener.redirect_uri()
    ));
    output::raw_stderr_line(url.as_str());
    if !a.no_browser {
        open_browser(url.as_str());
    }
    match listener.next_callback(Duration::from_secs(a.timeout)).await {
        Ok(cb) => Ok((cb, listener)),
        Err(e) => {
            listener.shutdown().await;
            Err(e)
        }
    }
}

/// Answer the browser with the outcome, then stop listening (the page is sent before relier
/// exits).
async fn finish(
    reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    listener: Listener,
    outcome: Result<(), &anyhow::Error>,
) {
    let _ = reply.send(outcome.map_err(output::chain));
    listener.shutdown().await;
}

/// Sign in with Apple's `user` field as `name`, `given_name`, `family_name`; one that cannot
/// be read is reported and left out.
fn apple_user(raw: &[u8]) -> Option<Map<String, Value>> {
    let field = url::form_urlencoded::parse(raw)
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())?;
    let user = match relier_core::apple::parse_user(&field) {
        Ok(u) => u,
        Err(e) => {
            output::note(&format!("warning: {e}; the name is left out"));
            return None;
        }
    };
    let mut m = Map::new();
    for (k, v) in [
        ("name", user.name()),
        ("given_name", user.first_name),
        ("family_name", user.last_name),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v));
        }
    }
    Some(m)
}

/// Check the callback, exchange the code, validate, and call UserInfo when the OP has one.
async fn complete(
    rp: &RelyingParty,
    params: Result<CallbackParams, CallbackError>,
    pending: &PendingLogin,
) -> anyhow::Result<(Login, Option<Map<String, Value>>)> {
    let login = rp.complete_login(params?, pending).await?;
    let userinfo = userinfo(rp, &login).await?;
    Ok((login, userinfo))
}

/// UserInfo for a completed login, when the OP has the endpoint.
async fn userinfo(rp: &RelyingParty, login: &Login) -> anyhow::Result<Option<Map<String, Value>>> {
    let has_userinfo = rp
        .metadata()
        .endpoint(Endpoint::UserInfo, rp.auth().uses_mtls())
        .is_some();
    if !has_userinfo {
        return Ok(None);
    }
    Ok(Some(
        rp.userinfo(&login.tokens.access_token, &login.id_token.claims().sub)
            .await?,
    ))
}

/// OIDC Core §5.6.2: resolves the aggregated and distributed claims of the ID token and of
/// UserInfo (merged into `userinfo` in place); returns the claims resolved. A source that
/// fails is dropped with a warning.
async fn resolve_claims(
    rp: &RelyingParty,
    login: &Login,
    userinfo: Option<&mut Map<String, Value>>,
) -> anyhow::Result<Map<String, Value>> {
    let mut id_claims = login.id_token.claims().all()?.clone();
    let mut resolved = Map::new();
    for claims in std::iter::once(&mut id_claims).chain(userinfo) {
        let r = rp
            .resolve_claims(claims, &login.tokens.access_token, Resolve::All)
            .await;
        for e in &r.dropped {
            output::note(&format!("warning: {e}"));
        }
        for name in r.merged {
            if let Some(v) = claims.get(&name) {
                resolved.insert(name, v.clone());
            }
        }
    }
    Ok(resolved)
}

/// Start the platform's URL opener; failure only earns a hint.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("rundll32", vec!["url.dll,FileProtocolHandler", url])
    } else {
        ("xdg-open", vec![url])
    };
    let hint = "open the URL above in a browser yourself (or use --no-browser)";
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        // stdout carries relier's JSON only
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            tokio::spawn(async move {
                match child.wait().await {
                    Ok(status) if status.success() => {}
                    Ok(status) => output::note(&format!("{program} failed ({status}); {hint}")),
                    Err(e) => output::note(&format!("{program} failed ({e}); {hint}")),
                }
            });
        }
        Err(e) => output::note(&format!("could not start {program} ({e}); {hint}")),
    }
}
