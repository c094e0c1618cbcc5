//! The subcommands, and the setup they share: credentials (from the command line or from a
//! provider of the store), HTTP client, discovery, client authentication and the relying party.

use anyhow::{Context as _, bail};
use relier::credentials::{ClientAuthSpec, ClientCredentials};
use relier::provider::{ProviderError, ProviderSpec, ResponseKeys};
use relier::{HttpClient, RelyingParty};
use relier_core::dpop::{self, DpopKey};
use relier_core::registration::Registration;
use relier_core::{AuthMethod, IssuerUrl, ProviderMetadata, RedirectUrl};
use relier_jose::Algorithm;
use relier_store::Store;

use crate::args::{
    Cli, ClientArgs, Command, ConfigCommand, ProfileArgs, StoreArgs, ValidationArgs,
};
use crate::credentials::{self, Origin};
use crate::loopback::RedirectSpec;
use crate::preset::{self, Expanded};
use crate::{output, store};
use relier::preset::Preset;
use relier_core::token_binding::TokenBinding;

mod decryption;
pub mod discover;
pub mod doctor;
mod dpop_file;
pub mod federation;
mod key_choice;
pub mod keys;
pub mod login;
pub mod manual;
pub mod providers;
mod secured;
pub mod token;

/// Scopes requested when neither `--scope` nor a provider says otherwise.
pub const DEFAULT_SCOPE: &str = "openid profile email";

/// Run the parsed command line; `relier serve` with the file `main` has read already.
pub async fn run(cli: Cli, serve_config: Option<relier_gateway::Config>) -> anyhow::Result<()> {
    match cli.command {
        Command::Discover(a) => discover::run(&a).await,
        Command::Doctor(a) => doctor::run(&a).await,
        Command::Login(a) => login::run(&a, &cli.store).await,
        Command::Token(t) => token::run(&t, &cli.store).await,
        Command::Keys(k) => {
            let opened = store::open(&cli.store).await?;
            let result = keys::run(&*opened, &k).await;
            opened.close().await;
            result
        }
        Command::Providers(p) => {
            let opened = store::open(&cli.store).await?;
            let result = providers::run(&*opened, &p).await;
            opened.close().await;
            result
        }
        Command::Serve(a) => {
            // The file's `store` wins over RELIER_STORE; the master key comes from
            // RELIER_MASTER_KEY or the file's master_key_file (relier_gateway::Config).
            let config = match serve_config {
                Some(c) => c,
                None => relier_gateway::Config::from_file(&a.config)?,
            };
            // SIGHUP is caught from here on (one during the start is taken after it).
            let hangup = hangup();
            // Build first so that a configuration or provider error is reported before binding.
            let gateway = relier_gateway::Gateway::build(config).await?;
            let reloads = hangup.map(|h| reload_on_hangup(h, &gateway, &a.config));
            let result = gateway.run().await;
            if let Some(task) = reloads {
                task.abort();
            }
            Ok(result?)
        }
        Command::Config(ConfigCommand::Check(a)) => config_check(&a.config),
        Command::Federation(f) => federation::run(&f).await,
        Command::Completions(a) => manual::completions(a.shell),
        Command::Man => manual::man(),
    }
}

/// `relier config check --config FILE`: `FILE:LINE: error` per mistake and exit status 1, or the
/// one-line summary.
/// The `SIGHUP` stream of `relier serve`, installed before the gateway is built so that a
/// `SIGHUP` never ends the process (`None` where there is none).
#[cfg(unix)]
fn hangup() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup())
        .inspect_err(|e| {
            tracing::warn!(error = %e, "SIGHUP handler not installed: reloading needs a restart");
        })
        .ok()
}

#[cfg(not(unix))]
fn hangup() -> Option<std::convert::Infallible> {
    None
}

/// Each `SIGHUP` reloads `path` (issue 24 §4): the gateway checks and applies it or keeps the
/// configuration in force, logging why; a new `log_level` applies with it.
#[cfg(unix)]
fn reload_on_hangup(
    mut hangup: tokio::signal::unix::Signal,
    gateway: &relier_gateway::Gateway,
    path: &std::path::Path,
) -> tokio::task::JoinHandle<()> {
    let (reloader, path) = (gateway.reloader(), path.to_path_buf());
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!(path = %path.display(), "SIGHUP: reloading the configuration");
            if let Ok(config) = reloader.reload_file(&path).await {
                crate::logging::set_level(config.log_level.as_deref());
            }
        }
    })
}

