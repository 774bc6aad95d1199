//! Stores: where tracking and statuses are written back to the channel the order came from.

pub mod amazon;
pub mod api;
pub mod shopify;
pub mod woocommerce;

use crate::domain::{Channel, ShipmentKey};
use crate::error::{Classify, Transience};
use crate::services::Services;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The tracking a store shows its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub url: Option<String>,
    /// The carrier name the store displays.
    pub company: String,
}

/// How a write-back ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteBack {
    /// We wrote it now; `reference` is the store's id for what was written.
    Written { reference: String },
    /// The store already shows this tracking (an earlier attempt got through).
    AlreadyThere { reference: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store throttled the request")]
    Throttled { retry_after: Option<Duration> },
    /// Sent, outcome unknown: look before writing again.
    #[error("store outcome unknown: {0}")]
    Ambiguous(String),
    #[error("store rejected the write-back: {0}")]
    Rejected(String),
    #[error("store credentials: {0}")]
    Config(String),
}

impl Classify for StoreError {
    fn transience(&self) -> Transience {
        match self {
            StoreError::Rejected(_) => Transience::Permanent,
            _ => Transience::Transient,
        }
    }
}

/// A store's credentials: unreachable Secrets Manager is transient; a missing or malformed
/// secret needs an operator.
impl From<crate::aws::secrets::SecretError> for StoreError {
    fn from(e: crate::aws::secrets::SecretError) -> Self {
        match e {
            crate::aws::secrets::SecretError::Aws(e) => StoreError::Unavailable(e.to_string()),
            other => StoreError::Config(other.to_string()),
        }
    }
}

/// Writes what the customer should see back to the channel the order came from.
#[async_trait]
pub trait StoreWriter: Send + Sync {
    /// Shows the tracking on the order: a Shopify fulfillment, a WooCommerce order note, an
    /// Amazon shipment confirmation, the API's signed callback. Idempotent: it looks for
    /// its own earlier write before writing.
    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError>;
}

/// The write-back client for a shipment's channel and store, with the store's credentials
/// from Secrets Manager (`{prefix}{channel}/{store}`).
pub async fn writer(
    services: &Services,
    key: &ShipmentKey,
) -> Result<Box<dyn StoreWriter>, StoreError> {
    let secret = format!("{}/{}", key.channel, key.store);
    match key.channel {
        Channel::Shopify => {
            let c: shopify::ShopifyCredentials = services.secrets.get_json(&secret).await?;
            Ok(Box::new(shopify::ShopifyAdmin::new(
                services.http.clone(),
                &c.admin_base_url(&key.store),
                &c.admin_access_token,
            )))
        }
        Channel::WooCommerce => {
            let config = services
                .stores
                .get(key.channel, &key.store)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            woocommerce::writer(services, &secret, config.status_after_tracking.clone()).await
        }
        Channel::Amazon => amazon::writer(services, &secret).await,
        Channel::Api => api::writer(services, &secret).await,
    }
}
