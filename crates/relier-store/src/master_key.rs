//! The master key that encrypts secrets at rest, and where it comes from.
//!
//! Sources, most specific first: a key file named explicitly (`--master-key-file`), the
//! `RELIER_MASTER_KEY` environment variable (base64, standard or URL-safe alphabet, padded or
//! not, decoding to exactly 32 bytes), and — for SQLite stores only — a key file beside the
//! database (`<db path>.key`), created on first use (mode 0600, exclusively: of two racing
//! processes only one creates it, the other reads it).
//!
//! The library never reads the environment itself: the caller passes the variable's value.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::private_files::{self, default_key_file};

/// The environment variable the CLI reads the master key from.
pub const MASTER_KEY_ENV: &str = "RELIER_MASTER_KEY";

/// Master key length: AES-256.
pub const MASTER_KEY_LEN: usize = 32;

/// A key file is tiny; anything larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// How long a process that lost the race to create the key file waits for the winner's
/// content (only relevant on file systems without hard links).
const KEY_FILE_WAIT: Duration = Duration::from_secs(2);

/// The 32-byte master key. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

impl MasterKey {
    /// A key from raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        MasterKey(Zeroizing::new(bytes))
    }

    /// A fresh random key (aws-lc-rs system random).
    ///
    /// # Errors
    /// [`StoreError::Crypto`] if the random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::crypto("random source failed"))?;
        Ok(MasterKey(bytes))
    }

    /// Parses base64 (standard or URL-safe alphabet, with or without padding; surrounding
    /// whitespace ignored) that must decode to exactly 32 bytes.
    ///
    /// # Errors
    /// [`StoreError::MasterKey`]; the message never contains the value.
    pub fn from_base64(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::master("the key is empty"));
        }
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok().map(Zeroizing::new))
            .ok_or_else(|| StoreError::master("the key is not valid base64"))?;
        let bytes: [u8; MASTER_KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            StoreError::master(format!(
                "the key must decode to exactly {MASTER_KEY_LEN} bytes, not {}",
                decoded.len()
            ))
        })?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The key as standard base64 (for writing a key file or showing it once to the user).
    #[must_use]
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.as_ref()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_ref()
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// Where [`crate::open`] gets the master key.
#[derive(Clone)]
#[non_exhaustive]
pub enum MasterKeySource {
    /// A key given directly.
    Key(MasterKey),
    /// The base64 value of `RELIER_MASTER_KEY`.
    Env(Zeroizing<String>),
    /// A file holding the base64 key (`--master-key-file`); it must exist.
    File(PathBuf),
    /// The key file beside an SQLite database (`<db path>.key`), created on first use.
    /// Not available for other stores.
    BesideDatabase,
}

impl MasterKeySource {
    /// The source from the CLI's inputs: an explicit key file wins over the environment
    /// variable's value (the flag is the more specific instruction), and with neither the key
    /// file beside the database is used. Cheap: nothing is read until the store is opened.
    #[must_use]
    pub fn from_inputs(env_value: Option<String>, key_file: Option<PathBuf>) -> Self {
        match (key_file, env_value) {
            (Some(path), _) => MasterKeySource::File(path),
            (None, Some(value)) => MasterKeySource::Env(Zeroizing::new(value)),
            (None, None) => MasterKeySource::BesideDatabase,
        }
    }
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterKeySource::Key(_) => f.write_str("Key([REDACTED])"),
            MasterKeySource::Env(_) => f.write_str("Env([REDACTED])"),
            MasterKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            MasterKeySource::BesideDatabase => f.write_str("BesideDatabase"),
        }
    }
}

/// Where the master key in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MasterKeyOrigin {
    /// Given directly ([`MasterKeySource::Key`]).
    Given,
    /// `RELIER_MASTER_KEY`.
    Env,
    /// A key file that already existed.
    File(PathBuf),
    /// A key file created just now by this process.
    CreatedFile(PathBuf),
}

/// Returned by `open` when it created the master key file: the CLI should say, once,
/// "created master key file PATH — back it up" (without it the store's secrets are lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKeyFile {
    /// The new key file.
    pub path: PathBuf,
}

impl fmt::Display for CreatedKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "created master key file {} — back it up: without it the store's private keys and \
             client secrets cannot be decrypted",
            self.path.display()
        )
    }
}

