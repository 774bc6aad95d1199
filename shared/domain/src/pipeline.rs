//! The steps every entrance shares once an order is read: admit a valid shipment (record it,
//! ask for its task or its update), file an invalid one for review, cancel an order's tasks.
//! normalize calls them for channel events; `courier-bridge review release` calls them for a
//! fixed draft, so a released item continues exactly like an event would.

use crate::messages::{TaskAction, TaskRequested};
use crate::ports::{Queue, ReviewInbox, ShipmentStore, StorageError};
use crate::record::Recorded;
use crate::review::{review_id, ReviewItem, SUPERSEDED};
use crate::{ReviewReason, Shipment, ShipmentDraft, ShipmentKey, ShipmentStatus};

/// What admitting, reviewing and cancelling read and write: the shipments, the review
/// inbox, and the queue that asks create-task for a courier task.
#[derive(Clone, Copy)]
pub struct Intake<'a> {
    pub shipments: &'a dyn ShipmentStore,
    pub reviews: &'a dyn ReviewInbox,
    pub tasks: &'a dyn Queue<TaskRequested>,
}

/// What admitting a shipment did, for the audit trail and the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    TaskRequested,
    /// Our own earlier attempt recorded it and may have died before asking for the task.
    TaskRequestedAgain,
    /// The task exists and the order changed: the task is to be updated.
    UpdateRequested,
    /// Our own earlier attempt recorded the edit and may have died before asking for the
    /// task's update.
    UpdateRequestedAgain,
    AlreadyHasTask,
    AlreadyRequested,
    /// A newer event already wrote this shipment.
    Stale,
    Cancelled,
}

impl Admitted {
    pub fn summary(self) -> &'static str {
        match self {
            Admitted::TaskRequested => "task requested",
            Admitted::TaskRequestedAgain => "task requested (retry)",
            Admitted::UpdateRequested => "task update requested",
            Admitted::UpdateRequestedAgain => "task update requested (retry)",
            Admitted::AlreadyHasTask => "duplicate: task already exists",
            Admitted::AlreadyRequested => "duplicate: task already requested",
            Admitted::Stale => "stale: a newer event already wrote this shipment",
            Admitted::Cancelled => "ignored: the order was cancelled",
        }
    }
}

/// What cancelling an order did to one of its shipments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelStep {
    /// No task existed: the shipment is cancelled here and no task will be created.
    CancelledBeforeTask(ShipmentKey),
    /// The courier is asked to cancel the task.
    CancelRequested(ShipmentKey),
    AlreadyDone(ShipmentKey),
}

