//! Logout: RP-Initiated Logout 1.0 §2–3 (the end-session redirect) and Back-Channel Logout 1.0
//! §2.4–2.6 (logout token validation).

use serde_json::{Map, Value};
use url::Url;

use crate::id_token::{DEFAULT_CLOCK_SKEW_SECS, IdTokenValidator};
use crate::jwks::KeySet;
use crate::jwt::{JwtError, verify_jwt};
use crate::secret::Secret;
use crate::types::{ClientId, UnixTime};

/// Back-Channel Logout 1.0 §2.4: the event member a logout token MUST carry.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Back-Channel Logout 1.0 §2.4: the explicit type a logout token's `typ` header carries.
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// Logout tokens older than this are refused (Back-Channel Logout §2.6 (6): "MAY reject ... iat too far away").
pub const MAX_LOGOUT_TOKEN_AGE_SECS: u64 = 300;

/// RP-Initiated Logout §2: the URL to send the browser to.
pub fn end_session_url(
    end_session_endpoint: &str,
    id_token_hint: Option<&Secret>,
    client_id: &ClientId,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<Url, url::ParseError> {
    let mut url = Url::parse(end_session_endpoint)?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(h) = id_token_hint {
            q.append_pair("id_token_hint", h.expose());
        }
        // §2: client_id lets the OP check post_logout_redirect_uri when no hint is given.
        q.append_pair("client_id", client_id.as_str());
        if let Some(p) = post_logout_redirect_uri {
            q.append_pair("post_logout_redirect_uri", p);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    Ok(url)
}

/// Why a logout token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutTokenError {
    /// Signature, algorithm or structure (§2.6 (3)–(4)).
    #[error("logout_token: {0}")]
    Jwt(#[from] JwtError),
    /// §2.4: a `typ` header other than `logout+jwt` (explicit typing, RFC 8725 §3.11): the
    /// token was issued as another kind of JWT.
    #[error("logout_token: typ {typ:?} is not {LOGOUT_TOKEN_TYPE}")]
    WrongType {
        /// The token's `typ` header.
        typ: String,
    },
    /// §2.6 (5): iss.
    #[error("logout_token: iss mismatch: expected {expected}, got {got}")]
    IssuerMismatch {
        /// The OP's issuer identifier.
        expected: String,
        /// The token's `iss`.
        got: String,
    },
    /// A multi-tenant Entra ID provider: the token's `tid` is missing, malformed or not
    /// allowed.
    #[error("logout_token: {0}")]
    Tenant(#[source] crate::id_token::IdTokenError),
    /// §2.6 (5): aud.
    #[error("logout_token: aud does not contain {client_id}")]
    AudienceMismatch {
        /// The RP's client ID, which `aud` must contain.
        client_id: String,
    },
    /// §2.4: a required claim is absent or mistyped.
    #[error("logout_token: claim {claim} is missing or invalid")]
    InvalidClaim {
        /// The name of the claim.
        claim: &'static str,
    },
    /// §2.6 (6): iat too far from now.
    #[error("logout_token: iat {iat} is too far from now ({now})")]
    Stale {
        /// The token's `iat` (seconds since the epoch).
        iat: u64,
        /// The current time (seconds since the epoch).
        now: u64,
    },
    /// §2.4: exp passed.
    #[error("logout_token: expired")]
    Expired,
    /// §2.6 (7): events must contain the back-channel logout member, an object.
    #[error("logout_token: events does not contain {BACKCHANNEL_LOGOUT_EVENT}")]
    MissingEvent,
    /// §2.6 (8): sid or sub required.
    #[error("logout_token: neither sid nor sub is present")]
    MissingSidAndSub,
    /// §2.6 (10): a nonce is prohibited (so an ID token cannot pass as a logout token).
    #[error("logout_token: nonce is present")]
    NoncePresent,
}

/// Whom to log out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The OP session id.
    pub sid: Option<String>,
    /// The subject.
    pub sub: Option<String>,
    /// The token id (for replay detection by the caller).
    pub jti: String,
}

/// Validate a logout token with the same pinned algorithm and keys as ID tokens (§2.6).
pub fn validate_logout_token(
    token: &str,
    validator: &IdTokenValidator,
    client_id: &ClientId,
    keys: &KeySet,
    now: UnixTime,
) -> Result<LogoutRequest, LogoutTokenError> {
    let jwt = verify_jwt(token, keys, validator.policy())?;
    // §2.4: a typ, when present, must be logout+jwt, so that no other JWT of the OP (an ID
    // token, an access token) can be replayed as a logout token.
    if let Some(typ) = jwt.header.typ.as_deref()
        && !is_logout_type(typ)
    {
        return Err(LogoutTokenError::WrongType {
            typ: typ.to_owned(),
        });
    }
    let c: Map<String, Value> = jwt.claims;
    let s = |k: &'static str| c.get(k).and_then(Value::as_str);
    let iss = s("iss").ok_or(LogoutTokenError::InvalidClaim { claim: "iss" })?;
    // §2.6 (3) as for ID tokens: a multi-tenant Entra ID issuer is the template with the
    // token's own tid put in (crate::entra), the tenant one the application lets in.
    let expected = match validator.tenants() {
        None => std::borrow::Cow::Borrowed(validator.issuer().as_str()),
        Some(policy) => std::borrow::Cow::Owned(
            crate::entra::issuer_for_tid(validator.issuer().as_str(), c.get("tid"), policy)
                .map_err(|e| LogoutTokenError::Tenant(e.into()))?,
        ),
    };
    if iss != expected.as_ref() {
        return Err(LogoutTokenError::IssuerMismatch {
            expected: expected.into_owned(),
            got: iss.to_owned(),
        });
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == client_id.as_str(),
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(LogoutTokenError::AudienceMismatch {
            client_id: client_id.as_str().to_owned(),
        });
    }
    let iat = c
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(LogoutTokenError::InvalidClaim { claim: "iat" })?;
    if iat > now.0.saturating_add(DEFAULT_CLOCK_SKEW_SECS)
        || now.0.saturating_sub(iat) > MAX_LOGOUT_TOKEN_AGE_SECS
    {
        return Err(LogoutTokenError::Stale { iat, now: now.0 });
    }
    if let Some(exp) = c.get("exp").and_then(Value::as_u64)
        && now.0 >= exp.saturating_add(DEFAULT_CLOCK_SKEW_SECS)
    {
        return Err(LogoutTokenError::Expired);
    }
    let jti = s("jti")
        .ok_or(LogoutTokenError::InvalidClaim { claim: "jti" })?
        .to_owned();
    match c
        .get("events")
        .and_then(|e| e.get(BACKCHANNEL_LOGOUT_EVENT))
    {
        Some(Value::Object(_)) => {}
        _ => return Err(LogoutTokenError::MissingEvent),
    }
    if c.contains_key("nonce") {
        return Err(LogoutTokenError::NoncePresent);
    }
    let sid = s("sid").map(str::to_owned);
    let sub = s("sub").map(str::to_owned);
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::MissingSidAndSub);
    }
    Ok(LogoutRequest { sid, sub, jti })
}