/// Resolves the master key from the CLI's inputs (see [`MasterKeySource::from_inputs`] for the
/// precedence). With neither input, `db_path` (an SQLite database) names the default key file,
/// which is created if missing; with no `db_path` either, that is an error.
///
/// [`crate::open`] does this itself (and creates the default key file only for a store that
/// has no check value yet); this function is for tools that need the key without a store.
///
/// # Errors
/// [`StoreError::MasterKey`].
pub fn resolve_master_key(
    env_value: Option<&str>,
    key_file: Option<&Path>,
    db_path: Option<&Path>,
) -> Result<(MasterKey, MasterKeyOrigin), StoreError> {
    let source = MasterKeySource::from_inputs(
        env_value.map(str::to_owned),
        key_file.map(Path::to_path_buf),
    );
    match resolve_given(&source)? {
        Some(resolved) => Ok(resolved),
        None => {
            let db_path = db_path.ok_or_else(no_key_for_non_sqlite)?;
            read_or_create_key_file(&default_key_file(db_path))
        }
    }
}

/// The key for every source but [`MasterKeySource::BesideDatabase`] (→ `None`).
pub(crate) fn resolve_given(
    source: &MasterKeySource,
) -> Result<Option<(MasterKey, MasterKeyOrigin)>, StoreError> {
    match source {
        MasterKeySource::Key(key) => Ok(Some((key.clone(), MasterKeyOrigin::Given))),
        MasterKeySource::Env(value) => {
            let key = MasterKey::from_base64(value).map_err(|e| match e {
                StoreError::MasterKey { reason } => {
                    StoreError::master(format!("{MASTER_KEY_ENV}: {reason}"))
                }
                other => other,
            })?;
            Ok(Some((key, MasterKeyOrigin::Env)))
        }
        MasterKeySource::File(path) => {
            let key = read_key_file(path)?
                .ok_or_else(|| StoreError::master(format!("{}: no such file", path.display())))?;
            Ok(Some((key, MasterKeyOrigin::File(path.clone()))))
        }
        MasterKeySource::BesideDatabase => Ok(None),
    }
}

pub(crate) fn no_key_for_non_sqlite() -> StoreError {
    StoreError::master(format!(
        "no master key: set {MASTER_KEY_ENV} or give a key file (a key file is created \
         automatically only beside an SQLite database)"
    ))
}

/// Reads a key file; `Ok(None)` if it does not exist.
pub(crate) fn read_key_file(path: &Path) -> Result<Option<MasterKey>, StoreError> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::master(format!(
                "cannot read key file {}: {e}",
                path.display()
            )));
        }
    };
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| StoreError::master(format!("cannot read key file {}: {e}", path.display())))?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(StoreError::master(format!(
            "key file {} is too large to be a key file",
            path.display()
        )));
    }
    MasterKey::from_base64(&text)
        .map(Some)
        .map_err(|e| match e {
            StoreError::MasterKey { reason } => {
                StoreError::master(format!("key file {}: {reason}", path.display()))
            }
            other => other,
        })
}

/// Reads the key file at `path`, or creates it with a fresh key if it does not exist.
///
/// Creation is exclusive: the key is written to a private temporary file (mode 0600) that is
/// then hard-linked to `path`, which fails if `path` exists — so the file appears atomically
/// with its full content, and of two racing processes exactly one creates it while the other
/// reads the winner's key. Where hard links are unsupported, `path` itself is created with
/// `O_CREAT | O_EXCL` (mode 0600) and a loser briefly waits for the content.
pub(crate) fn read_or_create_key_file(
    path: &Path,
) -> Result<(MasterKey, MasterKeyOrigin), StoreError> {
    if let Some(key) = read_key_file(path)? {
        return Ok((key, MasterKeyOrigin::File(path.to_path_buf())));
    }
    let key = MasterKey::generate()?;
    let mut content = key.to_base64();
    content.push('\n');
    match create_exclusive(path, content.as_bytes()) {
        Ok(()) => Ok((key, MasterKeyOrigin::CreatedFile(path.to_path_buf()))),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Lost the race: use the winner's key.
            let deadline = Instant::now() + KEY_FILE_WAIT;
            loop {
                match read_key_file(path) {
                    Ok(Some(key)) => return Ok((key, MasterKeyOrigin::File(path.to_path_buf()))),
                    Ok(None) => {
                        return Err(StoreError::master(format!(
                            "key file {} vanished while being created",
                            path.display()
                        )));
                    }
                    Err(e) if Instant::now() >= deadline => return Err(e),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        Err(e) => Err(StoreError::master(format!(
            "cannot create key file {}: {e}",
            path.display()
        ))),
    }
}

fn write_synced(mut file: fs::File, content: &[u8]) -> io::Result<()> {
    file.write_all(content)?;
    file.sync_all()
}

fn create_exclusive(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut nonce = [0u8; 8];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| io::Error::other("random source failed"))?;
    let mut tmp_name = OsString::from(path.as_os_str());
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let tmp = PathBuf::from(tmp_name);
    let linked = private_files::create_new(&tmp)
        .and_then(|file| write_synced(file, content))
        .and_then(|()| fs::hard_link(&tmp, path));
    // Best effort: the temporary name is never used again.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // No hard links here (or no temporary file): create the file itself exclusively.
        Err(_) => {
            let file = private_files::create_new(path)?;
            write_synced(file, content)?;
            sync_parent(path);
            Ok(())
        }
    }
}

