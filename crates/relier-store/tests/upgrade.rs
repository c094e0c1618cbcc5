//! Registrations stored typed and sessions indexed by a keyed hash of the subject: what the
//! raw tables hold, that every lookup by subject still works, and that a database of the
//! earlier schema (registration responses as JSON, subjects in the clear) is converted when the
//! store opens — on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::TestDb;
use common::rows::{NOW, open, session};
use relier_core::{AuthMethod, Secret};
use relier_jose::Algorithm;
use relier_jose::jwe::KeyManagementAlg;
use relier_store::{ProviderRecord, Store, StoreError, StoredRegistration, UnixTime};
use serde_json::json;

const SUBJECT: &str = "010190-123A";

/// Every clear-text column of `sessions` that holds `needle` anywhere.
async fn sessions_text_holding(db: &TestDb, needle: &str) -> i64 {
    let columns = [
        "provider",
        "iss",
        "sub",
        "sid",
        "email",
        "name",
        "claims",
        "subject_hash",
    ];
    let holds: Vec<String> = columns
        .iter()
        .map(|c| format!("COALESCE({c}, '') LIKE '%{needle}%'"))
        .collect();
    db.count(&format!(
        "SELECT COUNT(*) FROM sessions WHERE {}",
        holds.join(" OR ")
    ))
    .await
}

/// The subject is in no column; sessions are still found by it, per provider.
async fn the_subject_is_indexed_by_keyed_hash_only(db: TestDb) {
    let store = open(db.url()).await;
    let sessions = [
        ("s1", session("ftn", SUBJECT, Some("sid-1"))),
        ("s2", session("ftn", SUBJECT, None)),
        ("s3", session("other", SUBJECT, None)),
        ("s4", session("ftn", "someone-else", None)),
    ];
    for (id, rec) in &sessions {
        store.create_session(&Secret::new(*id), rec).await.unwrap();
    }
    assert_eq!(sessions_text_holding(&db, SUBJECT).await, 0);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM sessions WHERE sub <> ''")
            .await,
        0
    );
    let hashes = db
        .strings("SELECT subject_hash FROM sessions ORDER BY provider, subject_hash")
        .await;
    assert_eq!(hashes.len(), 4);
    assert!(hashes.iter().all(|h| {
        h.len() == 64
            && h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }));
    // One person at two providers: two values (the provider is hashed in).
    let distinct = db
        .count("SELECT COUNT(DISTINCT subject_hash) FROM sessions")
        .await;
    assert_eq!(distinct, 3);
    if let Some(path) = db.sqlite_path() {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        assert!(
            !bytes
                .windows(SUBJECT.len())
                .any(|w| w == SUBJECT.as_bytes()),
            "the subject is in the database file"
        );
    }

    // The subject is back, from the sealed identity.
    let got = store
        .get_session(&Secret::new("s1"), UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.sub, SUBJECT);

    // Back-channel logout by sub (and sid + sub) finds the sessions through the hash.
    let gone = store
        .delete_sessions_for("ftn", Some("sid-1"), Some(SUBJECT))
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    let gone = store
        .delete_sessions_for("ftn", None, Some(SUBJECT))
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    for (id, live) in [("s1", false), ("s2", false), ("s3", true), ("s4", true)] {
        let found = store
            .get_session(&Secret::new(id), UnixTime(NOW))
            .await
            .unwrap();
        assert_eq!(found.is_some(), live, "{id}");
    }
    store.close().await;
}

