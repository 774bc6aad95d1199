//! The messages between the functions, one type per queue. They carry references, not
//! payloads: the audit trail and the shipments table hold the data, so a message stays small
//! and a redriven one reads the current state.

use crate::{CourierKind, ShipmentKey};
use serde::{Deserialize, Serialize};

/// Intake queue → normalize: a verified payload stored in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReceived {
    pub inbound_id: String,
    pub channel: String,
    pub store: String,
    pub topic: String,
}

/// Tasks queue → create-task: this shipment's courier task must be created, brought up to
/// date with the shipment, or cancelled. The action reads the current shipment record, so a
/// late or repeated message does what the record says now, not what it said then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRequested {
    pub shipment_key: ShipmentKey,
    #[serde(default)]
    pub action: TaskAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    #[default]
    Create,
    /// The order was edited after its task was created.
    Update,
    /// The order was cancelled.
    Cancel,
}

impl TaskRequested {
    pub fn new(shipment_key: ShipmentKey, action: TaskAction) -> Self {
        TaskRequested {
            shipment_key,
            action,
        }
    }
}

/// Outbox queue → notify: this outbox message (in the outbox table) is ready to send. The
/// message carries only the id: a repeat finds the item already sent and does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxQueued {
    pub outbox_id: String,
}

/// Sync queue → status-sync: something the store and the customer should learn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The courier task exists: write its tracking back to the store.
    TrackingAssigned { shipment_key: ShipmentKey },
    /// A courier webhook, verified and stored in the audit trail by webhook-intake.
    CourierReported {
        inbound_id: String,
        courier: CourierKind,
    },
}
