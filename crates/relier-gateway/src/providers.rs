//! One [`RelyingParty`] per provider (its JWKS cache lives there), built at start from the
//! inline configuration or the store's registry. A provider authenticating with the store's
//! key (private_key_jwt) gets a new `RelyingParty` when a key becomes active — switched by its
//! own relying-party access ([`store_key`]), so client assertions are always signed with the
//! currently active key; one whose ID tokens are encrypted to the store's encryption keys gets
//! one whenever those keys change.

mod apple;
mod binding;
mod credentials;
mod federation;
mod ftn;
mod github;
mod list;
mod metadata;
mod registration;
mod responses;
mod spec;
mod store_key;

use std::borrow::Cow;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use relier::credentials::{self as creds, ClientCredentials};
use relier::provider::{ProviderError, ProviderSpec, ResponseKeys};
use relier::request_uri::{PendingRequestObjects, RequestObjectHost};
use relier::{GitHubClient, HttpClient, RelyingParty};
use relier_core::encryption::{DecryptionKeys, EncryptedResponse, KeyManagementAlg};
use relier_core::{
    Algorithm, AuthorizationParams, ClientAuth, IssuerUrl, PendingLogin, ProviderMetadata,
    RedirectUrl,
};
use relier_jose::SigningKey;
use relier_store::Store;
use store_key::KeySlot;

use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;
use crate::presets::{self, Preset};
use crate::templates::Brand;
use crate::userinfo::UserinfoNeed;
pub use binding::LoginStart;
pub use list::{Providers, build_all, check_static};
pub(crate) use metadata::relying_party_metadata;
use relier_core::claims_sources::Resolve;
use spec::{Spec, StoreKey};
pub use spec::{needed_enc_algs, needed_store_algs};
use url::Url;

/// A configured provider.
pub struct Provider {
    /// Local name (in URLs).
    pub name: String,
    /// Button text.
    pub display_name: String,
    protocol: Protocol,
    params: AuthorizationParams,
    /// The claim that is the user's stable identifier instead of `sub` (`preset = "ftn"`:
    /// `personal_identity_code`).
    pub subject_claim: Option<&'static str>,
    /// `preset = "ftn"`: the cancel rule and the embedded chooser.
    ftn: Option<ftn::Ftn>,
}

/// How the provider is spoken to.
enum Protocol {
    /// An OpenID Connect provider.
    Oidc(Box<Oidc>),
    /// GitHub: OAuth 2.0 with the identity from its REST API (no ID token, no discovery, no
    /// end_session, no back-channel logout, no refresh).
    GitHub(Box<GitHubClient>),
}

/// An OpenID Connect provider's relying party and what rebuilds it on a key change.
struct Oidc {
    rp: RwLock<Arc<RelyingParty>>,
    tpl: Template,
    store_key_alg: Option<Algorithm>,
    /// The store key in use and the published keys that follow it.
    keys: KeySlot,
    /// The kids of the store's encryption keys the relying party decrypts with (RP-key
    /// algorithms only), sorted.
    enc_kids: Mutex<Vec<String>>,
    /// Sign in with Apple: the client secret relier mints.
    apple: Option<apple::AppleSecret>,
    userinfo: UserinfoNeed,
    /// Which aggregated and distributed claims logins resolve (OIDC Core §5.6.2).
    resolve: Option<Resolve>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Provider");
        d.field("name", &self.name);
        match &self.protocol {
            Protocol::Oidc(o) => d
                .field("issuer", &o.tpl.metadata.issuer)
                .field("method", &o.tpl.spec.client.method)
                .field("store_key_alg", &o.store_key_alg),
            Protocol::GitHub(g) => d.field("github", &g.endpoints().issuer),
        };
        d.finish_non_exhaustive()
    }
}

