//! Helpers shared by the CLI end-to-end tests: run the real `relier` binary, play the browser
//! for `relier login` (the authorization URL is the stderr line starting with http), and the
//! OP client fixtures.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers; not every test file uses every helper"
)]

pub mod gateway;

use std::process::Stdio;
use std::time::Duration;

use relier_tests::oidc_provider::{Browser, Callback, OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

pub const SECRET: &str = "a-client-secret-of-at-least-32-bytes-for-hs256!";

/// A loopback port free now, for a child process to bind. Taken below the kernel's ephemeral
/// range (Linux: 32768–60999), where port 0 would pick it: there an outgoing connection of a
/// test running in parallel could take it before the child binds it ("Address already in
/// use"); here only another test's `free_port` could, at random among 12 000 ports.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher as _, RandomState};
    for _ in 0..200 {
        let r = RandomState::new().hash_one(std::time::SystemTime::now());
        let port = 20_000 + u16::try_from(r % 12_000).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Status and body the browser got from relier's loopback listener.
    pub page: Option<(u16, String)>,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// The authorization URL `relier login --no-browser` printed (its stderr line starting
    /// with http).
    pub fn authorization_url(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("http://"))
            .unwrap_or_else(|| panic!("no authorization URL on stderr: {}", self.stderr))
    }

    /// Panic with the output unless the command succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "relier failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The `relier` binary with piped stdio, no RUST_LOG, no store settings inherited.
pub fn relier() -> Command {
    prepared(Command::new(env!("CARGO_BIN_EXE_relier")))
}

/// As [`relier`], run with umask 022 (the usual default, under which a program's new files are
/// group- and world-readable unless it asks otherwise), whatever the test runner's umask.
#[cfg(unix)]
pub fn relier_umask_022() -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_relier"));
    prepared(c)
}

fn prepared(mut c: Command) -> Command {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "RUST_LOG",
        "RELIER_STORE",
        "RELIER_MASTER_KEY",
        "RELIER_LOG_FORMAT",
    ] {
        c.env_remove(var);
    }
    c
}

/// Run a prepared command with `stdin` as its standard input.
pub async fn run_cmd(mut cmd: Command, stdin: &str) -> Run {
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        page: None,
    }
}

/// Run `relier login`: read the authorization URL from stderr, play the browser, deliver the
/// callback to relier's listener, collect the outcome.
pub async fn login(args: &[&str], envs: &[(&str, &str)], redirect: &str) -> Run {
    let mut cmd = relier();
    cmd.arg("login")
        .args(args)
        .args(["--no-browser", "--json", "--timeout", "60"])
        .args(["--redirect-uri", redirect]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    login_cmd(cmd, redirect).await
}

/// Drive a prepared `relier login …` command whose OP redirects to `redirect`.
pub async fn login_cmd(cmd: Command, redirect: &str) -> Run {
    login_cmd_with(cmd, redirect, &Browser::new().unwrap()).await
}

/// [`login_cmd`] with `browser` (e.g. one trusting the CA of an OP on https).
pub async fn login_cmd_with(mut cmd: Command, redirect: &str, browser: &Browser) -> Run {
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .unwrap()
            .unwrap();
        let Some(line) = line else {
            let out = child.wait_with_output().await.unwrap();
            return Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: seen,
                page: None,
            };
        };
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("http://") || line.starts_with("https://") {
            assert!(
                !line.contains(' '),
                "the URL line must hold the URL alone: {line:?}"
            );
            break line;
        }
    };
    let page = match browser.browse(&url, redirect).await.unwrap() {
        Callback::Query(u) => {
            let r = reqwest::get(u.as_str()).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
        Callback::FormPost { action, fields } => {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            let r = reqwest::Client::new()
                .post(action.as_str())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    while let Some(line) = stderr.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = child.wait().await.unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr: seen,
        page: Some(page),
    }
}

/// A preconfigured client with [`SECRET`].
pub fn client(id: &str, method: &str, redirect: &str) -> Value {
    json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    })
}

/// A preconfigured client without a secret, plus `extra` metadata.
pub fn asymmetric(id: &str, method: &str, redirect: &str, extra: Value) -> Value {
    let mut c = client(id, method, redirect);
    c.as_object_mut().unwrap().remove("client_secret");
    with_metadata(c, extra)
}

