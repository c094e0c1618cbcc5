-- The session's DPoP key (RFC 9449): the private key its access and refresh tokens are bound
-- to, generated at login start, sealed under the master key like the tokens (AES-256-GCM with
-- the row's identity and the column name as associated data). NULL without DPoP.
ALTER TABLE sessions ADD COLUMN dpop_key BLOB;
