//! The shipment's life, and who may move it (DESIGN.md, Statuses).
//!
//! Events arrive late, twice and out of order, so the rule is monotonic: a shipment only
//! moves forward along its path, and a repeated event changes nothing.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShipmentStatus {
    /// Recorded and valid, no courier task yet.
    Pending,
    Created,
    Assigned,
    PickedUp,
    OutForDelivery,
    Delivered,
    Failed,
    Returned,
    NeedsClarification,
    Cancelled,
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    System,
    Dispatcher,
    Courier,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 10] = [
        ShipmentStatus::Pending,
        ShipmentStatus::Created,
        ShipmentStatus::Assigned,
        ShipmentStatus::PickedUp,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::Failed,
        ShipmentStatus::Returned,
        ShipmentStatus::NeedsClarification,
        ShipmentStatus::Cancelled,
    ];

    /// Position on the forward path; terminal states share the last rank.
    fn rank(self) -> u8 {
        match self {
            ShipmentStatus::Pending | ShipmentStatus::NeedsClarification => 0,
            ShipmentStatus::Created => 1,
            ShipmentStatus::Assigned => 2,
            ShipmentStatus::PickedUp => 3,
            ShipmentStatus::OutForDelivery => 4,
            ShipmentStatus::Delivered
            | ShipmentStatus::Failed
            | ShipmentStatus::Returned
            | ShipmentStatus::Cancelled => 5,
        }
    }

    pub fn is_terminal(self) -> bool {
        self.rank() == 5
    }

    /// Whether `actor` may move a shipment from `self` to `to`. Repeats and backward moves
    /// are refused: the caller treats them as "nothing to do".
    pub fn may_become(self, to: ShipmentStatus, actor: Actor) -> bool {
        use ShipmentStatus::*;
        // A failed delivery ends the courier's attempt but not the parcel's journey: it may
        // still go back to the sender.
        if (self, to, actor) == (Failed, Returned, Actor::Courier) {
            return true;
        }
        if self == to || self.is_terminal() {
            return false;
        }
        match (actor, to) {
            (Actor::System, Created) => matches!(self, Pending),
            (Actor::System, NeedsClarification) => matches!(self, Pending),
            (Actor::Dispatcher, Pending) => matches!(self, NeedsClarification),
            (Actor::Dispatcher, Cancelled) => true,
            (Actor::Dispatcher, Assigned) => self.rank() < Assigned.rank() && self != Pending,
            (Actor::Courier, Assigned | PickedUp | OutForDelivery | Delivered | Failed) => {
                self != Pending && self != NeedsClarification && self.rank() < to.rank()
            }
            (Actor::Courier, Returned) => matches!(self, Failed | OutForDelivery | PickedUp),
            _ => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::Pending => "Pending",
            ShipmentStatus::Created => "Created",
            ShipmentStatus::Assigned => "Assigned",
            ShipmentStatus::PickedUp => "PickedUp",
            ShipmentStatus::OutForDelivery => "OutForDelivery",
            ShipmentStatus::Delivered => "Delivered",
            ShipmentStatus::Failed => "Failed",
            ShipmentStatus::Returned => "Returned",
            ShipmentStatus::NeedsClarification => "NeedsClarification",
            ShipmentStatus::Cancelled => "Cancelled",
        }
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Actor::*, ShipmentStatus::*};

    #[test]
    fn the_system_creates_tasks_only_for_pending_shipments() {
        assert!(Pending.may_become(Created, System));
        assert!(
            !Created.may_become(Created, System),
            "a repeat changes nothing"
        );
        assert!(!NeedsClarification.may_become(Created, System));
        assert!(!Pending.may_become(Created, Courier));
    }

    #[test]
    fn courier_events_only_move_forward() {
        assert!(Created.may_become(Assigned, Courier));
        assert!(
            Assigned.may_become(Delivered, Courier),
            "missed steps may be skipped"
        );
        assert!(
            !OutForDelivery.may_become(PickedUp, Courier),
            "a late event never moves back"
        );
        assert!(
            !Delivered.may_become(Failed, Courier),
            "terminal states are final"
        );
        assert!(
            Failed.may_become(Returned, Courier),
            "a failed parcel goes back to the sender"
        );
        assert!(!Returned.may_become(Failed, Courier));
        assert!(!Delivered.may_become(Returned, Courier));
        assert!(
            !Pending.may_become(Assigned, Courier),
            "no task, no courier event"
        );
    }

    #[test]
    fn only_dispatchers_cancel_or_release_a_review() {
        assert!(OutForDelivery.may_become(Cancelled, Dispatcher));
        assert!(!OutForDelivery.may_become(Cancelled, Courier));
        assert!(NeedsClarification.may_become(Pending, Dispatcher));
        assert!(!NeedsClarification.may_become(Pending, System));
    }
}
