//! Rows of an earlier schema that only the store itself can convert, once it holds the master
//! key: run on every open, and cheap when there is nothing left (the queries find unconverted
//! rows through `registered IS NULL` on the few providers and the `sessions_unconverted`
//! partial index, empty once converted).
//!
//! - A provider's registration stored as a JSON registration response becomes the typed
//!   registration ([`StoredRegistration`]); one that cannot be converted stays as it is
//!   (reading it names the provider and the member at fault) and is tried again at the next
//!   open, by a build that may know more.
//! - A session indexed by its clear subject gets its keyed index value
//!   ([`crate::crypto::SubjectIndex`]), the subject moves into its sealed identity, and the
//!   clear columns are emptied.

use super::Sealed;
use super::sessions::Identity;
use crate::backend::{Backend, ProviderConversion, SubjectConversion, opt_to_db_time};
use crate::error::StoreError;
use crate::registered::StoredRegistration;

/// Sessions converted per transaction.
const SESSION_BATCH: i64 = 500;

impl<B: Backend> Sealed<B> {
    /// Converts what an earlier schema left unconverted.
    pub(super) async fn convert_old_rows(&self) -> Result<(), StoreError> {
        self.convert_registrations().await?;
        self.convert_session_subjects().await
    }

    async fn convert_registrations(&self) -> Result<(), StoreError> {
        for row in self.backend.unconverted_providers().await? {
            let Some(response) = row.registration.as_deref() else {
                continue;
            };
            let stored = StoredRegistration::from_stored_response(response);
            let (registered, registration) = stored
                .as_ref()
                .map(StoredRegistration::stored)
                .transpose()?
                .unwrap_or_default();
            if let Some(Err(e)) = stored.as_ref().map(|s| s.typed(&row.name)) {
                // Kept as stored; reading the registration says what is wrong.
                tracing::warn!(error = %e, "a registration stored by an earlier version cannot be converted");
            }
            let conversion = ProviderConversion {
                registered,
                registration,
                client_secret_expires_at: opt_to_db_time(
                    stored
                        .as_ref()
                        .and_then(StoredRegistration::client_secret_expires_at),
                )?,
            };
            self.backend
                .convert_provider(&row.name, response, &conversion)
                .await?;
        }
        Ok(())
    }

    async fn convert_session_subjects(&self) -> Result<(), StoreError> {
        let mut after = String::new();
        loop {
            let rows = self
                .backend
                .unconverted_sessions(&after, SESSION_BATCH)
                .await?;
            let Some((last, _)) = rows.last() else {
                return Ok(());
            };
            after.clone_from(last);
            let mut converted = Vec::with_capacity(rows.len());
            for (id_hash, row) in &rows {
                // A row whose identity does not open is unreadable anyway: left as it is.
                let identity = match self.session_identity(id_hash, row) {
                    Ok(identity) => identity,
                    Err(e) => {
                        tracing::warn!(error = %e, "a session of an earlier version could not be converted to the keyed subject index");
                        continue;
                    }
                };
                let sub = identity.sub.clone().unwrap_or_default();
                converted.push(SubjectConversion {
                    id_hash: id_hash.clone(),
                    subject_hash: self.subject_index.hash(&row.provider, &sub),
                    identity: self.seal_identity(
                        id_hash,
                        &Identity {
                            sub: Some(sub),
                            ..identity
                        },
                    )?,
                });
            }
            self.backend.convert_sessions(&converted).await?;
        }
    }
}
