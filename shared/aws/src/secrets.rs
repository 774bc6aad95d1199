//! Secrets Manager with a small in-process cache: a webhook must be answered in milliseconds,
//! and a warm Lambda should not fetch its store's secret on every request.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use domain::ports::{SecretError, Secrets};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A secret read this recently is not read again past the cache: a rotation is seen within
/// seconds, and forged requests cannot turn into a read each.
const REREAD_AFTER: Duration = Duration::from_secs(10);

pub struct SecretStore {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Arc<String>)>>,
}

impl SecretStore {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: &str, ttl: Duration) -> Self {
        SecretStore {
            client,
            prefix: prefix.to_owned(),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The full secret name for `name` under this deployment's prefix.
    pub fn full_name(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    async fn get_string(&self, full: &str) -> Result<Arc<String>, SecretError> {
        if let Some(hit) = self.cached(full, self.ttl) {
            return Ok(hit);
        }
        self.fetch(full).await
    }

    async fn fetch(&self, full: &str) -> Result<Arc<String>, SecretError> {
        let result = self.client.get_secret_value().secret_id(full).send().await;
        let value = match result {
            Ok(out) => out.secret_string.unwrap_or_default(),
            Err(e) => {
                // A secret scheduled for deletion (a disconnected store) answers
                // InvalidRequestException; to the pipeline it is as gone as a missing one.
                let not_found = e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception()
                        || (s.is_invalid_request_exception() && marked_for_deletion(s.message()))
                });
                if not_found {
                    return Err(SecretError::NotFound(full.to_owned()));
                }
                return Err(SecretError::Storage(classify("GetSecretValue", e)));
            }
        };
        let value = Arc::new(value);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(full.to_owned(), (Instant::now(), value.clone()));
        }
        Ok(value)
    }

    /// Writes the secret `name` — created the first time, a new version after — and forgets
    /// what this store had cached of it. For operators' tools (rotating the link keys);
    /// the functions only read.
    pub async fn write(&self, name: &str, text: &str) -> Result<(), domain::StorageError> {
        let full = self.full_name(name);
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&full);
        }
        let described = self.client.describe_secret().secret_id(&full).send().await;
        match described {
            // Deleted within its recovery window (a disconnect): brought back, then given
            // the new value.
            Ok(out) if out.deleted_date().is_some() => {
                self.client
                    .restore_secret()
                    .secret_id(&full)
                    .send()
                    .await
                    .map_err(|e| classify("RestoreSecret", e))?;
            }
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                let created = self
                    .client
                    .create_secret()
                    .name(&full)
                    .secret_string(text)
                    .send()
                    .await;
                match created {
                    Ok(_) => return Ok(()),
                    // Made meanwhile by someone else: a new version below.
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_exists_exception()) => {}
                    Err(e) => return Err(classify("CreateSecret", e)),
                }
            }
            Err(e) => return Err(classify("DescribeSecret", e)),
        }
        self.client
            .put_secret_value()
            .secret_id(&full)
            .secret_string(text)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("PutSecretValue", e))
    }

    /// Deletes the secret `name`. `recovery_days` (7–30) keeps it restorable that long
    /// (`RestoreSecret`); `None` deletes it at once, for a secret a failed command made
    /// itself. A secret already gone is not an error.
    pub async fn delete(
        &self,
        name: &str,
        recovery_days: Option<i64>,
    ) -> Result<(), domain::StorageError> {
        let full = self.full_name(name);
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&full);
        }
        let request = self.client.delete_secret().secret_id(&full);
        let request = match recovery_days {
            Some(days) => request.recovery_window_in_days(days),
            None => request.force_delete_without_recovery(true),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify("DeleteSecret", e)),
        }
    }

    /// The cached value, if it was read less than `fresh` ago.
    fn cached(&self, full: &str, fresh: Duration) -> Option<Arc<String>> {
        let cache = self.cache.lock().ok()?;
        let (at, value) = cache.get(full)?;
        (at.elapsed() < fresh).then(|| value.clone())
    }
}

#[async_trait]
impl Secrets for SecretStore {
    async fn text(&self, name: &str) -> Result<Arc<String>, SecretError> {
        self.get_string(&self.full_name(name)).await
    }

    /// Read again unless it was read within [`REREAD_AFTER`].
    async fn fresh_text(&self, name: &str) -> Result<Arc<String>, SecretError> {
        let full = self.full_name(name);
        if let Some(hit) = self.cached(&full, REREAD_AFTER.min(self.ttl)) {
            return Ok(hit);
        }
        self.fetch(&full).await
    }

    /// `{prefix}{name}`: `courier-bridge/shopify/acme`.
    fn full_name(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }
}

/// Secrets Manager's word for a secret within its recovery window: "... because it was
/// marked for deletion" (moto: "... currently marked deleted").
fn marked_for_deletion(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("marked for deletion") || m.contains("marked deleted"))
}
