//! Every command-line argument (clap derive). Values are checked while parsing: an issuer that is
//! not https (or loopback http), a malformed client_id, an unknown method or algorithm is a usage
//! error before anything is read or sent.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use relier_core::client_credentials::ResourceIndicator;
use relier_core::encryption::ResponseEncryption;
use relier_core::profile::Profile;
use relier_core::userinfo::TokenMethod;
use relier_core::{AuthMethod, ClientId, IssuerUrl};
use relier_jose::Algorithm;
use relier_store::StoreUrl;

use crate::loopback::RedirectSpec;

mod federation;
mod registry;

pub use federation::*;
pub use registry::*;

/// OpenID Connect relying-party toolkit: discover an OP, manage the RP's signing keys, register
/// with OPs (dynamic registration, RFC 7591/7592), log in with the native-app flow (RFC 8252),
/// refresh, introspect and revoke tokens.
#[derive(Debug, Parser)]
#[command(name = "relier", version = env!("RELIER_VERSION"), propagate_version = true)]
pub struct Cli {
    /// Log to stderr (-v: debug, -vv: trace); RUST_LOG overrides the filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where relier keeps its signing keys and providers, and the key that encrypts their secrets.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The store: sqlite://PATH (created on first use; relative to the working directory).
    #[arg(
        long,
        global = true,
        display_order = 900,
        env = "RELIER_STORE",
        value_name = "URL",
        default_value = relier_store::DEFAULT_STORE_URL,
        value_parser = parse_store_url
    )]
    pub store: StoreUrl,

    /// File holding the base64 master key that encrypts the store's secrets. Default: the
    /// RELIER_MASTER_KEY environment variable (base64, 32 bytes), else the key file beside the
    /// SQLite database (<db>.key, mode 0600, created with the store).
    #[arg(long, global = true, display_order = 901, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and check an OP's metadata (OIDC Discovery) and recommend a client authentication
    /// method.
    Discover(DiscoverArgs),
    /// Grade an OP's metadata and keys against RFC 9700 and FAPI 2.0: one line per finding
    /// (pass, warn, fail) with the rule it comes from; exit status 1 when any fails.
    Doctor(DoctorArgs),
    /// Log in through a browser: authorization code + PKCE on a loopback redirect (RFC 8252).
    Login(Box<LoginArgs>),
    /// Get a token for the client itself (client_credentials), or use a token read from
    /// standard input.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The RP's signing keys (private_key_jwt): generate, list, rotate, retire, remove, and
    /// the public JWKS.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The OPs relier is registered with: add a client registered by hand, register
    /// dynamically (RFC 7591), import, list, show, sync and unregister (RFC 7592).
    #[command(subcommand)]
    Providers(ProvidersCommand),
    /// Run the login gateway: "Login with …" in front of an existing application
    /// (forward-auth for nginx/Traefik/Caddy, or a reverse proxy), sessions in the store.
    Serve(ServeArgs),
    /// The gateway's configuration file: check it without serving.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The RP's entity statement and signed JWK set (OpenID Federation 1.0, as the Finnish
    /// Trust Network brokers take them).
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Print a shell completion script: `relier completions bash > /etc/bash_completion.d/relier`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `relier man > relier.1; man ./relier.1`.
    Man,
}

/// `relier config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse and validate a file as `relier serve` would, without binding its addresses or
    /// contacting its OPs: each error with its file:line and exit status 1, or a one-line
    /// summary.
    Check(ServeArgs),
}

/// `relier completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `relier completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    /// bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

/// `relier serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The gateway configuration (TOML; see examples/relier.toml).
    #[arg(long, value_name = "FILE")]
    pub config: std::path::PathBuf,
}

