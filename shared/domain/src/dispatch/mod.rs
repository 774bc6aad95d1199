//! Dispatch: who delivers what, in which order. The fleet as data ([`fleet`]), the fleet's
//! local time ([`time`]), and a day's plan as stored and shown ([`plan`]). Planning itself
//! (the solver) lives in `courier-bridge-dispatch`; this module holds what the ports and the
//! stores need to agree on.

pub mod fleet;
pub mod plan;
pub mod time;

pub use fleet::{
    Capacity, Driver, Fleet, FleetErrors, FleetProblem, GeoPoint, PickupPoint, Shift, VehicleType,
    Zone, CARRIES_CASH, OVERSIZED,
};
pub use plan::{
    DayPlans, DispatchPlan, DriverRoute, PlanStart, PlannedPickup, PlannedStop, Unplanned,
    UnplannedReason, Visit,
};
pub use time::{local_clock, LocalTimeError, PlanDay};
