//! `relier keys …`: the RP's signing and encryption keys in the store (kid = RFC 7638 thumbprint), their
//! lifecycle next → active → retired → removed, and the public JWKS.

use std::fmt::Write as _;

use anyhow::Context as _;
use relier_jose::jwe::KeyManagementAlg;
use relier_store::{JwksMode, KeyAlg, KeyInfo, KeyState, KeyUse, Store, StoreError, UnixTime};

use super::key_choice;
use super::providers;
use crate::args::{KeysCommand, KeysGenerateArgs, KeysImportArgs, KeysRemoveArgs, KeysRotateArgs};
use crate::clock::now_secs;
use crate::output;

const ROTATED: &str = "rotated: new";

/// Run a `keys` subcommand against an open store.
pub async fn run(store: &dyn Store, cmd: &KeysCommand) -> anyhow::Result<()> {
    let now = now_secs();
    match cmd {
        KeysCommand::Generate(a) => generate(store, a, now).await,
        KeysCommand::Import(a) => import(store, a, now).await,
        KeysCommand::Cert(a) => cert(store, a).await,
        KeysCommand::List(a) => {
            let keys = store.list_keys().await?;
            if a.json {
                output::json_stdout(&serde_json::to_value(&keys)?)
            } else if keys.is_empty() {
                output::stdout("no keys (create one with `relier keys generate --alg ES256`)\n")
            } else {
                output::stdout(&table(&keys, now))
            }
        }
        KeysCommand::Rotate(a) => rotate(store, a, now).await,
        KeysCommand::Retire(a) => {
            let key = store.retire_key(&a.kid, UnixTime(now)).await?;
            if let KeyAlg::Sig(alg) = key.alg
                && !store.active_algs().await?.contains(&alg)
            {
                output::note(&format!(
                    "warning: no active {} key is left; private_key_jwt with {} fails until you generate one",
                    key.alg, key.alg
                ));
            }
            if let Some(until) = key.grace_until {
                output::note(&format!(
                    "{} stays published until {} (grace period); remove it afterwards with `relier keys remove {}`",
                    key.kid,
                    output::utc(until),
                    key.kid
                ));
            }
            print_keys(std::slice::from_ref(&key), a.json, "retired")
        }
        KeysCommand::Remove(a) => remove(store, a, now).await,
        KeysCommand::Jwks => {
            let jwks = store.jwks(UnixTime(now)).await?;
            output::json_stdout(&serde_json::to_value(&jwks)?)
        }
    }
}

/// The algorithm `keys generate` asked for: `--alg`, which must fit `--use`; with `--use enc`
/// alone, RSA-OAEP-256 (the key-management algorithm OPs support most widely); with `--use
/// entity` alone, RS256.
fn generate_alg(a: &KeysGenerateArgs) -> anyhow::Result<KeyAlg> {
    let wanted = a.key_use.map(KeyUse::from);
    match (a.alg, wanted) {
        (Some(alg), Some(u)) => key_choice::within_use(alg, u),
        (Some(alg), None) => Ok(alg),
        (None, Some(KeyUse::Enc)) => Ok(KeyAlg::Enc(KeyManagementAlg::RsaOaep256)),
        (None, Some(KeyUse::Entity)) => Ok(key_choice::ENTITY_DEFAULT),
        (None, _) => anyhow::bail!("--alg is required for a signing key (e.g. --alg ES256)"),
    }
}

/// `keys import --use USE --file KEY.pem [--alg ALG]`.
async fn import(store: &dyn Store, a: &KeysImportArgs, now: u64) -> anyhow::Result<()> {
    let key_use = KeyUse::from(a.key_use);
    let pem = key_choice::read_pem(&a.file)?;
    let alg = match a.alg {
        Some(alg) => key_choice::within_use(alg, key_use)?,
        None => key_choice::import_default(key_use, &pem),
    };
    let key = store
        .import_key(alg, &pem, UnixTime(now))
        .await
        .with_context(|| format!("importing {}", a.file.display()))?;
    if key.state == KeyState::Next {
        output::note(&format!(
            "{} {} already has an active key: the imported key is published now and used from the next command on",
            key.key_use(),
            key.alg
        ));
    }
    print_keys(std::slice::from_ref(&key), a.json, "imported")
}

async fn generate(store: &dyn Store, a: &KeysGenerateArgs, now: u64) -> anyhow::Result<()> {
    let alg = generate_alg(a)?;
    if a.bits.is_some() && !alg.is_rsa() {
        anyhow::bail!("--bits is for RSA keys (RS*, PS*, RSA-OAEP*), not {alg}");
    }
    let key = store.generate_key(alg, a.bits, UnixTime(now)).await?;
    if key.state == KeyState::Next {
        let mut note = format!(
            "{} already has an active key: the new key is published now and used from the next command on",
            key.alg
        );
        if let Some(hint) = sync_hint(store).await? {
            note.push_str("; ");
            note.push_str(&hint);
        }
        output::note(&note);
    }
    print_keys(std::slice::from_ref(&key), a.json, "generated")
}

