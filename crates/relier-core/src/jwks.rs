//! The OP's JWK Set: parsing, key selection by `kid` and algorithm, and the refetch policy
//! (OIDC Core §10.1.1: an unknown `kid` is the signal that the OP rotated its keys).

use std::collections::VecDeque;

use relier_jose::jwe::{EncryptionKey, KeyManagementAlg};
use relier_jose::{Algorithm, JwkSet, VerifyingKey};

use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::types::UnixTime;

/// Why a JWKS could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Non-2xx.
    #[error("jwks: {url} answered HTTP {status}")]
    Status {
        /// The JWKS URL.
        url: String,
        /// The HTTP status it answered with.
        status: u16,
    },
    /// Not `application/json` or `application/jwk-set+json` (RFC 7517 §8.5.1).
    #[error("jwks: unexpected content type {0:?}")]
    ContentType(Option<String>),
    /// Parse error or a cap exceeded.
    #[error("jwks: {0}")]
    Invalid(String),
    /// A signed JWK set refused: the failed check is named
    /// ([`crate::federation::trust`]).
    #[error("jwks: {0}")]
    Untrusted(#[from] crate::federation::trust::TrustError),
}

/// Why no key was chosen for a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySelectError {
    /// No signing key has this `kid` (a refetch may find it).
    #[error("no key with kid {kid:?} for {alg}")]
    KidNotFound {
        /// The `kid` from the token's header.
        kid: String,
        /// The algorithm the key was needed for.
        alg: &'static str,
    },
    /// No `kid` in the header and no key fits the algorithm.
    #[error("no key for {alg}")]
    NoKeyForAlg {
        /// The algorithm a key was needed for.
        alg: &'static str,
    },
    /// No `kid` in the header and several keys fit: relier does not try every key.
    #[error("the token has no kid and {count} keys fit {alg}")]
    Ambiguous {
        /// The algorithm a key was needed for.
        alg: &'static str,
        /// How many keys fit it.
        count: usize,
    },
}

impl KeySelectError {
    /// Could fetching the JWKS again help?
    pub fn is_refetchable(&self) -> bool {
        self.missing_key().is_some()
    }

    /// The key a refetch would look for, when one could help.
    pub fn missing_key(&self) -> Option<MissingKey> {
        match self {
            KeySelectError::KidNotFound { kid, .. } => Some(MissingKey {
                kid: Some(kid.clone()),
            }),
            KeySelectError::NoKeyForAlg { .. } => Some(MissingKey { kid: None }),
            KeySelectError::Ambiguous { .. } => None,
        }
    }
}

/// A signing key the set lacks, which the OP may have published since (OIDC Core §10.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    /// The `kid` the token named; `None` when it named none and no key fits its algorithm.
    pub kid: Option<String>,
}

/// Parsed verification keys, each parsed once, and the OP's encryption keys (`use: enc`, for
/// encrypted request objects, OIDC Core §6.1).
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    enc: Vec<EncryptionKey>,
}

/// RFC 9111 §5.2.2.1 `max-age` when `Cache-Control` gives none (or `no-cache`/`no-store`
/// ask for none): how long the OP's JWKS is used before it is fetched again for encryption.
pub const DEFAULT_CACHE_LIFETIME_SECS: u64 = 60;

/// The longest cache lifetime honoured.
pub const MAX_CACHE_LIFETIME_SECS: u64 = 24 * 3600;

/// RFC 9111 §5.2.2: how long a JWKS response may be used, from its `Cache-Control`:
/// `no-store`/`no-cache` → 0, `max-age=N` → N (at most [`MAX_CACHE_LIFETIME_SECS`]), else
/// [`DEFAULT_CACHE_LIFETIME_SECS`].
#[must_use]
pub fn cache_lifetime(resp: &HttpResponse) -> u64 {
    let Some(cc) = resp.cache_control.as_deref() else {
        return DEFAULT_CACHE_LIFETIME_SECS;
    };
    let mut max_age = None;
    for directive in cc.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return 0;
        }
        if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
            max_age = value.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.map_or(DEFAULT_CACHE_LIFETIME_SECS, |n| {
        n.min(MAX_CACHE_LIFETIME_SECS)
    })
}

