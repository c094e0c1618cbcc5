//! The metadata checks of [`super::examine`], one function per rule.

use relier_jose::Algorithm;
use serde_json::{Map, Value};
use url::{Host, Url};

use super::{Finding, Grade};
use crate::client_auth::AuthMethod;
use crate::discovery::ProviderMetadata;
use crate::profile::{Profile, fapi2_allows};
use crate::recommend::recommend_for_op;
use crate::types::IssuerUrl;

const FAPI_AS: &str = "FAPI 2.0 Security Profile §5.3.1.1";
const FAPI_AUTHZ: &str = "FAPI 2.0 Security Profile §5.3.1.2";
const FAPI_CRYPTO: &str = "FAPI 2.0 Security Profile §5.4.1";

/// The document under examination and the findings so far.
pub(super) struct Context<'a> {
    md: &'a Map<String, Value>,
    profile: Option<Profile>,
    findings: Vec<Finding>,
}

impl<'a> Context<'a> {
    pub(super) fn new(md: &'a Map<String, Value>, profile: Option<Profile>) -> Self {
        Self {
            md,
            profile,
            findings: Vec::new(),
        }
    }

    pub(super) fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    pub(super) fn push(
        &mut self,
        check: &'static str,
        grade: Grade,
        rule: &'static str,
        message: String,
    ) {
        self.findings.push(Finding {
            check,
            grade,
            rule,
            message,
        });
    }

    /// A FAPI 2.0-only requirement: fails under the profile, warns without it.
    pub(super) fn fapi(&self) -> Grade {
        match self.profile {
            Some(Profile::Fapi2) => Grade::Fail,
            None => Grade::Warn,
        }
    }

    fn strings(&self, member: &str) -> Option<Vec<&'a str>> {
        self.md
            .get(member)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    }

    fn flag(&self, member: &str) -> bool {
        self.md.get(member).and_then(Value::as_bool) == Some(true)
    }

    fn has(&self, member: &str) -> bool {
        self.md.get(member).is_some_and(|v| !v.is_null())
    }
}

/// OIDC Discovery 1.0 §4.3: the issuer in the document is the one it was fetched for.
pub(super) fn issuer(ctx: &mut Context<'_>, expected: &IssuerUrl) {
    const RULE: &str = "OIDC Discovery 1.0 §4.3";
    match ctx.md.get("issuer").and_then(Value::as_str) {
        Some(got) if got == expected.as_str() => {
            ctx.push("issuer", Grade::Pass, RULE, format!("issuer is {got}"));
        }
        Some(got) => ctx.push(
            "issuer",
            Grade::Fail,
            RULE,
            format!("issuer is {got:?}, not {:?}", expected.as_str()),
        ),
        None => ctx.push("issuer", Grade::Fail, RULE, "issuer is missing".into()),
    }
}

/// The endpoint members, then the RFC 8705 §5 aliases, as (member, URL).
fn endpoint_urls(md: &Map<String, Value>) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = md
        .iter()
        .filter(|(k, _)| k.ends_with("_endpoint") || k.as_str() == "jwks_uri")
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?)))
        .collect();
    if let Some(aliases) = md.get("mtls_endpoint_aliases").and_then(Value::as_object) {
        out.extend(
            aliases
                .iter()
                .filter_map(|(k, v)| Some((format!("mtls_endpoint_aliases.{k}"), v.as_str()?))),
        );
    }
    out
}

