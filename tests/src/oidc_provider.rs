//! Rust side of the interop harness: runs the test OpenID Provider in
//! `tests/op/server.mjs` (panva's `oidc-provider`) as a child process, issues
//! the TLS material it needs, and plays a cookie-keeping browser against it.
//!
//! The OP needs its npm dependencies: `npm ci --prefix tests/op` (once).
//!
//! Environment knobs:
//! * `RELIER_TEST_NODE` — the `node` binary (default: `node` on `PATH`).
//! * `RELIER_TEST_OP_SCRIPT` — path of `server.mjs` (default: the one in this
//!   repository).
//! * `RELIER_TEST_OP_LOG=1` — echo the OP's stderr to this process' stderr.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long `TestOp::start` waits for the OP's JSON line, per attempt.
const START_TIMEOUT: Duration = Duration::from_secs(45);
/// Start attempts: a process that stays silent is restarted once.
const START_ATTEMPTS: u32 = 2;
/// Timeout of every HTTP request made by this module.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The OP's stderr kept in memory (the most recent bytes).
const STDERR_KEEP: usize = 256 * 1024;
/// Redirect / form hops `browse` follows before giving up.
const MAX_HOPS: usize = 20;

// ---------------------------------------------------------------------------
// TLS material

/// A throw-away certificate authority for the OP's mTLS listener and for
/// `tls_client_auth` client certificates. All keys are ECDSA P-256.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

fn distinguished_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

