//! Private files: everything the store writes holds secrets (the database with its `-wal`,
//! `-shm` and `-journal` files, the master key file), so it is created owner-only — files mode
//! 0600, directories 0700 — whatever the process's umask, and [`lax_permissions`] reports
//! existing store files that group or others may read or write (issue 7, item 5).
//!
//! SQLite creates its `-wal`, `-shm` and `-journal` files with the database file's permission
//! bits (its unix VFS copies them and `fchmod`s past the umask), so creating the database file
//! 0600 before SQLite opens it makes those private too.
//!
//! Creation is exclusive (`O_CREAT | O_EXCL`) with mode 0600 and then an exact `fchmod` on the
//! open descriptor: the mode never widens after the file exists (no write-then-chmod window),
//! and a umask that removes owner bits cannot leave the file unreadable. On non-Unix targets
//! files and directories get the platform's defaults and nothing is reported.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::url::StoreUrl;

/// The mode of a file relier creates.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// The mode of a directory relier creates.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// The default key file of an SQLite database: `<db path>.key`.
#[must_use]
pub fn default_key_file(db_path: &Path) -> PathBuf {
    let mut name = OsString::from(db_path.as_os_str());
    name.push(".key");
    PathBuf::from(name)
}

/// Creates `path`, which must not exist, mode 0600 exactly (re-exported as
/// `create_private_file` for other secrets relier keeps in files, e.g. a CLI login's DPoP key).
///
/// # Errors
/// As [`fs::OpenOptions::open`] (`AlreadyExists` if `path` exists), or setting the mode.
pub fn create_new(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(FILE_MODE);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        // The umask can only remove bits from `mode`; set exactly 0600 on the descriptor.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// Creates `path` empty, mode 0600, unless it exists (an existing file is left as it is:
/// [`lax_permissions`] reports it if it is not private).
///
/// # Errors
/// As [`create_new`], except `AlreadyExists`.
pub(crate) fn create_if_missing(path: &Path) -> io::Result<()> {
    match create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `dir` and its missing ancestors, each mode 0700 exactly; directories that exist are
/// left as they are. Safe against a concurrent creator (whose directory is then kept).
///
/// # Errors
/// Creating a directory or setting its mode failed.
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_all(parent)?;
    }
    #[cfg_attr(not(unix), allow(unused_mut, reason = "the mode is set on Unix only"))]
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    match builder.create(dir) {
        Ok(()) => {
            #[cfg(unix)]
            {
                // As for files: the umask must neither widen nor narrow the owner's access.
                use std::os::unix::fs::PermissionsExt as _;
                fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Which store file a [`LaxFile`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFile {
    /// The SQLite database.
    Database,
    /// Its write-ahead log (`-wal`).
    WriteAheadLog,
    /// Its WAL index (`-shm`).
    SharedMemory,
    /// Its rollback journal (`-journal`).
    Journal,
    /// The master key file (given explicitly, or `<db>.key` beside the database).
    MasterKey,
}

impl fmt::Display for StoreFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreFile::Database => "store database",
            StoreFile::WriteAheadLog => "store write-ahead log",
            StoreFile::SharedMemory => "store WAL index",
            StoreFile::Journal => "store journal",
            StoreFile::MasterKey => "master key file",
        })
    }
}

/// An existing store file that group or others may read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LaxFile {
    /// What the file is.
    pub kind: StoreFile,
    /// The file.
    pub path: PathBuf,
    /// Its permission bits (`mode & 0o777`).
    pub mode: u32,
}

impl LaxFile {
    /// The shell command that makes the file private: `chmod 600 PATH`.
    #[must_use]
    pub fn fix(&self) -> String {
        format!("chmod 600 {}", self.path.display())
    }
}

impl fmt::Display for LaxFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is mode {:04o}: group or others may read or write it; fix: {}",
            self.kind,
            self.path.display(),
            self.mode,
            self.fix()
        )
    }
}

