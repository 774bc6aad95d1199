//! create-task: tasks queue → courier. Creates each shipment's courier task exactly once,
//! through the idempotency protocol (claim with a lease; after a takeover, look the task up
//! by reference before creating; store the result), then stores the task on the shipment,
//! marks the payload that caused it in the audit trail, and asks status-sync to write the
//! tracking back to the store.
//!
//! The same queue carries edits and cancellations ([`TaskAction`]): an edit replaces what
//! the courier was told, a cancellation cancels the task; once the parcel is with the
//! courier either becomes a review item for a dispatcher. An address the courier cannot
//! place becomes a review item and a clarification request to the customer.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::reviews::ReviewItem;
use shared::aws::shipments::ShipmentRecord;
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::courier::{self, CourierError, CourierTask};
use shared::domain::ShipmentKey;
use shared::domain::{ReviewReason, ShipmentStatus};
use shared::error::Classify;
use shared::idempotency::{run_once, Outcome, ProtocolError};
use shared::messages::{SyncEvent, TaskAction, TaskRequested};
use shared::notifications::{self, Notified};
use shared::notify::templates::Template;
use shared::services::Services;
use std::time::Duration;

/// A duplicate that meets a live lease comes back after at most this long: the holder
/// usually finishes in milliseconds, and then the retry finds the stored result.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// This function's name in its metrics' Function dimension.
const FUNCTION: &str = "create-task";

#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError<CourierError>),
    #[error("no shipment {0}")]
    UnknownShipment(String),
}

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    batch::process(
        event,
        &services.tasks_queue,
        services.backoff(),
        |record| async move {
            let request: TaskRequested = batch::parse_body(&record)?;
            let span = tracing::info_span!("create_task", shipment = %request.shipment_key);
            tracing::Instrument::instrument(create(services, &request), span).await
        },
    )
    .await
}

async fn create(services: &Services, request: &TaskRequested) -> Result<(), Retry> {
    let result = match request.action {
        TaskAction::Create => create_once(services, request).await,
        TaskAction::Update => update(services, &request.shipment_key).await.map(|()| None),
        TaskAction::Cancel => cancel(services, &request.shipment_key).await.map(|()| None),
    };
    match result {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(Retry::After(wait)),
        Err(CreateError::UnknownShipment(key)) => Err(Retry::Poison(format!("no shipment {key}"))),
        Err(CreateError::Protocol(ProtocolError::Effect(CourierError::Rejected {
            status,
            message,
        }))) => open_review(
            services,
            request,
            ReviewReason::CourierRejected { status, message },
        )
        .await
        .map_err(|e| Retry::Backoff {
            at_least: None,
            error: e.to_string(),
        }),
        Err(CreateError::Protocol(ProtocolError::Effect(CourierError::AddressUnresolved {
            ambiguous,
            message,
        }))) => ask_customer(services, request, ambiguous, message)
            .await
            .map_err(|e| Retry::Backoff {
                at_least: None,
                error: e.to_string(),
            }),
        Err(CreateError::Protocol(ProtocolError::Effect(CourierError::TooLate { status }))) => {
            let reason = match request.action {
                TaskAction::Cancel => ReviewReason::CancelAfterPickup { status },
                _ => ReviewReason::EditAfterPickup {
                    status,
                    changed: vec!["shipment".into()],
                },
            };
            open_review(services, request, reason)
                .await
                .map_err(|e| Retry::Backoff {
                    at_least: None,
                    error: e.to_string(),
                })
        }
        Err(e) if e.is_transient() => Err(Retry::Backoff {
            at_least: match &e {
                CreateError::Protocol(ProtocolError::Effect(c)) => c.retry_after(),
                _ => None,
            },
            error: e.to_string(),
        }),
        Err(e) => Err(Retry::Poison(e.to_string())),
    }
}

impl Classify for CreateError {
    fn transience(&self) -> shared::error::Transience {
        match self {
            CreateError::Aws(e) => e.transience(),
            CreateError::Protocol(e) => e.transience(),
            CreateError::UnknownShipment(_) => shared::error::Transience::Permanent,
        }
    }
}