/// `relier discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The issuer identifier (https, or http on 127.0.0.1, ::1 or localhost).
    #[arg(value_parser = parse_issuer, required_unless_present = "webfinger")]
    pub issuer: Option<IssuerUrl>,

    /// Find the issuer by WebFinger (OIDC Discovery §2) instead: RESOURCE is what the user
    /// would type — alice@example.com, acct:alice@example.com:8443, https://example.com/alice,
    /// example.com:8080. The issuer it names must be https.
    #[arg(long, value_name = "RESOURCE", conflicts_with = "issuer")]
    pub webfinger: Option<String>,

    /// Print the metadata as received, plus the recommendation, as JSON.
    #[arg(long)]
    pub json: bool,

    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// `relier doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The issuer identifier (https, or http on 127.0.0.1, ::1 or localhost).
    #[arg(value_parser = parse_issuer)]
    pub issuer: IssuerUrl,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Grade against a profile: with `fapi2` the FAPI 2.0 items fail instead of warning.
    #[arg(long, value_name = "PROFILE", value_parser = parse_profile)]
    pub profile: Option<Profile>,

    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// Of `relier login`: a security profile, and sender-constrained access tokens (the gateway's
/// `profile`, `dpop_bound_access_tokens`, `tls_client_certificate_bound_access_tokens`).
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Hold the login to a security profile: `fapi2` (FAPI 2.0 Security Profile). relier refuses
    /// when the OP or the client settings cannot meet it, naming each item.
    #[arg(long, value_name = "PROFILE", value_parser = parse_profile)]
    pub profile: Option<Profile>,

    /// Bind the access tokens to a fresh DPoP key (RFC 9449), as a registered
    /// `dpop_bound_access_tokens` does: proofs on PAR, token, UserInfo.
    #[arg(long)]
    pub dpop_bound_access_tokens: bool,

    /// Bind the access tokens to the TLS client certificate (RFC 8705 §3; --tls-cert,
    /// --tls-key): token and UserInfo through the OP's mTLS aliases.
    #[arg(long)]
    pub tls_client_certificate_bound_access_tokens: bool,

    /// Keep the login's DPoP key in FILE, for `relier token refresh --dpop-key-file FILE` (a
    /// public client's refresh token is bound to it, RFC 9449 §5): a new key is written there
    /// (PKCS#8 PEM, mode 0600); a file that already holds a key is reused, any other file is
    /// refused. Implies --dpop-bound-access-tokens.
    #[arg(long, value_name = "FILE")]
    pub dpop_key_file: Option<PathBuf>,

    /// How UserInfo gets the access token: `header` (default; `Authorization: Bearer`, RFC 6750
    /// §2.1) or `body` (a POST of `access_token=…`, §2.2). `body` cannot carry a DPoP-bound
    /// token (RFC 9449 §7.1).
    #[arg(long, value_name = "METHOD", value_parser = parse_userinfo_token_method)]
    pub userinfo_token_method: Option<TokenMethod>,
}

