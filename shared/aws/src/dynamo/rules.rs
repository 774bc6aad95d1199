//! The stores table: each store's rules ([`StoreConfig`]: trigger policy, service rules,
//! notifications), keyed "channel:store". Read on every order, so it is cached in-process
//! for the same time as secrets; a store without an item runs on the defaults.

use super::{json_text, rfc3339_now, to_item, Table};
use crate::classify;
use async_trait::async_trait;
use domain::ports::StoreRules;
use domain::{Channel, StorageError, StoreConfig};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Serialize, Deserialize)]
struct RulesRow {
    pk: String,
    /// A stored configuration that no longer parses is an error, not the defaults:
    /// silently shipping on payment a store that asked to wait for its warehouse would be a
    /// wrong task.
    #[serde(with = "json_text")]
    config: StoreConfig,
    #[serde(default)]
    updated_at: String,
}

type Cache = HashMap<String, (Instant, Arc<StoreConfig>)>;

#[derive(Debug)]
pub struct DynamoStoreRules {
    table: Table,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl DynamoStoreRules {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, ttl: Duration) -> Self {
        DynamoStoreRules {
            table: Table::new(client, table),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn key(channel: Channel, store: &str) -> String {
        format!("{channel}:{store}")
    }
}

#[async_trait]
impl StoreRules for DynamoStoreRules {
    async fn get(&self, channel: Channel, store: &str) -> Result<Arc<StoreConfig>, StorageError> {
        let key = Self::key(channel, store);
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, config)) = cache.get(&key) {
                if at.elapsed() < self.ttl {
                    return Ok(config.clone());
                }
            }
        }
        let config = Arc::new(self.read(channel, store).await?.unwrap_or_default());
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Instant::now(), config.clone()));
        }
        Ok(config)
    }

    async fn read(
        &self,
        channel: Channel,
        store: &str,
    ) -> Result<Option<StoreConfig>, StorageError> {
        let row: Option<RulesRow> = self.table.get_as(&Self::key(channel, store)).await?;
        Ok(row.map(|r| r.config))
    }

    async fn put(
        &self,
        channel: Channel,
        store: &str,
        config: &StoreConfig,
    ) -> Result<(), StorageError> {
        let key = Self::key(channel, store);
        let row = RulesRow {
            pk: key.clone(),
            config: config.clone(),
            updated_at: rfc3339_now(),
        };
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&key, &row)?))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&key);
        }
        Ok(())
    }
}
