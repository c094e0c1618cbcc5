//! The example application in front of the in-process misbehaving OP (a static provider with
//! client_secret), driven with `Router::oneshot` and a cookie jar.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_debug_implementations,
    dead_code,
    reason = "test support code"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use relier_example::App;
use relier_gateway::Config;
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const PUBLIC: &str = "http://127.0.0.1:8088";
/// The same on https: secure cookies, relier's binding cookie `SameSite=None`.
pub const PUBLIC_HTTPS: &str = "https://127.0.0.1:8088";

pub struct Env {
    pub op: BadOp,
    pub app: Arc<App>,
    pub b: Browser,
    pub _dir: tempfile::TempDir,
}

impl Env {
    pub async fn new() -> Env {
        Env::at(PUBLIC).await
    }

    /// The application at public URL `public` (`PUBLIC` or `PUBLIC_HTTPS`).
    pub async fn at(public: &str) -> Env {
        let op = BadOp::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            r#"
public_url = "{public}"
store = "sqlite://{db}"

[[providers]]
name = "bad"
display_name = "Bad <OP>"
issuer = "{iss}"
client_id = "{CLIENT_ID}"
client_secret = "s3cret-s3cret"
"#,
            db = dir.path().join("relier.db").display(),
            iss = op.issuer(),
        );
        let config = Config::from_toml(&toml).unwrap();
        let db = relier_example::default_db_path(&config).unwrap();
        assert_eq!(db, dir.path().join("relier-example.db"));
        let app = App::build(config, &db).await.unwrap();
        let mut b = Browser::new(app.router());
        b.origin = public.to_owned();
        Env {
            op,
            app,
            b,
            _dir: dir,
        }
    }

    /// The OP signs the next logins in as `sub` (e-mail `alice@example.com` whatever `sub`).
    pub fn op_user(&self, sub: &str) {
        self.op.set(Misbehavior {
            claims: vec![("sub".into(), Some(json!(sub)))],
            userinfo_sub: Some(sub.into()),
            ..Default::default()
        });
    }

    /// Follows a redirect to `/auth/login/bad…` through the OP back to the callback: returns
    /// the callback's response.
    pub async fn through_op(&mut self, login_path: &str) -> Response<Body> {
        let r = self.b.get(login_path).await;
        self.callback(&r).await
    }

    /// The OP's answer to `to_op` (a 302 to its authorization endpoint): the callback URL.
    pub async fn op_answer(&self, to_op: &Response<Body>) -> url::Url {
        assert_eq!(to_op.status(), StatusCode::FOUND);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let op = client.get(loc(to_op)).send().await.unwrap();
        assert!(op.status().is_redirection(), "{}", op.status());
        let cb = url::Url::parse(op.headers()["location"].to_str().unwrap()).unwrap();
        assert!(
            cb.as_str()
                .starts_with(&format!("{}/auth/callback/bad?", self.b.origin))
        );
        cb
    }

    /// The OP's answer to `to_op` back at the callback (query mode): its response.
    pub async fn callback(&mut self, to_op: &Response<Body>) -> Response<Body> {
        let cb = self.op_answer(to_op).await;
        self.b
            .get(&format!("{}?{}", cb.path(), cb.query().unwrap()))
            .await
    }

    /// The OP's answer to `to_op` as a `form_post` (Sign in with Apple): a cross-site POST
    /// to the callback, carrying only the cookies set `SameSite=None`.
    pub async fn callback_form_post(&mut self, to_op: &Response<Body>) -> Response<Body> {
        let cb = self.op_answer(to_op).await;
        let cookies: Vec<String> = self
            .b
            .jar
            .iter()
            .filter(|(k, _)| self.b.same_site_none.contains(*k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut r = form_request(cb.path(), &[], Some("null"));
        *r.body_mut() = Body::from(cb.query().unwrap().to_owned());
        r.headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().unwrap());
        // Some value, so that `send` adds none of the jar's.
        r.headers_mut().insert(
            header::COOKIE,
            format!("x=1; {}", cookies.join("; ")).parse().unwrap(),
        );
        self.b.send(r).await
    }

    /// "Login with …" from the sign-in page.
    pub async fn provider_login(&mut self) -> Response<Body> {
        self.through_op("/auth/login/bad").await
    }

    pub async fn signup(&mut self, user: &str, pw: &str) -> Response<Body> {
        let t = self.b.csrf().await;
        self.b
            .post(
                "/signup",
                &[("username", user), ("password", pw), ("csrf_token", &t)],
            )
            .await
    }

    pub async fn login(&mut self, user: &str, pw: &str) -> Response<Body> {
        let t = self.b.csrf().await;
        self.b
            .post(
                "/login",
                &[("username", user), ("password", pw), ("csrf_token", &t)],
            )
            .await
    }

    /// Signs out: relier's `POST /auth/logout` with the session's CSRF token in the header.
    pub async fn logout(&mut self) {
        let t = self.b.csrf().await;
        let r = self
            .b
            .send(
                Request::post("/auth/logout")
                    .header("x-csrf-token", t)
                    .header(header::ORIGIN, self.b.origin.clone())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(self.me().await.0, StatusCode::UNAUTHORIZED);
    }

    /// `POST {path}` with the session's CSRF token and no other field.
    pub async fn post_action(&mut self, path: &str) -> Response<Body> {
        let t = self.b.csrf().await;
        self.b.post(path, &[("csrf_token", &t)]).await
    }

    pub async fn me(&mut self) -> (StatusCode, Value) {
        let r = self.b.get("/me").await;
        let status = r.status();
        (status, serde_json::from_str(&text(r).await).unwrap())
    }

    /// The identities `/me` lists, as `provider issuer sub` strings.
    pub async fn identities(&mut self) -> Vec<String> {
        let (s, me) = self.me().await;
        assert_eq!(s, StatusCode::OK, "{me}");
        me["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {} {}", i["provider"], i["issuer"], i["sub"]).replace('"', ""))
            .collect()
    }
}

