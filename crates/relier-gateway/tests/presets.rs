//! Presets end to end through the gateway against loopback stand-ins (`relier_tests::standins`):
//! GitHub (OAuth 2.0, identity from the API), Sign in with Apple (a client secret relier mints,
//! form_post, the name only once), multi-tenant Entra ID and Google (`hd`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{OneShot, browser, form, loc, location, text};
use relier_gateway::{Config, Gateway};
use relier_tests::oidc_provider::{Callback, browse};
use relier_tests::standins::apple::{self, Apple};
use relier_tests::standins::entra::{self, Entra};
use relier_tests::standins::github::{self, GitHub};
use relier_tests::standins::google::{self, Google};
use serde_json::{Value, json};

const PUBLIC: &str = "http://127.0.0.1:8088";

async fn gateway(dir: &tempfile::TempDir, providers: &str) -> Result<Gateway, String> {
    let toml = format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n[headers]\n\"X-Forwarded-User\" = \"preferred_username\"\n{providers}",
        dir.path().join("g.db").display()
    );
    Gateway::build(Config::from_toml(&toml).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())
}

/// The gateway for `providers` in `dir`, and a browser for it.
async fn started(dir: &tempfile::TempDir, providers: &str) -> (Gateway, OneShot) {
    let gw = gateway(dir, providers).await.unwrap();
    let app = OneShot::new(gw.router());
    (gw, app)
}

/// Login at `provider`: the gateway's redirect, the stand-in's answer, the callback.
async fn login(app: &mut OneShot, provider: &str) -> axum::http::Response<axum::body::Body> {
    let q = form(&[("return_to", "/app")]);
    let r = app.get(&format!("/auth/login/{provider}?{q}")).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let r = browser().get(loc(&r)).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let cb = url::Url::parse(&location(r.headers())).unwrap();
    assert!(
        cb.as_str()
            .starts_with(&format!("{PUBLIC}/auth/callback/{provider}?"))
    );
    app.get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
        .await
}

/// Login at `provider` answering with `response_mode=form_post`: the stand-in's page posts its
/// form to the gateway's callback.
async fn login_form_post(
    app: &mut OneShot,
    provider: &str,
) -> (
    axum::http::Response<axum::body::Body>,
    Vec<(String, String)>,
) {
    let q = form(&[("return_to", "/app")]);
    let r = app.get(&format!("/auth/login/{provider}?{q}")).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let path = format!("/auth/callback/{provider}");
    let Callback::FormPost { action, fields } =
        browse(&loc(&r), &format!("{PUBLIC}{path}")).await.unwrap()
    else {
        panic!("not a form_post answer");
    };
    assert_eq!(action.path(), path);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(&pairs)))
        .unwrap();
    (app.send(req).await, fields)
}

async fn session(app: &mut OneShot) -> Value {
    let r = app.get("/auth/session").await;
    assert_eq!(r.status(), StatusCode::OK);
    serde_json::from_str(&text(r).await).unwrap()
}

fn github_provider(gh: &GitHub, extra: &str) -> String {
    format!(
        "[[providers]]\nname = \"gh\"\npreset = \"github\"\ngithub_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n{extra}",
        gh.url(),
        github::CLIENT_ID,
        github::CLIENT_SECRET
    )
}

