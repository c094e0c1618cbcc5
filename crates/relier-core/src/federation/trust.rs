//! Verifying a broker's entity statement and signed JWK set with pinned entity keys
//! (OpenID Federation 1.0 §3, §5.2.1).
