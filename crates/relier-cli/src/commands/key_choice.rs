//! Which key a `relier keys` command means: the algorithm of `--alg` within `--use` (an entity
//! key is a signing algorithm of its own use), the default algorithm of a key imported from a
//! file, and the algorithms `keys rotate --use` rotates.

use anyhow::Context as _;
use relier_jose::jwe::{DecryptionKey, KeyManagementAlg};
use relier_jose::{Algorithm, SigningKey};
use relier_store::{KeyAlg, KeyInfo, KeyState, KeyUse};

/// `--alg` (parsed as a signing or encryption algorithm) within `--use`: an entity key takes a
/// signing algorithm; sig and enc must match the algorithm's registry.
pub fn within_use(alg: KeyAlg, key_use: KeyUse) -> anyhow::Result<KeyAlg> {
    match (key_use, alg) {
        (KeyUse::Entity, KeyAlg::Sig(a) | KeyAlg::Entity(a)) => Ok(KeyAlg::Entity(a)),
        (wanted, alg) if alg.key_use() == wanted => Ok(alg),
        (wanted, alg) => anyhow::bail!("{alg} is for {} keys, not --use {wanted}", alg.key_use()),
    }
}

/// The algorithm `keys import` uses without `--alg`, from the key in `pem`: an RSA key RS256
/// (sig, entity) or RSA-OAEP (enc: what the Finnish Trust Network brokers encrypt with); an EC
/// key ES256/ES384/ES512 by curve, or ECDH-ES; Ed25519 EdDSA; X25519 ECDH-ES. A key that does
/// not read gets the RSA default, and the store's import says what is wrong with it.
pub fn import_default(key_use: KeyUse, pem: &str) -> KeyAlg {
    let alg = match SigningKey::from_pkcs8_pem(pem, None) {
        Ok(key) => key.algorithm(),
        // An X25519 key is only an encryption key.
        Err(_) if key_use == KeyUse::Enc && DecryptionKey::from_pkcs8_pem(pem).is_ok() => {
            return KeyAlg::Enc(KeyManagementAlg::EcdhEs);
        }
        Err(_) => Algorithm::RS256,
    };
    match key_use {
        KeyUse::Sig => KeyAlg::Sig(alg),
        KeyUse::Entity => KeyAlg::Entity(alg),
        KeyUse::Enc if alg.is_rsa() => KeyAlg::Enc(KeyManagementAlg::RsaOaep),
        KeyUse::Enc => KeyAlg::Enc(KeyManagementAlg::EcdhEs),
    }
}

/// What `keys rotate` rotates: `None` for the store's default (every signing and encryption
/// algorithm with an active key), else these algorithms: `--alg` (within `--use`), or every
/// algorithm of `--use` that has an active key.
pub fn rotation_targets(
    alg: Option<KeyAlg>,
    key_use: Option<KeyUse>,
    keys: &[KeyInfo],
) -> anyhow::Result<Option<Vec<KeyAlg>>> {
    match (alg, key_use) {
        (None, None) => Ok(None),
        (Some(alg), None) => Ok(Some(vec![alg])),
        (Some(alg), Some(u)) => Ok(Some(vec![within_use(alg, u)?])),
        (None, Some(u)) => {
            let mut algs: Vec<KeyAlg> = keys
                .iter()
                .filter(|k| k.state == KeyState::Active && k.key_use() == u)
                .map(|k| k.alg)
                .collect();
            algs.sort_by_key(|a| a.as_str());
            algs.dedup();
            if algs.is_empty() {
                let hint = match u {
                    KeyUse::Entity => "relier keys generate --use entity".to_owned(),
                    KeyUse::Enc => "relier keys generate --use enc".to_owned(),
                    KeyUse::Sig => "relier keys generate --alg ES256".to_owned(),
                };
                anyhow::bail!("no active {u} key to rotate: create one with `{hint}`");
            }
            Ok(Some(algs))
        }
    }
}

/// Reads the PEM file of `keys import` (capped like every credential file).
pub fn read_pem(path: &std::path::Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let bytes = relier::credentials::read_credential_file(
        path,
        relier::credentials::CredentialFile::PrivateKey,
    )?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not a PEM file (not UTF-8)", path.display()))?;
    Ok(zeroize::Zeroizing::new(text.to_owned()))
}

/// The default algorithm of an entity key (the Finnish Trust Network's).
pub const ENTITY_DEFAULT: KeyAlg = KeyAlg::Entity(Algorithm::RS256);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_within_a_use() {
        let rs = KeyAlg::Sig(Algorithm::RS256);
        assert_eq!(
            within_use(rs, KeyUse::Entity).unwrap(),
            KeyAlg::Entity(Algorithm::RS256)
        );
        assert_eq!(within_use(rs, KeyUse::Sig).unwrap(), rs);
        assert!(within_use(rs, KeyUse::Enc).is_err());
        let oaep = KeyAlg::Enc(KeyManagementAlg::RsaOaep);
        assert!(within_use(oaep, KeyUse::Entity).is_err());
        assert_eq!(within_use(oaep, KeyUse::Enc).unwrap(), oaep);
    }

    #[test]
    fn import_defaults_by_key_type() {
        let rsa = include_str!("../../../../tests/vectors/isb/sp-signing-key.pem");
        assert_eq!(
            import_default(KeyUse::Sig, rsa),
            KeyAlg::Sig(Algorithm::RS256)
        );
        assert_eq!(import_default(KeyUse::Entity, rsa), ENTITY_DEFAULT);
        assert_eq!(
            import_default(KeyUse::Enc, rsa),
            KeyAlg::Enc(KeyManagementAlg::RsaOaep)
        );
        let ec = SigningKey::generate(Algorithm::ES384, None)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap();
        assert_eq!(
            import_default(KeyUse::Sig, &ec),
            KeyAlg::Sig(Algorithm::ES384)
        );
        assert_eq!(
            import_default(KeyUse::Enc, &ec),
            KeyAlg::Enc(KeyManagementAlg::EcdhEs)
        );
        // Unreadable: the RSA default; the import itself then says why.
        assert_eq!(import_default(KeyUse::Entity, "nothing"), ENTITY_DEFAULT);
    }

    #[test]
    fn rotation_targets_by_use() {
        let key = |kid: &str, alg: KeyAlg, state| KeyInfo {
            kid: kid.into(),
            alg,
            state,
            created_at: 0,
            activates_at: None,
            retired_at: None,
            grace_until: None,
        };
        let keys = [
            key("s", KeyAlg::Sig(Algorithm::RS256), KeyState::Active),
            key("e", ENTITY_DEFAULT, KeyState::Active),
            key(
                "x",
                KeyAlg::Enc(KeyManagementAlg::RsaOaep),
                KeyState::Retired,
            ),
        ];
        assert_eq!(rotation_targets(None, None, &keys).unwrap(), None);
        assert_eq!(
            rotation_targets(None, Some(KeyUse::Entity), &keys).unwrap(),
            Some(vec![ENTITY_DEFAULT])
        );
        let err = rotation_targets(None, Some(KeyUse::Enc), &keys).unwrap_err();
        assert!(err.to_string().contains("--use enc"), "{err}");
        assert_eq!(
            rotation_targets(
                Some(KeyAlg::Sig(Algorithm::RS256)),
                Some(KeyUse::Entity),
                &keys
            )
            .unwrap(),
            Some(vec![ENTITY_DEFAULT])
        );
    }
}