#[tokio::test]
async fn github_login_keys_on_the_numeric_id_with_the_primary_verified_email() {
    let gh = GitHub::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mut app) = started(&dir, &github_provider(&gh, "")).await;
    let page = text(app.get("/auth/login").await).await;
    assert!(page.contains("GitHub"), "{page}");
    let r = login(&mut app, "gh").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(loc(&r), "/app");
    let s = session(&mut app).await;
    assert_eq!(s["iss"], gh.url());
    assert_eq!(s["sub"], "583231");
    assert_eq!(s["claims"]["preferred_username"], "octocat");
    assert_eq!(s["email"], "octocat@example.com");
    assert_eq!(s["email_verified"], true);
    assert_eq!(s["name"], "The Octocat");
    assert!(gh.complaints().is_empty(), "{:?}", gh.complaints());
    // A login renamed (and the old name taken by someone else) is still the same subject;
    // an account without a verified primary address has no e-mail.
    gh.set(github::Knobs {
        user: json!({"id": 583231, "login": "renamed"}),
        emails: json!([{"email": "x@example.com", "primary": true, "verified": false}]),
        token_error: None,
    });
    let r = login(&mut app, "gh").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let s = session(&mut app).await;
    assert_eq!(s["sub"], "583231");
    assert_eq!(s["claims"]["preferred_username"], "renamed");
    assert_eq!(s["email"], Value::Null);
    assert_eq!(s["email_verified"], false);
}

#[tokio::test]
async fn github_errors_sent_with_http_200_fail_the_login() {
    let gh = GitHub::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mut app) = started(&dir, &github_provider(&gh, "")).await;
    gh.set(github::Knobs {
        token_error: Some("bad_verification_code".into()),
        ..Default::default()
    });
    let r = login(&mut app, "gh").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", text(r).await);
    assert_eq!(
        app.get("/auth/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn github_allow_lists_see_the_verified_email() {
    let gh = GitHub::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mut app) = started(
        &dir,
        &github_provider(&gh, "allowed_domains = [\"elsewhere.example\"]"),
    )
    .await;
    let r = login(&mut app, "gh").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

fn entra_provider(e: &Entra, tenant_keys: &str) -> String {
    format!(
        "[[providers]]\nname = \"ms\"\npreset = \"entra\"\ntenant = \"common\"\nauthority = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n{tenant_keys}",
        e.authority(),
        entra::CLIENT_ID,
        entra::CLIENT_SECRET
    )
}

/// A gateway with a multi-tenant Entra provider allowing [`entra::GOOD_TENANT`], signed in.
async fn entra_logged_in(e: &Entra, dir: &tempfile::TempDir) -> (Gateway, OneShot) {
    let (gw, mut app) = started(
        dir,
        &entra_provider(
            e,
            &format!("allowed_tenants = [\"{}\"]", entra::GOOD_TENANT),
        ),
    )
    .await;
    let r = login(&mut app, "ms").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    (gw, app)
}

#[tokio::test]
async fn entra_multi_tenant_checks_the_issuer_of_the_tokens_own_tenant() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, mut app) = entra_logged_in(&e, &dir).await;
    let s = session(&mut app).await;
    assert_eq!(
        s["iss"],
        format!("{}/{}/v2.0", e.authority(), entra::GOOD_TENANT)
    );
    assert_eq!(s["claims"]["tid"], entra::GOOD_TENANT);
    // A tenant outside allowed_tenants is refused.
    let mut other = OneShot::new(gw.router());
    e.set(entra::Knobs {
        tid: entra::OTHER_TENANT.into(),
        ..Default::default()
    });
    let r = login(&mut other, "ms").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        other.get("/auth/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // An allowed tid with another tenant's issuer is refused.
    e.set(entra::Knobs {
        iss: Some(format!("{}/{}/v2.0", e.authority(), entra::OTHER_TENANT)),
        ..Default::default()
    });
    let r = login(&mut other, "ms").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        other.get("/auth/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn entra_multi_tenant_without_a_tenant_choice_does_not_start() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = gateway(&dir, &entra_provider(&e, "")).await.unwrap_err();
    assert!(
        err.contains("allowed_tenants") && err.contains("allow_any_tenant"),
        "{err}"
    );
    let (_gw, mut app) = started(&dir, &entra_provider(&e, "allow_any_tenant = true")).await;
    e.set(entra::Knobs {
        tid: entra::OTHER_TENANT.into(),
        ..Default::default()
    });
    let r = login(&mut app, "ms").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
}

/// Entra ID's groups overage: a user in more groups than a token holds gets
/// `_claim_names.groups` pointing at Microsoft Graph; with `allowed_groups` the gateway resolves
/// it (`getMemberObjects` with the user's access token, every page), so the rule sees every group.
#[tokio::test]
async fn entra_groups_overage_resolves_through_graph() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, mut app) = started(
        &dir,
        &entra_provider(&e, "allow_any_tenant = true\nallowed_groups = [\"staff\"]"),
    )
    .await;
    let r = login(&mut app, "ms").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert!(e.graph_calls().is_empty(), "no overage, no Graph call");
    // 250 groups, "staff" on the second page.
    let mut many: Vec<String> = (0..250).map(|i| format!("group-{i}")).collect();
    many.push("staff".into());
    e.set(entra::Knobs {
        overage: true,
        groups: many.clone(),
        ..Default::default()
    });
    let mut member = OneShot::new(gw.router());
    let r = login(&mut member, "ms").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert!(e.complaints().is_empty(), "{:?}", e.complaints());
    let calls = e.graph_calls();
    assert_eq!(
        calls,
        [
            (
                "POST".to_owned(),
                format!("/v1.0/users/{}/getMemberObjects", entra::OID)
            ),
            ("GET".to_owned(), format!("/v1.0/skiptoken/{}", entra::OID)),
        ]
    );
    let s = session(&mut member).await;
    assert_eq!(s["claims"]["groups"].as_array().unwrap().len(), 251);
    assert!(s["claims"].get("_claim_names").is_none(), "{s}");
    assert!(s["claims"].get("_claim_sources").is_none(), "{s}");
    // The same overage without "staff" among the groups: refused.
    many.pop();
    e.set(entra::Knobs {
        overage: true,
        groups: many,
        ..Default::default()
    });
    let mut outsider = OneShot::new(gw.router());
    let r = login(&mut outsider, "ms").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// `resolve_claims = false` turns the overage resolution off: the overage is reported as such
