//! `relier login --preset ftn`: a login through a Finnish Trust Network broker, with the
//! provider the gateway's `preset = "ftn"` builds ([`relier_gateway::standalone`]: the store's
//! RS256 key for the request object and the client assertion, its RSA-OAEP key for the
//! encrypted ID token, the broker's entity statement and signed JWK set). The loopback
//! listener is the relying party's public side for the login: its origin is the entity id,
//! it serves the signed JWK set the broker fetches at `/.well-known/signed-jwks`, and the
//! redirect URI is `{origin}/auth/callback/ftn` — the statement `relier federation
//! statement` prints for a configuration with that `public_url` is the one the broker needs.

use anyhow::{Context as _, bail};
use relier_gateway::standalone::StandaloneLogin;
use relier_store::Store;
use serde_json::{Map, Value};
use url::Url;

use crate::args::{LoginArgs, StoreArgs};
use crate::loopback::Listener;
use crate::preset::Expanded;

/// Run the login.
pub(super) async fn run(a: &LoginArgs, e: &Expanded, store: &StoreArgs) -> anyhow::Result<()> {
    let name = e.preset.to_string();
    let name = name.as_str();
    let Some(spec) = a.redirect_uri.as_ref() else {
        bail!(
            "--preset ftn needs --redirect-uri http://127.0.0.1:PORT/auth/callback/{name}: the \
             redirect URI of the statement the broker has (a fixed port)"
        );
    };
    let listener = Listener::bind(spec).await?;
    let redirect = Url::parse(listener.redirect_uri().as_str()).context("--redirect-uri")?;
    if redirect.path() != format!("/auth/callback/{name}") {
        listener.shutdown().await;
        bail!("--preset ftn: the --redirect-uri path must be /auth/callback/{name}");
    }
    let origin = redirect.origin().ascii_serialization();
    let mut config =
        relier_gateway::Config::from_toml(&format!("public_url = \"{origin}\"\n[federation]\n"))?;
    config.push_provider(name, e.settings.clone());
    let opened = crate::store::open(store).await?;
    let result = login(a, &config, name, &*opened, listener).await;
    opened.close().await;
    result
}

/// The login on the open store; the listener is shut down on every path.
async fn login(
    a: &LoginArgs,
    config: &relier_gateway::Config,
    name: &str,
    store: &dyn Store,
    listener: Listener,
) -> anyhow::Result<()> {
    let prepared = async {
        let built = StandaloneLogin::build(config, name, store).await?;
        let start = built.start().await?;
        let rp = built
            .relying_party(&start)
            .context("the provider has no relying party")?;
        anyhow::Ok((built, start, rp))
    }
    .await;
    let (built, start, rp) = match prepared {
        Ok(p) => p,
        Err(e) => {
            listener.shutdown().await;
            return Err(e);
        }
    };
    if let Some(jwks) = built.signed_jwks() {
        listener.publish_signed_jwks(jwks);
    }
    let (callback, listener) = super::browser_round_trip(a, listener, &start.url).await?;
    let result = async {
        let (login, userinfo) = super::complete(&rp, callback.params, &start.pending).await?;
        let mut claims: Map<String, Value> = login.id_token.claims().all()?.clone();
        claims.extend(
            userinfo
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let subject = built
            .subject(&login.id_token.claims().sub, &claims)
            .map_err(|claim| {
                anyhow::anyhow!(
                    "neither the ID token nor UserInfo carries {claim}, this provider's subject"
                )
            })?;
        anyhow::Ok((login, userinfo, subject))
    }
    .await;
    super::finish(callback.reply, listener, result.as_ref().map(|_| ())).await;
    let (login, userinfo, subject) = result?;
    super::report(a, &rp, &login, userinfo, None, Some(subject)).await
}