/// A registration is stored as its typed encoding, never as the response's JSON.
async fn registrations_are_stored_typed(db: TestDb) {
    let store = open(db.url()).await;
    let metadata = json!({
        "client_id": "c",
        "token_endpoint_auth_method": "private_key_jwt",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "require_pushed_authorization_requests": true,
        "client_name": "not decisive",
        "client_secret_expires_at": 0,
    });
    let mut record = ProviderRecord::new("op", "https://op.example", "c", AuthMethod::None);
    record.registration =
        Some(StoredRegistration::from_metadata(metadata.as_object().unwrap()).unwrap());
    store
        .put_provider(&record, false, UnixTime(NOW))
        .await
        .unwrap();
    let stored = db.strings("SELECT registered FROM providers").await;
    assert!(stored[0].starts_with(r#"{"v":1,"#), "{}", stored[0]);
    assert!(!stored[0].contains("client_name"), "{}", stored[0]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM providers WHERE registration IS NULL")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT client_secret_expires_at FROM providers")
            .await,
        0
    );
    let got = store.get_provider("op").await.unwrap().unwrap();
    let reg = got.registered().unwrap();
    assert!(reg.requires_par);
    assert_eq!(
        reg.id_token_encryption.map(|e| e.alg),
        Some(KeyManagementAlg::RsaOaep)
    );
    // The method is the record's column.
    assert_eq!(reg.auth_method, AuthMethod::None);
    let mut expected = record.clone();
    (expected.created_at, expected.updated_at) = (NOW, NOW);
    assert_eq!(got, expected);
    store.close().await;
}

/// `plain` sealed as the store seals a column under the test master key (`0x01 || nonce ||
/// AES-256-GCM ciphertext and tag`, `aad` the row's identity).
fn seal(plain: &[u8], aad: &[u8]) -> Vec<u8> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, RandomizedNonceKey};
    // The bytes of common::rows::key().
    let key = RandomizedNonceKey::new(&AES_256_GCM, &[0x5a; 32]).unwrap();
    let mut sealed = plain.to_vec();
    let nonce = key
        .seal_in_place_append_tag(Aad::from(aad), &mut sealed)
        .unwrap();
    [&[1u8][..], nonce.as_ref(), &sealed].concat()
}

/// `bytes` as an SQL literal of `db`'s dialect.
fn blob_literal(db: &TestDb, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if db.is_postgres() {
        format!("decode('{hex}', 'hex')")
    } else {
        format!("X'{hex}'")
    }
}

/// Turns the current schema back into the one before typed registrations and keyed subject
/// indexes (dropping what those migrations added), and gives the rows their earlier form.
async fn downgrade(db: &TestDb, session_ids: &[(&str, &str)]) {
    let first_new = if db.is_postgres() { 6 } else { 8 };
    db.exec_script(&format!(
        "DROP INDEX sessions_by_subject; DROP INDEX sessions_unconverted; \
         ALTER TABLE sessions DROP COLUMN subject_hash; \
         CREATE INDEX sessions_by_sub ON sessions (provider, sub); \
         ALTER TABLE providers DROP COLUMN registered; \
         ALTER TABLE providers DROP COLUMN client_secret_expires_at; \
         DELETE FROM relier_migrations WHERE version >= {first_new};"
    ))
    .await;
    for (i, (id, sub)) in session_ids.iter().enumerate() {
        let hash = relier_store::session_id_hash(&Secret::new(*id));
        let claims = json!({"sub": sub, "groups": ["a", "b"]});
        let changed = if i % 2 == 0 {
            // From before the personal data was sealed: subject, e-mail, name and claims in the
            // clear.
            db.exec(
                "UPDATE sessions SET sub = $1, identity = NULL, email = $2, name = $3, \
                 claims = $4 WHERE id_hash = $5",
                &[
                    sub,
                    &format!("{sub}@example.com"),
                    &format!("User {sub}"),
                    &claims.to_string(),
                    &hash,
                ],
            )
            .await
        } else {
            // Personal data sealed as before, without the subject; the subject in the clear.
            let identity = json!({
                "email": format!("{sub}@example.com"),
                "name": format!("User {sub}"),
                "claims": claims,
            });
            let sealed = seal(
                identity.to_string().as_bytes(),
                format!("relier:session:{hash}:identity").as_bytes(),
            );
            db.exec(
                &format!(
                    "UPDATE sessions SET sub = $1, identity = {} WHERE id_hash = $2",
                    blob_literal(db, &sealed)
                ),
                &[sub, &hash],
            )
            .await
        };
        assert_eq!(changed, 1);
    }
    let legacy = json!({
        "client_id": "c",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "id_token_encrypted_response_alg": "ECDH-ES",
        "dpop_bound_access_tokens": true,
        "redirect_uris": ["https://rp.example/cb"],
        "client_secret_expires_at": NOW + 3600,
    });
    let unusable = json!({"client_id": "c", "id_token_encrypted_response_alg": "RSA1_5"});
    for (name, registration) in [("legacy", legacy), ("unusable", unusable)] {
        db.exec(
            "INSERT INTO providers (name, issuer, client_id, auth_method, redirect_uris, \
             scopes, id_token_alg, signing_alg, registration, created_at, updated_at) VALUES \
             ($1, 'https://op.example', 'c', 'private_key_jwt', '[\"https://rp.example/cb\"]', \
             'openid', 'RS256', 'ES256', $2, 1, 1)",
            &[name, &registration.to_string()],
        )
        .await;
    }
}