impl Oidc {
    /// Installs a new Apple client secret when the one in use is due for renewal. A failure is
    /// logged: the secret in use stays until it expires, and Apple then refuses the token
    /// request (`invalid_client`).
    fn renew_apple_secret(&self, a: &apple::AppleSecret, provider: &str) {
        let renewed = a.renewed(crate::clock::now()).map_err(relier::Error::from);
        let rebuilt = match renewed {
            Ok(Some(auth)) => self.rp.read().with_client_auth(auth).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match rebuilt {
            Ok(Some(rp)) => {
                *self.rp.write() = Arc::new(rp);
                tracing::info!(provider = %provider, "Sign in with Apple: new client secret minted");
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(provider = %provider, error = %e, "Sign in with Apple: could not mint a new client secret");
            }
        }
    }
}

/// What is needed to (re)build the provider's `RelyingParty`.
struct Template {
    http: HttpClient,
    metadata: ProviderMetadata,
    credentials: ClientCredentials,
    /// The one assembly's input ([`relier::provider`]).
    spec: ProviderSpec,
    /// The store's keys for the encrypted responses.
    keys: ResponseKeys,
}

impl Template {
    /// The client authentication, signing with `key` (the store's active key) if given.
    fn client_auth(&self, key: Option<&SigningKey>) -> Result<ClientAuth, relier::Error> {
        let with_key;
        let credentials = match key {
            Some(key) => {
                with_key = ClientCredentials {
                    key: Some(key.clone()),
                    ..self.credentials.clone()
                };
                &with_key
            }
            None => &self.credentials,
        };
        Ok(self.spec.client_auth(credentials, &self.metadata)?.auth)
    }

    fn build(&self) -> Result<RelyingParty, relier::Error> {
        let auth = self.client_auth(None)?;
        self.spec.relying_party(
            self.http.clone(),
            self.metadata.clone(),
            &self.credentials,
            auth,
            &self.keys,
        )
    }
}

impl Provider {
    /// The user's stable identifier: `sub`, or the provider's subject claim (ISB README §9:
    /// the broker's `sub` is "not persistent"; the personal identity code is), which `claims`
    /// (the ID token's, then UserInfo's) must carry as a non-empty string.
    ///
    /// # Errors
    /// The subject claim's name when `claims` lacks it.
    pub fn subject(
        &self,
        sub: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, &'static str> {
        let Some(claim) = self.subject_claim else {
            return Ok(sub.to_owned());
        };
        claims
            .get(claim)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or(claim)
    }

    /// The current relying party of an OpenID Connect provider (cheap: an `Arc` clone under a
    /// read lock); `None` for GitHub. With the store key: signing with the key active now (a
    /// published key switched to when its activation time has come, [`store_key`]). Sign in
    /// with Apple: with a client secret that is not about to expire (re-minted first if it is).
    pub fn rp(&self) -> Option<Arc<RelyingParty>> {
        match &self.protocol {
            Protocol::Oidc(o) => {
                if let Some(a) = &o.apple {
                    o.renew_apple_secret(a, &self.name);
                }
                Some(o.current(crate::clock::now(), &self.name))
            }
            Protocol::GitHub(_) => None,
        }
    }

    /// Whether the OP's signing keys are loaded (always, for GitHub, which signs nothing).
    pub fn op_keys_loaded(&self) -> bool {
        match &self.protocol {
            Protocol::Oidc(o) => o.rp.read().op_keys_loaded(),
            Protocol::GitHub(_) => true,
        }
    }

    /// Fetches the OP's signing keys unless they are loaded (the start's readiness; a login
    /// fetches them as well when they are missing).
    pub async fn load_op_keys(&self) -> Result<(), relier::Error> {
        match self.rp() {
            Some(rp) if !rp.op_keys_loaded() => rp.keys(false).await.map(drop),
            _ => Ok(()),
        }
    }

    /// Whether this is a `preset = "apple"` provider (its callback may carry the `user` field).
    pub fn is_apple(&self) -> bool {
        matches!(&self.protocol, Protocol::Oidc(o) if o.apple.is_some())
    }

    /// Whether to call UserInfo after a login whose ID token carries `id_claims`
    /// ([`crate::userinfo`]); never for GitHub (its identity is its API's).
    pub fn wants_userinfo(&self, id_claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        match &self.protocol {
            Protocol::Oidc(o) => o.userinfo.wanted(id_claims),
            Protocol::GitHub(_) => false,
        }
    }

    /// Which aggregated and distributed claims (OIDC Core §5.6.2) this provider's logins
    /// resolve, if any.
    pub fn resolve_claims(&self) -> Option<Resolve> {
        match &self.protocol {
            Protocol::Oidc(o) => o.resolve,
            Protocol::GitHub(_) => None,
        }
    }

    /// The GitHub client of a `preset = "github"` provider.
    pub fn github(&self) -> Option<&GitHubClient> {
        match &self.protocol {
            Protocol::GitHub(g) => Some(g),
            Protocol::Oidc(_) => None,
        }
    }

    /// The URL to send the browser to, and what to keep until the callback.
    ///
    /// # Errors
    /// The request cannot be built, or a pushed authorization request (RFC 9126) failed.
    #[cfg(test)]
    pub async fn login_url(&self) -> Result<(Url, PendingLogin), relier::Error> {
        self.login_url_with(&self.params).await
    }