/// OIDC Discovery 1.0 §3, RFC 8414 §2: every endpoint is an https URL. Plain http on a loopback
/// address (a local test OP) is a warning.
pub(super) fn endpoints(ctx: &mut Context<'_>) {
    const RULE: &str = "RFC 8414 §2; OIDC Discovery 1.0 §3";
    let urls = endpoint_urls(ctx.md);
    let mut bad = 0usize;
    for (member, u) in &urls {
        let parsed = Url::parse(u);
        let grade = match &parsed {
            Ok(url) if url.scheme() == "https" => continue,
            Ok(url) if url.scheme() == "http" && is_loopback(url) => Grade::Warn,
            _ => Grade::Fail,
        };
        bad = bad.saturating_add(1);
        let what = if parsed.is_ok() {
            "not https"
        } else {
            "not a URL"
        };
        ctx.push("https", grade, RULE, format!("{member} is {what}: {u}"));
    }
    if bad == 0 {
        ctx.push(
            "https",
            Grade::Pass,
            RULE,
            format!("all {} endpoints are https", urls.len()),
        );
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// RFC 9700 §2.1.1: PKCE with S256 (RFC 7636 §4.2); `plain` SHOULD NOT be used (RFC 7636 §7.2).
pub(super) fn pkce(ctx: &mut Context<'_>) {
    const RULE: &str = "RFC 9700 §2.1.1";
    match ctx.strings("code_challenge_methods_supported") {
        Some(m) if m.contains(&"S256") => {
            ctx.push(
                "pkce",
                Grade::Pass,
                RULE,
                "code_challenge_methods_supported includes S256".into(),
            );
            if m.contains(&"plain") {
                ctx.push(
                    "pkce",
                    Grade::Warn,
                    "RFC 7636 §7.2",
                    "code_challenge_methods_supported also offers plain".into(),
                );
            }
        }
        Some(m) => ctx.push(
            "pkce",
            Grade::Fail,
            RULE,
            format!(
                "code_challenge_methods_supported lacks S256: [{}]",
                m.join(", ")
            ),
        ),
        None => {
            let grade = ctx.fapi();
            let rule = if grade == Grade::Fail {
                FAPI_AUTHZ
            } else {
                RULE
            };
            ctx.push(
                "pkce",
                grade,
                rule,
                "code_challenge_methods_supported is not published: PKCE support cannot be detected".into(),
            );
        }
    }
}

/// RFC 9207 / RFC 9700 §4.4.2: `iss` in the authorization response defends against mix-up;
/// FAPI 2.0 requires it.
pub(super) fn iss_parameter(ctx: &mut Context<'_>) {
    if ctx.flag("authorization_response_iss_parameter_supported") {
        ctx.push(
            "iss_parameter",
            Grade::Pass,
            "RFC 9207 §3",
            "authorization_response_iss_parameter_supported is true".into(),
        );
    } else {
        let grade = ctx.fapi();
        let rule = if grade == Grade::Fail {
            FAPI_AUTHZ
        } else {
            "RFC 9700 §4.4.2"
        };
        ctx.push(
            "iss_parameter",
            grade,
            rule,
            "authorization_response_iss_parameter_supported is not true: clients cannot detect mix-up (RFC 9207)".into(),
        );
    }
}

/// RFC 9700 §2.5: asymmetric client authentication (private_key_jwt, mTLS) is RECOMMENDED;
/// FAPI 2.0 allows only those. The choice is [`recommend_for_op`]'s.
pub(super) fn client_authentication(ctx: &mut Context<'_>) {
    const RULE: &str = "RFC 9700 §2.5";
    let methods = ctx
        .strings("token_endpoint_auth_methods_supported")
        .unwrap_or_else(|| vec!["client_secret_basic"]);
    // The recommendation reads the typed metadata; only this member matters to it.
    let rec = typed_methods(&methods).map(|md| recommend_for_op(&md));
    let asymmetric = |m: AuthMethod| {
        matches!(
            m,
            AuthMethod::PrivateKeyJwt
                | AuthMethod::TlsClientAuth
                | AuthMethod::SelfSignedTlsClientAuth
        )
    };
    match rec {
        Some(r) if asymmetric(r.method) => {
            ctx.push("client_authentication", Grade::Pass, RULE, r.reason)
        }
        Some(r) => {
            let grade = ctx.fapi();
            let rule = if grade == Grade::Fail { FAPI_AS } else { RULE };
            ctx.push(
                "client_authentication",
                grade,
                rule,
                format!(
                    "no private_key_jwt or mTLS client authentication; best offered: {}",
                    r.reason
                ),
            );
        }
        None => ctx.push(
            "client_authentication",
            Grade::Warn,
            RULE,
            "token_endpoint_auth_methods_supported could not be read".into(),
        ),
    }
    if methods.contains(&"none") && ctx.profile.is_some() {
        ctx.push(
            "client_authentication",
            Grade::Fail,
            FAPI_AS,
            "token_endpoint_auth_methods_supported offers none: FAPI 2.0 allows confidential clients only".into(),
        );
    }
}

fn typed_methods(methods: &[&str]) -> Option<ProviderMetadata> {
    let doc = serde_json::json!({
        "issuer": "https://op.invalid",
        "authorization_endpoint": "https://op.invalid/authorize",
        "token_endpoint_auth_methods_supported": methods,
    });
    serde_json::from_value(doc).ok()
}

/// The JWS algorithm lists, then the JWE key-management lists.
const SIGNING_LISTS: [&str; 7] = [
    "id_token_signing_alg_values_supported",
    "userinfo_signing_alg_values_supported",
    "request_object_signing_alg_values_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "introspection_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
    "dpop_signing_alg_values_supported",
];
const ENCRYPTION_LISTS: [&str; 4] = [
    "id_token_encryption_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "authorization_encryption_alg_values_supported",
];

/// RFC 8725 §3.1–3.2: no `none`, no RSA1_5; FAPI 2.0 §5.4.1: ID tokens in PS256, ES256 or EdDSA.
pub(super) fn algorithms(ctx: &mut Context<'_>) {
    let mut bad = 0usize;
    for member in SIGNING_LISTS {
        for alg in ctx.strings(member).unwrap_or_default() {
            if alg == "none" {
                bad = bad.saturating_add(1);
                ctx.push(
                    "algorithms",
                    Grade::Fail,
                    "RFC 8725 §3.1",
                    format!("{member} offers none (unsigned JWTs)"),
                );
            }
        }
    }
    for member in ENCRYPTION_LISTS {
        for alg in ctx.strings(member).unwrap_or_default() {
            if alg == "RSA1_5" {
                bad = bad.saturating_add(1);
                ctx.push(
                    "algorithms",
                    Grade::Fail,
                    "RFC 8725 §3.2",
                    format!("{member} offers RSA1_5 (RSAES-PKCS1-v1_5, open to padding oracles)"),
                );
            }
        }
    }
    if bad == 0 {
        ctx.push(
            "algorithms",
            Grade::Pass,
            "RFC 8725 §3.1–3.2",
            "no alg list offers none or RSA1_5".into(),
        );
    }
    match ctx.strings("id_token_signing_alg_values_supported") {
        Some(algs)
            if algs
                .iter()
                .any(|a| a.parse::<Algorithm>().is_ok_and(fapi2_allows)) =>
        {
            ctx.push(
                "id_token_algorithms",
                Grade::Pass,
                FAPI_CRYPTO,
                format!(
                    "id_token_signing_alg_values_supported: [{}]",
                    algs.join(", ")
                ),
            );
        }
        Some(algs) => {
            let grade = ctx.fapi();
            ctx.push(
                "id_token_algorithms",
                grade,
                FAPI_CRYPTO,
                format!(
                    "id_token_signing_alg_values_supported has none of PS256, ES256, EdDSA: [{}]",
                    algs.join(", ")
                ),
            );
        }
        None => ctx.push(
            "id_token_algorithms",
            Grade::Warn,
            "OIDC Discovery 1.0 §3",
            "id_token_signing_alg_values_supported (REQUIRED) is missing".into(),
        ),
    }
}

/// RFC 9126: pushed authorization requests; FAPI 2.0 requires the OP to require them.
pub(super) fn par(ctx: &mut Context<'_>) {
    const RULE: &str = "RFC 9126 §5";
    if !ctx.has("pushed_authorization_request_endpoint") {
        let grade = ctx.fapi();
        let rule = if grade == Grade::Fail {
            FAPI_AUTHZ
        } else {
            RULE
        };
        ctx.push(
            "par",
            grade,
            rule,
            "no pushed_authorization_request_endpoint: authorization requests travel through the browser".into(),
        );
        return;
    }
    if ctx.flag("require_pushed_authorization_requests") {
        ctx.push(
            "par",
            Grade::Pass,
            RULE,
            "pushed_authorization_request_endpoint published and require_pushed_authorization_requests is true".into(),
        );
    } else {
        let grade = ctx.fapi();
        ctx.push(
            "par",
            grade,
            FAPI_AUTHZ,
            "pushed_authorization_request_endpoint published, but require_pushed_authorization_requests is not true".into(),
        );
    }
}

/// RFC 9700 §2.2.1: sender-constrained access tokens (DPoP, RFC 9449; mTLS, RFC 8705 §3).
pub(super) fn sender_constraint(ctx: &mut Context<'_>) {
    let dpop = ctx
        .strings("dpop_signing_alg_values_supported")
        .filter(|a| !a.is_empty());
    let mtls = ctx.flag("tls_client_certificate_bound_access_tokens");
    let mut ways = Vec::new();
    if let Some(algs) = &dpop {
        ways.push(format!(
            "DPoP (dpop_signing_alg_values_supported: [{}])",
            algs.join(", ")
        ));
    }
    if mtls {
        ways.push(
            "certificate-bound tokens (tls_client_certificate_bound_access_tokens)".to_owned(),
        );
    }
    if ways.is_empty() {
        let grade = ctx.fapi();
        let rule = if grade == Grade::Fail {
            FAPI_AS
        } else {
            "RFC 9700 §2.2.1"
        };
        ctx.push(
            "sender_constrained",
            grade,
            rule,
            "neither dpop_signing_alg_values_supported nor tls_client_certificate_bound_access_tokens: access tokens are bearer tokens".into(),
        );
    } else {
        ctx.push(
            "sender_constrained",
            Grade::Pass,
            "RFC 9700 §2.2.1",
            ways.join(" and "),
        );
    }
}

/// RFC 8705 §5: with mTLS, aliases keep certificate requests off the endpoints browsers use.
pub(super) fn mtls_aliases(ctx: &mut Context<'_>) {
    const RULE: &str = "RFC 8705 §5";
    if let Some(aliases) = ctx
        .md
        .get("mtls_endpoint_aliases")
        .and_then(Value::as_object)
    {
        let names: Vec<&str> = aliases.keys().map(String::as_str).collect();
        ctx.push(
            "mtls_endpoint_aliases",
            Grade::Pass,
            RULE,
            format!("mtls_endpoint_aliases for [{}]", names.join(", ")),
        );
        return;
    }
    let methods = ctx
        .strings("token_endpoint_auth_methods_supported")
        .unwrap_or_default();
    let uses_mtls = methods
        .iter()
        .any(|m| *m == "tls_client_auth" || *m == "self_signed_tls_client_auth")
        || ctx.flag("tls_client_certificate_bound_access_tokens");
    if uses_mtls {
        ctx.push(
            "mtls_endpoint_aliases",
            Grade::Warn,
            RULE,
            "mTLS is offered but mtls_endpoint_aliases is not published: the main endpoints must ask for certificates".into(),
        );
    }
}

/// RFC 9700 §2.1.2: no implicit grant (`token`, `id_token token`) and no hybrid response types
/// returning tokens; FAPI 2.0 allows `code` only.
pub(super) fn response_types(ctx: &mut Context<'_>) {
    let types = ctx.strings("response_types_supported").unwrap_or_default();
    let risky: Vec<&str> = types.iter().copied().filter(|t| *t != "code").collect();
    if risky.is_empty() {
        ctx.push(
            "response_types",
            Grade::Pass,
            "RFC 9700 §2.1.2",
            format!("response_types_supported: [{}]", types.join(", ")),
        );
        return;
    }
    let fapi = ctx.profile.is_some();
    let (grade, rule) = if fapi {
        (Grade::Fail, FAPI_AUTHZ)
    } else {
        (Grade::Warn, "RFC 9700 §2.1.2")
    };
    for t in risky {
        let kind = if t.split(' ').any(|p| p == "code") {
            "hybrid"
        } else {
            "implicit"
        };
        ctx.push(
            "response_types",
            grade,
            rule,
            format!("response_types_supported offers {t:?} ({kind}: tokens in the front channel)"),
        );
    }
}

/// RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used; §2.1.2: nor
/// the implicit grant.
pub(super) fn grant_types(ctx: &mut Context<'_>) {
    let grants = ctx.strings("grant_types_supported").unwrap_or_default();
    let mut bad = 0usize;
    for (grant, rule) in [
        ("password", "RFC 9700 §2.4"),
        ("implicit", "RFC 9700 §2.1.2"),
    ] {
        if grants.contains(&grant) {
            bad = bad.saturating_add(1);
            ctx.push(
                "grant_types",
                Grade::Warn,
                rule,
                format!("grant_types_supported offers {grant}"),
            );
        }
    }
    if bad == 0 {
        ctx.push(
            "grant_types",
            Grade::Pass,
            "RFC 9700 §2.4",
            "no password or implicit grant".into(),
        );
    }
}
