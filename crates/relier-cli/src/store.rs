//! Opening the store: the URL from `--store` / `RELIER_STORE`, the master key from
//! `--master-key-file` / `RELIER_MASTER_KEY` / the key file beside the database; the master key
//! is verified on open (with a warning for store files that group or others may access), then
//! the key lifecycle is advanced to now.

use anyhow::Context as _;
use relier_store::{MASTER_KEY_ENV, MasterKeySource, Store, StoreError, UnixTime};

use crate::args::StoreArgs;
use crate::clock::now_secs;
use crate::output;

/// An open store; call [`Opened::close`] when done (it checkpoints the SQLite WAL).
#[derive(Debug)]
pub struct Opened {
    store: Box<dyn Store>,
}

impl std::ops::Deref for Opened {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

impl Opened {
    /// Close the handle.
    pub async fn close(self) {
        self.store.close().await;
    }
}

/// Open the store, verify the master key, say once that a key file was created, and apply due
/// key transitions (reported on stderr).
pub async fn open(args: &StoreArgs) -> anyhow::Result<Opened> {
    let env = match std::env::var(MASTER_KEY_ENV) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            anyhow::bail!("master key: {MASTER_KEY_ENV} is not valid UTF-8")
        }
    };
    let source = MasterKeySource::from_inputs(env, args.master_key_file.clone());
    let url = &args.store;
    let (store, created) = relier_store::open(url, source)
        .await
        .map_err(|e| open_error(e, url))?;
    if let Some(created) = created {
        output::note(&created.to_string());
    }
    // Issue 7, item 5: say so when group or others may read or write a store file.
    for lax in relier_store::lax_permissions(url, args.master_key_file.as_deref()) {
        output::note(&format!("warning: {lax}"));
    }
    // Issue 20 §3: a remote PostgreSQL store whose URL asks for less than verify-full.
    if let Some(warning) = relier_store::transport_warning(url) {
        output::note(&format!("warning: store {url}: {warning}"));
    }
    let opened = Opened { store };
    match opened.advance_keys(UnixTime(now_secs())).await {
        Ok(changes) => {
            for c in changes {
                output::note(&format!("key {} ({}): {} → {}", c.kid, c.alg, c.from, c.to));
            }
            Ok(opened)
        }
        Err(e) => {
            opened.close().await;
            Err(anyhow::Error::new(e).context(format!("store {url}: advancing the keys")))
        }
    }
}

/// Name the store in every open error (the wrong-master-key message already does).
fn open_error(e: StoreError, url: &relier_store::StoreUrl) -> anyhow::Error {
    match e {
        StoreError::WrongMasterKey { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(format!("store {url}")),
    }
}

/// Read one secret line from standard input (`--client-secret-stdin`): the line ending is
/// removed, an empty line refused.
pub fn secret_line(
    input: &mut dyn std::io::BufRead,
    what: &str,
) -> anyhow::Result<relier_core::Secret> {
    use std::io::{BufRead as _, Read as _};
    const MAX: u64 = 64 * 1024;
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    input
        .take(MAX + 1)
        .read_until(b'\n', &mut buf)
        .with_context(|| format!("reading the {what} from standard input"))?;
    if buf.len() as u64 > MAX {
        anyhow::bail!("standard input: the {what} is longer than {MAX} bytes");
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| anyhow::anyhow!("standard input: the {what} is not valid UTF-8"))?;
    let line = text.trim_end_matches(['\n', '\r']);
    if line.is_empty() {
        anyhow::bail!("standard input: no {what} (pipe it in, or paste it and press Enter)");
    }
    Ok(relier_core::Secret::new(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_line() {
        let s = secret_line(&mut &b"s3cr3t with spaces\r\nnext line\n"[..], "secret").unwrap();
        assert_eq!(s.expose(), "s3cr3t with spaces");
        assert!(secret_line(&mut &b"\n"[..], "secret").is_err());
        assert!(secret_line(&mut &b""[..], "secret").is_err());
        assert!(secret_line(&mut &b"\xff\n"[..], "secret").is_err());
    }
}
