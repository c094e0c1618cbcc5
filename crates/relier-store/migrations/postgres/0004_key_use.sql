-- A key's use is stored: "sig" (client assertions, request objects), "enc" (decryption) or
-- "entity" (the long-lived key that signs only the entity statement and the signed JWK set,
-- OpenID Federation 1.0 §3, §5.2.1). An RS256 entity key and an RS256 signing key each have
-- their own active key, so the one-active rule is per use and algorithm.
ALTER TABLE keys ADD COLUMN key_use TEXT COLLATE "C" NOT NULL DEFAULT 'sig'
    CHECK (key_use IN ('sig', 'enc', 'entity'));

-- Existing keys: the algorithm's registry tells (JWE key management: encryption keys).
UPDATE keys SET key_use = 'enc' WHERE alg LIKE 'RSA-OAEP%' OR alg LIKE 'ECDH-ES%';

DROP INDEX keys_one_active_per_alg;
CREATE UNIQUE INDEX keys_one_active_per_use_and_alg ON keys (key_use, alg)
    WHERE state = 'active';
