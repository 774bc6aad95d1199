//! Courier task types: the wire representation and the public snapshot view.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    /// E.164, e.g. `+14155550100`. Absent when a marketplace masks it; then
    /// `alternate_contact` is set.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Another way to reach the customer (e.g. a marketplace relay address).
    pub alternate_contact: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub pieces: u32,
    pub weight_grams: Option<u64>,
}

/// An amount in the currency's minor unit (cents for USD).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: u64,
    /// ISO 4217, upper case.
    pub currency: String,
}

/// One entry of a task's status history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// snake_case, as on the wire.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A snapshot of one courier task, as returned by [`crate::Sandbox::tasks`].
///
/// Serialises like the wire task plus `idempotency_key`. Statuses are the wire strings
/// (`created`, `assigned`, `picked_up`, `out_for_delivery`, `delivered`, `failed`,
/// `returned`, `cancelled`) so assertions read like the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourierTaskView {
    pub id: String,
    pub reference: String,
    pub tracking_number: String,
    pub tracking_url: String,
    pub status: String,
    /// The driver the task is assigned to, from `assigned` on.
    pub driver_id: Option<String>,
    /// The `Idempotency-Key` the task was created with.
    pub idempotency_key: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub recipient: Recipient,
    pub destination: Destination,
    pub parcel: Parcel,
    pub cash_on_delivery: Option<Money>,
    pub notes: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub complete_after: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub complete_before: Option<OffsetDateTime>,
    /// One of the documented service names, or `None` when the request named none.
    pub service: Option<String>,
    /// How many updates changed the task; an update repeating the current details does not
    /// count.
    pub updates: u32,
    pub status_history: Vec<StatusEvent>,
}

/// Where a task is in the simulated driver's day; each step is one `advance`. `Cancelled`
/// is reached only through a cancellation, before pickup; `Failed` only through an
/// `advance` that reports a failed attempt, from `OutForDelivery`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TaskStatus {
    Created,
    Assigned,
    PickedUp,
    OutForDelivery,
    Delivered,
    /// The driver tried and could not deliver; the parcel goes back next.
    Failed,
    /// Back with the sender after a failed attempt. Final.
    Returned,
    Cancelled,
}

impl TaskStatus {
    /// The status a plain `advance` moves to.
    pub(crate) fn next(self) -> Option<Self> {
        match self {
            Self::Created => Some(Self::Assigned),
            Self::Assigned => Some(Self::PickedUp),
            Self::PickedUp => Some(Self::OutForDelivery),
            Self::OutForDelivery => Some(Self::Delivered),
            Self::Failed => Some(Self::Returned),
            Self::Delivered | Self::Returned | Self::Cancelled => None,
        }
    }

    /// Whether the parcel has left the depot with a driver (or arrived, or come back): from
    /// then on the courier cannot change or call off the delivery through the API.
    pub(crate) fn is_past_pickup(self) -> bool {
        matches!(
            self,
            Self::PickedUp | Self::OutForDelivery | Self::Delivered | Self::Failed | Self::Returned
        )
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Assigned => "assigned",
            Self::PickedUp => "picked_up",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
        }
    }

    /// For humans, on the tracking page.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Created => "Order received",
            Self::Assigned => "Driver assigned",
            Self::PickedUp => "Picked up",
            Self::OutForDelivery => "Out for delivery",
            Self::Delivered => "Delivered",
            Self::Failed => "Delivery attempt failed",
            Self::Returned => "Returned to sender",
            Self::Cancelled => "Cancelled",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct StatusChange {
    pub(crate) status: TaskStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
}

/// What the driver is told about a delivery: everything a create sets and an update
/// replaces as a whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Delivery {
    pub(crate) recipient: Recipient,
    pub(crate) destination: Destination,
    pub(crate) parcel: Parcel,
    pub(crate) cash_on_delivery: Option<Money>,
    pub(crate) notes: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) complete_after: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) complete_before: Option<OffsetDateTime>,
    pub(crate) service: Option<String>,
}

/// A validated create request: everything a task needs except what the courier assigns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NewTask {
    pub(crate) reference: String,
    pub(crate) delivery: Delivery,
}

