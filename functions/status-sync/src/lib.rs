//! status-sync: sync queue → the store. Writes each shipment's tracking number and URL back
//! to the channel the order came from (a Shopify fulfillment, a WooCommerce order note, an
//! Amazon shipment confirmation, the API's signed callback), once, through the same
//! idempotency protocol as task creation.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::reviews::ReviewItem;
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::domain::{ReviewReason, ShipmentKey};
use shared::error::Classify;
use shared::idempotency::{run_once, Outcome, ProtocolError};
use shared::messages::SyncEvent;
use shared::services::Services;
use shared::store::{StoreError, Tracking, WriteBack};
use std::time::Duration;

const BUSY_RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError<StoreError>),
    #[error("store credentials: {0}")]
    Credentials(#[from] shared::aws::secrets::SecretError),
    #[error("{0}")]
    Unprocessable(String),
}

impl Classify for SyncError {
    fn transience(&self) -> shared::error::Transience {
        match self {
            SyncError::Aws(e) => e.transience(),
            SyncError::Protocol(e) => e.transience(),
            SyncError::Credentials(e) => e.transience(),
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
            let SyncEvent::TrackingAssigned { shipment_key } = &event;
            let span = tracing::info_span!("status_sync", shipment = %shipment_key);
            tracing::Instrument::instrument(sync(services, shipment_key), span).await
        },
    )
    .await
}

async fn sync(services: &Services, key: &ShipmentKey) -> Result<(), Retry> {
    match write_tracking(services, key).await {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(Retry::After(wait)),
        Err(SyncError::Protocol(ProtocolError::Effect(StoreError::Rejected(message)))) => {
            open_review(services, key, ReviewReason::StoreRejected { message })
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

async fn write_tracking(
    services: &Services,
    key: &ShipmentKey,
) -> Result<Option<Duration>, SyncError> {
    let record = services
        .shipments
        .get(key)
        .await?
        .ok_or_else(|| SyncError::Unprocessable(format!("no shipment {key}")))?;
    if record.tracking_written_back.is_some() {
        return Ok(None);
    }
    let task = record
        .task
        .ok_or_else(|| SyncError::Unprocessable(format!("shipment {key} has no task yet")))?;
    let tracking = Tracking {
        number: task.tracking_number.clone(),
        url: task.tracking_url.clone(),
        company: shared::courier::display_name(record.courier.as_deref().unwrap_or("courier")),
    };

    let store = shared::store::writer(services, key)
        .await
        .map_err(ProtocolError::Effect)?;
    // The store call looks for an existing fulfillment with this tracking number before it
    // writes, so the protocol's own lookup has nothing to add.
    let outcome = run_once(
        &services.idempotency,
        &format!("tracking:{key}"),
        services.config.idempotency_lease,
        || async { Ok(None) },
        || store.write_tracking(key, &tracking),
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
    Ok(None)
}

async fn open_review(
    services: &Services,
    key: &ShipmentKey,
    reason: ReviewReason,
) -> Result<(), AwsError> {
    tracing::warn!(reason = %reason, "store refused the write-back; opening a review item");
    let mut item = ReviewItem::new(&format!("tracking:{key}"), "write_back", vec![reason]);
    item.order_key = Some(key.order_key());
    item.shipment_key = Some(key.to_string());
    services.reviews.open(&item).await.map(drop)
}
