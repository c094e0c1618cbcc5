//! The broker's endpoints (ISB README §6–§14).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relier_core::federation::{ENTITY_STATEMENT_CONTENT_TYPE, SIGNED_JWKS_CONTENT_TYPE};
use relier_jose::jwe::{ContentEncAlg, KeyManagementAlg, encrypt_to_public};
use relier_jose::jws::UnverifiedJws;
use serde_json::{Map, Value, json};
use url::Url;

use super::super::{now, sign};
use super::trust::encryption_key;
use super::{CONSENT, IDPS, Inner, Issued, PERSON, PROVIDER_INFO, Seen, checks};

/// An error page on the broker: no return to the SP (§7, "initial validation errors").
fn refuse(s: &Inner, why: String) -> Response {
    s.complain(why.clone());
    (StatusCode::BAD_REQUEST, why).into_response()
}

/// A JSON error of the token endpoint (§8).
fn token_error(s: &Inner, error: &str, why: String) -> Response {
    s.complain(why.clone());
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": why})),
    )
        .into_response()
}

pub(super) async fn statement(State(s): State<Arc<Inner>>) -> Response {
    (
        [(header::CONTENT_TYPE, ENTITY_STATEMENT_CONTENT_TYPE)],
        s.statement(),
    )
        .into_response()
}

pub(super) async fn signed_jwks(State(s): State<Arc<Inner>>) -> Response {
    (
        [(header::CONTENT_TYPE, SIGNED_JWKS_CONTENT_TYPE)],
        s.signed_jwks(),
    )
        .into_response()
}

/// The `kid` of a JWS's header, if it parses.
fn kid_of(token: Option<&String>) -> Option<String> {
    UnverifiedJws::parse(token?).ok()?.header().kid.clone()
}

/// `GET /oauth/authorize?request=…` (§7).
pub(super) async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    authorize_with(&s, q).await
}

/// `POST /oauth/authorize` with `{"request": …}` as `payload` (§7).
pub(super) async fn authorize_post(State(s): State<Arc<Inner>>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let request = form
        .get("payload")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p.get("request").and_then(Value::as_str).map(str::to_owned));
    let Some(request) = request else {
        return refuse(&s, "authorize: POST without payload {request}".into());
    };
    authorize_with(&s, HashMap::from([("request".to_owned(), request)])).await
}

async fn authorize_with(s: &Inner, q: HashMap<String, String>) -> Response {
    let (sp, keys) = match s.sp_and_keys(kid_of(q.get("request")).as_deref()).await {
        Ok(v) => v,
        Err(e) => return refuse(s, format!("authorize: SP keys: {e}")),
    };
    let idps: Vec<&str> = IDPS.iter().map(|(id, _)| *id).collect();
    let auth = {
        let mut jtis = s.request_jtis.lock().unwrap();
        match checks::authorization(&sp, &keys, &q, &mut jtis, &idps) {
            Ok(a) => a,
            Err(e) => return refuse(s, e),
        }
    };
    let Ok(mut back) = Url::parse(&auth.redirect_uri) else {
        return refuse(s, "authorize: redirect_uri is not a URL".into());
    };
    let cancel = s.knobs.lock().unwrap().cancel;
    {
        let mut pairs = back.query_pairs_mut();
        if cancel {
            pairs.append_pair("error", "cancel");
            pairs.append_pair("error_description", "user cancel");
        } else {
            let code = s.next_id("isb-code");
            pairs.append_pair("code", &code);
            s.seen.lock().unwrap().push(Seen {
                request: auth.claims.clone(),
                sub: String::new(),
            });
            s.codes.lock().unwrap().insert(
                code,
                Issued {
                    auth: auth.clone(),
                    sub: String::new(),
                },
            );
        }
        if let Some(st) = &auth.state {
            pairs.append_pair("state", st);
        }
    }
    Redirect::to(back.as_str()).into_response()
}

/// The person's attributes the scopes release (§7: `profile` adds the names and the birth
/// date; `personal_identity_code` the code).
fn attributes(scopes: &[String]) -> Map<String, Value> {
    let mut a = Map::new();
    if scopes.iter().any(|s| s == "profile") {
        a.insert("name".into(), PERSON.name.into());
        a.insert("given_name".into(), PERSON.given_name.into());
        a.insert("family_name".into(), PERSON.family_name.into());
        a.insert("birthdate".into(), PERSON.birthdate.into());
    }
    a.insert(
        "personal_identity_code".into(),
        PERSON.personal_identity_code.into(),
    );
    a
}

