//! The subcommands, and the setup they share: credentials, HTTP client, discovery, client
//! authentication and the relying party.

use anyhow::bail;
use relier::{HttpClient, RelyingParty};
use relier_core::{ProviderMetadata, RedirectUrl, Secret};
use relier_jose::Algorithm;

use crate::args::{Cli, ClientArgs, Command, ValidationArgs};
use crate::credentials::{self, Loaded};
use crate::output;

pub mod discover;
pub mod login;
pub mod token;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Discover(a) => discover::run(&a).await,
        Command::Login(a) => login::run(&a).await,
        Command::Token(t) => token::run(&t).await,
    }
}

/// An OP discovered and a client authentication chosen.
#[derive(Debug)]
pub struct Session {
    http: HttpClient,
    metadata: ProviderMetadata,
    auth: relier_core::ClientAuth,
    secret: Option<Secret>,
}

impl Session {
    /// Load the credentials, discover the OP, choose the method (saying why on stderr).
    pub async fn connect(client: &ClientArgs) -> anyhow::Result<Self> {
        let loaded = Loaded::from_args(client)?;
        let http = HttpClient::new(&loaded.http_config())?;
        let metadata = relier::discover(&http, &client.issuer).await?;
        let chosen = credentials::choose(client, &loaded, &metadata)?;
        if let Some(rec) = &chosen.recommendation {
            output::note(&format!("using {}: {}", rec.method, rec.reason));
        }
        tracing::debug!(auth = ?chosen.auth, "client authentication");
        Ok(Self {
            http,
            metadata,
            auth: chosen.auth,
            secret: loaded.secret,
        })
    }

    /// The relying party, with the ID token rules of `v`.
    pub fn relying_party(
        self,
        v: &ValidationArgs,
        redirect_uri: Option<RedirectUrl>,
        userinfo_signed_alg: Option<Algorithm>,
    ) -> anyhow::Result<RelyingParty> {
        let needs_secret =
            v.id_token_alg.is_hmac() || userinfo_signed_alg.is_some_and(|a| a.is_hmac());
        if needs_secret && self.secret.is_none() {
            bail!(
                "HS256/HS384/HS512 ID tokens and UserInfo are verified with the client secret: use --client-secret-env VAR or --client-secret-file FILE"
            );
        }
        let mut b =
            RelyingParty::builder(self.http, self.metadata, self.auth).id_token_alg(v.id_token_alg);
        if let Some(s) = self.secret {
            b = b.client_secret(s);
        }
        if let Some(r) = redirect_uri {
            b = b.redirect_uri(r);
        }
        if let Some(a) = userinfo_signed_alg {
            b = b.userinfo_signed_alg(a);
        }
        if let Some(s) = v.clock_skew {
            b = b.clock_skew(s);
        }
        if let Some(i) = v.jwks_refetch_interval {
            b = b.jwks_refetch_interval(i);
        }
        Ok(b.build())
    }
}

/// Seconds since the epoch, for display.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
