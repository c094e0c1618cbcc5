//! `relier --version` names the git revision it was built from: `RELIER_GIT_REVISION` is the
//! short hash of `HEAD`, or empty outside a git checkout (a crate from crates.io, a source
//! tarball) or without git. A packager may set `RELIER_GIT_REVISION` itself. `RELIER_VERSION`
//! is the package version followed by ` (git REVISION)` when there is one.

use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // A new commit or checkout moves HEAD, or the branch it points at: rebuild then. Only
    // paths that exist are watched: cargo reruns a build script that names a missing path on
    // every build, and rebuilds the binary after it. A branch whose ref is only in packed-refs
    // (a fresh clone, after `git gc`) gets a loose ref file at its next commit: its directory
    // is watched until then.
    let git_path = |name: &str| {
        let args = ["rev-parse", "--path-format=absolute", "--git-path", name];
        git(&manifest, &args).map(std::path::PathBuf::from)
    };
    let mut watched: Vec<std::path::PathBuf> = ["HEAD", "packed-refs"]
        .into_iter()
        .filter_map(git_path)
        .collect();
    if let Some(branch) = git(&manifest, &["symbolic-ref", "-q", "HEAD"]).and_then(|b| git_path(&b))
    {
        match branch.parent() {
            Some(dir) if !branch.exists() => watched.push(dir.to_owned()),
            _ => watched.push(branch),
        }
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-env-changed=RELIER_GIT_REVISION");
    let revision = std::env::var("RELIER_GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&manifest, &["rev-parse", "--short", "HEAD"]))
        .unwrap_or_default();
    println!("cargo:rustc-env=RELIER_GIT_REVISION={revision}");
    // What `relier --version` prints after the name: `0.1.0 (git 1a2b3c4)`, or `0.1.0`.
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let full = if revision.is_empty() {
        version
    } else {
        format!("{version} (git {revision})")
    };
    println!("cargo:rustc-env=RELIER_VERSION={full}");
}

/// `git ARGS` in `dir`: its trimmed stdout when it succeeds and says something.
fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}