async fn rotate(store: &dyn Store, a: &KeysRotateArgs, now: u64) -> anyhow::Result<()> {
    let targets = key_choice::rotation_targets(
        a.alg,
        a.key_use.map(KeyUse::from),
        &store.list_keys().await?,
    )?;
    let keys = match targets {
        None => {
            store
                .rotate_keys(None, a.propagation, UnixTime(now))
                .await?
        }
        Some(algs) => {
            let mut keys = Vec::new();
            for alg in algs {
                keys.extend(
                    store
                        .rotate_keys(Some(alg), a.propagation, UnixTime(now))
                        .await?,
                );
            }
            keys
        }
    };
    if keys.is_empty() {
        anyhow::bail!(
            "no active key to rotate: create one with `relier keys generate --alg ES256`"
        );
    }
    print_keys(&keys, a.json, ROTATED)?;
    if a.sync {
        let names = inline_providers(store).await?;
        let mut failed = Vec::new();
        for name in &names {
            match providers::sync::sync(store, name, None).await {
                Ok(changes) => output::note(&format!(
                    "synced provider {name}: {}",
                    providers::sync::summary(&changes)
                )),
                Err(e) => {
                    output::note(&format!(
                        "sync of provider {name} failed: {}",
                        output::chain(&e)
                    ));
                    failed.push(name.as_str());
                }
            }
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "the new key is published but these OPs do not know it yet: {} (run `relier providers sync NAME` before the key activates)",
                failed.join(", ")
            );
        }
    } else if let Some(hint) = sync_hint(store).await? {
        output::note(&hint);
    }
    Ok(())
}

/// The providers registered with an inline jwks (their OP learns new keys only by an update).
async fn inline_providers(store: &dyn Store) -> anyhow::Result<Vec<String>> {
    Ok(store
        .list_providers()
        .await?
        .into_iter()
        .filter(|p| p.jwks_mode == Some(JwksMode::Inline) && p.registration_client_uri.is_some())
        .map(|p| p.name)
        .collect())
}

