//! How the broker knows a Service Provider (ISB README §13, §14): only through the SP's entity
//! statement, handed over out of band and self-signed with one of its entity keys, and the
//! SP's signing and encryption keys fetched from the statement's `signed_jwks_uri`, a JWS the
//! entity key signed. Nothing else — no `jwks_uri`, no registration — is ever believed.

use relier_core::federation::{ENTITY_STATEMENT_TYP, EntityStatementClaims, SIGNED_JWKS_TYP};
use relier_jose::jws::UnverifiedJws;
use relier_jose::{Algorithm, Jwk, JwkSet, VerifyingKey};

use super::super::now;

/// A Service Provider the broker has onboarded: its statement's claims, verified.
#[derive(Debug, Clone)]
pub struct Sp {
    /// The client id the broker assigned.
    pub client_id: String,
    /// The SP's entity id (`iss` = `sub` of its statement).
    pub entity_id: String,
    /// The SP's entity keys (`jwks` of its statement).
    pub entity_keys: JwkSet,
    /// `metadata.openid_relying_party.redirect_uris` (a trailing `*` is a prefix wildcard).
    pub redirect_uris: Vec<String>,
    /// `metadata.openid_relying_party.signed_jwks_uri`.
    pub signed_jwks_uri: String,
}

/// `token`, a JWS, verified with the key of `keys` its header's `kid` names (RS256 only).
fn verify_with<'a>(
    token: &'a UnverifiedJws<'a>,
    keys: &JwkSet,
    what: &str,
) -> Result<&'a [u8], String> {
    if token.header_alg() != "RS256" {
        return Err(format!("{what}: alg {:?}, not RS256", token.header_alg()));
    }
    let kid = token
        .header()
        .kid
        .as_deref()
        .ok_or_else(|| format!("{what}: no kid in the header"))?;
    let jwk = keys
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid))
        .ok_or_else(|| format!("{what}: kid {kid:?} is not among the keys that may sign it"))?;
    let key = VerifyingKey::from_jwk(jwk).map_err(|e| format!("{what}: key {kid:?}: {e}"))?;
    token
        .verify(Algorithm::RS256, &key)
        .map_err(|e| format!("{what}: signature: {e}"))
}

impl Sp {
    /// ISB README §13: the SP's statement, self-signed (`typ: entity-statement+jwt`, signed by
    /// a key of its own `jwks`), `iss` = `sub`, not expired, with the RP metadata the broker
    /// needs.
    pub fn from_statement(client_id: &str, statement: &str) -> Result<Sp, String> {
        let jws = UnverifiedJws::parse(statement).map_err(|e| format!("SP statement: {e}"))?;
        if jws.header().typ.as_deref() != Some(ENTITY_STATEMENT_TYP) {
            return Err(format!(
                "SP statement: typ {:?}, not {ENTITY_STATEMENT_TYP}",
                jws.header().typ
            ));
        }
        let claims: EntityStatementClaims = serde_json::from_slice(jws.unverified_payload())
            .map_err(|e| format!("SP statement claims: {e}"))?;
        verify_with(&jws, &claims.jwks, "SP statement")?;
        if claims.iss != claims.sub {
            return Err("SP statement: iss is not sub (not self-signed)".into());
        }
        if claims.exp <= now() as i64 {
            return Err("SP statement: expired".into());
        }
        let rp = claims
            .metadata
            .openid_relying_party
            .ok_or("SP statement: no metadata.openid_relying_party")?;
        let text = |k: &str| rp.get(k).and_then(serde_json::Value::as_str);
        for (k, v) in [
            ("id_token_signed_response_alg", "RS256"),
            ("id_token_encrypted_response_alg", "RSA-OAEP"),
            ("id_token_encrypted_response_enc", "A128CBC-HS256"),
            ("request_object_signing_alg", "RS256"),
            ("token_endpoint_auth_method", "private_key_jwt"),
            ("token_endpoint_auth_signing_alg", "RS256"),
        ] {
            if text(k) != Some(v) {
                return Err(format!("SP statement: {k} is {:?}, not {v}", text(k)));
            }
        }
        let redirect_uris = rp
            .get("redirect_uris")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .filter(|a| !a.is_empty())
            .ok_or("SP statement: no redirect_uris")?;
        let signed_jwks_uri = text("signed_jwks_uri")
            .ok_or("SP statement: no signed_jwks_uri")?
            .to_owned();
        Ok(Sp {
            client_id: client_id.to_owned(),
            entity_id: claims.iss,
            entity_keys: claims.jwks,
            redirect_uris,
            signed_jwks_uri,
        })
    }