/// Drives a `Router` with `oneshot`, keeping cookies like a browser would.
pub struct Browser {
    pub router: Router,
    pub jar: BTreeMap<String, String>,
    /// The names of the jar's cookies set `SameSite=None` (sent with cross-site POSTs).
    pub same_site_none: BTreeSet<String>,
    /// The `Origin` of its same-origin form posts.
    pub origin: String,
}

impl Browser {
    pub fn new(router: Router) -> Self {
        Browser {
            router,
            jar: BTreeMap::new(),
            same_site_none: BTreeSet::new(),
            origin: PUBLIC.to_owned(),
        }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Response<Body> {
        if !req.headers().contains_key(header::COOKIE) && !self.jar.is_empty() {
            let c: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.headers_mut()
                .insert(header::COOKIE, c.join("; ").parse().unwrap());
        }
        let resp = self.router.clone().oneshot(req).await.unwrap();
        for sc in resp.headers().get_all(header::SET_COOKIE) {
            let sc = sc.to_str().unwrap();
            let (k, v) = sc.split(';').next().unwrap().split_once('=').unwrap();
            if sc.contains("Max-Age=0") {
                self.jar.remove(k);
                self.same_site_none.remove(k);
            } else {
                self.jar.insert(k.to_owned(), v.to_owned());
                if sc.contains("SameSite=None") {
                    self.same_site_none.insert(k.to_owned());
                } else {
                    self.same_site_none.remove(k);
                }
            }
        }
        resp
    }

    pub async fn get(&mut self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// A same-origin form post.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Response<Body> {
        let origin = self.origin.clone();
        self.send(form_request(uri, fields, Some(&origin))).await
    }

    /// The CSRF token of the forms on `/`.
    pub async fn csrf(&mut self) -> String {
        let page = text(self.get("/").await).await;
        hidden_csrf(&page)
    }
}

pub fn form_request(uri: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut r =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        r = r.header(header::ORIGIN, o);
    }
    r.body(Body::from(body)).unwrap()
}

/// The value of the first hidden `csrf_token` input of a page.
pub fn hidden_csrf(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a csrf_token input") + marker.len();
    let end = page[start..].find('"').unwrap();
    page[start..start + end].to_owned()
}

pub use relier_tests::responses::{loc, text};
