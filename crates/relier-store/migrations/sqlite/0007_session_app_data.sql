-- The embedding application's own data on a session (JSON, at most 4 KiB before sealing),
-- sealed under the master key like the tokens (AES-256-GCM with the row's identity and the
-- column name as associated data). NULL when the application keeps nothing there.
ALTER TABLE sessions ADD COLUMN app_data BLOB;