/// RFC 7515 §4.1.9: media types compare case-insensitively, and `application/` may be omitted.
fn is_logout_type(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..),
        _ => Some(typ),
    };
    bare.is_some_and(|t| t.eq_ignore_ascii_case(LOGOUT_TOKEN_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::IssuerUrl;
    use aws_lc_rs::rand::SystemRandom;
    use relier_jose::{Algorithm, SigningKey, jws};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn setup() -> (SigningKey, KeySet, IdTokenValidator, ClientId) {
        let key = SigningKey::generate(Algorithm::ES256, None)
            .unwrap()
            .with_kid("k");
        let keys = KeySet::from_keys(vec![key.verifying_key().unwrap()]);
        let cid = ClientId::new("rp").unwrap();
        let v = IdTokenValidator::new(
            IssuerUrl::new("https://op.example.com").unwrap(),
            cid.clone(),
        )
        .with_alg(Algorithm::ES256);
        (key, keys, v, cid)
    }

    fn good() -> Value {
        json!({
            "iss": "https://op.example.com", "aud": "rp", "iat": NOW, "jti": "j1", "sid": "s1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} }
        })
    }

    fn run(claims: &Value, key: Option<&SigningKey>) -> Result<LogoutRequest, LogoutTokenError> {
        run_typed(claims, key, None)
    }

    fn run_typed(
        claims: &Value,
        key: Option<&SigningKey>,
        typ: Option<&str>,
    ) -> Result<LogoutRequest, LogoutTokenError> {
        let (k, keys, v, cid) = setup();
        let key = key.unwrap_or(&k);
        let header = jws::Header {
            typ: typ.map(str::to_owned),
            ..Default::default()
        };
        let t = jws::sign_compact(
            &header,
            claims.to_string().as_bytes(),
            key,
            &SystemRandom::new(),
        )
        .unwrap();
        validate_logout_token(&t, &v, &cid, &keys, UnixTime(NOW))
    }

    fn with(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut c = good();
        f(c.as_object_mut().unwrap());
        c
    }

    #[test]
    fn a_multi_tenant_issuer_is_the_template_with_the_tokens_tenant() {
        let (key, keys, v, cid) = setup();
        let v = IdTokenValidator::new(
            IssuerUrl::new("https://login.example.com/{tenantid}/v2.0").unwrap(),
            cid.clone(),
        )
        .with_alg(v.alg())
        .with_tenants(crate::entra::TenantPolicy::Allowed(vec!["t1".into()]));
        let check = |iss: &str, tid: Option<&str>| {
            let mut c = with(|c| {
                c.insert("iss".into(), json!(iss));
            });
            if let Some(t) = tid {
                c["tid"] = json!(t);
            }
            let t = jws::sign_compact(
                &jws::Header::default(),
                c.to_string().as_bytes(),
                &key,
                &SystemRandom::new(),
            )
            .unwrap();
            validate_logout_token(&t, &v, &cid, &keys, UnixTime(NOW))
        };
        assert!(check("https://login.example.com/t1/v2.0", Some("t1")).is_ok());
        assert!(matches!(
            check("https://login.example.com/t2/v2.0", Some("t2")),
            Err(LogoutTokenError::Tenant(_))
        ));
        assert!(matches!(
            check("https://login.example.com/t2/v2.0", Some("t1")),
            Err(LogoutTokenError::IssuerMismatch { .. })
        ));
        assert!(matches!(
            check("https://login.example.com/t1/v2.0", None),
            Err(LogoutTokenError::Tenant(_))
        ));
        assert!(matches!(
            check("https://login.example.com/{tenantid}/v2.0", Some("t1")),
            Err(LogoutTokenError::IssuerMismatch { .. })
        ));
    }

    #[test]
    fn accepts_a_good_token() {
        let r = run(&good(), None).unwrap();
        assert_eq!(r.sid.as_deref(), Some("s1"));
    }

    /// `claims` with `change` applied, validated: the error.
    fn refused(change: impl FnOnce(&mut Map<String, Value>)) -> LogoutTokenError {
        run(&with(change), None).unwrap_err()
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss`: Back-Channel Logout 1.0 §2.6
    /// step 3 (the iss of OIDC Core §3.1.3.7 (2)).
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_iss() {
        let err = refused(|c| {
            c.insert("iss".into(), json!("https://evil"));
        });
        assert!(
            matches!(err, LogoutTokenError::IssuerMismatch { .. }),
            "{err}"
        );
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud`: §2.6 step 3 (OIDC Core
    /// §3.1.3.7 (3)).
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_aud() {
        let err = refused(|c| {
            c.insert("aud".into(), json!("other"));
        });
        assert!(
            matches!(err, LogoutTokenError::AudienceMismatch { .. }),
            "{err}"
        );
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-no-event`: §2.6 step 5, the events claim
    /// must hold the back-channel logout event.
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_no_event() {
        let err = refused(|c| {
            c.remove("events");
        });
        assert!(matches!(err, LogoutTokenError::MissingEvent), "{err}");
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event`: an events claim with
    /// another event only (§2.6 step 5).
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_event() {
        let err = refused(|c| {
            c.insert("events".into(), json!({"http://other/event": {}}));
        });
        assert!(matches!(err, LogoutTokenError::MissingEvent), "{err}");
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce`: a logout token must not
    /// contain a nonce (§2.6 step 7).
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_with_nonce() {
        let err = refused(|c| {
            c.insert("nonce".into(), json!("n"));
        });
        assert!(matches!(err, LogoutTokenError::NoncePresent), "{err}");
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg`: signed with another
    /// algorithm (RS256) than the OP's registered one (ES256): §2.6 step 3 (OIDC Core §3.1.3.7
    /// (7)).
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_alg() {
        let rs = SigningKey::generate(Algorithm::RS256, None)
            .unwrap()
            .with_kid("k");
        assert!(run(&good(), None).is_ok());
        assert!(matches!(
            run(&good(), Some(&rs)),
            Err(LogoutTokenError::Jwt(JwtError::AlgorithmMismatch { .. }))
        ));
    }

    #[test]
    fn missing_sid_and_sub_or_stale_iat_refused() {
        let err = refused(|c| {
            c.remove("sid");
        });
        assert!(matches!(err, LogoutTokenError::MissingSidAndSub), "{err}");
        let err = refused(|c| {
            c.insert("iat".into(), json!(NOW - 3600));
        });
        assert!(matches!(err, LogoutTokenError::Stale { .. }), "{err}");
    }

    /// Back-Channel Logout 1.0 §2.4 (explicit typing): typ, when present, is logout+jwt,
    /// compared as a media type (RFC 7515 §4.1.9).
    #[test]
    fn typ_when_present_must_be_logout_jwt() {
        for ok in [
            None,
            Some("logout+jwt"),
            Some("Logout+JWT"),
            Some("application/logout+jwt"),
            Some("APPLICATION/logout+jwt"),
        ] {
            assert!(run_typed(&good(), None, ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "JWT",
            "jwt",
            "at+jwt",
            "secevent+jwt",
            "application/jwt",
            "",
            "logout+jwt; v=1",
            " logout+jwt",
            "text/logout+jwt",
            "application/",
        ] {
            match run_typed(&good(), None, Some(bad)) {
                Err(LogoutTokenError::WrongType { typ }) => assert_eq!(typ, bad),
                other => panic!("typ {bad:?}: {other:?}"),
            }
        }
    }

    /// `oidcc-client-test-rp-backchannel-rpinitlogout-alg-none`: an unsigned logout token is
    /// refused (Back-Channel Logout 1.0 §2.6 step 3; OIDC Core §3.1.3.7 (7)), whatever the
    /// client registered for ID tokens.
    #[test]
    fn oidcc_client_test_rp_backchannel_rpinitlogout_alg_none() {
        let (_, keys, v, cid) = setup();
        let t = format!(
            "{}.{}.",
            relier_jose::b64::encode(br#"{"alg":"none"}"#),
            relier_jose::b64::encode(good().to_string().as_bytes())
        );
        assert!(matches!(
            validate_logout_token(&t, &v, &cid, &keys, UnixTime(NOW)),
            Err(LogoutTokenError::Jwt(JwtError::Unsigned))
        ));
    }

    #[test]
    fn end_session() {
        let u = end_session_url(
            "https://op.example.com/session/end",
            Some(&Secret::new("idt")),
            &ClientId::new("rp").unwrap(),
            Some("https://rp/bye"),
            None,
        )
        .unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["id_token_hint"], "idt");
        assert_eq!(q["post_logout_redirect_uri"], "https://rp/bye");
    }
}