impl KeySet {
    /// The request for `jwks_uri`.
    pub fn request(jwks_uri: &str) -> HttpRequest {
        HttpRequest::get(jwks_uri, "application/jwk-set+json, application/json")
    }

    /// An empty set (e.g. an OP with no asymmetric keys).
    pub fn empty() -> Self {
        Self::default()
    }

    /// From already-built keys.
    pub fn from_keys(keys: Vec<VerifyingKey>) -> Self {
        Self {
            keys,
            enc: Vec::new(),
        }
    }

    /// Parse a JWK Set document. Keys relier cannot use (unknown `kty`, unsupported curve, RSA
    /// under 2048 bits) are skipped, not fatal: an OP may publish keys for other parties.
    pub fn from_json(body: &[u8]) -> Result<Self, JwksError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(JwksError::Invalid(format!(
                "larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        let set = JwkSet::from_slice(body).map_err(|e| JwksError::Invalid(e.to_string()))?;
        Ok(Self::from_jwk_set(&set))
    }

    /// The usable keys of a parsed JWK Set (as [`Self::from_json`]).
    #[must_use]
    pub fn from_jwk_set(set: &JwkSet) -> Self {
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| VerifyingKey::from_jwk(jwk).ok())
            .collect();
        // RFC 7517 §4.2: only keys marked `use: enc` encrypt (a key without `use` is the
        // OP's signing key far more often than not).
        let enc = set
            .keys
            .iter()
            .filter(|jwk| jwk.use_.as_deref() == Some("enc"))
            .filter_map(|jwk| EncryptionKey::from_jwk(jwk).ok())
            .collect();
        Self { keys, enc }
    }

    /// The OP's first encryption key for `alg` (RFC 7517 §4.2 `use: enc`; its `alg`, when
    /// given, must be `alg`).
    #[must_use]
    pub fn encryption_key(&self, alg: KeyManagementAlg) -> Option<&EncryptionKey> {
        self.enc.iter().find(|k| k.accepts(alg))
    }

    /// Consume the jwks_uri response.
    pub fn from_response(url: &str, resp: &HttpResponse) -> Result<Self, JwksError> {
        if !resp.is_success() {
            return Err(JwksError::Status {
                url: url.to_owned(),
                status: resp.status,
            });
        }
        match resp.media_type().as_deref() {
            Some("application/json") | Some("application/jwk-set+json") => {}
            _ => return Err(JwksError::ContentType(resp.content_type.clone())),
        }
        Self::from_json(&resp.body)
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No usable keys?
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Choose the key for a signature made with the pinned `alg`. Keys with `use: enc` never
    /// verify signatures (RFC 7517 §4.2); `is_compatible` enforces that and the key type.
    pub fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, KeySelectError> {
        match kid {
            // The kid comparison first: compatibility is only worked out for the named key.
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid() == Some(kid) && k.is_compatible(alg))
                .ok_or_else(|| KeySelectError::KidNotFound {
                    kid: kid.to_owned(),
                    alg: alg.as_str(),
                }),
            None => {
                let candidates: Vec<&VerifyingKey> =
                    self.keys.iter().filter(|k| k.is_compatible(alg)).collect();
                match candidates.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(KeySelectError::NoKeyForAlg { alg: alg.as_str() }),
                    many => Err(KeySelectError::Ambiguous {
                        alg: alg.as_str(),
                        count: many.len(),
                    }),
                }
            }
        }
    }
}

/// Where a token whose key is unknown came from: decides how soon it may refetch the JWKS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The token endpoint's response (code exchange, refresh): TLS to the OP, the client
    /// authenticated. An unknown `kid` there means the OP rotated its keys (OIDC Core
    /// §10.1.1), so it refetches once per unknown `kid` — a second rotation right after the
    /// first costs no login — bounded per `kid` and in how many `kid`s at a time.
    TokenEndpoint,
    /// Anything an attacker can hand the RP — back-channel logout tokens, front-channel or
    /// JARM responses, ID tokens supplied by a caller, signed UserInfo: the full cool-down.
    Untrusted,
}

