//! Why an order needs a person: machine-readable reasons for the review inbox.

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
    /// The courier refused the task with a permanent (4xx) answer.
    CourierRejected {
        status: u16,
        message: String,
    },
    /// The store refused the write-back with a permanent answer.
    StoreRejected {
        message: String,
    },
}

impl ReviewReason {
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
            ReviewReason::CourierRejected { .. } => "courier_rejected",
            ReviewReason::StoreRejected { .. } => "store_rejected",
        }
    }
}

/// A one-line text for operators; the values themselves stay in the stored item, not in logs.
impl fmt::Display for ReviewReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewReason::MissingField { field } => write!(f, "missing {field}"),
            ReviewReason::InvalidAmount { field, .. } => write!(f, "invalid amount in {field}"),
            ReviewReason::CourierRejected { status, message } => {
                write!(f, "courier rejected the task ({status}): {message}")
            }
            ReviewReason::StoreRejected { message } => write!(f, "store rejected: {message}"),
            ReviewReason::UnparseablePayload { error } => write!(f, "unparseable payload: {error}"),
            other => f.write_str(&other.code().replace('_', " ")),
        }
    }
}
