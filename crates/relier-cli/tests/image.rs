//! The container image (Containerfile, ./scripts/image).
//!
//! Everywhere: the OCI archive `target/image/relier.oci.tar` — built by ./scripts/image when it
//! is missing or was built from another commit (./scripts/test builds it before the tests) —
//! holds one layer with exactly the binary, the CA bundle, passwd/group/nsswitch.conf, /tmp and
//! the store directory (no shell, no package manager); the binary in it is statically linked
//! and names this commit; the configuration runs it as uid 65532 with the documented
//! entrypoint, command, port, volume and labels.
//!
//! Where this machine runs containers (`podman run --network host`, with podman's default
//! runtime or else runc): the image serves a login through `relier serve` in front of the
//! misbehaving OP (well-behaved here) with the configuration and the store mounted, resolves a
//! host name (`localhost`: static glibc's built-in files module reads the /etc/hosts the
//! runtime mounts), and stops at once on SIGTERM as PID 1. Where it cannot, the test says why
//! on stderr; `RELIER_TEST_CONTAINERS=required` makes that a failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};
use std::time::{Duration, Instant};

use common::gateway::{CLIENT_SECRET, log_in};
use common::{free_port, serve_until};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use relier_tests::web::browser;
use serde_json::{Value, json};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// What the layer holds, and nothing else.
const LAYER: [&str; 12] = [
    "etc",
    "etc/group",
    "etc/nsswitch.conf",
    "etc/passwd",
    "etc/ssl",
    "etc/ssl/certs",
    "etc/ssl/certs/ca-certificates.crt",
    "relier",
    "tmp",
    "var",
    "var/lib",
    "var/lib/relier",
];

/// `podman run` options for every container here: the host's network (the test OP and the
/// browser are on 127.0.0.1) and resource limits below the test's own. podman otherwise asks
/// for higher limits than ours, which a process without CAP_SYS_RESOURCE (inside a sandbox or
/// a CI container) may not raise; lowering a limit always works.
const RUN: [&str; 8] = [
    "run",
    "--rm",
    "--network",
    "host",
    "--ulimit",
    "nofile=8192:8192",
    "--ulimit",
    "nproc=4096:4096",
];