impl Intake<'_> {
    /// Records a valid shipment as of an event at `event_ms` (from payload `source`) and asks
    /// for whatever the courier must do. Safe to repeat: the record is conditional and
    /// create-task is idempotent.
    pub async fn admit(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        source: &str,
    ) -> Result<Admitted, StorageError> {
        let (admitted, action) = self.record(shipment, event_ms, source).await?;
        // An open review of this shipment is answered by a valid event: close it so no one
        // releases stale data later. Closed before the courier's work is asked for: that
        // work may open the shipment's next item (an edit the driver is too far along
        // for), which must not be taken for the one this event answers.
        if matches!(
            admitted,
            Admitted::TaskRequested | Admitted::UpdateRequested
        ) {
            let id = review_id(&shipment.key.to_string());
            self.reviews
                .close(
                    &id,
                    SUPERSEDED,
                    &format!("a valid event arrived ({source})"),
                )
                .await?;
        }
        if let Some(action) = action {
            self.request(&shipment.key, action).await?;
        }
        Ok(admitted)
    }

    /// [`admit`] without closing the shipment's review item: for the release of that very item,
    /// which closes it itself (as released).
    pub async fn record_and_request(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        source: &str,
    ) -> Result<Admitted, StorageError> {
        let (admitted, action) = self.record(shipment, event_ms, source).await?;
        if let Some(action) = action {
            self.request(&shipment.key, action).await?;
        }
        Ok(admitted)
    }

    /// Records the shipment and says what the courier must do about it, if anything.
    async fn record(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        source: &str,
    ) -> Result<(Admitted, Option<TaskAction>), StorageError> {
        Ok(
            match self.shipments.record(shipment, event_ms, source).await? {
                Recorded::New | Recorded::Updated => {
                    // Written first, then the cancellation marker read: of this and a concurrent
                    // cancellation (which writes its marker first, then lists shipments), at least
                    // one sees the other.
                    let order_key = shipment.key.order_key();
                    if let Some(at) = self.shipments.order_cancelled_at(&order_key).await? {
                        if at >= event_ms {
                            self.cancel_shipment(&shipment.key).await?;
                            return Ok((Admitted::Cancelled, None));
                        }
                    }
                    (Admitted::TaskRequested, Some(TaskAction::Create))
                }
                Recorded::Edited => (Admitted::UpdateRequested, Some(TaskAction::Update)),
                Recorded::Kept(existing) if existing.cancel_requested => {
                    (Admitted::Cancelled, None)
                }
                Recorded::Kept(existing) if existing.source_event_ms > event_ms => {
                    (Admitted::Stale, None)
                }
                // This payload's edit is the record's data: the attempt that wrote it may
                // have died before asking for the update (create-task's update of data the
                // courier already has changes nothing).
                Recorded::Kept(existing)
                    if existing.task.is_some()
                        && existing.edited_after_task
                        && existing.source_inbound == source =>
                {
                    (Admitted::UpdateRequestedAgain, Some(TaskAction::Update))
                }
                Recorded::Kept(existing) if existing.task.is_some() => {
                    (Admitted::AlreadyHasTask, None)
                }
                Recorded::Kept(existing) if existing.source_inbound == source => {
                    (Admitted::TaskRequestedAgain, Some(TaskAction::Create))
                }
                Recorded::Kept(_) => (Admitted::AlreadyRequested, None),
            },
        )
    }

    pub async fn request(&self, key: &ShipmentKey, action: TaskAction) -> Result<(), StorageError> {
        self.tasks
            .send(&TaskRequested::new(key.clone(), action))
            .await
    }

    /// Files a draft that did not validate: one review item per shipment, keeping the draft so
    /// that an operator can fix it and release it. The draft is kept without its bidi
    /// controls ([`crate::text`]): the console shows it to dispatchers and the
    /// fix-my-address page to the customer.
    pub async fn file_for_review(
        &self,
        draft: &ShipmentDraft,
        reasons: Vec<ReviewReason>,
        event_ms: i64,
        source: &str,
    ) -> Result<ReviewItem, StorageError> {
        let key = draft.key();
        let mut item = ReviewItem::new(&key.to_string(), "shipment", reasons);
        item.order_key = Some(key.order_key());
        item.shipment_key = Some(key.to_string());
        item.source_inbound = Some(source.to_owned());
        item.draft = Some(draft.without_bidi_controls().into_owned());
        item.event_ms = Some(event_ms);
        self.reviews.open(&item).await?;
        Ok(item)
    }

    /// Cancels every shipment of the order as of an event at `event_ms`: the order's
    /// cancellation marker first (so older events arriving later create nothing), then each
    /// shipment's flag (so a task being created right now is cancelled right after), then the
    /// courier through create-task.
    pub async fn cancel_order(
        &self,
        order_key: &str,
        event_ms: i64,
    ) -> Result<Vec<CancelStep>, StorageError> {
        self.shipments
            .record_order_cancelled(order_key, event_ms)
            .await?;
        let mut steps = Vec::new();
        for existing in self.shipments.by_order(order_key).await? {
            let key = existing.shipment.key.clone();
            if existing.status.is_terminal() {
                steps.push(CancelStep::AlreadyDone(key));
                continue;
            }
            if let Some(step) = self.cancel_shipment(&key).await? {
                steps.push(step);
            }
        }
        Ok(steps)
    }

    /// Cancels one shipment: at once when it has no task, else through the courier.
    pub async fn cancel_shipment(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<CancelStep>, StorageError> {
        let Some(now) = self.shipments.request_cancel(key).await? else {
            return Ok(None);
        };
        if now.task.is_none()
            && self
                .shipments
                .set_status(key, &[ShipmentStatus::Pending], ShipmentStatus::Cancelled)
                .await?
        {
            Ok(Some(CancelStep::CancelledBeforeTask(key.clone())))
        } else {
            self.request(key, TaskAction::Cancel).await?;
            Ok(Some(CancelStep::CancelRequested(key.clone())))
        }
    }
}

/// An address nobody can place (the courier refused it, or the geocoder found nothing or
/// too much): a review item for the operator with the shipment's draft, to fix and
/// release, and a request to the customer (by e-mail, else SMS) through the outbox. The
/// reply goes to the operator. Composed on every call (the outbox keeps one per shipment),
/// so a retry after a failure between the review and the outbox still asks, once.
pub async fn ask_to_clarify(
    reviews: &dyn ReviewInbox,
    composer: crate::notify::Composer<'_>,
    record: &crate::ShipmentRecord,
    reason: ReviewReason,
) -> Result<(), StorageError> {
    use crate::notify::{Notified, Template};
    let key = &record.shipment.key;
    let mut item = ReviewItem::new(&key.to_string(), "shipment", vec![reason]);
    item.order_key = Some(key.order_key());
    item.shipment_key = Some(key.to_string());
    item.source_inbound = Some(record.source_inbound.clone());
    item.draft = Some(ShipmentDraft::from(&record.shipment));
    item.event_ms = Some(record.source_event_ms);
    let opened = reviews.open(&item).await?;
    let a = &record.shipment.address;
    let address_text = format!(
        "{}, {} {}, {}",
        a.street_line(),
        a.postal_code.as_deref().unwrap_or(""),
        a.city,
        a.country_code
    );
    let notified = composer
        .compose(
            record,
            key,
            Template::AddressClarification,
            Some(address_text),
        )
        .await?;
    match notified {
        Notified::Queued { first: true, .. } => {
            tracing::warn!(review = %item.id, opened, "address unresolved; customer asked to clarify")
        }
        Notified::Queued { .. } | Notified::AlreadyEnded { .. } => {
            tracing::info!(review = %item.id, "address still unresolved; customer already asked")
        }
        Notified::NoContact => {
            tracing::warn!(review = %item.id, "address unresolved and no way to reach the customer")
        }
    }
    Ok(())
}
