//! The presets relier knows.

use serde::Deserialize;
use std::fmt;

/// A provider preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum Preset {
    /// GitHub (github.com or Enterprise Server): OAuth 2.0, **not** OpenID Connect.
    #[serde(rename = "github")]
    GitHub,
    /// Sign in with Apple (`https://appleid.apple.com`): a client secret relier mints.
    #[serde(rename = "apple")]
    Apple,
    /// Google (`https://accounts.google.com`).
    #[serde(rename = "google")]
    Google,
    /// Microsoft Entra ID (work, school and personal Microsoft accounts).
    #[serde(rename = "entra")]
    Entra,
    /// A Finnish Trust Network broker (the OP Identity Service Broker's Service Provider API):
    /// private_key_jwt and signed request objects, encrypted ID tokens, the personal identity
    /// code as the subject.
    #[serde(rename = "ftn")]
    Ftn,
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::GitHub => "github",
            Preset::Apple => "apple",
            Preset::Google => "google",
            Preset::Entra => "entra",
            Preset::Ftn => "ftn",
        })
    }
}

impl Preset {
    /// The provider's name on the chooser's button.
    pub fn display_name(self) -> &'static str {
        match self {
            Preset::GitHub => "GitHub",
            Preset::Apple => "Apple",
            Preset::Google => "Google",
            Preset::Entra => "Microsoft",
            Preset::Ftn => "bank ID or Mobile ID",
        }
    }

    /// The claim that is the user's stable identifier when the ID token's `sub` is not: the
    /// FTN brokers' `sub` is "not persistent" (ISB README §9), the personal identity code is.
    pub fn subject_claim(self) -> Option<&'static str> {
        match self {
            Preset::Ftn => Some(relier_core::ftn::SUBJECT_CLAIM),
            _ => None,
        }
    }
}
