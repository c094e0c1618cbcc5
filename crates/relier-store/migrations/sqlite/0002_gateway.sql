-- relier store, schema 2: the login gateway's login states, sessions, and logout-token replay
-- guard.
--
-- Portable like 0001 (BLOB → BYTEA, INTEGER → BIGINT for PostgreSQL). No bearer value is
-- stored: rows are keyed by the lowercase hex SHA-256 of the session id / state, so a leaked
-- database yields no usable cookie. Secrets are AES-256-GCM BLOBs (0x01 || nonce ||
-- ciphertext+tag) whose associated data is the row's identity:
--   login_states.record      'relier:login_state:' || state_hash
--   sessions.<column>        'relier:session:' || id_hash || ':' || <column>
-- No foreign key to providers: a gateway may use providers that are not in this registry.

-- Logins between the redirect to the OP and the callback; single use.
CREATE TABLE login_states (
    state_hash TEXT    NOT NULL PRIMARY KEY,
    provider   TEXT    NOT NULL,
    -- The whole LoginState as JSON (pending login with PKCE verifier and nonce, return_to),
    -- encrypted. provider / created_at / expires_at are copies in the clear for housekeeping.
    record     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX login_states_by_expiry ON login_states (expires_at);

-- Gateway sessions. Identity columns in the clear (back-channel logout looks sessions up by
-- provider + sid / sub); tokens and the CSRF token encrypted.
-- Invariant kept by the store: idle_expires_at <= absolute_expires_at.
CREATE TABLE sessions (
    id_hash             TEXT    NOT NULL PRIMARY KEY,
    provider            TEXT    NOT NULL,
    iss                 TEXT    NOT NULL,
    sub                 TEXT    NOT NULL,
    sid                 TEXT,
    email               TEXT,
    name                TEXT,
    claims              TEXT    NOT NULL,
    access_token        BLOB,
    refresh_token       BLOB,
    id_token            BLOB,
    access_expires_at   INTEGER,
    csrf_token          BLOB    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    version             INTEGER NOT NULL
);

CREATE INDEX sessions_by_sid ON sessions (provider, sid);
CREATE INDEX sessions_by_sub ON sessions (provider, sub);
CREATE INDEX sessions_by_expiry ON sessions (idle_expires_at);

-- jti of back-channel logout tokens already processed, until the token would have expired.
CREATE TABLE logout_jtis (
    provider   TEXT    NOT NULL,
    jti        TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (provider, jti)
);

CREATE INDEX logout_jtis_by_expiry ON logout_jtis (expires_at);