/// Client metadata `c` with the members of `extra` set (replacing any of the same name).
pub fn with_metadata(mut c: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

pub fn assert_logged_in(run: &Run, method: &str) -> Value {
    assert_eq!(run.code, 0, "relier login failed: {}", run.stderr);
    let out = run.json();
    assert_eq!(out["auth_method"], method, "{out}");
    assert_eq!(out["id_token_claims"]["sub"], "alice");
    assert_eq!(out["userinfo"]["email"], "alice@example.com");
    assert_eq!(
        out["token_type"].as_str().unwrap().to_ascii_lowercase(),
        "bearer"
    );
    assert!(out["access_token"].as_str().is_some());
    assert!(out["id_token"].as_str().is_some());
    let (status, _) = run.page.as_ref().unwrap();
    assert_eq!(*status, 200);
    out
}

pub fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_owned()
}

/// `relier --store sqlite://<dir>/relier.db LINE` (split on whitespace) with a fixed master key,
/// run in `dir`.
pub fn store_cmd(dir: &tempfile::TempDir, line: &str) -> Command {
    let mut c = relier();
    c.arg("--store")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("relier.db").display()
        ))
        .args(line.split_whitespace())
        .env("RELIER_MASTER_KEY", relier::jose::b64::encode(&[9u8; 32]))
        .current_dir(dir.path());
    c
}

/// [`store_cmd`] run with empty stdin; it must succeed.
pub async fn store_ok(dir: &tempfile::TempDir, line: &str) -> Run {
    run_cmd(store_cmd(dir, line), "").await.ok()
}

/// Registers `metadata` at the test OP's registration endpoint (RFC 7591 §3.1) and returns
/// the response's text, as a registration made outside relier for `providers import`.
pub async fn register_at(issuer: &str, metadata: &Value) -> String {
    let http = reqwest::Client::new();
    let disc: Value = serde_json::from_str(
        &http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let resp = http
        .post(disc["registration_endpoint"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(metadata.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    resp.text().await.unwrap()
}

/// A store directory, a loopback redirect URI and a test OP with dynamic registration open and
/// `options` (tests/op/server.mjs): how every register-then-login test starts.
pub async fn registration_op(options: Value) -> (tempfile::TempDir, String, TestOp) {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let op = TestOp::start_with(
        OpConfig {
            registration: Some(None),
            ..Default::default()
        },
        options,
    )
    .await
    .unwrap();
    (dir, redirect, op)
}

/// The flags of the misbehaving OP's client (client_secret_basic, the secret in `$S`).
pub fn bad_op_client_flags(op: &relier_tests::bad_op::BadOp) -> Vec<&str> {
    vec![
        "--issuer",
        op.issuer(),
        "--client-id",
        relier_tests::bad_op::CLIENT_ID,
        "--auth-method",
        "client_secret_basic",
        "--client-secret-env",
        "S",
    ]
}

/// A running `relier serve`: its address, the process (killed on drop), its stderr file and
/// the directory it works in (kept while it runs, when the test hands it over).
pub struct Served {
    pub addr: std::net::SocketAddr,
    pub child: tokio::process::Child,
    pub log: std::path::PathBuf,
    pub dir: Option<tempfile::TempDir>,
}

impl Served {
    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the process wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process and returns its stderr.
    pub async fn stop(mut self) -> String {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        self.log()
    }
}

/// Starts `cmd` (a `relier()` with its arguments and environment) listening on `addr`, its
/// stderr to `log`, and waits (up to 30 s) until `ready` (a path such as `/healthz`) answers 2xx.
pub async fn serve_until(
    mut cmd: Command,
    addr: std::net::SocketAddr,
    log: std::path::PathBuf,
    ready: &str,
) -> Served {
    cmd.stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true);
    let served = Served {
        addr,
        child: cmd.spawn().unwrap(),
        log,
        dir: None,
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..300 {
        if let Ok(r) = http.get(served.url(ready)).send().await
            && r.status().is_success()
        {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("relier serve did not start: {}", served.log());
}