#[cfg(not(unix))]
fn reload_on_hangup(
    never: std::convert::Infallible,
    _: &relier_gateway::Gateway,
    _: &std::path::Path,
) -> tokio::task::JoinHandle<()> {
    match never {}
}

fn config_check(path: &std::path::Path) -> anyhow::Result<()> {
    match relier_gateway::check::check_file(path) {
        Ok(summary) => output::stdout(&format!("{}: {summary}\n", path.display())),
        Err(findings) => {
            for f in &findings {
                let at = match f.line {
                    Some(line) => format!("{}:{line}", path.display()),
                    None => path.display().to_string(),
                };
                output::raw_stderr_line(&format!(
                    "{at}: {}",
                    output::one_line(&f.error.to_string())
                ));
            }
            bail!(
                "{}: {} error{}",
                path.display(),
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            )
        }
    }
}

/// Discovery of `--issuer URL`, or of the issuer `--webfinger RESOURCE` names (OIDC Discovery
/// §2; the issuer found is said on stderr).
pub async fn discover_issuer(
    http: &HttpClient,
    issuer: Option<&IssuerUrl>,
    webfinger: Option<&str>,
) -> anyhow::Result<ProviderMetadata> {
    match (issuer, webfinger) {
        (Some(issuer), _) => Ok(relier::discover(http, issuer).await?),
        (None, Some(resource)) => {
            let issuer = relier::webfinger_issuer(http, resource).await?;
            output::note(&format!("webfinger: {resource} → issuer {issuer}"));
            Ok(relier::discover(http, &issuer).await?)
        }
        (None, None) => bail!("give --issuer URL or --webfinger RESOURCE"),
    }
}

/// What a stored provider adds to a session.
#[derive(Debug)]
struct ProviderDefaults {
    name: String,
    scopes: String,
    redirect_uris: Vec<String>,
}

/// An OP discovered and a client authentication chosen; what the relying party is assembled
/// from ([`relier::provider`]) filled in as the flags and the provider say.
#[derive(Debug)]
pub struct Session {
    http: HttpClient,
    metadata: ProviderMetadata,
    auth: relier_core::ClientAuth,
    credentials: ClientCredentials,
    /// The client, its registration (stored, or the flags'), and what the flags ask on top.
    spec: ProviderSpec,
    /// The RP's keys for the encrypted responses (registered, or `--encrypt-*`).
    keys: ResponseKeys,
    provider: Option<ProviderDefaults>,
    /// A `--preset`'s scopes.
    preset_scopes: Option<String>,
}

impl Session {
    /// Request objects by reference (OIDC Core §6.2), served by `host` (the loopback
    /// listener).
    #[must_use]
    pub fn with_request_uri(
        mut self,
        host: std::sync::Arc<dyn relier::request_uri::RequestObjectHost>,
    ) -> Self {
        self.spec.request_uri = Some(host);
        self
    }

    /// From `--provider NAME` (the store) or from the command line's issuer and credentials:
    /// load the credentials, discover the OP, choose the method (saying why on stderr).
    pub async fn connect(client: &ClientArgs, store_args: &StoreArgs) -> anyhow::Result<Self> {
        if let Some(name) = &client.provider {
            return Self::from_provider(name, client, store_args).await;
        }
        match preset::expand(client, None, None)? {
            Some(e) => Self::from_preset(client, &e).await,
            None => Self::from_args(client, store_args).await,
        }
    }