/// Makes the new directory entry durable (best effort; not possible on every platform).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_variants() {
        let key = MasterKey::from_bytes([0xfb; 32]);
        let raw = [0xfbu8; 32];
        for text in [
            STANDARD.encode(raw),
            STANDARD_NO_PAD.encode(raw),
            URL_SAFE.encode(raw),
            URL_SAFE_NO_PAD.encode(raw),
            format!("  {}\n", STANDARD.encode(raw)),
        ] {
            let parsed = MasterKey::from_base64(&text).unwrap();
            assert_eq!(parsed.bytes(), key.bytes(), "{text}");
        }
        assert_eq!(
            MasterKey::from_base64(&key.to_base64()).unwrap().bytes(),
            key.bytes()
        );
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        for text in ["", "   ", "not base64 at all!", &STANDARD.encode([1u8; 31])] {
            let err = MasterKey::from_base64(text).unwrap_err();
            assert!(matches!(err, StoreError::MasterKey { .. }));
            if !text.trim().is_empty() {
                assert!(!err.to_string().contains(text.trim()));
            }
        }
        let err = MasterKey::from_base64(&STANDARD.encode([1u8; 33])).unwrap_err();
        assert!(err.to_string().contains("exactly 32 bytes"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let key = MasterKey::from_bytes([0x41; 32]);
        assert_eq!(format!("{key:?}"), "MasterKey([REDACTED])");
        let env = MasterKeySource::Env(Zeroizing::new("c2VjcmV0".into()));
        assert!(!format!("{env:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn precedence() {
        let src = MasterKeySource::from_inputs(Some("x".into()), Some("/k".into()));
        assert!(matches!(src, MasterKeySource::File(p) if p == Path::new("/k")));
        let src = MasterKeySource::from_inputs(Some("x".into()), None);
        assert!(matches!(src, MasterKeySource::Env(_)));
        let src = MasterKeySource::from_inputs(None, None);
        assert!(matches!(src, MasterKeySource::BesideDatabase));
    }

    #[test]
    fn default_key_file_name() {
        assert_eq!(
            default_key_file(Path::new("/a/relier.db")),
            Path::new("/a/relier.db.key")
        );
        assert_eq!(
            default_key_file(Path::new("relier.db")),
            Path::new("relier.db.key")
        );
    }

    #[test]
    fn resolve_from_env_file_and_default() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let (k, origin) = resolve_master_key(Some(&key.to_base64()), None, None).unwrap();
        assert_eq!(k.bytes(), key.bytes());
        assert_eq!(origin, MasterKeyOrigin::Env);

        let err = resolve_master_key(Some("!!"), None, None).unwrap_err();
        assert!(err.to_string().contains(MASTER_KEY_ENV), "{err}");

        let file = dir.path().join("k");
        let err = resolve_master_key(None, Some(&file), None).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        fs::write(&file, format!("{}\n", key.to_base64().as_str())).unwrap();
        let (k, origin) = resolve_master_key(Some("ignored"), Some(&file), None).unwrap();
        assert_eq!(k.bytes(), key.bytes());
        assert_eq!(origin, MasterKeyOrigin::File(file.clone()));

        assert!(resolve_master_key(None, None, None).is_err());
        let db = dir.path().join("relier.db");
        let (k1, origin) = resolve_master_key(None, None, Some(&db)).unwrap();
        assert_eq!(origin, MasterKeyOrigin::CreatedFile(default_key_file(&db)));
        let (k2, origin) = resolve_master_key(None, None, Some(&db)).unwrap();
        assert_eq!(origin, MasterKeyOrigin::File(default_key_file(&db)));
        assert_eq!(k1.bytes(), k2.bytes());
    }

    #[cfg(unix)]
    #[test]
    fn created_key_file_is_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.key");
        let (_, origin) = read_or_create_key_file(&path).unwrap();
        assert_eq!(origin, MasterKeyOrigin::CreatedFile(path.clone()));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn racing_creators_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.key");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    read_or_create_key_file(&path).unwrap()
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let created = results
            .iter()
            .filter(|(_, o)| matches!(o, MasterKeyOrigin::CreatedFile(_)))
            .count();
        assert_eq!(created, 1, "exactly one process creates the key file");
        let first = results[0].0.bytes().to_vec();
        assert!(results.iter().all(|(k, _)| k.bytes() == first.as_slice()));
        let on_disk = read_key_file(&path).unwrap().unwrap();
        assert_eq!(on_disk.bytes(), first.as_slice());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
