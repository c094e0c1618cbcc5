-- A provider's registration stored typed: `registered` is what the registration decides
-- (client authentication, ID token and UserInfo signing and encryption, request objects, JARM,
-- PAR, sender-constrained tokens, redirect URIs, subject claim) in a versioned encoding that the
-- store writes and reads only through relier's typed registration (`{"v":1,…}`, every value a
-- registered algorithm or method name, checked when read). `client_secret_expires_at` is the
-- registration response's member as received (RFC 7591 §3.2.1: 0 = never).
--
-- `registration` (the raw registration response, migration 1) is no longer written. Rows that
-- have one are converted by the store when it opens (it reads them with the same rules as a
-- registration response); a row whose response cannot be converted keeps it, and reading its
-- registration names the provider and the member at fault.
ALTER TABLE providers ADD COLUMN registered TEXT;
ALTER TABLE providers ADD COLUMN client_secret_expires_at INTEGER;
