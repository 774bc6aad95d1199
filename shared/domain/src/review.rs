//! Why an order needs a person: machine-readable reasons, and the review inbox's items.
//! One open item per subject (an order, a shipment, or a payload that could not be read);
//! a repeat of the same problem counts on the open item instead of opening another.

use crate::ShipmentDraft;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ReviewReason {
    /// The payload is not what the channel's contract says (bad JSON, wrong shape).
    UnparseablePayload {
        error: String,
    },
    MissingAddress,
    MissingField {
        field: String,
    },
    MissingPhone,
    InvalidPhone {
        value: String,
    },
    InvalidEmail {
        value: String,
    },
    InvalidPostalCode {
        value: String,
        country: String,
    },
    InvalidCountry {
        value: String,
    },
    InvalidAmount {
        field: String,
        value: String,
        error: String,
    },
    InvalidDeliveryWindow {
        error: String,
    },
    NothingToShip,
    InvalidId {
        field: String,
        value: String,
    },
    InvalidDate {
        field: String,
        value: String,
        error: String,
    },
    /// A text field is longer than a courier, a driver or a customer is sent
    /// ([`crate::text`] documents each field's limit): the value is never cut to fit.
    /// `field` is the draft's path; `length` and `limit` count characters.
    TooLong {
        field: String,
        length: usize,
        limit: usize,
    },
    /// The marketplace masks the buyer's phone and gave no other way to reach them.
    MaskedPhone,
    /// The courier could not find the address: the customer is asked to clarify it.
    AddressNotFound {
        message: String,
    },
    /// The courier found several places for the address: the customer is asked to clarify it.
    AddressAmbiguous {
        message: String,
    },
    /// The order changed after the courier picked the parcel up: a dispatcher decides.
    EditAfterPickup {
        status: String,
        changed: Vec<String>,
    },
    /// The order was cancelled while the parcel is already with the courier.
    CancelAfterPickup {
        status: String,
    },
    /// The marketplace's latest ship date is near (or past) and the shipment is unconfirmed.
    ShipByAtRisk {
        ship_by: String,
    },
    /// The courier refused the task with a permanent (4xx) answer.
    CourierRejected {
        status: u16,
        message: String,
    },
    /// The store refused the write-back with a permanent answer.
    StoreRejected {
        message: String,
    },
    /// The day's plan gives the shipment to no driver; `reason` is a
    /// [`crate::dispatch::UnplannedReason`] code (zone, skill, capacity, ...).
    NotPlanned {
        day: String,
        reason: String,
        detail: String,
    },
    /// After a failed attempt the customer chose a new delivery time on the reschedule
    /// page: a dispatcher arranges the second attempt (`slot` as the customer saw it).
    RedeliveryRequested {
        slot: String,
    },
}

impl ReviewReason {
    /// Whether the customer, not the operator, can answer it: they get a clarification
    /// request through the notification outbox.
    pub fn asks_customer(&self) -> bool {
        matches!(
            self,
            ReviewReason::AddressNotFound { .. } | ReviewReason::AddressAmbiguous { .. }
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            ReviewReason::UnparseablePayload { .. } => "unparseable_payload",
            ReviewReason::MissingAddress => "missing_address",
            ReviewReason::MissingField { .. } => "missing_field",
            ReviewReason::MissingPhone => "missing_phone",
            ReviewReason::InvalidPhone { .. } => "invalid_phone",
            ReviewReason::InvalidEmail { .. } => "invalid_email",
            ReviewReason::InvalidPostalCode { .. } => "invalid_postal_code",
            ReviewReason::InvalidCountry { .. } => "invalid_country",
            ReviewReason::InvalidAmount { .. } => "invalid_amount",
            ReviewReason::InvalidDeliveryWindow { .. } => "invalid_delivery_window",
            ReviewReason::NothingToShip => "nothing_to_ship",
            ReviewReason::InvalidId { .. } => "invalid_id",
            ReviewReason::InvalidDate { .. } => "invalid_date",
            ReviewReason::TooLong { .. } => "too_long",
            ReviewReason::MaskedPhone => "masked_phone",
            ReviewReason::AddressNotFound { .. } => "address_not_found",
            ReviewReason::AddressAmbiguous { .. } => "address_ambiguous",
            ReviewReason::EditAfterPickup { .. } => "edit_after_pickup",
            ReviewReason::CancelAfterPickup { .. } => "cancel_after_pickup",
            ReviewReason::ShipByAtRisk { .. } => "ship_by_at_risk",
            ReviewReason::CourierRejected { .. } => "courier_rejected",
            ReviewReason::StoreRejected { .. } => "store_rejected",
            ReviewReason::NotPlanned { .. } => "not_planned",
            ReviewReason::RedeliveryRequested { .. } => "redelivery_requested",
        }
    }
}

