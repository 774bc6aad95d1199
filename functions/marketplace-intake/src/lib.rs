//! marketplace-intake: Amazon SP-API notifications queue → the audit trail and the intake
//! queue. Amazon delivers ORDER_CHANGE notifications to an SQS queue it may write to (the
//! queue policy in template.yaml is the trust boundary, as the signature is for webhooks).
//! Like webhook-intake, it only records and forwards: dedupe by the notification id, the
//! payload into the audit trail, a reference onto the intake queue. normalize fetches the
//! order (the notification carries no address).
//!
//! The store is the seller: `amazon/<seller id, lowercased>` names its credentials.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::inbound::{InboundState, NewInbound, Receipt};
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::domain::shipment::is_valid_store_name;
use shared::error::Classify;
use shared::messages::InboundReceived;
use shared::services::Services;

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

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    let Some(queue) = &services.amazon_notifications else {
        // Misconfigured: fail every record so nothing is lost while it is fixed.
        tracing::error!("AMAZON_NOTIFICATIONS_QUEUE_URL is not set");
        return batch::fail_all(&event);
    };
    batch::process(event, queue, services.backoff(), |record| async move {
        let body = record.body.clone().unwrap_or_default();
        receive(services, body.as_bytes()).await
    })
    .await
}

async fn receive(services: &Services, body: &[u8]) -> Result<(), Retry> {
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
    };
    let id = inbound.id();
    let retry = |e: AwsError| match e.is_transient() {
        true => Retry::Backoff {
            at_least: None,
            error: e.to_string(),
        },
        false => Retry::Poison(e.to_string()),
    };
    let receipt = services.inbound.receive(&inbound).await.map_err(retry)?;
    if matches!(receipt, Receipt::Duplicate { .. }) {
        services
            .metrics
            .duplicate_creation_attempt("marketplace-intake", "amazon", "notification");
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
    services
        .intake_queue
        .send(&InboundReceived {
            inbound_id: id.clone(),
            channel: "amazon".into(),
            store: seller.clone(),
            topic: envelope.notification_type.clone(),
        })
        .await
        .map_err(retry)?;
    if let Err(e) = services
        .inbound
        .advance(&id, &[InboundState::Received], InboundState::Enqueued)
        .await
    {
        tracing::warn!(error = %e, "queued, but could not mark the notification enqueued");
    }
    tracing::info!(inbound = %id, seller = %seller, "Amazon notification accepted");
    Ok(())
}