/// Which OP, which client, and how it authenticates: a provider of the store (`--provider`),
/// or everything on the command line.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// A provider from the store (relier providers add/register/import): issuer, client_id,
    /// method, secret, signing key, certificate and ID token algorithm come from there.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = [
            "issuer", "client_id", "auth_method", "client_secret_env", "client_secret_file",
            "private_key", "key_id", "signing_alg", "tls_cert", "tls_key", "preset",
            "webfinger",
        ]
    )]
    pub provider: Option<String>,

    #[command(flatten)]
    pub preset: PresetArgs,

    /// The issuer identifier (https, or http on 127.0.0.1, ::1 or localhost); with --preset it
    /// replaces the preset's (a stand-in, a sovereign cloud).
    #[arg(
        long,
        value_parser = parse_issuer,
        required_unless_present_any = ["provider", "preset", "webfinger"]
    )]
    pub issuer: Option<IssuerUrl>,

    /// In place of --issuer: find the issuer by WebFinger (OIDC Discovery §2) from what the
    /// user would type — alice@example.com, acct:alice@example.com:8443,
    /// https://example.com/alice, example.com:8080. The issuer it names must be https.
    #[arg(
        long,
        value_name = "RESOURCE",
        conflicts_with_all = ["issuer", "preset"]
    )]
    pub webfinger: Option<String>,

    /// The registered client_id.
    #[arg(
        long,
        value_name = "ID",
        value_parser = parse_client_id,
        required_unless_present = "provider"
    )]
    pub client_id: Option<ClientId>,

    /// Client authentication method; without it the strongest one both the OP and the given
    /// credentials support is chosen.
    #[arg(long, value_name = "METHOD", value_parser = parse_auth_method)]
    pub auth_method: Option<AuthMethod>,

    /// Name of the environment variable holding the client secret.
    #[arg(long, value_name = "VAR", conflicts_with = "client_secret_file")]
    pub client_secret_env: Option<String>,

    /// File holding the client secret (a trailing newline is removed).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Private key for private_key_jwt: PKCS#8 PEM (or PKCS#1 / SEC 1 PEM, or DER) or a private
    /// JWK (JSON).
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<PathBuf>,

    /// `kid` of the client assertion (default: the JWK's kid, else its RFC 7638 thumbprint).
    #[arg(long, value_name = "KID", requires = "private_key")]
    pub key_id: Option<String>,

    /// Client assertion algorithm (client_secret_jwt: HS256; private_key_jwt: from the key).
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub signing_alg: Option<Algorithm>,

    /// `aud` of the client assertion: the issuer (default) or the endpoint URL.
    #[arg(long, value_name = "AUD", value_enum, default_value_t = AssertionAud::Issuer)]
    pub assertion_aud: AssertionAud,

    /// TLS client certificate (PEM chain) for tls_client_auth / self_signed_tls_client_auth.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// The client is registered with encrypted ID tokens (`id_token_encrypted_response_alg`/
    /// `_enc`, e.g. RSA-OAEP-256/A256GCM; ENC defaults to A128CBC-HS256): each ID token must
    /// arrive encrypted and is decrypted — RSA-OAEP*/ECDH-ES* with the store's encryption keys
    /// (`relier keys generate --use enc`), dir/A*KW with the client secret (OIDC Core §10.2).
    /// With --provider the registration says it.
    #[arg(
        long,
        value_name = "ALG[/ENC]",
        value_parser = parse_encryption,
        conflicts_with_all = ["provider", "preset"]
    )]
    pub encrypt_id_token: Option<ResponseEncryption>,

    /// The client is registered with encrypted UserInfo responses
    /// (`userinfo_encrypted_response_alg`/`_enc`): as --encrypt-id-token.
    #[arg(
        long,
        value_name = "ALG[/ENC]",
        value_parser = parse_encryption,
        conflicts_with_all = ["provider", "preset"]
    )]
    pub encrypt_userinfo: Option<ResponseEncryption>,

    /// The client is registered with `request_object_signing_alg` ALG (OIDC Registration §2):
    /// every authorization request is a request object signed with --private-key, or unsigned
    /// for `none` (OIDC Core §6.1). With --provider the registration says it.
    #[arg(
        long,
        value_name = "ALG",
        value_parser = parse_id_token_alg,
        conflicts_with_all = ["provider", "preset"]
    )]
    pub request_object_signing_alg: Option<Algorithm>,

    /// The client is registered with `request_object_encryption_alg`/`_enc` (e.g.
    /// RSA-OAEP-256/A256GCM; ENC defaults to A128CBC-HS256): request objects are encrypted to
    /// the OP's `use: enc` key (OIDC Core §6.1, RFC 9101 §6.1). With --provider the
    /// registration says it.
    #[arg(
        long,
        value_name = "ALG[/ENC]",
        value_parser = parse_encryption,
        conflicts_with_all = ["provider", "preset"]
    )]
    pub encrypt_request_object: Option<ResponseEncryption>,
}

/// `--preset` and its flags: what the gateway's `preset = "…"` fills in, for the command line
/// (relier::preset: one rule for both).
#[derive(Debug, Args)]
pub struct PresetArgs {
    /// A provider relier knows: github (OAuth 2.0, identity from GitHub's API), apple (the
    /// client secret minted from --private-key AuthKey_<id>.p8, --key-id and --team-id),
    /// entra (--tenant), google, ftn (a Finnish Trust Network broker: --entity-statement,
    /// --ftn-spname, a fixed --redirect-uri, the store's keys).
    #[arg(long, value_name = "NAME", value_enum)]
    pub preset: Option<PresetName>,

    /// --preset github: github.com (default) or a GitHub Enterprise Server's URL.
    #[arg(long, value_name = "URL", requires = "preset")]
    pub github_url: Option<String>,

    /// --preset entra: common, organizations, consumers or a tenant id.
    #[arg(long, value_name = "TENANT", requires = "preset")]
    pub tenant: Option<String>,

