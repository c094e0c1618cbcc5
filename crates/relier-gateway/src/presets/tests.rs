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
    assert_eq!(p.settings.issuer.as_deref(), Some("https://github.com"));
    assert_eq!(
        p.settings.scopes.clone().unwrap(),
        ["read:user", "user:email"]
    );
    assert_eq!(p.settings.display_name.as_deref(), Some("GitHub"));
    assert!(!p.is_registry());
    let p = expanded(
        "preset = \"github\"\ngithub_url = \"https://git.example.com/\"\nscopes = [\"user:email\"]\ndisplay_name = \"Corp\"",
    )
    .unwrap();
    assert_eq!(
        p.settings.issuer.as_deref(),
        Some("https://git.example.com")
    );
    assert_eq!(p.settings.scopes.clone().unwrap(), ["user:email"]);
    assert_eq!(p.settings.display_name.as_deref(), Some("Corp"));
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
    assert_eq!(p.settings.issuer.as_deref(), Some(GOOGLE_ISSUER));
    assert!(p.policy.require.is_empty());
    let p = expanded("preset = \"google\"\nallowed_domains = [\"example.com\"]").unwrap();
    assert_eq!(
        p.policy.require["hd"],
        ClaimMatch::AnyOf(vec!["example.com".into()])
    );
    let p = expanded(
        "preset = \"google\"\nallowed_domains = [\"example.com\"]\n[providers.require]\nhd = \"other.com\"",
    )
    .unwrap();
    assert_eq!(p.policy.require["hd"], ClaimMatch::One("other.com".into()));
}