/// A database of the earlier schema: its registrations become typed (an unusable one is kept
/// and named), its sessions are indexed by keyed hash, and everything still reads.
async fn an_earlier_database_is_converted_when_opened(db: TestDb) {
    let store = open(db.url()).await;
    for (id, sub) in [("old-1", SUBJECT), ("old-2", "bob")] {
        store
            .create_session(&Secret::new(id), &session("op", sub, None))
            .await
            .unwrap();
    }
    store.close().await;
    downgrade(&db, &[("old-1", SUBJECT), ("old-2", "bob")]).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM sessions WHERE sub = '010190-123A'")
            .await,
        1
    );

    let store = open(db.url()).await;
    // Sessions: no clear subject or personal data left; read back whole; found by subject.
    assert_eq!(sessions_text_holding(&db, SUBJECT).await, 0);
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM sessions WHERE subject_hash IS NULL OR sub <> '' \
             OR email IS NOT NULL OR identity IS NULL"
        )
        .await,
        0
    );
    let got = store
        .get_session(&Secret::new("old-1"), UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.sub, SUBJECT);
    assert_eq!(got.email.as_deref(), Some("010190-123A@example.com"));
    assert_eq!(got.claims["groups"], json!(["a", "b"]));
    assert_eq!(got.access_token.unwrap().expose(), format!("at-{SUBJECT}"));
    let gone = store
        .delete_sessions_for("op", None, Some(SUBJECT))
        .await
        .unwrap();
    assert_eq!(
        gone,
        vec![relier_store::session_id_hash(&Secret::new("old-1"))]
    );
    let bob = store
        .get_session(&Secret::new("old-2"), UnixTime(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.sub, "bob");
    assert_eq!(bob.name.as_deref(), Some("User bob"));
    assert_eq!(bob.csrf_token.expose(), "csrf-bob");
    let gone = store
        .delete_sessions_for("op", None, Some("bob"))
        .await
        .unwrap();
    assert_eq!(
        gone,
        vec![relier_store::session_id_hash(&Secret::new("old-2"))]
    );

    check_converted_registrations(&db, &*store).await;
    store.close().await;

    // Opening again changes nothing (and still names the unusable registration).
    let store = open(db.url()).await;
    check_converted_registrations(&db, &*store).await;
    store.close().await;
}

async fn check_converted_registrations(db: &TestDb, store: &dyn Store) {
    let legacy = store.get_provider("legacy").await.unwrap().unwrap();
    let reg = legacy.registered().unwrap();
    assert_eq!(reg.auth_method, AuthMethod::PrivateKeyJwt);
    assert_eq!(reg.auth_signing_alg, Some(Algorithm::ES256));
    assert_eq!(
        reg.id_token_encryption.map(|e| e.alg),
        Some(KeyManagementAlg::EcdhEs)
    );
    assert!(reg.binding.dpop);
    assert_eq!(reg.redirect_uris, ["https://rp.example/cb"]);
    assert_eq!(
        relier_store::secret_expiry(legacy.registration.as_ref()),
        Some(NOW + 3600)
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM providers WHERE name = 'legacy' AND registration IS NULL \
             AND registered IS NOT NULL"
        )
        .await,
        1
    );

    // Kept as it was, readable, and its registration names the provider and the member.
    let unusable = store.get_provider("unusable").await.unwrap().unwrap();
    let e = unusable.registered().unwrap_err();
    assert!(
        matches!(&e, StoreError::UnusableRegistration { provider, member, .. }
            if provider == "unusable" && member == "id_token_encrypted_response_alg"),
        "{e:?}"
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM providers WHERE name = 'unusable' \
             AND registration LIKE '%RSA1_5%' AND registered IS NULL"
        )
        .await,
        1
    );
    let list = store.list_providers().await.unwrap();
    assert_eq!(
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["legacy", "unusable"]
    );
    assert_eq!(list[0].client_secret_expires_at, Some(NOW + 3600));

    // Putting the record back keeps the unconverted response as it was.
    store
        .put_provider(&unusable, true, UnixTime(NOW))
        .await
        .unwrap();
    let again = store.get_provider("unusable").await.unwrap().unwrap();
    assert_eq!(again.registration, unusable.registration);
}

both_backends!(
    the_subject_is_indexed_by_keyed_hash_only,
    registrations_are_stored_typed,
    an_earlier_database_is_converted_when_opened,
);