    /// [`Self::login_url`] with `params` in place of the provider's own.
    pub(crate) async fn login_url_with(
        &self,
        params: &AuthorizationParams,
    ) -> Result<(Url, PendingLogin), relier::Error> {
        match &self.protocol {
            Protocol::Oidc(o) => {
                let rp = o.current(crate::clock::now(), &self.name);
                rp.login_url(params).await
            }
            Protocol::GitHub(g) => g.authorization_url(params),
        }
    }

    /// The provider's authorization parameters with `login_hint` (OIDC Core §3.1.2.1, e.g.
    /// from a third-party-initiated login, §4) in place of the configured one, and the
    /// identity provider chosen on the embedded chooser (`ftn_idp_id`, ISB README §7), if
    /// given.
    pub(crate) fn params_hinted(
        &self,
        login_hint: Option<&str>,
        ftn_idp_id: Option<&str>,
    ) -> Cow<'_, AuthorizationParams> {
        if login_hint.is_none() && ftn_idp_id.is_none() {
            return Cow::Borrowed(&self.params);
        }
        let mut p = self.params.clone();
        if let Some(h) = login_hint {
            p.login_hint = Some(h.to_owned());
        }
        if let Some(id) = ftn_idp_id {
            p.extra
                .push((relier_core::ftn::IDP_CLAIM.to_owned(), id.to_owned()));
        }
        Cow::Owned(p)
    }

    /// The OpenID Connect issuer (`None` for GitHub, which has none).
    pub fn issuer(&self) -> Option<String> {
        match &self.protocol {
            Protocol::Oidc(o) => Some(o.rp.read().metadata().issuer.as_str().to_owned()),
            Protocol::GitHub(_) => None,
        }
    }

    /// The store key algorithm, for providers signing with the gateway's own key.
    pub fn store_key_alg(&self) -> Option<Algorithm> {
        match &self.protocol {
            Protocol::Oidc(o) => o.store_key_alg,
            Protocol::GitHub(_) => None,
        }
    }

    /// The responses encrypted to the store's keys, with their key-management algorithms.
    pub fn store_enc_algs(&self) -> Vec<(EncryptedResponse, KeyManagementAlg)> {
        match &self.protocol {
            Protocol::Oidc(o) => o.tpl.spec.registration.rp_key_algs(),
            Protocol::GitHub(_) => Vec::new(),
        }
    }

    /// The kids of the encryption keys in use, sorted.
    pub fn current_enc_kids(&self) -> Vec<String> {
        match &self.protocol {
            Protocol::Oidc(o) => o.enc_kids.lock().clone(),
            Protocol::GitHub(_) => Vec::new(),
        }
    }

    /// Decrypts with these keys from now on (the store's encryption keys changed); `kids` are
    /// all their key ids, sorted.
    pub fn install_decryption_keys(
        &self,
        keys: Vec<(EncryptedResponse, DecryptionKeys)>,
        kids: Vec<String>,
    ) {
        let Protocol::Oidc(o) = &self.protocol else {
            return;
        };
        // Under the write lock: a key switch at the same moment is not lost.
        let mut current = o.rp.write();
        let mut rp: Option<RelyingParty> = None;
        for (which, set) in keys {
            rp = Some(
                rp.as_ref()
                    .unwrap_or(&current)
                    .with_decryption_keys(which, set),
            );
        }
        if let Some(rp) = rp {
            *current = Arc::new(rp);
        }
        drop(current);
        tracing::info!(provider = %self.name, kids = ?kids, "now decrypting with the store's encryption keys");
        *o.enc_kids.lock() = kids;
    }
}

/// Where request objects are served by reference, under `public_url` (the id follows).
pub const REQUEST_PATH: &str = "/auth/request/";

/// Why a provider could not be built.
#[derive(Debug)]
enum Failure {
    /// A mistake in the configuration or the store: the gateway does not start.
    Fatal(GatewayError),
    /// The OP's discovery document could not be had: retried in the background.
    Unreachable(GatewayError),
}

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<relier_store::StoreError> for Failure {
    fn from(e: relier_store::StoreError) -> Self {
        Failure::Fatal(e.into())
    }
}