/// Rate limit for JWKS refetches triggered by unknown keys, so that a stream of tokens with
/// random `kid`s cannot make the RP hammer the OP.
///
/// - An untrusted token refetches at most once per cool-down since the last refetch of either
///   kind; the `kid` it names is not remembered (an attacker who guesses the OP's next `kid`
///   must not be able to spend its refetch).
/// - A token-endpoint token refetches for a `kid` (or for "no `kid`") unless a refetch looked
///   for that same `kid` within the token-endpoint interval; at most [`MAX_TRACKED_KIDS`]
///   distinct `kid`s are looked for per interval — at most that many fetches per interval,
///   whatever the OP sends.
#[derive(Debug, Clone)]
pub struct RefetchGate {
    min_interval_secs: u64,
    token_endpoint_interval_secs: u64,
    last_refetch: Option<UnixTime>,
    /// Token-endpoint refetches within the interval: the `kid` each looked for, and when.
    looked_for: VecDeque<(Option<String>, UnixTime)>,
}

/// Default minimum interval between refetches (the cool-down).
pub const DEFAULT_REFETCH_INTERVAL_SECS: u64 = 30;

/// Default interval before a token-endpoint ID token may refetch again for a `kid` an earlier
/// refetch looked for (the OP named a key it had not yet published, e.g. behind a cache).
pub const DEFAULT_TOKEN_ENDPOINT_REFETCH_INTERVAL_SECS: u64 = 5;

/// At most this many distinct `kid`s are looked for from the token endpoint per
/// token-endpoint interval.
pub const MAX_TRACKED_KIDS: usize = 8;

impl Default for RefetchGate {
    fn default() -> Self {
        Self::new(DEFAULT_REFETCH_INTERVAL_SECS)
    }
}

impl RefetchGate {
    /// A gate allowing one untrusted refetch per `min_interval_secs`, and token-endpoint
    /// refetches per `kid` [`DEFAULT_TOKEN_ENDPOINT_REFETCH_INTERVAL_SECS`] apart (never
    /// longer than the cool-down).
    pub fn new(min_interval_secs: u64) -> Self {
        Self {
            min_interval_secs,
            token_endpoint_interval_secs: DEFAULT_TOKEN_ENDPOINT_REFETCH_INTERVAL_SECS
                .min(min_interval_secs),
            last_refetch: None,
            looked_for: VecDeque::new(),
        }
    }

    /// The interval of [`KeySource::TokenEndpoint`] refetches per `kid` (capped at the
    /// cool-down).
    #[must_use]
    pub fn with_token_endpoint_interval(mut self, secs: u64) -> Self {
        self.token_endpoint_interval_secs = secs.min(self.min_interval_secs);
        self
    }

