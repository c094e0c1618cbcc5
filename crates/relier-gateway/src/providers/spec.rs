//! What a provider is built from, before discovery: its inline configuration or its entry
//! in the store's registry, and the RP keys those need at start.

use relier::credentials::CredentialSources;
use relier::provider::ProviderSpec;
use relier_core::encryption::KeyManagementAlg;
use relier_core::{Algorithm, AuthMethod, ClientId, IdTokenAlg};
use relier_store::{JwksMode, Store};

use relier_core::registration::Registration;

use super::list::redirect_uri;
use super::{credentials, registration as table};
use crate::config::{Config, ProviderConfig};
use crate::error::GatewayError;

/// Everything a provider is built from, before discovery.
pub(super) struct Spec {
    pub(super) name: String,
    pub(super) display_name: String,
    pub(super) issuer: String,
    pub(super) method: AuthMethod,
    pub(super) sources: CredentialSources,
    pub(super) store_key: Option<StoreKey>,
    /// The registered `id_token_signed_response_alg`, pinned (default RS256).
    pub(super) id_token_alg: IdTokenAlg,
    pub(super) scopes: Vec<String>,
    /// What the relying party is assembled from ([`relier::provider`]): the client, what the
    /// registration decides — encrypted and signed responses, request objects, JARM, PAR,
    /// sender-constrained tokens: the `[[providers]]` table's (or its preset's), or the
    /// store's registration — and the table's profile, PAR, tenants.
    pub(super) provider: ProviderSpec,
}

/// The store key a private_key_jwt provider signs with.
#[derive(Debug, Clone, Copy)]
pub(super) enum StoreKey {
    /// An inline provider's `signing_alg`, else `keys.alg`.
    Configured(Algorithm),
    /// A registry provider's: by [`creds::registered_key_alg`] once the OP's metadata is known.
    Registered(Option<Algorithm>),
}

/// The store key algorithms the inline and registry providers need (for key bootstrap).
pub async fn needed_store_algs(
    config: &Config,
    store: &dyn Store,
) -> Result<Vec<Algorithm>, GatewayError> {
    let default = parse_alg(&config.keys.alg, None, "keys.alg")?;
    let mut algs = Vec::new();
    for p in &config.providers {
        let alg = if p.is_registry() {
            match store.get_provider(&p.name).await? {
                // Without a registered algorithm the provider signs with an active key the OP
                // accepts (creds::registered_key_alg); the bootstrap makes sure there is one.
                Some(r) if r.auth_method == AuthMethod::PrivateKeyJwt => {
                    r.signing_alg.filter(|a| !a.is_hmac())
                }
                _ => None,
            }
        } else if p.settings.use_store_key {
            Some(
                opt_alg(p.settings.signing_alg.as_deref(), &p.name, "signing_alg")?
                    .unwrap_or(default),
            )
        } else {
            None
        };
        if let Some(a) = alg
            && !algs.contains(&a)
        {
            algs.push(a);
        }
    }
    Ok(algs)
}

