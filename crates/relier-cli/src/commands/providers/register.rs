//! `relier providers register`: OIDC Dynamic Client Registration / RFC 7591. The metadata names
//! the redirect URIs (and, for a gateway's, its `initiate_login_uri`, `frontchannel_logout_uri`,
//! `backchannel_logout_uri` and `post_logout_redirect_uris`, or those the flags give), the code
//! flow, the client authentication method
//! (private_key_jwt by default, with the store's published keys inline or a jwks_uri) and the
//! ID token algorithm; the response's client_id, secrets and RFC 7592 endpoint go to the store.

use anyhow::{Context as _, bail};
use relier_core::encryption::{EncryptedResponse, ResponseEncryption};
use relier_core::recommend::recommend_for_op;
use relier_core::registration::{ClientMetadata, RegistrationError};
use relier_core::token_binding::TokenBinding;
use relier_core::types::is_loopback;
use relier_core::{AuthMethod, ProviderMetadata, RedirectUrl};
use relier_jose::Algorithm;
use relier_store::{JwksMode, ProviderRecord, Store, UnixTime};
use serde_json::{Map, Value};

use super::{check_new_name, discover, gateway, record_from_response, save_and_print};
use crate::args::{ApplicationType, JwksArg, ProvidersRegisterArgs};
use crate::clock::now_secs;
use relier::credentials::{op_accepts, prefer_alg};

use crate::credentials;
use crate::output;

/// Key algorithms relier generates for private_key_jwt, preferred first.
const GENERATED_ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::RS256,
];

/// Run `providers register`.
pub async fn run(store: &dyn Store, a: &ProvidersRegisterArgs) -> anyhow::Result<()> {
    check_new_name(store, &a.name, a.common.replace).await?;
    for uri in &a.redirect_uris {
        RedirectUrl::new(uri.as_str()).map_err(|e| anyhow::anyhow!("--redirect-uri {uri}: {e}"))?;
    }
    let jwks_mode = jwks_mode_arg(a)?;
    let iat = match &a.initial_access_token_env {
        Some(var) => Some(credentials::secret_env(var, "--initial-access-token-env")?),
        None => None,
    };
    let (http, md) = discover(&a.issuer, a.common.ca_file.as_deref()).await?;
    let Some(endpoint) = md.registration_endpoint.clone() else {
        bail!(
            "the OP {} has no registration_endpoint: it does not offer dynamic registration; register the client by hand and use `relier providers add`",
            a.issuer.as_str()
        );
    };
    let method = choose_method(&md, a)?;
    let signing_alg = signing_alg_for(store, &md, a, method).await?;
    // The OP needs the RP's public keys for private_key_jwt and to encrypt to the RP.
    let needs_keys = method == AuthMethod::PrivateKeyJwt || encrypts_to_rp_key(a);
    let jwks_mode = jwks_mode.or(needs_keys.then_some(JwksMode::Inline));
    let metadata = client_metadata(store, a, method, signing_alg, jwks_mode).await?;
    let resp = relier::registration::register(&http, &md, &metadata, iat.as_ref())
        .await
        .map_err(|e| registration_error(e, a.initial_access_token_env.as_deref()))
        .with_context(|| format!("registering at {endpoint}"))?;
    let echoed_method = resp.metadata.get("token_endpoint_auth_method").cloned();
    let mut record = record_from_response(&a.name, &a.issuer, resp, &a.common)?;
    match echoed_method {
        None => record.auth_method = method,
        Some(_) if record.auth_method != method => output::note(&format!(
            "warning: asked for {method}, the OP registered {}",
            record.auth_method
        )),
        Some(_) => {}
    }
    if record.redirect_uris.is_empty() {
        record.redirect_uris = a.redirect_uris.clone();
    }
    record.id_token_alg = record.id_token_alg.or(Some(a.id_token_alg));
    record.signing_alg = record.signing_alg.or(signing_alg);
    if record.jwks_mode.is_none() {
        record.jwks_mode = jwks_mode;
        record.jwks_uri = a.jwks_uri.clone();
    }
    record.provider_metadata = Some(Value::Object(md.raw));
    warn_unregistered(&record, a);
    let needs_secret = matches!(
        record.auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
    );
    if needs_secret && record.client_secret.is_none() {
        output::note(&format!(
            "warning: the OP issued no client_secret for {}",
            record.auth_method
        ));
    }
    save_or_unregister(store, &http, &record, a).await
}

