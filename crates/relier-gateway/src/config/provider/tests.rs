use std::path::PathBuf;
use std::time::Duration;

use relier::preset::Preset;
use relier::provider::ProviderSettings;
use relier_core::Secret;
use relier_core::ftn::{Purpose, UiLocale};

use super::*;
use crate::config::Config;

/// The file's `[[providers]]` table `table` (name `p`, from line 3).
fn parse(table: &str) -> Result<ProviderConfig, String> {
    Config::from_toml(&format!(
        "public_url = \"https://rp.example\"\n[[providers]]\nname = \"p\"\n{table}"
    ))
    .map(|c| c.providers.into_iter().next().unwrap())
    .map_err(|e| e.to_string())
}

/// Settings compared as they print (`ProviderSettings` has no equality; secrets print
/// redacted, so they are compared by their own value too).
fn same(got: &ProviderSettings, want: &ProviderSettings) {
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    assert_eq!(
        got.client_secret.as_ref().map(Secret::expose),
        want.client_secret.as_ref().map(Secret::expose)
    );
}

const INLINE: &str = r#"issuer = "https://op.example"
client_id = "rp"
auth_method = "private_key_jwt"
private_key = "rp.pem"
key_id = "k1"
signing_alg = "ES256"
scopes = ["openid", "email"]
max_age = "90s"
par = true
dpop_bound_access_tokens = true
request_object_signing_alg = "PS256"
prompt = "login"
ca_file = "ca.pem"
display_name = "Corp"
allowed_domains = ["example.com"]
[providers.extra_params]
acr_values = "loa2"
"#;

/// Each kind from a representative table, with the settings the table's keys of the same
/// names give (the keys relier reads, as before the kinds: written out here).
#[test]
fn each_kind_parses_into_the_settings_of_its_keys() {
    let p = parse(INLINE).unwrap();
    assert!(matches!(p.kind, ProviderKind::Inline(_)));
    assert_eq!(p.policy.allowed_domains, ["example.com"]);
    assert_eq!(p.gateway_keys().prompt, Some("login"));
    assert_eq!(
        p.gateway_keys().ca_file,
        Some(PathBuf::from("ca.pem").as_path())
    );
    same(
        &p.settings,
        &ProviderSettings {
            display_name: Some("Corp".into()),
            issuer: Some("https://op.example".into()),
            client_id: Some("rp".into()),
            auth_method: Some("private_key_jwt".into()),
            private_key: Some("rp.pem".into()),
            key_id: Some("k1".into()),
            signing_alg: Some("ES256".into()),
            scopes: Some(vec!["openid".into(), "email".into()]),
            max_age: Some(Duration::from_secs(90)),
            par: true,
            dpop_bound_access_tokens: true,
            request_object_signing_alg: Some("PS256".into()),
            extra_params: [("acr_values".to_owned(), "loa2".to_owned())].into(),
            ..ProviderSettings::default()
        },
    );

    let p = parse("scopes = [\"openid\"]\npar = true\njwks_uri = \"https://op/keys\"").unwrap();
    assert!(p.is_registry());
    assert_eq!(p.gateway_keys().jwks_uri, Some("https://op/keys"));
    same(
        &p.settings,
        &ProviderSettings {
            scopes: Some(vec!["openid".into()]),
            par: true,
            ..ProviderSettings::default()
        },
    );

    let p = parse(
        "preset = \"github\"\ngithub_url = \"https://git.example\"\nclient_id = \"c\"\nclient_secret_env = \"S\"",
    )
    .unwrap();
    assert!(matches!(p.kind, ProviderKind::GitHub(_)));
    same(
        &p.settings,
        &ProviderSettings {
            preset: Some(Preset::GitHub),
            github_url: Some("https://git.example".into()),
            client_id: Some("c".into()),
            client_secret_env: Some("S".into()),
            ..ProviderSettings::default()
        },
    );

    let p = parse(
        "preset = \"apple\"\nclient_id = \"com.example\"\nteam_id = \"T\"\nkey_id = \"K\"\nprivate_key_file = \"a.p8\"\nresponse_mode = \"form_post\"",
    )
    .unwrap();
    assert!(matches!(p.kind, ProviderKind::Apple(_)));
    same(
        &p.settings,
        &ProviderSettings {
            preset: Some(Preset::Apple),
            client_id: Some("com.example".into()),
            team_id: Some("T".into()),
            key_id: Some("K".into()),
            private_key_file: Some("a.p8".into()),
            response_mode: Some("form_post".into()),
            ..ProviderSettings::default()
        },
    );

    let p = parse("preset = \"google\"\nclient_id = \"c\"\nclient_secret = \"s3\"").unwrap();
    assert!(matches!(p.kind, ProviderKind::Google(_)));
    same(
        &p.settings,
        &ProviderSettings {
            preset: Some(Preset::Google),
            client_id: Some("c".into()),
            client_secret: Some(Secret::new("s3")),
            ..ProviderSettings::default()
        },
    );

    let p = parse(
        "preset = \"entra\"\ntenant = \"organizations\"\nallowed_tenants = [\"t1\"]\nclient_id = \"c\"\nuse_store_key = true",
    )
    .unwrap();
    assert!(matches!(p.kind, ProviderKind::Entra(_)));
    same(
        &p.settings,
        &ProviderSettings {
            preset: Some(Preset::Entra),
            tenant: Some("organizations".into()),
            allowed_tenants: vec!["t1".into()],
            client_id: Some("c".into()),
            use_store_key: true,
            ..ProviderSettings::default()
        },
    );

    let p = parse(
        "preset = \"ftn\"\nentity_statement = \"isb.jwt\"\nclient_id = \"c\"\nftn_spname = \"S\"\nui_locales = \"sv\"\npurpose = \"weak\"",
    )
    .unwrap();
    assert!(matches!(p.kind, ProviderKind::Ftn(_)));
    same(
        &p.settings,
        &ProviderSettings {
            preset: Some(Preset::Ftn),
            entity_statement: Some("isb.jwt".into()),
            client_id: Some("c".into()),
            ftn_spname: Some("S".into()),
            ui_locales: Some(UiLocale::Sv),
            purpose: Some(Purpose::Weak),
            ..ProviderSettings::default()
        },
    );
}

