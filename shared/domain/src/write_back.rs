//! What goes back to the store an order came from: the tracking, then each delivery status
//! the store can show. The store writers (Shopify fulfillments, WooCommerce notes, Amazon's
//! shipment confirmation, the generic API's callbacks) implement
//! [`crate::ports::StoreWriter`] in `courier-bridge-partners`.

use crate::courier::{Failure, ProofOfDelivery};
use crate::ShipmentStatus;
use serde::{Deserialize, Serialize};

/// The tracking a store shows its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub url: Option<String>,
    /// The carrier name the store displays.
    pub company: String,
}

/// How a write-back ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteBack {
    /// We wrote it now; `reference` is the store's id for what was written.
    Written { reference: String },
    /// The store already shows this tracking (an earlier attempt got through).
    AlreadyThere { reference: String },
}

/// A delivery status for the store to show, with what the courier reported about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// One of the courier's statuses: Assigned, PickedUp, OutForDelivery, Delivered,
    /// Failed, Returned.
    pub status: ShipmentStatus,
    /// When the courier says it happened, ms since the epoch.
    pub happened_at_ms: i64,
    pub tracking: Tracking,
    /// The store's reference from the tracking write-back (a Shopify fulfillment gid, a
    /// WooCommerce note id): status events attach to it.
    pub tracking_reference: String,
    /// With Failed: the courier's reason.
    pub failure: Option<Failure>,
    /// With Delivered: signature, photos, recipient, place and time.
    pub proof: Option<ProofOfDelivery>,
    /// Expected arrival, ms since the epoch, when the courier gave one.
    pub eta_ms: Option<i64>,
}

impl StatusReport {
    /// Whether stores are told about this status: the courier's progress and outcomes
    /// (Assigned, PickedUp, OutForDelivery, Delivered, Failed, Returned). A cancellation is
    /// the store's or a dispatcher's own act and the review states are ours, so every writer
    /// answers [`StatusWriteBack::NotShown`] for them without calling the store.
    pub fn is_shown(&self) -> bool {
        StatusReport::shows(self.status)
    }

    /// [`StatusReport::is_shown`] for a status.
    pub fn shows(status: ShipmentStatus) -> bool {
        matches!(
            status,
            ShipmentStatus::Assigned
                | ShipmentStatus::PickedUp
                | ShipmentStatus::OutForDelivery
                | ShipmentStatus::Delivered
                | ShipmentStatus::Failed
                | ShipmentStatus::Returned
        )
    }
}

/// A courier's failure reason for people: a code such as `NO_ANSWER` reads "no answer";
/// free text stays as the courier wrote it. The driver's notes are left out: they are
/// free text about the customer, written for the dispatcher.
pub fn failure_reason_text(failure: Option<&Failure>) -> Option<String> {
    let reason = failure?.reason.as_deref()?.trim();
    if reason.is_empty() {
        return None;
    }
    let is_code = reason
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    Some(if is_code {
        reason.replace('_', " ").to_ascii_lowercase()
    } else {
        reason.to_owned()
    })
}

/// How a status write-back ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusWriteBack {
    /// Written now; `reference` is the store's id for it (a fulfillment event, a note).
    Written { reference: String },
    /// An earlier attempt got through; the store shows it already.
    AlreadyThere { reference: String },
    /// The channel has no place for this status (Amazon follows the carrier itself once the
    /// shipment is confirmed): nothing to write, by design.
    NotShown,
}
