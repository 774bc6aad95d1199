//! Dispatch: the day's shipments that wait for a driver, planned into routes over the
//! fleet ([`problem`]: stated for the solver and read back), applied at the courier once
//! per driver, and every shipment left out made a review item with its reason ([`run`]).
//! Each plan is also a page ([`page`]: the routes drawn as SVG, a table per driver) in the
//! reports bucket. Written against the domain's ports; the solver is `vrp-core` behind the
//! `routing` crate.

pub mod page;
pub mod problem;
pub mod run;

pub use run::{run, DispatchError, Ports, Ran, Request};