    /// A `--preset` provider: the preset's issuer and client authentication (Sign in with
    /// Apple: a client secret minted now), Entra ID's multi-tenant discovery and tenants.
    pub async fn from_preset(client: &ClientArgs, e: &Expanded) -> anyhow::Result<Self> {
        if e.preset == Preset::GitHub {
            bail!(
                "--preset github: GitHub is OAuth 2.0, not OpenID Connect; only `relier login` speaks to it"
            );
        }
        let Some(client_id) = &client.client_id else {
            bail!("--preset needs --client-id");
        };
        let issuer = e.issuer()?;
        let loaded = if e.preset == Preset::Apple {
            e.apple_credentials(client_id, client.ca_file.as_deref())?
        } else {
            credentials::load_args(client)?
        };
        let spec = e.spec(client_id.clone())?;
        let http = HttpClient::new(&loaded.http_config())?;
        let metadata = match spec.tenants {
            Some(_) => relier::discover_entra(&http, &issuer).await?,
            None => relier::discover(&http, &issuer).await?,
        };
        let mut session = Self::establish(http, metadata, spec, loaded, None)?;
        // Entra ID certificate credentials: the assertion names the key's certificate.
        if let (true, Some(key)) = (
            session.spec.certificate_credential,
            session.credentials.key.as_ref(),
        ) {
            let cert = relier::certificate::key_certificate(key).context("--private-key")?;
            output::note(&format!(
                "certificate credential: x5t#S256 {} (`relier keys cert --private-key FILE` prints the certificate to upload)",
                cert.x5t_s256
            ));
        }
        session.preset_scopes = e.scopes();
        Ok(session)
    }

    async fn from_args(client: &ClientArgs, store_args: &StoreArgs) -> anyhow::Result<Self> {
        let Some(client_id) = &client.client_id else {
            bail!("give --provider NAME, or --issuer URL and --client-id ID");
        };
        let loaded = credentials::load_args(client)?;
        let keys = decryption::from_flags(client, &loaded, store_args).await?;
        // The flags state the registration: encrypted responses, request objects.
        let registration = Registration {
            id_token_encryption: client.encrypt_id_token,
            userinfo_encryption: client.encrypt_userinfo,
            request_objects: secured::from_flags(
                client.request_object_signing_alg,
                client.encrypt_request_object,
            )?,
            ..Registration::default()
        };
        let spec = ProviderSpec::with_client(
            credentials::spec_from_args(client, client_id.clone()),
            registration,
        );
        let http = HttpClient::new(&loaded.http_config())?;
        let metadata =
            discover_issuer(&http, client.issuer.as_ref(), client.webfinger.as_deref()).await?;
        let mut session = Self::establish(http, metadata, spec, loaded, None)?;
        session.keys = keys;
        Ok(session)
    }

    async fn from_provider(
        name: &str,
        client: &ClientArgs,
        store_args: &StoreArgs,
    ) -> anyhow::Result<Self> {
        let opened = store::open(store_args).await?;
        let session = Self::with_store(name, client, &*opened).await;
        // Nothing is written during a login: the store is not held open while the browser is.
        opened.close().await;
        session
    }

    /// A stored provider: its credentials, discovery, then the store's key (private_key_jwt)
    /// in an algorithm the OP accepts.
    async fn with_store(
        name: &str,
        client: &ClientArgs,
        store: &dyn Store,
    ) -> anyhow::Result<Self> {
        let record = providers::load(store, name).await?;
        let mut loaded = credentials::load_provider(&record, client.ca_file.as_deref())?;
        let issuer = IssuerUrl::new(record.issuer.as_str())
            .with_context(|| format!("provider {name}: stored issuer"))?;
        let http = HttpClient::new(&loaded.http_config())?;
        let metadata = relier::discover(&http, &issuer).await?;
        if record.auth_method == AuthMethod::PrivateKeyJwt {
            loaded.key = Some(credentials::provider_signing_key(store, &record, &metadata).await?);
        }
        let auth = ClientAuthSpec {
            client_id: relier_core::ClientId::new(record.client_id.as_str())
                .with_context(|| format!("provider {name}: stored client_id"))?,
            method: Some(record.auth_method),
            signing_alg: record.signing_alg.filter(|a| a.is_hmac()),
            audience: credentials::audience(client.assertion_aud),
        };
        // Read once, typed; id_token_alg none only when the stored registration agrees (OIDC
        // Core §2).
        let reg = record
            .registered()
            .with_context(|| format!("provider {name}"))?;
        let keys = decryption::registered(store, name, &reg).await?;
        let defaults = ProviderDefaults {
            name: record.name,
            scopes: record.scopes,
            redirect_uris: record.redirect_uris,
        };
        let spec = ProviderSpec::with_client(auth, reg);
        let mut session = Self::establish(http, metadata, spec, loaded, Some(defaults))?;
        session.keys = keys;
        Ok(session)
    }

