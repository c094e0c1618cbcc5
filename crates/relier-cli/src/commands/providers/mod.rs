//! `relier providers …`: the registry of OPs relier is registered with. `add` (registered by
//! hand), `register` (RFC 7591), `import` (a registration response from elsewhere), `list`,
//! `show`, `sync` (RFC 7592 read + update) and `unregister` (RFC 7592 delete). Output never
//! holds a secret or token.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use relier::HttpClient;
use relier_core::registration::{Registration, RegistrationResponse};
use relier_core::{AuthMethod, IssuerUrl, ProviderMetadata, Secret};
use relier_jose::Algorithm;
use relier_store::{JwksMode, ProviderRecord, Store, StoredRegistration, UnixTime};
use serde_json::{Value, json};

use crate::args::{ProviderCommon, ProvidersCommand, ProvidersImportArgs, ProvidersUnregisterArgs};
use crate::clock::now_secs;
use crate::output;

pub mod add;
mod gateway;
pub mod register;
pub mod sync;

/// Largest registration response file accepted.
const MAX_RESPONSE_FILE: u64 = 1024 * 1024;

/// Run a `providers` subcommand against an open store.
pub async fn run(store: &dyn Store, cmd: &ProvidersCommand) -> anyhow::Result<()> {
    match cmd {
        ProvidersCommand::Add(a) => add::run(store, a).await,
        ProvidersCommand::Register(a) => register::run(store, a).await,
        ProvidersCommand::Import(a) => import(store, a).await,
        ProvidersCommand::List(a) => {
            let list = store.list_providers().await?;
            if a.json {
                return output::json_stdout(&serde_json::to_value(&list)?);
            }
            if list.is_empty() {
                return output::stdout(
                    "no providers (add one with `relier providers register` or `relier providers add`)\n",
                );
            }
            let now = now_secs();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.issuer.clone(),
                        p.client_id.clone(),
                        p.auth_method.as_str().to_owned(),
                        p.jwks_mode.map_or("-", JwksMode::as_str).to_owned(),
                        p.client_secret_expires_at
                            .map_or_else(|| "-".to_owned(), |t| secret_expiry_text(t, now)),
                    ]
                })
                .collect();
            output::stdout(&output::table(
                &[
                    "NAME",
                    "ISSUER",
                    "CLIENT_ID",
                    "AUTH METHOD",
                    "JWKS",
                    "SECRET EXPIRES",
                ],
                &rows,
            ))
        }
        ProvidersCommand::Show(a) => {
            let record = load(store, &a.provider.name).await?;
            if a.remote {
                let (uri, token) = management(&record)?;
                let http = http_client(a.provider.ca_file.as_deref())?;
                let resp = relier::registration::read(&http, uri, token)
                    .await
                    .with_context(|| format!("provider {}: RFC 7592 read", record.name))?;
                return output::json_stdout(&Value::Object(resp.metadata));
            }
            let v = show_json(&record);
            if a.provider.json {
                output::json_stdout(&v)
            } else {
                output::stdout(&show_human(&v))
            }
        }
        ProvidersCommand::Sync(a) => sync::run(store, a).await,
        ProvidersCommand::Unregister(a) => unregister(store, a).await,
    }
}

/// The stored provider `name`, or a clear error.
pub async fn load(store: &dyn Store, name: &str) -> anyhow::Result<ProviderRecord> {
    store.get_provider(name).await?.with_context(|| {
        format!("no provider named {name:?} in the store (see `relier providers list`)")
    })
}

/// Refuse an existing name before anything is sent to the OP (unless `--replace`, which warns
/// when the replaced client stays registered at its OP).
pub async fn check_new_name(store: &dyn Store, name: &str, replace: bool) -> anyhow::Result<()> {
    relier_store::validate_provider_name(name)?;
    let Some(old) = store.get_provider(name).await? else {
        return Ok(());
    };
    if !replace {
        bail!("provider {name:?} already exists (use --replace, or another name)");
    }
    if old.registration_client_uri.is_some() {
        output::note(&format!(
            "warning: replacing {name} forgets client {} without deleting it at the OP (`relier providers unregister {name}` would)",
            old.client_id
        ));
    }
    Ok(())
}

/// An HTTP client trusting `--ca-file` too.
pub fn http_client(ca_file: Option<&Path>) -> anyhow::Result<HttpClient> {
    Ok(HttpClient::new(&relier::HttpConfig {
        ca_pem: ca_file.map(relier::credentials::read_ca_file).transpose()?,
        ..Default::default()
    })?)
}

/// Discover the OP (`--ca-file` trusted).
pub async fn discover(
    issuer: &IssuerUrl,
    ca_file: Option<&Path>,
) -> anyhow::Result<(HttpClient, ProviderMetadata)> {
    let http = http_client(ca_file)?;
    let md = relier::discover(&http, issuer).await?;
    Ok((http, md))
}

