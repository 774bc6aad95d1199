//! Couriers: where a shipment becomes a delivery task, and what they report back.
//!
//! A courier platform is a [`CourierKind`]: adding one is a new variant here, then the arms
//! the compiler asks for (its webhook contract and parser in `courier-bridge-channels`, its
//! client in `courier-bridge-partners`).

pub mod event;

pub use event::{CourierEvent, EventKind, Failure, LocationSource, PodLocation, ProofOfDelivery};

use crate::error::{Classify, Transience};
use crate::partner::PartnerError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The courier platforms courier-bridge talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourierKind {
    /// The built-in sandbox courier (infra/sandbox, docs/sandbox-courier-api.md).
    Sandbox,
    Onfleet,
}

impl CourierKind {
    pub const ALL: [CourierKind; 2] = [CourierKind::Sandbox, CourierKind::Onfleet];

    /// The short, stable name stored with each task and used in URLs and secret names.
    pub fn as_str(self) -> &'static str {
        match self {
            CourierKind::Sandbox => "sandbox",
            CourierKind::Onfleet => "onfleet",
        }
    }

    /// The carrier name a store shows its customer next to the tracking number.
    pub fn display_name(self) -> &'static str {
        match self {
            CourierKind::Sandbox => "courier-bridge Sandbox Courier",
            CourierKind::Onfleet => "Onfleet",
        }
    }
}

impl fmt::Display for CourierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown courier {0:?} (known: sandbox, onfleet)")]
pub struct UnknownCourier(pub String);

impl FromStr for CourierKind {
    type Err = UnknownCourier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CourierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownCourier(s.to_owned()))
    }
}

/// What a courier gives back for a task: enough to track it and to write it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierTask {
    pub task_id: String,
    pub tracking_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierError {
    /// The call itself failed or was refused ([`PartnerError`]).
    #[error(transparent)]
    Partner(#[from] PartnerError),
    /// The task has moved past the point where this change is possible (picked up, out for
    /// delivery, delivered): a dispatcher must act.
    #[error("too late for the courier to change the task (status {status})")]
    TooLate { status: String },
    /// The courier could not place the address (not found, or several candidates): the
    /// customer is asked to clarify it.
    #[error("courier could not place the address: {message}")]
    AddressUnresolved { ambiguous: bool, message: String },
}

impl CourierError {
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            CourierError::Partner(e) => e.retry_after(),
            _ => None,
        }
    }
}

impl Classify for CourierError {
    fn transience(&self) -> Transience {
        match self {
            CourierError::Partner(e) => e.transience(),
            CourierError::TooLate { .. } | CourierError::AddressUnresolved { .. } => {
                Transience::Permanent
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courier_kinds_round_trip_through_their_names() {
        for kind in CourierKind::ALL {
            assert_eq!(kind.as_str().parse::<CourierKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert!("dhl".parse::<CourierKind>().is_err());
    }

    #[test]
    fn a_courier_that_is_too_late_or_cannot_place_the_address_is_final() {
        assert!(!CourierError::TooLate {
            status: "PickedUp".into()
        }
        .is_transient());
        assert!(CourierError::from(PartnerError::unavailable("sandbox", "x")).is_transient());
        assert!(!CourierError::from(PartnerError::rejected("sandbox", "422", "x")).is_transient());
    }
}