fn output(program: &str, args: &[&str]) -> Output {
    StdCommand::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = output(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git_head() -> Option<String> {
    let out = output("git", &["-C", WORKSPACE, "rev-parse", "HEAD"]);
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

/// One file or directory of the layer (`tar --numeric-owner -tv`).
#[derive(Debug)]
struct Entry {
    mode: String,
    owner: String,
}

/// The unpacked archive: the image configuration and its one layer.
struct Image {
    dir: tempfile::TempDir,
    config: Value,
    layer: PathBuf,
    entries: std::collections::BTreeMap<String, Entry>,
}

impl Image {
    fn unpack(archive: &Path) -> Image {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        ok("tar", &["-xf", archive.to_str().unwrap(), "-C", d]);
        let index = json_file(&dir.path().join("index.json"));
        let manifests = index["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1, "{index}");
        let manifest = json_file(&blob(dir.path(), &manifests[0]["digest"]));
        let config = json_file(&blob(dir.path(), &manifest["config"]["digest"]));
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "one layer: {manifest}");
        let layer = blob(dir.path(), &layers[0]["digest"]);
        let listing = ok("tar", &["--numeric-owner", "-tvf", layer.to_str().unwrap()]);
        let mut entries = std::collections::BTreeMap::new();
        for line in listing.lines() {
            // mode, uid/gid, size, date, time, path
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 6, "{line}");
            let path = fields[5..].join(" ");
            let path = path.trim_start_matches("./").trim_end_matches('/');
            if path.is_empty() || path == "." {
                continue;
            }
            let entry = Entry {
                mode: fields[0].to_owned(),
                owner: fields[1].to_owned(),
            };
            entries.insert(path.to_owned(), entry);
        }
        Image {
            dir,
            config,
            layer,
            entries,
        }
    }

    fn label(&self, name: &str) -> &str {
        let key = format!("org.opencontainers.image.{name}");
        self.config["config"]["Labels"][&key]
            .as_str()
            .unwrap_or_else(|| panic!("no label {key}: {}", self.config))
    }

    /// Extracts `path` from the layer; returns where it is.
    fn extract(&self, path: &str) -> PathBuf {
        let root = self.dir.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        let layer = self.layer.to_str().unwrap();
        ok("tar", &["-xf", layer, "-C", root.to_str().unwrap(), path]);
        root.join(path)
    }
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(dir: &Path, digest: &Value) -> PathBuf {
    let (alg, hex) = digest.as_str().unwrap().split_once(':').unwrap();
    dir.join("blobs").join(alg).join(hex)
}

/// The archive ./scripts/image made from this commit: built (minutes, a release build) when it
/// is missing or names another revision.
fn archive() -> PathBuf {
    let path = Path::new(WORKSPACE).join("target/image/relier.oci.tar");
    let fresh = path.exists()
        && git_head().is_none_or(|head| Image::unpack(&path).label("revision") == head);
    if !fresh {
        eprintln!("image: building {} with ./scripts/image", path.display());
        let script = Path::new(WORKSPACE).join("scripts/image");
        let status = StdCommand::new(script).status().unwrap();
        assert!(status.success(), "./scripts/image failed");
    }
    path
}

/// `relier --version` of a binary built from the image's revision.
/// Without git (a source tarball) there is no revision.
fn version_line(image: &Image) -> String {
    let revision = image.label("revision");
    if revision.is_empty() {
        return format!("relier {}", env!("CARGO_PKG_VERSION"));
    }
    let short = ok("git", &["-C", WORKSPACE, "rev-parse", "--short", revision]);
    format!(
        "relier {} (git {})",
        env!("CARGO_PKG_VERSION"),
        short.trim()
    )
}

fn check_config(image: &Image) {
    let c = &image.config["config"];
    assert_eq!(image.config["os"], "linux");
    assert_eq!(image.config["architecture"], "amd64");
    assert_eq!(c["User"], "65532:65532", "{c}");
    assert_eq!(c["Entrypoint"], json!(["/relier"]), "{c}");
    assert_eq!(
        c["Cmd"],
        json!(["serve", "--config", "/etc/relier/relier.toml"]),
        "{c}"
    );
    assert_eq!(c["WorkingDir"], "/var/lib/relier", "{c}");
    assert_eq!(c["ExposedPorts"], json!({"8088/tcp": {}}), "{c}");
    assert_eq!(c["Volumes"], json!({"/var/lib/relier": {}}), "{c}");
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"),
        "{env:?}"
    );
    assert_eq!(image.label("title"), "relier");
    assert_eq!(image.label("source"), env!("CARGO_PKG_REPOSITORY"));
    assert_eq!(image.label("version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(image.label("licenses"), env!("CARGO_PKG_LICENSE"));
    let revision = image.label("revision");
    match git_head() {
        Some(head) => assert_eq!(revision, head),
        None => assert_eq!(revision, ""),
    }
}

fn check_layer(image: &Image) {
    let paths: BTreeSet<&str> = image.entries.keys().map(String::as_str).collect();
    for unwanted in [
        "bin",
        "bin/sh",
        "usr",
        "sbin",
        "lib",
        "etc/apt",
        "var/lib/dpkg",
    ] {
        assert!(
            !paths.contains(unwanted),
            "{unwanted} in the image: {paths:?}"
        );
    }
    assert_eq!(paths, BTreeSet::from(LAYER), "{:?}", image.entries);
    let entry = |p: &str| &image.entries[p];
    assert_eq!(entry("relier").owner, "0/0", "{:?}", entry("relier"));
    assert_eq!(entry("relier").mode, "-rwxr-xr-x");
    assert_eq!(entry("var/lib/relier").owner, "65532/65532");
    for dir in ["etc", "etc/ssl", "etc/ssl/certs", "tmp", "var", "var/lib"] {
        assert_eq!(entry(dir).owner, "0/0", "{dir}");
    }
    assert_eq!(entry("var/lib/relier").mode, "drwxr-xr-x");
    assert_eq!(entry("tmp").mode, "drwxrwxrwt");
    for file in ["etc/passwd", "etc/group", "etc/nsswitch.conf"] {
        assert_eq!(entry(file).owner, "0/0", "{file}");
        assert_eq!(entry(file).mode, "-rw-r--r--", "{file}");
    }
    let passwd = std::fs::read_to_string(image.extract("etc/passwd")).unwrap();
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nonroot:x:65532:65532:")),
        "{passwd}"
    );
    let nsswitch = std::fs::read_to_string(image.extract("etc/nsswitch.conf")).unwrap();
    assert_eq!(nsswitch, "passwd: files\ngroup: files\nhosts: files dns\n");
    let cas = std::fs::read_to_string(image.extract("etc/ssl/certs/ca-certificates.crt")).unwrap();
    assert!(cas.matches("BEGIN CERTIFICATE").count() > 10, "CA bundle");
}

/// Whether the ELF file `elf` (64-bit, little-endian) is statically linked: no program header
/// asks for an interpreter (PT_INTERP). `None` when it is no such ELF file.
fn is_static(elf: &[u8]) -> Option<bool> {
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let phoff = usize::try_from(u64::from_le_bytes(elf.get(0x20..0x28)?.try_into().ok()?)).ok()?;
    let (size, count) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    const PT_INTERP: u32 = 3;
    for i in 0..count {
        let at = phoff + i * size;
        let p_type = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        if p_type == PT_INTERP {
            return Some(false);
        }
    }
    Some(true)
}

fn check_binary(image: &Image) {
    let binary = image.extract("relier");
    let elf = std::fs::read(&binary).unwrap();
    assert_eq!(is_static(&elf), Some(true), "/relier is not static");
    let version = ok(binary.to_str().unwrap(), &["--version"]);
    assert_eq!(version.trim(), version_line(image));
}

/// How this machine runs the image: the extra `podman run` options (none, or `--runtime
/// runc` where the default runtime refuses, e.g. crun on hybrid cgroups), or why it cannot.
/// The probe runs `/relier --version` in the image: a runtime's refusal (podman's exit status
/// 125–127 naming the OCI runtime) moves on; anything else the image does must be right.
fn runtime(name: &str, version: &str) -> Result<Vec<&'static str>, String> {
    let mut refused = Vec::new();
    for extra in [vec![], vec!["--runtime", "runc"]] {
        let args: Vec<&str> = RUN
            .iter()
            .chain(&extra)
            .copied()
            .chain([name, "--version"])
            .collect();
        let out = output("podman", &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), version);
            return Ok(extra);
        }
        let runtime_refused =
            matches!(out.status.code(), Some(125..=127)) && stderr.contains("OCI");
        assert!(
            runtime_refused,
            "the image failed under podman {extra:?}: {:?} {stderr}",
            out.status
        );
        refused.push(format!("podman run {extra:?}: {}", stderr.trim()));
    }
    Err(refused.join("; "))
}