impl TestCa {
    /// Creates a new self-signed CA (`CN=relier test CA`).
    pub fn new() -> anyhow::Result<Self> {
        let key = KeyPair::generate().context("generating the CA key")?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name("relier test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .context("self-signing the CA certificate")?;
        Ok(Self {
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `127.0.0.1` and `localhost`:
    /// `(certificate PEM, PKCS#8 key PEM)`.
    pub fn server_cert(&self) -> anyhow::Result<(String, String)> {
        self.server_cert_for(&["127.0.0.1", "localhost"])
    }

    /// A server certificate for `names` (IP address SANs for those that parse as one, DNS
    /// names otherwise; the first is the CN): `(certificate PEM, PKCS#8 key PEM)`.
    pub fn server_cert_for(&self, names: &[&str]) -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate().context("generating the server key")?;
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .context("server certificate SANs")?;
        params.distinguished_name = distinguished_name(names.first().copied().unwrap_or("server"));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("issuing the server certificate")?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// A client certificate issued by this CA with subject `CN=<cn>`:
    /// `(certificate PEM, PKCS#8 key PEM)`. Matches a client registered with
    /// `"tls_client_auth_subject_dn": "CN=<cn>"`.
    pub fn client_cert(&self, cn: &str) -> anyhow::Result<(String, String)> {
        self.client_cert_with_sans(cn, &[])
    }

    /// Like [`TestCa::client_cert`], with subject alternative names: each
    /// entry becomes an IP address SAN if it parses as one, a DNS name SAN
    /// otherwise (for `tls_client_auth_san_dns` / `tls_client_auth_san_ip`).
    pub fn client_cert_with_sans(
        &self,
        cn: &str,
        sans: &[&str],
    ) -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate().context("generating the client key")?;
        let mut params = CertificateParams::new(
            sans.iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<String>>(),
        )
        .context("client certificate SANs")?;
        params.distinguished_name = distinguished_name(cn);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("issuing the client certificate")?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// A client of the client credentials grant (RFC 6749 §4.4) authenticating with `method` and
/// `secret`, without redirect URIs or response types; each member of `extra` is set on it, or
/// removed when null.
pub fn machine_client(
    id: &str,
    method: &str,
    secret: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut client = serde_json::json!({
        "client_id": id,
        "client_secret": secret,
        "redirect_uris": [],
        "response_types": [],
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": method,
    });
    if let (Some(c), Some(extra)) = (client.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    client
}

/// A self-signed client certificate with subject `CN=<cn>`, for
/// `self_signed_tls_client_auth`: `(certificate PEM, PKCS#8 key PEM)`.
/// Register it with [`cert_jwk`] in the client's `jwks`.
pub fn self_signed_client_cert(cn: &str) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate().context("generating the client key")?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(cn);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params
        .self_signed(&key)
        .context("self-signing the client certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The public JWK (EC P-256) of a certificate made by this module, with the
/// certificate as `x5c` — what a `self_signed_tls_client_auth` client puts in
/// its `jwks` (oidc-provider matches the certificate's `x5t#S256`).
pub fn cert_jwk(cert_pem: &str, key_pem: &str) -> anyhow::Result<serde_json::Value> {
    let key = KeyPair::from_pem(key_pem).context("parsing the key PEM")?;
    let raw = key.public_key_raw();
    let (x, y) = match raw.split_first() {
        Some((0x04, xy)) if xy.len() == 64 => xy.split_at(32),
        _ => bail!("cert_jwk supports only the ECDSA P-256 keys this module generates"),
    };
    Ok(serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "x": base64url(x),
        "y": base64url(y),
        "x5c": [pem_body(cert_pem)?],
    }))
}

/// The base64 body of the first PEM block (i.e. standard base64 DER).
fn pem_body(pem: &str) -> anyhow::Result<String> {
    let mut inside = false;
    let mut body = String::new();
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") {
            inside = true;
        } else if line.starts_with("-----END ") {
            if inside {
                return Ok(body);
            }
        } else if inside {
            body.push_str(line);
        }
    }
    Err(anyhow!("no PEM block found"))
}

fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sym = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        if chunk.len() > 1 {
            out.push(sym(n >> 6));
        }
        if chunk.len() > 2 {
            out.push(sym(n));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// the OP process

/// What the test OP is started with.
#[derive(Debug, Clone, Default)]
pub struct OpConfig {
    /// Client metadata, passed to oidc-provider as-is.
    pub clients: Vec<serde_json::Value>,
    /// Start the mTLS listener (`mtls_endpoint_aliases`), with a server
    /// certificate from the [`TestOp::ca`].
    pub tls: bool,
    /// Dynamic client registration: `None` off, `Some(None)` open,
    /// `Some(Some(token))` behind that initial access token.
    pub registration: Option<Option<String>>,
}

/// A running test OP. The child process is killed when this is dropped (and
/// exits by itself when its stdin — held here — closes).
pub struct TestOp {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub issuer: String,
    /// `https://127.0.0.1:<port>` of the mTLS listener, if started.
    pub mtls_base: Option<String>,
    /// The CA that issued the mTLS listener's certificate; use it for
    /// `tls_client_auth` client certificates and as the trust root.
    pub ca: TestCa,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl fmt::Debug for TestOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestOp")
            .field("issuer", &self.issuer)
            .field("mtls_base", &self.mtls_base)
            .field("pid", &self.child.id())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

fn op_script() -> PathBuf {
    if let Some(path) = std::env::var_os("RELIER_TEST_OP_SCRIPT") {
        return PathBuf::from(path);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().map_or(manifest.clone(), PathBuf::from);
    root.join("tests").join("op").join("server.mjs")
}

fn lock(buf: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    buf.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drains a child pipe line by line into `sink` (bounded), optionally echoing.
fn drain<R>(pipe: R, sink: Option<Arc<Mutex<String>>>, echo: bool) -> tokio::task::JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    if echo {
                        eprint!("[test-op] {text}");
                    }
                    if let Some(sink) = &sink {
                        let mut buf = lock(sink);
                        buf.push_str(&text);
                        if buf.len() > STDERR_KEEP {
                            let mut cut = buf.len() - STDERR_KEEP / 2;
                            while !buf.is_char_boundary(cut) {
                                cut += 1;
                            }
                            buf.replace_range(..cut, "[...]\n");
                        }
                    }
                }
            }
        }
    })
}

#[derive(serde::Deserialize)]
struct Ready {
    issuer: String,
    mtls_base: Option<String>,
}

/// One way to run the OP; [`Launch::spawn`] starts a fresh process.
struct Launch<'a> {
    node: &'a std::ffi::OsStr,
    script: &'a std::path::Path,
    script_dir: &'a std::path::Path,
    config_path: &'a std::path::Path,
    echo: bool,
}

struct Started {
    ready: Ready,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
}

struct StartFailure {
    timed_out: bool,
    message: String,
}

