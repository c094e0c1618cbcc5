//! The provider registry over a backend: records to rows and back, secrets sealed with
//! `relier:provider:<name>:<column>` as associated data.

use std::path::PathBuf;
use std::str::FromStr;

use async_trait::async_trait;
use relier_core::{AuthMethod, Secret, UnixTime};
use serde_json::Value;

use super::Sealed;
use crate::backend::{
    Backend, ProviderRow, from_db_time, opt_from_db_time, opt_to_db_time, parse_alg, to_db_time,
};
use crate::crypto::provider_aad;
use crate::error::StoreError;
use crate::model::{JwksMode, ProviderInfo, ProviderRecord, validate_provider_name};
use crate::registered::{StoredRegistration, secret_expiry};
use crate::store::ProviderRegistry;

const CLIENT_SECRET: &str = "client_secret";
const REGISTRATION_ACCESS_TOKEN: &str = "registration_access_token";

/// The stored registration of a row.
fn registration(row: &ProviderRow) -> Result<Option<StoredRegistration>, StoreError> {
    StoredRegistration::load(
        &row.name,
        row.registered.as_deref(),
        row.registration.as_deref(),
        opt_from_db_time(row.client_secret_expires_at)?,
    )
}

fn path_text(path: Option<&PathBuf>, what: &'static str) -> Result<Option<String>, StoreError> {
    path.map(|p| {
        p.to_str().map(str::to_owned).ok_or(StoreError::Invalid {
            what,
            reason: "the path is not valid UTF-8".to_owned(),
        })
    })
    .transpose()
}

fn json_text(value: Option<&Value>, what: &'static str) -> Result<Option<String>, StoreError> {
    value
        .map(|v| {
            serde_json::to_string(v).map_err(|e| StoreError::Invalid {
                what,
                reason: e.to_string(),
            })
        })
        .transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::db(format!("corrupt {what} in store: {e}")))
}

fn opt_json<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    text.map(|t| parse_json(t, what)).transpose()
}

fn auth_method(text: &str) -> Result<AuthMethod, StoreError> {
    AuthMethod::from_str(text)
        .map_err(|_| StoreError::db(format!("unknown auth method {text:?} in store")))
}

fn provider_info(row: &ProviderRow) -> Result<ProviderInfo, StoreError> {
    let registration = registration(row)?;
    Ok(ProviderInfo {
        client_secret_expires_at: secret_expiry(registration.as_ref()),
        name: row.name.clone(),
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        auth_method: auth_method(&row.auth_method)?,
        redirect_uris: parse_json(&row.redirect_uris, "redirect_uris")?,
        registration_client_uri: row.registration_client_uri.clone(),
        scopes: row.scopes.clone(),
        jwks_mode: row
            .jwks_mode
            .as_deref()
            .map(JwksMode::from_str)
            .transpose()?,
        jwks_uri: row.jwks_uri.clone(),
        created_at: from_db_time(row.created_at)?,
        updated_at: from_db_time(row.updated_at)?,
    })
}

impl<B: Backend> Sealed<B> {
    fn seal_secret(
        &self,
        secret: Option<&Secret>,
        name: &str,
        column: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        secret
            .map(|s| {
                self.cipher
                    .seal(s.expose().as_bytes(), &provider_aad(name, column))
            })
            .transpose()
    }

    fn open_secret(
        &self,
        sealed: Option<&[u8]>,
        name: &str,
        column: &str,
    ) -> Result<Option<Secret>, StoreError> {
        sealed
            .map(|sealed| {
                let plain = self.cipher.open(
                    sealed,
                    &provider_aad(name, column),
                    &format!("{column} of provider {name}"),
                )?;
                std::str::from_utf8(&plain).map(Secret::new).map_err(|_| {
                    StoreError::crypto(format!("{column} of provider {name}: not UTF-8"))
                })
            })
            .transpose()
    }

