//! Provider assembly against a test OP (`relier_tests::bad_op`, whose discovery lists no
//! `token_endpoint_auth_signing_alg_values_supported`: every algorithm is accepted).

use relier_core::AuthMethod;
use relier_store::{MasterKeySource, ProviderRecord, StoreUrl, UnixTime};
use relier_tests::bad_op::{BadOp, CLIENT_ID};

use super::*;
use crate::clock;
use spec::registry_spec;

const PUBLIC: &str = "http://127.0.0.1:8088";

struct Fixture {
    op: BadOp,
    store: Box<dyn Store>,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let op = BadOp::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::parse(&format!("sqlite://{}", dir.path().join("g.db").display())).unwrap();
    let (store, _) = relier_store::open(&url, MasterKeySource::BesideDatabase)
        .await
        .unwrap();
    Fixture { op, store, dir }
}

fn config(f: &Fixture, body: &str) -> Config {
    let toml = format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n{body}",
        f.dir.path().join("g.db").display()
    );
    Config::from_toml(&toml.replace("ISSUER", f.op.issuer())).unwrap()
}

/// The error of a configuration refused as it is read.
fn parse_error(f: &Fixture, body: &str) -> String {
    let toml = format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n{body}",
        f.dir.path().join("g.db").display()
    );
    Config::from_toml(&toml).unwrap_err().to_string()
}

async fn build_error(f: &Fixture, body: &str) -> String {
    build_all(&config(f, body), f.store.as_ref())
        .await
        .unwrap_err()
        .to_string()
}

/// A registry provider registered without `token_endpoint_auth_signing_alg` signs with the
/// preferred active store key the OP accepts (as `relier login --provider` does), not with a
/// `keys.alg` key the store may lack and the OP may refuse.
#[tokio::test]
async fn a_registry_provider_without_a_registered_alg_uses_the_preferred_active_key() {
    let f = fixture().await;
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        f.store
            .generate_key(alg.into(), None, UnixTime(clock::now()))
            .await
            .unwrap();
    }
    let mut record =
        ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::PrivateKeyJwt);
    record.redirect_uris = vec![format!("{PUBLIC}/auth/callback/reg")];
    f.store
        .put_provider(&record, false, UnixTime(clock::now()))
        .await
        .unwrap();
    let config = config(
        &f,
        "[keys]\nalg = \"RS256\"\n[[providers]]\nname = \"reg\"\n",
    );

    assert!(
        needed_store_algs(&config, f.store.as_ref())
            .await
            .unwrap()
            .is_empty()
    );
    let providers = build_all(&config, f.store.as_ref()).await.unwrap();
    let p = providers.get("reg").unwrap();
    assert_eq!(p.store_key_alg(), Some(Algorithm::ES256));
    assert_eq!(
        p.rp().unwrap().auth().assertion_algorithm(),
        Some(Algorithm::ES256)
    );

    // A registered algorithm wins.
    record.signing_alg = Some(Algorithm::RS256);
    f.store
        .put_provider(&record, true, UnixTime(clock::now()))
        .await
        .unwrap();
    assert_eq!(
        needed_store_algs(&config, f.store.as_ref()).await.unwrap(),
        [Algorithm::RS256]
    );
    let providers = build_all(&config, f.store.as_ref()).await.unwrap();
    assert_eq!(
        providers.get("reg").unwrap().store_key_alg(),
        Some(Algorithm::RS256)
    );
}