    /// ISB README §13: whether `uri` is registered (exactly, or by a trailing `*` wildcard).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|r| match r.strip_suffix('*') {
                Some(prefix) => uri.starts_with(prefix),
                None => r == uri,
            })
    }

    /// ISB README §14: the SP's signed JWKS, fetched from its `signed_jwks_uri`, verified with
    /// an entity key of its statement; `typ` absent or `jwk-set+jwt`, `iss` = the SP's entity
    /// id, `exp` (if any) not passed. Returns the keys.
    pub async fn fetch_keys(&self, http: &reqwest::Client) -> Result<Vec<Jwk>, String> {
        let body = http
            .get(&self.signed_jwks_uri)
            .send()
            .await
            .map_err(|e| format!("SP signed JWKS: {e}"))?
            .text()
            .await
            .map_err(|e| format!("SP signed JWKS: {e}"))?;
        self.open_signed_jwks(body.trim())
    }

    /// See [`Self::fetch_keys`]: the checks of one signed JWKS.
    pub fn open_signed_jwks(&self, token: &str) -> Result<Vec<Jwk>, String> {
        let jws = UnverifiedJws::parse(token).map_err(|e| format!("SP signed JWKS: {e}"))?;
        match jws.header().typ.as_deref() {
            None => {}
            Some(t) if t == SIGNED_JWKS_TYP => {}
            Some(t) => return Err(format!("SP signed JWKS: typ {t:?}")),
        }
        let payload = verify_with(&jws, &self.entity_keys, "SP signed JWKS")?;
        let set: relier_core::federation::SignedJwksClaims =
            serde_json::from_slice(payload).map_err(|e| format!("SP signed JWKS claims: {e}"))?;
        if set.iss != self.entity_id {
            return Err(format!(
                "SP signed JWKS: iss {:?}, not the SP's entity id",
                set.iss
            ));
        }
        if set.exp.is_some_and(|e| e <= now() as i64) {
            return Err("SP signed JWKS: expired".into());
        }
        if set.keys.iter().any(Jwk::is_private) {
            return Err("SP signed JWKS: a private key member".into());
        }
        Ok(set.keys)
    }
}

/// The key of `keys` a JWS from the SP names by `kid` for `use: sig`, as a verifier.
pub fn signing_key(keys: &[Jwk], kid: Option<&str>) -> Result<VerifyingKey, String> {
    let kid = kid.ok_or("no kid in the header")?;
    let jwk = keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid) && k.use_.as_deref() != Some("enc"))
        .ok_or_else(|| format!("kid {kid:?} is not a signing key of the SP's signed JWKS"))?;
    VerifyingKey::from_jwk(jwk).map_err(|e| format!("SP key {kid:?}: {e}"))
}

/// The SP's encryption key (`use: enc`, RSA, for RSA-OAEP) from its signed JWKS.
pub fn encryption_key(keys: &[Jwk]) -> Result<relier_jose::jwe::EncryptionKey, String> {
    let jwk = keys
        .iter()
        .find(|k| {
            k.use_.as_deref() == Some("enc")
                && k.kty == "RSA"
                && k.alg.as_deref().is_none_or(|a| a == "RSA-OAEP")
        })
        .ok_or("the SP's signed JWKS has no RSA-OAEP encryption key")?;
    relier_jose::jwe::EncryptionKey::from_jwk(jwk).map_err(|e| format!("SP encryption key: {e}"))
}