    /// --preset entra: the authority (default https://login.microsoftonline.com).
    #[arg(long, value_name = "URL", requires = "preset")]
    pub authority: Option<String>,

    /// --preset entra with a multi-tenant --tenant: a tenant id (tid) allowed in (repeatable).
    #[arg(long, value_name = "TID", requires = "preset")]
    pub allowed_tenant: Vec<String>,

    /// --preset entra with a multi-tenant --tenant: let every tenant in.
    #[arg(long, requires = "preset")]
    pub allow_any_tenant: bool,

    /// --preset apple: the Apple developer team id (the client secret's iss).
    #[arg(long, value_name = "ID", requires = "preset")]
    pub team_id: Option<String>,

    /// --preset ftn: the broker's entity statement (a JWS file, as received).
    #[arg(long, value_name = "FILE", requires = "preset")]
    pub entity_statement: Option<PathBuf>,

    /// --preset ftn: the service name the bank shows (the ftn_spname request claim).
    #[arg(long, value_name = "TEXT", requires = "preset")]
    pub ftn_spname: Option<String>,

    /// --preset ftn: the broker's language (fi, sv, en; the ui_locales request claim).
    #[arg(long, value_name = "LOCALE", requires = "preset", value_parser = parse_ftn::<relier_core::ftn::UiLocale>)]
    pub ui_locales: Option<relier_core::ftn::UiLocale>,

    /// --preset ftn: weak or strong, when the login creates new credentials (a scope).
    #[arg(long, value_name = "PURPOSE", requires = "preset", value_parser = parse_ftn::<relier_core::ftn::Purpose>)]
    pub purpose: Option<relier_core::ftn::Purpose>,
}

/// An FTN keyword (`--ui-locales`, `--purpose`), by its configuration spelling.
fn parse_ftn<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| e.to_string())
}

/// `--preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetName {
    /// GitHub (OAuth 2.0, not OpenID Connect).
    Github,
    /// Sign in with Apple.
    Apple,
    /// Microsoft Entra ID.
    Entra,
    /// Google.
    Google,
    /// A Finnish Trust Network broker.
    Ftn,
}

/// How ID tokens are validated.
#[derive(Debug, Args)]
pub struct ValidationArgs {
    /// Expected ID token algorithm (HS256/384/512 are verified with the client secret;
    /// "none": the client registered unsigned ID tokens, accepted only from the token endpoint
    /// over TLS). Default: the provider's registered one with --provider, else RS256.
    #[arg(long, value_name = "ALG", value_parser = parse_id_token_alg)]
    pub id_token_alg: Option<Algorithm>,

    /// Allowed clock skew in seconds (default 60, at most 300).
    #[arg(long, value_name = "SECS")]
    pub clock_skew: Option<u64>,

    /// Minimum seconds between JWKS refetches triggered by unknown keys.
    #[arg(long, value_name = "SECS", hide = true)]
    pub jwks_refetch_interval: Option<u64>,
}