/// mTLS without a client certificate, and a signing_alg that does not fit the method, are
/// refused at start (they used to fail at the first token request, or be ignored).
#[tokio::test]
async fn credentials_that_cannot_authenticate_are_refused_at_start() {
    let f = fixture().await;
    let inline = "[[providers]]\nname = \"p\"\nissuer = \"ISSUER\"\nclient_id = \"rp\"\n";
    let e = build_error(&f, &format!("{inline}auth_method = \"tls_client_auth\"\n")).await;
    assert!(
        e.contains("tls_client_auth needs a client certificate"),
        "{e}"
    );
    assert!(e.contains("tls_cert and tls_key"), "{e}");
    let e = build_error(
        &f,
        &format!(
            "{inline}auth_method = \"client_secret_jwt\"\nsigning_alg = \"RS256\"\nclient_secret = \"{}\"\n",
            "s".repeat(32)
        ),
    )
    .await;
    assert!(
        e.contains("signing_alg: RS256: client_secret_jwt signs with HS256, HS384 or HS512"),
        "{e}"
    );
    let e = build_error(
        &f,
        &format!("{inline}auth_method = \"client_secret_post\"\n"),
    )
    .await;
    assert!(
        e.contains("client_secret_post needs the client secret"),
        "{e}"
    );
}

/// File and variable errors name the configuration key.
#[tokio::test]
async fn a_failed_credential_names_its_key() {
    let f = fixture().await;
    let inline = "[[providers]]\nname = \"p\"\nissuer = \"ISSUER\"\nclient_id = \"rp\"\n";
    let big = f.dir.path().join("big");
    std::fs::write(&big, vec![b'k'; 1024 * 1024 + 1]).unwrap();
    let e = build_error(
        &f,
        &format!("{inline}private_key = \"{}\"\n", big.display()),
    )
    .await;
    assert!(
        e.contains("private_key: private key file") && e.contains("larger than"),
        "{e}"
    );
    let e = build_error(
        &f,
        &format!("{inline}client_secret_env = \"RELIER_GATEWAY_TEST_SURELY_UNSET\"\n"),
    )
    .await;
    assert!(
        e.contains(
            "client_secret_env: environment variable RELIER_GATEWAY_TEST_SURELY_UNSET is not set"
        ),
        "{e}"
    );
    let e = build_error(
        &f,
        &format!("{inline}tls_cert = \"c.pem\"\nclient_secret = \"x\"\n"),
    )
    .await;
    assert!(e.contains("go together"), "{e}");
}

/// ID tokens encrypted to the store's keys: the inline provider's configuration keys and the
/// registry provider's registration name the algorithms; the bootstrap generates what is
/// missing; providers pick up rotated keys and drop removed ones.
#[tokio::test]
async fn encryption_keys_are_bootstrapped_and_followed() {
    use relier_jose::jwe::KeyManagementAlg as K;
    use relier_store::{KeyAlg, KeyState};

    let f = fixture().await;
    let mut record = ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::None);
    record.redirect_uris = vec![format!("{PUBLIC}/auth/callback/reg")];
    record.registration = Some(stored_registration(
        serde_json::json!({"id_token_encrypted_response_alg": "ECDH-ES"}),
    ));
    let now = || UnixTime(clock::now());
    f.store.put_provider(&record, false, now()).await.unwrap();
    let config = config(
        &f,
        "[[providers]]\nname = \"reg\"\n\
         [[providers]]\nname = \"inline\"\nissuer = \"ISSUER\"\nclient_id = \"c\"\n\
         auth_method = \"none\"\n\
         id_token_encrypted_response_alg = \"RSA-OAEP-256\"\n\
         id_token_encrypted_response_enc = \"A256GCM\"\n\
         userinfo_encrypted_response_alg = \"ECDH-ES\"\n",
    );
    let needed = needed_enc_algs(&config, f.store.as_ref()).await.unwrap();
    assert_eq!(needed, [K::EcdhEs, K::RsaOaep256]);
    crate::keys::KeyManager::bootstrap(f.store.as_ref(), &config.keys, &[], &needed, now().0)
        .await
        .unwrap();
    assert_eq!(
        f.store.active_enc_algs().await.unwrap(),
        [K::EcdhEs, K::RsaOaep256]
    );
    let providers = Arc::new(build_all(&config, f.store.as_ref()).await.unwrap());
    let inline = providers.get("inline").unwrap().clone();
    assert_eq!(
        inline.store_enc_algs(),
        [
            (EncryptedResponse::IdToken, K::RsaOaep256),
            (EncryptedResponse::UserInfo, K::EcdhEs)
        ]
    );
    assert_eq!(
        providers.get("reg").unwrap().store_enc_algs(),
        [(EncryptedResponse::IdToken, K::EcdhEs)]
    );
    // The ECDH-ES key is shared with "reg"; the RSA one is the inline provider's alone.
    let rsa_kids = |kids: Vec<String>, keys: &[relier_store::KeyInfo]| -> Vec<String> {
        kids.into_iter()
            .filter(|kid| keys.iter().any(|k| &k.kid == kid && k.alg == K::RsaOaep256))
            .collect()
    };
    assert_eq!(inline.current_enc_kids().len(), 2);
    let first = rsa_kids(
        inline.current_enc_kids(),
        &f.store.list_keys().await.unwrap(),
    );
    assert_eq!(first.len(), 1);

    // A rotation: the new key is added (before it is active), the old one kept.
    let store: Arc<dyn Store> = Arc::from(f.store);
    let manager = crate::keys::KeyManager::new(
        store.clone(),
        providers.clone(),
        &config.keys,
        config.key_propagation(),
        Arc::new(crate::metrics::Metrics::default()),
    );
    let new = store
        .rotate_keys(Some(KeyAlg::Enc(K::RsaOaep256)), 0, now())
        .await
        .unwrap();
    manager.tick(now().0).await.unwrap();
    let kids = rsa_kids(inline.current_enc_kids(), &store.list_keys().await.unwrap());
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new[0].kid) && kids.contains(&first[0]));
    // Removed: no longer decrypting with it.
    let old = store.list_keys().await.unwrap();
    assert!(
        old.iter()
            .any(|k| k.kid == first[0] && k.state == KeyState::Retired)
    );
    store.remove_key(&first[0], true, now()).await.unwrap();
    manager.tick(now().0).await.unwrap();
    let kids = inline.current_enc_kids();
    assert!(!kids.contains(&first[0]) && kids.contains(&new[0].kid));
    assert_eq!(kids.len(), 2, "the new RSA key and the ECDH-ES key");
}

