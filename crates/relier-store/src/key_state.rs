//! The life of an RP key: next → active → retired.

use std::fmt;

use serde::Serialize;

/// Where an RP key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS, not yet used for signing; becomes active at `activates_at`.
    Next,
    /// Published and used for signing. At most one per algorithm.
    Active,
    /// No longer used for signing; published until `grace_until`, then removable.
    Retired,
}

impl KeyState {
    /// "next", "active" or "retired" (the stored form).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    /// The state whose stored form is `s`; `None` for anything else.
    #[must_use]
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "next" => Some(KeyState::Next),
            "active" => Some(KeyState::Active),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
