//! status-sync: sync queue → the shipment, the store and the customer.
//!
//! Two kinds of message (`SyncEvent`):
//! - **TrackingAssigned** (from create-task): the tracking number and URL are written back
//!   to the channel the order came from (a Shopify fulfillment, a WooCommerce order note, an
//!   Amazon shipment confirmation, the API's signed callback), then the customer gets the
//!   tracking link.
//! - **CourierReported** (from webhook-intake): a courier webhook, verified and kept in the
//!   audit trail. It is parsed by the courier's module into a courier-neutral event, kept in
//!   the status history, and applied to the shipment through the state machine
//!   (DESIGN.md, "Statuses"): a conditional write that only moves forward, so late,
//!   repeated and out-of-order events never move a shipment back. A status the shipment
//!   reached is then written back to the store and, where it matters to the customer, sent
//!   to them.
//!
//! Every side effect is keyed by (shipment, status): the store write-back runs through the
//! idempotency protocol, the customer message through the outbox. A redelivered event, or a
//! second event reporting the same status, repeats nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::history::HistoryEntry;
use shared::aws::inbound::{InboundState, Outcome as AuditOutcome};
use shared::aws::reviews::ReviewItem;
use shared::aws::shipments::{DeliveryFacts, ShipmentRecord};
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::courier::event::CourierEvent;
use shared::domain::{ReviewReason, ShipmentKey, ShipmentStatus};
use shared::error::Classify;
use shared::idempotency::{run_once, Outcome, ProtocolError};
use shared::messages::SyncEvent;
use shared::notifications::{self, template_for};
use shared::notify::templates::Template;
use shared::services::Services;
use shared::store::{StatusReport, StatusWriteBack, StoreError, Tracking, WriteBack};
use std::time::Duration;

const BUSY_RETRY: Duration = Duration::from_secs(2);
/// This function's name in its metrics' Function dimension.
const FUNCTION: &str = "status-sync";
/// A courier event that beats create-task's record of the task (Onfleet fires taskAssigned
/// as the create call returns) waits this long for it.
const TASK_NOT_STORED_YET: Duration = Duration::from_secs(1);
/// A status write-back waits for the tracking write-back it attaches to.
const TRACKING_FIRST: Duration = Duration::from_secs(2);

const EVERY_STATUS: [ShipmentStatus; 10] = [
    ShipmentStatus::Pending,
    ShipmentStatus::Created,
    ShipmentStatus::Assigned,
    ShipmentStatus::PickedUp,
    ShipmentStatus::OutForDelivery,
    ShipmentStatus::Delivered,
    ShipmentStatus::Failed,
    ShipmentStatus::Returned,
    ShipmentStatus::NeedsClarification,
    ShipmentStatus::Cancelled,
];

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError<StoreError>),
    #[error("{0}")]
    Unprocessable(String),
}

impl Classify for SyncError {
    fn transience(&self) -> shared::error::Transience {
        match self {
            SyncError::Aws(e) => e.transience(),
            SyncError::Protocol(e) => e.transience(),
            SyncError::Unprocessable(_) => shared::error::Transience::Permanent,
        }
    }
}

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    batch::process(
        event,
        &services.sync_queue,
        services.backoff(),
        |record| async move {
            let event: SyncEvent = batch::parse_body(&record)?;
            match &event {
                SyncEvent::TrackingAssigned { shipment_key } => {
                    let span = tracing::info_span!("tracking_sync", shipment = %shipment_key);
                    let work = async {
                        let result = write_tracking(services, shipment_key).await;
                        settle(services, shipment_key, "tracking", result).await
                    };
                    tracing::Instrument::instrument(work, span).await
                }
                SyncEvent::CourierReported {
                    inbound_id,
                    courier,
                } => {
                    let span =
                        tracing::info_span!("courier_event", %courier, inbound = %inbound_id);
                    tracing::Instrument::instrument(
                        courier_reported(services, inbound_id, courier),
                        span,
                    )
                    .await
                }
            }
        },
    )
    .await
}

