//! The store-backed commands end to end: `relier keys …`, `relier providers …` and
//! `relier login --provider` — the real binary against the real OP (oidc-provider) with dynamic
//! registration (RFC 7591) and its management (RFC 7592). Every test has its own directory and
//! store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{Run, SECRET, assert_logged_in, client, free_port, login_cmd, relier, run_cmd};
use relier_tests::oidc_provider::{OpConfig, TestOp};
use serde_json::{Value, json};
use tokio::process::Command;

/// One test's store: `sqlite://<tmp>/relier.db` with its own master key.
struct Ctx {
    dir: tempfile::TempDir,
    store: String,
    key: String,
}

impl Ctx {
    fn new(seed: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = format!("sqlite://{}", dir.path().join("relier.db").display());
        Self {
            dir,
            store,
            key: relier::jose::b64::encode(&[seed; 32]),
        }
    }

    /// `relier --store … LINE` (LINE split on whitespace).
    fn cmd(&self, line: &str) -> Command {
        let mut c = relier();
        c.arg("--store")
            .arg(&self.store)
            .args(line.split_whitespace())
            .env("RELIER_MASTER_KEY", &self.key)
            .current_dir(self.dir.path());
        c
    }

    async fn run(&self, line: &str) -> Run {
        run_cmd(self.cmd(line), "").await
    }

    async fn ok(&self, line: &str) -> Run {
        self.run(line).await.ok()
    }

    async fn json(&self, line: &str) -> Value {
        self.ok(line).await.json()
    }

    /// `relier login ARGS --no-browser --json`; the OP redirects to `redirect`.
    async fn login(&self, args: &str, redirect: &str) -> Run {
        let line = format!("login {args} --no-browser --json --timeout 60");
        login_cmd(self.cmd(&line), redirect).await
    }

    /// The database bytes (file and WAL), to look for plaintext secrets.
    fn db_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["relier.db", "relier.db-wal"] {
            if let Ok(b) = std::fs::read(self.dir.path().join(name)) {
                all.extend(b);
            }
        }
        assert!(!all.is_empty());
        all
    }

    fn assert_no_plaintext(&self, secrets: &[&str]) {
        let db = self.db_bytes();
        let has = |s: &[u8]| db.windows(s.len()).any(|w| w == s);
        assert!(!has(b"PRIVATE KEY"), "a PEM private key in the database");
        for s in secrets {
            assert!(!has(s.as_bytes()), "plaintext secret {s:?} in the database");
        }
    }

    async fn active_kid(&self, alg: &str) -> String {
        let keys = self.json("keys list --json").await;
        let active: Vec<&Value> = keys
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == alg && k["state"] == "active")
            .collect();
        assert_eq!(active.len(), 1, "{keys}");
        active[0]["kid"].as_str().unwrap().to_owned()
    }
}

fn redirect_uri() -> String {
    format!("http://127.0.0.1:{}/callback", free_port())
}

/// No member of a provider's JSON is a secret or token.
fn assert_no_secrets(v: &Value) {
    let text = v.to_string();
    for member in ["\"client_secret\"", "\"registration_access_token\""] {
        assert!(!text.contains(member), "{member} in {text}");
    }
}

