//! The JWKS check of [`super::examine`]: one finding per published key.

use relier_jose::{Jwk, JwkSet};

use super::checks::Context;
use super::{Grade, JwksInput};
use crate::key_strength::{KeyStrength, MIN_RSA_BITS};

const SIZES: &str = "RFC 7518 §3.3; FAPI 2.0 Security Profile §5.4.1";

/// RFC 7517 §5 key sets: every key sized (RSA < 2048 bits fails, RFC 7518 §3.3), no symmetric
/// or private key material published (RFC 7517 §9.2 / §4: a JWKS at `jwks_uri` is public).
pub(super) fn jwks(ctx: &mut Context<'_>, input: JwksInput<'_>) {
    let body = match input {
        JwksInput::Body(b) => b,
        JwksInput::NotPublished => {
            ctx.push(
                "jwks",
                Grade::Warn,
                "OIDC Discovery 1.0 §3",
                "no jwks_uri (REQUIRED): ID tokens can only be HMAC-signed".into(),
            );
            return;
        }
        JwksInput::Unavailable(reason) => {
            ctx.push(
                "jwks",
                Grade::Fail,
                "OIDC Discovery 1.0 §3",
                format!("jwks_uri could not be fetched: {reason}"),
            );
            return;
        }
    };
    let set = match JwkSet::from_slice(body) {
        Ok(set) => set,
        Err(e) => {
            ctx.push(
                "jwks",
                Grade::Fail,
                "RFC 7517 §5",
                format!("jwks_uri does not hold a JWK Set: {e}"),
            );
            return;
        }
    };
    if set.keys.is_empty() {
        ctx.push(
            "jwks",
            Grade::Warn,
            "RFC 7517 §5",
            "the JWK Set is empty".into(),
        );
    }
    for jwk in &set.keys {
        key(ctx, jwk);
    }
}

fn key(ctx: &mut Context<'_>, jwk: &Jwk) {
    let name = format!(
        "key {} ({})",
        jwk.kid.as_deref().unwrap_or("without kid"),
        jwk.use_.as_deref().unwrap_or("no use")
    );
    if jwk.is_private() {
        ctx.push(
            "jwks_key",
            Grade::Fail,
            "RFC 7517 §9.2",
            format!("{name} publishes private key material"),
        );
        return;
    }
    let strength = KeyStrength::of(jwk);
    let described = strength.describe();
    let (grade, rule) = match &strength {
        KeyStrength::Rsa { bits } if *bits < MIN_RSA_BITS => (Grade::Fail, SIZES),
        KeyStrength::Symmetric => (Grade::Fail, "RFC 7517 §9.2"),
        KeyStrength::Unreadable { .. } => (Grade::Warn, "RFC 7517 §4"),
        s if s.meets_fapi2() => (Grade::Pass, SIZES),
        // A curve relier does not know, or smaller than 224 bits.
        _ => (ctx.fapi(), SIZES),
    };
    ctx.push("jwks_key", grade, rule, format!("{name}: {described}"));
}