/// A validated update request. `reference`, when sent, must be the task's own: it guards
/// against an update addressed to the wrong task id.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskUpdate {
    pub(crate) reference: Option<String>,
    pub(crate) delivery: Delivery,
}

/// Why a delivery attempt failed, as the driver reported it (`advance` with
/// `"outcome": "failed"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FailedAttempt {
    /// One of [`super::advance::FAILURE_REASONS`].
    pub(crate) reason: String,
    pub(crate) notes: Option<String>,
}

/// What the driver reports with a step beyond the plain next status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DriverReport {
    /// `Some`: the attempt failed (only from `out_for_delivery`).
    pub(crate) failure: Option<FailedAttempt>,
    /// The cash collected on the step to `delivered`, when it differs from the task's
    /// cash-on-delivery amount.
    pub(crate) cod_collected_minor: Option<u64>,
    /// On the step to `assigned`: the driver who takes the task, instead of the roster's next.
    pub(crate) driver_id: Option<String>,
}

/// A task exactly as the courier API returns it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) tracking_number: String,
    pub(crate) tracking_url: String,
    pub(crate) status: TaskStatus,
    /// The driver the task is assigned to, from `assigned` on.
    pub(crate) driver_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    #[serde(flatten)]
    pub(crate) delivery: Delivery,
    pub(crate) updates: u32,
    pub(crate) status_history: Vec<StatusChange>,
    /// The failed attempt, once there was one; webhook events carry it. Not on the wire task.
    #[serde(skip)]
    pub(crate) failure: Option<FailedAttempt>,
    /// The cash the driver collected, once delivered with cash on delivery. Not on the wire
    /// task.
    #[serde(skip)]
    pub(crate) cod_collected_minor: Option<u64>,
}

impl Task {
    pub(crate) fn view(&self, idempotency_key: Option<&str>) -> CourierTaskView {
        let delivery = self.delivery.clone();
        CourierTaskView {
            id: self.id.clone(),
            reference: self.reference.clone(),
            tracking_number: self.tracking_number.clone(),
            tracking_url: self.tracking_url.clone(),
            status: self.status.as_str().to_owned(),
            driver_id: self.driver_id.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
            created_at: self.created_at,
            recipient: delivery.recipient,
            destination: delivery.destination,
            parcel: delivery.parcel,
            cash_on_delivery: delivery.cash_on_delivery,
            notes: delivery.notes,
            complete_after: delivery.complete_after,
            complete_before: delivery.complete_before,
            service: delivery.service,
            updates: self.updates,
            status_history: self
                .status_history
                .iter()
                .map(|change| StatusEvent {
                    status: change.status.as_str().to_owned(),
                    at: change.at,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TaskStatus;

    #[test]
    fn statuses_advance_in_order_and_stop_at_delivered() {
        let mut status = TaskStatus::Created;
        let mut seen = vec![status.as_str()];
        while let Some(next) = status.next() {
            status = next;
            seen.push(status.as_str());
        }
        assert_eq!(
            seen,
            [
                "created",
                "assigned",
                "picked_up",
                "out_for_delivery",
                "delivered"
            ]
        );
    }

    #[test]
    fn a_failed_attempt_advances_to_returned_which_is_final() {
        assert_eq!(TaskStatus::Failed.next(), Some(TaskStatus::Returned));
        assert_eq!(TaskStatus::Returned.next(), None);
        assert!(TaskStatus::Failed.is_past_pickup());
        assert!(TaskStatus::Returned.is_past_pickup());
    }

    #[test]
    fn cancelled_is_final_and_only_the_driver_s_statuses_are_past_pickup() {
        assert_eq!(TaskStatus::Cancelled.next(), None);
        assert!(!TaskStatus::Cancelled.is_past_pickup());
        assert!(!TaskStatus::Assigned.is_past_pickup());
        assert!(TaskStatus::PickedUp.is_past_pickup());
        assert!(TaskStatus::Delivered.is_past_pickup());
    }

    #[test]
    fn as_str_matches_the_wire_format() {
        for status in [
            TaskStatus::Created,
            TaskStatus::OutForDelivery,
            TaskStatus::Failed,
            TaskStatus::Returned,
            TaskStatus::Cancelled,
        ] {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::from(status.as_str()))
            );
        }
    }
}
