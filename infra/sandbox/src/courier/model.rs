//! Courier task types: the wire representation and the public snapshot view.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    /// E.164, e.g. `+14155550100`.
    pub phone: String,
    pub email: Option<String>,
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
/// (`created`, `assigned`, `picked_up`, `out_for_delivery`, `delivered`) so assertions read
/// like the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourierTaskView {
    pub id: String,
    pub reference: String,
    pub tracking_number: String,
    pub tracking_url: String,
    pub status: String,
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
    pub status_history: Vec<StatusEvent>,
}

/// Where a task is in the simulated driver's day; each step is one `advance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TaskStatus {
    Created,
    Assigned,
    PickedUp,
    OutForDelivery,
    Delivered,
}

impl TaskStatus {
    pub(crate) fn next(self) -> Option<Self> {
        match self {
            Self::Created => Some(Self::Assigned),
            Self::Assigned => Some(Self::PickedUp),
            Self::PickedUp => Some(Self::OutForDelivery),
            Self::OutForDelivery => Some(Self::Delivered),
            Self::Delivered => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Assigned => "assigned",
            Self::PickedUp => "picked_up",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
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
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct StatusChange {
    pub(crate) status: TaskStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
}

/// A validated create request: everything a task needs except what the courier assigns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NewTask {
    pub(crate) reference: String,
    pub(crate) recipient: Recipient,
    pub(crate) destination: Destination,
    pub(crate) parcel: Parcel,
    pub(crate) cash_on_delivery: Option<Money>,
    pub(crate) notes: Option<String>,
    pub(crate) complete_after: Option<OffsetDateTime>,
    pub(crate) complete_before: Option<OffsetDateTime>,
}

/// A task exactly as the courier API returns it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) tracking_number: String,
    pub(crate) tracking_url: String,
    pub(crate) status: TaskStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    pub(crate) recipient: Recipient,
    pub(crate) destination: Destination,
    pub(crate) parcel: Parcel,
    pub(crate) cash_on_delivery: Option<Money>,
    pub(crate) notes: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) complete_after: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) complete_before: Option<OffsetDateTime>,
    pub(crate) status_history: Vec<StatusChange>,
}

impl Task {
    pub(crate) fn view(&self, idempotency_key: Option<&str>) -> CourierTaskView {
        CourierTaskView {
            id: self.id.clone(),
            reference: self.reference.clone(),
            tracking_number: self.tracking_number.clone(),
            tracking_url: self.tracking_url.clone(),
            status: self.status.as_str().to_owned(),
            idempotency_key: idempotency_key.map(str::to_owned),
            created_at: self.created_at,
            recipient: self.recipient.clone(),
            destination: self.destination.clone(),
            parcel: self.parcel.clone(),
            cash_on_delivery: self.cash_on_delivery.clone(),
            notes: self.notes.clone(),
            complete_after: self.complete_after,
            complete_before: self.complete_before,
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
    fn as_str_matches_the_wire_format() {
        for status in [TaskStatus::Created, TaskStatus::OutForDelivery] {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::from(status.as_str()))
            );
        }
    }
}
