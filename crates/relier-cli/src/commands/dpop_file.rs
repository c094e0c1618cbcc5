//! `--dpop-key-file`: a login's DPoP key (RFC 9449) kept in a file, so that `relier token
//! refresh` proves possession of the key the tokens are bound to. RFC 9449 §5: a public
//! client's refresh token is bound to the login's key; a confidential client's is not, but the
//! refreshed access token is bound to whatever key the refresh proves, so a key thrown away at
//! the end of the run would leave it unusable.
//!
//! The file is a PKCS#8 "PRIVATE KEY" PEM document, created owner-only (mode 0600) and never
//! written over: a file that already holds a DPoP key is reused, any other file is refused.

use std::io::{Read as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use relier_core::ProviderMetadata;
use relier_core::dpop::{self, DpopKey};
use zeroize::Zeroizing;

use crate::output;

/// Longest key file read (an RSA 4096 PEM is about 3.3 KiB).
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

/// For `relier login`: the key `path` holds (reused), else a new key in an algorithm the OP
/// accepts (RFC 9449 §5.1), written to `path`.
///
/// # Errors
/// `path` exists and holds no DPoP key, or it cannot be read or written.
pub fn for_login(path: &Path, metadata: &ProviderMetadata) -> anyhow::Result<DpopKey> {
    let shown = path.display();
    if let Some(pem) = read_pem(path)? {
        let key = DpopKey::from_pkcs8_pem(&pem).with_context(|| {
            format!("--dpop-key-file {shown} exists and holds no DPoP private key; refusing to write over it")
        })?;
        output::note(&format!(
            "DPoP: reusing the key in {shown} ({}, jkt {})",
            key.algorithm(),
            key.thumbprint()
        ));
        return Ok(key);
    }
    let key = DpopKey::generate(dpop::choose_alg(metadata)?)?;
    write_new(path, &key.to_pkcs8_pem()?).with_context(|| format!("writing {shown}"))?;
    output::note(&format!(
        "DPoP: new {} key written to {shown} (jkt {}); give it to `relier token refresh --dpop-key-file`",
        key.algorithm(),
        key.thumbprint()
    ));
    Ok(key)
}

/// For `relier token …`: the key `path` holds.
///
/// # Errors
/// `path` is missing, unreadable, or holds no DPoP key.
pub fn read(path: &Path) -> anyhow::Result<DpopKey> {
    let shown = path.display();
    let Some(pem) = read_pem(path)? else {
        anyhow::bail!(
            "--dpop-key-file {shown}: no such file (it is written by `relier login --dpop-key-file`)"
        );
    };
    DpopKey::from_pkcs8_pem(&pem)
        .with_context(|| format!("--dpop-key-file {shown}: not a DPoP private key"))
}

/// The file's text, `None` when it does not exist.
fn read_pem(path: &Path) -> anyhow::Result<Option<Zeroizing<String>>> {
    let shown = path.display();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {shown}")),
    };
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {shown} (a PEM private key)"))?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        anyhow::bail!("{shown}: longer than {MAX_KEY_FILE_BYTES} bytes, not a DPoP key file");
    }
    Ok(Some(text))
}

/// Create `path` (mode 0600, not over an existing file) holding `pem`; removed again when the
/// write fails.
fn write_new(path: &Path, pem: &str) -> std::io::Result<()> {
    let mut file = relier_store::create_private_file(path)?;
    let written = file
        .write_all(pem.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> ProviderMetadata {
        let doc = serde_json::json!({
            "issuer": "https://op.example.com",
            "authorization_endpoint": "https://op.example.com/a",
            "dpop_signing_alg_values_supported": ["EdDSA"],
        });
        let iss = relier_core::IssuerUrl::new("https://op.example.com").unwrap();
        ProviderMetadata::from_json(&iss, doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn login_writes_a_private_key_file_then_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dpop.pem");
        let key = for_login(&path, &metadata()).unwrap();
        // RFC 9449 §5.1: an algorithm the OP lists.
        assert_eq!(key.algorithm(), relier_jose::Algorithm::EdDSA);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with("-----BEGIN PRIVATE KEY-----"));
        // The same file again: the same key, the file untouched.
        let again = for_login(&path, &metadata()).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        assert_eq!(read(&path).unwrap().thumbprint(), key.thumbprint());
    }

    #[test]
    fn other_files_are_neither_overwritten_nor_read_as_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "my notes\n").unwrap();
        let e = for_login(&path, &metadata()).unwrap_err();
        assert!(
            format!("{e:#}").contains("refusing to write over it"),
            "{e:#}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "my notes\n");
        assert!(read(&path).is_err());
        let missing = read(&dir.path().join("none.pem")).unwrap_err();
        assert!(missing.to_string().contains("no such file"), "{missing}");
    }
}
