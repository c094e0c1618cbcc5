//! Server-rendered pages: no JavaScript, every dynamic value HTML-escaped, a strict CSP. They
//! use relier's style sheet (`/auth/assets/relier.css`) and a few rules of their own.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use relier_gateway::{html_escape as esc, html_response};

use crate::db::Linked;

/// No scripts, styles and images from this origin only, not framable. No `form-action`: the
/// link form's redirect chain ends at the OP, which Chromium checks against `form-action`.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
                   frame-ancestors 'none'";

/// The application's extra style rules, served at `/assets/example.css`.
pub const CSS: &str = "main{max-width:30rem}\
form{margin:0 0 1rem}\
label{display:block;margin:0 0 .75rem;font-weight:600}\
input[type=text],input[type=password]{display:block;width:100%;margin-top:.25rem;padding:.6rem;\
border:1px solid var(--relier-border);border-radius:8px;background:var(--relier-bg);\
color:var(--relier-fg);font:inherit}\
h2{font-size:1.1rem;margin:1.5rem 0 .75rem}\
hr{border:0;border-top:1px solid var(--relier-border);margin:1.5rem 0}\
.primary{background:var(--relier-accent)!important;color:#fff!important;border-color:var(--relier-accent)!important}\
.error{color:#b00020;font-weight:600}\
table{width:100%;border-collapse:collapse;margin:0 0 1rem;font-size:.9rem}\
td,th{text-align:left;padding:.25rem;border-bottom:1px solid var(--relier-border);word-break:break-all}\
";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n\
         <link rel=\"stylesheet\" href=\"/auth/assets/relier.css\">\n\
         <link rel=\"stylesheet\" href=\"/assets/example.css\">\n</head>\n<body>\n\
         <main aria-labelledby=\"title\">\n{body}</main>\n</body>\n</html>\n",
        esc(title)
    );
    let mut resp = html_response(status, html, CSP);
    // Not `no-referrer`: under it browsers send `Origin: null` with the forms' POSTs, which
    // the origin check refuses. `same-origin` sends nothing to other sites either.
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

fn csrf_input(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\n",
        esc(csrf)
    )
}

fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A form of one button posting to `action`.
fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">\n{}<button class=\"relier-button {class}\" \
         type=\"submit\">{}</button>\n</form>\n",
        esc(action),
        csrf_input(csrf),
        esc(label)
    )
}

fn credentials_form(action: &str, csrf: &str, button: &str, new_password: bool) -> String {
    let autocomplete = if new_password {
        "new-password"
    } else {
        "current-password"
    };
    format!(
        "<form method=\"post\" action=\"{action}\">\n{}\
         <label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\" \
         required maxlength=\"64\"></label>\n\
         <label>Password <input type=\"password\" name=\"password\" \
         autocomplete=\"{autocomplete}\" required></label>\n\
         <button class=\"relier-button primary\" type=\"submit\">{button}</button>\n</form>\n",
        csrf_input(csrf)
    )
}

/// A page with a title, a message and a way back.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<h1 id=\"title\">{}</h1>\n<p>{}</p>\n<p><a href=\"/\">Back</a></p>\n",
        esc(title),
        esc(text)
    );
    page(status, title, &body)
}

/// `GET /` signed out: the password form, the sign-up form and one "Login with …" per
/// provider.
pub fn sign_in(
    status: StatusCode,
    csrf: &str,
    providers: &[(String, String)],
    error: Option<&str>,
) -> Response {
    let mut body = String::from("<h1 id=\"title\">Sign in</h1>\n");
    if let Some(e) = error {
        let _ = writeln!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    body.push_str(&credentials_form("/login", csrf, "Sign in", false));
    if !providers.is_empty() {
        body.push_str("<ul class=\"relier-providers\">\n");
        for (name, display) in providers {
            let _ = writeln!(
                body,
                "<li><a class=\"relier-button\" href=\"/auth/login/{}\">Login with {}</a></li>",
                esc(&segment(name)),
                esc(display)
            );
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<hr>\n<h2>New here? Create an account</h2>\n");
    body.push_str(&credentials_form("/signup", csrf, "Sign up", true));
    page(status, "Sign in", &body)
}

/// `GET /` signed in: the account, its linked identities, link/unlink buttons, sign out
/// (relier's `POST /auth/logout`).
pub fn home(
    username: &str,
    linked: &[Linked],
    providers: &[(String, String)],
    csrf: &str,
) -> Response {
    let mut body = format!("<h1 id=\"title\">Signed in as {}</h1>\n", esc(username));
    if linked.is_empty() {
        body.push_str("<p>No external identity is linked to this account.</p>\n");
    } else {
        body.push_str("<table>\n<tr><th>Provider</th><th>Issuer</th><th>Subject</th></tr>\n");
        for l in linked {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&l.provider),
                esc(&l.issuer),
                esc(&l.subject)
            );
        }
        body.push_str("</table>\n");
    }
    for (name, display) in providers {
        let is_linked = linked.iter().any(|l| &l.provider == name);
        let (verb, label) = if is_linked {
            ("unlink", format!("Unlink {display}"))
        } else {
            ("link", format!("Link {display}"))
        };
        body.push_str(&button_form(
            &format!("/{verb}/{}", segment(name)),
            csrf,
            &label,
            "",
        ));
    }
    // relier's logout (with relier's session token), back here afterwards — also when it
    // ends the session at the provider too.
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/auth/logout\">\n{}\
         <input type=\"hidden\" name=\"return_to\" value=\"/\">\n\
         <button class=\"relier-button primary\" type=\"submit\">Sign out</button>\n</form>\n",
        csrf_input(csrf)
    );
    page(StatusCode::OK, "Your account", &body)
}

/// What the first-login page shows about the identity.
#[derive(Debug)]
pub struct NewIdentity<'a> {
    /// The provider's display name.
    pub provider: &'a str,
    /// The OP's issuer.
    pub issuer: &'a str,
    /// `sub` at the issuer.
    pub subject: &'a str,
    /// The OP's display name for the user, if any.
    pub name: Option<&'a str>,
}

/// `GET /first-login`: an identity no account is linked to. Never signs in to an existing
/// account by itself: the user creates an account or proves a password.
pub fn first_login(
    status: StatusCode,
    who: &NewIdentity<'_>,
    csrf: &str,
    error: Option<&str>,
) -> Response {
    let mut body = String::from("<h1 id=\"title\">First sign-in with this identity</h1>\n");
    let _ = writeln!(
        body,
        "<p>{} signed you in as <strong>{}</strong> (subject <code>{}</code> at {}). \
         No account here is linked to it yet.</p>",
        esc(who.provider),
        esc(who.name.unwrap_or(who.subject)),
        esc(who.subject),
        esc(who.issuer)
    );
    if let Some(e) = error {
        let _ = writeln!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = write!(
        body,
        "<h2>Create a new account</h2>\n\
         <form method=\"post\" action=\"/first-login/create\">\n{}\
         <label>Pick a username <input type=\"text\" name=\"username\" autocomplete=\"username\" \
         required maxlength=\"64\"></label>\n\
         <button class=\"relier-button primary\" type=\"submit\">Create a new account</button>\n\
         </form>\n<hr>\n<h2>Already have an account? Sign in with your password to link</h2>\n",
        csrf_input(csrf)
    );
    body.push_str(&credentials_form(
        "/first-login/link",
        csrf,
        "Sign in with your password to link",
        false,
    ));
    page(status, "First sign-in", &body)
}