async fn registering_op(iat: Option<&str>) -> TestOp {
    TestOp::start(OpConfig {
        registration: Some(iat.map(str::to_owned)),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn count(v: &Value) -> usize {
    v.as_array().unwrap().len()
}

#[tokio::test]
async fn dynamic_registration_open_and_with_initial_access_token_then_login() {
    let ctx = Ctx::new(1);
    let redirect = redirect_uri();

    // Open registration; no key in the store yet: one is generated (ES256) and registered
    // inline; the method is the OP's strongest, private_key_jwt.
    let op = registering_op(None).await;
    let iss = &op.issuer;
    let run = ctx
        .ok(&format!(
            "providers register open-op --issuer {iss} --redirect-uri {redirect} --json"
        ))
        .await;
    assert!(run.stderr.contains("generated"), "{}", run.stderr);
    assert!(
        run.stderr.contains("using private_key_jwt"),
        "{}",
        run.stderr
    );
    let p = run.json();
    assert_eq!(p["name"], "open-op");
    assert_eq!(p["auth_method"], "private_key_jwt");
    assert_eq!(p["jwks_mode"], "inline");
    assert_eq!(p["redirect_uris"], json!([redirect]));
    assert!(
        p["registration_client_uri"]
            .as_str()
            .unwrap()
            .starts_with(iss.as_str())
    );
    assert_no_secrets(&p);
    assert_eq!(count(&ctx.json("keys list --json").await), 1);

    // The default redirect URI is the first registered one.
    let run = ctx.login("--provider open-op", &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    // UserInfo with the access token in a form POST (RFC 6750 §2.2), which the OP accepts.
    let run = ctx
        .login("--provider open-op --userinfo-token-method body", &redirect)
        .await;
    assert_logged_in(&run, "private_key_jwt");

    // Registration behind an initial access token.
    let op = registering_op(Some("iat-secret")).await;
    let line = format!(
        "providers register iat-op --issuer {} --redirect-uri {redirect}",
        op.issuer
    );
    let reg = |token: Option<&'static str>| {
        let c = match token {
            Some(t) => {
                let mut c = ctx.cmd(&format!("{line} --initial-access-token-env IAT"));
                c.env("IAT", t);
                c
            }
            None => ctx.cmd(&line),
        };
        run_cmd(c, "")
    };
    let none = reg(None).await;
    assert_ne!(none.code, 0);
    assert!(
        none.stderr.contains("initial access token"),
        "{}",
        none.stderr
    );
    let wrong = reg(Some("not-the-token")).await;
    assert_ne!(wrong.code, 0);
    let last = wrong.stderr.trim().lines().last().unwrap();
    assert!(last.starts_with("relier: error: "), "{}", wrong.stderr);
    assert!(
        last.contains("refused the initial access token from $IAT"),
        "{last}"
    );
    assert!(
        last.contains("invalid_token"),
        "the OP's error is shown: {last}"
    );
    assert_ne!(ctx.run("providers show iat-op").await.code, 0);
    reg(Some("iat-secret")).await.ok();
    let shown = ctx.json("providers show iat-op --json").await;
    assert_eq!(shown["has_registration_access_token"], true);
    assert_no_secrets(&shown);
    let run = ctx.login("--provider iat-op", &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    ctx.assert_no_plaintext(&["iat-secret"]);
}

#[tokio::test]
async fn rotation_with_sync_never_fails_a_login() {
    let ctx = Ctx::new(2);
    let redirect = redirect_uri();
    let op = registering_op(None).await;
    ctx.ok("keys generate --alg ES256").await;
    ctx.ok(&format!(
        "providers register op --issuer {} --redirect-uri {redirect}",
        op.issuer
    ))
    .await;
    let login = || ctx.login("--provider op", &redirect);
    assert_logged_in(&login().await, "private_key_jwt");
    let k1 = ctx.active_kid("ES256").await;

    // Rotate without delay; the hint names the provider to sync.
    let run = ctx.ok("keys rotate --propagation 0").await;
    assert!(
        run.stderr.contains("relier providers sync op"),
        "{}",
        run.stderr
    );
    let run = ctx.ok("providers sync op").await;
    assert!(
        run.stdout.contains("jwks: 1 key → 2 keys"),
        "{}",
        run.stdout
    );
    // The new key signs now; the old one is still published.
    let k2 = ctx.active_kid("ES256").await;
    assert_ne!(k1, k2);
    let jwks = ctx.json("keys jwks").await.to_string();
    assert!(jwks.contains(&k1) && jwks.contains(&k2), "{jwks}");
    let remote = ctx.json("providers show op --remote").await;
    assert!(remote["jwks"].to_string().contains(&k2), "{remote}");
    assert_no_secrets(&remote);
    assert_logged_in(&login().await, "private_key_jwt");

    // `--sync` does both at once.
    let run = ctx.ok("keys rotate --propagation 0 --sync --json").await;
    assert!(run.stderr.contains("synced provider op"), "{}", run.stderr);
    assert_eq!(run.json()[0]["state"], "next");
    let k3 = ctx.active_kid("ES256").await;
    assert_ne!(k3, k2);
    assert_logged_in(&login().await, "private_key_jwt");

    // Without the sync the OP does not know the key: that is what sync is for.
    ctx.ok("keys rotate --propagation 0").await;
    let k4 = ctx.active_kid("ES256").await;
    assert_ne!(k4, k3);
    let run = login().await;
    assert_ne!(run.code, 0, "an unknown key must not authenticate");
    assert!(run.stderr.contains("invalid_client"), "{}", run.stderr);

    // A retired key in its grace period needs --force (kids may start with "-").
    let out = ctx.run(&format!("keys remove {k3}")).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    let removed = ctx.json(&format!("keys remove {k3} --force --json")).await;
    assert_eq!(removed["kid"], k3.as_str());
    ctx.assert_no_plaintext(&[]);
}

#[tokio::test]
async fn encryption_keys_from_the_command_line() {
    let ctx = Ctx::new(7);
    ctx.ok("keys generate --alg ES256").await;
    let rsa = ctx.json("keys generate --use enc --bits 3072 --json").await;
    assert_eq!(
        (&rsa["use"], &rsa["alg"], &rsa["state"]),
        (&json!("enc"), &json!("RSA-OAEP-256"), &json!("active"))
    );
    let ec = ctx
        .json("keys generate --use enc --alg ECDH-ES --json")
        .await;
    assert_eq!(ec["alg"], "ECDH-ES");
    // The list names the use; the JWKS publishes both beside the signing key.
    let list = ctx.ok("keys list").await.stdout;
    assert!(
        list.contains("USE") && list.contains("enc") && list.contains("sig"),
        "{list}"
    );
    let jwks = ctx.json("keys jwks").await;
    let uses: Vec<(&str, &str)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["use"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    for want in [
        ("sig", "ES256"),
        ("enc", "RSA-OAEP-256"),
        ("enc", "ECDH-ES"),
    ] {
        assert!(uses.contains(&want), "{want:?} in {uses:?}");
    }
    // Rotation of one enc algorithm publishes a next key.
    let rotated = ctx
        .json("keys rotate --alg ECDH-ES --propagation 60 --json")
        .await;
    assert_eq!(rotated[0]["state"], "next");
    assert_eq!(rotated[0]["use"], "enc");
    // Refusals: a use that does not fit the algorithm, a symmetric one, --bits on EC.
    for (line, says) in [
        (
            "keys generate --use enc --alg ES256",
            "is for sig keys, not --use enc",
        ),
        (
            "keys generate --use sig --alg RSA-OAEP",
            "is for enc keys, not --use sig",
        ),
        ("keys generate --alg A128KW", "client secret"),
        (
            "keys generate --use enc --alg ECDH-ES --bits 2048",
            "--bits",
        ),
        ("keys generate", "--alg is required"),
    ] {
        let run = ctx.run(line).await;
        assert_ne!(run.code, 0, "{line}");
        assert!(run.stderr.contains(says), "{line}: {}", run.stderr);
    }
    ctx.assert_no_plaintext(&[]);
}

#[tokio::test]
async fn sync_read_update_and_unregister() {
    let ctx = Ctx::new(3);
    let redirect = redirect_uri();
    let op = registering_op(None).await;
    let line = format!(
        "providers register op --issuer {} --redirect-uri {redirect} --client-name relier-test",
        op.issuer
    );
    // OIDC DCR §2 contacts: the OP checks them (e-mail addresses only) and says why it refuses.
    let refused = ctx.run(&format!("{line} --contact not-an-address")).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("invalid_client_metadata: contacts can only contain email addresses"),
        "{}",
        refused.stderr
    );
    ctx.ok(&format!(
        "{line} --contact ops@rp.example --contact sec@rp.example"
    ))
    .await;
    let remote = ctx.json("providers show op --remote").await;
    assert_eq!(
        remote["contacts"],
        json!(["ops@rp.example", "sec@rp.example"])
    );
    assert_eq!(remote["client_name"], "relier-test");
    assert_eq!(remote["token_endpoint_auth_method"], "private_key_jwt");
    assert_no_secrets(&remote);
    // Nothing changed locally: the update keeps the registration as it is.
    let sync = ctx.json("providers sync op --json").await;
    assert_eq!(sync["name"], "op");
    assert!(!sync["changes"].to_string().contains("jwks"), "{sync}");
    // A new key: the update carries it.
    ctx.ok("keys generate --alg EdDSA").await;
    let sync = ctx.json("providers sync op --json").await;
    assert_eq!(
        sync["changes"],
        json!([{"member": "jwks", "before": "1 key", "after": "2 keys"}]),
        "{sync}"
    );

    let list = ctx.json("providers list --json").await;
    assert_eq!(count(&list), 1);
    assert_no_secrets(&list);
    let run = ctx.ok("providers unregister op").await;
    assert!(run.stdout.contains("deleted at the OP"), "{}", run.stdout);
    let gone = ctx.run("providers show op").await;
    assert_ne!(gone.code, 0);
    assert!(gone.stderr.contains("no provider named"), "{}", gone.stderr);
    assert_eq!(count(&ctx.json("providers list --json").await), 0);
}

#[tokio::test]
async fn import_a_registration_response_then_login() {
    let ctx = Ctx::new(4);
    let redirect = redirect_uri();
    let op = registering_op(None).await;
    let http = reqwest::Client::new();
    let metadata = json!({
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
        "application_type": "native",
    });
    let response: Value =
        serde_json::from_str(&common::register_at(&op.issuer, &metadata).await).unwrap();
    let secret = response["client_secret"].as_str().unwrap().to_owned();
    let rat = response["registration_access_token"].as_str().unwrap();
    let rcu = response["registration_client_uri"].as_str().unwrap();
    let file = common::write(&ctx.dir, "registration.json", &response.to_string());

    let p = ctx
        .json(&format!(
            "providers import imp --issuer {} --registration-response {file} --json",
            op.issuer
        ))
        .await;
    assert_eq!(p["auth_method"], "client_secret_post");
    assert_eq!(p["client_id"], response["client_id"]);
    assert_eq!(p["registration_client_uri"], rcu);
    assert_no_secrets(&p);
    let shown = ctx.ok("providers show imp --json").await;
    assert!(!shown.stdout.contains(&secret) && !shown.stdout.contains(rat));
    assert_eq!(shown.json()["has_client_secret"], true);

    let args = format!("--provider imp --redirect-uri {redirect}");
    assert_logged_in(&ctx.login(&args, &redirect).await, "client_secret_post");
    // A redirect URI that was not registered is refused, naming the registered ones.
    let other = format!("http://127.0.0.1:{}/elsewhere", free_port());
    let run = ctx
        .run(&format!("login --provider imp --redirect-uri {other}"))
        .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains(&redirect), "{}", run.stderr);
    ctx.assert_no_plaintext(&[&secret, rat]);

    // RFC 7591 §3.2.1: a secret past client_secret_expires_at is reported, and a login with it
    // stops before the OP (0, what oidc-provider sends, means it never expires).
    let mut expired = response.clone();
    expired["client_secret_expires_at"] = json!(1_600_000_000u64);
    let file = common::write(&ctx.dir, "expired.json", &expired.to_string());
    ctx.ok(&format!(
        "providers import old --issuer {} --registration-response {file}",
        op.issuer
    ))
    .await;
    let list = ctx.json("providers list --json").await;
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("old")["client_secret_expires_at"], 1_600_000_000u64);
    assert!(by_name("imp")["client_secret_expires_at"].is_null());
    let table = ctx.ok("providers list").await;
    assert!(table.stdout.contains("(expired)"), "{}", table.stdout);
    let run = ctx
        .run(&format!("login --provider old --redirect-uri {redirect}"))
        .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("client secret expired"),
        "{}",
        run.stderr
    );

    // RFC 7592 §3: a registration_client_uri off the OP's origin would receive the
    // registration access token: the import is refused and nothing is stored.
    let mut foreign = response.clone();
    foreign["registration_client_uri"] = json!("https://rcu.evil.example/reg/c1");
    let file = common::write(&ctx.dir, "foreign.json", &foreign.to_string());
    let run = ctx
        .run(&format!(
            "providers import foreign --issuer {} --registration-response {file}",
            op.issuer
        ))
        .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("rcu.evil.example") && run.stderr.contains("not on the OP's origin"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(rat), "{}", run.stderr);
    assert!(ctx.run("providers show foreign").await.code != 0);

    // unregister deletes the client at the OP: the old token no longer reads it.
    ctx.ok("providers unregister imp").await;
    let read = http.get(rcu).bearer_auth(rat).send().await.unwrap();
    assert!(!read.status().is_success(), "{}", read.status());
}

#[tokio::test]
async fn add_a_client_registered_by_hand() {
    let ctx = Ctx::new(5);
    let redirect = redirect_uri();
    let op = TestOp::start(OpConfig {
        clients: vec![
            client("rp-jwt", "client_secret_jwt", &redirect),
            client("rp-basic", "client_secret_basic", &redirect),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let iss = &op.issuer;
    // The secret on stdin; the method recommended for a 47-byte secret: client_secret_jwt.
    let c = ctx.cmd(&format!(
        "providers add by-hand --issuer {iss} --client-id rp-jwt --client-secret-stdin \
         --redirect-uri {redirect} --json"
    ));
    let run = run_cmd(c, &format!("{SECRET}\n")).await.ok();
    assert!(
        run.stderr.contains("using client_secret_jwt"),
        "{}",
        run.stderr
    );
    let p = run.json();
    assert_eq!(p["auth_method"], "client_secret_jwt");
    assert_no_secrets(&p);
    let run = ctx.login("--provider by-hand", &redirect).await;
    assert_logged_in(&run, "client_secret_jwt");

    // Three processes add providers at once; the store serializes them.
    let adds: Vec<_> = (1..=3)
        .map(|i| {
            let mut c = ctx.cmd(&format!(
                "providers add basic-{i} --issuer {iss} --client-id rp-basic \
                 --auth-method client_secret_basic --client-secret-env RP_SECRET \
                 --redirect-uri {redirect}"
            ));
            c.env("RP_SECRET", SECRET);
            tokio::spawn(run_cmd(c, ""))
        })
        .collect();
    for run in adds {
        run.await.unwrap().ok();
    }
    let run = ctx.login("--provider basic-2", &redirect).await;
    assert_logged_in(&run, "client_secret_basic");
    let list = ctx.json("providers list --json").await;
    assert_eq!(count(&list), 4, "{list}");
    assert!(!list.to_string().contains(SECRET));

    // No RFC 7592 registration for a client added by hand.
    let run = ctx.run("providers sync by-hand").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("RFC 7592"), "{}", run.stderr);
    let run = ctx.run("providers unregister by-hand").await;
    assert!(run.stderr.contains("--local-only"), "{}", run.stderr);
    ctx.ok("providers unregister by-hand --local-only").await;
    // An existing name is refused before anything is sent.
    let run = ctx
        .run(&format!(
            "providers add basic-1 --issuer {iss} --client-id x"
        ))
        .await;
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    ctx.assert_no_plaintext(&[SECRET]);
}

#[tokio::test]
async fn master_key_file_concurrency_and_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("relier.db").display());
    let plain = |line: &str| {
        let mut c = relier();
        c.arg("--store")
            .arg(&store)
            .args(line.split_whitespace())
            .current_dir(dir.path());
        c
    };
    let other_key = relier::jose::b64::encode(&[9u8; 32]);
    // Six processes on a new store without RELIER_MASTER_KEY: one creates the key file.
    let children: Vec<_> = ["ES256", "EdDSA", "ES256", "EdDSA", "ES256", "PS256"]
        .iter()
        .map(|alg| {
            plain(&format!("keys generate --alg {alg} --json"))
                .spawn()
                .unwrap()
        })
        .collect();
    let mut created = 0;
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        created += usize::from(stderr.contains("created master key file"));
    }
    assert_eq!(created, 1, "exactly one process creates the key file");
    let key_file = dir.path().join("relier.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let out = run_cmd(plain("keys list --json"), "").await.ok();
    let keys = out.json();
    assert_eq!(count(&keys), 6, "{keys}");
    assert!(!out.stderr.contains("created master key file"));
    // One active key per algorithm.
    for alg in ["ES256", "EdDSA", "PS256"] {
        let active = keys
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == alg && k["state"] == "active")
            .count();
        assert_eq!(active, 1, "{alg}: {keys}");
    }
    // --master-key-file wins over RELIER_MASTER_KEY.
    let mut c = plain(&format!(
        "--master-key-file {} keys jwks",
        key_file.display()
    ));
    c.env("RELIER_MASTER_KEY", &other_key);
    let jwks: Value = serde_json::from_str(&run_cmd(c, "").await.ok().stdout).unwrap();
    assert_eq!(count(&jwks["keys"]), 6);
    assert!(!jwks.to_string().contains("\"d\""));

    // Another master key: refused, on one line naming the store.
    let mut c = plain("keys list");
    c.env("RELIER_MASTER_KEY", &other_key);
    let run = run_cmd(c, "").await;
    assert_ne!(run.code, 0);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("master key"), "{}", run.stderr);
    assert!(run.stderr.contains(&store), "{}", run.stderr);
    let db = std::fs::read(dir.path().join("relier.db")).unwrap();
    assert!(!db.windows(11).any(|w| w == b"PRIVATE KEY"));
}