/// Request objects and JARM from an inline provider's keys of the registration's names, or a
/// registry provider's registration; the JARM encryption key is bootstrapped like the others;
/// request objects without a private key, and the keys on a registry provider, are refused.
#[tokio::test]
async fn request_objects_and_jarm_from_keys_or_registration() {
    use relier_jose::jwe::KeyManagementAlg as K;

    let f = fixture().await;
    let mut record = ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::None);
    record.redirect_uris = vec![format!("{PUBLIC}/auth/callback/reg")];
    record.registration = Some(stored_registration(serde_json::json!({
        "authorization_signed_response_alg": "ES256",
        "authorization_encrypted_response_alg": "ECDH-ES",
    })));
    let now = || UnixTime(clock::now());
    f.store.put_provider(&record, false, now()).await.unwrap();
    let inline = "[[providers]]\nname = \"inline\"\nissuer = \"ISSUER\"\nclient_id = \"c\"\n";
    let config = config(
        &f,
        &format!(
            "[[providers]]\nname = \"reg\"\n{inline}use_store_key = true\n\
             request_object_signing_alg = \"ES256\"\n\
             authorization_signed_response_alg = \"PS256\"\n"
        ),
    );
    let needed = needed_enc_algs(&config, f.store.as_ref()).await.unwrap();
    assert_eq!(needed, [K::EcdhEs]);
    crate::keys::KeyManager::bootstrap(
        f.store.as_ref(),
        &config.keys,
        &[Algorithm::ES256],
        &needed,
        now().0,
    )
    .await
    .unwrap();
    let providers = build_all(&config, f.store.as_ref()).await.unwrap();
    let reg = providers.get("reg").unwrap();
    assert_eq!(
        reg.store_enc_algs(),
        [(EncryptedResponse::AuthorizationResponse, K::EcdhEs)]
    );
    let rp = reg.rp().unwrap();
    assert!(rp.uses_jarm() && !rp.uses_request_objects());
    let rp = providers.get("inline").unwrap().rp().unwrap();
    assert!(rp.uses_jarm() && rp.uses_request_objects());
    let (url, _) = providers.get("inline").unwrap().login_url().await.unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.iter().any(|(k, _)| k == "request"), "{url}");

    // Request objects need a key to sign with.
    let e = build_error(
        &f,
        &format!("{inline}client_secret = \"x\"\nrequire_signed_request_object = true\n"),
    )
    .await;
    assert!(e.contains("no private key"), "{e}");
    // A MAC is not a request object signature; none is not a JARM algorithm.
    let e = build_error(
        &f,
        &format!("{inline}use_store_key = true\nrequest_object_signing_alg = \"HS256\"\n"),
    )
    .await;
    assert!(e.contains("HS256 is refused"), "{e}");
    let e = build_error(
        &f,
        &format!("{inline}client_secret = \"x\"\nauthorization_signed_response_alg = \"none\"\n"),
    )
    .await;
    assert!(e.contains("not allowed"), "{e}");
    // A registry provider takes them from its registration only.
    let e = parse_error(
        &f,
        "[[providers]]\nname = \"reg\"\nauthorization_signed_response_alg = \"ES256\"\n",
    );
    assert!(e.contains("registry provider"), "{e}");
}

