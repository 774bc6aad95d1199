//! The end-to-end suite, one test binary (each binary links the whole dependency tree):
//! the whole loop against the AWS emulator, the sandbox courier and the fake stores.

mod bad_input;
mod channel_orders;
mod clarification;
mod cod;
mod connect;
mod console;
mod courier_faults;
mod dispatch;
mod duplicate_storm;
mod dynamo_stores;
mod marketplace;
mod metrics;
mod onfleet_sync;
mod order_changes;
mod pages;
mod reschedule;
mod rotation;
mod schemathesis;
mod serve;
mod status_sync;
