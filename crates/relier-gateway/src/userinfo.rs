//! When the gateway asks the OP's UserInfo endpoint (OIDC Core §5.3) after a login:
//! `userinfo = "auto"` (default), `"always"` or `"never"` per provider.
//!
//! `auto` calls it only when the ID token lacks a claim the gateway uses: `email` and
//! `email_verified` when the `email` scope was asked for, a display name (`name`,
//! `given_name`, `family_name` or `preferred_username`) when `profile` was, and every claim
//! named by `[headers]`, the provider's access rules and `[[access]]` rules. An OP that puts
//! the scopes' claims in the ID token (many do) so costs one HTTP round trip less per login;
//! one that does not (OIDC Core §5.4 only puts them in UserInfo for `response_type=code`) is
//! asked as before. An application embedding relier that reads other claims from
//! `Identity::claims` sets `userinfo = "always"`.

use serde_json::{Map, Value};

use crate::config::{Config, ProviderConfig, UserinfoPolicy};

/// Display-name claims: one of them is enough.
const NAME_CLAIMS: &[&str] = &["name", "given_name", "family_name", "preferred_username"];

/// What a provider's logins need from UserInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserinfoNeed {
    policy: UserinfoPolicy,
    /// Claims the ID token must all carry for `auto` to skip the call.
    claims: Vec<String>,
    /// The `profile` scope was asked for: a display name is wanted too.
    name: bool,
}

impl UserinfoNeed {
    /// The need of provider `p` asking for `scopes`, under `config`'s headers and rules.
    pub fn new(config: &Config, p: &ProviderConfig, scopes: &[String]) -> Self {
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let mut claims: Vec<String> = Vec::new();
        let mut want = |c: &str| {
            if !claims.iter().any(|x| x == c) {
                claims.push(c.to_owned());
            }
        };
        let emails = !p.policy.allowed_emails.is_empty() || !p.policy.allowed_domains.is_empty();
        let access_emails = config
            .access
            .iter()
            .any(|a| !a.emails.is_empty() || !a.domains.is_empty());
        if has("email") || emails || access_emails {
            want("email");
            want("email_verified");
        }
        if !p.policy.allowed_groups.is_empty() || config.access.iter().any(|a| !a.groups.is_empty())
        {
            want("groups");
        }
        // The claim that is the user's identifier (`preset = "ftn"`: personal_identity_code).
        if let Some(c) = p.preset().and_then(crate::presets::Preset::subject_claim) {
            want(c);
        }
        for claim in config.headers.values().chain(p.policy.require.keys()) {
            // `a.b` walks into `a`: the top-level claim is what the token must carry.
            want(claim.split('.').next().unwrap_or(claim));
        }
        UserinfoNeed {
            policy: p.policy.userinfo,
            claims,
            name: has("profile"),
        }
    }

    /// Whether to call UserInfo after a login whose ID token carries `id_claims`.
    pub fn wanted(&self, id_claims: &Map<String, Value>) -> bool {
        match self.policy {
            UserinfoPolicy::Always => true,
            UserinfoPolicy::Never => false,
            UserinfoPolicy::Auto => {
                let present = |c: &str| id_claims.get(c).is_some_and(|v| !v.is_null());
                // Entra: the roles claim stands for groups in the rules.
                let missing = self
                    .claims
                    .iter()
                    .any(|c| !(present(c) || (c == "groups" && present("roles"))));
                missing || (self.name && !NAME_CLAIMS.iter().any(|c| present(c)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: &str, provider: &str) -> Config {
        Config::from_toml(&format!(
            "public_url = \"https://rp.example\"\n{extra}\n[[providers]]\nname = \"op\"\nissuer = \"https://op.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n{provider}\n"
        ))
        .unwrap()
    }

    fn need(extra: &str, provider: &str, scopes: &[&str]) -> UserinfoNeed {
        let c = config(extra, provider);
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        UserinfoNeed::new(&c, &c.providers[0], &scopes)
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn auto_skips_userinfo_only_when_the_id_token_has_every_claim_used() {
        let n = need("", "", &["openid", "profile", "email"]);
        let full = json!({"sub": "a", "email": "a@x", "email_verified": true, "name": "A"});
        assert!(!n.wanted(&map(full)));
        assert!(
            n.wanted(&map(json!({"sub": "a", "email": "a@x", "name": "A"}))),
            "no email_verified"
        );
        assert!(
            n.wanted(&map(
                json!({"sub": "a", "email": "a@x", "email_verified": true})
            )),
            "no name"
        );
        assert!(!n.wanted(&map(
            json!({"sub": "a", "email": "a@x", "email_verified": true, "preferred_username": "a"})
        )));
        assert!(n.wanted(&map(
            json!({"sub": "a", "email": null, "email_verified": true, "name": "A"})
        )));
        // Only openid: nothing is wanted.
        assert!(!need("", "", &["openid"]).wanted(&map(json!({"sub": "a"}))));
    }

    #[test]
    fn headers_and_rules_name_claims_the_token_must_carry() {
        let n = need(
            "[headers]\n\"X-Team\" = \"org.team\"",
            "allowed_groups = [\"admins\"]\n[providers.require]\nacr = \"high\"",
            &["openid"],
        );
        let base = json!({"sub": "a", "org": {"team": "t"}, "groups": ["admins"], "acr": "high"});
        assert!(!n.wanted(&map(base.clone())));
        let mut no_org = map(base.clone());
        no_org.remove("org");
        assert!(n.wanted(&no_org));
        let mut roles = map(base);
        roles.remove("groups");
        roles.insert("roles".into(), json!(["admins"]));
        assert!(!n.wanted(&roles), "Entra roles stand for groups");
    }

    #[test]
    fn always_and_never() {
        let full = map(json!({"sub": "a", "email": "a@x", "email_verified": true, "name": "A"}));
        assert!(need("", "userinfo = \"always\"", &["openid", "email"]).wanted(&full));
        assert!(
            !need("", "userinfo = \"never\"", &["openid", "email"])
                .wanted(&map(json!({"sub": "a"})))
        );
        let e = Config::from_toml(
            "public_url = \"https://x\"\n[[providers]]\nname = \"a\"\nuserinfo = \"sometimes\"",
        )
        .unwrap_err();
        assert!(e.to_string().contains("userinfo"), "{e}");
    }
}