#[test]
fn entra_issuers_and_the_multi_tenant_guard() {
    let p = expanded("preset = \"entra\"\ntenant = \"contoso-id\"").unwrap();
    assert_eq!(
        p.settings.issuer.as_deref(),
        Some("https://login.microsoftonline.com/contoso-id/v2.0")
    );
    assert_eq!(tenant_policy(&p), None);
    assert_eq!(p.settings.display_name.as_deref(), Some("Microsoft"));
    let p = expanded("preset = \"entra\"\ntenant = \"consumers\"").unwrap();
    assert_eq!(
        p.settings.issuer.as_deref(),
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
        p.settings.issuer.as_deref(),
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
    assert_eq!(
        p.settings.issuer.as_deref(),
        Some("https://appleid.apple.com")
    );
    assert_eq!(
        p.settings.scopes.clone().unwrap(),
        ["openid", "name", "email"]
    );
    assert_eq!(p.settings.response_mode.as_deref(), Some("form_post"));
    assert_eq!(
        p.settings.auth_method.as_deref(),
        Some("client_secret_post")
    );
    assert_eq!(p.settings.display_name.as_deref(), Some("Apple"));
    let p = expanded(&format!("{APPLE}\nissuer = \"http://127.0.0.1:9/\"")).unwrap();
    assert_eq!(p.settings.issuer.as_deref(), Some("http://127.0.0.1:9/"));
    // Without the name and email scopes, query is Apple's to accept.
    let p = expanded(&format!(
        "{APPLE}\nscopes = [\"openid\"]\nresponse_mode = \"query\""
    ))
    .unwrap();
    assert_eq!(p.settings.response_mode.as_deref(), Some("query"));
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
    assert_eq!(p.settings.assertion_audience.as_deref(), Some("endpoint"));
    assert_eq!(p.settings.signing_alg.as_deref(), Some("RS256"));
    let p = expanded(
        "preset = \"entra\"\ntenant = \"11111111-1111-1111-1111-111111111111\"\nclient_id = \"c\"\nclient_secret = \"s\"",
    )
    .unwrap();
    assert!(!certificate_credentials(&p));
    assert!(p.settings.assertion_audience.is_none());
}

const FTN: &str = "preset = \"ftn\"\nentity_statement = \"isb.jwt\"\nclient_id = \"saippuakauppias\"\nftn_spname = \"Soap for the people\"";

#[test]
fn ftn_sets_the_isb_contract() {
    let p = expanded(FTN).unwrap();
    assert_eq!(p.settings.auth_method.as_deref(), Some("private_key_jwt"));
    assert_eq!(p.settings.signing_alg.as_deref(), Some("RS256"));
    assert_eq!(p.settings.assertion_audience.as_deref(), Some("endpoint"));
    assert!(
        p.settings.use_store_key,
        "the store's key, published in the signed JWKS"
    );
    assert_eq!(
        p.settings.request_object_signing_alg.as_deref(),
        Some("RS256")
    );
    assert_eq!(p.settings.require_signed_request_object, Some(true));
    assert_eq!(p.settings.id_token_alg.as_deref(), Some("RS256"));
    assert_eq!(
        p.settings.id_token_encrypted_response_alg.as_deref(),
        Some("RSA-OAEP")
    );
    assert_eq!(
        p.settings.id_token_encrypted_response_enc.as_deref(),
        Some("A128CBC-HS256")
    );
    assert_eq!(
        p.settings.scopes.clone().unwrap(),
        ["openid", "profile", "personal_identity_code"]
    );
    assert_eq!(p.settings.extra_params["ftn_spname"], "Soap for the people");
    assert!(!p.settings.extra_params.contains_key("ui_locales"));
    assert_eq!(
        p.settings.userinfo_encrypted_response_alg, None,
        "ISB README §10: JSON"
    );
    assert_eq!(
        p.preset().and_then(Preset::subject_claim),
        Some("personal_identity_code")
    );
    assert_eq!(
        p.settings.display_name.as_deref(),
        Some("bank ID or Mobile ID")
    );
}

#[test]
fn ftn_ui_locales_purpose_and_explicit_encryption() {
    let p = expanded(&format!(
        "{FTN}\nui_locales = \"sv\"\npurpose = \"strong\"\nid_token_encrypted_response_alg = \"RSA-OAEP-256\"\nembedded_ui = true"
    ))
    .unwrap();
    assert_eq!(p.settings.extra_params["ui_locales"], "sv");
    assert_eq!(
        p.settings.scopes.clone().unwrap(),
        ["openid", "profile", "personal_identity_code", "strong"]
    );
    assert_eq!(
        p.settings.id_token_encrypted_response_alg.as_deref(),
        Some("RSA-OAEP-256")
    );
    assert!(p.settings.embedded_ui);
    let p = expanded(&format!("{FTN}\npurpose = \"weak\"")).unwrap();
    assert_eq!(
        p.settings
            .scopes
            .clone()
            .unwrap()
            .last()
            .map(String::as_str),
        Some("weak")
    );
    for bad in ["ui_locales = \"de\"", "purpose = \"medium\""] {
        let e = expanded(&format!("{FTN}\n{bad}")).unwrap_err();
        assert!(e.contains("unknown variant"), "{bad}: {e}");
    }
}

#[test]
fn ftn_without_spname_or_client_id_is_refused_clearly() {
    let e = expanded("preset = \"ftn\"\nissuer = \"https://isb.example\"\nclient_id = \"c\"")
        .unwrap_err();
    assert!(
        e.contains("provider p") && e.contains("needs ftn_spname"),
        "{e}"
    );
    let e = expanded(&FTN.replace("ftn_spname = \"Soap for the people\"", "ftn_spname = \" \""))
        .unwrap_err();
    assert!(e.contains("needs ftn_spname"), "{e}");
    let e = expanded("preset = \"ftn\"\nissuer = \"https://isb.example\"\nftn_spname = \"S\"")
        .unwrap_err();
    assert!(e.contains("needs client_id"), "{e}");
    let e = expanded(&FTN.replace(
        "entity_statement = \"isb.jwt\"",
        "issuer = \"https://isb.example\"",
    ))
    .unwrap_err();
    assert!(e.contains("needs entity_statement"), "{e}");
}

#[test]
fn ftn_refuses_what_the_broker_does_not_take() {
    // Keys an FTN provider has none of: refused as the file is read, with the line.
    for key in [
        "client_secret = \"s\"",
        "par = true",
        "response_mode = \"form_post\"",
        "scopes = [\"openid\"]",
        "dpop_bound_access_tokens = true",
        "tls_cert = \"c.pem\"",
    ] {
        let e = expanded(&format!("{FTN}\n{key}")).unwrap_err();
        let name = key.split(' ').next().unwrap();
        assert!(
            e.contains(&format!("provider p: unknown field `{name}`"))
                && e.contains("Finnish Trust Network")
                && e.contains("line 2"),
            "{key}: {e}"
        );
    }
    for (bad, key) in [
        (
            "[providers.extra_params]\nftn_spname = \"x\"",
            "extra_params.ftn_spname",
        ),
        (
            "[providers.extra_params]\nftn_idp_id = \"fi-op\"",
            "extra_params.ftn_idp_id",
        ),
    ] {
        let e = expanded(&format!("{FTN}\n{bad}")).unwrap_err();
        assert!(e.contains(&format!("{key} does not apply")), "{bad}: {e}");
    }
    for (bad, key) in [
        ("auth_method = \"client_secret_basic\"", "auth_method"),
        ("signing_alg = \"PS256\"", "signing_alg"),
        ("assertion_audience = \"issuer\"", "assertion_audience"),
        (
            "request_object_signing_alg = \"ES256\"",
            "request_object_signing_alg",
        ),
        ("id_token_alg = \"ES256\"", "id_token_alg"),
        ("request_object = \"by_reference\"", "request_object"),
        (
            "require_signed_request_object = false",
            "require_signed_request_object",
        ),
    ] {
        let e = expanded(&format!("{FTN}\n{bad}")).unwrap_err();
        assert!(e.contains(&format!("{key} must be")), "{bad}: {e}");
    }
    // Explicit values equal to the contract are fine.
    assert!(
        expanded(&format!(
            "{FTN}\nauth_method = \"private_key_jwt\"\nsigning_alg = \"RS256\""
        ))
        .is_ok()
    );
}

#[test]
fn ftn_keys_go_with_the_ftn_preset_only() {
    for key in [
        "ftn_spname = \"S\"",
        "ui_locales = \"fi\"",
        "purpose = \"strong\"",
        "embedded_ui = true",
    ] {
        let e = expanded(&format!(
            "issuer = \"https://op\"\nclient_id = \"c\"\nclient_secret = \"s\"\n{key}"
        ))
        .unwrap_err();
        assert!(e.contains("goes with preset = \"ftn\""), "{key}: {e}");
    }
}

#[test]
fn ftn_publishes_new_keys_a_day_before_use() {
    let c = Config::from_toml(&format!(
        "public_url = \"https://x\"\n[[providers]]\nname = \"p\"\n{FTN}"
    ))
    .unwrap();
    assert_eq!(c.key_propagation(), std::time::Duration::from_secs(86_400));
    let c = Config::from_toml(&format!(
        "public_url = \"https://x\"\n[keys]\npropagation = \"2d\"\n[[providers]]\nname = \"p\"\n{FTN}"
    ))
    .unwrap();
    assert_eq!(
        c.key_propagation(),
        std::time::Duration::from_secs(2 * 86_400)
    );
}