/// OIDC Core §6.2: `request_object = "by_reference"` on a registry provider (its registration
/// names the request object algorithm) sends `request_uri` under `{public_url}/auth/request/`,
/// whose object is taken once; a provider without request objects cannot ask for it, and a
/// registry provider takes `request_object_encryption_*` from its registration only.
#[tokio::test]
async fn request_objects_by_reference_on_registry_providers() {
    let f = fixture().await;
    let mut record =
        ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::PrivateKeyJwt);
    record.redirect_uris = vec![format!("{PUBLIC}/auth/callback/reg")];
    record.signing_alg = Some(Algorithm::ES256);
    record.registration = Some(stored_registration(
        serde_json::json!({"request_object_signing_alg": "ES256"}),
    ));
    let now = || UnixTime(clock::now());
    f.store.put_provider(&record, false, now()).await.unwrap();
    let config = config(
        &f,
        "[[providers]]\nname = \"reg\"\nrequest_object = \"by_reference\"\n",
    );
    crate::keys::KeyManager::bootstrap(
        f.store.as_ref(),
        &config.keys,
        &[Algorithm::ES256],
        &[],
        now().0,
    )
    .await
    .unwrap();
    let providers = build_all(&config, f.store.as_ref()).await.unwrap();
    let rp = providers.get("reg").unwrap().rp().unwrap();
    assert!(rp.uses_request_objects() && rp.uses_request_uri());
    let (url, _) = providers.get("reg").unwrap().login_url().await.unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["response_type", "client_id", "scope", "request_uri"],
        "{url}"
    );
    let uri = &q[3].1;
    let id = uri
        .strip_prefix(&format!("{PUBLIC}{REQUEST_PATH}"))
        .unwrap_or_else(|| panic!("{uri}"));
    let objects = providers.request_objects().unwrap();
    let jwt = objects.take(id, now()).unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    assert_eq!(objects.take(id, now()), None);

    let inline = "[[providers]]\nname = \"inline\"\nissuer = \"ISSUER\"\nclient_id = \"c\"\n";
    let e = build_error(
        &f,
        &format!("{inline}client_secret = \"x\"\nrequest_object = \"by_reference\"\n"),
    )
    .await;
    assert!(e.contains("needs request objects"), "{e}");
    let e = parse_error(
        &f,
        "[[providers]]\nname = \"reg\"\nrequest_object_encryption_alg = \"RSA-OAEP-256\"\n",
    );
    assert!(e.contains("registry provider"), "{e}");
}