/// A key of another kind is refused as the file is read: the provider, the key, what the
/// table is and the table's line are named.
#[test]
fn a_key_of_another_kind_is_refused_with_its_line() {
    for (table, key, says) in [
        (
            "preset = \"github\"\nteam_id = \"T\"",
            "team_id",
            "goes with preset = \"apple\"",
        ),
        (
            "preset = \"github\"\nissuer = \"https://gh\"",
            "issuer",
            "github_url",
        ),
        (
            "issuer = \"https://op\"\ntenant = \"common\"",
            "tenant",
            "goes with preset = \"entra\"",
        ),
        (
            "preset = \"apple\"\nclient_secret = \"s\"",
            "client_secret",
            "mints the client secret",
        ),
        (
            "preset = \"ftn\"\npar = true",
            "par",
            "Finnish Trust Network",
        ),
        (
            "preset = \"google\"\nembedded_ui = true",
            "embedded_ui",
            "goes with preset = \"ftn\"",
        ),
    ] {
        let e = parse(table).unwrap_err();
        assert!(
            e.contains(&format!("provider p: unknown field `{key}`"))
                && e.contains(says)
                && e.contains("expected one of `name`")
                && e.contains("line 2"),
            "{table}: {e}"
        );
    }
}

/// A registry provider's client is the store's: every key that states it is refused as the
/// file is read ([`ProviderSettings::client_keys`] names them).
#[test]
fn a_registry_provider_refuses_the_client_keys_at_parse() {
    let e = parse("client_id = \"c\"").unwrap_err();
    assert!(
        e.contains("provider p: unknown field `client_id`")
            && e.contains("registry provider")
            && e.contains("comes from the store"),
        "{e}"
    );
    let all = ProviderSettings {
        client_id: Some("c".into()),
        auth_method: Some("none".into()),
        client_secret: Some(Secret::new("s")),
        client_secret_env: Some("S".into()),
        client_secret_file: Some("s".into()),
        private_key: Some("k".into()),
        use_store_key: true,
        signing_alg: Some("ES256".into()),
        tls_cert: Some("c".into()),
        dpop_bound_access_tokens: true,
        tls_client_certificate_bound_access_tokens: true,
        id_token_alg: Some("x".into()),
        id_token_encrypted_response_alg: Some("x".into()),
        id_token_encrypted_response_enc: Some("x".into()),
        userinfo_encrypted_response_alg: Some("x".into()),
        userinfo_encrypted_response_enc: Some("x".into()),
        userinfo_signed_response_alg: Some("x".into()),
        request_object_signing_alg: Some("x".into()),
        require_signed_request_object: Some(true),
        request_object_encryption_alg: Some("x".into()),
        request_object_encryption_enc: Some("x".into()),
        authorization_signed_response_alg: Some("x".into()),
        authorization_encrypted_response_alg: Some("x".into()),
        authorization_encrypted_response_enc: Some("x".into()),
        ..ProviderSettings::default()
    };
    let registry = keys::keys_of::<Registry>();
    let client = all.client_keys();
    assert!(client.len() > 20, "{client:?}");
    for key in client {
        assert!(!registry.contains(&key), "{key}");
    }
}

/// The policy keys go with every kind.
#[test]
fn the_policy_keys_go_with_every_kind() {
    let policy = "display_name = \"D\"\nuserinfo = \"never\"\nresolve_claims = true\nexchange_audience = \"a\"\nallowed_emails = [\"a@x\"]\nallowed_groups = [\"g\"]\n";
    for kind in [
        "",
        "issuer = \"https://op\"\n",
        "preset = \"github\"\n",
        "preset = \"apple\"\n",
        "preset = \"google\"\n",
        "preset = \"entra\"\n",
        "preset = \"ftn\"\n",
    ] {
        let p = parse(&format!("{kind}{policy}")).unwrap();
        assert_eq!(p.display_name(), "D", "{kind}");
        assert_eq!(p.policy.userinfo, UserinfoPolicy::Never, "{kind}");
        assert_eq!(p.policy.allowed_groups, ["g"], "{kind}");
    }
    let e = parse("preset = \"gitlab\"").unwrap_err();
    assert!(e.contains("unknown variant `gitlab`"), "{e}");
}

/// The error of a table is typed: the provider and the key to blame.
#[test]
fn a_tables_error_names_the_provider_and_the_key() {
    let table: toml::Table =
        toml::from_str("name = \"p\"\npreset = \"github\"\nteam_id = \"T\"").unwrap();
    let ConfigError::Provider { name, key, reason } =
        ProviderConfig::from_table(table).unwrap_err()
    else {
        panic!("not a provider error");
    };
    assert_eq!((name.as_str(), key.as_deref()), ("p", Some("team_id")));
    assert!(reason.starts_with("unknown field `team_id`"), "{reason}");
    let table: toml::Table = toml::from_str("name = \"p\"\nmax_age = \"soon\"").unwrap();
    let e = ProviderConfig::from_table(table).unwrap_err().to_string();
    assert!(
        e.starts_with("provider p: ") && e.contains("in `max_age`"),
        "{e}"
    );
}