    /// If a refetch for `missing`, in a token from `source`, is allowed now: record it and
    /// return true.
    pub fn try_acquire(&mut self, now: UnixTime, source: KeySource, missing: &MissingKey) -> bool {
        let allowed = match source {
            KeySource::Untrusted => self
                .last_refetch
                .is_none_or(|last| now.0.saturating_sub(last.0) >= self.min_interval_secs),
            KeySource::TokenEndpoint => {
                let interval = self.token_endpoint_interval_secs;
                self.looked_for
                    .retain(|(_, at)| now.0.saturating_sub(at.0) < interval);
                let allowed = self.looked_for.len() < MAX_TRACKED_KIDS
                    && !self.looked_for.iter().any(|(kid, _)| *kid == missing.kid);
                if allowed {
                    self.looked_for.push_back((missing.kid.clone(), now));
                }
                allowed
            }
        };
        if allowed {
            self.last_refetch = Some(now);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relier_jose::SigningKey;

    fn set_of(keys: &[(&str, Algorithm, Option<&str>)]) -> (KeySet, Vec<SigningKey>) {
        let mut jwks = Vec::new();
        let mut signers = Vec::new();
        for (kid, alg, use_) in keys {
            let k = SigningKey::generate(*alg, None).unwrap().with_kid(*kid);
            let mut jwk = k.public_jwk().unwrap();
            jwk.use_ = use_.map(str::to_owned);
            jwks.push(serde_json::to_value(&jwk).unwrap());
            signers.push(k);
        }
        let body = serde_json::json!({ "keys": jwks }).to_string();
        (KeySet::from_json(body.as_bytes()).unwrap(), signers)
    }

    #[test]
    fn selects_by_kid_and_alg() {
        let (set, _) = set_of(&[
            ("r1", Algorithm::RS256, Some("sig")),
            ("e1", Algorithm::ES256, Some("sig")),
        ]);
        assert_eq!(
            set.select(Some("r1"), Algorithm::RS256).unwrap().kid(),
            Some("r1")
        );
        assert!(matches!(
            set.select(Some("r1"), Algorithm::ES256),
            Err(KeySelectError::KidNotFound { .. })
        ));
        // no kid: exactly one candidate per alg
        assert_eq!(
            set.select(None, Algorithm::ES256).unwrap().kid(),
            Some("e1")
        );
    }

    #[test]
    fn enc_keys_never_verify() {
        let (set, _) = set_of(&[("x", Algorithm::RS256, Some("enc"))]);
        assert!(set.select(Some("x"), Algorithm::RS256).is_err());
        assert!(set.select(None, Algorithm::RS256).is_err());
    }

    #[test]
    fn kid_absent_with_several_keys_is_rejected() {
        let (set, _) = set_of(&[("a", Algorithm::RS256, None), ("b", Algorithm::RS256, None)]);
        assert!(matches!(
            set.select(None, Algorithm::RS256),
            Err(KeySelectError::Ambiguous { count: 2, .. })
        ));
    }

    #[test]
    fn content_type_checked() {
        let ok = |ct: &str| HttpResponse {
            status: 200,
            content_type: Some(ct.into()),
            www_authenticate: None,
            cache_control: None,
            body: br#"{"keys":[]}"#.to_vec(),
        };
        assert!(KeySet::from_response("u", &ok("application/json; charset=utf-8")).is_ok());
        assert!(KeySet::from_response("u", &ok("application/jwk-set+json")).is_ok());
        assert!(KeySet::from_response("u", &ok("text/html")).is_err());
    }

    #[test]
    fn cache_lifetime_follows_cache_control() {
        let with = |cc: Option<&str>| HttpResponse {
            status: 200,
            content_type: Some("application/json".into()),
            www_authenticate: None,
            cache_control: cc.map(str::to_owned),
            body: Vec::new(),
        };
        // RFC 9111 §5.2.2.1 max-age; relier's default without one.
        assert_eq!(cache_lifetime(&with(None)), DEFAULT_CACHE_LIFETIME_SECS);
        assert_eq!(cache_lifetime(&with(Some("public, max-age=5"))), 5);
        assert_eq!(cache_lifetime(&with(Some("Max-Age=\"7\""))), 7);
        assert_eq!(
            cache_lifetime(&with(Some("max-age=abc"))),
            DEFAULT_CACHE_LIFETIME_SECS
        );
        assert_eq!(
            cache_lifetime(&with(Some("max-age=99999999"))),
            MAX_CACHE_LIFETIME_SECS
        );
        assert_eq!(cache_lifetime(&with(Some("max-age=600, no-store"))), 0);
        assert_eq!(cache_lifetime(&with(Some("no-cache"))), 0);
    }

    #[test]
    fn encryption_keys_are_the_use_enc_ones() {
        use relier_jose::jwe::DecryptionKey;
        let enc = DecryptionKey::generate(KeyManagementAlg::RsaOaep256, None)
            .unwrap()
            .with_kid("e");
        let mut jwk = serde_json::to_value(enc.public_jwk().unwrap()).unwrap();
        let mut unmarked = jwk.clone();
        jwk["use"] = "enc".into();
        unmarked["kid"] = "u".into();
        if let Some(o) = unmarked.as_object_mut() {
            o.remove("use");
        }
        let body = serde_json::json!({"keys": [unmarked, jwk]}).to_string();
        let set = KeySet::from_json(body.as_bytes()).unwrap();
        let key = set.encryption_key(KeyManagementAlg::RsaOaep256).unwrap();
        assert_eq!(key.kid(), Some("e"));
        assert!(set.encryption_key(KeyManagementAlg::EcdhEs).is_none());
    }

    fn kid(k: &str) -> MissingKey {
        MissingKey {
            kid: Some(k.to_owned()),
        }
    }

    #[test]
    fn gate_limits_untrusted_refetches_to_one_per_cool_down() {
        let mut g = RefetchGate::new(30);
        assert!(g.try_acquire(UnixTime(100), KeySource::Untrusted, &kid("a")));
        // Another kid changes nothing: the cool-down is the untrusted inputs' only limit.
        assert!(!g.try_acquire(UnixTime(110), KeySource::Untrusted, &kid("b")));
        assert!(!g.try_acquire(UnixTime(129), KeySource::Untrusted, &kid("c")));
        assert!(g.try_acquire(UnixTime(130), KeySource::Untrusted, &kid("d")));
    }

    /// OIDC Core §10.1.1: an unknown kid from the token endpoint is an OP rotation. Two
    /// rotations a second apart each refetch; the same kid again waits for the token-endpoint
    /// interval; untrusted tokens keep the whole cool-down.
    #[test]
    fn token_endpoint_refetches_once_per_kid() {
        let mut g = RefetchGate::new(30);
        assert!(g.try_acquire(UnixTime(100), KeySource::TokenEndpoint, &kid("k2")));
        // A flood of logins with the same kid: no second refetch within the interval.
        for t in 100..105 {
            assert!(
                !g.try_acquire(UnixTime(t), KeySource::TokenEndpoint, &kid("k2")),
                "{t}"
            );
        }
        // The second rotation, a second after the first.
        assert!(g.try_acquire(UnixTime(101), KeySource::TokenEndpoint, &kid("k3")));
        // No kid at all is a kid of its own.
        assert!(g.try_acquire(
            UnixTime(101),
            KeySource::TokenEndpoint,
            &MissingKey { kid: None }
        ));
        assert!(!g.try_acquire(
            UnixTime(102),
            KeySource::TokenEndpoint,
            &MissingKey { kid: None }
        ));
        // A logout token with an unknown kid inside the cool-down: still refused.
        assert!(!g.try_acquire(UnixTime(105), KeySource::Untrusted, &kid("x")));
        // Once the interval passed, the same kid may be looked for again.
        assert!(g.try_acquire(UnixTime(105), KeySource::TokenEndpoint, &kid("k2")));
        assert!(!g.try_acquire(UnixTime(134), KeySource::Untrusted, &kid("x")));
        assert!(g.try_acquire(UnixTime(135), KeySource::Untrusted, &kid("x")));
    }

    /// An untrusted token naming the OP's next kid does not spend the login's refetch.
    #[test]
    fn untrusted_tokens_do_not_mark_a_kid_as_looked_for() {
        let mut g = RefetchGate::new(30);
        assert!(g.try_acquire(UnixTime(100), KeySource::Untrusted, &kid("next")));
        assert!(g.try_acquire(UnixTime(100), KeySource::TokenEndpoint, &kid("next")));
    }

    /// However many kids the token endpoint names, at most MAX_TRACKED_KIDS fetches per
    /// interval.
    #[test]
    fn distinct_kids_per_interval_are_bounded() {
        let mut g = RefetchGate::new(30);
        let allowed = (0..100)
            .filter(|i| {
                g.try_acquire(
                    UnixTime(100),
                    KeySource::TokenEndpoint,
                    &kid(&format!("k{i}")),
                )
            })
            .count();
        assert_eq!(allowed, MAX_TRACKED_KIDS);
        assert!(!g.try_acquire(UnixTime(104), KeySource::TokenEndpoint, &kid("k100")));
        assert!(g.try_acquire(UnixTime(105), KeySource::TokenEndpoint, &kid("k100")));
    }

    #[test]
    fn token_endpoint_interval_never_exceeds_the_cool_down() {
        let mut g = RefetchGate::new(2).with_token_endpoint_interval(10);
        assert!(g.try_acquire(UnixTime(100), KeySource::TokenEndpoint, &kid("a")));
        assert!(!g.try_acquire(UnixTime(101), KeySource::TokenEndpoint, &kid("a")));
        assert!(g.try_acquire(UnixTime(102), KeySource::TokenEndpoint, &kid("a")));
        let mut g = RefetchGate::new(30).with_token_endpoint_interval(1);
        assert!(g.try_acquire(UnixTime(100), KeySource::TokenEndpoint, &kid("a")));
        assert!(g.try_acquire(UnixTime(101), KeySource::TokenEndpoint, &kid("a")));
        assert!(!g.try_acquire(UnixTime(101), KeySource::Untrusted, &kid("a")));
    }
}
