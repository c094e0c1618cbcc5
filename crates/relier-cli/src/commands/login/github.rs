//! `relier login --preset github`: GitHub is OAuth 2.0, not OpenID Connect — no discovery,
//! no ID token. The authorization code flow with state and PKCE on the loopback redirect, then
//! the identity from GitHub's API ([`relier::GitHubClient`]): subject = the numeric user id,
//! `preferred_username` = the login, e-mail = the primary verified address.

use std::fmt::Write as _;

use anyhow::Context as _;
use relier::{GitHubClient, HttpClient};
use relier_core::AuthorizationParams;
use relier_core::github::GitHubEndpoints;
use serde_json::{Value, json};

use super::{browser_round_trip, finish};
use crate::args::LoginArgs;
use crate::loopback::{Listener, RedirectSpec};
use crate::preset::Expanded;
use crate::{credentials, output};

/// Run the login.
pub async fn run(a: &LoginArgs, e: &Expanded) -> anyhow::Result<()> {
    let Some(client_id) = &a.client.client_id else {
        anyhow::bail!("--preset github needs --client-id (the OAuth App's Client ID)");
    };
    let loaded = credentials::load_args(&a.client)?;
    let secret = loaded.secret.clone().context(
        "--preset github: the client secret is missing: use --client-secret-env VAR or --client-secret-file FILE",
    )?;
    let http = HttpClient::new(&loaded.http_config())?;
    let endpoints = GitHubEndpoints::new(e.issuer()?.as_str())?;
    let spec = a
        .redirect_uri
        .clone()
        .unwrap_or_else(RedirectSpec::default_ephemeral);
    let listener = Listener::bind(&spec).await?;
    let gh = GitHubClient::new(
        http,
        endpoints,
        client_id.clone(),
        secret,
        listener.redirect_uri().clone(),
    );
    let params = AuthorizationParams {
        scopes: e.settings.scopes.clone().unwrap_or_default(),
        prompt: a.prompt.clone(),
        login_hint: a.login_hint.clone(),
        extra: a.auth_param.clone(),
        ..Default::default()
    };
    let (url, pending) = gh.authorization_url(&params)?;
    let (callback, listener) = browser_round_trip(a, listener, &url).await?;
    let result = match callback.params {
        Ok(p) => gh
            .complete_login(p, &pending)
            .await
            .map_err(anyhow::Error::from),
        Err(err) => Err(err.into()),
    };
    finish(callback.reply, listener, result.as_ref().map(|_| ())).await;
    let login = result?;
    let identity = &login.identity;
    let claims = identity.claims();
    if a.json {
        return output::json_stdout(&json!({
            "provider": "github",
            "iss": identity.issuer,
            "sub": identity.sub(),
            "identity": Value::Object(claims),
            "token_type": login.tokens.token_type,
            "scope": login.tokens.scope,
            "access_token": login.tokens.access_token.expose(),
        }));
    }
    let mut s = String::new();
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    for (k, v) in [
        (
            "provider",
            "github (OAuth 2.0, not OpenID Connect)".to_owned(),
        ),
        ("iss", identity.issuer.clone()),
        ("sub", identity.sub()),
        ("login", text("preferred_username")),
        ("name", text("name")),
        ("email", text("email")),
    ] {
        let _ = writeln!(s, "{k:<15} {}", output::one_line(&v));
    }
    output::stdout(&s)
}
