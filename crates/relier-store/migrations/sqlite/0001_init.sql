-- relier store, schema 1: master-key check, RP signing keys, provider registry.
--
-- Kept portable so that the PostgreSQL twin (migrations/postgres/) is the same schema with
-- BYTEA for BLOB and BIGINT for INTEGER: timestamps are INTEGER unix seconds, JSON is TEXT,
-- ciphertexts (0x01 || nonce || AES-256-GCM ciphertext+tag) are BLOBs. Later schemas (e.g.
-- the gateway's sessions and login state) are new numbered files, never edits of this one.

-- name → value. 'master_key_check': a known constant encrypted under the master key.
CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);

-- RP signing keys. kid = RFC 7638 SHA-256 thumbprint of the public key.
CREATE TABLE keys (
    kid          TEXT    NOT NULL PRIMARY KEY,
    alg          TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    created_at   INTEGER NOT NULL,
    activates_at INTEGER,
    retired_at   INTEGER,
    grace_until  INTEGER,
    public_jwk   TEXT    NOT NULL,
    private_key  BLOB    NOT NULL
);

-- At most one active key per algorithm, whatever the application does.
CREATE UNIQUE INDEX keys_one_active_per_alg ON keys (alg) WHERE state = 'active';

-- OPs this RP is registered with. Secrets only in the encrypted BLOB columns.
CREATE TABLE providers (
    name                      TEXT    NOT NULL PRIMARY KEY,
    issuer                    TEXT    NOT NULL,
    client_id                 TEXT    NOT NULL,
    auth_method               TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    id_token_alg              TEXT,
    signing_alg               TEXT,
    jwks_mode                 TEXT    CHECK (jwks_mode IN ('inline', 'uri')),
    jwks_uri                  TEXT,
    tls_cert_path             TEXT,
    tls_key_path              TEXT,
    registration_client_uri   TEXT,
    provider_metadata         TEXT,
    registration              TEXT,
    client_secret             BLOB,
    registration_access_token BLOB,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
);