    fn establish(
        http: HttpClient,
        metadata: ProviderMetadata,
        spec: ProviderSpec,
        loaded: ClientCredentials,
        provider: Option<ProviderDefaults>,
    ) -> anyhow::Result<Self> {
        let origin = match &provider {
            Some(p) => Origin::Provider(&p.name),
            None => Origin::Args,
        };
        let chosen = credentials::choose(&spec, &loaded, &metadata, origin)?;
        if let Some(rec) = &chosen.recommendation {
            output::note(&format!("using {}: {}", rec.method, rec.reason));
        }
        tracing::debug!(auth = ?chosen.auth, "client authentication");
        Ok(Self {
            http,
            metadata,
            auth: chosen.auth,
            credentials: loaded,
            spec,
            keys: ResponseKeys::default(),
            provider,
            preset_scopes: None,
        })
    }

    /// Binds the login's tokens as `--dpop-bound-access-tokens` /
    /// `--tls-client-certificate-bound-access-tokens` ask (on top of what the provider
    /// registered), and holds it to `--profile` (FAPI 2.0): the OP's keys are checked now, the
    /// metadata and settings when the relying party is built.
    pub async fn with_profile(mut self, a: &ProfileArgs) -> anyhow::Result<Self> {
        self.spec.binding = TokenBinding {
            dpop: a.dpop_bound_access_tokens || a.dpop_key_file.is_some(),
            certificate: a.tls_client_certificate_bound_access_tokens,
        };
        self.spec.userinfo_token_method = a.userinfo_token_method.unwrap_or_default();
        if self
            .spec
            .userinfo_token_method
            .check_dpop(self.spec.binding.dpop)
            .is_err()
        {
            bail!(
                "--userinfo-token-method body cannot be used with --dpop-bound-access-tokens or --dpop-key-file: a DPoP-bound access token goes in the Authorization header (RFC 9449 §7.1)"
            );
        }
        self = self.with_login_dpop_key_file(a.dpop_key_file.as_deref())?;
        if let Some(profile) = a.profile {
            relier::profile::check_op_keys(&self.http, &self.metadata, profile).await?;
            self.spec.profile = Some(profile);
        }
        Ok(self)
    }

    /// `--dpop-key-file` of `relier login` and `relier token client-credentials`: the key the
    /// file holds (reused), else a new one written there — never over another file — and the
    /// tokens bound to it (RFC 9449).
    pub fn with_login_dpop_key_file(
        mut self,
        path: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        if let Some(path) = path {
            self.spec.dpop_key = Some(dpop_file::for_login(path, &self.metadata)?);
            self.spec.binding.dpop = true;
        }
        Ok(self)
    }

    /// `relier token …`'s `--dpop-key-file`: proofs with the login's key. A refresh of
    /// DPoP-bound tokens without it is refused: RFC 9449 §5 binds a public client's refresh
    /// token to that key, and a refreshed access token bound to a key dropped at exit could
    /// never be used.
    pub fn with_dpop_key_file(
        mut self,
        path: Option<&std::path::Path>,
        refresh: bool,
    ) -> anyhow::Result<Self> {
        match (path, &self.provider) {
            (Some(path), _) => {
                self.spec.dpop_key = Some(dpop_file::read(path)?);
                self.spec.binding.dpop = true;
            }
            (None, Some(p)) if refresh && self.spec.registration.binding.dpop => bail!(
                "provider {} registered dpop_bound_access_tokens: its tokens are bound to the login's DPoP key; pass --dpop-key-file with the file given to `relier login --dpop-key-file`",
                p.name
            ),
            (None, _) => {}
        }
        Ok(self)
    }

    /// The scopes to request: `--scope`, else the provider's or the preset's, else
    /// [`DEFAULT_SCOPE`].
    pub fn scopes(&self, given: Option<&str>) -> String {
        match (given, &self.provider, &self.preset_scopes) {
            (Some(s), _, _) => s.to_owned(),
            (None, Some(p), _) => p.scopes.clone(),
            (None, None, Some(s)) => s.clone(),
            (None, None, None) => DEFAULT_SCOPE.to_owned(),
        }
    }

