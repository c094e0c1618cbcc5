//! `relier login`: the RFC 8252 native-app flow. Bind the loopback redirect URI, print the
//! authorization URL (alone on its stderr line), open a browser, wait for the response, check it,
//! exchange the code, validate the ID token, call UserInfo, and answer the browser.

use std::process::Stdio;
use std::time::Duration;

use relier::{Login, RelyingParty};
use relier_core::AuthorizationParams;
use relier_core::authorize::{CallbackError, CallbackParams, PendingLogin};
use relier_core::discovery::Endpoint;
use serde_json::{Map, Value};

use super::Session;
use crate::args::{LoginArgs, StoreArgs};
use crate::clock::now_secs;
use crate::loopback::Listener;
use crate::output;

/// Run `login`.
pub async fn run(a: &LoginArgs, store: &StoreArgs) -> anyhow::Result<()> {
    let session = Session::connect(&a.client, store).await?;
    let spec = session.redirect_spec(a.redirect_uri.as_ref())?;
    let scope = session.scopes(a.scope.as_deref());
    let mut listener = Listener::bind(&spec).await?;
    let rp = session
        .relying_party(
            &a.validation,
            Some(listener.redirect_uri().clone()),
            a.userinfo_signed_alg,
        )?
        .with_pushed_authorization_requests(a.par);
    let params = AuthorizationParams {
        scopes: vec![scope],
        prompt: a.prompt.clone(),
        max_age: a.max_age,
        login_hint: a.login_hint.clone(),
        acr_values: a.acr_values.clone(),
        response_mode: a.response_mode.map(|m| m.as_str().to_owned()),
        extra: a.auth_param.clone(),
    };
    let (url, pending) = rp.login_url(&params).await?;

    output::note(&format!(
        "open this URL in a browser to log in (waiting up to {} s for {}):",
        a.timeout,
        listener.redirect_uri()
    ));
    output::raw_stderr_line(url.as_str());
    if !a.no_browser {
        open_browser(url.as_str());
    }

    let callback = match listener.next_callback(Duration::from_secs(a.timeout)).await {
        Ok(cb) => cb,
        Err(e) => {
            listener.shutdown().await;
            return Err(e);
        }
    };
    let result = complete(&rp, callback.params, &pending).await;
    // The browser gets its page before relier exits.
    let _ = callback
        .reply
        .send(result.as_ref().map(|_| ()).map_err(output::chain));
    listener.shutdown().await;
    let (login, userinfo) = result?;

    let method = rp.auth().method();
    let id_token = Some(&login.id_token);
    if a.json {
        output::json_stdout(&output::tokens_json(
            method,
            &login.tokens,
            id_token,
            userinfo.as_ref(),
        ))
    } else {
        output::stdout(&output::tokens_human(
            method,
            &login.tokens,
            id_token,
            userinfo.as_ref(),
            now_secs(),
        ))
    }
}

/// Check the callback, exchange the code, validate, and call UserInfo when the OP has one.
async fn complete(
    rp: &RelyingParty,
    params: Result<CallbackParams, CallbackError>,
    pending: &PendingLogin,
) -> anyhow::Result<(Login, Option<Map<String, Value>>)> {
    let login = rp.complete_login(params?, pending).await?;
    let has_userinfo = rp
        .metadata()
        .endpoint(Endpoint::UserInfo, rp.auth().uses_mtls())
        .is_some();
    let userinfo = if has_userinfo {
        Some(
            rp.userinfo(&login.tokens.access_token, &login.id_token.claims().sub)
                .await?,
        )
    } else {
        None
    };
    Ok((login, userinfo))
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