/// and `allowed_groups` refuses.
#[tokio::test]
async fn entra_groups_overage_is_reported_as_such_without_resolution() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, _app) = started(
        &dir,
        &entra_provider(
            &e,
            "allow_any_tenant = true\nallowed_groups = [\"staff\"]\nresolve_claims = false",
        ),
    )
    .await;
    e.set(entra::Knobs {
        overage: true,
        ..Default::default()
    });
    let mut other = OneShot::new(gw.router());
    let r = login(&mut other, "ms").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(e.graph_calls().is_empty());
}

/// A `preset = "apple"` provider at the stand-in, its `.p8` key written to `dir`.
fn apple_provider(a: &Apple, dir: &tempfile::TempDir, extra: &str) -> String {
    let p8 = dir.path().join(format!("AuthKey_{}.p8", apple::KEY_ID));
    std::fs::write(&p8, a.p8()).unwrap();
    format!(
        "[[providers]]\nname = \"apple\"\npreset = \"apple\"\nissuer = \"{}\"\nclient_id = \"{}\"\nteam_id = \"{}\"\nkey_id = \"{}\"\nprivate_key_file = \"{}\"\n{extra}",
        a.issuer(),
        apple::CLIENT_ID,
        apple::TEAM_ID,
        apple::KEY_ID,
        p8.display()
    )
}

