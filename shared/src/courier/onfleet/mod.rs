//! Onfleet (<https://docs.onfleet.com/reference>): the task API as a [`super::Courier`]
//! ([`client`]) and its webhooks ([`webhook`]).

pub mod client;
pub mod webhook;