impl Launch<'_> {
    async fn spawn(&self) -> Result<Started, StartFailure> {
        let mut child = Command::new(self.node)
            .arg(self.script)
            .arg(self.config_path)
            .current_dir(self.script_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| StartFailure {
                timed_out: false,
                message: format!(
                    "spawning `{} {}`: {err}",
                    self.node.to_string_lossy(),
                    self.script.display()
                ),
            })?;

        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_task = child
            .stderr
            .take()
            .map(|pipe| drain(pipe, Some(Arc::clone(&stderr)), self.echo));
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            return Err(StartFailure {
                timed_out: false,
                message: "the OP's stdout is not piped".to_owned(),
            });
        };

        let mut reader = BufReader::new(stdout);
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            let mut line = String::new();
            loop {
                line.clear();
                let n = reader.read_line(&mut line).await?;
                if n == 0 {
                    return Ok::<Option<Ready>, std::io::Error>(None);
                }
                if let Ok(ready) = serde_json::from_str::<Ready>(line.trim()) {
                    return Ok(Some(ready));
                }
            }
        })
        .await;

        let (timed_out, failure) = match ready {
            Ok(Ok(Some(ready))) => {
                // Keep draining stdout so the OP can never block on a full pipe.
                drop(drain(reader.into_inner(), None, self.echo));
                return Ok(Started {
                    ready,
                    child,
                    stdin,
                    stderr,
                });
            }
            Ok(Ok(None)) => (
                false,
                "the OP exited before printing its address".to_owned(),
            ),
            Ok(Err(err)) => (false, format!("reading the OP's stdout failed: {err}")),
            Err(_) => (
                true,
                format!(
                    "the OP printed no address within {} s",
                    START_TIMEOUT.as_secs()
                ),
            ),
        };

        let _ = child.start_kill();
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        if let Some(task) = stderr_task {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        let log = lock(&stderr).clone();
        let status = status.map_or_else(|| "exit status unknown".to_owned(), |s| s.to_string());
        Err(StartFailure {
            timed_out,
            message: format!("{failure} ({status}); OP stderr:\n{log}"),
        })
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(HTTP_TIMEOUT)
        .build()
        .context("building an HTTP client")
}

impl TestOp {
    /// Starts an OP with the given clients and options.
    pub async fn start(cfg: OpConfig) -> anyhow::Result<TestOp> {
        Self::start_with(cfg, serde_json::Value::Null).await
    }

