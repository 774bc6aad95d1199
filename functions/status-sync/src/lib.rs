//! status-sync: sync queue → the shipment, the store and the customer.
//!
//! Two kinds of message (`SyncEvent`):
//! - **TrackingAssigned** (from create-task): the tracking number and URL are written back
//!   to the channel the order came from (a Shopify fulfillment, a WooCommerce order note, an
//!   Amazon shipment confirmation, the API's signed callback), then the customer gets the
//!   tracking link.
//! - **CourierReported** (from webhook-intake): a courier webhook, verified and kept in the
//!   audit trail. It is read by its courier's reader (`channels::courier_event`) into a
//!   courier-neutral event and applied to the shipment by the domain ([`Delivery::apply`]):
//!   kept in the status history, moved through the state machine with a conditional write
//!   that only goes forward, and a status the shipment reached written back to the store
//!   and, where it matters to the customer, sent to them.
//!
//! Every side effect is keyed by (shipment, status): a redelivered event, or a second event
//! reporting the same status, repeats nothing.

mod wiring;

pub use wiring::Config;

use aws::batch::{self, Backoff, Retry, RetryDelay};
use aws::metrics::Metrics;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::audit::{AuditOutcome, InboundRecord, InboundState};
use domain::courier::CourierEvent;
use domain::delivery::{Delivery, DeliveryError};
use domain::messages::{OutboxQueued, SyncEvent};
use domain::notify::Composer;
use domain::ports::{
    AuditTrail, IdempotencyStore, Notifiers, Outbox, Queue, ReviewInbox, ShipmentStore,
    StatusHistory, StoreRules, StoreWriters,
};
use domain::{CourierKind, PartnerError, ReviewItem, ReviewReason, ShipmentKey, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "status-sync";

/// A courier event that beats create-task's record of the task (Onfleet fires taskAssigned
/// as the create call returns) waits at least this long for it, and longer at each receive
/// (the retry policy's backoff): if create-task died between making the task and storing it,
/// its retry comes only after the tasks queue's visibility timeout, and a fixed short wait
/// would walk the event to the DLQ first. (The chaos run found it.)
const TASK_NOT_STORED_YET: Duration = Duration::from_secs(1);

/// What status-sync reads and writes, each behind the domain's port.
pub struct StatusSync {
    pub audit: Arc<dyn AuditTrail>,
    pub shipments: Arc<dyn ShipmentStore>,
    pub reviews: Arc<dyn ReviewInbox>,
    pub history: Arc<dyn StatusHistory>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Each store's write-back client (metered).
    pub writers: Arc<dyn StoreWriters>,
    pub rules: Arc<dyn StoreRules>,
    pub notifiers: Arc<dyn Notifiers>,
    pub outbox: Arc<dyn Outbox>,
    pub wake: Arc<dyn Queue<OutboxQueued>>,
    /// Signed links to the stack's tracking page for messages; `None`: the courier's.
    pub links: Option<Arc<dyn domain::ports::CustomerLinks>>,
    /// The sync queue's retry delays.
    pub retries: Arc<dyn RetryDelay>,
    pub metrics: Metrics,
    pub lease: Duration,
    pub backoff: Backoff,
}

impl StatusSync {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        batch::process(
            event,
            self.retries.as_ref(),
            self.backoff,
            |record| async move {
                match batch::parse_body::<SyncEvent>(&record)? {
                    SyncEvent::TrackingAssigned { shipment_key } => {
                        let span = tracing::info_span!("tracking_sync", shipment = %shipment_key);
                        async {
                            let result = self.delivery().write_tracking(&shipment_key).await;
                            self.settle(&shipment_key, "tracking", result).await
                        }
                        .instrument(span)
                        .await
                    }
                    SyncEvent::CourierReported {
                        inbound_id,
                        courier,
                    } => {
                        let span =
                            tracing::info_span!("courier_event", %courier, inbound = %inbound_id);
                        self.courier_reported(&inbound_id, courier)
                            .instrument(span)
                            .await
                    }
                }
            },
        )
        .await
    }

    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            shipments: self.shipments.as_ref(),
            history: self.history.as_ref(),
            idempotency: self.idempotency.as_ref(),
            writers: self.writers.as_ref(),
            composer: Composer {
                rules: self.rules.as_ref(),
                notifiers: self.notifiers.as_ref(),
                outbox: self.outbox.as_ref(),
                wake: self.wake.as_ref(),
                links: self.links.as_deref(),
            },
            lease: self.lease,
        }
    }

    /// Turns a step's result into the batch's verdict: a store that refuses for good opens
    /// a review item; a transient failure backs off (honouring the store's Retry-After).
    async fn settle(
        &self,
        key: &ShipmentKey,
        what: &str,
        result: Result<Option<Duration>, DeliveryError>,
    ) -> Result<(), Retry> {
        let error = match result {
            Ok(None) => return Ok(()),
            Ok(Some(wait)) => return Err(Retry::After(wait)),
            Err(e) => e,
        };
        if let Some(PartnerError::Rejected { message, .. }) = error.store_refusal() {
            let reason = ReviewReason::StoreRejected {
                message: message.clone(),
            };
            return self
                .open_review(key, what, reason)
                .await
                .map_err(Retry::backoff);
        }
        Err(Retry::classified(&error, error.retry_after()))
    }

    async fn courier_reported(&self, inbound_id: &str, courier: CourierKind) -> Result<(), Retry> {
        let Some(inbound) = self.audit.get(inbound_id).await.map_err(Retry::backoff)? else {
            return Err(Retry::Poison(format!("no inbound payload {inbound_id}")));
        };
        let event = match channels::courier_event(courier, &inbound.body) {
            Ok(Some(event)) => event,
            Ok(None) => {
                let summary = "not a task event".to_owned();
                self.audit_line(inbound_id, InboundState::Ignored, summary, None, None)
                    .await;
                return Ok(());
            }
            Err(error) => return self.unreadable(inbound_id, error).await,
        };
        let Some(key) = event
            .reference
            .as_deref()
            .and_then(|r| r.parse::<ShipmentKey>().ok())
        else {
            tracing::info!(task = %event.task_id, "task carries no reference of ours; ignored");
            let summary = format!("task {} is not one of ours", event.task_id);
            self.audit_line(inbound_id, InboundState::Ignored, summary, None, None)
                .await;
            return Ok(());
        };
        let Some(record) = self.shipments.get(&key).await.map_err(Retry::backoff)? else {
            let summary = format!("no shipment {key}");
            self.audit_line(inbound_id, InboundState::Ignored, summary, Some(&key), None)
                .await;
            return Ok(());
        };
        match &record.task {
            // create-task has the task but has not stored it yet.
            None if !record.status.is_terminal() => {
                return Err(Retry::Backoff {
                    at_least: Some(TASK_NOT_STORED_YET),
                    error: format!("create-task has not stored the task of {key} yet"),
                })
            }
            Some(task) if task.task_id == event.task_id => {}
            _ => {
                tracing::info!(task = %event.task_id, "event about another task (a clone?); ignored");
                let summary = format!("task {} is not the shipment's task", event.task_id);
                self.audit_line(inbound_id, InboundState::Ignored, summary, Some(&key), None)
                    .await;
                return Ok(());
            }
        }
        let applied = self
            .delivery()
            .apply(
                &key,
                &record,
                &event,
                inbound_id,
                event_time_ms(&event, &inbound),
            )
            .await;
        let summary = match &applied {
            Ok(applied) => applied.summary.clone(),
            Err(e) => format!("failed: {e}"),
        };
        if let Ok(applied) = &applied {
            if let Some(sla) = applied.delivered {
                self.metrics.delivery_sla(
                    key.channel,
                    record.shipment.service,
                    sla.on_time,
                    sla.late_by_ms,
                );
            }
        }
        let verdict = self.settle(&key, "status", applied.map(|a| a.wait)).await;
        if verdict.is_ok() {
            self.audit_line(
                inbound_id,
                InboundState::Processed,
                summary,
                Some(&key),
                None,
            )
            .await;
        }
        verdict
    }

    /// A courier webhook its courier's reader cannot read: kept for review.
    async fn unreadable(&self, inbound_id: &str, error: String) -> Result<(), Retry> {
        tracing::warn!(%error, "courier webhook unreadable; kept for review");
        let mut item = ReviewItem::new(
            inbound_id,
            "payload",
            vec![ReviewReason::UnparseablePayload { error }],
        );
        item.source_inbound = Some(inbound_id.to_owned());
        self.reviews.open(&item).await.map_err(Retry::backoff)?;
        let summary = "needs review: unreadable courier webhook".to_owned();
        self.audit_line(
            inbound_id,
            InboundState::Review,
            summary,
            None,
            Some(&item.id),
        )
        .await;
        Ok(())
    }

    /// Writes what became of a courier webhook into its audit-trail record.
    async fn audit_line(
        &self,
        inbound_id: &str,
        state: InboundState,
        summary: String,
        key: Option<&ShipmentKey>,
        review: Option<&str>,
    ) {
        let key_text = key.map(|k| k.to_string());
        let order_key = key.map(|k| k.order_key());
        let outcome = AuditOutcome {
            state,
            summary: &summary,
            order_key: order_key.as_deref(),
            shipment_key: key_text.as_deref(),
            review_id: review,
        };
        if let Err(e) = self.audit.record_outcome(inbound_id, &outcome).await {
            // The event is applied; the audit line is bookkeeping.
            tracing::warn!(error = %e, "could not record the webhook's outcome");
        }
    }

    async fn open_review(
        &self,
        key: &ShipmentKey,
        what: &str,
        reason: ReviewReason,
    ) -> Result<(), StorageError> {
        tracing::warn!(reason = %reason, what, "store refused the write-back; opening a review item");
        let mut item = ReviewItem::new(&format!("{what}:{key}"), "write_back", vec![reason]);
        item.order_key = Some(key.order_key());
        item.shipment_key = Some(key.to_string());
        self.reviews.open(&item).await.map(drop)
    }
}

/// When the event happened: the courier's time, else when its webhook was received.
fn event_time_ms(event: &CourierEvent, inbound: &InboundRecord) -> i64 {
    event
        .time_ms
        .or_else(|| domain::clock::parse_time(&inbound.received_at).map(domain::clock::ms_of))
        .unwrap_or_else(domain::clock::now_ms)
}

#[cfg(test)]
mod tests;