    /// The redirect URI to listen on. With a provider: `given` must be one it registered, and
    /// the default is its first registered one (a loopback http URI); without: `given` or an
    /// ephemeral port.
    pub fn redirect_spec(&self, given: Option<&RedirectSpec>) -> anyhow::Result<RedirectSpec> {
        let Some(p) = self
            .provider
            .as_ref()
            .filter(|p| !p.redirect_uris.is_empty())
        else {
            return Ok(given
                .cloned()
                .unwrap_or_else(RedirectSpec::default_ephemeral));
        };
        let registered = p.redirect_uris.join(", ");
        match given {
            Some(spec) => {
                let text = spec.as_given().unwrap_or_default();
                if !p.redirect_uris.iter().any(|r| r == text) {
                    bail!(
                        "--redirect-uri {text} is not registered for provider {}; registered: {registered}",
                        p.name
                    );
                }
                Ok(spec.clone())
            }
            None => {
                let first = p.redirect_uris.first().map(String::as_str).unwrap_or("");
                RedirectSpec::parse(first).map_err(|e| {
                    anyhow::anyhow!(
                        "provider {}: its first redirect URI {first} cannot be served by relier ({e}); give --redirect-uri (registered: {registered})",
                        p.name
                    )
                })
            }
        }
    }

    /// The provider's name, else the issuer (for messages).
    fn who(&self) -> String {
        self.provider.as_ref().map_or_else(
            || self.metadata.issuer.as_str().to_owned(),
            |p| p.name.clone(),
        )
    }

    /// An assembly error in the command line's words: the flag or the command that fixes it.
    fn explain(&self, e: relier::Error) -> anyhow::Error {
        let name = self.who();
        match (&e, &self.provider) {
            (relier::Error::Provider(ProviderError::UnsignedUnderProfile { profile }), _) => {
                anyhow::anyhow!(
                    "provider {name}: id_token_alg \"none\" (unsigned ID tokens) is never allowed with --profile {profile}: FAPI 2.0 requires signed ID tokens (PS256, ES256 or EdDSA)"
                )
            }
            (relier::Error::Provider(ProviderError::HmacNeedsSecret), Some(_)) => {
                anyhow::anyhow!("{e}, and provider {name} has none")
            }
            (relier::Error::Provider(ProviderError::HmacNeedsSecret), None) => {
                anyhow::anyhow!("{e}: use --client-secret-env VAR or --client-secret-file FILE")
            }
            (relier::Error::Provider(ProviderError::TokenMethod(t)), Some(_)) => {
                anyhow::anyhow!("provider {name} registered dpop_bound_access_tokens: {t}")
            }
            (relier::Error::RequestObject(_), _) => anyhow::Error::new(e)
                .context("signed request objects need the client's private key (private_key_jwt)"),
            _ => e.into(),
        }
    }

    /// The relying party, with the ID token rules of `v` ([`relier::provider`]).
    pub fn relying_party(
        mut self,
        v: &ValidationArgs,
        redirect_uri: Option<RedirectUrl>,
        userinfo_signed_alg: Option<Algorithm>,
    ) -> anyhow::Result<RelyingParty> {
        let reg = &mut self.spec.registration;
        reg.id_token_signed_alg = v.id_token_alg.or(reg.id_token_signed_alg);
        reg.userinfo_signed_alg = userinfo_signed_alg.or(reg.userinfo_signed_alg);
        self.spec.redirect_uri = redirect_uri;
        self.spec.clock_skew = v.clock_skew;
        self.spec.jwks_refetch_interval = v.jwks_refetch_interval;
        let id_token_alg = match self.spec.check(&self.credentials) {
            Ok(alg) => alg,
            Err(e) => return Err(self.explain(e.into())),
        };
        if id_token_alg.is_unsigned() {
            // OIDC Core §2, §3.1.3.7 (6): only TLS to the token endpoint vouches for them.
            output::note(&format!(
                "warning: provider {}: id_token_alg is \"none\": ID tokens are unsigned, accepted only from the token endpoint over TLS",
                self.who()
            ));
        }
        // RFC 9449: the --dpop-key-file key (which turned DPoP on), else one fresh key per run
        // in an algorithm the OP accepts.
        if self.spec.dpop_key.is_none() && self.spec.binding().dpop {
            self.spec.dpop_key = Some(DpopKey::generate(dpop::choose_alg(&self.metadata)?)?);
        }
        self.spec
            .relying_party(
                self.http.clone(),
                self.metadata.clone(),
                &self.credentials,
                self.auth.clone(),
                &self.keys,
            )
            .map_err(|e| self.explain(e))
    }
}
