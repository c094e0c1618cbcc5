//! `relier providers add`: a client registered by hand at the OP. The secret comes from an
//! environment variable or one line of standard input, never from argv.

use std::io::IsTerminal as _;

use anyhow::{Context as _, bail};
use relier_core::recommend::{self, Credentials};
use relier_core::{AuthMethod, ProviderMetadata, RedirectUrl, Secret};
use relier_jose::Algorithm;
use relier_store::{ProviderRecord, Store};
use serde_json::Value;

use super::{check_new_name, discover, save_and_print, tls_paths};
use crate::args::ProvidersAddArgs;
use relier::credentials::{op_accepts, prefer_alg};

use crate::credentials;
use crate::{output, store as cli_store};

/// Run `providers add`.
pub async fn run(store: &dyn Store, a: &ProvidersAddArgs) -> anyhow::Result<()> {
    check_new_name(store, &a.name, a.common.replace).await?;
    let secret = read_secret(a)?;
    for uri in &a.redirect_uris {
        RedirectUrl::new(uri.as_str()).map_err(|e| anyhow::anyhow!("--redirect-uri {uri}: {e}"))?;
    }
    let (_, md) = discover(&a.issuer, a.common.ca_file.as_deref()).await?;

    let key_alg = store_key_alg(store, &md, a.signing_alg).await?;
    let has_cert = a.common.tls_cert.is_some();
    let method = match a.auth_method {
        Some(m) => m,
        None => {
            let creds = Credentials {
                secret_len: secret.as_ref().map(Secret::len),
                private_key: key_alg,
                tls_certificate: has_cert,
            };
            let rec = recommend::recommend(&md, &creds)?;
            output::note(&format!("using {}: {}", rec.method, rec.reason));
            rec.method
        }
    };
    let signing_alg = match method {
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            need_secret(&secret, method)?;
            None
        }
        AuthMethod::ClientSecretJwt => {
            need_secret(&secret, method)?;
            match a.signing_alg {
                Some(alg) if !alg.is_hmac() => bail!(
                    "--signing-alg {alg} cannot be used with client_secret_jwt (use HS256, HS384 or HS512)"
                ),
                other => other,
            }
        }
        AuthMethod::PrivateKeyJwt => {
            let Some(alg) = key_alg else {
                bail!(no_key_message(a.signing_alg));
            };
            output::note(&format!(
                "the OP must know the store's public keys for client {}: register `relier keys jwks` (or a jwks_uri serving it) there",
                a.client_id
            ));
            Some(alg)
        }
        m if m.uses_mtls() && !has_cert => {
            bail!("{m} needs a client certificate: use --tls-cert FILE --tls-key FILE")
        }
        _ => None,
    };

    let mut record = ProviderRecord::new(
        a.name.as_str(),
        a.issuer.as_str(),
        a.client_id.as_str(),
        method,
    );
    record.redirect_uris = a.redirect_uris.clone();
    record.scopes = a.common.scope.clone();
    record.id_token_alg = a.id_token_alg;
    record.signing_alg = signing_alg;
    record.client_secret = secret;
    tls_paths(&mut record, &a.common)?;
    record.provider_metadata = Some(Value::Object(md.raw));
    save_and_print(store, &record, a.common.replace, a.common.json, "added").await
}

fn read_secret(a: &ProvidersAddArgs) -> anyhow::Result<Option<Secret>> {
    if let Some(var) = &a.client_secret_env {
        return credentials::secret_env(var, "--client-secret-env").map(Some);
    }
    if !a.client_secret_stdin {
        return Ok(None);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // Typed or pasted at a terminal: read without echo, so the secret stays off the screen
        // and out of terminal scrollback.
        let typed = zeroize::Zeroizing::new(
            rpassword::prompt_password("client secret the OP issued (not echoed): ")
                .context("reading the client secret from the terminal")?,
        );
        return cli_store::secret_line(&mut typed.as_bytes(), "client secret").map(Some);
    }
    cli_store::secret_line(&mut stdin.lock(), "client secret").map(Some)
}

fn need_secret(secret: &Option<Secret>, method: AuthMethod) -> anyhow::Result<()> {
    if secret.is_none() {
        bail!(
            "{method} needs the client secret the OP issued: use --client-secret-stdin (one line on standard input) or --client-secret-env VAR"
        );
    }
    Ok(())
}

/// The store's active key algorithm to use for private_key_jwt: `--signing-alg` if the store
/// has an active key for it, else the preferred active one the OP accepts.
async fn store_key_alg(
    store: &dyn Store,
    md: &ProviderMetadata,
    wanted: Option<Algorithm>,
) -> anyhow::Result<Option<Algorithm>> {
    let active = store.active_algs().await?;
    Ok(match wanted.filter(|a| !a.is_hmac()) {
        Some(alg) => active.contains(&alg).then_some(alg),
        None => prefer_alg(&active, |alg| op_accepts(md, alg)),
    })
}

fn no_key_message(wanted: Option<Algorithm>) -> String {
    let alg = wanted.filter(|a| !a.is_hmac()).unwrap_or(Algorithm::ES256);
    format!(
        "private_key_jwt needs an active {alg} signing key in the store (or one the OP accepts): run `relier keys generate --alg {alg}` and register `relier keys jwks` with the OP"
    )
}