    fn provider_row(&self, record: &ProviderRecord, now: i64) -> Result<ProviderRow, StoreError> {
        let name = record.name.as_str();
        let redirect_uris =
            serde_json::to_string(&record.redirect_uris).map_err(|e| StoreError::Invalid {
                what: "redirect_uris",
                reason: e.to_string(),
            })?;
        let (registered, registration) = record
            .registration
            .as_ref()
            .map(StoredRegistration::stored)
            .transpose()?
            .unwrap_or_default();
        let client_secret_expires_at = record
            .registration
            .as_ref()
            .and_then(StoredRegistration::client_secret_expires_at);
        Ok(ProviderRow {
            name: name.to_owned(),
            issuer: record.issuer.clone(),
            client_id: record.client_id.clone(),
            auth_method: record.auth_method.as_str().to_owned(),
            redirect_uris,
            scopes: record.scopes.clone(),
            id_token_alg: record.id_token_alg.map(|a| a.as_str().to_owned()),
            signing_alg: record.signing_alg.map(|a| a.as_str().to_owned()),
            jwks_mode: record.jwks_mode.map(|m| m.as_str().to_owned()),
            jwks_uri: record.jwks_uri.clone(),
            tls_cert_path: path_text(record.tls_cert_path.as_ref(), "TLS certificate path")?,
            tls_key_path: path_text(record.tls_key_path.as_ref(), "TLS key path")?,
            registration_client_uri: record.registration_client_uri.clone(),
            provider_metadata: json_text(record.provider_metadata.as_ref(), "provider_metadata")?,
            registration,
            registered,
            client_secret_expires_at: opt_to_db_time(client_secret_expires_at)?,
            client_secret: self.seal_secret(record.client_secret.as_ref(), name, CLIENT_SECRET)?,
            registration_access_token: self.seal_secret(
                record.registration_access_token.as_ref(),
                name,
                REGISTRATION_ACCESS_TOKEN,
            )?,
            created_at: now,
            updated_at: now,
        })
    }

    fn provider_record(&self, row: &ProviderRow) -> Result<ProviderRecord, StoreError> {
        let name = row.name.as_str();
        let opt_alg = |a: Option<&str>| a.map(parse_alg).transpose();
        Ok(ProviderRecord {
            name: row.name.clone(),
            issuer: row.issuer.clone(),
            client_id: row.client_id.clone(),
            auth_method: auth_method(&row.auth_method)?,
            redirect_uris: parse_json(&row.redirect_uris, "redirect_uris")?,
            scopes: row.scopes.clone(),
            id_token_alg: opt_alg(row.id_token_alg.as_deref())?,
            signing_alg: opt_alg(row.signing_alg.as_deref())?,
            jwks_mode: row
                .jwks_mode
                .as_deref()
                .map(JwksMode::from_str)
                .transpose()?,
            jwks_uri: row.jwks_uri.clone(),
            tls_cert_path: row.tls_cert_path.as_ref().map(PathBuf::from),
            tls_key_path: row.tls_key_path.as_ref().map(PathBuf::from),
            registration_client_uri: row.registration_client_uri.clone(),
            provider_metadata: opt_json(row.provider_metadata.as_deref(), "provider_metadata")?,
            registration: registration(row)?,
            client_secret: self.open_secret(row.client_secret.as_deref(), name, CLIENT_SECRET)?,
            registration_access_token: self.open_secret(
                row.registration_access_token.as_deref(),
                name,
                REGISTRATION_ACCESS_TOKEN,
            )?,
            created_at: from_db_time(row.created_at)?,
            updated_at: from_db_time(row.updated_at)?,
        })
    }
}

#[async_trait]
impl<B: Backend> ProviderRegistry for Sealed<B> {
    async fn put_provider(
        &self,
        record: &ProviderRecord,
        replace: bool,
        now: UnixTime,
    ) -> Result<ProviderInfo, StoreError> {
        let now = now.secs();
        validate_provider_name(&record.name)?;
        let row = self.provider_row(record, to_db_time(now)?)?;
        // An upsert, not delete + insert: rows that later reference the provider survive a
        // replace. created_at is kept.
        let created_at = self.backend.put_provider(&row, replace).await?;
        let mut info = record.info();
        info.created_at = from_db_time(created_at)?;
        info.updated_at = now;
        Ok(info)
    }

    async fn get_provider(&self, name: &str) -> Result<Option<ProviderRecord>, StoreError> {
        self.backend
            .get_provider(name)
            .await?
            .map(|row| self.provider_record(&row))
            .transpose()
    }

    async fn list_providers(&self) -> Result<Vec<ProviderInfo>, StoreError> {
        self.backend
            .list_providers()
            .await?
            .iter()
            .map(provider_info)
            .collect()
    }

    async fn delete_provider(&self, name: &str) -> Result<(), StoreError> {
        if self.backend.delete_provider(name).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                what: "provider",
                name: name.to_owned(),
            })
        }
    }
}