/// RFC 9126 §6: a registry provider whose registration has its own
/// `require_pushed_authorization_requests` pushes every request without `par = true`; one
/// without it (at an OP that does not require PAR) does not.
#[tokio::test]
async fn a_registration_requiring_par_pushes_without_the_flag() {
    let f = fixture().await;
    for (name, registration) in [
        (
            "pushed",
            serde_json::json!({"require_pushed_authorization_requests": true}),
        ),
        (
            "plain",
            serde_json::json!({"require_pushed_authorization_requests": false}),
        ),
    ] {
        let mut record = ProviderRecord::new(name, f.op.issuer(), CLIENT_ID, AuthMethod::None);
        record.registration = Some(stored_registration(registration));
        f.store
            .put_provider(&record, false, UnixTime(clock::now()))
            .await
            .unwrap();
    }
    let body = "[[providers]]\nname = \"pushed\"\n[[providers]]\nname = \"plain\"\n";
    let providers = build_all(&config(&f, body), f.store.as_ref())
        .await
        .unwrap();
    let uses_par = |name: &str| providers.get(name).unwrap().rp().unwrap().uses_par();
    assert!(uses_par("pushed"));
    assert!(!uses_par("plain"));
}

/// RFC 9449: a provider with `dpop_bound_access_tokens` (configured, or registered) starts each
/// login with a fresh key whose thumbprint is the request's `dpop_jkt`; the stored key binds
/// the relying party; a registry provider cannot set the key in the configuration.
#[tokio::test]
async fn dpop_providers_start_logins_with_their_own_key() {
    let f = fixture().await;
    let secret = format!("client_secret = \"{}\"\n", "s".repeat(32));
    let inline =
        format!("[[providers]]\nname = \"p\"\nissuer = \"ISSUER\"\nclient_id = \"rp\"\n{secret}");
    let plain =
        format!("[[providers]]\nname = \"q\"\nissuer = \"ISSUER\"\nclient_id = \"rq\"\n{secret}");
    let mut record = ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::None);
    record.registration = Some(stored_registration(
        serde_json::json!({"dpop_bound_access_tokens": true}),
    ));
    f.store
        .put_provider(&record, false, UnixTime(clock::now()))
        .await
        .unwrap();
    let body =
        format!("{inline}dpop_bound_access_tokens = true\n{plain}[[providers]]\nname = \"reg\"\n");
    let providers = build_all(&config(&f, &body), f.store.as_ref())
        .await
        .unwrap();
    let jkt = |url: &url::Url| {
        url.query_pairs()
            .find(|(k, _)| k == "dpop_jkt")
            .map(|(_, v)| v.into_owned())
    };
    for name in ["p", "reg"] {
        let p = providers.get(name).unwrap();
        assert!(p.uses_dpop(), "{name}");
        let a = p.start_login().await.unwrap();
        let b = p.start_login().await.unwrap();
        let (ka, kb) = (a.dpop_key.unwrap(), b.dpop_key.unwrap());
        let key = relier_core::dpop::DpopKey::from_secret(&ka).unwrap();
        assert_eq!(jkt(&a.url).as_deref(), Some(key.thumbprint()));
        assert_ne!(ka, kb, "one key per login");
        let bound = p.rp_for(Some(&ka)).unwrap();
        assert_eq!(bound.dpop_key().unwrap().thumbprint(), key.thumbprint());
        assert!(
            p.rp_for(Some(&relier_core::Secret::new("ES256:???")))
                .is_none()
        );
        assert!(p.rp_for(None).unwrap().dpop_key().is_none());
    }
    let q = providers.get("q").unwrap();
    assert!(!q.uses_dpop());
    let start = q.start_login().await.unwrap();
    assert!(start.dpop_key.is_none() && jkt(&start.url).is_none());
    // A key stored by a DPoP session is not used by a provider without DPoP.
    let stored = providers.get("p").unwrap().start_login().await.unwrap();
    assert!(
        q.rp_for(stored.dpop_key.as_ref())
            .unwrap()
            .dpop_key()
            .is_none()
    );

    let e = parse_error(
        &f,
        "[[providers]]\nname = \"reg\"\ndpop_bound_access_tokens = true\n",
    );
    assert!(e.contains("registry provider"), "{e}");
}