/// The existing files of the store at `url` — the SQLite database, its `-wal`, `-shm` and
/// `-journal` files, `master_key_file` if given and the key file beside the database — whose
/// mode lets group or others read or write them (any of `0o077`). Files that do not exist or
/// cannot be examined are skipped; a non-SQLite store has none. Always empty on non-Unix
/// targets. Meant for a warning at start (`relier serve`, the CLI), after opening the store.
#[must_use]
pub fn lax_permissions(url: &StoreUrl, master_key_file: Option<&Path>) -> Vec<LaxFile> {
    let mut candidates: Vec<(StoreFile, PathBuf)> = Vec::new();
    if let Some(db) = url.sqlite_path() {
        candidates.push((StoreFile::Database, db.to_path_buf()));
        candidates.push((StoreFile::WriteAheadLog, with_suffix(db, "-wal")));
        candidates.push((StoreFile::SharedMemory, with_suffix(db, "-shm")));
        candidates.push((StoreFile::Journal, with_suffix(db, "-journal")));
        candidates.push((StoreFile::MasterKey, default_key_file(db)));
    }
    if let Some(key) = master_key_file
        && !candidates.iter().any(|(_, p)| p == key)
    {
        candidates.push((StoreFile::MasterKey, key.to_path_buf()));
    }
    candidates
        .into_iter()
        .filter_map(|(kind, path)| {
            let mode = lax_mode(&path)?;
            Some(LaxFile { kind, path, mode })
        })
        .collect()
}

/// `path` with `suffix` appended to its last component (`relier.db` → `relier.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// The permission bits of `path` if group or others have any access to it.
#[cfg(unix)]
fn lax_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn lax_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    /// The permission bits of `path` (0 if it cannot be examined).
    fn mode(path: &Path) -> u32 {
        fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn new_files_and_dirs_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a").join("b");
        create_dir_all(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        create_dir_all(&nested).unwrap();

        let file = nested.join("f");
        create_if_missing(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            create_new(&file).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        // An existing file is left as it is.
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        create_if_missing(&file).unwrap();
        assert_eq!(mode(&file), 0o640);
    }

    #[test]
    fn existing_dirs_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        create_dir_all(&dir.path().join("x")).unwrap();
        assert_eq!(mode(dir.path()), 0o755);
        assert_eq!(mode(&dir.path().join("x")), 0o700);
    }

    #[test]
    fn lax_files_are_reported_private_ones_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let url = StoreUrl::sqlite(&db);
        assert!(lax_permissions(&url, None).is_empty(), "nothing exists yet");
        for (path, m) in [
            (db.clone(), 0o644),
            (with_suffix(&db, "-wal"), 0o600),
            (with_suffix(&db, "-shm"), 0o660),
            (default_key_file(&db), 0o604),
        ] {
            fs::write(&path, b"").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(m)).unwrap();
        }
        let explicit = dir.path().join("explicit.key");
        fs::write(&explicit, b"").unwrap();
        fs::set_permissions(&explicit, fs::Permissions::from_mode(0o400)).unwrap();

        let lax = lax_permissions(&url, Some(&explicit));
        let found: Vec<_> = lax.iter().map(|f| (f.kind, f.mode)).collect();
        assert_eq!(
            found,
            [
                (StoreFile::Database, 0o644),
                (StoreFile::SharedMemory, 0o660),
                (StoreFile::MasterKey, 0o604),
            ]
        );
        let shown = lax[0].to_string();
        assert!(shown.contains("mode 0644"), "{shown}");
        assert!(
            shown.contains(&format!("chmod 600 {}", db.display())),
            "{shown}"
        );

        // The explicit key file, when lax, is reported once even if it is `<db>.key`.
        let lax = lax_permissions(&url, Some(&default_key_file(&db)));
        assert_eq!(lax.len(), 3);
        fs::set_permissions(&explicit, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(lax_permissions(&url, Some(&explicit)).len(), 4);
    }
}
