//! The sign-in buttons of the providers relier has presets for, after each provider's published
//! branding rules — wording, logo, colours — as far as a server-rendered page under
//! `style-src 'self'` allows: the logos are inline SVG (no fetch), the colours live in the
//! built-in style sheet ([`BRAND_CSS`]), never in `style` attributes.
//!
//! - GitHub, "GitHub Logos and Usage" (<https://github.com/logos>): the Invertocat mark
//!   unaltered, in one colour (white on GitHub's dark grey here).
//! - Apple, Human Interface Guidelines "Sign in with Apple"
//!   (<https://developer.apple.com/design/human-interface-guidelines/sign-in-with-apple>): the
//!   title "Sign in with Apple"; black button with white logo and title on light backgrounds,
//!   white with black on dark ones; logo and title in the same colour.
//! - Microsoft, "Sign in with Microsoft: branding guidelines"
//!   (<https://learn.microsoft.com/en-us/entra/identity-platform/howto-add-branding-in-apps>):
//!   "Sign in with Microsoft", the four-square logo; light theme white with a #8C8C8C border and
//!   #5E5E5E text, dark theme #2F2F2F with white text; Segoe UI.
//! - Google, "Sign in with Google branding guidelines"
//!   (<https://developers.google.com/identity/branding-guidelines>): "Sign in with Google", the
//!   standard colour "G" on white; light theme #FFFFFF with a #747775 border and #1F1F1F text,
//!   dark theme #131314 with a #8E918F border and #E3E3E3 text; Roboto Medium.

/// A provider whose branded button the chooser shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Brand {
    /// "Sign in with GitHub".
    GitHub,
    /// "Sign in with Apple".
    Apple,
    /// "Sign in with Microsoft".
    Microsoft,
    /// "Sign in with Google".
    Google,
}

impl Brand {
    /// The button's text, as the provider's rules word it.
    pub fn label(self) -> &'static str {
        match self {
            Brand::GitHub => "Sign in with GitHub",
            Brand::Apple => "Sign in with Apple",
            Brand::Microsoft => "Sign in with Microsoft",
            Brand::Google => "Sign in with Google",
        }
    }

    /// The CSS class of the button (see [`BRAND_CSS`]).
    pub fn class(self) -> &'static str {
        match self {
            Brand::GitHub => "relier-brand-github",
            Brand::Apple => "relier-brand-apple",
            Brand::Microsoft => "relier-brand-microsoft",
            Brand::Google => "relier-brand-google",
        }
    }

    /// The logo: inline SVG, hidden from assistive technology (the text names the provider).
    pub fn logo(self) -> &'static str {
        match self {
            Brand::GitHub => GITHUB_LOGO,
            Brand::Apple => APPLE_LOGO,
            Brand::Microsoft => MICROSOFT_LOGO,
            Brand::Google => GOOGLE_LOGO,
        }
    }
}

/// The GitHub mark (Octicons `mark-github`), in the text colour.
const GITHUB_LOGO: &str = r#"<svg class="relier-logo" aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 16 16"><path fill="currentColor" d="M8 0C3.58 0 0 3.58 0 8c0 3.54 2.29 6.53 5.47 7.59.4.07.55-.17.55-.38 0-.19-.01-.82-.01-1.49-2.01.37-2.53-.49-2.69-.94-.09-.23-.48-.94-.82-1.13-.28-.15-.68-.52-.01-.53.63-.01 1.08.58 1.23.82.72 1.21 1.87.87 2.33.66.07-.52.28-.87.51-1.07-1.78-.2-3.64-.89-3.64-3.95 0-.87.31-1.59.82-2.15-.08-.2-.36-1.02.08-2.12 0 0 .67-.21 2.2.82.64-.18 1.32-.27 2-.27.68 0 1.36.09 2 .27 1.53-1.04 2.2-.82 2.2-.82.44 1.1.16 1.92.08 2.12.51.56.82 1.27.82 2.15 0 3.07-1.87 3.75-3.65 3.95.29.25.54.73.54 1.48 0 1.07-.01 1.93-.01 2.2 0 .21.15.46.55.38A8.013 8.013 0 0016 8c0-4.42-3.58-8-8-8z"/></svg>"#;