async fn build_one(
    config: &Config,
    p: &ProviderConfig,
    mut spec: Spec,
    redirect: &str,
    store: &dyn Store,
    request_uri: Option<Arc<PendingRequestObjects>>,
) -> Result<Provider, Failure> {
    let name = spec.name.clone();
    let err = |e: &dyn std::fmt::Display| GatewayError::provider(&name, e);
    let mut credentials = credentials::load(&spec.name, &spec.sources)?;
    // Sign in with Apple: the first client secret, minted now.
    let apple = match p.preset() {
        Some(Preset::Apple) => {
            let (minter, first) = apple::AppleSecret::start(config, p, crate::clock::now())?;
            credentials.secret = Some(first);
            Some(minter)
        }
        _ => None,
    };
    let http = HttpClient::new(&credentials.http_config()).map_err(|e| err(&e))?;
    let trust = federation::Trust::load(config, p, crate::clock::now())?;
    let issuer = IssuerUrl::new(
        trust
            .issuer()
            .map_or_else(|| spec.issuer.clone(), str::to_owned),
    )
    .map_err(|e| err(&e))?;
    let discovered = match (trust.issuer(), &spec.provider.tenants) {
        // OpenID Federation: the metadata is the statement's; no discovery request.
        (Some(_), _) => None,
        (None, Some(_)) => Some(relier::discover_entra(&http, &issuer).await),
        (None, None) => Some(relier::discover(&http, &issuer).await),
    };
    let discovered = discovered.transpose().map_err(|e| {
        let failed = err(&format!("discovery of {} failed: {e}", issuer.as_str()));
        // OIDC Discovery 1.0 §4.3: an OP that answers for another issuer is a configuration
        // mistake or a mix-up, not an outage — waiting for it would hide it: the start fails.
        if matches!(
            e,
            relier::Error::Discovery(relier_core::discovery::DiscoveryError::IssuerMismatch { .. })
        ) {
            Failure::Fatal(failed)
        } else {
            Failure::Unreachable(failed)
        }
    })?;
    let (metadata, signed_jwks) = trust
        .into_metadata(discovered)
        .ok_or_else(|| err(&"no provider metadata"))?;
    let store_key_alg = match spec.store_key {
        Some(StoreKey::Configured(alg)) => Some(alg),
        Some(StoreKey::Registered(registered)) => {
            let active = store.active_algs().await?;
            Some(creds::registered_key_alg(registered, &active, &metadata).map_err(|e| err(&e))?)
        }
        None => None,
    };
    if let Some(alg) = store_key_alg {
        let key = store.signing_key(alg).await?.ok_or_else(|| {
            err(&format!(
                "the store has no active {alg} key for private_key_jwt"
            ))
        })?;
        credentials.key = Some(key);
    }
    let kid = store_key_alg
        .and(credentials.key.as_ref())
        .and_then(|k| k.kid().map(str::to_owned));
    let keys = responses::load_keys(&spec.provider.registration, store)
        .await
        .map_err(|e| err(&e))?;
    let enc_kids = keys.key_ids();
    spec.provider.redirect_uri = Some(RedirectUrl::new(redirect).map_err(|e| err(&e))?);
    spec.provider.request_uri = request_uri.map(|h| h as Arc<dyn RequestObjectHost>);
    spec.provider.signed_jwks = signed_jwks;
    let tpl = Template {
        http,
        metadata,
        credentials,
        spec: spec.provider,
        keys,
    };
    let rp = tpl.build().map_err(|e| err(&missing_hint(e)))?;
    if tpl.spec.request_uri.is_some() && !rp.uses_request_objects() {
        return Err(Failure::Fatal(err(
            &"request_object = \"by_reference\" needs request objects: register request_object_signing_alg (or require_signed_request_object)",
        )));
    }
    if rp.uses_request_objects()
        && tpl.spec.registration.request_objects.alg == Some(Algorithm::None)
    {
        tracing::warn!(provider = %spec.name, "request_object_signing_alg is \"none\": this provider's request objects are unsigned (OIDC Core §6.1)");
    }
    if let Some(profile) = p.settings.profile {
        // FAPI 2.0 Security Profile §5.4.1: the OP's keys are sized before the first login.
        relier::profile::check_op_keys(&tpl.http, &tpl.metadata, profile)
            .await
            .map_err(|e| err(&e))?;
    }
    if let (true, Some(key)) = (
        tpl.spec.certificate_credential,
        tpl.credentials.key.as_ref(),
    ) {
        let cert = relier::certificate::key_certificate(key).map_err(|e| err(&e))?;
        tracing::info!(provider = %spec.name, kid = ?key.kid(), x5t_s256 = %cert.x5t_s256,
            "Entra ID certificate credential: upload the certificate `relier keys cert` prints for this key");
    }
    let client_id = tpl.spec.client.client_id.as_str();
    let ftn = ftn::Ftn::new(p, tpl.metadata.issuer.as_str(), client_id, &tpl.http)?;
    let userinfo = UserinfoNeed::new(config, p, &spec.scopes);
    let params = authorization_params(p, spec.scopes)?;
    if spec.id_token_alg.is_unsigned() {
        // OIDC Core §2, §3.1.3.7 (6): only TLS to the token endpoint vouches for its ID tokens.
        tracing::warn!(provider = %spec.name, token_endpoint = ?tpl.metadata.token_endpoint,
            "id_token_alg is \"none\": this provider's ID tokens are unsigned, accepted only from its token endpoint over TLS; back-channel logout tokens from it are refused");
    }
    tracing::info!(provider = %spec.name, issuer = %issuer.as_str(), method = %spec.method, "provider ready");
    Ok(Provider {
        name: spec.name,
        display_name: spec.display_name,
        protocol: Protocol::Oidc(Box::new(Oidc {
            rp: RwLock::new(Arc::new(rp)),
            tpl,
            store_key_alg,
            keys: KeySlot::new(kid),
            enc_kids: Mutex::new(enc_kids),
            apple,
            userinfo,
            resolve: presets::claims_resolution(config, p),
        })),
        params,
        subject_claim: p.preset().and_then(Preset::subject_claim),
        ftn,
    })
}

