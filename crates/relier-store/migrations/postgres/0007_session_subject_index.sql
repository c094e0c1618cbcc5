-- Sessions are found by subject (OpenID Connect Back-Channel Logout 1.0 §2.5: a logout token
-- with only `sub` ends every session of that user at the provider) through a keyed hash, never
-- the subject itself: `subject_hash` is the lowercase hex HMAC-SHA256 of the provider name and
-- the subject under a key derived from the master key (label `subject-index`). The subject
-- itself is sealed with the session's personal data (`identity`).
--
-- New rows leave `sub` empty. Rows written before keep their clear `sub` until the store,
-- opened with the master key, converts them (`subject_hash` NULL until then; found through
-- sessions_unconverted, which stays empty afterwards).
ALTER TABLE sessions ADD COLUMN subject_hash TEXT;
DROP INDEX sessions_by_sub;
CREATE INDEX sessions_by_subject ON sessions (provider, subject_hash);
CREATE INDEX sessions_unconverted ON sessions (id_hash) WHERE subject_hash IS NULL;
