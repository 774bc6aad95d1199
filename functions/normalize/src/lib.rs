//! normalize: intake queue → shipments. For each stored payload: parse it with its channel's
//! adapter, apply the trigger policy, map it to a [`Shipment`], and either record the
//! shipment and request its courier task, or open a review item with every reason. The
//! outcome goes back onto the payload's audit record.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::inbound::{InboundRecord, InboundState, Outcome};
use shared::aws::reviews::ReviewItem;
use shared::aws::shipments::Recorded;
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::channel::{shopify, NeedsReview, Trigger};
use shared::domain::{ReviewReason, Shipment};
use shared::error::Classify;
use shared::messages::{InboundReceived, TaskRequested};
use shared::services::Services;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    batch::process(
        event,
        &services.intake_queue,
        services.backoff(),
        |record| async move {
            let message: InboundReceived = batch::parse_body(&record)?;
            normalize(services, &message).await.map_err(|e| match e {
                e if e.is_transient() => Retry::Backoff {
                    at_least: None,
                    error: e.to_string(),
                },
                e => Retry::Poison(e.to_string()),
            })
        },
    )
    .await
}

async fn normalize(services: &Services, message: &InboundReceived) -> Result<(), AwsError> {
    let Some(inbound) = services.inbound.get(&message.inbound_id).await? else {
        return Err(AwsError::Corrupt {
            key: message.inbound_id.clone(),
            problem: "queued payload is not in the audit trail".into(),
        });
    };
    let order = match shopify::parse_order(&inbound.body) {
        Ok(order) => order,
        Err(e) => {
            let reasons = vec![ReviewReason::UnparseablePayload {
                error: e.to_string(),
            }];
            return review(services, &inbound, &inbound.id, None, reasons).await;
        }
    };
    let order_key = format!("shopify:{}:{}", inbound.store, order.id);
    match order.trigger() {
        Trigger::Ship => {}
        Trigger::Wait { why } => {
            return outcome(
                services,
                &inbound,
                &format!("waiting: {why}"),
                &order_key,
                None,
            )
            .await
        }
        Trigger::Ignore { why } => {
            return outcome(
                services,
                &inbound,
                &format!("ignored: {why}"),
                &order_key,
                None,
            )
            .await
        }
    }
    match order.to_shipment(&inbound.store) {
        Ok(shipment) => record(services, &inbound, &shipment).await,
        Err(NeedsReview(reasons)) => {
            review(services, &inbound, &order_key, Some(&order_key), reasons).await
        }
    }
}

async fn record(
    services: &Services,
    inbound: &InboundRecord,
    shipment: &Shipment,
) -> Result<(), AwsError> {
    let order_key = shipment.key.order_key();
    let shipment_key = shipment.key.to_string();
    let event_ms = event_time_ms(inbound);
    let summary = match services
        .shipments
        .record(shipment, event_ms, &inbound.id)
        .await?
    {
        Recorded::New | Recorded::Updated => {
            request_task(services, shipment).await?;
            "task requested"
        }
        // Our own earlier attempt wrote it and may have died before queueing the request.
        Recorded::Kept(existing)
            if existing.source_inbound == inbound.id && existing.task.is_none() =>
        {
            request_task(services, shipment).await?;
            "task requested (retry)"
        }
        Recorded::Kept(existing) if existing.task.is_some() => "duplicate: task already exists",
        Recorded::Kept(existing) if existing.source_event_ms > event_ms => {
            "stale: a newer event already wrote this shipment"
        }
        Recorded::Kept(_) => "duplicate: task already requested",
    };
    tracing::info!(shipment = %shipment_key, recipient_phone = %shipment.recipient.phone.masked(), summary, "normalized");
    outcome_with(
        services,
        inbound,
        summary,
        &order_key,
        Some(&shipment_key),
        None,
    )
    .await
}

async fn request_task(services: &Services, shipment: &Shipment) -> Result<(), AwsError> {
    services
        .tasks_queue
        .send(&TaskRequested {
            shipment_key: shipment.key.clone(),
        })
        .await
        .map(drop)
}

async fn review(
    services: &Services,
    inbound: &InboundRecord,
    subject: &str,
    order_key: Option<&str>,
    reasons: Vec<ReviewReason>,
) -> Result<(), AwsError> {
    let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
    let summary = format!("needs review: {}", codes.join(", "));
    let mut item = ReviewItem::new(
        subject,
        if order_key.is_some() {
            "order"
        } else {
            "payload"
        },
        reasons,
    );
    item.order_key = order_key.map(str::to_owned);
    item.source_inbound = Some(inbound.id.clone());
    services.reviews.open(&item).await?;
    tracing::warn!(review = %item.id, reasons = %codes.join(","), "order needs review");
    let state = if order_key.is_some() {
        InboundState::Processed
    } else {
        InboundState::Review
    };
    let outcome = Outcome {
        state,
        summary: &summary,
        order_key,
        shipment_key: None,
        review_id: Some(&item.id),
    };
    services.inbound.record_outcome(&inbound.id, &outcome).await
}

async fn outcome(
    services: &Services,
    inbound: &InboundRecord,
    summary: &str,
    order_key: &str,
    shipment_key: Option<&str>,
) -> Result<(), AwsError> {
    tracing::info!(order = order_key, summary, "normalized");
    outcome_with(services, inbound, summary, order_key, shipment_key, None).await
}

async fn outcome_with(
    services: &Services,
    inbound: &InboundRecord,
    summary: &str,
    order_key: &str,
    shipment_key: Option<&str>,
    review_id: Option<&str>,
) -> Result<(), AwsError> {
    let outcome = Outcome {
        state: InboundState::Processed,
        summary,
        order_key: Some(order_key),
        shipment_key,
        review_id,
    };
    services.inbound.record_outcome(&inbound.id, &outcome).await
}

/// When the event happened, per the channel (Shopify's `X-Shopify-Triggered-At`); the
/// receipt time when it gave none. Shipment writes compare these, so a late retry of an old
/// payload never overwrites newer data.
fn event_time_ms(inbound: &InboundRecord) -> i64 {
    inbound
        .triggered_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .or_else(|| OffsetDateTime::parse(&inbound.received_at, &Rfc3339).ok())
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(shared::aws::item::now_ms)
}
