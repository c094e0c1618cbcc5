//! The RP's own entity statement and signed JWK set (OpenID Federation 1.0 §3, §5.2.1).