    /// Like [`TestOp::start`]; the members of `extra` (a JSON object) are
    /// merged into the OP's CONFIG.json, e.g.
    /// `{"signing_algs": ["RS256"], "conform_id_token_claims": false,
    ///   "rotate_refresh_token": true, "response_types": ["code", "code id_token"]}`.
    pub async fn start_with(cfg: OpConfig, extra: serde_json::Value) -> anyhow::Result<TestOp> {
        let script = op_script();
        let script_dir = script
            .parent()
            .map(PathBuf::from)
            .ok_or_else(|| anyhow!("OP script path {} has no parent", script.display()))?;
        if !script.is_file() {
            bail!("test OP script not found at {}", script.display());
        }
        if !script_dir
            .join("node_modules")
            .join("oidc-provider")
            .is_dir()
        {
            bail!(
                "the test OP's npm dependencies are missing: run `npm ci --prefix {}`",
                script_dir.display()
            );
        }

        let ca = TestCa::new()?;
        let dir = tempfile::Builder::new()
            .prefix("relier-test-op-")
            .tempdir()
            .context("creating the OP's temp dir")?;

        let mut config = serde_json::Map::new();
        config.insert("clients".into(), serde_json::Value::Array(cfg.clients));
        if cfg.tls {
            let (cert, key) = ca.server_cert()?;
            let cert_path = dir.path().join("server.pem");
            let key_path = dir.path().join("server.key");
            let ca_path = dir.path().join("ca.pem");
            std::fs::write(&cert_path, cert).context("writing server.pem")?;
            std::fs::write(&key_path, key).context("writing server.key")?;
            std::fs::write(&ca_path, &ca.ca_pem).context("writing ca.pem")?;
            config.insert(
                "tls".into(),
                serde_json::json!({
                    "cert": cert_path,
                    "key": key_path,
                    "ca": ca_path,
                }),
            );
        }
        match cfg.registration {
            None => {}
            Some(None) => {
                config.insert("registration".into(), serde_json::json!({}));
            }
            Some(Some(token)) => {
                config.insert(
                    "registration".into(),
                    serde_json::json!({ "initial_access_token": token }),
                );
            }
        }
        match extra {
            serde_json::Value::Null => {}
            serde_json::Value::Object(map) => config.extend(map),
            other => bail!("extra OP configuration must be a JSON object, got {other}"),
        }
        let config_path = dir.path().join("config.json");
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&serde_json::Value::Object(config))?,
        )
        .context("writing the OP's config.json")?;

        let node = std::env::var_os("RELIER_TEST_NODE").unwrap_or_else(|| "node".into());
        let echo =
            std::env::var_os("RELIER_TEST_OP_LOG").is_some_and(|v| !v.is_empty() && v != "0");
        let launch = Launch {
            node: &node,
            script: &script,
            script_dir: &script_dir,
            config_path: &config_path,
            echo,
        };
        // A Node.js process that prints nothing for START_TIMEOUT on a loaded
        // CI machine is restarted once; the first attempt's log is kept in
        // the error if the second one fails too. Any other start-up failure
        // (bad fixture, crash) is reported at once.
        let mut earlier = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match launch.spawn().await {
                Ok(started) => {
                    if attempt > 1 {
                        eprintln!("test OP started on attempt {attempt}");
                    }
                    return Ok(TestOp {
                        issuer: started.ready.issuer,
                        mtls_base: started.ready.mtls_base,
                        ca,
                        child: started.child,
                        stdin: started.stdin,
                        stderr: started.stderr,
                        http: http_client()?,
                        dir,
                    });
                }
                Err(failure) if failure.timed_out && attempt < START_ATTEMPTS => {
                    eprintln!("test OP attempt {attempt}: {}; retrying", failure.message);
                    earlier = format!("attempt {attempt}: {}\n", failure.message);
                }
                Err(failure) => bail!("{earlier}attempt {attempt}: {}", failure.message),
            }
        }
        bail!("{earlier}the test OP did not start")
    }

    /// `<issuer>/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// What the OP has written to stderr so far (the most recent 256 KiB).
    pub fn stderr_log(&self) -> String {
        lock(&self.stderr).clone()
    }

    async fn admin(
        &self,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let url = format!("{}/__test/{path}", self.issuer);
        let mut request = self.http.post(&url);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body)?);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("POST {url}: body"))?;
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        Ok((status, json))
    }

    /// Generates a new signing key for `alg` (e.g. `RS256`, `ES256`,
    /// `EdDSA`); the OP signs with it from now on and publishes it next to the
    /// old ones. Returns the new `kid`.
    pub async fn rotate(&self, alg: &str) -> anyhow::Result<String> {
        let path = format!(
            "rotate?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("alg", alg)
                .finish()
        );
        let (status, body) = self.admin(&path, None).await?;
        if status != reqwest::StatusCode::OK {
            bail!("rotating the {alg} key failed: {status} {body}");
        }
        body.get("kid")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("rotate answered without a kid: {body}"))
    }

    /// Replaces the OP's request object encryption key (config `request_object_encryption`):
    /// the old one no longer decrypts. Returns the new `kid`.
    pub async fn rotate_encryption_key(&self) -> anyhow::Result<String> {
        let (status, body) = self.admin("rotate-enc", None).await?;
        if status != reqwest::StatusCode::OK {
            bail!("rotating the encryption key failed: {status} {body}");
        }
        body.get("kid")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("rotate-enc answered without a kid: {body}"))
    }

    /// The `request_uri` fetches the OP made (config `request_uri`): `uri`, `status`,
    /// `content_type` each.
    pub async fn request_uri_fetches(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let url = format!("{}/__test/request-uris", self.issuer);
        let bytes = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?
            .bytes()
            .await?;
        let body: serde_json::Value = serde_json::from_slice(&bytes)?;
        Ok(body.as_array().cloned().unwrap_or_default())
    }

    /// Adds a client (oidc-provider metadata) to the running OP.
    pub async fn add_client(&self, metadata: serde_json::Value) -> anyhow::Result<()> {
        let (status, body) = self.admin("clients", Some(&metadata)).await?;
        if status != reqwest::StatusCode::CREATED {
            bail!("adding a client failed: {status} {body}");
        }
        Ok(())
    }
}

impl Drop for TestOp {
    fn drop(&mut self) {
        // Closing stdin makes the OP exit by itself; the kill covers the rest.
        drop(self.stdin.take());
        let _ = self.child.start_kill();
    }
}

// ---------------------------------------------------------------------------
// the browser

/// Where [`browse`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// A redirect to the redirect URI (query or fragment response mode); the
    /// URL was not fetched.
    Query(url::Url),
    /// `response_mode=form_post`: the auto-submitting form aimed at the
    /// redirect URI, not submitted.
    FormPost {
        /// The form's `action`: the redirect URI.
        action: url::Url,
        /// The form's input fields as (name, value) pairs.
        fields: Vec<(String, String)>,
    },
}