/// `--jwks` and `--jwks-uri`: how the RP's keys are to be registered, if the flags say.
fn jwks_mode_arg(a: &ProvidersRegisterArgs) -> anyhow::Result<Option<JwksMode>> {
    Ok(match (a.jwks, &a.jwks_uri) {
        (Some(JwksArg::Inline), Some(_)) => {
            bail!("--jwks-uri goes with --jwks uri (an inline jwks has no URL)")
        }
        (_, Some(uri)) => {
            RedirectUrl::new(uri.as_str()).map_err(|e| anyhow::anyhow!("--jwks-uri {uri}: {e}"))?;
            Some(JwksMode::Uri)
        }
        (Some(JwksArg::Inline), None) => Some(JwksMode::Inline),
        (Some(JwksArg::Uri), None) => bail!("--jwks uri needs --jwks-uri URL"),
        (None, None) => None,
    })
}

/// The algorithm the client's assertions are signed with (private_key_jwt: a store key the
/// OP accepts, generated if missing; client_secret_jwt: an HMAC one), or why `method` cannot
/// be registered from these flags.
async fn signing_alg_for(
    store: &dyn Store,
    md: &ProviderMetadata,
    a: &ProvidersRegisterArgs,
    method: AuthMethod,
) -> anyhow::Result<Option<Algorithm>> {
    if a.signed_requests.is_some() && method != AuthMethod::PrivateKeyJwt {
        bail!("--signed-requests signs with the store key: it needs --auth-method private_key_jwt");
    }
    Ok(match method {
        AuthMethod::PrivateKeyJwt => {
            Some(ensure_key(store, md, a.signing_alg.or(a.signed_requests.flatten())).await?)
        }
        AuthMethod::ClientSecretJwt => a.signing_alg.filter(Algorithm::is_hmac),
        AuthMethod::TlsClientAuth if a.tls_subject_dn.is_none() || a.common.tls_cert.is_none() => {
            bail!("tls_client_auth needs --tls-cert FILE --tls-key FILE and --tls-subject-dn DN")
        }
        AuthMethod::SelfSignedTlsClientAuth => bail!(
            "relier cannot register self_signed_tls_client_auth (the certificate goes in the client's jwks): register by hand and use `relier providers add`"
        ),
        _ => None,
    })
}

