//! `relier providers sync`: RFC 7592 read, then update with the current metadata — the OP's
//! copy, with what relier manages set from the store: the published JWKS (inline mode) or the
//! jwks_uri, the redirect URIs, the method and its algorithm. The new response is stored and
//! the differences are printed ("jwks: 1 → 2 keys").

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use relier_core::ClientId;
use relier_core::registration::ClientMetadata;
use relier_store::{JwksMode, Store, StoredRegistration, UnixTime};
use serde_json::{Map, Value, json};

use super::{http_client, load, management};
use crate::args::ProviderNameArgs;
use crate::clock::now_secs;
use crate::output;

/// Members that are the OP's to set, never sent back in an update (RFC 7592 §2.2).
const SERVER_MEMBERS: [&str; 6] = [
    "client_id",
    "client_secret",
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// One registered member that the update changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The client metadata member.
    pub member: String,
    /// Its value before, summarized.
    pub before: String,
    /// Its value after, summarized.
    pub after: String,
}

/// Run `providers sync`.
pub async fn run(store: &dyn Store, a: &ProviderNameArgs) -> anyhow::Result<()> {
    let changes = sync(store, &a.name, a.ca_file.as_deref()).await?;
    if a.json {
        let list: Vec<Value> = changes
            .iter()
            .map(|c| json!({"member": c.member, "before": c.before, "after": c.after}))
            .collect();
        return output::json_stdout(&json!({"name": a.name, "changes": list}));
    }
    let mut s = format!("provider {}: registration updated (RFC 7592)", a.name);
    if changes.is_empty() {
        s.push_str(", nothing changed\n");
    } else {
        s.push('\n');
        for c in &changes {
            let _ = writeln!(s, "  {}: {} → {}", c.member, c.before, c.after);
        }
    }
    output::stdout(&output::one_line_each(&s))
}

/// Read the registration, update it, store the response; the changes made.
pub async fn sync(
    store: &dyn Store,
    name: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<Vec<Change>> {
    let mut record = load(store, name).await?;
    let (uri, token) = management(&record)?;
    let (uri, token) = (uri.to_owned(), token.clone());
    let http = http_client(ca_file)?;
    let current = relier::registration::read(&http, &uri, &token)
        .await
        .with_context(|| format!("provider {name}: RFC 7592 read of {uri}"))?;

    let mut m = current.metadata.clone();
    for k in SERVER_MEMBERS {
        m.remove(k);
    }
    if !record.redirect_uris.is_empty() {
        m.insert("redirect_uris".into(), json!(record.redirect_uris));
    }
    m.insert(
        "token_endpoint_auth_method".into(),
        json!(record.auth_method.as_str()),
    );
    if let Some(alg) = record.signing_alg {
        m.insert(
            "token_endpoint_auth_signing_alg".into(),
            json!(alg.as_str()),
        );
    }
    match record.jwks_mode {
        Some(JwksMode::Inline) => {
            m.insert(
                "jwks".into(),
                serde_json::to_value(store.jwks(UnixTime(now_secs())).await?)?,
            );
            m.remove("jwks_uri");
        }
        Some(JwksMode::Uri) => {
            if let Some(u) = &record.jwks_uri {
                m.insert("jwks_uri".into(), json!(u));
                m.remove("jwks");
            }
        }
        None => {}
    }
    let metadata: ClientMetadata = serde_json::from_value(Value::Object(m))
        .with_context(|| format!("provider {name}: the OP's registration"))?;
    let client_id = ClientId::new(record.client_id.as_str())?;
    let updated = relier::registration::update(
        &http,
        &uri,
        &token,
        &client_id,
        record.client_secret.as_ref(),
        &metadata,
    )
    .await
    .with_context(|| format!("provider {name}: RFC 7592 update of {uri}"))?;

    let changes = diff(&current.metadata, &updated.metadata);
    let stored = StoredRegistration::from_response(&updated);
    if let Some(Value::Array(a)) = updated.metadata.get("redirect_uris") {
        let uris: Option<Vec<String>> = a.iter().map(|u| u.as_str().map(str::to_owned)).collect();
        if let Some(uris) = uris {
            record.redirect_uris = uris;
        }
    }
    // The OP may rotate the token or the secret in its answer (RFC 7592 §2.2).
    if let Some(t) = updated.registration_access_token {
        record.registration_access_token = Some(t);
    }
    if let Some(s) = updated.client_secret {
        record.client_secret = Some(s);
    }
    if let Some(u) = updated.registration_client_uri {
        record.registration_client_uri = Some(u);
    }
    // A registration relier cannot use is not stored; what the OP rotated is, so that the
    // registration stays manageable.
    let refused = match stored {
        Ok(stored) => {
            record.registration = Some(stored);
            None
        }
        Err(e) => Some(e),
    };
    store
        .put_provider(&record, true, UnixTime(now_secs()))
        .await?;
    if let Some(e) = refused {
        anyhow::bail!(
            "provider {name}: the OP's updated registration cannot be used ({e}); the previous one is kept, the OP's rotated credentials are stored"
        );
    }
    Ok(changes)
}

/// "jwks: 1 → 2 keys; redirect_uris: … → …", or "nothing changed".
pub fn summary(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "nothing changed".to_owned();
    }
    changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.member, c.before, c.after))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The kids of a JWKS value.
pub fn jwks_kids(jwks: Option<&Value>) -> Vec<String> {
    jwks.and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.get("kid").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The members whose value differs between two registrations.
fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<Change> {
    let mut members: Vec<&String> = before.keys().chain(after.keys()).collect();
    members.sort();
    members.dedup();
    members
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| Change {
            member: k.clone(),
            before: describe(k, before.get(k)),
            after: describe(k, after.get(k)),
        })
        .collect()
}

fn describe(member: &str, v: Option<&Value>) -> String {
    const MAX: usize = 80;
    match v {
        None => "(absent)".to_owned(),
        Some(j) if member == "jwks" => {
            let n = j.get("keys").and_then(Value::as_array).map_or(0, Vec::len);
            format!("{n} key{}", if n == 1 { "" } else { "s" })
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            let s = other.to_string();
            if s.chars().count() > MAX {
                let cut: String = s.chars().take(MAX).collect();
                format!("{cut}…")
            } else {
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_summarizes_jwks_and_values() {
        let before = json!({"jwks": {"keys": [{"kid": "a"}]}, "client_name": "x", "same": 1});
        let after = json!({"jwks": {"keys": [{"kid": "a"}, {"kid": "b"}]}, "client_name": "y", "same": 1, "new": [1]});
        let (Value::Object(b), Value::Object(a)) = (before, after) else {
            unreachable!()
        };
        let d = diff(&b, &a);
        assert_eq!(
            summary(&d),
            "client_name: x → y; jwks: 1 key → 2 keys; new: (absent) → [1]"
        );
        assert_eq!(summary(&[]), "nothing changed");
        assert_eq!(jwks_kids(a.get("jwks")), ["a", "b"]);
        assert!(jwks_kids(None).is_empty());
    }
}