/// Plays the browser: GETs `authorization_url` with a fresh cookie jar and
/// follows redirects (and the OP's self-submitting forms, e.g. the logout
/// confirmation) manually until the first one aimed at `redirect_uri`, which
/// is returned without being fetched. Works for end-session URLs too, with the
/// `post_logout_redirect_uri` as `redirect_uri`. Gives up after 20 hops.
pub async fn browse(authorization_url: &str, redirect_uri: &str) -> anyhow::Result<Callback> {
    Browser::new()?
        .browse(authorization_url, redirect_uri)
        .await
}

/// A browser whose cookie jar (the OP session) outlives one [`browse`]: log
/// in, then e.g. `prompt=none` or RP-initiated logout with the same session.
#[derive(Debug, Clone)]
pub struct Browser {
    client: reqwest::Client,
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub fn new() -> anyhow::Result<Self> {
        Self::trusting(None)
    }

    /// A browser that also trusts `ca_pem` (an OP on its TLS listener, [`TestOp::ca`]).
    pub fn trusting(ca_pem: Option<&str>) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(HTTP_TIMEOUT);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .context("the browser's CA")?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .context("building the browser's HTTP client")?;
        Ok(Self { client })
    }

    /// See [`browse`]; keeps this browser's cookies.
    pub async fn browse(
        &self,
        authorization_url: &str,
        redirect_uri: &str,
    ) -> anyhow::Result<Callback> {
        browse_with(&self.client, authorization_url, redirect_uri).await
    }
}

/// Plays the user of a device login (RFC 8628 §3.3) at the test OP: opens
/// `verification_uri_complete` (a self-submitting form with the code), answers the
/// confirmation form with `confirm=yes` (`approve`) or `abort=yes` (deny), and — approved —
/// logs in headlessly as `alice`. Returns the last page's body (the OP's success page, or the
/// code input page after an abort).
pub async fn answer_device_code(
    verification_uri_complete: &str,
    approve: bool,
) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .timeout(HTTP_TIMEOUT)
        .build()
        .context("building the device user's HTTP client")?;
    let mut url = url::Url::parse(verification_uri_complete)
        .with_context(|| format!("invalid verification URI {verification_uri_complete}"))?;
    let page = client.get(url.clone()).send().await?.text().await?;
    // The first page posts the code to itself; the second asks for confirmation.
    let mut body = page;
    for step in ["code", "confirmation"] {
        let form = parse_form(&body).ok_or_else(|| anyhow!("no {step} form at {url}: {body}"))?;
        let action = url.join(&form.action)?;
        let mut fields = form.fields;
        if step == "confirmation" && !approve {
            fields.retain(|(k, _)| k != "confirm");
            fields.push(("abort".into(), "yes".into()));
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish();
        let resp = client
            .post(action.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(encoded)
            .send()
            .await
            .with_context(|| format!("posting the {step} form to {action}"))?;
        url = resp.url().clone();
        body = resp.text().await?;
    }
    Ok(body)
}

async fn browse_with(
    client: &reqwest::Client,
    authorization_url: &str,
    redirect_uri: &str,
) -> anyhow::Result<Callback> {
    let mut url = url::Url::parse(authorization_url)
        .with_context(|| format!("invalid authorization URL {authorization_url}"))?;
    let mut post: Option<Vec<(String, String)>> = None;
    let mut trail: Vec<String> = Vec::new();

    for _ in 0..MAX_HOPS {
        trail.push(format!(
            "{} {url}",
            if post.is_some() { "POST" } else { "GET" }
        ));
        let request = match post.take() {
            Some(fields) => client
                .post(url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields.iter())
                        .finish(),
                ),
            None => client.get(url.clone()),
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("browsing {url}"))?;
        let status = response.status();

        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .ok_or_else(|| anyhow!("{status} from {url} without a Location"))?
                .to_str()
                .with_context(|| format!("non-ASCII Location from {url}"))?
                .to_owned();
            let next = url
                .join(&location)
                .with_context(|| format!("bad Location {location:?} from {url}"))?;
            if location.starts_with(redirect_uri) || next.as_str().starts_with(redirect_uri) {
                return Ok(Callback::Query(next));
            }
            url = next;
            continue;
        }

        let body = response
            .text()
            .await
            .with_context(|| format!("reading the body of {url}"))?;
        if let Some(form) = parse_form(&body) {
            let action = url
                .join(&form.action)
                .with_context(|| format!("bad form action {:?} at {url}", form.action))?;
            if form.action.starts_with(redirect_uri) || action.as_str().starts_with(redirect_uri) {
                return Ok(Callback::FormPost {
                    action,
                    fields: form.fields,
                });
            }
            if status.is_success() && form.auto_submit && form.method_post {
                url = action;
                post = Some(form.fields);
                continue;
            }
        }
        let excerpt: String = body.chars().take(2000).collect();
        bail!(
            "the OP answered {status} at {url} instead of redirecting to {redirect_uri}: {excerpt}\n(trail: {})",
            trail.join(" -> ")
        );
    }
    bail!(
        "no redirect to {redirect_uri} after {MAX_HOPS} hops (trail: {})",
        trail.join(" -> ")
    )
}

