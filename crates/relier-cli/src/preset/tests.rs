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
        e.config.private_key_file.as_deref(),
        Some(std::path::Path::new("AuthKey.p8"))
    );
    assert!(e.config.private_key.is_none());
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
