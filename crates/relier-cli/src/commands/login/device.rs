//! `relier login --device`: the device authorization grant (RFC 8628). The OP's verification
//! URI and user code go to stderr (with a QR code of `verification_uri_complete` on a
//! terminal); relier then polls the token endpoint, sleeping as [`relier_core::device`]
//! decides, and finishes like a browser login: the same ID token validation, UserInfo and
//! output.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use relier::DeviceStep;
use relier_core::device::DeviceAuthorization;

use super::super::Session;
use crate::args::{LoginArgs, StoreArgs};
use crate::output;

/// One second of the OP's poll interval, unless `--test-device-poll-unit-ms` says otherwise.
const SECOND_MS: u64 = 1000;

/// Run `login --device`.
pub async fn run(a: &LoginArgs, store: &StoreArgs) -> anyhow::Result<()> {
    let session = Session::connect(&a.client, store)
        .await?
        .with_profile(&a.security)
        .await?;
    let scope = session.scopes(a.scope.as_deref());
    let rp = session.relying_party(&a.validation, None, a.userinfo_signed_alg)?;
    let auth = rp.device_authorization(&scope).await?;
    show(&auth);
    let unit = Duration::from_millis(a.test_device_poll_unit_ms.unwrap_or(SECOND_MS));
    let mut polling = rp.device_polling(&auth);
    let mut wait = polling.first_wait()?;
    let login = loop {
        tokio::time::sleep(unit.saturating_mul(u32::try_from(wait).unwrap_or(u32::MAX))).await;
        match rp.poll_device_token(&auth, &mut polling).await? {
            DeviceStep::Wait(secs) => {
                tracing::debug!(secs, "device login: not approved yet");
                wait = secs;
            }
            DeviceStep::Done(login) => break *login,
        }
    };
    output::note("device login approved");
    let userinfo = super::userinfo(&rp, &login).await?;
    super::report(a, &rp, &login, userinfo, None, None).await
}

/// Tell the user where to go: the verification URI alone on its line, the user code, the URI
/// that carries the code, and its QR code when a person is watching.
fn show(auth: &DeviceAuthorization) {
    output::note(&format!(
        "to log in, open this URL on any device and enter the code below (valid for {} s):",
        auth.expires_in
    ));
    output::raw_stderr_line(&auth.verification_uri);
    output::note(&format!("user_code: {}", auth.user_code));
    let Some(complete) = &auth.verification_uri_complete else {
        return;
    };
    output::note("or open this URL, which carries the code:");
    output::raw_stderr_line(complete);
    let watched = std::io::stderr().is_terminal() || std::io::stdout().is_terminal();
    if watched && let Some(qr) = qr_code(complete) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(qr.as_bytes());
        let _ = err.flush();
    }
}

/// `text` as a QR code in Unicode half blocks (two modules per character cell), with its
/// quiet zone; `None` when it does not fit in a QR code.
fn qr_code(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let mut s = code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    s.push('\n');
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_code_of_a_verification_uri() {
        let uri = "https://op.example.com/device?user_code=WDJB-MJHT";
        let qr = qr_code(uri).unwrap();
        // The symbol plus a quiet zone of 4 modules on each side; two rows per line.
        let side = qrcode::QrCode::new(uri.as_bytes()).unwrap().width() + 8;
        let lines: Vec<&str> = qr.lines().collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == side), "{qr}");
        assert!(qr.chars().all(|c| " ▀▄█\n".contains(c)), "{qr}");
        let long = "x".repeat(8000);
        assert!(qr_code(&long).is_none());
    }
}
