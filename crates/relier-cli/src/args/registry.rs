//! Arguments of `relier keys …` and `relier providers …` (the store-backed commands).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use relier_core::encryption::ResponseEncryption;
use relier_core::{AuthMethod, ClientId, IssuerUrl};
use relier_jose::Algorithm;
use relier_store::{KeyAlg, KeyUse};

use super::{
    parse_alg, parse_auth_method, parse_client_id, parse_encryption, parse_id_token_alg,
    parse_issuer,
};

/// `relier keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a signing key, or with `--use enc` an encryption key (what the OP encrypts ID
    /// tokens and UserInfo to), or with `--use entity` an entity key (signs only the entity
    /// statement and the signed JWK set). The first key of an algorithm is active at once; a
    /// later one is published now and used from the next command on (use `keys rotate` for a
    /// delay).
    Generate(KeysGenerateArgs),
    /// Bring an existing private key (PEM: PKCS#8, PKCS#1 RSA or SEC 1 EC) into the store,
    /// sealed at rest like a generated key; its kid is its RFC 7638 thumbprint. The first key
    /// of an algorithm is active at once, a later one published now and used from the next
    /// command on.
    Import(KeysImportArgs),
    /// List every key: kid, use, alg, state, created, activates, retired, published until.
    List(JsonArgs),
    /// Publish a new key per algorithm (or for --alg) that starts signing after the propagation
    /// delay; the key it replaces retires then and stays published for a grace period.
    Rotate(KeysRotateArgs),
    /// Stop signing with a key now; it stays published for the grace period.
    Retire(KeyIdArgs),
    /// Delete a key. Keys in use (active, or retired within the grace period) need --force.
    Remove(KeysRemoveArgs),
    /// Print the public JWKS on stdout: exactly what an OP may fetch from the RP's jwks_uri.
    Jwks,
    /// Print a self-signed certificate (PEM) of the active RSA key, to upload where a provider
    /// registers keys as certificates (Entra ID: Certificates & secrets → Certificates); client
    /// assertions then name it by its x5t#S256 thumbprint.
    Cert(KeysCertArgs),
}

/// `relier keys cert`.
#[derive(Debug, Args)]
pub struct KeysCertArgs {
    /// The active key of this algorithm (RS256 or PS256; default RS256).
    #[arg(long, value_name = "ALG", value_parser = parse_alg, conflicts_with = "kid")]
    pub alg: Option<Algorithm>,

    /// The key: it must be its algorithm's active key.
    #[arg(long, value_name = "KID", allow_hyphen_values = true)]
    pub kid: Option<String>,

    /// A key file instead of the store's (an entra provider's `private_key`, `relier login
    /// --preset entra --private-key`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["alg", "kid"])]
    pub private_key: Option<std::path::PathBuf>,
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `relier keys generate`.
#[derive(Debug, Args)]
pub struct KeysGenerateArgs {
    /// What the key is for: sig (signing client assertions and request objects, the default),
    /// enc (decrypting what the OP encrypts to the RP) or entity (signing only the entity
    /// statement and the signed JWK set; long-lived).
    #[arg(long = "use", value_name = "USE", value_enum)]
    pub key_use: Option<KeyUseArg>,

    /// The algorithm. Signing: RS256, PS256, ES256, ES384, EdDSA (also RS384/512, PS384/512,
    /// ES512); required. Encryption: RSA-OAEP-256 (the default with --use enc), RSA-OAEP,
    /// ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW (EC keys on P-256). Entity: RS256 (the
    /// default with --use entity) or another signing algorithm.
    #[arg(long, value_name = "ALG", value_parser = parse_key_alg)]
    pub alg: Option<KeyAlg>,

    /// RSA modulus size (RS*, PS*, RSA-OAEP* only; default 2048).
    #[arg(long, value_name = "BITS", value_parser = parse_bits)]
    pub bits: Option<usize>,

    /// Print the key's metadata as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `relier keys import`.
#[derive(Debug, Args)]
pub struct KeysImportArgs {
    /// What the key is for: sig, enc or entity (as `keys generate --use`).
    #[arg(long = "use", value_name = "USE", value_enum)]
    pub key_use: KeyUseArg,

    /// The private key: PEM, PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC
    /// PRIVATE KEY"); unencrypted.
    #[arg(long, value_name = "KEY.pem")]
    pub file: PathBuf,

    /// The algorithm the key is published and used with (its JWK's "alg"). Default for an RSA
    /// key: RS256 for sig and entity, RSA-OAEP for enc (what the Finnish Trust Network brokers
    /// encrypt with); for an EC key: ES256/ES384/ES512 by curve, ECDH-ES for enc; EdDSA for
    /// Ed25519.
    #[arg(long, value_name = "ALG", value_parser = parse_key_alg)]
    pub alg: Option<KeyAlg>,

