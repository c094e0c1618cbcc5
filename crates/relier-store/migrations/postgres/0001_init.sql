-- relier store on PostgreSQL, schema 1: the SQLite schema (migrations/sqlite/0001–0003) in one
-- step, with BYTEA for BLOB and BIGINT for INTEGER. Timestamps are unix seconds, JSON is TEXT,
-- ciphertexts (0x01 || nonce || AES-256-GCM ciphertext+tag) are BYTEA with the same associated
-- data as on SQLite. Names the store orders by use the "C" collation, so that PostgreSQL
-- orders them as SQLite does (bytewise).

-- name → value. 'master_key_check': a known constant encrypted under the master key.
CREATE TABLE meta (
    name  TEXT  NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);

-- RP signing keys. kid = RFC 7638 SHA-256 thumbprint of the public key.
CREATE TABLE keys (
    kid          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    alg          TEXT COLLATE "C" NOT NULL,
    state        TEXT   NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    created_at   BIGINT NOT NULL,
    activates_at BIGINT,
    retired_at   BIGINT,
    grace_until  BIGINT,
    public_jwk   TEXT   NOT NULL,
    private_key  BYTEA  NOT NULL
);

-- At most one active key per algorithm, whatever the application does.
CREATE UNIQUE INDEX keys_one_active_per_alg ON keys (alg) WHERE state = 'active';

-- OPs this RP is registered with. Secrets only in the encrypted BYTEA columns.
CREATE TABLE providers (
    name                      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    issuer                    TEXT   NOT NULL,
    client_id                 TEXT   NOT NULL,
    auth_method               TEXT   NOT NULL,
    redirect_uris             TEXT   NOT NULL,
    scopes                    TEXT   NOT NULL,
    id_token_alg              TEXT,
    signing_alg               TEXT,
    jwks_mode                 TEXT   CHECK (jwks_mode IN ('inline', 'uri')),
    jwks_uri                  TEXT,
    tls_cert_path             TEXT,
    tls_key_path              TEXT,
    registration_client_uri   TEXT,
    provider_metadata         TEXT,
    registration              TEXT,
    client_secret             BYTEA,
    registration_access_token BYTEA,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);

-- Logins between the redirect to the OP and the callback; single use. Keyed by the hex
-- SHA-256 of the state; the whole LoginState encrypted in record.
CREATE TABLE login_states (
    state_hash TEXT   NOT NULL PRIMARY KEY,
    provider   TEXT   NOT NULL,
    record     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX login_states_by_expiry ON login_states (expires_at);

-- Gateway sessions, keyed by the hex SHA-256 of the session id. provider/iss/sub/sid in the
-- clear (back-channel logout looks sessions up by them); tokens, the CSRF token and the
-- personal data (identity) encrypted. email/name/claims exist for parity with SQLite rows
-- written before the identity was encrypted; new rows leave them empty.
-- Invariant kept by the store: idle_expires_at <= absolute_expires_at.
CREATE TABLE sessions (
    id_hash             TEXT   NOT NULL PRIMARY KEY,
    provider            TEXT   NOT NULL,
    iss                 TEXT   NOT NULL,
    sub                 TEXT   NOT NULL,
    sid                 TEXT,
    email               TEXT,
    name                TEXT,
    claims              TEXT   NOT NULL,
    access_token        BYTEA,
    refresh_token       BYTEA,
    id_token            BYTEA,
    access_expires_at   BIGINT,
    csrf_token          BYTEA  NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    idle_expires_at     BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    identity            BYTEA
);

CREATE INDEX sessions_by_sid ON sessions (provider, sid);
CREATE INDEX sessions_by_sub ON sessions (provider, sub);
CREATE INDEX sessions_by_expiry ON sessions (idle_expires_at);

-- jti of back-channel logout tokens already processed, until the token would have expired.
CREATE TABLE logout_jtis (
    provider   TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (provider, jti)
);

CREATE INDEX logout_jtis_by_expiry ON logout_jtis (expires_at);
