//! create-task: tasks queue → courier. Creates each shipment's courier task exactly once,
//! through the idempotency protocol (claim with a lease; after a takeover, look the task up
//! by reference before creating; store the result), then stores the task on the shipment,
//! marks the payload that caused it in the audit trail, and asks status-sync to write the
//! tracking back to the store.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::reviews::ReviewItem;
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::courier::{self, CourierError, CourierTask};
use shared::domain::{ReviewReason, ShipmentStatus};
use shared::error::Classify;
use shared::idempotency::{run_once, Outcome, ProtocolError};
use shared::messages::{SyncEvent, TaskRequested};
use shared::services::Services;
use std::time::Duration;

/// A duplicate that meets a live lease comes back after at most this long: the holder
/// usually finishes in milliseconds, and then the retry finds the stored result.
const BUSY_RETRY: Duration = Duration::from_secs(2);

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
    match create_once(services, request).await {
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
        tracing::info!(task = %task.task_id, "task already exists");
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
    let outcome = run_once(
        &services.idempotency,
        &format!("task:{reference}"),
        services.config.idempotency_lease,
        || courier.find_by_reference(&reference),
        || courier.create_task(&reference, &record.shipment),
    )
    .await?;
    let (task, created_now): (CourierTask, bool) = match outcome {
        Outcome::Done {
            result,
            created_now,
        } => (result, created_now),
        Outcome::Busy { retry_in } => return Ok(Some(retry_in.min(BUSY_RETRY))),
    };

    let first = services
        .shipments
        .record_task(key, courier.name(), &task)
        .await?;
    if first {
        // Only the attempt that first stored the task marks the payload behind it: the audit
        // trail names exactly one creator.
        services
            .inbound
            .record_task(&record.source_inbound, &task.task_id)
            .await?;
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
