-- The session's personal data (email, name, identity claims) encrypted under the master key
-- like its tokens: one AES-256-GCM value of {"email", "name", "claims"} with the row's identity
-- as associated data. Rows written before this migration keep their clear-text email, name and
-- claims columns until they expire; new rows leave those columns empty.
ALTER TABLE sessions ADD COLUMN identity BLOB;