impl ReviewReason {
    /// A reason as an operator needs it: its one-line text and the values behind it (the
    /// Display of a reason deliberately leaves values out, as it is also what logs show).
    pub fn described(&self) -> String {
        let mut text = self.to_string();
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) {
            let details: Vec<String> = fields
                .iter()
                .filter(|(name, _)| name.as_str() != "code")
                .map(|(name, value)| format!("{name}: {value}"))
                .collect();
            if !details.is_empty() {
                text.push_str(&format!(" ({})", details.join(", ")));
            }
        }
        text
    }
}

/// A one-line text for operators; the values themselves stay in the stored item, not in logs.
impl fmt::Display for ReviewReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewReason::MissingField { field } => write!(f, "missing {field}"),
            ReviewReason::InvalidAmount { field, .. } => write!(f, "invalid amount in {field}"),
            ReviewReason::TooLong { field, .. } => write!(f, "{field} too long"),
            ReviewReason::CourierRejected { status, message } => {
                write!(f, "courier rejected the task ({status}): {message}")
            }
            ReviewReason::StoreRejected { message } => write!(f, "store rejected: {message}"),
            ReviewReason::NotPlanned {
                day,
                reason,
                detail,
            } => {
                write!(f, "not planned for {day} ({reason}): {detail}")
            }
            ReviewReason::UnparseablePayload { error } => write!(f, "unparseable payload: {error}"),
            ReviewReason::EditAfterPickup { status, changed } => {
                write!(
                    f,
                    "order edited ({}) after pickup (status {status})",
                    changed.join(", ")
                )
            }
            ReviewReason::CancelAfterPickup { status } => {
                write!(
                    f,
                    "order cancelled after pickup (status {status}): stop the parcel"
                )
            }
            ReviewReason::RedeliveryRequested { slot } => {
                write!(
                    f,
                    "delivery failed; the customer asks for a new attempt {slot}"
                )
            }
            ReviewReason::ShipByAtRisk { ship_by } => {
                write!(
                    f,
                    "not shipped; the marketplace's latest ship date is {ship_by}"
                )
            }
            other => f.write_str(&other.code().replace('_', " ")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// "review:" + the subject: an order key, a shipment key, or an inbound payload id.
    pub id: String,
    /// What needs a person: "order", "payload", "task", "write_back".
    pub kind: String,
    pub reasons: Vec<ReviewReason>,
    pub order_key: Option<String>,
    pub shipment_key: Option<String>,
    /// The audit-trail id of the payload behind it; the payload itself is kept there whole.
    pub source_inbound: Option<String>,
    /// "open", "released" (back into the pipeline), "dismissed", or "superseded" (a newer
    /// event fixed it).
    pub status: String,
    pub created_at: String,
    pub occurrences: u32,
    /// The shipment as the channel gave it, for an operator to fix and release.
    pub draft: Option<ShipmentDraft>,
    /// When the event behind the draft happened: a release is still guarded by it, so it
    /// never overwrites data from a newer event.
    pub event_ms: Option<i64>,
    /// Operators' corrections, in order ("address.postal_code=40202 (ana)").
    pub fixes: Vec<String>,
    pub resolution: Option<String>,
}

pub const OPEN: &str = "open";
pub const RELEASED: &str = "released";
pub const DISMISSED: &str = "dismissed";
pub const SUPERSEDED: &str = "superseded";

impl ReviewItem {
    pub fn new(subject: &str, kind: &str, reasons: Vec<ReviewReason>) -> Self {
        ReviewItem {
            id: review_id(subject),
            kind: kind.to_owned(),
            reasons,
            order_key: None,
            shipment_key: None,
            source_inbound: None,
            status: OPEN.into(),
            created_at: crate::clock::rfc3339_now(),
            occurrences: 1,
            draft: None,
            event_ms: None,
            fixes: Vec::new(),
            resolution: None,
        }
    }
}

pub fn review_id(subject: &str) -> String {
    format!("review:{subject}")
}
