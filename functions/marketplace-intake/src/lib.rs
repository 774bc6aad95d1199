//! marketplace-intake: Amazon SP-API notifications queue → the audit trail and the intake
//! queue. Amazon delivers ORDER_CHANGE notifications to an SQS queue it may write to (the
//! queue policy in template.yaml is the trust boundary, as the signature is for webhooks).
//! Like webhook-intake, it only records and forwards: dedupe by the notification id, the
//! payload into the audit trail, a reference onto the intake queue. normalize fetches the
//! order (the notification carries no address).
//!
//! The store is the seller: `amazon/<seller id, lowercased>` names its credentials.

mod wiring;

pub use wiring::Config;

use aws::batch::{self, Backoff, Retry, RetryDelay};
use aws::metrics::Metrics;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::audit::{InboundState, NewInbound, Receipt, SignedWith};
use domain::messages::InboundReceived;
use domain::ports::{AuditTrail, Queue};
use domain::shipment::is_valid_store_name;
use std::sync::Arc;

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "marketplace-intake";

/// What marketplace-intake reads and writes, each behind the domain's port.
pub struct MarketplaceIntake {
    pub audit: Arc<dyn AuditTrail>,
    pub intake: Arc<dyn Queue<InboundReceived>>,
    /// Amazon's notifications queue: the retry delays of failed records.
    pub retries: Arc<dyn RetryDelay>,
    pub metrics: Metrics,
    pub backoff: Backoff,
}

/// The one notification type that carries order changes.
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";

/// The envelope fields every SP-API notification has; the payload is normalize's job.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    notification_type: String,
    event_time: Option<String>,
    payload: serde_json::Value,
    notification_metadata: Metadata,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    notification_id: String,
}

impl MarketplaceIntake {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        batch::process(
            event,
            self.retries.as_ref(),
            self.backoff,
            |record| async move {
                let body = record.body.clone().unwrap_or_default();
                self.receive(body.as_bytes()).await
            },
        )
        .await
    }

    async fn receive(&self, body: &[u8]) -> Result<(), Retry> {
        // A notification we cannot read goes to the DLQ whole, where an operator sees it and
        // can redrive it once the reader is fixed; it is never dropped.
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| Retry::Poison(format!("not an SP-API notification: {e}")))?;
        let seller = envelope
            .payload
            .pointer("/OrderChangeNotification/SellerId")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !is_valid_store_name(&seller) {
            return Err(Retry::Poison(format!(
                "notification {} names no usable seller id",
                envelope.notification_metadata.notification_id
            )));
        }
        let state = if envelope.notification_type == ORDER_CHANGE {
            InboundState::Received
        } else {
            InboundState::Ignored
        };
        let inbound = NewInbound {
            channel: "amazon",
            store: &seller,
            topic: &envelope.notification_type,
            webhook_id: &envelope.notification_metadata.notification_id,
            triggered_at: envelope.event_time.as_deref(),
            body,
            state,
            // SP-API's notifications reach the stack's own queue through its IAM policy;
            // there is no shared secret to rotate.
            signed_with: SignedWith::Current,
        };
        let id = inbound.id();
        let retry = |e: domain::StorageError| Retry::classified(&e, None);
        let receipt = self.audit.receive(&inbound).await.map_err(retry)?;
        if matches!(receipt, Receipt::Duplicate { .. }) {
            self.metrics
                .duplicate_creation_attempt(FUNCTION, "amazon", "notification");
        }
        let queue = match (receipt, state) {
            (Receipt::New, InboundState::Received) => true,
            // Stored by an earlier attempt that died before queueing: queue it now. (Queueing
            // twice is harmless: normalize's writes are conditional.)
            (
                Receipt::Duplicate {
                    state: InboundState::Received,
                    ..
                },
                _,
            ) => true,
            _ => false,
        };
        if !queue {
            tracing::info!(inbound = %id, topic = %envelope.notification_type, "notification recorded, nothing to queue");
            return Ok(());
        }
        self.intake
            .send(&InboundReceived {
                inbound_id: id.clone(),
                channel: "amazon".into(),
                store: seller.clone(),
                topic: envelope.notification_type.clone(),
            })
            .await
            .map_err(retry)?;
        if let Err(e) = self
            .audit
            .advance(&id, &[InboundState::Received], InboundState::Enqueued)
            .await
        {
            tracing::warn!(error = %e, "queued, but could not mark the notification enqueued");
        }
        tracing::info!(inbound = %id, seller = %seller, "Amazon notification accepted");
        Ok(())
    }
}

#[cfg(test)]
mod tests;