/// The chooser's branded button of a preset provider, unless `display_name` was set to text
/// of the operator's own (every explicit key wins; a provider's button rules allow only its
/// own wording).
fn brand(p: &ProviderConfig) -> Option<Brand> {
    let preset = p.preset()?;
    if p.settings.display_name.as_deref() != Some(preset.display_name()) {
        return None;
    }
    Some(match preset {
        Preset::GitHub => Brand::GitHub,
        Preset::Apple => Brand::Apple,
        Preset::Entra => Brand::Microsoft,
        Preset::Google => Brand::Google,
        // FTN brokers have no button rules of their own; presets to come neither.
        _ => return None,
    })
}

/// The authorization request parameters of every login at `p`.
fn authorization_params(
    p: &ProviderConfig,
    scopes: Vec<String>,
) -> Result<AuthorizationParams, GatewayError> {
    let response_mode = match p.settings.response_mode.as_deref() {
        None | Some("query") => None,
        Some("form_post") => Some("form_post".to_owned()),
        Some(other) => {
            return Err(GatewayError::provider(
                &p.name,
                format!("response_mode {other:?}: use \"query\" or \"form_post\""),
            ));
        }
    };
    Ok(AuthorizationParams {
        scopes,
        prompt: p.gateway_keys().prompt.map(str::to_owned),
        // OIDC Core §3.1.2.1: sent with every login; the callback then requires a recent
        // enough auth_time (§3.1.3.7 (13)), the pending login carrying the value sent.
        max_age: p.settings.max_age.map(|d| d.as_secs()),
        response_mode,
        extra: p
            .settings
            .extra_params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Default::default()
    })
}

/// A provider rule of the assembly ([`relier::provider`]) in the configuration's words.
fn provider_error(e: &ProviderError) -> String {
    match e {
        ProviderError::UnsignedUnderProfile { profile } => format!(
            "id_token_alg \"none\" (unsigned ID tokens) is never allowed with profile = \"{profile}\": \
             FAPI 2.0 requires signed ID tokens (PS256, ES256 or EdDSA)"
        ),
        ProviderError::HmacNeedsSecret => format!(
            "{e}: set client_secret_env, client_secret_file or client_secret (a registry provider: RELIER_CLIENT_SECRET_<NAME>)"
        ),
        _ => e.to_string(),
    }
}

/// A missing credential, with the configuration keys that supply it; a provider rule in the
/// configuration's words.
fn missing_hint(e: relier::Error) -> String {
    if let relier::Error::Provider(p) = &e {
        return provider_error(p);
    }
    let relier::Error::Credentials(creds::CredentialError::Missing { credential, .. }) = &e else {
        return e.to_string();
    };
    let keys = match credential {
        creds::Credential::ClientSecret => {
            "set client_secret_env, client_secret_file or client_secret (a registry provider: RELIER_CLIENT_SECRET_<NAME>)"
        }
        creds::Credential::PrivateKey => "set private_key, or use_store_key = true",
        _ => "set tls_cert and tls_key",
    };
    format!("{e}: {keys}")
}

#[cfg(test)]
mod tests;