/// The RP-key algorithms the responses of the inline and registry providers are encrypted
/// with (for key bootstrap: each needs an active encryption key).
pub async fn needed_enc_algs(
    config: &Config,
    store: &dyn Store,
) -> Result<Vec<KeyManagementAlg>, GatewayError> {
    let mut algs = Vec::new();
    for p in &config.providers {
        let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
        let rules = if p.is_registry() {
            match store.get_provider(&p.name).await? {
                Some(r) => r.registered().map_err(|e| err(&e))?,
                None => Registration::default(),
            }
        } else {
            table::stated(p)?
        };
        for (_, alg) in rules.rp_key_algs() {
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
    }
    Ok(algs)
}

/// An algorithm named in the configuration: `key` of provider `provider` (or of `[keys]`).
fn parse_alg(s: &str, provider: Option<&str>, key: &str) -> Result<Algorithm, GatewayError> {
    s.parse::<Algorithm>().map_err(|e| {
        let msg = format!("{key}: unknown algorithm {:?}", e.name());
        match provider {
            Some(name) => GatewayError::provider(name, msg),
            None => GatewayError::config(msg),
        }
    })
}

fn opt_alg(s: Option<&str>, provider: &str, key: &str) -> Result<Option<Algorithm>, GatewayError> {
    s.map(|s| parse_alg(s, Some(provider), key)).transpose()
}

/// The provider's spec for the assembly
/// ([`ProviderSettings::spec`](relier::provider::ProviderSettings::spec)): the client
/// authenticating with `method`, the table's registration (with the gateway's `redirect_uri`),
/// profile, PAR, UserInfo token method, assertion audience, a preset's tenants and certificate
/// credential; the ID token algorithm it pins.
fn provider_spec(
    p: &ProviderConfig,
    client_id: &str,
    method: AuthMethod,
    redirect_uri: Option<&str>,
) -> Result<(ProviderSpec, IdTokenAlg), GatewayError> {
    let err = |e: &dyn std::fmt::Display| GatewayError::provider(&p.name, e);
    let client_id = ClientId::new(client_id).map_err(|e| err(&e))?;
    let spec = p
        .settings
        .spec(client_id, Some(method), redirect_uri)
        .map_err(|e| err(&e))?;
    let id_token_alg = spec
        .id_token_alg()
        .map_err(|e| err(&super::provider_error(&e)))?;
    Ok((spec, id_token_alg))
}

pub(super) fn inline_spec(config: &Config, p: &ProviderConfig) -> Result<Spec, GatewayError> {
    let err = |e: String| GatewayError::provider(&p.name, e);
    let client_id = p
        .settings
        .client_id
        .clone()
        .ok_or_else(|| err("client_id is required with issuer".into()))?;
    let signing_alg = opt_alg(p.settings.signing_alg.as_deref(), &p.name, "signing_alg")?;
    let sources = credentials::inline_sources(config, p, signing_alg)?;
    if p.settings.private_key.is_some() && p.settings.use_store_key {
        return Err(err(
            "use either private_key or use_store_key, not both".into()
        ));
    }
    // RFC 8705 §3: with certificate-bound tokens `tls_cert` binds them; a client secret given
    // beside it is then what authenticates (unless auth_method says tls_client_auth).
    let cert_authenticates = p.settings.tls_cert.is_some()
        && !(p.settings.tls_client_certificate_bound_access_tokens && sources.secret.is_some());
    let method = match p.settings.auth_method.as_deref() {
        Some(m) => m.parse::<AuthMethod>().map_err(|e| err(e.to_string()))?,
        None if p.settings.private_key.is_some() || p.settings.use_store_key => {
            AuthMethod::PrivateKeyJwt
        }
        None if cert_authenticates => AuthMethod::TlsClientAuth,
        None if sources.secret.is_some() => AuthMethod::ClientSecretBasic,
        None => {
            return Err(err(
                "no client credential: set client_secret_env (or client_secret_file), \
                 private_key, use_store_key = true, or auth_method = \"none\""
                    .into(),
            ));
        }
    };
    let default_alg = parse_alg(&config.keys.alg, None, "keys.alg")?;
    let store_key = (p.settings.use_store_key && method == AuthMethod::PrivateKeyJwt)
        .then(|| StoreKey::Configured(signing_alg.filter(|a| !a.is_hmac()).unwrap_or(default_alg)));
    let redirect = redirect_uri(config, p);
    let (provider, id_token_alg) = provider_spec(p, &client_id, method, Some(&redirect))?;
    Ok(Spec {
        name: p.name.clone(),
        display_name: p.display_name(),
        issuer: p.settings.issuer.clone().unwrap_or_default(),
        method,
        sources,
        store_key,
        id_token_alg,
        provider,
        scopes: p
            .settings
            .scopes
            .clone()
            .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
    })
}

pub(super) async fn registry_spec(
    config: &Config,
    p: &ProviderConfig,
    store: &dyn Store,
) -> Result<Spec, GatewayError> {
    let err = |e: String| GatewayError::provider(&p.name, e);
    // The client — its id, credentials and registration — comes from the store (the table's
    // kind, `Registry`, has none of those keys).
    let r = store.get_provider(&p.name).await?.ok_or_else(|| {
        err(format!(
            "not in the store {}: register it with `relier providers register/add/import`, or \
             configure it inline with issuer and client_id",
            store.url()
        ))
    })?;
    let expected = format!(
        "{}/auth/callback/{}",
        config.public_url.trim_end_matches('/'),
        p.name
    );
    if !r.redirect_uris.contains(&expected) {
        tracing::warn!(provider = %p.name, expected = %expected, registered = ?r.redirect_uris,
            "the gateway's redirect URI is not among the provider's registered redirect URIs; the OP will likely refuse logins");
    }
    // RFC 7591 §3.2.1: the OP refuses a client secret past client_secret_expires_at.
    if let Some(at) = relier_store::secret_expiry(r.registration.as_ref())
        && r.client_secret.is_some()
    {
        let now = crate::clock::now();
        if at <= now {
            tracing::error!(provider = %p.name, client_secret_expires_at = at,
                "the provider's client secret has expired: logins will fail until `relier providers sync` or a new registration stores a new one");
        } else if at - now < 7 * 24 * 3600 {
            tracing::warn!(provider = %p.name, client_secret_expires_at = at,
                "the provider's client secret expires within 7 days");
        }
    }
    let registered = r
        .registered()
        .map_err(|e| err(e.to_string()))?
        .with_subject_claim(table::subject_claim(p));
    let store_key =
        (r.auth_method == AuthMethod::PrivateKeyJwt).then_some(StoreKey::Registered(r.signing_alg));
    if store_key.is_some()
        && r.jwks_mode == Some(JwksMode::Inline)
        && config.keys.rotation_interval.is_some()
    {
        tracing::warn!(provider = %p.name,
            "registered with an inline JWKS: after an automatic key rotation run `relier providers sync`, or register with a jwks_uri pointing at /.well-known/jwks.json");
    }
    // The registration is the store's, with the table's profile, PAR, UserInfo token method
    // and assertion audience.
    let (mut provider, _) = provider_spec(p, &r.client_id, r.auth_method, None)?;
    provider.registration = registered;
    let id_token_alg = provider
        .id_token_alg()
        .map_err(|e| err(super::provider_error(&e)))?;
    // The store key's algorithm is the registered one if asymmetric; an HMAC one is
    // client_secret_jwt's.
    provider.client.signing_alg = r.signing_alg.filter(Algorithm::is_hmac);
    Ok(Spec {
        name: p.name.clone(),
        display_name: p.display_name(),
        issuer: r.issuer.clone(),
        method: r.auth_method,
        sources: credentials::registry_sources(config, p, &r)?,
        store_key,
        id_token_alg,
        provider,
        scopes: p
            .settings
            .scopes
            .clone()
            .unwrap_or_else(|| r.scopes.split_whitespace().map(str::to_owned).collect()),
    })
}
