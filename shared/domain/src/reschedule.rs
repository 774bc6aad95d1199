//! A customer picks another of the store's delivery slots. Before the driver has the parcel,
//! the shipment is recorded again with the new window, and create-task brings the courier's
//! task up to date once (an update repeating what the courier has changes nothing). After a
//! failed attempt the courier's task is over: the choice becomes a review item for a
//! dispatcher to arrange the second attempt. With the driver, delivered or ended, nothing
//! changes and the customer is told why.

use crate::pipeline::{Admitted, Intake};
use crate::ports::{ReviewInbox, StorageError};
use crate::record::ShipmentRecord;
use crate::review::{review_id, ReviewItem, ReviewReason};
use crate::rules::Slot;
use crate::shipment::DeliveryWindow;
use crate::ShipmentStatus;

/// What a reschedule did, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rescheduled {
    /// The shipment has the new window; the courier's task is being updated (or will be
    /// created with it).
    WindowChanged { admitted: Admitted },
    /// The attempt failed: a dispatcher arranges a new one in the slot.
    RedeliveryRequested { item_id: String },
    /// The driver has the parcel: its time cannot change now.
    WithDriver,
    /// It was delivered.
    Delivered,
    /// Cancelled or returned to the store.
    Ended,
}

/// The review item a redelivery request opens: one per shipment.
pub fn redelivery_item_id(record: &ShipmentRecord) -> String {
    review_id(&format!("{}/redelivery", record.shipment.key))
}

/// Reschedules `record`'s shipment into `slot` (one the store offers, checked by the caller),
/// as of `now_ms`; `slot_text` is the slot as the customer saw it.
pub async fn reschedule(
    intake: &Intake<'_>,
    reviews: &dyn ReviewInbox,
    record: &ShipmentRecord,
    slot: Slot,
    slot_text: &str,
    now_ms: i64,
) -> Result<Rescheduled, StorageError> {
    use ShipmentStatus::*;
    match record.status {
        PickedUp | OutForDelivery => Ok(Rescheduled::WithDriver),
        Delivered => Ok(Rescheduled::Delivered),
        Cancelled | Returned => Ok(Rescheduled::Ended),
        _ if record.cancel_requested => Ok(Rescheduled::Ended),
        Failed => {
            let key = record.shipment.key.to_string();
            let mut item = ReviewItem::new(
                &format!("{key}/redelivery"),
                "shipment",
                vec![ReviewReason::RedeliveryRequested {
                    slot: slot_text.to_owned(),
                }],
            );
            item.shipment_key = Some(key);
            item.order_key = Some(record.shipment.key.order_key());
            reviews.open(&item).await?;
            tracing::warn!(review = %item.id, "delivery failed; the customer asks for a new attempt");
            Ok(Rescheduled::RedeliveryRequested { item_id: item.id })
        }
        Pending | Created | Assigned | NeedsClarification => {
            let (Some(start), Some(end)) = (at(slot.start_ms), at(slot.end_ms)) else {
                return Err(StorageError::corrupt(
                    record.shipment.key.to_string(),
                    "a slot outside the representable time",
                ));
            };
            let mut shipment = record.shipment.clone();
            shipment.window = Some(DeliveryWindow { start, end });
            // The customer's choice is the newest word on the window; its source names
            // the slot, so the same choice again is recognised as the same change.
            let source = format!("reschedule:{}:{}", record.shipment.key, slot.start_ms);
            let event_ms = now_ms.max(record.source_event_ms + 1);
            let admitted = intake
                .record_and_request(&shipment, event_ms, &source)
                .await?;
            tracing::info!(
                admitted = admitted.summary(),
                "the customer rescheduled the delivery"
            );
            Ok(Rescheduled::WindowChanged { admitted })
        }
    }
}

fn at(ms: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}
