//! notify: outbox queue → the customer. Sends each outbox message (tracking link, on the
//! way, delivered, failed, address clarification) through the provider of its channel, at
//! most once:
//!
//! - the message is claimed in the outbox (PENDING → SENDING, a conditional write), so two
//!   deliveries of the same wake-up cannot both send it;
//! - a provider that did not take it (unavailable, throttled, our configuration) releases it
//!   for a retry with backoff;
//! - a provider that may have taken it (a timeout after sending) ends it as UNKNOWN, and a
//!   sender that died mid-send leaves a lease that the next delivery declares UNKNOWN: a
//!   customer may miss a message, never get it twice;
//! - a message no longer true when its turn comes ("on the way" after the delivery) is
//!   SKIPPED.

mod wiring;

pub use wiring::Config;

use aws::batch::{self, Backoff, Retry, RetryDelay};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::clock::now_ms;
use domain::messages::OutboxQueued;
use domain::notify::{still_true, OutboxClaim, OutboxState, OutgoingMessage};
use domain::ports::{Notifiers, Outbox, ShipmentStore};
use domain::{PartnerError, ShipmentKey, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "notify";

/// What notify reads and writes, each behind the domain's port.
pub struct Notify {
    pub outbox: Arc<dyn Outbox>,
    /// Read to tell whether a message is still true.
    pub shipments: Arc<dyn ShipmentStore>,
    /// The providers per channel (metered).
    pub notifiers: Arc<dyn Notifiers>,
    /// The outbox queue's retry delays.
    pub retries: Arc<dyn RetryDelay>,
    /// How long a sender holds a message it claimed.
    pub lease: Duration,
    pub backoff: Backoff,
}

impl Notify {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        batch::process(
            event,
            self.retries.as_ref(),
            self.backoff,
            |record| async move {
                let queued: OutboxQueued = batch::parse_body(&record)?;
                let span = tracing::info_span!("notify", outbox = %queued.outbox_id);
                self.send(&queued.outbox_id).instrument(span).await
            },
        )
        .await
    }

    async fn send(&self, id: &str) -> Result<(), Retry> {
        let Some(entry) = self.outbox.get(id).await.map_err(Retry::backoff)? else {
            return Err(Retry::Poison(format!("no outbox message {id}")));
        };
        if entry.state.is_final() {
            return Ok(());
        }
        if entry.state == OutboxState::Pending {
            if let Some(reason) = self
                .overtaken(&entry.shipment_key, &entry.template)
                .await
                .map_err(Retry::backoff)?
            {
                self.outbox
                    .skip(id, &reason)
                    .await
                    .map_err(Retry::backoff)?;
                tracing::info!(%reason, "message no longer true; skipped");
                return Ok(());
            }
        }
        let lease_ms = self.lease.as_millis() as i64;
        let entry = match self
            .outbox
            .claim(id, lease_ms)
            .await
            .map_err(Retry::backoff)?
        {
            OutboxClaim::Claimed(entry) => entry,
            OutboxClaim::Ended(_) | OutboxClaim::Missing => return Ok(()),
            OutboxClaim::InFlight { until_ms } => {
                let wait = (until_ms - now_ms()).clamp(100, 60_000) as u64;
                return Err(Retry::After(Duration::from_millis(wait)));
            }
            OutboxClaim::Abandoned => {
                self.outbox.abandon(id).await.map_err(Retry::backoff)?;
                tracing::warn!(
                    "a sender stopped mid-send; the message may have gone out and is not resent"
                );
                return Ok(());
            }
        };

        let notifier = match self.notifiers.notifier(entry.channel).await {
            Ok(Some(notifier)) => notifier,
            Ok(None) => {
                let why = format!("{} notifications are off", entry.channel.as_str());
                self.outbox
                    .finish(id, OutboxState::Skipped, None, None, Some(&why))
                    .await
                    .map_err(Retry::backoff)?;
                return Ok(());
            }
            Err(e) => return self.release(id, e).await,
        };
        let message = OutgoingMessage {
            id: entry.id.clone(),
            channel: entry.channel,
            to: entry.to.clone(),
            subject: entry.subject.clone(),
            body: entry.body.clone(),
        };
        match notifier.send(&message).await {
            Ok(sent) => {
                self.outbox
                    .finish(
                        id,
                        OutboxState::Sent,
                        Some(&sent.provider),
                        Some(&sent.provider_id),
                        None,
                    )
                    .await
                    .map_err(Retry::backoff)?;
                tracing::info!(provider = %sent.provider, provider_id = %sent.provider_id, channel = entry.channel.as_str(), "customer notified");
                Ok(())
            }
            Err(e @ PartnerError::Ambiguous { .. }) => {
                self.end(id, notifier.name(), OutboxState::Unknown, &e)
                    .await
            }
            Err(e @ PartnerError::Rejected { .. }) => {
                self.end(id, notifier.name(), OutboxState::Failed, &e).await
            }
            Err(e) => self.release(id, e).await,
        }
    }

    /// Whether the shipment has moved on so far that the message would mislead.
    async fn overtaken(
        &self,
        shipment_key: &str,
        template: &str,
    ) -> Result<Option<String>, StorageError> {
        let Ok(key) = shipment_key.parse::<ShipmentKey>() else {
            return Ok(None);
        };
        let Some(record) = self.shipments.get(&key).await? else {
            return Ok(None);
        };
        Ok((!still_true(template, record.status)).then(|| {
            format!(
                "{template} is no longer true: the shipment is {}",
                record.status
            )
        }))
    }

    /// The provider did not take the message: back to PENDING, retried with backoff.
    async fn release(&self, id: &str, error: PartnerError) -> Result<(), Retry> {
        tracing::warn!(%error, "provider did not take the message; retrying");
        self.outbox
            .release(id, &error.to_string())
            .await
            .map_err(Retry::backoff)?;
        Err(Retry::Backoff {
            at_least: error.retry_after(),
            error: error.to_string(),
        })
    }

    async fn end(
        &self,
        id: &str,
        provider: &str,
        state: OutboxState,
        error: &PartnerError,
    ) -> Result<(), Retry> {
        tracing::warn!(%error, state = state.as_str(), "message not delivered to the provider; not retried");
        self.outbox
            .finish(id, state, Some(provider), None, Some(&error.to_string()))
            .await
            .map_err(Retry::backoff)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
