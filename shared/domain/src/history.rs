//! The shipment events table: every courier event about a shipment, once each, keyed by
//! shipment and (event time, event id) so a query returns the history in the order things
//! happened, whatever order the webhooks arrived in.

use crate::courier::CourierKind;
use crate::ShipmentStatus;

/// One courier event as kept in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When the courier says it happened, ms since the epoch.
    pub at_ms: i64,
    /// The audit-trail id of the webhook that carried it (unique per event).
    pub event_id: String,
    pub courier: CourierKind,
    /// The courier's own name for it ("taskCompleted", "delivered#5 (evt_…)").
    pub courier_event: String,
    /// The status it asked for, if any.
    pub status: Option<ShipmentStatus>,
}