/// Issue 7, item 5: under umask 022 the CLI creates the store's directory 0700 and the
/// database, its `-wal`/`-shm` files and the master key file 0600; it warns (once per file,
/// with the fix) about store files that group or others may read.
#[cfg(unix)]
#[tokio::test]
async fn store_files_are_private_and_a_lax_one_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("relier.db");
    let store = format!("sqlite://{}", db.display());
    let cmd = |line: &str| {
        let mut c = common::relier_umask_022();
        c.arg("--store")
            .arg(&store)
            .args(line.split_whitespace())
            .current_dir(dir.path());
        c
    };
    let mode = |name: &str| {
        let path = data.join(name);
        std::fs::metadata(&path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };

    let run = run_cmd(cmd("keys generate --alg ES256"), "").await.ok();
    assert!(
        run.stderr.contains("created master key file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(mode(""), Some(0o700));
    assert_eq!(mode("relier.db"), Some(0o600));
    assert_eq!(mode("relier.db.key"), Some(0o600));
    for name in ["relier.db-wal", "relier.db-shm"] {
        // Present unless the last connection removed them on close.
        assert!(matches!(mode(name), None | Some(0o600)), "{name}");
    }

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = run_cmd(cmd("keys list"), "").await.ok();
    let warnings: Vec<_> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("relier: warning: "))
        .collect();
    // The database first; SQLite gives the `-wal`/`-shm` it creates the database's mode.
    assert!(
        !warnings.is_empty() && warnings.iter().all(|w| w.contains("mode 0644")),
        "{}",
        run.stderr
    );
    assert!(
        warnings[0].contains("store database") && warnings[0].contains("mode 0644"),
        "{}",
        run.stderr
    );
    assert!(
        warnings[0].ends_with(&format!("chmod 600 {}", db.display())),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn encrypted_id_token_and_userinfo_registered_then_login() {
    let ctx = Ctx::new(8);
    let redirect = redirect_uri();
    let op = TestOp::start_with(
        OpConfig {
            registration: Some(None),
            ..Default::default()
        },
        json!({"encryption": true}),
    )
    .await
    .unwrap();
    // No encryption key yet: register generates them and sends them with the signing key.
    let run = ctx
        .ok(&format!(
            "providers register enc-op --issuer {} --redirect-uri {redirect} \
             --encrypt-id-token RSA-OAEP-256/A256GCM --encrypt-userinfo ECDH-ES/A128GCM \
             --signed-userinfo ES256 --id-token-alg ES256",
            op.issuer
        ))
        .await;
    assert!(
        run.stderr.contains("no active RSA-OAEP-256 encryption key"),
        "{}",
        run.stderr
    );
    let remote = ctx.json("providers show enc-op --remote").await;
    assert_eq!(remote["id_token_encrypted_response_alg"], "RSA-OAEP-256");
    assert_eq!(remote["userinfo_encrypted_response_enc"], "A128GCM");
    let uses: Vec<&str> = remote["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["use"].as_str().unwrap())
        .collect();
    assert_eq!(uses.iter().filter(|u| **u == "enc").count(), 2, "{remote}");

    let run = ctx.login("--provider enc-op", &redirect).await;
    let out = assert_logged_in(&run, "private_key_jwt");
    // The printed ID token is the decrypted, signed one.
    assert_eq!(out["id_token"].as_str().unwrap().split('.').count(), 3);
    // Without the keys the login is refused before it starts, naming the fix.
    let keys = ctx.json("keys list --json").await;
    let mut removed = Vec::new();
    for k in keys.as_array().unwrap() {
        if k["use"] == "enc" {
            let kid = k["kid"].as_str().unwrap();
            ctx.ok(&format!("keys remove {kid} --force")).await;
            removed.push(kid.to_owned());
        }
    }
    let run = ctx.login("--provider enc-op", &redirect).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("relier keys generate --use enc --alg RSA-OAEP-256"),
        "{}",
        run.stderr
    );
    // New keys the OP was never told about: it still encrypts to the removed key, which no
    // longer decrypts (the OP did encrypt, to the registered key).
    ctx.ok("keys generate --use enc --alg RSA-OAEP-256").await;
    ctx.ok("keys generate --use enc --alg ECDH-ES").await;
    let run = ctx.login("--provider enc-op", &redirect).await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no RP decryption key for kid")
            && removed.iter().any(|kid| run.stderr.contains(kid.as_str())),
        "{}",
        run.stderr
    );
    ctx.assert_no_plaintext(&[]);
}

#[tokio::test]
async fn keys_cert_prints_the_active_rsa_keys_certificate() {
    let c = Ctx::new(9);
    let none = c.run("keys cert").await;
    assert_ne!(none.code, 0);
    assert!(
        none.stderr.contains("keys generate --alg RS256"),
        "{}",
        none.stderr
    );
    c.ok("keys generate --alg RS256").await;
    let kid = c.active_kid("RS256").await;
    let a = c.ok("keys cert").await;
    assert!(
        a.stdout.starts_with("-----BEGIN CERTIFICATE-----"),
        "{}",
        a.stdout
    );
    assert!(a.stderr.contains("x5t#S256"), "{}", a.stderr);
    // The same key gives the same certificate (the thumbprint uploaded stays valid).
    let b = c.ok(&format!("keys cert --kid {kid}")).await;
    assert_eq!(a.stdout, b.stdout);
    c.ok("keys generate --alg ES256").await;
    let ec = c.run("keys cert --alg ES256").await;
    assert_ne!(ec.code, 0);
    assert!(ec.stderr.contains("RSA"), "{}", ec.stderr);
}

/// `providers register --signed-requests --jarm` registers request objects (RFC 9101) and JARM;
/// a registration response with JARM is imported; the stored registration then drives
/// `relier login` (request objects signed with the store key, `response` at the loopback).
#[tokio::test]
async fn signed_requests_and_jarm_registered_or_imported_then_login() {
    let ctx = Ctx::new(9);
    let redirect = redirect_uri();
    let op = TestOp::start_with(
        OpConfig {
            registration: Some(None),
            ..Default::default()
        },
        json!({"secured_authorization": true}),
    )
    .await
    .unwrap();
    ctx.ok(&format!(
        "providers register jar-op --issuer {} --redirect-uri {redirect} \
         --signed-requests --jarm PS256",
        op.issuer
    ))
    .await;
    let remote = ctx.json("providers show jar-op --remote").await;
    assert_eq!(remote["require_signed_request_object"], true, "{remote}");
    assert_eq!(
        remote["request_object_signing_alg"],
        remote["token_endpoint_auth_signing_alg"]
    );
    assert_eq!(remote["authorization_signed_response_alg"], "PS256");
    let run = ctx.login("--provider jar-op", &redirect).await;
    assert_logged_in(&run, "private_key_jwt");
    let url = run.authorization_url();
    assert!(
        url.contains("&request=") && !url.contains("state="),
        "{url}"
    );

    // A registration response with JARM (client_secret_basic, no request objects), imported.
    let metadata = json!({
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "native",
        "authorization_signed_response_alg": "ES256",
    });
    let response = common::register_at(&op.issuer, &metadata).await;
    let file = common::write(&ctx.dir, "jarm.json", &response);
    ctx.ok(&format!(
        "providers import jarm-op --issuer {} --registration-response {file}",
        op.issuer
    ))
    .await;
    let run = ctx.login("--provider jarm-op", &redirect).await;
    assert_logged_in(&run, "client_secret_basic");
    let url = run.authorization_url();
    assert!(url.contains("response_mode=jwt"), "{url}");
}
