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

mod wiring;

pub use wiring::Config;

use aws::batch::{self, Backoff, Retry, RetryDelay};
use aws::metrics::Metrics;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::courier::{CourierError, CourierTask};
use domain::error::{Classify, Transience};
use domain::idempotency::{run_once, Outcome, ProtocolError};
use domain::messages::{OutboxQueued, SyncEvent, TaskAction, TaskRequested};
use domain::notify::Composer;
use domain::pipeline::Intake;
use domain::ports::{
    AuditTrail, Couriers, IdempotencyStore, Notifiers, Outbox, Queue, ReviewInbox, ShipmentStore,
    StoreRules,
};
use domain::record::ShipmentRecord;
use domain::{ReviewItem, ReviewReason, ShipmentKey, ShipmentStatus, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A duplicate that meets a live lease comes back after at most this long: the holder
/// usually finishes in milliseconds, and then the retry finds the stored result.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "create-task";

/// What create-task reads and writes, each behind the domain's port.
pub struct CreateTask {
    pub shipments: Arc<dyn ShipmentStore>,
    pub reviews: Arc<dyn ReviewInbox>,
    pub audit: Arc<dyn AuditTrail>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The tasks queue: a follow-up update or cancellation goes back on it.
    pub tasks: Arc<dyn Queue<TaskRequested>>,
    /// The tasks queue's retry delays (its messages' visibility).
    pub retries: Arc<dyn RetryDelay>,
    pub sync: Arc<dyn Queue<SyncEvent>>,
    pub rules: Arc<dyn StoreRules>,
    pub notifiers: Arc<dyn Notifiers>,
    pub outbox: Arc<dyn Outbox>,
    pub wake: Arc<dyn Queue<OutboxQueued>>,
    /// Signed links to the stack's tracking page for messages; `None`: the courier's.
    pub links: Option<Arc<dyn domain::ports::CustomerLinks>>,
    /// The deployment's courier (metered).
    pub couriers: Arc<dyn Couriers>,
    pub metrics: Metrics,
    pub lease: Duration,
    pub backoff: Backoff,
}

#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError<CourierError>),
    #[error("no shipment {0}")]
    UnknownShipment(String),
}

impl Classify for CreateError {
    fn transience(&self) -> Transience {
        match self {
            CreateError::Storage(e) => e.transience(),
            CreateError::Protocol(e) => e.transience(),
            CreateError::UnknownShipment(_) => Transience::Permanent,
        }
    }
}

impl From<CourierError> for CreateError {
    fn from(e: CourierError) -> Self {
        CreateError::Protocol(ProtocolError::Effect(e))
    }
}

impl CreateError {
    /// The courier's own answer, when that is what failed.
    fn courier(&self) -> Option<&CourierError> {
        match self {
            CreateError::Protocol(ProtocolError::Effect(e)) => Some(e),
            _ => None,
        }
    }
}

/// Where an attempt to create a task stopped before the courier was called.
enum Before {
    /// Nothing to do (a task exists, the order is cancelled, the shipment is not waiting).
    Done,
    /// The shipment waits for its task.
    Create(Box<ShipmentRecord>),
}