/// The RFC 7592 endpoint and token of a provider, or a clear error.
pub fn management(record: &ProviderRecord) -> anyhow::Result<(&str, &Secret)> {
    match (
        record.registration_client_uri.as_deref(),
        record.registration_access_token.as_ref(),
    ) {
        (Some(uri), Some(token)) => Ok((uri, token)),
        _ => bail!(
            "provider {} has no RFC 7592 registration_client_uri and registration access token (it was added by hand, or the OP does not support registration management)",
            record.name
        ),
    }
}

/// Check `--tls-cert` / `--tls-key` are readable and store them as absolute paths (login may
/// run in another directory).
pub fn tls_paths(record: &mut ProviderRecord, common: &ProviderCommon) -> anyhow::Result<()> {
    if let (Some(cert), Some(key)) = (&common.tls_cert, &common.tls_key) {
        let abs = |p: &Path, flag: &str| {
            std::fs::canonicalize(p).with_context(|| format!("{flag} {}", p.display()))
        };
        record.tls_cert_path = Some(abs(cert, "--tls-cert")?);
        record.tls_key_path = Some(abs(key, "--tls-key")?);
    }
    Ok(())
}

/// A provider record from a registration response: client_id, secrets, RFC 7592 endpoint,
/// method (RFC 7591 default client_secret_basic), redirect URIs, algorithms, JWKS mode.
pub fn record_from_response(
    name: &str,
    issuer: &IssuerUrl,
    resp: RegistrationResponse,
    common: &ProviderCommon,
) -> anyhow::Result<ProviderRecord> {
    // Every member that decides behaviour, read once and checked (naming the member relier
    // cannot use).
    let reg = Registration::from_response(&resp)?;
    let stored = StoredRegistration::new(reg.clone(), resp.client_secret_expires_at);
    let m = &resp.metadata;
    let mut record = ProviderRecord::new(
        name,
        issuer.as_str(),
        resp.client_id.as_str(),
        reg.auth_method,
    );
    record.redirect_uris = reg.redirect_uris;
    record.scopes = common.scope.clone();
    record.id_token_alg = reg.id_token_signed_alg;
    record.signing_alg = reg.auth_signing_alg;
    if m.get("jwks").is_some_and(|v| !v.is_null()) {
        record.jwks_mode = Some(JwksMode::Inline);
    } else if let Some(Value::String(u)) = m.get("jwks_uri") {
        record.jwks_mode = Some(JwksMode::Uri);
        record.jwks_uri = Some(u.clone());
    }
    tls_paths(&mut record, common)?;
    record.registration_client_uri = resp.registration_client_uri;
    record.client_secret = resp.client_secret;
    record.registration_access_token = resp.registration_access_token;
    record.registration = Some(stored);
    Ok(record)
}

/// Store a new provider and print it (JSON: [`relier_store::ProviderInfo`], never secrets).
pub async fn save_and_print(
    store: &dyn Store,
    record: &ProviderRecord,
    replace: bool,
    json: bool,
    verb: &str,
) -> anyhow::Result<()> {
    let info = store
        .put_provider(record, replace, UnixTime(now_secs()))
        .await?;
    if json {
        return output::json_stdout(&serde_json::to_value(&info)?);
    }
    let mut s = format!(
        "{verb} provider {}: issuer {}, client_id {}, {}",
        info.name, info.issuer, info.client_id, info.auth_method
    );
    if let Some(mode) = info.jwks_mode {
        let _ = write!(s, ", jwks {mode}");
    }
    s.push('\n');
    output::stdout(&output::one_line_each(&s))
}

/// A warning when a private_key_jwt registration names none of the store's published keys
/// (`registered`: the kids of its inline `jwks`).
pub async fn check_keys_known(
    store: &dyn Store,
    record: &ProviderRecord,
    registered: &[String],
) -> anyhow::Result<()> {
    if record.auth_method != AuthMethod::PrivateKeyJwt || record.jwks_mode != Some(JwksMode::Inline)
    {
        return Ok(());
    }
    let published = store.jwks(UnixTime(now_secs())).await?;
    if !registered
        .iter()
        .any(|kid| published.keys.iter().any(|k| k.kid.as_deref() == Some(kid)))
    {
        output::note(&format!(
            "warning: none of the keys registered for {} is in this store; private_key_jwt logins fail until the OP knows a store key (`relier providers sync {}`)",
            record.name, record.name
        ));
    }
    Ok(())
}