/// `POST /oauth/token` (§8), answering with the nested ID token of §9.
pub(super) async fn token(State(s): State<Arc<Inner>>, body: String) -> Response {
    let f: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if f.contains_key("client_secret") {
        return token_error(&s, "unauthorized_client", "token: a client secret".into());
    }
    let (sp, keys) = match s
        .sp_and_keys(kid_of(f.get("client_assertion")).as_deref())
        .await
    {
        Ok(v) => v,
        Err(e) => return token_error(&s, "unauthorized_client", format!("token: SP keys: {e}")),
    };
    let endpoint = format!("{}/oauth/token", s.base);
    if let Err(e) = {
        let mut jtis = s.assertion_jtis.lock().unwrap();
        checks::client_assertion(&sp, &keys, &f, &endpoint, &mut jtis)
    } {
        return token_error(&s, "unauthorized_client", e);
    }
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error(&s, "invalid_request", "token: grant_type".into());
    }
    let Some(mut issued) = f
        .get("code")
        .and_then(|c| s.codes.lock().unwrap().remove(c))
    else {
        return token_error(&s, "invalid_request", "token: invalid grant".into());
    };
    if f.get("redirect_uri")
        .is_some_and(|r| *r != issued.auth.redirect_uri)
    {
        return token_error(&s, "invalid_request", "token: redirect_uri differs".into());
    }
    let enc_key = match encryption_key(&keys) {
        Ok(k) => k,
        Err(e) => return token_error(&s, "invalid_request", e),
    };
    // §9: "sub: Subject identifier, not persistent" — new at every login.
    issued.sub = s.next_id("isb-sub");
    let now = now();
    let mut claims = json!({
        "iss": s.base,
        "sub": issued.sub,
        "aud": sp.client_id,
        "exp": now + 600,
        "iat": now,
        "auth_time": now,
        "acr": "http://ftn.ficora.fi/2017/loa2",
        "nonce": issued.auth.nonce,
    });
    if !s.knobs.lock().unwrap().attributes_only_in_profile
        && let Some(c) = claims.as_object_mut()
    {
        c.extend(attributes(&issued.auth.scopes));
    }
    let jws = sign(&s.signing_key, &claims, Some("JWT"));
    let extra = Map::from_iter([("cty".to_owned(), Value::from("JWT"))]);
    let id_token = match encrypt_to_public(
        KeyManagementAlg::RsaOaep,
        ContentEncAlg::A128CbcHs256,
        &enc_key,
        &extra,
        jws.as_bytes(),
        &aws_lc_rs::rand::SystemRandom::new(),
    ) {
        Ok(t) => t,
        Err(e) => return token_error(&s, "server_error", format!("token: encryption: {e}")),
    };
    if let Some(seen) = s
        .seen
        .lock()
        .unwrap()
        .iter_mut()
        .rev()
        .find(|x| x.request.get("nonce").and_then(Value::as_str) == Some(&issued.auth.nonce))
    {
        seen.sub = issued.sub.clone();
    }
    let access_token = s.next_id("isb-at");
    s.tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), issued);
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": id_token,
        })),
    )
        .into_response()
}

/// `GET /oauth/profile` (§10): plain JSON with the same `sub` and attributes.
pub(super) async fn profile(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let tokens = s.tokens.lock().unwrap();
    let Some(issued) = token.and_then(|t| tokens.get(t)) else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    };
    let mut out = attributes(&issued.auth.scopes);
    out.insert("sub".into(), issued.sub.clone().into());
    Json(Value::Object(out)).into_response()
}

/// `GET /api/embedded-ui/{client_id}?lang=fi|sv|en` (§6); 404 for an unknown client.
pub(super) async fn embedded_ui(
    State(s): State<Arc<Inner>>,
    Path(client_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let known =
        s.sp.lock()
            .unwrap()
            .as_ref()
            .is_some_and(|sp| sp.client_id == client_id);
    if !known {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let lang = q.get("lang").map_or("fi", String::as_str);
    let (info, consent, notice) = match lang {
        "en" => (PROVIDER_INFO, CONSENT, "OP privacy notice"),
        "sv" => (
            "OP:s identifieringsförmedlingstjänst tillhandahålls av OP Gruppens andelsbanker och OP Företagsbanken Abp.",
            "Vid identifieringen överförs din personbeteckning och ditt namn till tjänsteleverantören.",
            "OP:s dataskyddsbeskrivning",
        ),
        _ => (
            "OP:n tunnistuksenvälityspalvelun tarjoavat OP Ryhmän osuuspankit ja OP Yrityspankki Oyj.",
            "Tunnistautumisen yhteydessä henkilötunnuksesi ja nimesi välitetään palveluntarjoajalle.",
            "OP:n tietosuojaseloste",
        ),
    };
    let providers: Vec<Value> = IDPS
        .iter()
        .map(|(id, name)| {
            json!({
                "name": name,
                "imageUrl": format!("{}/public/images/idp/{id}_140x75.png", s.base),
                "ftn_idp_id": id,
            })
        })
        .collect();
    Json(json!({
        "identityProviders": providers,
        "isbProviderInfo": info,
        "isbConsent": consent,
        "privacyNoticeText": notice,
        "privacyNoticeLink": format!("{}/privacy-info?lang={lang}", s.base),
    }))
    .into_response()
}