/// RFC 9449 §7.1: a DPoP-bound token only goes in the Authorization header, so
/// `userinfo_token_method = "body"` with DPoP (configured, or registered) is refused at start;
/// an unknown method is a configuration error.
#[tokio::test]
async fn userinfo_token_in_the_body_is_refused_with_dpop() {
    let f = fixture().await;
    let secret = format!("client_secret = \"{}\"\n", "s".repeat(32));
    let inline = format!(
        "[[providers]]\nname = \"p\"\nissuer = \"ISSUER\"\nclient_id = \"rp\"\n{secret}\
         userinfo_token_method = \"body\"\n"
    );
    let providers = build_all(&config(&f, &inline), f.store.as_ref())
        .await
        .unwrap();
    assert!(providers.get("p").is_some());
    let e = build_error(&f, &format!("{inline}dpop_bound_access_tokens = true\n")).await;
    assert!(e.contains("provider p") && e.contains("RFC 9449"), "{e}");

    let mut record = ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::None);
    record.registration = Some(stored_registration(
        serde_json::json!({"dpop_bound_access_tokens": true}),
    ));
    f.store
        .put_provider(&record, false, UnixTime(clock::now()))
        .await
        .unwrap();
    let e = build_error(
        &f,
        "[[providers]]\nname = \"reg\"\nuserinfo_token_method = \"body\"\n",
    )
    .await;
    assert!(e.contains("provider reg") && e.contains("RFC 9449"), "{e}");

    let toml = format!(
        "public_url = \"{PUBLIC}\"\nstore = \"sqlite://{}\"\n[[providers]]\nname = \"x\"\n\
         userinfo_token_method = \"query\"\n",
        f.dir.path().join("g.db").display()
    );
    let e = Config::from_toml(&toml).unwrap_err().to_string();
    assert!(
        e.contains("userinfo_token_method") || e.contains("query"),
        "{e}"
    );
}

/// OIDC Core §2: a registry provider's `none` is pinned only when its stored registration
/// response agrees, and never under `profile = "fapi2"`.
#[tokio::test]
async fn registry_id_token_alg_none_needs_the_registration_and_no_profile() {
    let f = fixture().await;
    let mut record = ProviderRecord::new("reg", f.op.issuer(), CLIENT_ID, AuthMethod::None);
    record.redirect_uris = vec![format!("{PUBLIC}/auth/callback/reg")];
    record.id_token_alg = Some(Algorithm::None);
    record.registration = Some(stored_registration(
        serde_json::json!({"id_token_signed_response_alg": "none"}),
    ));
    f.store
        .put_provider(&record, false, UnixTime(clock::now()))
        .await
        .unwrap();
    let body = "[[providers]]\nname = \"reg\"\n";
    let config = config(&f, body);
    let spec = registry_spec(&config, &config.providers[0], f.store.as_ref())
        .await
        .unwrap();
    assert!(spec.id_token_alg.is_unsigned());
    let providers = build_all(&config, f.store.as_ref()).await.unwrap();
    assert!(providers.get("reg").is_some());
    let e = build_error(&f, "[[providers]]\nname = \"reg\"\nprofile = \"fapi2\"\n").await;
    assert!(
        e.contains("reg")
            && e.contains("id_token_alg \"none\" (unsigned ID tokens) is never allowed"),
        "{e}"
    );
    // A registration that says RS256 under a record saying none: refused, not trusted.
    record.registration = Some(stored_registration(
        serde_json::json!({"id_token_signed_response_alg": "RS256"}),
    ));
    f.store
        .put_provider(&record, true, UnixTime(clock::now()))
        .await
        .unwrap();
    let e = build_error(&f, body).await;
    assert!(
        e.contains("disagrees with the registered id_token_signed_response_alg"),
        "{e}"
    );
}

/// A registration response's members as the store keeps them.
fn stored_registration(metadata: serde_json::Value) -> relier_store::StoredRegistration {
    relier_store::StoredRegistration::from_metadata(metadata.as_object().unwrap()).unwrap()
}

