//! Who may enter: per-provider allow-lists checked when a login completes (no session for a
//! user outside them), and per-path rules checked on every request (`skip_auth` prefixes
//! answered without a session, `[[access]]` prefixes that require a group, an address or a
//! domain).
//!
//! Only a *verified* e-mail address counts (`email_verified` true, or `"true"` as Sign in with
//! Apple sends it): an unverified address is anyone's claim. Paths are matched on every reading the
//! upstream may make of them ([`crate::paths`]): public only if every reading is under a
//! `skip_auth` prefix, and a rule applies if any reading is under its prefix.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::identity::email_verified;
use crate::paths;

/// A `[providers.require]` or rule value: one accepted value or a list of them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ClaimMatch {
    /// The claim equals (or, for an array claim, contains) this.
    One(String),
    /// The claim equals (or contains) one of these.
    AnyOf(Vec<String>),
}

impl ClaimMatch {
    fn accepts(&self, v: &str) -> bool {
        match self {
            ClaimMatch::One(x) => x == v,
            ClaimMatch::AnyOf(xs) => xs.iter().any(|x| x == v),
        }
    }
}

/// Who may pass: e-mail addresses or domains (either list), groups, claim values. Every
/// configured part must pass; an empty policy lets everyone in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Verified addresses, compared case-insensitively.
    pub emails: Vec<String>,
    /// Domains of verified addresses (exact, case-insensitive; no subdomains).
    pub domains: Vec<String>,
    /// Values of the `groups` (or Entra `roles`) claim, one of which the user must have.
    pub groups: Vec<String>,
    /// Claim (dots walk into objects) → accepted value(s).
    pub require: BTreeMap<String, ClaimMatch>,
}

/// Why a policy refused someone (for the log, never the page).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No verified address in `emails` or domain in `domains`.
    Email {
        /// The verified address, if there was one.
        verified: Option<String>,
    },
    /// None of `groups`.
    Groups,
    /// None of `groups`, and the token carries no groups at all but an Entra ID groups
    /// overage (`_claim_names.groups`): the user has too many groups for a token.
    GroupsOverage,
    /// A required claim is missing or has another value.
    Claim {
        /// The claim.
        name: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Email { verified: Some(e) } => {
                write!(
                    f,
                    "verified e-mail {e:?} is not in allowed_emails/allowed_domains"
                )
            }
            Refusal::Email { verified: None } => write!(
                f,
                "no verified e-mail address, and allowed_emails/allowed_domains are set"
            ),
            Refusal::Groups => write!(f, "no group in allowed_groups"),
            Refusal::GroupsOverage => write!(
                f,
                "the token lists no groups but an Entra ID groups overage (_claim_names.groups: \
                 the user is in too many groups for a token) that was not resolved through Microsoft \
                 Graph (resolve_claims = false, or the Graph call failed: see the log), so \
                 allowed_groups cannot be checked; use app roles (allowed_groups also matches roles) or emit only the groups assigned \
                 to the application"
            ),
            Refusal::Claim { name } => write!(f, "claim {name:?} does not have a required value"),
        }
    }
}

impl Policy {
    /// Whether anything is configured.
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty()
            && self.domains.is_empty()
            && self.groups.is_empty()
            && self.require.is_empty()
    }

    /// Checks an identity's claims (`email`, `email_verified`, `groups`, `roles`, …).
    pub fn check(&self, claims: &Value) -> Result<(), Refusal> {
        if !self.emails.is_empty() || !self.domains.is_empty() {
            let verified = claims
                .get("email")
                .and_then(Value::as_str)
                .filter(|_| email_verified(claims));
            let ok = verified.is_some_and(|e| {
                let domain = e.rsplit_once('@').map(|(_, d)| d);
                self.emails.iter().any(|a| a.eq_ignore_ascii_case(e))
                    || domain
                        .is_some_and(|d| self.domains.iter().any(|a| a.eq_ignore_ascii_case(d)))
            });
            if !ok {
                return Err(Refusal::Email {
                    verified: verified.map(str::to_owned),
                });
            }
        }
        if !self.groups.is_empty() {
            let has = ["groups", "roles"]
                .iter()
                .flat_map(|c| values(claims.get(*c)))
                .any(|g| self.groups.iter().any(|a| a == g));
            if !has {
                let overage = claims
                    .as_object()
                    .and_then(crate::identity::groups_overage)
                    .is_some();
                return Err(if overage {
                    Refusal::GroupsOverage
                } else {
                    Refusal::Groups
                });
            }
        }
        for (name, want) in &self.require {
            let claim = claims
                .get(name)
                .or_else(|| name.split('.').try_fold(claims, |v, p| v.get(p)));
            if !values(claim).any(|v| want.accepts(v)) {
                return Err(Refusal::Claim { name: name.clone() });
            }
        }
        Ok(())
    }
}