/// What to do so that OPs learn the new key before relier signs with it (nothing without
/// providers that hold the keys).
async fn sync_hint(store: &dyn Store) -> anyhow::Result<Option<String>> {
    let providers = store.list_providers().await?;
    let inline: Vec<&str> = providers
        .iter()
        .filter(|p| p.jwks_mode == Some(JwksMode::Inline))
        .map(|p| p.name.as_str())
        .collect();
    let uri = providers.iter().any(|p| p.jwks_mode == Some(JwksMode::Uri));
    let mut hint = String::new();
    if !inline.is_empty() {
        let _ = write!(
            hint,
            "the OPs must know the new key before relier signs with it: run {} (or `relier keys rotate --sync`)",
            inline
                .iter()
                .map(|n| format!("`relier providers sync {n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if uri {
        if !hint.is_empty() {
            hint.push_str("; ");
        }
        hint.push_str("serve the new `relier keys jwks` at your jwks_uri now");
    }
    Ok((!hint.is_empty()).then_some(hint))
}

async fn remove(store: &dyn Store, a: &KeysRemoveArgs, now: u64) -> anyhow::Result<()> {
    let kid = &a.key.kid;
    let key = match store.remove_key(kid, a.force, UnixTime(now)).await {
        Ok(k) => k,
        Err(StoreError::KeyInUse { state, until, .. }) => {
            let why = match until {
                Some(t) => format!(
                    "it is retired but still published until {} (grace period: an OP may still verify with it)",
                    output::utc(t)
                ),
                None if state == KeyState::Active => format!(
                    "it is active (relier signs with it); retire it first (`relier keys retire {kid}`)"
                ),
                None => format!("it is {state}"),
            };
            anyhow::bail!("key {kid} is in use: {why}; use --force to remove it anyway");
        }
        Err(e) => return Err(e).context(format!("removing key {kid}")),
    };
    print_keys(std::slice::from_ref(&key), a.key.json, "removed")
}

/// `--json`: generate/retire/remove print one key object, rotate an array (one per algorithm).
fn print_keys(keys: &[KeyInfo], json: bool, verb: &str) -> anyhow::Result<()> {
    if json {
        let v = match keys {
            [one] if verb != ROTATED => serde_json::to_value(one)?,
            many => serde_json::to_value(many)?,
        };
        return output::json_stdout(&v);
    }
    let mut s = String::new();
    for k in keys {
        let _ = write!(s, "{verb} {} key {} ({})", k.alg, k.kid, k.state);
        if let (KeyState::Next, Some(t)) = (k.state, k.activates_at) {
            let verb = match k.key_use() {
                KeyUse::Sig => "signs",
                KeyUse::Enc => "encrypted to",
                KeyUse::Entity => "signs the entity statement",
            };
            let _ = write!(s, ", {verb} from {}", output::utc(t));
        }
        s.push('\n');
    }
    output::stdout(&s)
}

/// `keys list` for people.
fn table(keys: &[KeyInfo], now: u64) -> String {
    let time = |t: Option<u64>| t.map_or_else(|| "-".to_owned(), short_time);
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let until = match (k.state, k.grace_until) {
                (KeyState::Retired, Some(t)) if t > now => short_time(t),
                (KeyState::Retired, _) => "no longer".to_owned(),
                _ => "-".to_owned(),
            };
            vec![
                k.kid.clone(),
                k.key_use().as_str().to_owned(),
                k.alg.as_str().to_owned(),
                k.state.as_str().to_owned(),
                short_time(k.created_at),
                time(k.activates_at),
                time(k.retired_at),
                until,
            ]
        })
        .collect();
    output::table(
        &[
            "KID",
            "USE",
            "ALG",
            "STATE",
            "CREATED",
            "ACTIVATES",
            "RETIRED",
            "PUBLISHED UNTIL",
        ],
        &rows,
    )
}

/// "2024-05-01 12:00" (UTC).
fn short_time(t: u64) -> String {
    let full = output::utc(t);
    full.get(..16).unwrap_or(&full).to_owned()
}

/// `keys cert`: the certificate of the active key of `--alg` (or of `--kid`'s algorithm).
async fn cert(store: &dyn Store, a: &crate::args::KeysCertArgs) -> anyhow::Result<()> {
    if let Some(file) = &a.private_key {
        let key = relier::credentials::KeySource::file(file, None, None)
            .load()
            .context("--private-key")?;
        let cert = relier::certificate::key_certificate(&key)?;
        output::note(&format!(
            "certificate of {} (x5t#S256 {})",
            file.display(),
            cert.x5t_s256
        ));
        return output::stdout(&cert.pem);
    }
    let alg = match &a.kid {
        Some(kid) => store
            .list_keys()
            .await?
            .into_iter()
            .find(|k| k.kid == *kid)
            .ok_or_else(|| anyhow::anyhow!("no key {kid} (see `relier keys list`)"))
            .and_then(|k| match k.alg {
                relier_store::KeyAlg::Sig(alg) => Ok(alg),
                other => Err(anyhow::anyhow!(
                    "key {kid} is an {} key ({other}): a certificate is for a signing key",
                    other.key_use()
                )),
            })?,
        None => a.alg.unwrap_or(relier_jose::Algorithm::RS256),
    };
    let key = store.signing_key(alg).await?.ok_or_else(|| {
        anyhow::anyhow!("no active {alg} key: create one with `relier keys generate --alg {alg}`")
    })?;
    let kid = key.kid().unwrap_or_default().to_owned();
    if let Some(want) = &a.kid
        && *want != kid
    {
        anyhow::bail!(
            "key {want} is not the active {alg} key ({kid}): only the active key signs client assertions"
        );
    }
    let cert = relier::certificate::key_certificate(&key)?;
    output::note(&format!(
        "certificate of the active {alg} key {kid} (x5t#S256 {}); upload it to the provider, e.g. Entra ID: App registrations → Certificates & secrets → Certificates → Upload certificate",
        cert.x5t_s256
    ));
    output::stdout(&cert.pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relier_jose::Algorithm;

    #[test]
    fn table_shows_states_and_times() {
        let keys = [
            KeyInfo {
                kid: "k1".into(),
                alg: Algorithm::ES256.into(),
                state: KeyState::Retired,
                created_at: 0,
                activates_at: None,
                retired_at: Some(60),
                grace_until: Some(7200),
            },
            KeyInfo {
                kid: "k2".into(),
                alg: Algorithm::ES256.into(),
                state: KeyState::Active,
                created_at: 60,
                activates_at: Some(60),
                retired_at: None,
                grace_until: None,
            },
        ];
        let t = table(&keys, 100);
        assert!(t.contains("retired"), "{t}");
        assert!(t.contains("1970-01-01 02:00"), "{t}");
        assert_eq!(table(&keys, 7200).matches("no longer").count(), 1);
        assert_eq!(short_time(0), "1970-01-01 00:00");
    }
}
