//! The stores table: each store's configuration ([`StoreConfig`]: trigger policy, service
//! rules), keyed "channel:store". Read on every order, so it is cached in-process for the
//! same time as secrets; a store without an item runs on the defaults.

use super::item::{rfc3339_now, s, Reader};
use super::{classify, AwsError};
use crate::domain::{Channel, StoreConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Cache = HashMap<String, (Instant, Arc<StoreConfig>)>;

#[derive(Debug)]
pub struct StoreConfigs {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl StoreConfigs {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, ttl: Duration) -> Self {
        StoreConfigs {
            client,
            table: table.into(),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn key(channel: Channel, store: &str) -> String {
        format!("{channel}:{store}")
    }

    /// The store's configuration, or the defaults when it has none. A stored configuration
    /// that no longer parses is an error, not the defaults: silently shipping on payment a
    /// store that asked to wait for its warehouse would be a wrong task.
    pub async fn get(&self, channel: Channel, store: &str) -> Result<Arc<StoreConfig>, AwsError> {
        let key = Self::key(channel, store);
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, config)) = cache.get(&key) {
                if at.elapsed() < self.ttl {
                    return Ok(config.clone());
                }
            }
        }
        let config = Arc::new(self.read(&key).await?.unwrap_or_default());
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Instant::now(), config.clone()));
        }
        Ok(config)
    }

    /// The stored configuration, uncached (`None` when the store has none).
    pub async fn read(&self, key: &str) -> Result<Option<StoreConfig>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        out.item
            .map(|item| Reader::new(key, &item).json::<StoreConfig>("config"))
            .transpose()
    }

    pub async fn put(
        &self,
        channel: Channel,
        store: &str,
        config: &StoreConfig,
    ) -> Result<(), AwsError> {
        let key = Self::key(channel, store);
        let body = serde_json::to_string(config).map_err(|e| AwsError::Corrupt {
            key: key.clone(),
            problem: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key))
            .item("config", s(body))
            .item("updated_at", s(rfc3339_now()))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&key);
        }
        Ok(())
    }
}