/// A claim's string values: the string, or an array's strings.
fn values(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let (one, many) = match v {
        Some(Value::String(s)) => (Some(s.as_str()), None),
        Some(Value::Array(a)) => (None, Some(a.iter().filter_map(Value::as_str))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

/// A path prefix: matches the path itself and everything below it, segment by segment (`/public`
/// matches `/public`, `/public/` and `/public/x`, not `/publicity`; `/public/` is the same
/// prefix). Segments are compared as [`crate::paths`] reads them: case-insensitively, trailing
/// dots and spaces ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(Vec<String>);

impl Prefix {
    /// From configuration: a canonical absolute path ([`paths::check_canonical`]), decoded
    /// once.
    pub fn parse(s: &str) -> Option<Prefix> {
        paths::config_segments(s).map(Prefix)
    }

    /// Whether a reading's segments are under this prefix.
    pub fn matches(&self, segments: &[String]) -> bool {
        segments.get(..self.0.len()) == Some(self.0.as_slice())
    }

    /// How many segments it has (0 for `/`).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is `/` (matches every path).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every path under this prefix is under `outer` too.
    pub fn within(&self, outer: &Prefix) -> bool {
        outer.matches(&self.0)
    }
}

/// The per-path rules.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    /// Answered without a session.
    pub skip: Vec<Prefix>,
    /// Every rule whose prefix matches must pass.
    pub rules: Vec<(Prefix, Policy)>,
    /// `allow_non_canonical_paths`: paths were not checked, so the readings also resolve dot
    /// segments, read `\` as `/` and decode repeatedly.
    pub lenient: bool,
}

/// What the path rules say about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum PathDecision<'a> {
    /// `skip_auth`: no session needed.
    Public,
    /// A session is needed, and these policies must pass.
    Protected(Vec<&'a Policy>),
}

impl PathRules {
    /// Whether there is any rule at all (the hot path skips the readings without).
    pub fn is_empty(&self) -> bool {
        self.skip.is_empty() && self.rules.is_empty()
    }

    /// The decision for a request target (path with optional query), made on every reading
    /// the upstream may make of it ([`paths::readings`]): public only if every reading is under
    /// a `skip_auth` prefix; a rule applies if any reading is under its prefix.
    pub fn decide(&self, target: &str) -> PathDecision<'_> {
        if self.is_empty() {
            return PathDecision::Protected(Vec::new());
        }
        let path = paths::path_of(target);
        // Callers refuse non-canonical paths first; should one get here all the same, it is
        // read as leniently as allow_non_canonical_paths would.
        let lenient = self.lenient || paths::check_canonical(path).is_err();
        let readings = paths::readings(path, lenient);
        let public = !self.skip.is_empty()
            && readings
                .iter()
                .all(|r| self.skip.iter().any(|p| p.matches(r)));
        if public {
            return PathDecision::Public;
        }
        PathDecision::Protected(
            self.rules
                .iter()
                .filter(|(p, _)| readings.iter().any(|r| p.matches(r)))
                .map(|(_, policy)| policy)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_rules(lenient: bool) -> PathRules {
        PathRules {
            skip: vec![Prefix::parse("/public/").unwrap()],
            rules: vec![(
                Prefix::parse("/admin").unwrap(),
                Policy {
                    groups: vec!["admins".into()],
                    ..Policy::default()
                },
            )],
            lenient,
        }
    }

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        let under = |p: &str, path: &str| {
            let p = Prefix::parse(p).unwrap();
            paths::readings(path, false).iter().any(|r| p.matches(r))
        };
        assert!(under("/public", "/public") && under("/public", "/public/"));
        assert!(under("/public", "/public/x"));
        assert!(!under("/public", "/publicity") && !under("/public", "/admin"));
        assert!(under("/public/", "/public/x") && under("/public/", "/public"));
        assert!(!under("/public/", "/publicx"));
        assert!(Prefix::parse("public").is_none());
        assert!(Prefix::parse("/a/../b").is_none());
        assert!(under("/", "/anything"));
        // Case, trailing dots and spaces, as case-insensitive and Windows servers read them.
        for path in [
            "/ADMIN/x",
            "/Admin/Secret",
            "/admin./x",
            "/admin%20/x",
            "/admin.%20./x",
        ] {
            assert!(under("/admin", path), "{path}");
        }
        assert!(under("/Admin/", "/admin/x"));
    }

    #[test]
    fn skip_auth_holds_only_when_every_reading_is_public() {
        for lenient in [false, true] {
            let rules = sample_rules(lenient);
            assert_eq!(rules.decide("/public/a.css?x=1"), PathDecision::Public);
            assert_eq!(rules.decide("/PUBLIC/a.css"), PathDecision::Public);
            for escape in [
                "/public%2fx",
                "/public;x/y",
                "//public/x",
                "/%70ublic/x",
                "/public/../admin",
                "/public/%2e%2e/admin",
                "/public%2f..%2fadmin",
                "/public/..;/admin",
                "/public/%252e%252e/admin/x",
                "/public\\..\\admin",
            ] {
                match rules.decide(escape) {
                    PathDecision::Protected(_) => {}
                    PathDecision::Public => panic!("{escape} escaped skip_auth ({lenient})"),
                }
            }
            assert_eq!(rules.decide("/other"), PathDecision::Protected(vec![]));
        }
    }

    #[test]
    fn access_rules_apply_when_any_reading_is_under_them() {
        let rules = sample_rules(false);
        for path in [
            "/admin",
            "/ADMIN/secret",
            "/Admin/Secret",
            "/admin./x",
            "/admin%20/x",
            "/admin;x/y",
            "/admin%2fx",
            "/%61dmin/x",
            "//admin/x",
            "/admin%3fx",
        ] {
            match rules.decide(path) {
                PathDecision::Protected(p) => assert_eq!(p.len(), 1, "{path}"),
                PathDecision::Public => panic!("{path} public"),
            }
        }
        let lenient = sample_rules(true);
        for path in [
            "/public/../admin",
            "/public/%2e%2e/admin",
            "/public%2f..%2fadmin",
            "/public/..;/admin",
            "/public/%252e%252e/admin/x",
            "/public\\..\\admin",
            "/x/..%2f..%2fadmin",
        ] {
            match lenient.decide(path) {
                PathDecision::Protected(p) => assert_eq!(p.len(), 1, "{path}"),
                PathDecision::Public => panic!("{path} public"),
            }
        }
    }

    fn claims(email: &str, verified: Value, groups: Value) -> Value {
        json!({"email": email, "email_verified": verified, "groups": groups, "hd": "example.com",
               "org": {"tier": "gold"}})
    }

    #[test]
    fn email_and_domain_lists_count_only_verified_addresses() {
        let p = Policy {
            emails: vec!["Boss@Other.org".into()],
            domains: vec!["example.com".into()],
            ..Policy::default()
        };
        assert!(
            p.check(&claims("a@example.com", json!(true), json!([])))
                .is_ok()
        );
        assert!(
            p.check(&claims("a@EXAMPLE.com", json!("true"), json!([])))
                .is_ok()
        );
        assert!(
            p.check(&claims("boss@other.org", json!(true), json!([])))
                .is_ok()
        );
        assert_eq!(
            p.check(&claims("a@example.com", json!(false), json!([]))),
            Err(Refusal::Email { verified: None })
        );
        assert!(
            p.check(&claims("a@example.com", json!("false"), json!([])))
                .is_err()
        );
        assert!(p.check(&json!({"email": "a@example.com"})).is_err());
        assert!(
            p.check(&claims("a@sub.example.com", json!(true), json!([])))
                .is_err()
        );
        assert!(
            p.check(&claims("a@evil.com", json!(true), json!([])))
                .is_err()
        );
    }

    #[test]
    fn groups_roles_and_required_claims() {
        let p = Policy {
            groups: vec!["admins".into()],
            ..Policy::default()
        };
        assert!(
            p.check(&claims("a@x", json!(true), json!(["users", "admins"])))
                .is_ok()
        );
        assert!(
            p.check(&claims("a@x", json!(true), json!("admins")))
                .is_ok()
        );
        assert!(p.check(&json!({"roles": ["admins"]})).is_ok());
        assert_eq!(
            p.check(&claims("a@x", json!(true), json!(["users"]))),
            Err(Refusal::Groups)
        );
        let mut require = BTreeMap::new();
        require.insert("hd".into(), ClaimMatch::One("example.com".into()));
        require.insert(
            "org.tier".into(),
            ClaimMatch::AnyOf(vec!["gold".into(), "platinum".into()]),
        );
        let p = Policy {
            require,
            ..Policy::default()
        };
        assert!(p.check(&claims("a@x", json!(true), json!([]))).is_ok());
        assert!(
            p.check(&json!({"hd": "example.com", "org": {"tier": "tin"}}))
                .is_err()
        );
        assert!(p.check(&json!({"org": {"tier": "gold"}})).is_err());
        assert!(Policy::default().check(&json!({})).is_ok());
    }
}