/// The registration request (RFC 7591 §2): redirect URIs, the code flow, the client
/// authentication, the RP's keys, and the responses and requests the flags ask for.
async fn client_metadata(
    store: &dyn Store,
    a: &ProvidersRegisterArgs,
    method: AuthMethod,
    signing_alg: Option<Algorithm>,
    jwks_mode: Option<JwksMode>,
) -> anyhow::Result<ClientMetadata> {
    let mut responses = response_metadata(store, a).await?;
    responses.extend(secured_metadata(a, signing_alg)?);
    TokenBinding {
        dpop: a.dpop,
        certificate: false,
    }
    .add_to(&mut responses);
    if let Some(uri) = gateway::initiate_login_uri(&a.name, &a.redirect_uris) {
        responses.insert("initiate_login_uri".into(), Value::String(uri));
    }
    let confidential = method != AuthMethod::None;
    if let Some(uri) = gateway::frontchannel_logout_uri(&a.name, &a.redirect_uris, confidential) {
        responses.insert("frontchannel_logout_uri".into(), Value::String(uri));
        responses.insert(
            "frontchannel_logout_session_required".into(),
            Value::Bool(true),
        );
    }
    let (post_logout_redirect_uris, backchannel_logout_uri) = logout_uris(a, confidential)?;
    if backchannel_logout_uri.is_some() {
        responses.insert(
            "backchannel_logout_session_required".into(),
            Value::Bool(true),
        );
    }
    let jwks = match jwks_mode {
        Some(JwksMode::Inline) => Some(serde_json::to_value(
            store.jwks(UnixTime(now_secs())).await?,
        )?),
        _ => None,
    };
    Ok(ClientMetadata {
        redirect_uris: a.redirect_uris.clone(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        response_types: vec!["code".into()],
        token_endpoint_auth_method: Some(method.as_str().to_owned()),
        token_endpoint_auth_signing_alg: signing_alg.map(|a| a.as_str().to_owned()),
        id_token_signed_response_alg: Some(a.id_token_alg.as_str().to_owned()),
        userinfo_signed_response_alg: a.signed_userinfo.map(|alg| alg.as_str().to_owned()),
        extra: responses,
        jwks,
        jwks_uri: a.jwks_uri.clone(),
        client_name: Some(a.client_name.clone().unwrap_or_else(|| "relier".to_owned())),
        application_type: Some(application_type(a).to_owned()),
        tls_client_auth_subject_dn: a.tls_subject_dn.clone(),
        contacts: a.contacts.clone(),
        post_logout_redirect_uris,
        backchannel_logout_uri,
        ..Default::default()
    })
}

/// `post_logout_redirect_uris` and `backchannel_logout_uri`: as the flags say (https, or http
/// on loopback), else a gateway registration's own ([`gateway`]).
fn logout_uris(
    a: &ProvidersRegisterArgs,
    confidential: bool,
) -> anyhow::Result<(Vec<String>, Option<String>)> {
    for uri in a
        .post_logout_redirect_uris
        .iter()
        .chain(&a.backchannel_logout_uri)
    {
        RedirectUrl::new(uri.as_str()).map_err(|e| anyhow::anyhow!("{uri}: {e}"))?;
    }
    let post_logout = if a.post_logout_redirect_uris.is_empty() {
        gateway::post_logout_redirect_uri(&a.name, &a.redirect_uris)
            .into_iter()
            .collect()
    } else {
        a.post_logout_redirect_uris.clone()
    };
    let backchannel = a
        .backchannel_logout_uri
        .clone()
        .or_else(|| gateway::backchannel_logout_uri(&a.name, &a.redirect_uris, confidential));
    Ok((post_logout, backchannel))
}

/// Stores the registration; when that fails, deletes it at the OP again (RFC 7592) so no
/// orphan registration stays behind.
async fn save_or_unregister(
    store: &dyn Store,
    http: &relier::HttpClient,
    record: &ProviderRecord,
    a: &ProvidersRegisterArgs,
) -> anyhow::Result<()> {
    let Err(e) = save_and_print(store, record, a.common.replace, a.common.json, "registered").await
    else {
        return Ok(());
    };
    if let Ok((uri, token)) = super::management(record) {
        match relier::registration::delete(http, uri, token).await {
            Ok(()) => output::note("the registration was deleted at the OP again (RFC 7592)"),
            Err(d) => output::note(&format!(
                "the client {} stays registered at the OP (RFC 7592 delete failed: {d})",
                record.client_id
            )),
        }
    }
    Err(e)
}

/// `--auth-method`, else the OP's strongest method whose credential relier can hold.
fn choose_method(md: &ProviderMetadata, a: &ProvidersRegisterArgs) -> anyhow::Result<AuthMethod> {
    let supported = md.token_auth_methods();
    if let Some(m) = a.auth_method {
        if !supported.iter().any(|s| s == m.as_str()) {
            output::note(&format!(
                "warning: the OP does not list {m} in token_endpoint_auth_methods_supported"
            ));
        }
        return Ok(m);
    }
    let can_hold = |m: AuthMethod| match m {
        AuthMethod::PrivateKeyJwt => GENERATED_ALGS.iter().any(|alg| op_accepts(md, *alg)),
        AuthMethod::TlsClientAuth => a.common.tls_cert.is_some() && a.tls_subject_dn.is_some(),
        AuthMethod::ClientSecretJwt
        | AuthMethod::ClientSecretBasic
        | AuthMethod::ClientSecretPost => true,
        _ => false,
    };
    let rec = recommend_for_op(md);
    if can_hold(rec.method) {
        output::note(&format!("using {}: {}", rec.method, rec.reason));
        return Ok(rec.method);
    }
    let Some(m) = AuthMethod::ALL
        .into_iter()
        .find(|m| supported.iter().any(|s| s == m.as_str()) && can_hold(*m))
    else {
        bail!(
            "the OP supports [{}], none of which relier can register on its own; choose one with --auth-method",
            supported.join(", ")
        );
    };
    output::note(&format!(
        "using {m}: the strongest method the OP supports whose credential relier can hold ({} needs a credential relier does not have)",
        rec.method
    ));
    Ok(m)
}

/// The store's active key for private_key_jwt; generated (ES256 unless `--signing-alg`) when
/// the store has none the OP accepts.
async fn ensure_key(
    store: &dyn Store,
    md: &ProviderMetadata,
    wanted: Option<Algorithm>,
) -> anyhow::Result<Algorithm> {
    if let Some(alg) = wanted.filter(Algorithm::is_hmac) {
        bail!("--signing-alg {alg} is for client_secret_jwt, not private_key_jwt");
    }
    let active = store.active_algs().await?;
    let alg = match wanted {
        Some(alg) => {
            if !op_accepts(md, alg) {
                output::note(&format!(
                    "warning: the OP does not list {alg} in token_endpoint_auth_signing_alg_values_supported"
                ));
            }
            if active.contains(&alg) {
                return Ok(alg);
            }
            alg
        }
        None => {
            if let Some(alg) = prefer_alg(&active, |a| op_accepts(md, a)) {
                return Ok(alg);
            }
            GENERATED_ALGS
                .into_iter()
                .find(|a| op_accepts(md, *a))
                .unwrap_or(Algorithm::ES256)
        }
    };
    let key = store
        .generate_key(alg.into(), None, UnixTime(now_secs()))
        .await?;
    output::note(&format!(
        "the store had no active {alg} signing key: generated {} ({}) for private_key_jwt",
        key.kid, key.state
    ));
    Ok(alg)
}

/// The encryptions asked for: `--encrypt-id-token`, `--encrypt-userinfo` (OIDC Registration
/// §2), `--encrypt-jarm` (JARM §3).
fn asked_encryption(
    a: &ProvidersRegisterArgs,
) -> [(EncryptedResponse, Option<ResponseEncryption>); 3] {
    [
        (EncryptedResponse::IdToken, a.encrypt_id_token),
        (EncryptedResponse::UserInfo, a.encrypt_userinfo),
        (EncryptedResponse::AuthorizationResponse, a.encrypt_jarm),
    ]
}

/// Whether an asked-for encryption uses one of the RP's keys (not the client secret).
fn encrypts_to_rp_key(a: &ProvidersRegisterArgs) -> bool {
    asked_encryption(a)
        .into_iter()
        .filter_map(|(_, e)| e)
        .any(|e| !e.alg.is_symmetric())
}

/// The `…_encrypted_response_alg`/`_enc` members asked for (OIDC Registration §2); for RP-key
/// algorithms, an active encryption key is generated first when the store has none, so that the
/// JWKS registered with the OP carries it.
async fn response_metadata(
    store: &dyn Store,
    a: &ProvidersRegisterArgs,
) -> anyhow::Result<Map<String, Value>> {
    let mut members = Map::new();
    for (which, expect) in asked_encryption(a) {
        let Some(expect) = expect else { continue };
        members.insert(which.alg_member().into(), expect.alg.as_str().into());
        members.insert(which.enc_member().into(), expect.enc.as_str().into());
        if expect.alg.is_symmetric() {
            continue;
        }
        if !store.active_enc_algs().await?.contains(&expect.alg) {
            let key = store
                .generate_key(expect.alg.into(), None, UnixTime(now_secs()))
                .await?;
            output::note(&format!(
                "the store had no active {} encryption key: generated {} ({})",
                expect.alg, key.kid, key.state
            ));
        }
    }
    Ok(members)
}

/// RFC 9101 (`request_object_signing_alg`, `require_signed_request_object` §10.5) and JARM §3
/// (`authorization_signed_response_alg`) as asked for; request objects are signed with the
/// client assertion key (`signing_alg`).
fn secured_metadata(
    a: &ProvidersRegisterArgs,
    signing_alg: Option<Algorithm>,
) -> anyhow::Result<Map<String, Value>> {
    let mut members = Map::new();
    if let Some(asked) = a.signed_requests {
        let Some(key_alg) = signing_alg else {
            bail!("--signed-requests needs the store key of private_key_jwt");
        };
        if let Some(alg) = asked.filter(|alg| *alg != key_alg) {
            bail!(
                "--signed-requests {alg}: request objects are signed with the {key_alg} store key (--signing-alg)"
            );
        }
        members.insert("request_object_signing_alg".into(), key_alg.as_str().into());
        members.insert("require_signed_request_object".into(), true.into());
    }
    if let Some(asked) = a.jarm {
        let alg = asked.unwrap_or(a.id_token_alg);
        if alg == Algorithm::None {
            bail!("--jarm: JARM responses are never unsigned (JARM §3); give --jarm ALG");
        }
        members.insert(
            "authorization_signed_response_alg".into(),
            alg.as_str().into(),
        );
    }
    Ok(members)
}

/// RFC 7591 §3.2.1: the response carries what the OP registered. An encryption or signing the
/// OP dropped is not expected at login: say so.
fn warn_unregistered(record: &ProviderRecord, a: &ProvidersRegisterArgs) {
    let reg = record.registered().unwrap_or_default();
    for (which, expect) in asked_encryption(a) {
        let Some(expect) = expect else { continue };
        let got = reg.encryption(which);
        if got != Some(expect) {
            output::note(&format!(
                "warning: asked for {} {expect}, the OP registered {}",
                which.alg_member(),
                got.map_or_else(|| "none".to_owned(), |g| g.to_string())
            ));
        }
    }
    if a.signed_requests.is_some() && reg.request_objects.alg.is_none() {
        output::note(
            "warning: asked for signed request objects, the OP did not register request_object_signing_alg",
        );
    }
    if a.jarm.is_some() && reg.jarm.is_none() {
        output::note(
            "warning: asked for JARM, the OP did not register authorization_signed_response_alg",
        );
    }
    if let Some(alg) = a.signed_userinfo
        && reg.userinfo_signed_alg != Some(alg)
    {
        output::note(&format!(
            "warning: asked for userinfo_signed_response_alg {alg}, the OP did not register it"
        ));
    }
    // RFC 9449 §5.2: a DPoP binding the OP did not register is not used at login.
    if a.dpop && !reg.binding.dpop {
        output::note("warning: asked for dpop_bound_access_tokens, the OP did not register it");
    }
}

/// native when every redirect URI is loopback http (RFC 8252), else web.
fn application_type(a: &ProvidersRegisterArgs) -> &'static str {
    let native = a
        .redirect_uris
        .iter()
        .all(|u| url::Url::parse(u).is_ok_and(|url| url.scheme() == "http" && is_loopback(&url)));
    match a.application_type {
        Some(ApplicationType::Web) => "web",
        Some(ApplicationType::Native) => "native",
        None if native => "native",
        None => "web",
    }
}

/// A 401 at the registration endpoint is about the initial access token: say which.
fn registration_error(e: relier::Error, iat_env: Option<&str>) -> anyhow::Error {
    let status = match &e {
        relier::Error::Registration(
            RegistrationError::Refused { status, .. } | RegistrationError::Status { status, .. },
        ) => Some(*status),
        _ => None,
    };
    if matches!(
        &e,
        relier::Error::Registration(RegistrationError::ForeignClientUri { .. })
    ) {
        return anyhow::Error::new(e).context(
            "the OP registered a client but named a management endpoint off its origin: the client is not saved and stays registered at the OP",
        );
    }
    let hint = match (status, iat_env) {
        (Some(401), Some(var)) => Some(format!(
            "the OP refused the initial access token from ${var}"
        )),
        (Some(401), None) => Some(
            "the OP requires an initial access token: put it in an environment variable and give --initial-access-token-env VAR"
                .to_owned(),
        ),
        _ => None,
    };
    match hint {
        Some(h) => anyhow::Error::new(e).context(h),
        None => anyhow::Error::new(e),
    }
}
