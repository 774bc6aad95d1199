//! A day's plan as stored and shown: each driver's stops in order with their expected
//! arrival, and every shipment left out with the reason.

use serde::{Deserialize, Serialize};

use super::fleet::{GeoPoint, VehicleType};
use crate::ShipmentKey;

/// One planning run for one local day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchPlan {
    /// "2026-12-06T07:00:00.123Z#a1b2": unique per run, sorts by when it was made.
    pub id: String,
    /// The local day, YYYY-MM-DD, in `time_zone`.
    pub day: String,
    pub time_zone: String,
    pub created_at: String,
    /// Who asked: "schedule" or the dispatcher's name.
    pub requested_by: String,
    pub routes: Vec<DriverRoute>,
    pub unplanned: Vec<Unplanned>,
    /// Over all routes, metres and seconds (driving, waiting and service).
    pub distance_m: u64,
    pub duration_s: u64,
    /// What the solver was given, for the report.
    pub budget_s: u64,
}

impl DispatchPlan {
    /// Every shipment in the plan, routed or not.
    pub fn shipments(&self) -> impl Iterator<Item = &ShipmentKey> {
        self.routes
            .iter()
            .flat_map(|r| r.stops.iter().map(|s| &s.shipment))
            .chain(self.unplanned.iter().map(|u| &u.shipment))
    }
}

/// One driver's day: the stops in the order to serve them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverRoute {
    /// The courier platform's driver id.
    pub driver: String,
    pub vehicle: VehicleType,
    pub start: GeoPoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<GeoPoint>,
    /// Leaves the start, and is done (ms since the epoch).
    pub departs_ms: i64,
    pub done_ms: i64,
    pub distance_m: u64,
    /// The deliveries, in order: what the courier is told.
    pub stops: Vec<PlannedStop>,
    /// Where the driver fetches parcels on the way (a shop away from the start), each
    /// before its delivery; the driver's whole order is both lists by time ([`Self::visits`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pickups: Vec<PlannedPickup>,
}

impl DriverRoute {
    /// The courier's task ids in stop order: what the courier is told.
    pub fn task_ids(&self) -> Vec<String> {
        self.stops.iter().map(|s| s.task_id.clone()).collect()
    }

    /// Pickups and deliveries in the order the driver makes them (by time; a pickup first
    /// when both fall at the same moment, as a parcel is fetched before it is delivered).
    pub fn visits(&self) -> Vec<Visit<'_>> {
        let mut visits: Vec<Visit<'_>> = self
            .pickups
            .iter()
            .map(Visit::Pickup)
            .chain(self.stops.iter().map(Visit::Delivery))
            .collect();
        visits.sort_by_key(|v| (v.eta_ms(), matches!(v, Visit::Delivery(_))));
        visits
    }
}

/// One place on a driver's route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Visit<'a> {
    Pickup(&'a PlannedPickup),
    Delivery(&'a PlannedStop),
}

impl Visit<'_> {
    pub fn eta_ms(&self) -> i64 {
        match self {
            Visit::Pickup(p) => p.eta_ms,
            Visit::Delivery(d) => d.eta_ms,
        }
    }

    pub fn location(&self) -> GeoPoint {
        match self {
            Visit::Pickup(p) => p.location,
            Visit::Delivery(d) => d.location,
        }
    }
}

/// Where a driver fetches one shipment's parcel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedPickup {
    pub shipment: ShipmentKey,
    /// The pickup point's name ("Lager Mitte").
    pub place: String,
    pub location: GeoPoint,
    pub eta_ms: i64,
    pub leaves_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStop {
    pub shipment: ShipmentKey,
    pub task_id: String,
    /// The store's order number, for the driver's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_name: Option<String>,
    pub location: GeoPoint,
    /// Expected arrival, and when the driver leaves (ms since the epoch).
    pub eta_ms: i64,
    pub leaves_ms: i64,
}

/// A shipment the plan does not serve, and why: it becomes a review item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unplanned {
    pub shipment: ShipmentKey,
    pub reason: UnplannedReason,
    /// For the dispatcher: what it needs that no driver has.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnplannedReason {
    /// The address has no coordinates and no geocoder is configured.
    NoLocation,
    /// The geocoder found no place for the address: the customer is asked to clarify it.
    AddressNotFound,
    /// The geocoder found several places for it: the customer is asked to clarify it.
    AddressAmbiguous,
    /// Outside every zone a driver serves.
    Zone,
    /// No driver has every skill it needs (oversized, cash on delivery).
    Skill,
    /// Too big or heavy for any vehicle, even empty.
    Capacity,
    /// No driver can be there within its delivery window during a shift.
    TimeWindow,
    /// A driver could take it, but none has room or time left today.
    NoRoom,
}

impl UnplannedReason {
    /// Whether the customer can answer it (the address): they are asked to clarify.
    pub fn asks_customer(self) -> bool {
        matches!(
            self,
            UnplannedReason::AddressNotFound | UnplannedReason::AddressAmbiguous
        )
    }

    pub fn code(self) -> &'static str {
        match self {
            UnplannedReason::NoLocation => "no_location",
            UnplannedReason::AddressNotFound => "address_not_found",
            UnplannedReason::AddressAmbiguous => "address_ambiguous",
            UnplannedReason::Zone => "zone",
            UnplannedReason::Skill => "skill",
            UnplannedReason::Capacity => "capacity",
            UnplannedReason::TimeWindow => "time_window",
            UnplannedReason::NoRoom => "no_room",
        }
    }
}

/// A day's plans as a run finds them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DayPlans {
    /// Made and not yet applied everywhere: apply this before planning anew.
    pub open: Option<DispatchPlan>,
    /// The id of the day's latest plan, open or not.
    pub latest: Option<String>,
}

/// What starting a plan found for its day.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanStart {
    /// This plan is the day's open plan now: apply it.
    Started,
    /// Another run's plan is open (not yet fully applied): apply that one instead.
    AlreadyOpen(Box<DispatchPlan>),
    /// Another run made and applied a plan since this one read the shipments: plan again.
    Overtaken,
}
