//! `relier token client-credentials`: a token for the client itself (RFC 6749 §4.4).
//! `relier token refresh|introspect|revoke`: the token comes from standard input, never from the
//! command line.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, bail};
use relier::RelyingParty;
use relier_core::introspection::TokenTypeHint;
use relier_core::{IdTokenClaims, Secret};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::Session;
use crate::args::{ClientCredentialsArgs, StoreArgs, TokenCommand, TokenOpArgs, TokenTypeHintArg};
use crate::clock::now_secs;
use crate::output;

/// Longest token accepted on stdin.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Run a `token` subcommand.
pub async fn run(cmd: &TokenCommand, store: &StoreArgs) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::ClientCredentials(a) => client_credentials(a, store).await,
        TokenCommand::Refresh(a) => {
            let token = stdin_token("refresh token")?;
            let rp = Session::connect(&a.client, store)
                .await?
                .with_dpop_key_file(a.dpop_key_file.as_deref(), true)?
                .relying_party(&a.validation, None, None)?;
            let original = match &a.id_token_file {
                Some(path) => Some(original_claims(path)?),
                None => None,
            };
            let (tokens, id_token) = rp.refresh(&token, original.as_ref()).await?;
            let method = rp.auth().method();
            if a.json {
                output::json_stdout(&output::tokens_json(
                    method,
                    &tokens,
                    id_token.as_ref(),
                    None,
                ))
            } else {
                output::stdout(&output::tokens_human(
                    method,
                    &tokens,
                    id_token.as_ref(),
                    None,
                    now_secs(),
                ))
            }
        }
        TokenCommand::Introspect(a) => {
            let token = stdin_token("token")?;
            let rp = token_op_rp(a, store).await?;
            let m = rp.introspect(&token, hint(a.token_type_hint)).await?;
            if a.json {
                output::json_stdout(&Value::Object(m))
            } else {
                output::stdout(&output::introspection_human(&m))
            }
        }
        TokenCommand::Revoke(a) => {
            let token = stdin_token("token")?;
            let rp = token_op_rp(a, store).await?;
            rp.revoke(&token, hint(a.token_type_hint)).await?;
            if a.json {
                output::json_stdout(&json!({ "revoked": true }))
            } else {
                output::stdout("token revoked\n")
            }
        }
    }
}

/// `relier token client-credentials`: the token response as JSON, or the access token alone
/// (for `$(relier token client-credentials …)`).
async fn client_credentials(a: &ClientCredentialsArgs, store: &StoreArgs) -> anyhow::Result<()> {
    let rp = Session::connect(&a.client, store)
        .await?
        .with_login_dpop_key_file(a.dpop_key_file.as_deref())?
        .relying_party(&default_validation(), None, None)?;
    let tokens = rp.client_credentials(&a.scope, &a.resource).await?;
    if a.json {
        output::json_stdout(&output::client_credentials_json(
            rp.auth().method(),
            &tokens,
        ))
    } else {
        output::stdout(&format!("{}\n", tokens.access_token.expose()))
    }
}

/// The relying party of `introspect` and `revoke`.
async fn token_op_rp(a: &TokenOpArgs, store: &StoreArgs) -> anyhow::Result<RelyingParty> {
    Session::connect(&a.client, store)
        .await?
        .with_dpop_key_file(a.dpop_key_file.as_deref(), false)?
        .relying_party(&default_validation(), None, None)
}

fn default_validation() -> crate::args::ValidationArgs {
    crate::args::ValidationArgs {
        id_token_alg: None,
        clock_skew: None,
        jwks_refetch_interval: None,
    }
}

fn hint(h: Option<TokenTypeHintArg>) -> Option<TokenTypeHint> {
    h.map(|h| match h {
        TokenTypeHintArg::AccessToken => TokenTypeHint::AccessToken,
        TokenTypeHintArg::RefreshToken => TokenTypeHint::RefreshToken,
    })
}

/// Read the token from standard input, with a hint when a person has to type it.
fn stdin_token(what: &str) -> anyhow::Result<Secret> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // Pasted at a terminal: read without echo, so the token stays out of the scrollback.
        let typed = Zeroizing::new(
            rpassword::prompt_password(format!("{what} (not echoed): "))
                .with_context(|| format!("reading the {what} from the terminal"))?,
        );
        return read_token(&mut typed.as_bytes(), what);
    }
    read_token(&mut stdin.lock(), what)
}

/// The claims of the ID token in `path` (for the OIDC Core §12.2 comparison).
fn original_claims(path: &std::path::Path) -> anyhow::Result<IdTokenClaims> {
    let shown = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("opening {shown}"))?;
    let token = read_token(&mut std::io::BufReader::new(file), "ID token")
        .with_context(|| format!("reading {shown}"))?;
    IdTokenClaims::of_validated_token(token.expose()).map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

/// Read one token from `input`: surrounding whitespace trimmed, empty refused.
fn read_token(input: &mut dyn std::io::Read, what: &str) -> anyhow::Result<Secret> {
    let mut buf = Zeroizing::new(Vec::new());
    input
        .take(MAX_TOKEN_BYTES + 1)
        .read_to_end(&mut buf)
        .context("reading standard input")?;
    if buf.len() as u64 > MAX_TOKEN_BYTES {
        bail!("standard input: the {what} is longer than {MAX_TOKEN_BYTES} bytes");
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| anyhow::anyhow!("standard input: the {what} is not valid UTF-8"))?;
    let token = text.trim();
    if token.is_empty() {
        bail!("standard input: no {what} (pipe it in, e.g. `relier token … < token.txt`)");
    }
    if token.chars().any(char::is_whitespace) {
        bail!("standard input: expected one {what}, found whitespace inside it");
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_stdin() {
        let t = read_token(&mut &b"  abc.def-123 \n"[..], "token").unwrap();
        assert_eq!(t.expose(), "abc.def-123");
        for bad in [&b""[..], b" \n\t", b"two tokens", b"\xff\xfe"] {
            assert!(read_token(&mut &bad[..], "token").is_err());
        }
        let long = vec![b'a'; 70_000];
        assert!(read_token(&mut &long[..], "token").is_err());
    }
}