/// `Ok(Some(wait))`: another attempt holds the work; come back after `wait`.
async fn create_once(
    services: &Services,
    request: &TaskRequested,
) -> Result<Option<Duration>, CreateError> {
    let key = &request.shipment_key;
    let record = services
        .shipments
        .get(key)
        .await?
        .ok_or_else(|| CreateError::UnknownShipment(key.to_string()))?;

    if let Some(task) = &record.task {
        // Done before. If the write-back has not happened, the request for it may have been
        // lost after the task was stored: ask again (status-sync is idempotent).
        if record.tracking_written_back.is_none() {
            request_sync(services, key).await?;
        }
        services.metrics.duplicate_creation_attempt(
            FUNCTION,
            key.channel.as_str(),
            "task_recorded",
        );
        tracing::info!(task = %task.task_id, "task already exists");
        return Ok(None);
    }
    // The order's cancellation marker covers an older event that recorded this shipment
    // while the cancellation was being handled.
    let cancelled_at = services
        .shipments
        .order_cancelled_at(&key.order_key())
        .await?;
    if cancelled_at.is_some_and(|at| at >= record.source_event_ms) && !record.cancel_requested {
        shared::pipeline::cancel_shipment(services, key).await?;
        tracing::info!("order cancelled; not creating its task");
        return Ok(None);
    }
    if record.cancel_requested {
        services
            .shipments
            .set_status(key, &[ShipmentStatus::Pending], ShipmentStatus::Cancelled)
            .await?;
        tracing::info!("order cancelled before its task was created; not creating it");
        return Ok(None);
    }
    if record.status != ShipmentStatus::Pending {
        tracing::info!(status = %record.status, "shipment is not waiting for a task");
        return Ok(None);
    }

    let courier = courier::configured(services)
        .await
        .map_err(ProtocolError::Effect)?;
    let reference = key.to_string();
    let partner = courier.name();
    let outcome = run_once(
        &services.idempotency,
        &format!("task:{reference}"),
        services.config.idempotency_lease,
        || async {
            let found = courier.find_by_reference(&reference).await;
            services.metrics.partner_call(FUNCTION, partner, &found);
            found
        },
        || async {
            let created = courier.create_task(&reference, &record.shipment).await;
            services.metrics.partner_call(FUNCTION, partner, &created);
            created
        },
    )
    .await?;
    let (task, created_now): (CourierTask, bool) = match outcome {
        Outcome::Done {
            result,
            created_now,
        } => (result, created_now),
        Outcome::Busy { retry_in } => {
            services.metrics.duplicate_creation_attempt(
                FUNCTION,
                key.channel.as_str(),
                "lease_held",
            );
            return Ok(Some(retry_in.min(BUSY_RETRY)));
        }
    };
    if !created_now {
        // The protocol found the task (stored, or at the courier after a takeover) instead
        // of creating a second one.
        services.metrics.duplicate_creation_attempt(
            FUNCTION,
            key.channel.as_str(),
            "already_created",
        );
    }

    let stored = services
        .shipments
        .record_task(key, courier.name(), &task)
        .await?;
    if stored.cancel_requested {
        // The order was cancelled while the task was being created.
        tracing::info!(task = %task.task_id, "order cancelled during creation; cancelling the new task");
        shared::pipeline::request(services, key, TaskAction::Cancel).await?;
    }
    if stored.first {
        // Once per task. The order became shippable at `source_event_ms`: the channel's own
        // time of the event the shipment was recorded from (the payment or confirmation, or
        // a later edit before the task), the best "paid at" the record carries.
        services.metrics.order_to_task(
            key.channel,
            record.shipment.service,
            courier.name(),
            shared::aws::item::now_ms() - record.source_event_ms,
        );
        // Only the attempt that first stored the task marks the payload behind it: the audit
        // trail names exactly one creator.
        services
            .inbound
            .record_task(&record.source_inbound, &task.task_id)
            .await?;
    }
    // A newer event may have replaced the shipment's data while the task was being made
    // from what we read above (or the task found by reference was made from older data):
    // bring the courier up to date.
    let now = current(services, key).await?;
    if now.shipment.courier_facing_change(&record.shipment) {
        tracing::info!("the order changed while its task was being created; updating the task");
        shared::pipeline::request(services, key, TaskAction::Update).await?;
    }
    request_sync(services, key).await?;
    tracing::info!(
        task = %task.task_id,
        tracking = %task.tracking_number,
        created_now,
        courier = courier.name(),
        "courier task ready"
    );
    Ok(None)
}

async fn current(services: &Services, key: &ShipmentKey) -> Result<ShipmentRecord, CreateError> {
    services
        .shipments
        .get(key)
        .await?
        .ok_or_else(|| CreateError::UnknownShipment(key.to_string()))
}

/// The courier's picked-up-or-later statuses, as far as status sync has told us. The
/// courier's own answer (`TooLate`) is the authority; this only saves a call.
fn with_courier(status: ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::PickedUp | ShipmentStatus::OutForDelivery
    )
}

