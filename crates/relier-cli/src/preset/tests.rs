#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use clap::Parser as _;

use super::*;
use crate::args::{Cli, Command};

fn expanded(args: &[&str]) -> anyhow::Result<Option<Expanded>> {
    let cli = Cli::try_parse_from([&["relier", "login"], args].concat()).unwrap();
    let Command::Login(l) = cli.command else {
        panic!("not login")
    };
    expand(
        &l.client,
        l.scope.as_deref(),
        l.response_mode.map(|m| m.as_str()),
    )
}

#[test]
fn the_flags_expand_with_the_gateways_rules() {
    let e = expanded(&["--preset", "google", "--client-id", "c"])
        .unwrap()
        .unwrap();
    assert_eq!(e.issuer().unwrap().as_str(), "https://accounts.google.com");
    let e = expanded(&[
        "--preset",
        "github",
        "--github-url",
        "https://git.example.com",
        "--client-id",
        "c",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(e.issuer().unwrap().as_str(), "https://git.example.com");
    assert_eq!(e.scopes().as_deref(), Some("read:user user:email"));
    let e = expanded(&[
        "--preset",
        "apple",
        "--client-id",
        "com.example.web",
        "--team-id",
        "TEAM123456",
        "--key-id",
        "KEY1234567",
        "--private-key",
        "AuthKey.p8",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(e.response_mode(), Some("form_post"));
    assert_eq!(
        e.settings.private_key_file.as_deref(),
        Some(std::path::Path::new("AuthKey.p8"))
    );
    assert!(e.settings.private_key.is_none());
    assert!(
        expanded(&["--issuer", "https://op.example.com", "--client-id", "c"])
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_gateways_refusals_apply() {
    let e = expanded(&[
        "--preset",
        "entra",
        "--tenant",
        "common",
        "--client-id",
        "c",
    ])
    .unwrap_err();
    assert!(format!("{e:#}").contains("allow_any_tenant"), "{e:#}");
    let e = expanded(&[
        "--preset",
        "github",
        "--client-id",
        "c",
        "--issuer",
        "https://github.com",
    ])
    .unwrap_err();
    assert!(format!("{e:#}").contains("github_url"), "{e:#}");
    // Preset flags need --preset.
    assert!(
        Cli::try_parse_from(["relier", "login", "--tenant", "common", "--client-id", "c"]).is_err()
    );
}

/// `[[providers]]` keys as `relier serve` reads them, preset applied.
fn from_table(table: &str) -> relier::provider::ProviderSettings {
    let c = relier_gateway::Config::from_toml(&format!(
        "public_url = \"https://rp.example\"\n[[providers]]\nname = \"p\"\n{table}"
    ))
    .unwrap();
    let c = relier_gateway::presets::expand(c).unwrap();
    c.providers[0].settings.clone()
}

/// One assembly: the same provider given as a `[[providers]]` table and as `--preset` flags
/// is the same spec — client authentication, registration, tenants, certificate credential,
/// profile, PAR — so `relier login --preset` and `relier serve` build the same relying party.
#[test]
fn a_table_and_the_flags_give_the_same_spec() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "preset = \"entra\"\ntenant = \"organizations\"\nallowed_tenants = [\"t1\"]\n\
             client_id = \"c\"\nprivate_key = \"k.pem\"",
            &[
                "--preset",
                "entra",
                "--tenant",
                "organizations",
                "--allowed-tenant",
                "t1",
                "--client-id",
                "c",
                "--private-key",
                "k.pem",
            ],
        ),
        (
            "preset = \"google\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n\
             auth_method = \"client_secret_post\"",
            &[
                "--preset",
                "google",
                "--client-id",
                "c",
                "--client-secret-env",
                "S",
                "--auth-method",
                "client_secret_post",
            ],
        ),
        (
            "preset = \"apple\"\nclient_id = \"com.example.web\"\nteam_id = \"TEAM123456\"\n\
             key_id = \"KEY1234567\"\nprivate_key_file = \"AuthKey.p8\"",
            &[
                "--preset",
                "apple",
                "--client-id",
                "com.example.web",
                "--team-id",
                "TEAM123456",
                "--key-id",
                "KEY1234567",
                "--private-key",
                "AuthKey.p8",
            ],
        ),
    ];
    for (table, flags) in cases {
        let table = from_table(table);
        let flags = expanded(flags).unwrap().unwrap();
        let id = relier_core::ClientId::new("c").unwrap();
        let method = table.auth_method.as_deref().map(|m| m.parse().unwrap());
        let from_table = table.spec(id.clone(), method, None).unwrap();
        let from_flags = flags.spec(id).unwrap();
        assert_eq!(
            from_table.client.method, from_flags.client.method,
            "{table:?}"
        );
        assert_eq!(from_table.client.signing_alg, from_flags.client.signing_alg);
        assert_eq!(from_table.client.audience, from_flags.client.audience);
        assert_eq!(from_table.registration, from_flags.registration);
        assert_eq!(from_table.tenants, from_flags.tenants);
        assert_eq!(
            from_table.certificate_credential,
            from_flags.certificate_credential
        );
        assert_eq!(from_table.profile, from_flags.profile);
        assert_eq!(from_table.par, from_flags.par);
        assert_eq!(table.issuer, flags.settings.issuer);
        assert_eq!(table.scopes, flags.settings.scopes);
        assert_eq!(table.response_mode, flags.settings.response_mode);
    }
    // The Entra ID certificate credential: RS256 assertions to the token endpoint, both ways.
    let entra = from_table(
        "preset = \"entra\"\ntenant = \"organizations\"\nallowed_tenants = [\"t1\"]\n\
         client_id = \"c\"\nprivate_key = \"k.pem\"",
    );
    let spec = entra
        .spec(relier_core::ClientId::new("c").unwrap(), None, None)
        .unwrap();
    assert!(spec.certificate_credential);
    assert_eq!(spec.client.signing_alg, Some(relier_jose::Algorithm::RS256));
    assert_eq!(
        spec.client.audience,
        relier_core::client_auth::AssertionAudience::Endpoint
    );
}