/// The Apple logo, in the text colour (Apple: logo and title share one colour).
const APPLE_LOGO: &str = r#"<svg class="relier-logo" aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24"><path fill="currentColor" d="M12.152 6.896c-.948 0-2.415-1.078-3.96-1.04-2.04.027-3.91 1.183-4.961 3.014-2.117 3.675-.546 9.103 1.519 12.09 1.013 1.454 2.208 3.09 3.792 3.039 1.52-.065 2.09-.987 3.935-.987 1.831 0 2.35.987 3.96.948 1.637-.026 2.676-1.48 3.676-2.948 1.156-1.688 1.636-3.325 1.662-3.415-.039-.013-3.182-1.221-3.22-4.857-.026-3.04 2.48-4.494 2.597-4.559-1.429-2.09-3.623-2.324-4.39-2.376-2-.156-3.675 1.09-4.61 1.09zM15.53 3.83c.843-1.012 1.4-2.427 1.245-3.83-1.207.052-2.662.805-3.532 1.818-.78.896-1.454 2.338-1.273 3.714 1.338.104 2.715-.688 3.559-1.701"/></svg>"#;

/// The Microsoft logo: four squares, 21×21 with 1 px gaps.
const MICROSOFT_LOGO: &str = r##"<svg class="relier-logo" aria-hidden="true" focusable="false" width="21" height="21" viewBox="0 0 21 21"><rect x="1" y="1" width="9" height="9" fill="#f25022"/><rect x="11" y="1" width="9" height="9" fill="#7fba00"/><rect x="1" y="11" width="9" height="9" fill="#00a4ef"/><rect x="11" y="11" width="9" height="9" fill="#ffb900"/></svg>"##;

/// Google's standard colour "G".
const GOOGLE_LOGO: &str = r##"<svg class="relier-logo" aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 18 18"><path fill="#EA4335" d="M9 3.48c1.69 0 2.83.73 3.48 1.34l2.54-2.48C13.46.89 11.43 0 9 0 5.48 0 2.44 2.02.96 4.96l2.91 2.26C4.6 5.05 6.62 3.48 9 3.48z"/><path fill="#4285F4" d="M17.64 9.2c0-.74-.06-1.28-.19-1.84H9v3.34h4.96c-.1.83-.64 2.08-1.84 2.92l2.84 2.2c1.7-1.57 2.68-3.88 2.68-6.62z"/><path fill="#FBBC05" d="M3.88 10.78A5.54 5.54 0 0 1 3.58 9c0-.62.11-1.22.29-1.78L.96 4.96A9.008 9.008 0 0 0 0 9c0 1.45.35 2.82.96 4.04l2.92-2.26z"/><path fill="#34A853" d="M9 18c2.43 0 4.47-.8 5.96-2.18l-2.84-2.2c-.76.53-1.78.9-3.12.9-2.38 0-4.4-1.57-5.12-3.74L.97 13.04C2.45 15.98 5.48 18 9 18z"/></svg>"##;

/// The branded buttons' rules, appended to the built-in style sheet. The focus ring is the
/// sheet's own (`a:focus-visible`), drawn outside the button so no brand colour changes.
pub const BRAND_CSS: &str = r#"a.relier-brand{display:flex;align-items:center;justify-content:center;gap:.6rem}
a.relier-brand:hover{box-shadow:0 1px 4px rgba(0,0,0,.3)}
.relier-logo{flex:none}
a.relier-brand-github,a.relier-brand-github:hover{background:#24292f;border-color:#24292f;color:#fff}
a.relier-brand-apple,a.relier-brand-apple:hover{background:#000;border-color:#000;color:#fff;font-family:-apple-system,BlinkMacSystemFont,"Helvetica Neue",sans-serif}
a.relier-brand-microsoft,a.relier-brand-microsoft:hover{background:#fff;border-color:#8c8c8c;color:#5e5e5e;font-family:"Segoe UI",system-ui,sans-serif;font-weight:600}
a.relier-brand-google,a.relier-brand-google:hover{background:#fff;border-color:#747775;color:#1f1f1f;font-family:Roboto,Arial,sans-serif;font-weight:500}
@media (prefers-color-scheme:dark){a.relier-brand-github,a.relier-brand-github:hover{border-color:#6e7681}
a.relier-brand-apple,a.relier-brand-apple:hover{background:#fff;border-color:#fff;color:#000}
a.relier-brand-microsoft,a.relier-brand-microsoft:hover{background:#2f2f2f;border-color:#2f2f2f;color:#fff}
a.relier-brand-google,a.relier-brand-google:hover{background:#131314;border-color:#8e918f;color:#e3e3e3}}
"#;
