//! What a courier reports about one of its tasks, in courier-bridge's terms. Each courier
//! module turns its own webhook into a [`CourierEvent`]; status-sync never sees a courier's
//! field names.

use crate::{Actor, Money, ShipmentStatus};
use serde::{Deserialize, Serialize};

/// What a courier's webhook says about one of its tasks, in courier-bridge's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourierEvent {
    pub courier: super::CourierKind,
    /// The courier's own name for the event ("taskCompleted"), for logs and the event record.
    pub courier_event: String,
    pub kind: EventKind,
    /// The courier's task id.
    pub task_id: String,
    /// Our idempotency reference, when the task carries it.
    pub reference: Option<String>,
    /// When the event happened, ms since the epoch.
    pub time_ms: Option<i64>,
    /// The status the shipment should move to, if any. Apply it through
    /// `ShipmentStatus::may_become(to, event.actor())`: repeats and backward moves are refused.
    pub status: Option<ShipmentStatus>,
    /// Why the delivery failed, with [`ShipmentStatus::Failed`].
    pub failure: Option<Failure>,
    /// With [`ShipmentStatus::Delivered`].
    pub proof: Option<ProofOfDelivery>,
    /// Expected arrival, ms since the epoch.
    pub eta_ms: Option<i64>,
    pub tracking_url: Option<String>,
    pub worker_id: Option<String>,
    /// Cash the driver collected on delivery, as the courier reports it (COD reconciliation).
    #[serde(default)]
    pub cod_collected: Option<Money>,
    /// What the courier charges for this delivery, when it says.
    #[serde(default)]
    pub delivery_cost: Option<Money>,
}

impl CourierEvent {
    /// Who asks for [`CourierEvent::status`]: a cancellation (a deleted task) is a
    /// dispatcher's act; everything else is the courier's.
    pub fn actor(&self) -> Actor {
        match self.status {
            Some(ShipmentStatus::Cancelled) => Actor::Dispatcher,
            _ => Actor::Courier,
        }
    }
}

/// What happened to the task, as the courier reports it (the status is decided separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Cloned,
    Assigned,
    /// Taken off its driver: no status change (statuses never move back).
    Unassigned,
    Started,
    Eta {
        seconds: Option<f64>,
    },
    Arrival {
        distance_m: Option<f64>,
    },
    Delayed {
        seconds: Option<f64>,
    },
    Completed,
    Failed,
    /// The parcel went back to the sender after a failed delivery.
    Returned,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The courier's reason code (Onfleet's `failureReason`), absent when it says none.
    pub reason: Option<String>,
    pub notes: Option<String>,
}

/// Evidence of a delivery. Upload ids are the courier's (Onfleet serves them as images, see
/// the get-single-task page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofOfDelivery {
    pub signature_upload_id: Option<String>,
    /// In the courier's order, without duplicates.
    pub photo_upload_ids: Vec<String>,
    /// The name the signer typed.
    pub signature_text: Option<String>,
    /// The task's (first) recipient: whom the parcel was for, not a verified receiver.
    pub recipient_name: Option<String>,
    /// The driver's completion notes.
    pub notes: Option<String>,
    pub location: Option<PodLocation>,
    /// When the task was completed, ms since the epoch.
    pub completed_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PodLocation {
    pub lng: f64,
    pub lat: f64,
    pub source: LocationSource,
}

/// Where a [`PodLocation`] comes from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// The driver's position at completion (`completionDetails.lastLocation`).
    DriverAtCompletion,
    /// The latest completion event with a position (arrival, departure).
    CompletionEvent,
    /// The task's destination: where the parcel was to go, not a position of the driver.
    Destination,
}
