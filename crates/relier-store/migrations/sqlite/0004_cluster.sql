-- Many instances on one store.
--
-- Sessions ended by a logout (RP-initiated, back-channel, or a refresh the OP refused), kept a
-- few minutes so that every instance sharing the store drops them from its session cache
-- (SessionStore::recently_ended_sessions). Times are the database's clock, in milliseconds.
CREATE TABLE session_ends (
    id_hash     TEXT    NOT NULL,
    ended_at_ms INTEGER NOT NULL
);

CREATE INDEX session_ends_by_time ON session_ends (ended_at_ms);

-- The login rate limit shared by every instance (`[limits] shared_login_limit = true`): one
-- token bucket per client address (IPv6: per /64).
CREATE TABLE login_buckets (
    client  TEXT    NOT NULL PRIMARY KEY,
    tokens  REAL    NOT NULL,
    at_ms   INTEGER NOT NULL,
    granted BOOLEAN NOT NULL
);

CREATE INDEX login_buckets_by_time ON login_buckets (at_ms);
