//! The stored shipment: the normalized shipment, its status and courier task, and what the
//! courier reported about the delivery. One per shipment key, written only by conditional
//! writes ([`crate::ports::ShipmentStore`]).

use crate::courier::{CourierKind, CourierTask, Failure, ProofOfDelivery};
use crate::{Money, Shipment, ShipmentStatus};

#[derive(Debug, Clone)]
pub struct ShipmentRecord {
    pub shipment: Shipment,
    pub status: ShipmentStatus,
    /// When the channel event that wrote this data happened (ms since the epoch).
    pub source_event_ms: i64,
    /// The inbound payload that last wrote this data (audit trail id).
    pub source_inbound: String,
    pub courier: Option<CourierKind>,
    pub task: Option<CourierTask>,
    pub version: u64,
    /// The store's reference for the tracking write-back, once done.
    pub tracking_written_back: Option<String>,
    /// The order was cancelled; the task (if any) is being cancelled at the courier.
    pub cancel_requested: bool,
    /// The data was last written by an edit made after the task existed (the event of
    /// `source_inbound`): the courier's copy had to be updated from it.
    pub edited_after_task: bool,
    /// Every status the courier moved the shipment to, with when it happened, in the order
    /// they were applied. A status missing here was skipped or arrived too late.
    pub transitions: Vec<(ShipmentStatus, i64)>,
    /// What the courier reported with the delivery and the failure.
    pub delivery: DeliveryFacts,
    /// The plan that gave the task to a driver, once applied at the courier.
    pub dispatch: Option<Dispatched>,
}

/// Which plan put the shipment on which driver's route, and when it is expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    pub plan_id: String,
    /// The plan's local day, YYYY-MM-DD.
    pub day: String,
    pub driver: String,
    pub eta_ms: i64,
    /// The fleet's IANA time zone: the customer's times are shown in it.
    pub time_zone: String,
}

/// The courier's account of the delivery, kept on the shipment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFacts {
    pub proof: Option<ProofOfDelivery>,
    pub failure: Option<Failure>,
    pub cod_collected: Option<Money>,
    pub delivery_cost: Option<Money>,
    /// Expected arrival (ms since the epoch) as of the latest event that gave one.
    pub eta_ms: Option<i64>,
    /// The courier's driver (worker) who had the task, as last reported: who holds its cash.
    pub driver: Option<String>,
    /// When the cash was collected (the event's time): the day it is reconciled on.
    pub cod_collected_ms: Option<i64>,
}

impl ShipmentRecord {
    /// Whether the shipment ever moved to `status` by a courier event.
    pub fn passed_through(&self, status: ShipmentStatus) -> bool {
        self.transitions.iter().any(|(s, _)| *s == status)
    }
}

/// What recording a shipment from a channel event did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// First time this shipment is seen.
    New,
    /// A newer event replaced a pending shipment's data.
    Updated,
    /// The task exists and this newer event changes what the courier was told: the data is
    /// replaced and the task must be updated.
    Edited,
    /// Not written: the stored shipment is newer than this event, unchanged, or cancelled.
    /// The stored record is returned.
    Kept(Box<ShipmentRecord>),
}

/// What storing a created task found.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStored {
    /// This call stored it first (a repeat with the same task is not first).
    pub first: bool,
    /// The order was cancelled while the task was being created: cancel it now.
    pub cancel_requested: bool,
    /// The shipment as recorded when the task was stored. An edit recorded before then and
    /// after the task was made from older data shows here; one recorded later finds the
    /// task and asks for its own update.
    pub shipment: Box<Shipment>,
}