    /// Print the key's metadata as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `--use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyUseArg {
    /// A signing key.
    Sig,
    /// An encryption key.
    Enc,
    /// An entity key (signs only the entity statement and the signed JWK set).
    Entity,
}

impl From<KeyUseArg> for KeyUse {
    fn from(u: KeyUseArg) -> Self {
        match u {
            KeyUseArg::Sig => KeyUse::Sig,
            KeyUseArg::Enc => KeyUse::Enc,
            KeyUseArg::Entity => KeyUse::Entity,
        }
    }
}

/// `relier keys rotate`.
#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    /// Rotate only the keys of this use: sig, enc, or entity (entity keys rotate only when
    /// asked: the new key is in the entity statement beside the old one until the old one's
    /// grace period ends; hand the broker the new statement before the new key activates).
    #[arg(long = "use", value_name = "USE", value_enum)]
    pub key_use: Option<KeyUseArg>,

    /// Rotate only this algorithm, signing or encryption (default: every signing and
    /// encryption algorithm that has an active key).
    #[arg(long, value_name = "ALG", value_parser = parse_key_alg)]
    pub alg: Option<KeyAlg>,

    /// Seconds between publishing the new key and signing with it. OPs cache the RP's JWKS
    /// (from its jwks_uri, typically for minutes to an hour): a key must be published before it
    /// is used, or token requests fail until the OP refetches. Use 0 only when every OP learns
    /// the key at once (inline jwks updated with --sync / `providers sync`).
    #[arg(long, value_name = "SECS", default_value_t = relier_store::DEFAULT_PROPAGATION_SECS)]
    pub propagation: u64,

    /// Then run `providers sync` for every provider registered with an inline jwks, so those
    /// OPs know the new key before relier signs with it.
    #[arg(long)]
    pub sync: bool,

    /// Print the new keys as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A key ID argument.
#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// The key ID (RFC 7638 thumbprint, as in `relier keys list`; it may start with "-").
    #[arg(allow_hyphen_values = true)]
    pub kid: String,

    /// Print the key's metadata as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `relier keys remove`.
#[derive(Debug, Args)]
pub struct KeysRemoveArgs {
    #[command(flatten)]
    pub key: KeyIdArgs,

    /// Remove the key even if it is active or still within its grace period.
    #[arg(long)]
    pub force: bool,
}

/// `relier providers …`.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Add a client that was registered by hand at the OP (the OP issued the client_id and
    /// secret): runs discovery, stores the metadata and the credentials.
    Add(Box<ProvidersAddArgs>),
    /// Register dynamically (OIDC Dynamic Client Registration / RFC 7591) and store the result.
    Register(Box<ProvidersRegisterArgs>),
    /// Store a registration response (RFC 7591 §3.2.1 JSON) obtained elsewhere.
    Import(Box<ProvidersImportArgs>),
    /// List the providers (never secrets).
    List(JsonArgs),
    /// Show one provider (never secrets); --remote reads the OP's copy (RFC 7592).
    Show(ProvidersShowArgs),
    /// RFC 7592 read + update: send the current metadata (e.g. the JWKS after a key rotation).
    Sync(ProviderNameArgs),
    /// RFC 7592 delete at the OP, then remove the provider locally.
    Unregister(ProvidersUnregisterArgs),
}

/// Options shared by add / register / import.
#[derive(Debug, Args)]
pub struct ProviderCommon {
    /// Scopes to request at login (openid is always sent).
    #[arg(long, default_value = "openid profile email")]
    pub scope: String,

    /// TLS client certificate (PEM chain) for tls_client_auth / self_signed_tls_client_auth
    /// (the path is stored, not the file).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert (the path is stored).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Extra trusted CA certificates (PEM) for talking to the OP.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Replace a provider of the same name.
    #[arg(long)]
    pub replace: bool,

    /// Print the stored provider as JSON on stdout (never secrets).
    #[arg(long)]
    pub json: bool,
}

/// `relier providers add`.
#[derive(Debug, Args)]
pub struct ProvidersAddArgs {
    /// Local name of the provider (letters, digits, . _ -).
    pub name: String,

    /// The issuer identifier.
    #[arg(long, value_parser = parse_issuer)]
    pub issuer: IssuerUrl,

    /// The client_id the OP issued.
    #[arg(long, value_name = "ID", value_parser = parse_client_id)]
    pub client_id: ClientId,

    /// Client authentication method (default: the strongest the OP and the credentials given
    /// support).
    #[arg(long, value_name = "METHOD", value_parser = parse_auth_method)]
    pub auth_method: Option<AuthMethod>,

