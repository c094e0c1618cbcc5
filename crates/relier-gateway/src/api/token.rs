//! Authenticating a request on an `[[api]]` path by its `Authorization` header.

use std::sync::Arc;

use axum::http::{HeaderMap, Method, header};
use relier_core::Secret;
use relier_core::UnixTime;
use relier_core::access_token::{AccessTokenExpectations, VerifiedAccessToken, from_introspection};
use relier_core::introspection::TokenTypeHint;

use super::cache::TokenKey;
use super::{ApiRule, AuthKind, Challenge, TokenPrincipal};
use crate::clock;
use crate::state::AppState;

/// Longest token accepted (a JWT with many claims fits well below).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The scheme a token came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Dpop,
}

/// The request's token for `rule` (index `index`) on a request with `method` to `target` at
/// `origin` (as the client made it): `Ok(None)` when the request carries no
/// `Authorization` header (the caller then looks for a session), the token's principal when
/// it passes, else the challenge to answer.
pub async fn authenticate(
    state: &AppState,
    (index, rule): (usize, &ApiRule),
    headers: &HeaderMap,
    (method, origin, target): (&Method, &str, &str),
) -> Result<Option<Arc<TokenPrincipal>>, Challenge> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    // RFC 6750 §3.1: more than one credential is invalid_request.
    if values.next().is_some() {
        return Err(Challenge::InvalidRequest);
    }
    let (scheme, token) = parse(value.as_bytes()).ok_or(Challenge::InvalidRequest)?;
    let now = clock::now();
    let key = TokenKey::new(index, token);
    let principal = match state.api_tokens.get(&key, now) {
        // The same key is the same token, whose syntax passed when it was cached.
        Some(p) => p,
        None => {
            if !is_b64token(token) {
                return Err(Challenge::InvalidRequest);
            }
            let p = validate(state, rule, token, now)
                .await
                .map_err(|c| match (c, scheme) {
                    // RFC 9449 §7.1: the challenge names the scheme the client used.
                    (Challenge::InvalidToken, Scheme::Dpop) => Challenge::InvalidDpop,
                    (c, _) => c,
                })?;
            let p = Arc::new(p);
            state.api_tokens.insert(key, p.clone(), now);
            p
        }
    };
    match (scheme, &principal.jkt) {
        // RFC 9449 §7.1: a DPoP-bound token presented as a bearer token is refused.
        (Scheme::Bearer, Some(_)) => {
            tracing::info!("api: a DPoP-bound access token was presented as Bearer; refused");
            return Err(Challenge::InvalidToken);
        }
        (Scheme::Bearer, None) => {}
        (Scheme::Dpop, jkt) => {
            super::dpop::check(
                state,
                rule,
                headers,
                (method, origin, target),
                token,
                (jkt.as_deref(), &principal.proof_key),
                now,
            )?;
        }
    }
    // RFC 6750 §3.1: insufficient_scope names the scope the resource needs.
    if !rule
        .scopes
        .iter()
        .all(|r| principal.scopes.iter().any(|s| s == r))
    {
        return Err(Challenge::InsufficientScope {
            scope: rule.scopes.join(" "),
        });
    }
    Ok(Some(principal))
}

/// `Bearer <token>` or `DPoP <token>` (scheme case-insensitive, RFC 9110 §11.1). The token's
/// syntax is [`is_b64token`]'s to check, before it is validated.
fn parse(value: &[u8]) -> Option<(Scheme, &str)> {
    let s = std::str::from_utf8(value).ok()?;
    let (scheme, token) = s.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    let token = token.trim_start_matches(' ');
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN).then_some((scheme, token))
}

/// RFC 6750 §2.1 b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    /// The b64token characters but `=`, as a bit mask over ASCII: one shift and test per
    /// byte of a ~1 KB JWT.
    const B64TOKEN: u128 = {
        let mut mask = 0u128;
        let mut c = 0u8;
        while c < 128 {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/') {
                mask |= 1 << c;
            }
            c += 1;
        }
        mask
    };
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b < 128 && (B64TOKEN >> b) & 1 == 1)
}

/// Validates a token at the rule's providers: a JWT as RFC 9068, else (with `introspect`) by
/// RFC 7662 introspection.
async fn validate(
    state: &AppState,
    rule: &ApiRule,
    token: &str,
    now: u64,
) -> Result<TokenPrincipal, Challenge> {
    let is_jwt = token.bytes().filter(|b| *b == b'.').count() == 2;
    if !is_jwt && !rule.introspect {
        tracing::info!("api: an opaque access token and introspect is off; refused");
        return Err(Challenge::InvalidToken);
    }
    let mut unavailable = false;
    for name in &rule.providers {
        let Some(provider) = state.providers.get(name) else {
            continue;
        };
        let Some(rp) = provider.rp() else { continue };
        let result = if is_jwt {
            rp.validate_access_token(token, &rule.audience).await
        } else {
            introspect(&rp, token, &rule.audience, now).await
        };
        match result {
            Ok(t) => return Ok(principal(state, name, t)),
            Err(relier::Error::AccessToken(e)) => {
                tracing::info!(provider = name.as_str(), error = %e, "api: access token refused");
            }
            Err(e) => {
                unavailable = true;
                tracing::warn!(provider = name.as_str(), error = %e, "api: access token could not be checked");
            }
        }
    }
    Err(if unavailable {
        Challenge::Unavailable
    } else {
        Challenge::InvalidToken
    })
}

async fn introspect(
    rp: &relier::RelyingParty,
    token: &str,
    audience: &str,
    now: u64,
) -> Result<VerifiedAccessToken, relier::Error> {
    let resp = rp
        .introspect(&Secret::new(token), Some(TokenTypeHint::AccessToken))
        .await?;
    let expect = AccessTokenExpectations {
        issuer: &rp.metadata().issuer,
        audience,
        alg: relier_core::Algorithm::ES256,
        skew: relier_core::id_token::DEFAULT_CLOCK_SKEW_SECS,
    };
    Ok(from_introspection(resp, &expect, UnixTime(now))?)
}

fn principal(state: &AppState, provider: &str, t: VerifiedAccessToken) -> TokenPrincipal {
    let kind = if t.jkt.is_some() {
        AuthKind::Dpop
    } else {
        AuthKind::Bearer
    };
    TokenPrincipal {
        headers: state.settings.identity.for_token(provider, &t, kind),
        provider: provider.to_owned(),
        issuer: t.iss,
        subject: t.sub,
        client_id: t.client_id,
        kind,
        // Cached until exp and never longer.
        exp: t.exp,
        scopes: t.scopes,
        jkt: t.jkt,
        proof_key: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64token_syntax_rfc_6750_2_1() {
        for ok in ["abc", "a-b.c_d~e+f/g", "abc==", "eyJ.eyJ.sig", "Z"] {
            assert!(is_b64token(ok), "{ok}");
        }
        for bad in [
            "", "==", "a b", "a=b", "a,b", "é", "a\"b", "a\\b", "a\u{7f}",
        ] {
            assert!(!is_b64token(bad), "{bad:?}");
        }
        assert_eq!(parse(b"bearer  abc"), Some((Scheme::Bearer, "abc")));
        assert_eq!(parse(b"DPoP abc"), Some((Scheme::Dpop, "abc")));
        assert_eq!(parse(b"Basic abc"), None);
        assert_eq!(parse(b"Bearer "), None);
    }
}
