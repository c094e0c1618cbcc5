//! Private files (issue 7, item 5): the database, its `-wal`/`-shm` files and the master key
//! file are created 0600 and the directories created for them 0700, whatever the umask; store
//! files that group or others may access are reported by `lax_permissions`.
//!
//! The creation tests run in a child process of this test binary whose umask is 022 (the usual
//! default, under which files are created group- and world-readable), so that they test the
//! code and not the umask of whoever runs them.

#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use relier_jose::Algorithm;
use relier_store::{
    MasterKey, MasterKeySource, StoreFile, StoreUrl, UnixTime, default_key_file, lax_permissions,
};

const NOW: u64 = 1_700_000_000;

/// Set in the child process that runs a test under umask 022.
const CHILD_ENV: &str = "RELIER_STORE_TEST_UMASK_CHILD";

/// In the test process: runs test `name` again in a child process with umask 022, checks that
/// it passed, and returns `false` (the caller returns). In that child: returns `true` (the
/// caller runs the test body).
fn in_umask_022_child(name: &str) -> bool {
    if std::env::var_os(CHILD_ENV).is_some() {
        return true;
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} under umask 022 failed:\n{stdout}\n{stderr}"
    );
    false
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test]
async fn created_store_files_are_0600_under_umask_022() {
    if !in_umask_022_child("created_store_files_are_0600_under_umask_022") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relier.db");
    let url = StoreUrl::sqlite(&db);
    let (store, created) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    assert!(created.is_some());
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();

    // While the store is open (closing may checkpoint and remove the WAL).
    let wal = with_suffix(&db, "-wal");
    let shm = with_suffix(&db, "-shm");
    for path in [&db, &wal, &shm, &default_key_file(&db)] {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
    assert_eq!(lax_permissions(&url, None), []);
    store.close().await;
}

#[tokio::test]
async fn directories_created_for_the_store_are_0700_under_umask_022() {
    if !in_umask_022_child("directories_created_for_the_store_are_0700_under_umask_022") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state").join("relier").join("relier.db");
    let (store, _) = relier_store::open(
        &StoreUrl::sqlite(&db),
        MasterKeySource::Key(MasterKey::from_bytes([7; 32])),
    )
    .await
    .unwrap();
    store.close().await;
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    assert_eq!(mode(&dir.path().join("state").join("relier")), 0o700);
    assert_eq!(mode(&db), 0o600);
}

#[tokio::test]
async fn a_group_readable_store_is_reported_not_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relier.db");
    let url = StoreUrl::sqlite(&db);
    let key_file = dir.path().join("master.key");
    std::fs::write(
        &key_file,
        MasterKey::generate().unwrap().to_base64().as_bytes(),
    )
    .unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let source = MasterKeySource::File(key_file.clone());

    // A store made before files were private, or chmod-ed since.
    let (store, _) = relier_store::open(&url, source.clone()).await.unwrap();
    store.close().await;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let lax = lax_permissions(&url, Some(&key_file));
    assert_eq!(lax.len(), 1, "{lax:?}");
    assert_eq!((lax[0].kind, lax[0].mode), (StoreFile::Database, 0o644));
    assert_eq!(lax[0].path, db);

    // Opening it keeps the operator's mode (and SQLite gives a `-wal` it creates the same one).
    let (store, _) = relier_store::open(&url, source).await.unwrap();
    store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(mode(&db), 0o644);
    let lax = lax_permissions(&url, Some(&key_file));
    assert_eq!(lax[0].kind, StoreFile::Database, "{lax:?}");
    for file in &lax {
        assert_eq!(file.mode, mode(&file.path), "{file:?}");
        assert_ne!(file.kind, StoreFile::MasterKey, "{file:?}");
    }
    store.close().await;

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    // The fix; the `-wal`/`-shm` files may outlive the close.
    for path in [
        db.clone(),
        with_suffix(&db, "-wal"),
        with_suffix(&db, "-shm"),
    ] {
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let lax = lax_permissions(&url, Some(&key_file));
    assert_eq!(lax.len(), 1, "{lax:?}");
    assert_eq!(lax[0].kind, StoreFile::MasterKey);
    assert_eq!(lax[0].mode, 0o640);
    assert_eq!(lax[0].fix(), format!("chmod 600 {}", key_file.display()));
}