    /// Name of the environment variable holding the client secret.
    #[arg(long, value_name = "VAR", conflicts_with = "client_secret_stdin")]
    pub client_secret_env: Option<String>,

    /// Read the client secret from one line of standard input.
    #[arg(long)]
    pub client_secret_stdin: bool,

    /// A redirect URI registered at the OP (repeatable); login defaults to the first one.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,

    /// The ID token algorithm registered at the OP (default at login: RS256; "none": unsigned
    /// ID tokens, accepted only from the token endpoint over TLS).
    #[arg(long, value_name = "ALG", value_parser = parse_id_token_alg)]
    pub id_token_alg: Option<Algorithm>,

    /// Client assertion algorithm: for private_key_jwt the store key's algorithm (default: an
    /// active key the OP accepts), for client_secret_jwt HS256/384/512.
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub signing_alg: Option<Algorithm>,

    #[command(flatten)]
    pub common: ProviderCommon,
}

/// `--jwks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwksArg {
    /// Send the store's public keys in the registration (`jwks`); `providers sync` updates them.
    Inline,
    /// Register a URL where the OP fetches the keys (`jwks_uri`): serve `relier keys jwks` there.
    Uri,
}

/// `--application-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplicationType {
    /// A web application.
    Web,
    /// A native application (loopback redirect URIs).
    Native,
}

/// `relier providers register`.
#[derive(Debug, Args)]
pub struct ProvidersRegisterArgs {
    /// Local name of the provider (letters, digits, . _ -).
    pub name: String,

    /// The issuer identifier.
    #[arg(long, value_parser = parse_issuer)]
    pub issuer: IssuerUrl,

    /// Redirect URI to register (repeatable; at least one); login defaults to the first one
    /// (relier listens on it: http://127.0.0.1:PORT/PATH).
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    pub redirect_uris: Vec<String>,

    /// Client authentication method to register (default: the strongest the OP supports that
    /// relier can hold the credential for: private_key_jwt, else a secret the OP issues).
    #[arg(long, value_name = "METHOD", value_parser = parse_auth_method)]
    pub auth_method: Option<AuthMethod>,

    /// How the OP gets the RP's public keys (default for private_key_jwt: inline).
    #[arg(long, value_name = "MODE", value_enum)]
    pub jwks: Option<JwksArg>,

    /// The RP's JWKS URL, with --jwks uri.
    #[arg(long, value_name = "URL", required_if_eq("jwks", "uri"))]
    pub jwks_uri: Option<String>,

    /// Name of the environment variable holding the initial access token, if the OP wants one.
    #[arg(long, value_name = "VAR")]
    pub initial_access_token_env: Option<String>,

    /// `client_name` (default "relier").
    #[arg(long, value_name = "N")]
    pub client_name: Option<String>,

    /// `contacts` (OIDC DCR §2): an e-mail address of someone responsible for the client
    /// (repeatable; some OPs require one).
    #[arg(long = "contact", value_name = "EMAIL")]
    pub contacts: Vec<String>,

    /// `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3.1): where the OP may send the
    /// browser after a logout (repeatable; https, or http on loopback). A gateway's
    /// registration (a redirect URI `{public_url}/auth/callback/{name}`) gets
    /// `{public_url}/auth/logged-out` without it.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,

    /// `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2), with
    /// `backchannel_logout_session_required`. A gateway's registration gets
    /// `{public_url}/auth/backchannel-logout/{name}` without it.
    #[arg(long, value_name = "URI")]
    pub backchannel_logout_uri: Option<String>,

    /// `application_type` (default: native when every redirect URI is loopback http, else web).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub application_type: Option<ApplicationType>,

    /// `id_token_signed_response_alg` ("none": unsigned ID tokens, OIDC Core §2 — accepted only
    /// from the token endpoint over TLS, never with --profile fapi2).
    #[arg(long, value_name = "ALG", value_parser = parse_id_token_alg, default_value = "RS256")]
    pub id_token_alg: Algorithm,

    /// Client assertion algorithm (private_key_jwt: the store key's algorithm, generated if the
    /// store has no such key; default: an active key the OP accepts, else ES256).
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub signing_alg: Option<Algorithm>,

    /// `tls_client_auth_subject_dn` for tls_client_auth, e.g. "CN=my-rp".
    #[arg(long, value_name = "DN")]
    pub tls_subject_dn: Option<String>,

    /// Ask the OP to encrypt ID tokens to the RP (`id_token_encrypted_response_alg`/`_enc`,
    /// e.g. RSA-OAEP-256/A256GCM; ENC defaults to A128CBC-HS256). RSA-OAEP*/ECDH-ES*: the
    /// store's encryption key (generated if missing) is registered with the signing keys.
    #[arg(long, value_name = "ALG[/ENC]", value_parser = parse_encryption)]
    pub encrypt_id_token: Option<ResponseEncryption>,

