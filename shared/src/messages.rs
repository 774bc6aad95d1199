//! The messages between the functions, one type per queue. They carry references, not
//! payloads: the audit trail and the shipments table hold the data, so a message stays small
//! and a redriven one reads the current state.

use crate::domain::ShipmentKey;
use serde::{Deserialize, Serialize};

/// Intake queue → normalize: a verified payload stored in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReceived {
    pub inbound_id: String,
    pub channel: String,
    pub store: String,
    pub topic: String,
}

/// Tasks queue → create-task: this shipment needs its courier task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRequested {
    pub shipment_key: ShipmentKey,
}

/// Sync queue → status-sync: something the store and the customer should learn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The courier task exists: write its tracking back to the store.
    TrackingAssigned { shipment_key: ShipmentKey },
}
