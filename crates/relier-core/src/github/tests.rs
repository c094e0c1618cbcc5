use super::*;

fn form(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        content_type: Some("application/x-www-form-urlencoded; charset=utf-8".into()),
        www_authenticate: None,
        cache_control: None,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn endpoints_of_github_com_and_enterprise_server() {
    let com = GitHubEndpoints::new("https://github.com/").unwrap();
    assert_eq!(com.issuer.as_str(), "https://github.com");
    assert_eq!(
        com.authorization,
        "https://github.com/login/oauth/authorize"
    );
    assert_eq!(com.token, "https://github.com/login/oauth/access_token");
    assert_eq!(com.api, "https://api.github.com");
    let ghes = GitHubEndpoints::new("https://git.example.com").unwrap();
    assert_eq!(
        ghes.token,
        "https://git.example.com/login/oauth/access_token"
    );
    assert_eq!(ghes.api, "https://git.example.com/api/v3");
    assert!(GitHubEndpoints::new("http://git.example.com").is_err());
}

#[test]
fn api_requests_carry_user_agent_and_the_github_media_type() {
    let ep = GitHubEndpoints::new(GITHUB_COM).unwrap();
    let at = Secret::new("gho_x");
    for req in [ep.user_request(&at), ep.emails_request(&at)] {
        assert!(req.header("user-agent").unwrap().starts_with("relier/"));
        assert_eq!(req.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(req.header("authorization"), Some("Bearer gho_x"));
        assert_eq!(req.header("x-github-api-version"), Some(API_VERSION));
    }
    assert_eq!(
        ep.emails_request(&at).url,
        "https://api.github.com/user/emails"
    );
}

#[test]
fn a_200_with_error_is_an_error() {
    let resp = HttpResponse::json(
        200,
        r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#,
    );
    match parse_token_response(&resp).unwrap_err() {
        TokenError::OAuth { error, status, .. } => {
            assert_eq!(error, "bad_verification_code");
            assert_eq!(status, 200);
        }
        e => panic!("{e}"),
    }
}

#[test]
fn a_form_encoded_answer_is_refused_and_json_is_parsed() {
    let e = parse_token_response(&form(200, "access_token=x&token_type=bearer")).unwrap_err();
    assert!(e.to_string().contains("Accept: application/json"), "{e}");
    let t = parse_token_response(&HttpResponse::json(
        200,
        r#"{"access_token":"gho_1","token_type":"bearer","scope":"read:user,user:email"}"#,
    ))
    .unwrap();
    assert_eq!(t.access_token.expose(), "gho_1");
    let mut req = HttpRequest::get("https://x", "text/html");
    accept_json(&mut req);
    assert_eq!(req.header("accept"), Some("application/json"));
    assert_eq!(req.headers.len(), 1);
}

#[test]
fn user_is_keyed_on_the_numeric_id() {
    let u = GitHubUser::from_response(&HttpResponse::json(
        200,
        r#"{"id":583231,"login":"octocat","name":"The Octocat","email":null}"#,
    ))
    .unwrap();
    let id = GitHubIdentity {
        issuer: GITHUB_COM.into(),
        user: u,
        email: None,
    };
    let c = id.claims();
    assert_eq!(c["sub"], "583231");
    assert_eq!(c["preferred_username"], "octocat");
    assert_eq!(c["name"], "The Octocat");
    assert!(!c.contains_key("email") && !c.contains_key("email_verified"));
    for bad in [
        r#"{"login":"octocat"}"#,
        r#"{"id":"583231","login":"octocat"}"#,
        r#"{"id":-1,"login":"octocat"}"#,
        r#"{"id":1}"#,
    ] {
        assert!(
            GitHubUser::from_response(&HttpResponse::json(200, bad)).is_err(),
            "{bad}"
        );
    }
    let e = GitHubUser::from_response(&HttpResponse::json(
        403,
        r#"{"message":"Request forbidden by administrative rules. Please make sure your request has a User-Agent header"}"#,
    ))
    .unwrap_err();
    assert!(e.to_string().contains("HTTP 403"), "{e}");
}

#[test]
fn only_the_primary_verified_address_counts() {
    let pick = |body: &str| primary_verified_email(&HttpResponse::json(200, body)).unwrap();
    assert_eq!(
        pick(
            r#"[{"email":"old@example.com","primary":false,"verified":true},
                {"email":"me@example.com","primary":true,"verified":true,"visibility":"private"}]"#
        )
        .as_deref(),
        Some("me@example.com")
    );
    assert_eq!(
        pick(
            r#"[{"email":"me@example.com","primary":true,"verified":false},
                 {"email":"other@example.com","primary":false,"verified":true}]"#
        ),
        None
    );
    assert_eq!(pick("[]"), None);
    assert!(
        primary_verified_email(&HttpResponse::json(404, r#"{"message":"Not Found"}"#)).is_err()
    );
}
