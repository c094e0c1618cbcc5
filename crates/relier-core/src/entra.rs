//! Microsoft Entra ID (formerly Azure AD) multi-tenant issuers.
//!
//! The metadata of the multi-tenant authorities (`…/common/v2.0`, `…/organizations/v2.0`)
//! carries the issuer *template* `https://login.microsoftonline.com/{tenantid}/v2.0`, and each
//! ID token the issuer of the user's own tenant. The rule
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer>,
//! "Validating tokens" in
//! <https://learn.microsoft.com/en-us/entra/identity-platform/howto-convert-app-to-be-multi-tenant#update-your-code-to-handle-multiple-issuer-values>):
//! the token's `iss` must equal the template with `{tenantid}` replaced by the token's own
//! `tid`, and the application decides which tenants it lets in. [`TenantPolicy`] is that
//! decision; [`crate::IdTokenValidator::with_tenants`] applies the rule in place of the exact
//! issuer comparison of OIDC Core §3.1.3.7 (2).

use crate::types::{InvalidValue, IssuerUrl};

/// The placeholder of the issuer template.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";
/// The tenants of the multi-tenant authorities.
pub const MULTI_TENANT: [&str; 2] = ["common", "organizations"];
/// The tenant of personal Microsoft accounts (`consumers`), whose issuer is fixed.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Which tenants may sign in through a multi-tenant authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantPolicy {
    /// Every tenant (an explicit choice).
    Any,
    /// These tenant ids (`tid`), compared case-insensitively (they are GUIDs).
    Allowed(Vec<String>),
}

impl TenantPolicy {
    /// Whether `tid` may sign in.
    pub fn allows(&self, tid: &str) -> bool {
        match self {
            TenantPolicy::Any => true,
            TenantPolicy::Allowed(t) => t.iter().any(|a| a.eq_ignore_ascii_case(tid)),
        }
    }
}

/// The issuer template published by the multi-tenant authority `issuer`
/// (`{authority}/common/v2.0` → `{authority}/{tenantid}/v2.0`); `None` when `issuer` is not a
/// multi-tenant authority.
///
/// # Errors
/// Never in practice (the template is `issuer` with one path segment replaced).
pub fn issuer_template(issuer: &IssuerUrl) -> Result<Option<IssuerUrl>, InvalidValue> {
    let s = issuer.as_str().trim_end_matches('/');
    let Some(rest) = s.strip_suffix("/v2.0") else {
        return Ok(None);
    };
    let Some((authority, tenant)) = rest.rsplit_once('/') else {
        return Ok(None);
    };
    if !MULTI_TENANT.contains(&tenant) {
        return Ok(None);
    }
    IssuerUrl::new(format!("{authority}/{TENANT_PLACEHOLDER}/v2.0")).map(Some)
}

/// Why a token's tenant gives no issuer. The ID token and logout token validators turn it
/// into their own error ([`crate::IdTokenError`], [`crate::logout::LogoutTokenError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// The token carries no `tid` claim (or `null`).
    #[error("required claim tid is missing")]
    MissingTid,
    /// `tid` is not a string, or not a tenant id.
    #[error("claim tid is invalid: {reason}")]
    InvalidTid {
        /// What is wrong with the `tid` value.
        reason: &'static str,
    },
    /// `tid` is not among the tenants the application lets in.
    #[error("tenant (tid) {tid} is not allowed")]
    NotAllowed {
        /// The token's tenant id.
        tid: String,
    },
}

/// The issuer of a token whose `tid` claim is `tid` (ID token or back-channel logout token):
/// `template` with the tenant put in, once it passed `policy`.
///
/// # Errors
/// [`TenantError::MissingTid`], [`TenantError::InvalidTid`] (not a plain string, or not made
/// of letters, digits and `-`), [`TenantError::NotAllowed`].
pub fn issuer_for_tid(
    template: &str,
    tid: Option<&serde_json::Value>,
    policy: &TenantPolicy,
) -> Result<String, TenantError> {
    let tid = match tid {
        None | Some(serde_json::Value::Null) => return Err(TenantError::MissingTid),
        Some(serde_json::Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(TenantError::InvalidTid {
                reason: "not a string",
            });
        }
    };
    // A tid that could rewrite the issuer's path (or be empty) is no tenant id.
    if tid.is_empty() || !tid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(TenantError::InvalidTid {
            reason: "not a tenant id (letters, digits and '-')",
        });
    }
    if !policy.allows(tid) {
        return Err(TenantError::NotAllowed {
            tid: tid.to_owned(),
        });
    }
    Ok(template.replace(TENANT_PLACEHOLDER, tid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_of_multi_tenant_authorities_only() {
        let t = |s: &str| issuer_template(&IssuerUrl::new(s).unwrap()).unwrap();
        assert_eq!(
            t("https://login.microsoftonline.com/common/v2.0")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        );
        assert!(t("https://login.microsoftonline.com/organizations/v2.0/").is_some());
        assert!(t("https://login.microsoftonline.com/contoso-id/v2.0").is_none());
        assert!(t("https://accounts.google.com").is_none());
    }

    #[test]
    fn the_issuer_is_the_template_with_the_tokens_tid() {
        let tpl = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let t1 = serde_json::json!("T1");
        let allowed = TenantPolicy::Allowed(vec!["t1".into()]);
        assert_eq!(
            issuer_for_tid(tpl, Some(&t1), &allowed).unwrap(),
            "https://login.microsoftonline.com/T1/v2.0"
        );
        assert!(matches!(
            issuer_for_tid(tpl, Some(&t1), &TenantPolicy::Allowed(vec!["other".into()])),
            Err(TenantError::NotAllowed { .. })
        ));
        assert_eq!(
            issuer_for_tid(tpl, None, &TenantPolicy::Any),
            Err(TenantError::MissingTid)
        );
        assert_eq!(
            issuer_for_tid(tpl, Some(&serde_json::Value::Null), &TenantPolicy::Any),
            Err(TenantError::MissingTid)
        );
        for evil in [
            serde_json::json!("a/../b"),
            serde_json::json!(""),
            serde_json::json!(7),
        ] {
            assert!(matches!(
                issuer_for_tid(tpl, Some(&evil), &TenantPolicy::Any),
                Err(TenantError::InvalidTid { .. })
            ));
        }
    }
}
