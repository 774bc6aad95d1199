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

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::item::now_ms;
use shared::aws::outbox::{Claim, OutboxState};
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::domain::ShipmentKey;
use shared::messages::OutboxQueued;
use shared::notifications::{provider, still_true};
use shared::notify::{NotifyError, OutgoingMessage};
use shared::services::Services;
use std::time::Duration;

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    batch::process(
        event,
        &services.outbox_queue,
        services.backoff(),
        |record| async move {
            let queued: OutboxQueued = batch::parse_body(&record)?;
            let span = tracing::info_span!("notify", outbox = %queued.outbox_id);
            tracing::Instrument::instrument(send(services, &queued.outbox_id), span).await
        },
    )
    .await
}

fn backoff(e: impl std::fmt::Display) -> Retry {
    Retry::Backoff {
        at_least: None,
        error: e.to_string(),
    }
}

async fn send(services: &Services, id: &str) -> Result<(), Retry> {
    let Some(entry) = services.outbox.get(id).await.map_err(backoff)? else {
        return Err(Retry::Poison(format!("no outbox message {id}")));
    };
    if entry.state.is_final() {
        return Ok(());
    }
    if entry.state == OutboxState::Pending {
        if let Some(reason) = overtaken(services, &entry.shipment_key, &entry.template)
            .await
            .map_err(backoff)?
        {
            services.outbox.skip(id, &reason).await.map_err(backoff)?;
            tracing::info!(%reason, "message no longer true; skipped");
            return Ok(());
        }
    }
    let lease_ms = services.config.idempotency_lease.as_millis() as i64;
    let entry = match services.outbox.claim(id, lease_ms).await.map_err(backoff)? {
        Claim::Claimed(entry) => entry,
        Claim::Ended(_) | Claim::Missing => return Ok(()),
        Claim::InFlight { until_ms } => {
            let wait = (until_ms - now_ms()).clamp(100, 60_000) as u64;
            return Err(Retry::After(Duration::from_millis(wait)));
        }
        Claim::Abandoned => {
            services.outbox.abandon(id).await.map_err(backoff)?;
            tracing::warn!(
                "a sender stopped mid-send; the message may have gone out and is not resent"
            );
            return Ok(());
        }
    };

    let notifier = match provider(services, entry.channel).await {
        Ok(Some(notifier)) => notifier,
        Ok(None) => {
            let why = format!("{} notifications are off", entry.channel.as_str());
            services
                .outbox
                .finish(id, OutboxState::Skipped, None, None, Some(&why))
                .await
                .map_err(backoff)?;
            return Ok(());
        }
        Err(e) => return release(services, id, e).await,
    };
    let message = OutgoingMessage {
        id: entry.id.clone(),
        channel: entry.channel,
        to: entry.to.clone(),
        subject: entry.subject.clone(),
        body: entry.body.clone(),
    };
    let sent = notifier.send(&message).await;
    services
        .metrics
        .partner_call("notify", notifier.name(), &sent);
    match sent {
        Ok(sent) => {
            services
                .outbox
                .finish(
                    id,
                    OutboxState::Sent,
                    Some(&sent.provider),
                    Some(&sent.provider_id),
                    None,
                )
                .await
                .map_err(backoff)?;
            tracing::info!(provider = %sent.provider, provider_id = %sent.provider_id, channel = entry.channel.as_str(), "customer notified");
            Ok(())
        }
        Err(e @ NotifyError::Ambiguous(_)) => {
            end(services, id, notifier.name(), OutboxState::Unknown, &e).await
        }
        Err(e @ NotifyError::Rejected { .. }) => {
            end(services, id, notifier.name(), OutboxState::Failed, &e).await
        }
        Err(e) => release(services, id, e).await,
    }
}

/// Whether the shipment has moved on so far that the message would mislead.
async fn overtaken(
    services: &Services,
    shipment_key: &str,
    template: &str,
) -> Result<Option<String>, AwsError> {
    let Ok(key) = shipment_key.parse::<ShipmentKey>() else {
        return Ok(None);
    };
    let Some(record) = services.shipments.get(&key).await? else {
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
async fn release(services: &Services, id: &str, error: NotifyError) -> Result<(), Retry> {
    tracing::warn!(%error, "provider did not take the message; retrying");
    services
        .outbox
        .release(id, &error.to_string())
        .await
        .map_err(backoff)?;
    Err(Retry::Backoff {
        at_least: match &error {
            NotifyError::Throttled { retry_after } => *retry_after,
            _ => None,
        },
        error: error.to_string(),
    })
}

async fn end(
    services: &Services,
    id: &str,
    provider: &str,
    state: OutboxState,
    error: &NotifyError,
) -> Result<(), Retry> {
    tracing::warn!(%error, state = state.as_str(), "message not delivered to the provider; not retried");
    services
        .outbox
        .finish(id, state, Some(provider), None, Some(&error.to_string()))
        .await
        .map_err(backoff)?;
    Ok(())
}