/// Brings the courier's task up to date with the shipment as recorded now. A repeat sends
/// the same data again, which the courier treats as the same task.
async fn update(services: &Services, key: &ShipmentKey) -> Result<(), CreateError> {
    let record = current(services, key).await?;
    let Some(task) = &record.task else {
        // No task yet: the create that is queued or running reads the new data itself.
        return Ok(());
    };
    if record.cancel_requested || record.status.is_terminal() {
        tracing::info!(status = %record.status, "edit after the end of the shipment; nothing to update");
        return Ok(());
    }
    if with_courier(record.status) {
        return Err(ProtocolError::Effect(CourierError::TooLate {
            status: record.status.to_string(),
        })
        .into());
    }
    let courier = courier::configured(services)
        .await
        .map_err(ProtocolError::Effect)?;
    let updated = courier
        .update_task(&task.task_id, &key.to_string(), &record.shipment)
        .await;
    services
        .metrics
        .partner_call(FUNCTION, courier.name(), &updated);
    updated.map_err(ProtocolError::Effect)?;
    tracing::info!(task = %task.task_id, version = record.version, "courier task updated");
    Ok(())
}

/// Cancels the courier's task; the shipment becomes Cancelled once the courier agrees.
async fn cancel(services: &Services, key: &ShipmentKey) -> Result<(), CreateError> {
    let record = current(services, key).await?;
    if record.status == ShipmentStatus::Cancelled {
        return Ok(());
    }
    let Some(task) = &record.task else {
        services
            .shipments
            .set_status(key, &[ShipmentStatus::Pending], ShipmentStatus::Cancelled)
            .await?;
        return Ok(());
    };
    if record.status.is_terminal() || with_courier(record.status) {
        return Err(ProtocolError::Effect(CourierError::TooLate {
            status: record.status.to_string(),
        })
        .into());
    }
    let courier = courier::configured(services)
        .await
        .map_err(ProtocolError::Effect)?;
    let cancelled = courier.cancel_task(&task.task_id).await;
    services
        .metrics
        .partner_call(FUNCTION, courier.name(), &cancelled);
    cancelled.map_err(ProtocolError::Effect)?;
    services
        .shipments
        .set_status(
            key,
            &[
                ShipmentStatus::Pending,
                ShipmentStatus::Created,
                ShipmentStatus::Assigned,
            ],
            ShipmentStatus::Cancelled,
        )
        .await?;
    tracing::info!(task = %task.task_id, "courier task cancelled");
    Ok(())
}

/// The courier cannot place the address: a review item for the operator, and a request to
/// the customer (by e-mail, else SMS) through the outbox. The reply goes to the operator,
/// who fixes the address and releases the item (README, "Clarification requests").
async fn ask_customer(
    services: &Services,
    request: &TaskRequested,
    ambiguous: bool,
    message: String,
) -> Result<(), AwsError> {
    let key = &request.shipment_key;
    let reason = if ambiguous {
        ReviewReason::AddressAmbiguous { message }
    } else {
        ReviewReason::AddressNotFound { message }
    };
    let Some(record) = services.shipments.get(key).await? else {
        return open_review(services, request, reason).await;
    };
    let review_id = shared::aws::reviews::review_id(&key.to_string());
    let mut item = ReviewItem::new(&key.to_string(), "shipment", vec![reason]);
    item.order_key = Some(key.order_key());
    item.shipment_key = Some(key.to_string());
    item.source_inbound = Some(record.source_inbound.clone());
    item.draft = Some(shared::domain::ShipmentDraft::from(&record.shipment));
    item.event_ms = Some(record.source_event_ms);
    let opened = services.reviews.open(&item).await?;
    let a = &record.shipment.address;
    let address_text = format!(
        "{}, {} {}, {}",
        a.street_line(),
        a.postal_code.as_deref().unwrap_or(""),
        a.city,
        a.country_code
    );
    // Composed on every attempt (the outbox keeps one per shipment), so a retry after a
    // failure between the review and the outbox still asks the customer, once.
    let notified = notifications::notify(
        services,
        &record,
        key,
        Template::AddressClarification,
        Some(address_text),
    )
    .await?;
    match notified {
        Notified::Queued { first: true, .. } => {
            tracing::warn!(review = %review_id, opened, "address unresolved; customer asked to clarify")
        }
        Notified::Queued { .. } | Notified::AlreadyEnded { .. } => {
            tracing::info!(review = %review_id, "address still unresolved; customer already asked")
        }
        Notified::NoContact => {
            tracing::warn!(review = %review_id, "address unresolved and no way to reach the customer")
        }
    }
    Ok(())
}

async fn request_sync(
    services: &Services,
    key: &shared::domain::ShipmentKey,
) -> Result<(), AwsError> {
    services
        .sync_queue
        .send(&SyncEvent::TrackingAssigned {
            shipment_key: key.clone(),
        })
        .await
        .map(drop)
}

async fn open_review(
    services: &Services,
    request: &TaskRequested,
    reason: ReviewReason,
) -> Result<(), AwsError> {
    let key = &request.shipment_key;
    tracing::warn!(reason = %reason, "courier refused the task; opening a review item");
    let mut item = ReviewItem::new(&key.to_string(), "task", vec![reason]);
    item.order_key = Some(key.order_key());
    item.shipment_key = Some(key.to_string());
    services.reviews.open(&item).await.map(drop)
}
