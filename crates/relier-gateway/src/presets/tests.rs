use super::*;

fn expanded(provider: &str) -> Result<ProviderConfig, String> {
    let c = Config::from_toml(&format!(
        "public_url = \"https://x\"\n[[providers]]\nname = \"p\"\n{provider}"
    ))
    .map_err(|e| e.to_string())?;
    expand(c)
        .map(|c| c.providers.into_iter().next().unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn github_fills_issuer_scopes_and_name_and_explicit_keys_win() {
    let p = expanded("preset = \"github\"\nclient_id = \"c\"").unwrap();
    assert_eq!(p.issuer.as_deref(), Some("https://github.com"));
    assert_eq!(p.scopes.clone().unwrap(), ["read:user", "user:email"]);
    assert_eq!(p.display_name.as_deref(), Some("GitHub"));
    assert!(!p.is_registry());
    let p = expanded(
        "preset = \"github\"\ngithub_url = \"https://git.example.com/\"\nscopes = [\"user:email\"]\ndisplay_name = \"Corp\"",
    )
    .unwrap();
    assert_eq!(p.issuer.as_deref(), Some("https://git.example.com"));
    assert_eq!(p.scopes.clone().unwrap(), ["user:email"]);
    assert_eq!(p.display_name.as_deref(), Some("Corp"));
    for bad in [
        "issuer = \"https://github.com\"",
        "use_store_key = true",
        "max_age = \"1h\"",
        "auth_method = \"client_secret_basic\"",
    ] {
        let e = expanded(&format!("preset = \"github\"\n{bad}")).unwrap_err();
        assert!(e.contains("provider p"), "{e}");
    }
    let e = expanded("github_url = \"https://github.com\"\nissuer = \"https://op\"").unwrap_err();
    assert!(
        e.contains("github_url goes with preset = \"github\""),
        "{e}"
    );
    assert!(expanded("preset = \"gitlab\"").is_err());
}

#[test]
fn google_requires_hd_when_domains_are_allowed() {
    let p = expanded("preset = \"google\"").unwrap();
    assert_eq!(p.issuer.as_deref(), Some(GOOGLE_ISSUER));
    assert!(p.require.is_empty());
    let p = expanded("preset = \"google\"\nallowed_domains = [\"example.com\"]").unwrap();
    assert_eq!(
        p.require["hd"],
        ClaimMatch::AnyOf(vec!["example.com".into()])
    );
    let p = expanded(
        "preset = \"google\"\nallowed_domains = [\"example.com\"]\n[providers.require]\nhd = \"other.com\"",
    )
    .unwrap();
    assert_eq!(p.require["hd"], ClaimMatch::One("other.com".into()));
}

#[test]
fn entra_issuers_and_the_multi_tenant_guard() {
    let p = expanded("preset = \"entra\"\ntenant = \"contoso-id\"").unwrap();
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://login.microsoftonline.com/contoso-id/v2.0")
    );
    assert_eq!(tenant_policy(&p), None);
    assert_eq!(p.display_name.as_deref(), Some("Microsoft"));
    let p = expanded("preset = \"entra\"\ntenant = \"consumers\"").unwrap();
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
    );
    let e = expanded("preset = \"entra\"\ntenant = \"common\"").unwrap_err();
    assert!(
        e.contains("allowed_tenants") && e.contains("allow_any_tenant"),
        "{e}"
    );
    let p = expanded(
        "preset = \"entra\"\ntenant = \"organizations\"\nauthority = \"https://login.microsoftonline.us/\"\nallowed_tenants = [\"t1\"]",
    )
    .unwrap();
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://login.microsoftonline.us/organizations/v2.0")
    );
    assert_eq!(
        tenant_policy(&p),
        Some(TenantPolicy::Allowed(vec!["t1".into()]))
    );
    let p = expanded("preset = \"entra\"\ntenant = \"common\"\nallow_any_tenant = true").unwrap();
    assert_eq!(tenant_policy(&p), Some(TenantPolicy::Any));
    assert!(expanded("preset = \"entra\"").is_err());
    assert!(expanded("preset = \"entra\"\ntenant = \"t\"\nallowed_tenants = [\"t\"]").is_err());
    assert!(expanded("preset = \"entra\"\ntenant = \"../x\"").is_err());
    assert!(expanded("preset = \"google\"\ntenant = \"common\"").is_err());
}

const APPLE: &str = "preset = \"apple\"\nclient_id = \"com.example.web\"\nteam_id = \"TEAM123456\"\nkey_id = \"KEY1234567\"\nprivate_key_file = \"AuthKey_KEY1234567.p8\"";

#[test]
fn apple_fills_issuer_scopes_form_post_and_client_secret_post() {
    let p = expanded(APPLE).unwrap();
    assert_eq!(p.issuer.as_deref(), Some("https://appleid.apple.com"));
    assert_eq!(p.scopes.clone().unwrap(), ["openid", "name", "email"]);
    assert_eq!(p.response_mode.as_deref(), Some("form_post"));
    assert_eq!(p.auth_method.as_deref(), Some("client_secret_post"));
    assert_eq!(p.display_name.as_deref(), Some("Apple"));
    let p = expanded(&format!("{APPLE}\nissuer = \"http://127.0.0.1:9/\"")).unwrap();
    assert_eq!(p.issuer.as_deref(), Some("http://127.0.0.1:9/"));
    // Without the name and email scopes, query is Apple's to accept.
    let p = expanded(&format!(
        "{APPLE}\nscopes = [\"openid\"]\nresponse_mode = \"query\""
    ))
    .unwrap();
    assert_eq!(p.response_mode.as_deref(), Some("query"));
}

#[test]
fn apple_refuses_a_configured_secret_a_missing_key_and_a_query_response() {
    let e = expanded(&format!("{APPLE}\nresponse_mode = \"query\"")).unwrap_err();
    assert!(e.contains("form_post"), "{e}");
    for bad in [
        "client_secret = \"s\"",
        "client_secret_env = \"S\"",
        "use_store_key = true",
        "auth_method = \"client_secret_basic\"",
    ] {
        let e = expanded(&format!("{APPLE}\n{bad}")).unwrap_err();
        assert!(e.contains("provider p"), "{e}");
    }
    for key in ["team_id", "key_id", "private_key_file", "client_id"] {
        let without: String = APPLE
            .lines()
            .filter(|l| !l.starts_with(key))
            .collect::<Vec<_>>()
            .join("\n");
        let e = expanded(&without).unwrap_err();
        assert!(e.contains(&format!("needs {key}")), "{e}");
    }
    let e = expanded("issuer = \"https://op\"\nclient_id = \"c\"\nteam_id = \"TEAM123456\"")
        .unwrap_err();
    assert!(e.contains("team_id goes with preset = \"apple\""), "{e}");
}

#[test]
fn entra_with_a_key_uses_certificate_credentials() {
    let p = expanded(
        "preset = \"entra\"\ntenant = \"11111111-1111-1111-1111-111111111111\"\nclient_id = \"c\"\nuse_store_key = true",
    )
    .unwrap();
    assert!(certificate_credentials(&p));
    assert_eq!(p.assertion_audience.as_deref(), Some("endpoint"));
    assert_eq!(p.signing_alg.as_deref(), Some("RS256"));
    let p = expanded(
        "preset = \"entra\"\ntenant = \"11111111-1111-1111-1111-111111111111\"\nclient_id = \"c\"\nclient_secret = \"s\"",
    )
    .unwrap();
    assert!(!certificate_credentials(&p));
    assert!(p.assertion_audience.is_none());
}