/// Removes the container when the test ends, however it ends.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = output("podman", &["rm", "--force", "--time", "0", &self.0]);
    }
}

/// `relier serve` in the image, in front of `op`, configuration and store mounted; one login
/// through it; then SIGTERM (`podman stop`) ends it at once with status 0.
async fn serve_a_login(name: &str, extra: &[&str], op: &BadOp) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    // The image's user owns the store; without the right to give it away, anyone may write.
    if std::os::unix::fs::chown(&store, Some(65532), Some(65532)).is_err() {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    // No `store` key: the default `sqlite://relier.db` is relative to the image's working
    // directory, the volume.
    let config = dir.path().join("relier.toml");
    let toml = format!(
        "listen = \"{addr}\"\npublic_url = \"http://{addr}\"\n\n[[providers]]\nname = \"bad\"\n\
         issuer = \"{iss}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
        iss = op.issuer()
    );
    std::fs::write(&config, toml).unwrap();
    let container = Container(format!("relier-image-test-{}", std::process::id()));
    let mut cmd = tokio::process::Command::new("podman");
    cmd.args(RUN)
        .args(extra)
        .args(["--name", &container.0, "-v"])
        .arg(format!("{}:/etc/relier/relier.toml:ro", config.display()))
        .arg("-v")
        .arg(format!("{}:/var/lib/relier", store.display()))
        .arg(name);
    let mut served = serve_until(cmd, addr, dir.path().join("stderr.log"), "/readyz").await;
    log_in(&browser(), &served).await;
    for file in ["relier.db", "relier.db.key"] {
        assert!(store.join(file).exists(), "{file} not in the store volume");
    }
    let stopping = Instant::now();
    ok("podman", &["stop", "--time", "10", &container.0]);
    let status = served.child.wait().await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(8),
        "SIGTERM ignored"
    );
    assert_eq!(status.code(), Some(0), "{}", served.log());
}