    /// Ask the OP to encrypt UserInfo responses (`userinfo_encrypted_response_alg`/`_enc`).
    #[arg(long, value_name = "ALG[/ENC]", value_parser = parse_encryption)]
    pub encrypt_userinfo: Option<ResponseEncryption>,

    /// Ask the OP to sign UserInfo responses (`userinfo_signed_response_alg`).
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub signed_userinfo: Option<Algorithm>,

    /// Send every authorization request as a request object signed with the store key (RFC
    /// 9101): registers `request_object_signing_alg` (ALG, default the client assertion key's)
    /// and `require_signed_request_object`. Needs private_key_jwt.
    #[arg(long, value_name = "ALG", num_args = 0..=1, value_parser = parse_alg)]
    pub signed_requests: Option<Option<Algorithm>>,

    /// Ask for JWT-secured authorization responses (JARM, `response_mode=jwt`): registers
    /// `authorization_signed_response_alg` (ALG, default the ID token algorithm).
    #[arg(long, value_name = "ALG", num_args = 0..=1, value_parser = parse_alg)]
    pub jarm: Option<Option<Algorithm>>,

    /// Ask the OP to encrypt the JARM responses too (`authorization_encrypted_response_alg`/
    /// `_enc`, JARM §3; ALG[/ENC] as for --encrypt-id-token). Needs --jarm.
    #[arg(long, value_name = "ALG[/ENC]", value_parser = parse_encryption, requires = "jarm")]
    pub encrypt_jarm: Option<ResponseEncryption>,

    /// Register `dpop_bound_access_tokens: true` (RFC 9449 §5.2): every login then binds its
    /// tokens to a fresh DPoP key.
    #[arg(long)]
    pub dpop: bool,

    #[command(flatten)]
    pub common: ProviderCommon,
}

/// `relier providers import`.
#[derive(Debug, Args)]
pub struct ProvidersImportArgs {
    /// Local name of the provider (letters, digits, . _ -).
    pub name: String,

    /// The issuer identifier.
    #[arg(long, value_parser = parse_issuer)]
    pub issuer: IssuerUrl,

    /// The registration response (JSON); "-" reads standard input.
    #[arg(long, value_name = "FILE")]
    pub registration_response: PathBuf,

    #[command(flatten)]
    pub common: ProviderCommon,
}

/// A provider name.
#[derive(Debug, Args)]
pub struct ProviderNameArgs {
    /// The provider's local name.
    pub name: String,

    /// Extra trusted CA certificates (PEM) for talking to the OP.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Print JSON on stdout (never secrets).
    #[arg(long)]
    pub json: bool,
}

/// `relier providers show`.
#[derive(Debug, Args)]
pub struct ProvidersShowArgs {
    #[command(flatten)]
    pub provider: ProviderNameArgs,

    /// Read the registration from the OP (RFC 7592) and print it (secrets removed).
    #[arg(long)]
    pub remote: bool,
}

/// `relier providers unregister`.
#[derive(Debug, Args)]
pub struct ProvidersUnregisterArgs {
    #[command(flatten)]
    pub provider: ProviderNameArgs,

    /// Only forget the provider locally; do not call the OP.
    #[arg(long)]
    pub local_only: bool,
}

/// An asymmetric signature algorithm or asymmetric key-management algorithm the store can
/// generate a key for.
fn parse_key_alg(s: &str) -> Result<KeyAlg, String> {
    if let Ok(alg) = parse_alg(s) {
        if alg.is_hmac() {
            return Err(format!(
                "{alg} is a shared-secret algorithm; RP keys are RS*, PS*, ES* or EdDSA"
            ));
        }
        return Ok(KeyAlg::Sig(alg));
    }
    match s.parse::<relier_jose::jwe::KeyManagementAlg>() {
        Ok(alg) if alg.is_symmetric() => Err(format!(
            "{alg} uses a key derived from the client secret (OIDC Core §10.2), not an RP key"
        )),
        Ok(alg) => Ok(KeyAlg::Enc(alg)),
        Err(_) => Err(format!(
            "unknown algorithm {s:?}: RS256, PS256, ES256, EdDSA… or RSA-OAEP-256, ECDH-ES…"
        )),
    }
}

fn parse_bits(s: &str) -> Result<usize, String> {
    match s {
        "2048" | "3072" | "4096" => s.parse().map_err(|_| "use 2048, 3072 or 4096".to_owned()),
        _ => Err("use 2048, 3072 or 4096".to_owned()),
    }
}