/// `relier login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub validation: ValidationArgs,

    /// Registered loopback redirect URI (default: with --provider its first registered one,
    /// else http://127.0.0.1:<ephemeral port>/callback).
    #[arg(long, value_name = "URI", value_parser = parse_redirect)]
    pub redirect_uri: Option<RedirectSpec>,

    /// Scopes to request (openid is always sent). Default: the provider's scopes with
    /// --provider, else "openid profile email".
    #[arg(long)]
    pub scope: Option<String>,

    /// `login_hint`.
    #[arg(long, value_name = "H")]
    pub login_hint: Option<String>,

    /// `prompt` (none, login, consent, select_account).
    #[arg(long, value_name = "P")]
    pub prompt: Option<String>,

    /// `max_age` in seconds (auth_time is then required and checked).
    #[arg(long, value_name = "S")]
    pub max_age: Option<u64>,

    /// `acr_values`.
    #[arg(long, value_name = "V")]
    pub acr_values: Option<String>,

    /// `response_mode`: query (default) or form_post.
    #[arg(long, value_name = "MODE", value_enum)]
    pub response_mode: Option<ResponseMode>,

    /// Extra authorization request parameter (repeatable), e.g. ui_locales=fr.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_param)]
    pub auth_param: Vec<(String, String)>,

    /// Registered userinfo_signed_response_alg: a signed UserInfo response is then required.
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub userinfo_signed_alg: Option<Algorithm>,

    /// Do not start a browser; only print the authorization URL.
    #[arg(long)]
    pub no_browser: bool,

    /// Push the authorization request to the OP first (RFC 9126 PAR, client-authenticated); the
    /// browser then carries only client_id and request_uri. Automatic when the OP requires it.
    #[arg(long)]
    pub par: bool,

    /// How request objects travel (when the provider registered them): in the URL
    /// (`by-value`, the default) or served once from the loopback listener at a `request_uri`
    /// the URL carries (`by-reference`, OIDC Core §6.2, RFC 9101 §5.2).
    #[arg(long, value_name = "HOW")]
    pub request_object: Option<RequestObjectArg>,

    /// Print the result (claims, userinfo and tokens) as JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// Resolve aggregated and distributed claims (OIDC Core §5.6.2) of the ID token and the
    /// UserInfo response: aggregated JWTs verified against their issuer's keys (discovered;
    /// the alg one that issuer publishes; never unsigned), distributed claims fetched with
    /// their access token (https, public addresses only unless the OP's issuer is on
    /// loopback or a private address). A source that fails is dropped with a warning.
    #[arg(long)]
    pub resolve_claims: bool,

    #[command(flatten)]
    pub security: ProfileArgs,

    /// Seconds to wait for the browser to come back.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,

    /// Log in on another device (RFC 8628 device authorization grant): print the OP's
    /// verification URI and user code on stderr (and a QR code on a terminal), poll the token
    /// endpoint until the user approved, denied or the code expired. No browser is started and
    /// no redirect URI is used.
    #[arg(
        long,
        conflicts_with_all = [
            "redirect_uri", "response_mode", "no_browser", "par", "prompt", "max_age",
            "acr_values", "login_hint", "auth_param",
        ]
    )]
    pub device: bool,

    /// Testing only: the length in milliseconds of one second of the device flow's poll
    /// interval (default 1000), so tests do not wait the OP's interval in real time.
    #[arg(long, value_name = "MS", hide = true, requires = "device")]
    pub test_device_poll_unit_ms: Option<u64>,
}

/// `relier token …`: a new token for the client, or a token read from standard input.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Get a token for the client itself (client_credentials, RFC 6749 §4.4) with its own
    /// authentication (any method but none) and print it: the access token alone, or the
    /// token response with --json.
    ClientCredentials(Box<ClientCredentialsArgs>),
    /// Exchange a refresh token (stdin) for new tokens.
    Refresh(Box<RefreshArgs>),
    /// Introspect a token (stdin, RFC 7662).
    Introspect(Box<TokenOpArgs>),
    /// Revoke a token (stdin, RFC 7009).
    Revoke(Box<TokenOpArgs>),
}

/// `relier token refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    #[command(flatten)]
    pub validation: ValidationArgs,

    /// The ID token received with the refresh token (e.g. `login --json`'s "id_token"), in a
    /// file: a refreshed ID token must then keep its iss, sub, aud, azp and auth_time (OIDC
    /// Core §12.2). It is only compared, not re-verified.
    #[arg(long, value_name = "FILE")]
    pub id_token_file: Option<PathBuf>,

    /// The login's DPoP key (`relier login --dpop-key-file FILE`): the refresh proves
    /// possession of it (RFC 9449 §5) and the new tokens are bound to it. Required when the
    /// tokens are DPoP-bound; implies DPoP.
    #[arg(long, value_name = "FILE")]
    pub dpop_key_file: Option<PathBuf>,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `relier token client-credentials`.
#[derive(Debug, Args)]
pub struct ClientCredentialsArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// A scope to request (repeatable).
    #[arg(long, value_name = "S", value_parser = parse_scope)]
    pub scope: Vec<String>,

    /// A resource indicator (RFC 8707, repeatable): the URI of the API the token is for.
    #[arg(long, value_name = "URI", value_parser = parse_resource)]
    pub resource: Vec<ResourceIndicator>,

    /// Bind the token to the DPoP key in FILE (RFC 9449), as `relier login --dpop-key-file`:
    /// a new key is written there (PKCS#8 PEM, mode 0600); a file that already holds a key is
    /// reused, any other file is refused.
    #[arg(long, value_name = "FILE")]
    pub dpop_key_file: Option<PathBuf>,

    /// Print the token response as JSON on stdout (default: the access token alone).
    #[arg(long)]
    pub json: bool,
}