/// The `kid` in the header of the client assertion `rp` sends.
fn assertion_kid(rp: &RelyingParty) -> String {
    let assertion = rp
        .auth()
        .client_assertion(
            &rp.metadata().issuer,
            "https://op.example/token",
            UnixTime(clock::now()),
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap()
        .unwrap();
    let header = assertion.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&relier_jose::b64::decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// A key published with a propagation delay signs the first client assertion made once its
/// activation time has come, with no key manager step in between: the provider's
/// relying-party access switches by itself to the key it holds ready since the key was
/// published (so no token endpoint caller has to ask for it), and the store's own transition
/// at the next step changes nothing more.
#[tokio::test]
async fn a_published_key_signs_from_its_activation_time_without_a_step() {
    use relier_store::{KeyAlg, KeyState};

    let f = fixture().await;
    let config = config(
        &f,
        "[[providers]]\nname = \"p\"\nissuer = \"ISSUER\"\nclient_id = \"c\"\n\
         auth_method = \"private_key_jwt\"\nuse_store_key = true\n",
    );
    let now = || UnixTime(clock::now());
    crate::keys::KeyManager::bootstrap(
        f.store.as_ref(),
        &config.keys,
        &[Algorithm::ES256],
        &[],
        now().0,
    )
    .await
    .unwrap();
    let providers = Arc::new(build_all(&config, f.store.as_ref()).await.unwrap());
    let p = providers.get("p").unwrap().clone();
    let store: Arc<dyn Store> = Arc::from(f.store);
    let manager = crate::keys::KeyManager::new(
        store.clone(),
        providers.clone(),
        &config.keys,
        config.key_propagation(),
        Arc::new(crate::metrics::Metrics::default()),
    );
    manager.tick(now().0).await.unwrap();
    let first = p.current_kid().unwrap();
    assert!(p.pending_keys().is_empty());

    // Published now, signing in an hour; the manager's step hands it over.
    let next = store
        .rotate_keys(Some(KeyAlg::Sig(Algorithm::ES256)), 3600, now())
        .await
        .unwrap()
        .remove(0);
    let at = next.activates_at.unwrap();
    manager.tick(now().0).await.unwrap();
    assert_eq!(p.pending_keys(), [(next.kid.clone(), at)]);
    let Protocol::Oidc(o) = &p.protocol else {
        panic!("an OpenID Connect provider")
    };
    // A login a second before: the active key. A login at the activation time: the new key.
    assert_eq!(assertion_kid(&o.current(at - 1, "p")), first);
    assert_eq!(assertion_kid(&p.rp().unwrap()), first);
    assert_eq!(assertion_kid(&o.current(at, "p")), next.kid);
    assert_eq!(assertion_kid(&p.rp().unwrap()), next.kid);
    assert_eq!(p.current_kid().as_deref(), Some(next.kid.as_str()));
    assert!(p.pending_keys().is_empty());
    let state = |kid: &str, keys: &[relier_store::KeyInfo]| {
        keys.iter().find(|k| k.kid == kid).map(|k| k.state)
    };
    let keys = store.list_keys().await.unwrap();
    assert_eq!(state(&next.kid, &keys), Some(KeyState::Next), "no step ran");

    // The store's transition at the step: the same key, nothing rebuilt.
    manager.tick(at).await.unwrap();
    let keys = store.list_keys().await.unwrap();
    assert_eq!(state(&next.kid, &keys), Some(KeyState::Active));
    assert_eq!(state(&first, &keys), Some(KeyState::Retired));
    assert_eq!(assertion_kid(&p.rp().unwrap()), next.kid);
    assert!(p.pending_keys().is_empty());

    // A published key retired before its time is dropped at the step and never signs.
    let later = store
        .rotate_keys(Some(KeyAlg::Sig(Algorithm::ES256)), 3600, UnixTime(at))
        .await
        .unwrap()
        .remove(0);
    manager.tick(at).await.unwrap();
    assert_eq!(p.pending_keys().len(), 1);
    store.retire_key(&later.kid, UnixTime(at)).await.unwrap();
    manager.tick(at).await.unwrap();
    assert!(p.pending_keys().is_empty());
    let after = later.activates_at.unwrap();
    assert_eq!(assertion_kid(&o.current(after, "p")), next.kid);
}