#[tokio::test]
async fn apple_login_with_a_minted_client_secret_keeps_the_first_authorizations_name() {
    let a = Apple::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, mut app) = started(&dir, &apple_provider(&a, &dir, "")).await;
    let page = text(app.get("/auth/login").await).await;
    assert!(page.contains("Apple"), "{page}");
    let (r, fields) = login_form_post(&mut app, "apple").await;
    assert!(fields.iter().any(|(k, _)| k == "user"), "{fields:?}");
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(loc(&r), "/app");
    assert!(a.complaints().is_empty(), "{:?}", a.complaints());
    let s = session(&mut app).await;
    assert_eq!(s["iss"], a.issuer());
    assert_eq!(s["sub"], apple::SUB);
    assert_eq!(s["name"], "Ada Lovelace");
    assert_eq!(s["claims"]["given_name"], apple::FIRST_NAME);
    assert_eq!(s["email"], "ada@privaterelay.appleid.com");
    assert_eq!(s["email_verified"], true);
    assert_eq!(s["claims"]["is_private_email"], "true");
    let r = app.get("/auth/check").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-relier-name"], "Ada Lovelace");
    assert_eq!(
        r.headers()["x-relier-email"],
        "ada@privaterelay.appleid.com"
    );
    // Apple sends the name on the first authorization only: a later login has none.
    let mut later = OneShot::new(gw.router());
    let (r, fields) = login_form_post(&mut later, "apple").await;
    assert!(!fields.iter().any(|(k, _)| k == "user"), "{fields:?}");
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    let s = session(&mut later).await;
    assert_eq!(s["sub"], apple::SUB);
    assert_eq!(s["name"], Value::Null);
    assert!(a.complaints().is_empty(), "{:?}", a.complaints());
}

#[tokio::test]
async fn apple_email_verified_false_counts_for_no_allowed_domain() {
    let a = Apple::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, mut app) = started(
        &dir,
        &apple_provider(&a, &dir, "allowed_domains = [\"example.com\"]"),
    )
    .await;
    a.set(apple::Knobs {
        email: "ada@example.com".into(),
        email_verified: "false".into(),
        is_private_email: "false".into(),
    });
    let (r, _) = login_form_post(&mut app, "apple").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    a.set(apple::Knobs {
        email: "ada@example.com".into(),
        ..Default::default()
    });
    let mut other = OneShot::new(gw.router());
    let (r, _) = login_form_post(&mut other, "apple").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    let s = session(&mut other).await;
    assert_eq!(s["email_verified"], true);
}

#[tokio::test]
async fn apple_with_a_key_of_the_wrong_type_does_not_start() {
    let a = Apple::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let providers = apple_provider(&a, &dir, "");
    let rsa = relier_jose::SigningKey::generate(relier_jose::Algorithm::RS256, None).unwrap();
    let p8 = dir.path().join(format!("AuthKey_{}.p8", apple::KEY_ID));
    std::fs::write(&p8, rsa.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let err = gateway(&dir, &providers).await.unwrap_err();
    assert!(err.contains("private_key_file"), "{err}");
}

#[tokio::test]
async fn apple_refuses_a_client_secret_signed_for_another_team() {
    let a = Apple::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let providers = apple_provider(&a, &dir, "").replace(apple::TEAM_ID, "OTHER12345");
    let (_gw, mut app) = started(&dir, &providers).await;
    let (r, _) = login_form_post(&mut app, "apple").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(a.complaints(), ["client secret: iss is not the team id"]);
}

#[tokio::test]
async fn the_chooser_shows_branded_buttons_under_the_unchanged_csp() {
    let gh = GitHub::start().await.unwrap();
    let a = Apple::start().await.unwrap();
    let e = Entra::start().await.unwrap();
    let g = Google::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let providers = format!(
        "{}\n{}\n{}\n{}\n{}",
        github_provider(&gh, ""),
        apple_provider(&a, &dir, ""),
        entra_provider(&e, "allow_any_tenant = true"),
        google_provider(&g, ""),
        // An operator's own button text wins over the brand.
        entra_provider(&e, "allow_any_tenant = true").replace(
            "name = \"ms\"",
            "name = \"corp\"\ndisplay_name = \"Contoso staff\""
        ),
    );
    let (_gw, mut app) = started(&dir, &providers).await;
    let r = app.get("/auth/login").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CONTENT_SECURITY_POLICY],
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"
    );
    let html = text(r).await;
    for (class, label) in [
        ("relier-brand-github", "Sign in with GitHub"),
        ("relier-brand-apple", "Sign in with Apple"),
        ("relier-brand-microsoft", "Sign in with Microsoft"),
        ("relier-brand-google", "Sign in with Google"),
    ] {
        assert!(html.contains(class), "{html}");
        assert!(html.contains(&format!("<span>{label}</span>")), "{html}");
    }
    assert!(html.contains(">Continue with Contoso staff</a>"), "{html}");
    assert_eq!(html.matches("<svg ").count(), 4);
    for banned in ["style=", "<style", "<script"] {
        assert!(!html.contains(banned), "{banned}: {html}");
    }
    let css = text(app.get("/auth/assets/relier.css").await).await;
    assert!(css.contains("a.relier-brand-apple"), "{css}");
}

