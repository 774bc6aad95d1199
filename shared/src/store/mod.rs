//! Stores: where tracking and statuses are written back to the channel the order came from.

pub mod amazon;
pub mod api;
pub mod shopify;
pub mod woocommerce;

use crate::courier::event::{Failure, ProofOfDelivery};
use crate::domain::{Channel, ShipmentKey, ShipmentStatus};
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

/// A delivery status for the store to show, with what the courier reported about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// One of the courier's statuses: Assigned, PickedUp, OutForDelivery, Delivered,
    /// Failed, Returned.
    pub status: ShipmentStatus,
    /// When the courier says it happened, ms since the epoch.
    pub happened_at_ms: i64,
    pub tracking: Tracking,
    /// The store's reference from the tracking write-back (a Shopify fulfillment gid, a
    /// WooCommerce note id): status events attach to it.
    pub tracking_reference: String,
    /// With Failed: the courier's reason.
    pub failure: Option<Failure>,
    /// With Delivered: signature, photos, recipient, place and time.
    pub proof: Option<ProofOfDelivery>,
    /// Expected arrival, ms since the epoch, when the courier gave one.
    pub eta_ms: Option<i64>,
}

impl StatusReport {
    /// Whether stores are told about this status: the courier's progress and outcomes
    /// (Assigned, PickedUp, OutForDelivery, Delivered, Failed, Returned). A cancellation is
    /// the store's or a dispatcher's own act and the review states are ours, so every writer
    /// answers [`StatusWriteBack::NotShown`] for them without calling the store.
    pub fn is_shown(&self) -> bool {
        matches!(
            self.status,
            ShipmentStatus::Assigned
                | ShipmentStatus::PickedUp
                | ShipmentStatus::OutForDelivery
                | ShipmentStatus::Delivered
                | ShipmentStatus::Failed
                | ShipmentStatus::Returned
        )
    }
}

/// A time in ms since the epoch as UTC; `None` out of `time`'s range.
pub(crate) fn utc_from_ms(ms: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// A courier's failure reason for people: a code such as `NO_ANSWER` reads "no answer";
/// free text stays as the courier wrote it. The driver's notes are left out: they are
/// free text about the customer, written for the dispatcher.
pub(crate) fn failure_reason_text(failure: Option<&Failure>) -> Option<String> {
    let reason = failure?.reason.as_deref()?.trim();
    if reason.is_empty() {
        return None;
    }
    let is_code = reason
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    Some(if is_code {
        reason.replace('_', " ").to_ascii_lowercase()
    } else {
        reason.to_owned()
    })
}

/// How a status write-back ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusWriteBack {
    /// Written now; `reference` is the store's id for it (a fulfillment event, a note).
    Written { reference: String },
    /// An earlier attempt got through; the store shows it already.
    AlreadyThere { reference: String },
    /// The channel has no place for this status (Amazon follows the carrier itself once the
    /// shipment is confirmed): nothing to write, by design.
    NotShown,
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

    /// Shows a delivery status on the order: a Shopify fulfillment event, a WooCommerce order
    /// note (and the configured order status on delivery), the API's signed callback.
    /// Idempotent per (shipment, status): it looks for its own earlier write first.
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, StoreError>;
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
            woocommerce::writer(services, &secret, &config).await
        }
        Channel::Amazon => amazon::writer(services, &secret).await,
        Channel::Api => api::writer(services, &secret).await,
    }
}
