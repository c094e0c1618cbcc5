//! Rows and handles the session tests share.

use relier_core::Secret;
use relier_store::{MasterKey, MasterKeySource, SessionRecord, Store, StoreUrl};
use serde_json::json;

pub const NOW: u64 = 1_700_000_000;
pub const IDLE: u64 = 1800;
pub const ABSOLUTE: u64 = 8 * 3600;

pub fn key() -> MasterKey {
    MasterKey::from_bytes([0x5a; 32])
}

pub async fn open(url: &StoreUrl) -> Box<dyn Store> {
    relier_store::open(url, MasterKeySource::Key(key()))
        .await
        .unwrap()
        .0
}

/// A session of `sub` at `provider` (its tokens named after `sub`), live at [`NOW`].
pub fn session(provider: &str, sub: &str, sid: Option<&str>) -> SessionRecord {
    SessionRecord {
        provider: provider.into(),
        iss: format!("https://{provider}.example"),
        sub: sub.into(),
        sid: sid.map(str::to_owned),
        email: Some(format!("{sub}@example.com")),
        name: Some(format!("User {sub}")),
        claims: json!({"sub": sub, "groups": ["a", "b"]}),
        access_token: Some(Secret::new(format!("at-{sub}"))),
        refresh_token: Some(Secret::new(format!("rt-{sub}"))),
        id_token: Some(Secret::new(format!("idt-{sub}"))),
        dpop_key: Some(Secret::new(format!("ES256:dpop-{sub}"))),
        access_expires_at: Some(NOW + 300),
        csrf_token: Secret::new(format!("csrf-{sub}")),
        created_at: NOW,
        last_seen_at: NOW,
        idle_expires_at: NOW + IDLE,
        absolute_expires_at: NOW + ABSOLUTE,
        version: 0,
        app_data: None,
    }
}
