//! RP encryption keys (`use` "enc") on both backends: the signing-key lifecycle, published
//! beside the signing keys, private parts sealed, retired keys decrypting until removed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::TestDb;
use relier_jose::Algorithm;
use relier_jose::jwe::KeyManagementAlg;
use relier_store::{KeyAlg, KeyState, KeyUse, MasterKey, MasterKeySource, Store, UnixTime};

const NOW: u64 = 1_700_000_000;
const OAEP: KeyAlg = KeyAlg::Enc(KeyManagementAlg::RsaOaep256);
const ECDH: KeyAlg = KeyAlg::Enc(KeyManagementAlg::EcdhEs);

async fn open(db: &TestDb) -> Box<dyn Store> {
    let key = MasterKey::from_bytes([0x5a; 32]);
    relier_store::open(db.url(), MasterKeySource::Key(key))
        .await
        .unwrap()
        .0
}

async fn enc_keys_are_published_beside_signing_keys(db: TestDb) {
    let store = open(&db).await;
    let sig = store
        .generate_key(Algorithm::ES256.into(), None, UnixTime(NOW))
        .await
        .unwrap();
    let rsa = store
        .generate_key(OAEP, Some(3072), UnixTime(NOW))
        .await
        .unwrap();
    let ec = store.generate_key(ECDH, None, UnixTime(NOW)).await.unwrap();
    assert_eq!(rsa.state, KeyState::Active);
    assert_eq!(ec.state, KeyState::Active);
    assert_eq!(rsa.key_use(), KeyUse::Enc);
    assert_eq!(sig.key_use(), KeyUse::Sig);

    let jwks = serde_json::to_value(store.jwks(UnixTime(NOW)).await.unwrap()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let of = |kid: &str| keys.iter().find(|k| k["kid"] == kid).unwrap().clone();
    assert_eq!(of(&sig.kid)["use"], "sig");
    let r = of(&rsa.kid);
    assert_eq!(
        (&r["use"], &r["alg"], &r["kty"]),
        (&"enc".into(), &"RSA-OAEP-256".into(), &"RSA".into())
    );
    // 3072-bit modulus: 384 bytes, 512 base64url characters.
    assert_eq!(r["n"].as_str().unwrap().len(), 512);
    let e = of(&ec.kid);
    assert_eq!(
        (&e["use"], &e["alg"], &e["crv"]),
        (&"enc".into(), &"ECDH-ES".into(), &"P-256".into())
    );
    for k in keys {
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(member).is_none(), "{member} in {k}");
        }
    }

    // Signing looks only at signing keys; the enc algorithms are listed apart.
    assert_eq!(store.active_algs().await.unwrap(), [Algorithm::ES256]);
    assert_eq!(
        store.active_enc_algs().await.unwrap(),
        [KeyManagementAlg::EcdhEs, KeyManagementAlg::RsaOaep256]
    );
    let keys = store
        .decryption_keys(KeyManagementAlg::RsaOaep256)
        .await
        .unwrap();
    assert_eq!(keys.keys().len(), 1);
    let key = &keys.keys()[0];
    assert_eq!(key.kid(), Some(rsa.kid.as_str()));
    assert_eq!(key.algorithm(), Some(KeyManagementAlg::RsaOaep256));
    assert_eq!(key.thumbprint_sha256().unwrap(), rsa.kid);

    // `list_keys` names the use.
    let listed = serde_json::to_value(store.list_keys().await.unwrap()).unwrap();
    let uses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["use"].as_str().unwrap())
        .collect();
    assert_eq!(uses.iter().filter(|u| **u == "enc").count(), 2);
    store.close().await;
}

async fn enc_keys_rotate_and_retired_keys_decrypt_until_removed(db: TestDb) {
    let store = open(&db).await;
    let first = store.generate_key(ECDH, None, UnixTime(NOW)).await.unwrap();
    // Rotation: the new key is published first, active after the propagation delay.
    let rotated = store
        .rotate_keys(Some(ECDH), 600, UnixTime(NOW))
        .await
        .unwrap();
    assert_eq!(rotated.len(), 1);
    let second = &rotated[0];
    assert_eq!(second.state, KeyState::Next);
    let kids = |keys: &relier_jose::jwe::DecryptionKeys| -> Vec<String> {
        keys.keys()
            .iter()
            .map(|k| k.kid().unwrap().to_owned())
            .collect()
    };
    let before = store
        .decryption_keys(KeyManagementAlg::EcdhEs)
        .await
        .unwrap();
    assert_eq!(kids(&before), [first.kid.clone(), second.kid.clone()]);

    let changes = store.advance_keys(UnixTime(NOW + 600)).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.alg == ECDH));
    // The retired key still decrypts, after the new active one, even after its grace period.
    let later = UnixTime(NOW + 600 + 100_000);
    let after = store
        .decryption_keys(KeyManagementAlg::EcdhEs)
        .await
        .unwrap();
    assert_eq!(kids(&after), [second.kid.clone(), first.kid.clone()]);
    let jwks = store.jwks(later).await.unwrap();
    assert_eq!(
        jwks.keys.len(),
        1,
        "retired past its grace: no longer published"
    );

    store.remove_key(&first.kid, false, later).await.unwrap();
    let removed = store
        .decryption_keys(KeyManagementAlg::EcdhEs)
        .await
        .unwrap();
    assert_eq!(kids(&removed), [second.kid.as_str()]);
    // No key of another algorithm comes along.
    assert!(
        store
            .decryption_keys(KeyManagementAlg::RsaOaep256)
            .await
            .unwrap()
            .keys()
            .is_empty()
    );
    store.close().await;
}

async fn symmetric_key_management_is_refused(db: TestDb) {
    let store = open(&db).await;
    for alg in [
        KeyManagementAlg::Dir,
        KeyManagementAlg::A128Kw,
        KeyManagementAlg::A256Kw,
    ] {
        let err = store
            .generate_key(alg.into(), None, UnixTime(NOW))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(alg.as_str()), "{err}");
    }
    assert!(
        store
            .generate_key(ECDH, Some(2048), UnixTime(NOW))
            .await
            .is_err()
    );
    assert!(store.list_keys().await.unwrap().is_empty());
    store.close().await;
}

async fn enc_private_keys_are_sealed(db: TestDb) {
    let store = open(&db).await;
    let k = store.generate_key(ECDH, None, UnixTime(NOW)).await.unwrap();
    store.close().await;
    // Another row's sealed key under this kid does not open (the kid is associated data).
    let store = open(&db).await;
    let other = store.generate_key(OAEP, None, UnixTime(NOW)).await.unwrap();
    store.close().await;
    db.exec(
        "UPDATE keys SET private_key = (SELECT private_key FROM keys WHERE kid = $1) \
         WHERE kid = $2",
        &[&other.kid, &k.kid],
    )
    .await;
    let store = open(&db).await;
    let err = store
        .decryption_keys(KeyManagementAlg::EcdhEs)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&k.kid), "{err}");
    store.close().await;
}

both_backends!(
    enc_keys_are_published_beside_signing_keys,
    enc_keys_rotate_and_retired_keys_decrypt_until_removed,
    symmetric_key_management_is_refused,
    enc_private_keys_are_sealed,
);