struct Form {
    action: String,
    method_post: bool,
    auto_submit: bool,
    fields: Vec<(String, String)>,
}

/// Finds the first `<form>` of a page and its named `<input>`s. Enough HTML
/// for oidc-provider's form_post and logout pages, nothing more.
fn parse_form(html: &str) -> Option<Form> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<form")?;
    let form_lower = lower.get(start..)?;
    let form_html = html.get(start..)?;
    let open_end = form_lower.find('>')?;
    let attrs = parse_attributes(form_html.get(5..open_end)?);
    let attr = |attrs: &[(String, String)], name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let action = attr(&attrs, "action").unwrap_or_default();
    let method_post = attr(&attrs, "method").is_some_and(|m| m.eq_ignore_ascii_case("post"));
    let close = form_lower.find("</form").unwrap_or(form_lower.len());
    let inner_lower = form_lower.get(open_end..close)?;
    let inner = form_html.get(open_end..close)?;

    let mut fields = Vec::new();
    let mut offset = 0;
    while let Some(pos) = inner_lower.get(offset..).and_then(|s| s.find("<input")) {
        let tag_start = offset + pos + "<input".len();
        let Some(tag_len) = inner_lower.get(tag_start..).and_then(|s| s.find('>')) else {
            break;
        };
        let input_attrs = parse_attributes(inner.get(tag_start..tag_start + tag_len)?);
        if let Some(name) = attr(&input_attrs, "name") {
            let kind = attr(&input_attrs, "type").unwrap_or_default();
            if !kind.eq_ignore_ascii_case("submit") && !kind.eq_ignore_ascii_case("button") {
                fields.push((name, attr(&input_attrs, "value").unwrap_or_default()));
            }
        }
        offset = tag_start + tag_len;
    }

    Some(Form {
        action,
        method_post,
        auto_submit: lower.contains(".submit()"),
        fields,
    })
}

/// Parses `name="value" name='value' name=value name` attribute lists.
fn parse_attributes(input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == '/') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '=' || c == '/' || c == '>' {
                break;
            }
            name.push(c.to_ascii_lowercase());
            chars.next();
        }
        if name.is_empty() {
            if chars.next().is_none() {
                break;
            }
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.peek().copied() {
                Some(quote @ ('"' | '\'')) => {
                    chars.next();
                    for c in chars.by_ref() {
                        if c == quote {
                            break;
                        }
                        value.push(c);
                    }
                }
                _ => {
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() || c == '>' {
                            break;
                        }
                        value.push(c);
                        chars.next();
                    }
                }
            }
        }
        out.push((name, decode_entities(&value)));
    }
    out
}

fn decode_entities(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = tail.get(1..end)?;
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()?
                    } else {
                        entity.strip_prefix('#')?.parse::<u32>().ok()?
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = tail.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oidc_provider_form_post() {
        let html = r#"<!DOCTYPE html>
<html><head><script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() });</script></head>
<body>
  <form method="post" action="http://127.0.0.1:9999/callback">
    <input type="hidden" name="code" value="abc&amp;def"/>
<input type="hidden" name="state" value="s&#39;1&quot;"/>
<input type="hidden" name="iss" value="http://127.0.0.1:1234"/>
    <noscript><button autofocus type="submit">Continue</button></noscript>
  </form>
</body></html>"#;
        let form = parse_form(html).expect("form");
        assert_eq!(form.action, "http://127.0.0.1:9999/callback");
        assert!(form.method_post);
        assert!(form.auto_submit);
        assert_eq!(
            form.fields,
            vec![
                ("code".to_owned(), "abc&def".to_owned()),
                ("state".to_owned(), "s'1\"".to_owned()),
                ("iss".to_owned(), "http://127.0.0.1:1234".to_owned()),
            ]
        );
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