async fn import(store: &dyn Store, a: &ProvidersImportArgs) -> anyhow::Result<()> {
    check_new_name(store, &a.name, a.common.replace).await?;
    let path = &a.registration_response;
    let body = read_response(path)
        .with_context(|| format!("--registration-response {}", path.display()))?;
    let resp = relier_core::registration::parse_response(&relier_core::http::HttpResponse {
        status: 200,
        content_type: Some("application/json".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.to_vec(),
    })
    .with_context(|| format!("--registration-response {}", path.display()))?;
    let (_, md) = discover(&a.issuer, a.common.ca_file.as_deref()).await?;
    // RFC 7592 §3: the stored registration access token would be sent to this URI.
    resp.check_client_uri(&md)
        .with_context(|| format!("--registration-response {}", path.display()))?;
    let registered_kids = sync::jwks_kids(resp.metadata.get("jwks"));
    let mut record = record_from_response(&a.name, &a.issuer, resp, &a.common)?;
    check_usable(&record).with_context(|| format!("--registration-response {}", path.display()))?;
    record.provider_metadata = Some(Value::Object(md.raw));
    check_keys_known(store, &record, &registered_kids).await?;
    save_and_print(store, &record, a.common.replace, a.common.json, "imported").await
}

/// Refuses a registration relier could never use, naming the member: what
/// [`Registration::from_metadata`] refuses (an algorithm relier does not implement or refuses —
/// RSA1_5, RFC 8725 §3.2; `none` where a signature is required —, a member of the wrong type, a
/// client assertion algorithm that does not fit the method) and symmetric encryption (OIDC
/// Core §10.2) without the client secret it is derived from.
pub fn check_usable(record: &ProviderRecord) -> anyhow::Result<()> {
    let reg = record.registered()?;
    if let Some(member) = reg.needs_client_secret()
        && record.client_secret.is_none()
    {
        bail!(
            "{member}: symmetric key management is derived from the client secret, and the registration has none"
        );
    }
    Ok(())
}

fn read_response(path: &Path) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Read as _;
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_RESPONSE_FILE + 1)
            .read_to_end(&mut buf)?;
    } else {
        std::fs::File::open(path)?
            .take(MAX_RESPONSE_FILE + 1)
            .read_to_end(&mut buf)?;
    }
    if buf.len() as u64 > MAX_RESPONSE_FILE {
        bail!("larger than {MAX_RESPONSE_FILE} bytes");
    }
    Ok(buf)
}

async fn unregister(store: &dyn Store, a: &ProvidersUnregisterArgs) -> anyhow::Result<()> {
    let p = &a.provider;
    let record = load(store, &p.name).await?;
    if !a.local_only {
        let (uri, token) = management(&record).context(
            "use --local-only to only forget it here (then delete the client at the OP yourself)",
        )?;
        let http = http_client(p.ca_file.as_deref())?;
        relier::registration::delete(&http, uri, token)
            .await
            .with_context(|| {
                format!(
                    "provider {}: RFC 7592 delete (nothing removed locally; --local-only forgets it anyway)",
                    record.name
                )
            })?;
    }
    store.delete_provider(&record.name).await?;
    let what = if a.local_only {
        "removed locally (the OP was not called)"
    } else {
        "deleted at the OP (RFC 7592) and removed locally"
    };
    if p.json {
        output::json_stdout(&json!({
            "name": record.name,
            "deleted_at_op": !a.local_only,
            "removed": true,
        }))
    } else {
        output::stdout(&format!(
            "provider {}: {what}\n",
            output::one_line(&record.name)
        ))
    }
}

/// `providers show --json`: the public view plus the non-secret settings; secrets only as
/// "present or not".
fn show_json(r: &ProviderRecord) -> Value {
    let mut v = serde_json::to_value(r.info()).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        let alg = |a: Option<Algorithm>| a.map_or(Value::Null, |a| json!(a.as_str()));
        let path = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map_or(Value::Null, |p| json!(p.display().to_string()))
        };
        m.insert("id_token_alg".into(), alg(r.id_token_alg));
        m.insert("signing_alg".into(), alg(r.signing_alg));
        m.insert("tls_cert_path".into(), path(&r.tls_cert_path));
        m.insert("tls_key_path".into(), path(&r.tls_key_path));
        m.insert("has_client_secret".into(), json!(r.client_secret.is_some()));
        m.insert(
            "has_registration_access_token".into(),
            json!(r.registration_access_token.is_some()),
        );
        m.insert(
            "registration".into(),
            r.registration
                .as_ref()
                .map_or(Value::Null, StoredRegistration::to_json),
        );
    }
    v
}

fn show_human(v: &Value) -> String {
    let mut s = String::new();
    let Value::Object(m) = v else {
        return s;
    };
    for (k, v) in m {
        let text = match v {
            Value::Null => continue,
            Value::String(x) => x.clone(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(_) if k == "registration" => "(stored; see --json)".to_owned(),
            Value::Number(n) if k.ends_with("_at") => {
                n.as_u64().map_or_else(|| n.to_string(), output::utc)
            }
            other => other.to_string(),
        };
        let _ = writeln!(s, "{:<30} {}", k, output::one_line(&text));
    }
    s
}

/// An expiry time for people, marked when it has passed.
fn secret_expiry_text(at: u64, now: u64) -> String {
    if at <= now {
        format!("{} (expired)", output::utc(at))
    } else {
        output::utc(at)
    }
}