#[tokio::test]
async fn entra_certificate_credentials_name_the_store_keys_certificate() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let provider = format!(
        "[[providers]]\nname = \"ms\"\npreset = \"entra\"\ntenant = \"common\"\nallow_any_tenant = true\nauthority = \"{}\"\nclient_id = \"{}\"\nuse_store_key = true\n",
        e.authority(),
        entra::CLIENT_ID
    );
    let (_gw, mut app) = started(&dir, &provider).await;
    // Before the certificate is uploaded, Entra ID refuses the assertion.
    let r = login(&mut app, "ms").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", text(r).await);
    assert_eq!(e.complaints().len(), 1, "{:?}", e.complaints());
    // What `relier keys cert` prints for the store's key, uploaded.
    let (store, _) = relier_store::open(
        &relier_store::StoreUrl::sqlite(dir.path().join("g.db")),
        relier_store::MasterKeySource::BesideDatabase,
    )
    .await
    .unwrap();
    let key = store
        .signing_key(relier_jose::Algorithm::RS256)
        .await
        .unwrap()
        .unwrap();
    let cert = relier::certificate::key_certificate(&key).unwrap();
    e.upload_certificate(&cert.x5t_s256, key.verifying_key().unwrap());
    let r = login(&mut app, "ms").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(e.complaints().len(), 1, "{:?}", e.complaints());
}

#[tokio::test]
async fn entra_multi_tenant_back_channel_logout_checks_the_tokens_tenant() {
    let e = Entra::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mut app) = entra_logged_in(&e, &dir).await;
    let post = |token: String| {
        Request::post("/auth/backchannel-logout/ms")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(&[("logout_token", &token)])))
            .unwrap()
    };
    // A tenant outside allowed_tenants cannot end the session.
    let r = app
        .send(post(e.logout_token(entra::OTHER_TENANT, "j1")))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/auth/session").await.status(), StatusCode::OK);
    // The user's own tenant's issuer, its tid put in the template, ends it.
    let r = app
        .send(post(e.logout_token(entra::GOOD_TENANT, "j2")))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/auth/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

fn google_provider(g: &Google, extra: &str) -> String {
    format!(
        "[[providers]]\nname = \"google\"\npreset = \"google\"\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n{extra}",
        g.issuer(),
        google::CLIENT_ID,
        google::CLIENT_SECRET
    )
}

#[tokio::test]
async fn google_allowed_domains_need_the_workspace_hd() {
    let g = Google::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let provider = google_provider(&g, "allowed_domains = [\"example.com\"]");
    let (gw, mut app) = started(&dir, &provider).await;
    let r = login(&mut app, "google").await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", text(r).await);
    assert_eq!(session(&mut app).await["claims"]["hd"], "example.com");
    // A verified address of the domain is not enough: a consumer account has no hd.
    for hd in [None, Some("other.example".to_owned())] {
        g.set(google::Knobs {
            hd,
            ..Default::default()
        });
        let mut other = OneShot::new(gw.router());
        let r = login(&mut other, "google").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}