/// `relier token introspect` and `relier token revoke`.
#[derive(Debug, Args)]
pub struct TokenOpArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// What the token is.
    #[arg(long, value_name = "HINT", value_enum)]
    pub token_type_hint: Option<TokenTypeHintArg>,

    /// The login's DPoP key (`relier login --dpop-key-file FILE`) for the request's DPoP proof
    /// (by default a DPoP-bound registration proves with a fresh key); implies DPoP.
    #[arg(long, value_name = "FILE")]
    pub dpop_key_file: Option<PathBuf>,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `--request-object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequestObjectArg {
    /// The `request` parameter (RFC 9101 §5).
    ByValue,
    /// A `request_uri` served by the loopback listener (RFC 9101 §5.2).
    ByReference,
}

/// `--assertion-aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AssertionAud {
    /// The issuer identifier.
    Issuer,
    /// The URL of the endpoint called.
    Endpoint,
}

/// `--response-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect's query string.
    Query,
    /// Parameters POSTed by an auto-submitting form.
    FormPost,
}

impl ResponseMode {
    /// The registered `response_mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::FormPost => "form_post",
        }
    }
}

/// `--token-type-hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum TokenTypeHintArg {
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
}

fn parse_store_url(s: &str) -> Result<StoreUrl, String> {
    StoreUrl::parse(s).map_err(|e| e.to_string())
}

fn parse_issuer(s: &str) -> Result<IssuerUrl, String> {
    IssuerUrl::new(s).map_err(|e| e.to_string())
}

fn parse_client_id(s: &str) -> Result<ClientId, String> {
    ClientId::new(s).map_err(|e| e.to_string())
}

fn parse_auth_method(s: &str) -> Result<AuthMethod, String> {
    s.parse().map_err(|_| {
        let names: Vec<&str> = AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
        format!("unknown method; use one of {}", names.join(", "))
    })
}

fn parse_alg(s: &str) -> Result<Algorithm, String> {
    match s.parse::<Algorithm>() {
        Ok(Algorithm::None) => Err("\"none\" is refused: a signature is required".to_owned()),
        Ok(a) => Ok(a),
        Err(_) => {
            let names: Vec<&str> = Algorithm::ALL
                .iter()
                .filter(|a| **a != Algorithm::None)
                .map(|a| a.as_str())
                .collect();
            Err(format!(
                "unknown algorithm; use one of {}",
                names.join(", ")
            ))
        }
    }
}

/// An ID token algorithm: also "none" (OIDC Core §2: unsigned ID tokens, for a client that
/// registered them, accepted only from the token endpoint over TLS).
fn parse_id_token_alg(s: &str) -> Result<Algorithm, String> {
    match s {
        "none" => Ok(Algorithm::None),
        other => parse_alg(other),
    }
}

fn parse_encryption(s: &str) -> Result<ResponseEncryption, String> {
    s.parse::<ResponseEncryption>().map_err(|e| e.to_string())
}

fn parse_userinfo_token_method(s: &str) -> Result<TokenMethod, String> {
    s.parse()
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
        .map_err(|e: relier_core::profile::UnknownProfile| e.to_string())
}

fn parse_redirect(s: &str) -> Result<RedirectSpec, String> {
    RedirectSpec::parse(s).map_err(|e| e.to_string())
}

fn parse_scope(s: &str) -> Result<String, String> {
    if relier_core::client_credentials::is_scope_token(s) {
        Ok(s.to_owned())
    } else {
        Err("not a scope token (RFC 6749 §3.3: printable ASCII without space, \" or \\)".into())
    }
}

fn parse_resource(s: &str) -> Result<ResourceIndicator, String> {
    ResourceIndicator::new(s).map_err(|e| e.to_string())
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err("expected NAME=VALUE".to_owned()),
    }
}

#[cfg(test)]
mod tests;