/// Turns a step's result into the batch's verdict: a store that refuses for good opens a
/// review item; a transient failure backs off (honouring the store's Retry-After).
async fn settle(
    services: &Services,
    key: &ShipmentKey,
    what: &str,
    result: Result<Option<Duration>, SyncError>,
) -> Result<(), Retry> {
    match result {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(Retry::After(wait)),
        Err(SyncError::Protocol(ProtocolError::Effect(StoreError::Rejected(message)))) => {
            open_review(services, key, what, ReviewReason::StoreRejected { message })
                .await
                .map_err(|e| Retry::Backoff {
                    at_least: None,
                    error: e.to_string(),
                })
        }
        Err(e) if e.is_transient() => Err(Retry::Backoff {
            at_least: match &e {
                SyncError::Protocol(ProtocolError::Effect(StoreError::Throttled {
                    retry_after,
                })) => *retry_after,
                _ => None,
            },
            error: e.to_string(),
        }),
        Err(e) => Err(Retry::Poison(e.to_string())),
    }
}

fn backoff(e: impl std::fmt::Display) -> Retry {
    Retry::Backoff {
        at_least: None,
        error: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Tracking
// ---------------------------------------------------------------------------------------

async fn write_tracking(
    services: &Services,
    key: &ShipmentKey,
) -> Result<Option<Duration>, SyncError> {
    let record = services
        .shipments
        .get(key)
        .await?
        .ok_or_else(|| SyncError::Unprocessable(format!("no shipment {key}")))?;
    if record.tracking_written_back.is_none() {
        let task = record
            .task
            .as_ref()
            .ok_or_else(|| SyncError::Unprocessable(format!("shipment {key} has no task yet")))?;
        let tracking = tracking_of(&record, task);
        let store = shared::store::writer(services, key)
            .await
            .map_err(ProtocolError::Effect)?;
        // The store call looks for an existing fulfillment with this tracking number before
        // it writes, so the protocol's own lookup has nothing to add.
        let outcome = run_once(
            &services.idempotency,
            &format!("tracking:{key}"),
            services.config.idempotency_lease,
            || async { Ok(None) },
            || async {
                let written = store.write_tracking(key, &tracking).await;
                services
                    .metrics
                    .partner_call(FUNCTION, key.channel.as_str(), &written);
                written
            },
        )
        .await?;
        let written: WriteBack = match outcome {
            Outcome::Done { result, .. } => result,
            Outcome::Busy { retry_in } => return Ok(Some(retry_in.min(BUSY_RETRY))),
        };
        let reference = match &written {
            WriteBack::Written { reference } | WriteBack::AlreadyThere { reference } => reference,
        };
        services
            .shipments
            .record_tracking_written_back(key, reference)
            .await?;
        tracing::info!(fulfillment = %reference, tracking = %tracking.number, "tracking written back to the store");
    }
    notifications::notify(services, &record, key, Template::TrackingLink, None).await?;
    Ok(None)
}

fn tracking_of(record: &ShipmentRecord, task: &shared::courier::CourierTask) -> Tracking {
    Tracking {
        number: task.tracking_number.clone(),
        url: task.tracking_url.clone(),
        company: shared::courier::display_name(record.courier.as_deref().unwrap_or("courier")),
    }
}

// ---------------------------------------------------------------------------------------
// Courier events
// ---------------------------------------------------------------------------------------

/// Reads a courier's webhook into a courier-neutral event. `Ok(None)`: well-formed but not
/// for us (a worker trigger, a newer event type).
fn parse(courier: &str, body: &[u8]) -> Result<Option<CourierEvent>, String> {
    match courier {
        "onfleet" => match shared::courier::onfleet::webhook::parse(body) {
            Ok(event) => Ok(Some(event)),
            Err(e) if e.is_ignorable() => Ok(None),
            Err(e) => Err(e.to_string()),
        },
        "sandbox" => match shared::courier::sandbox::webhook::parse(body) {
            Ok(event) => Ok(Some(event)),
            Err(e) if e.is_ignorable() => Ok(None),
            Err(e) => Err(e.to_string()),
        },
        other => Err(format!("no webhook parser for courier {other:?}")),
    }
}

/// Writes what became of a courier webhook into its audit-trail record.
async fn audit(
    services: &Services,
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
    if let Err(e) = services.inbound.record_outcome(inbound_id, &outcome).await {
        // The event is applied; the audit line is bookkeeping.
        tracing::warn!(error = %e, "could not record the webhook's outcome");
    }
}

async fn courier_reported(
    services: &Services,
    inbound_id: &str,
    courier: &str,
) -> Result<(), Retry> {
    let Some(inbound) = services.inbound.get(inbound_id).await.map_err(backoff)? else {
        return Err(Retry::Poison(format!("no inbound payload {inbound_id}")));
    };
    let event = match parse(courier, &inbound.body) {
        Ok(Some(event)) => event,
        Ok(None) => {
            audit(
                services,
                inbound_id,
                InboundState::Ignored,
                "not a task event".into(),
                None,
                None,
            )
            .await;
            return Ok(());
        }
        Err(error) => {
            tracing::warn!(%error, "courier webhook unreadable; kept for review");
            let mut item = ReviewItem::new(
                inbound_id,
                "payload",
                vec![ReviewReason::UnparseablePayload { error }],
            );
            item.source_inbound = Some(inbound_id.to_owned());
            services.reviews.open(&item).await.map_err(backoff)?;
            audit(
                services,
                inbound_id,
                InboundState::Review,
                "needs review: unreadable courier webhook".into(),
                None,
                Some(&item.id),
            )
            .await;
            return Ok(());
        }
    };
    let Some(key) = event
        .reference
        .as_deref()
        .and_then(|r| r.parse::<ShipmentKey>().ok())
    else {
        tracing::info!(task = %event.task_id, "task carries no reference of ours; ignored");
        audit(
            services,
            inbound_id,
            InboundState::Ignored,
            format!("task {} is not one of ours", event.task_id),
            None,
            None,
        )
        .await;
        return Ok(());
    };
    let record = match services.shipments.get(&key).await.map_err(backoff)? {
        Some(record) => record,
        None => {
            audit(
                services,
                inbound_id,
                InboundState::Ignored,
                format!("no shipment {key}"),
                Some(&key),
                None,
            )
            .await;
            return Ok(());
        }
    };
    match &record.task {
        None if !record.status.is_terminal() => {
            // create-task has the task but has not stored it yet.
            return Err(Retry::After(TASK_NOT_STORED_YET));
        }
        Some(task) if task.task_id == event.task_id => {}
        _ => {
            tracing::info!(task = %event.task_id, "event about another task (a clone?); ignored");
            audit(
                services,
                inbound_id,
                InboundState::Ignored,
                format!("task {} is not the shipment's task", event.task_id),
                Some(&key),
                None,
            )
            .await;
            return Ok(());
        }
    }

    let result = apply(services, &key, &record, &event, inbound_id, &inbound).await;
    let summary = match &result {
        Ok((summary, _)) => summary.clone(),
        Err(e) => format!("failed: {e}"),
    };
    let result = result.map(|(_, wait)| wait);
    let verdict = settle(services, &key, "status", result).await;
    if verdict.is_ok() {
        audit(
            services,
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

/// Applies one event; returns the audit line and, when a side effect must wait, how long.
async fn apply(
    services: &Services,
    key: &ShipmentKey,
    record: &ShipmentRecord,
    event: &CourierEvent,
    inbound_id: &str,
    inbound: &shared::aws::inbound::InboundRecord,
) -> Result<(String, Option<Duration>), SyncError> {
    let at_ms = event
        .time_ms
        .or_else(|| {
            shared::channel::parse_time(&inbound.received_at)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        })
        .unwrap_or_else(shared::aws::item::now_ms);
    let task_id = event.task_id.as_str();
    services
        .history
        .record(
            key,
            &HistoryEntry {
                at_ms,
                event_id: inbound_id.to_owned(),
                courier: event.courier.clone(),
                courier_event: event.courier_event.clone(),
                status: event.status,
            },
        )
        .await?;
    if let Some(eta) = event.eta_ms {
        services.shipments.record_eta(key, eta, at_ms).await?;
    }
    let Some(to) = event.status else {
        return Ok((format!("{}: recorded", event.courier_event), None));
    };
    let actor = event.actor();
    let from: Vec<ShipmentStatus> = EVERY_STATUS
        .into_iter()
        .filter(|s| s.may_become(to, actor))
        .collect();
    let facts = DeliveryFacts {
        proof: event.proof.clone(),
        failure: event.failure.clone(),
        cod_collected: event.cod_collected,
        delivery_cost: event.delivery_cost,
        eta_ms: None,
        driver: event.worker_id.clone(),
        cod_collected_ms: None,
    };
    let moved = services
        .shipments
        .apply_courier_status(key, task_id, &from, to, at_ms, &facts)
        .await?;
    if !moved {
        if let Some(cash) = &event.cod_collected {
            // Not applied (e.g. the order was cancelled meanwhile), but the driver has the cash.
            services
                .shipments
                .record_cash_collected(key, task_id, cash, event.worker_id.as_deref(), at_ms)
                .await?;
        }
    }
    if !moved && to == ShipmentStatus::Delivered {
        if let Some(proof) = &event.proof {
            // Photos and the signature may follow the completion in a later update.
            services.shipments.record_proof(key, proof, at_ms).await?;
        }
    }
    let record = services
        .shipments
        .get(key)
        .await?
        .unwrap_or_else(|| record.clone());
    if !record.passed_through(to) {
        tracing::info!(status = %to, now = %record.status, "late or out-of-order event; the shipment stays");
        return Ok((
            format!("{to}: not applied, the shipment is {}", record.status),
            None,
        ));
    }
    if moved {
        tracing::info!(status = %to, "shipment status moved");
        if to == ShipmentStatus::Delivered {
            // Once per shipment: only the event that moved it to Delivered counts.
            let sla = shared::sla::verdict(&record.shipment, record.source_event_ms, at_ms);
            services.metrics.delivery_sla(
                key.channel,
                record.shipment.service,
                sla.on_time,
                sla.late_by_ms,
            );
        }
    }
    let wait = effects(services, key, &record, to).await?;
    let verb = if moved { "applied" } else { "already applied" };
    Ok((format!("{to}: {verb}"), wait))
}

/// What a status the shipment reached means for the customer and the store. Both are keyed
/// by (shipment, status), so running them again repeats nothing.
async fn effects(
    services: &Services,
    key: &ShipmentKey,
    record: &ShipmentRecord,
    status: ShipmentStatus,
) -> Result<Option<Duration>, SyncError> {
    if let Some(template) = template_for(status) {
        notifications::notify(services, record, key, template, None).await?;
    }
    if !matches!(
        status,
        ShipmentStatus::Assigned
            | ShipmentStatus::PickedUp
            | ShipmentStatus::OutForDelivery
            | ShipmentStatus::Delivered
            | ShipmentStatus::Failed
            | ShipmentStatus::Returned
    ) {
        return Ok(None);
    }
    let (Some(reference), Some(task)) = (&record.tracking_written_back, &record.task) else {
        return Ok(Some(TRACKING_FIRST));
    };
    let happened_at_ms = record
        .transitions
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, at)| *at)
        .unwrap_or_else(shared::aws::item::now_ms);
    let report = StatusReport {
        status,
        happened_at_ms,
        tracking: tracking_of(record, task),
        tracking_reference: reference.clone(),
        failure: record.delivery.failure.clone(),
        proof: record.delivery.proof.clone(),
        eta_ms: record.delivery.eta_ms,
    };
    let store = shared::store::writer(services, key)
        .await
        .map_err(ProtocolError::Effect)?;
    let outcome = run_once(
        &services.idempotency,
        &format!("status:{key}:{status}"),
        services.config.idempotency_lease,
        || async { Ok(None) },
        || async {
            let written = store.write_status(key, &report).await;
            services
                .metrics
                .partner_call(FUNCTION, key.channel.as_str(), &written);
            written
        },
    )
    .await?;
    match outcome {
        Outcome::Done { result, .. } => {
            match &result {
                StatusWriteBack::Written { reference } => {
                    tracing::info!(%status, %reference, "status written back to the store")
                }
                StatusWriteBack::AlreadyThere { .. } => {}
                StatusWriteBack::NotShown => {
                    tracing::debug!(%status, "the channel shows no such status")
                }
            }
            Ok(None)
        }
        Outcome::Busy { retry_in } => Ok(Some(retry_in.min(BUSY_RETRY))),
    }
}

async fn open_review(
    services: &Services,
    key: &ShipmentKey,
    what: &str,
    reason: ReviewReason,
) -> Result<(), AwsError> {
    tracing::warn!(reason = %reason, what, "store refused the write-back; opening a review item");
    let mut item = ReviewItem::new(&format!("{what}:{key}"), "write_back", vec![reason]);
    item.order_key = Some(key.order_key());
    item.shipment_key = Some(key.to_string());
    services.reviews.open(&item).await.map(drop)
}
