use super::*;

const FULL: &str = r#"
listen = "127.0.0.1:9000"
public_url = "https://login.example.com"
store = "sqlite://x.db"
[session]
idle_timeout = "8h"
absolute_timeout = "24h"
refresh_before = "2m"
[keys]
rotation_interval = "30d"
propagation = "1h"
alg = "ES256"
[upstream]
url = "http://127.0.0.1:3000"
[headers]
"X-Relier-Groups" = "groups"
[[providers]]
name = "local"
issuer = "http://127.0.0.1:3000"
client_id = "rp-basic"
auth_method = "client_secret_basic"
client_secret_env = "LOCAL_CLIENT_SECRET"
scopes = ["openid", "profile", "email"]
max_age = "1h"
[[providers]]
name = "bank"
max_age = "90s"
"#;

#[test]
fn parses_the_documented_example() {
    let c = Config::from_toml(FULL).unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.session.refresh_before, Duration::from_secs(120));
    assert_eq!(c.session.idle_timeout, Duration::from_secs(8 * 3600));
    assert_eq!(
        c.keys.rotation_interval,
        Some(Duration::from_secs(30 * 86400))
    );
    assert_eq!(c.providers.len(), 2);
    assert!(!c.providers[0].is_registry());
    assert!(c.providers[1].is_registry());
    assert_eq!(
        c.providers[0].settings.max_age,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(
        c.providers[1].settings.max_age,
        Some(Duration::from_secs(90))
    );
    assert_eq!(c.headers["X-Relier-Groups"], "groups");
    assert_eq!(c.store_url(), "sqlite://x.db");
    assert!(!c.metrics, "metrics are off the public listener by default");
    assert!(c.metrics_listen.is_none());
    assert!(!c.underscores_in_headers);
}

#[test]
fn the_store_url_is_not_in_debug() {
    let c = Config::from_toml(
        "public_url = \"https://x\"\nstore = \"postgres://rp:hunter2@db/relier\"",
    )
    .unwrap();
    assert_eq!(c.store_url(), "postgres://rp:hunter2@db/relier");
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn unknown_keys_and_bad_durations_are_refused() {
    let e = Config::from_toml("public_url = \"https://x\"\nlisten_addr = \"x\"").unwrap_err();
    assert!(e.to_string().contains("listen_addr"), "{e}");
    let e = Config::from_toml("public_url = \"https://x\"\n[session]\nidle_timeout = \"8\"")
        .unwrap_err();
    assert!(e.to_string().contains("missing unit"), "{e}");
    let e = Config::from_toml(
        "public_url = \"https://x\"\n[[providers]]\nname = \"a\"\nmax_age = \"soon\"",
    )
    .unwrap_err();
    assert!(e.to_string().contains("max_age"), "{e}");
    let c = Config::from_toml("public_url = \"https://x\"\n[[providers]]\nname = \"a\"").unwrap();
    assert_eq!(c.providers[0].settings.max_age, None);
}

#[test]
fn secrets_are_redacted_in_debug() {
    let c = Config::from_toml(
        "public_url = \"https://x\"\n[[providers]]\nname = \"a\"\nissuer = \"https://op\"\nclient_id = \"c\"\nclient_secret = \"hunter2\"",
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn the_example_file_parses() {
    let c = Config::from_toml(include_str!("../../../../examples/relier.toml")).unwrap();
    assert_eq!(c.public_url, "http://127.0.0.1:8088");
    assert_eq!(c.providers.len(), 1);
    assert_eq!(
        c.providers[0].settings.client_secret_env.as_deref(),
        Some("LOCAL_CLIENT_SECRET")
    );
    assert_eq!(c.keys.alg, "ES256");
}

#[test]
fn override_env_names() {
    assert_eq!(
        secret_override_env("my-op.1"),
        "RELIER_CLIENT_SECRET_MY_OP_1"
    );
}

#[test]
fn relative_paths_resolve_against_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relier.toml");
    std::fs::write(
        &path,
        "public_url = \"https://x\"\ntheme_css = \"theme.css\"",
    )
    .unwrap();
    let c = Config::from_file(&path).unwrap();
    assert_eq!(
        c.resolve(c.theme_css.as_deref().unwrap()),
        dir.path().join("theme.css")
    );
    assert_eq!(c.resolve(Path::new("/abs")), PathBuf::from("/abs"));
}