impl CreateTask {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        batch::process(event, self.retries.as_ref(), self.backoff, |record| async move {
            let request: TaskRequested = batch::parse_body(&record)?;
            let span = tracing::info_span!("create_task", shipment = %request.shipment_key, action = ?request.action);
            self.act(&request).instrument(span).await
        })
        .await
    }

    fn intake(&self) -> Intake<'_> {
        Intake {
            shipments: self.shipments.as_ref(),
            reviews: self.reviews.as_ref(),
            tasks: self.tasks.as_ref(),
        }
    }

    fn composer(&self) -> Composer<'_> {
        Composer {
            rules: self.rules.as_ref(),
            notifiers: self.notifiers.as_ref(),
            outbox: self.outbox.as_ref(),
            wake: self.wake.as_ref(),
            links: self.links.as_deref(),
        }
    }

    async fn act(&self, request: &TaskRequested) -> Result<(), Retry> {
        let key = &request.shipment_key;
        let result = match request.action {
            TaskAction::Create => self.create(key).await,
            TaskAction::Update => self.update(key).await.map(|()| None),
            TaskAction::Cancel => self.cancel(key).await.map(|()| None),
        };
        let error = match result {
            Ok(None) => return Ok(()),
            Ok(Some(wait)) => return Err(Retry::After(wait)),
            Err(e) => e,
        };
        let review = match error.courier() {
            Some(CourierError::Partner(refusal @ domain::PartnerError::Rejected { .. })) => {
                Some(ReviewReason::CourierRejected {
                    status: refusal.rejected_status().unwrap_or(0),
                    message: match refusal {
                        domain::PartnerError::Rejected { message, .. } => message.clone(),
                        _ => refusal.to_string(),
                    },
                })
            }
            Some(CourierError::TooLate { status }) => Some(match request.action {
                TaskAction::Cancel => ReviewReason::CancelAfterPickup {
                    status: status.clone(),
                },
                _ => ReviewReason::EditAfterPickup {
                    status: status.clone(),
                    changed: vec!["shipment".into()],
                },
            }),
            Some(CourierError::AddressUnresolved { ambiguous, message }) => {
                return self
                    .ask_customer(key, *ambiguous, message.clone())
                    .await
                    .map_err(Retry::backoff);
            }
            _ => None,
        };
        match (review, error) {
            (Some(reason), _) => self.open_review(key, reason).await.map_err(Retry::backoff),
            (None, CreateError::UnknownShipment(key)) => {
                Err(Retry::Poison(format!("no shipment {key}")))
            }
            (None, e) => Err(Retry::classified(
                &e,
                e.courier().and_then(CourierError::retry_after),
            )),
        }
    }

    /// Creates the shipment's task once. `Ok(Some(wait))`: another attempt holds the work;
    /// come back after `wait`.
    async fn create(&self, key: &ShipmentKey) -> Result<Option<Duration>, CreateError> {
        let record = match self.before_creating(key).await? {
            Before::Done => return Ok(None),
            Before::Create(record) => record,
        };
        let courier = self.couriers.courier().await?;
        let reference = key.to_string();
        let outcome = run_once(
            self.idempotency.as_ref(),
            &format!("task:{reference}"),
            self.lease,
            || courier.find_by_reference(&reference),
            || courier.create_task(&reference, &record.shipment),
        )
        .await?;
        let (task, created_now) = match outcome {
            Outcome::Done {
                result,
                created_now,
            } => (result, created_now),
            Outcome::Busy { retry_in } => {
                self.duplicate(key, "lease_held");
                return Ok(Some(retry_in.min(BUSY_RETRY)));
            }
        };
        if !created_now {
            // The protocol found the task (stored, or at the courier after a takeover)
            // instead of creating a second one.
            self.duplicate(key, "already_created");
        }
        self.after_creating(key, &record, courier.kind(), &task)
            .await?;
        tracing::info!(
            task = %task.task_id,
            tracking = %task.tracking_number,
            created_now,
            courier = %courier.kind(),
            "courier task ready"
        );
        Ok(None)
    }

    /// What must hold before the courier is asked: no task yet, the order not cancelled,
    /// the shipment waiting for one.
    async fn before_creating(&self, key: &ShipmentKey) -> Result<Before, CreateError> {
        let record = self.current(key).await?;
        if let Some(task) = &record.task {
            // Done before. If the write-back has not happened, the request for it may have
            // been lost after the task was stored: ask again (status-sync is idempotent).
            if record.tracking_written_back.is_none() {
                self.request_sync(key).await?;
            }
            self.duplicate(key, "task_recorded");
            tracing::info!(task = %task.task_id, "task already exists");
            return Ok(Before::Done);
        }
        // The order's cancellation marker covers an older event that recorded this
        // shipment while the cancellation was being handled.
        let cancelled_at = self.shipments.order_cancelled_at(&key.order_key()).await?;
        if cancelled_at.is_some_and(|at| at >= record.source_event_ms) && !record.cancel_requested {
            self.intake().cancel_shipment(key).await?;
            tracing::info!("order cancelled; not creating its task");
            return Ok(Before::Done);
        }
        if record.cancel_requested {
            self.shipments
                .set_status(key, &[ShipmentStatus::Pending], ShipmentStatus::Cancelled)
                .await?;
            tracing::info!("order cancelled before its task was created; not creating it");
            return Ok(Before::Done);
        }
        if record.status != ShipmentStatus::Pending {
            tracing::info!(status = %record.status, "shipment is not waiting for a task");
            return Ok(Before::Done);
        }
        Ok(Before::Create(Box::new(record)))
    }

    /// Stores the task on the shipment, credits the payload behind it, and catches up with
    /// what changed meanwhile (a cancellation, an edit); then asks for the write-back.
    async fn after_creating(
        &self,
        key: &ShipmentKey,
        record: &ShipmentRecord,
        courier: domain::CourierKind,
        task: &CourierTask,
    ) -> Result<(), CreateError> {
        let stored = self.shipments.record_task(key, courier, task).await?;
        if stored.cancel_requested {
            tracing::info!(task = %task.task_id, "order cancelled during creation; cancelling the new task");
            self.intake().request(key, TaskAction::Cancel).await?;
        }
        if stored.first {
            // Once per task. The order became shippable at `source_event_ms`: the
            // channel's own time of the event the shipment was recorded from.
            self.metrics.order_to_task(
                key.channel,
                record.shipment.service,
                courier.as_str(),
                domain::clock::now_ms() - record.source_event_ms,
            );
            // Only the attempt that first stored the task marks the payload behind it: the
            // audit trail names exactly one creator.
            self.audit
                .record_task(&record.source_inbound, &task.task_id)
                .await?;
        }
        // A newer event may have replaced the shipment's data while the task was being
        // made from what we read (or the task found by reference was made from older
        // data): bring the courier up to date. The store answered with the data as of the
        // task's storing; an edit after that finds the task and asks for its own update.
        if stored.shipment.courier_facing_change(&record.shipment) {
            tracing::info!("the order changed while its task was being created; updating the task");
            self.intake().request(key, TaskAction::Update).await?;
        }
        self.request_sync(key).await?;
        Ok(())
    }

    async fn current(&self, key: &ShipmentKey) -> Result<ShipmentRecord, CreateError> {
        self.shipments
            .get(key)
            .await?
            .ok_or_else(|| CreateError::UnknownShipment(key.to_string()))
    }

    fn duplicate(&self, key: &ShipmentKey, stage: &str) {
        self.metrics
            .duplicate_creation_attempt(FUNCTION, key.channel.as_str(), stage);
    }

    /// Brings the courier's task up to date with the shipment as recorded now. A repeat
    /// sends the same data again, which the courier treats as the same task.
    async fn update(&self, key: &ShipmentKey) -> Result<(), CreateError> {
        let record = self.current(key).await?;
        let Some(task) = &record.task else {
            // No task yet: the create that is queued or running reads the new data itself.
            return Ok(());
        };
        if record.cancel_requested || record.status.is_terminal() {
            tracing::info!(status = %record.status, "edit after the end of the shipment; nothing to update");
            return Ok(());
        }
        if with_courier(record.status) {
            return Err(CourierError::TooLate {
                status: record.status.to_string(),
            }
            .into());
        }
        let courier = self.couriers.courier().await?;
        courier
            .update_task(&task.task_id, &key.to_string(), &record.shipment)
            .await?;
        tracing::info!(task = %task.task_id, version = record.version, "courier task updated");
        Ok(())
    }

    /// Cancels the courier's task; the shipment becomes Cancelled once the courier agrees.
    async fn cancel(&self, key: &ShipmentKey) -> Result<(), CreateError> {
        let record = self.current(key).await?;
        if record.status == ShipmentStatus::Cancelled {
            return Ok(());
        }
        let Some(task) = &record.task else {
            self.shipments
                .set_status(key, &[ShipmentStatus::Pending], ShipmentStatus::Cancelled)
                .await?;
            return Ok(());
        };
        if record.status.is_terminal() || with_courier(record.status) {
            return Err(CourierError::TooLate {
                status: record.status.to_string(),
            }
            .into());
        }
        let courier = self.couriers.courier().await?;
        courier.cancel_task(&task.task_id).await?;
        self.shipments
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

    /// The courier cannot place the address: a review item for the operator, and a
    /// request to the customer through the outbox ([`domain::pipeline::ask_to_clarify`]).
    async fn ask_customer(
        &self,
        key: &ShipmentKey,
        ambiguous: bool,
        message: String,
    ) -> Result<(), StorageError> {
        let reason = if ambiguous {
            ReviewReason::AddressAmbiguous { message }
        } else {
            ReviewReason::AddressNotFound { message }
        };
        let Some(record) = self.shipments.get(key).await? else {
            return self.open_review(key, reason).await;
        };
        domain::pipeline::ask_to_clarify(self.reviews.as_ref(), self.composer(), &record, reason)
            .await
    }

    async fn request_sync(&self, key: &ShipmentKey) -> Result<(), StorageError> {
        self.sync
            .send(&SyncEvent::TrackingAssigned {
                shipment_key: key.clone(),
            })
            .await
    }

    async fn open_review(
        &self,
        key: &ShipmentKey,
        reason: ReviewReason,
    ) -> Result<(), StorageError> {
        tracing::warn!(reason = %reason, "courier refused the task; opening a review item");
        let mut item = ReviewItem::new(&key.to_string(), "task", vec![reason]);
        item.order_key = Some(key.order_key());
        item.shipment_key = Some(key.to_string());
        self.reviews.open(&item).await.map(drop)
    }
}

/// The courier's picked-up-or-later statuses, as far as status sync has told us. The
/// courier's own answer (`TooLate`) is the authority; this only saves a call.
fn with_courier(status: ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::PickedUp | ShipmentStatus::OutForDelivery
    )
}

#[cfg(test)]
mod tests;