/// `relier discover http://localhost:PORT` in the image: the name resolves inside it.
async fn resolve_localhost(name: &str, extra: &[&str], op: &BadOp) {
    let port = op.issuer().rsplit(':').next().unwrap();
    let issuer = format!("http://localhost:{port}");
    op.set(Misbehavior {
        discovery_issuer: Some(issuer.clone()),
        ..Misbehavior::default()
    });
    let args: Vec<&str> = RUN
        .iter()
        .chain(extra)
        .copied()
        .chain([name, "discover", &issuer, "--json"])
        .collect();
    // Awaited, not blocking: the OP answers on this test's runtime.
    let out = tokio::process::Command::new("podman")
        .args(&args)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "discover {issuer}: {stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
}

#[tokio::test]
async fn image_is_static_nonroot_without_a_shell_and_serves_a_login() {
    let archive = archive();
    let image = Image::unpack(&archive);
    check_config(&image);
    check_layer(&image);
    check_binary(&image);

    let required = std::env::var("RELIER_TEST_CONTAINERS").is_ok_and(|v| v == "required");
    let cannot = |why: String| {
        assert!(!required, "RELIER_TEST_CONTAINERS=required, but {why}");
        eprintln!(
            "image: containers cannot run on this machine, so the image was inspected only: {why}"
        );
    };
    if StdCommand::new("podman").arg("--version").output().is_err() {
        return cannot("podman is not installed".to_owned());
    }
    let loaded = ok(
        "podman",
        &["load", "--quiet", "-i", archive.to_str().unwrap()],
    );
    let name = format!("localhost/relier:{}", env!("CARGO_PKG_VERSION"));
    assert!(loaded.contains(&name), "{loaded}");
    let extra = match runtime(&name, &version_line(&image)) {
        Ok(extra) => extra,
        Err(why) => return cannot(why),
    };
    eprintln!("image: running containers with podman {extra:?}");
    let op = BadOp::start().await.unwrap();
    serve_a_login(&name, &extra, &op).await;
    resolve_localhost(&name, &extra, &op).await;
}

/// examples/compose: its services run this version's image, and its relier.toml passes
/// `relier config check` once the client secret file it names exists.
#[tokio::test]
async fn compose_example_uses_the_image_and_its_config_checks() {
    let dir = Path::new(WORKSPACE).join("examples/compose");
    let compose = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    let image = format!("image: localhost/relier:{}", env!("CARGO_PKG_VERSION"));
    assert!(compose.contains(&image), "compose.yaml lacks {image}");
    let config = std::fs::read_to_string(dir.join("relier.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("op_client_secret");
    std::fs::write(&secret, "s3cret-s3cret-s3cret").unwrap();
    let secret_path = "/run/secrets/op_client_secret";
    assert!(config.contains(secret_path), "{config}");
    let file = tmp.path().join("relier.toml");
    let config = config.replace(secret_path, secret.to_str().unwrap());
    std::fs::write(&file, config).unwrap();
    let out = common::relier()
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 provider"), "{stdout}");
}
