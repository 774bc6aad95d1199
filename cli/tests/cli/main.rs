//! The operator CLI against the emulator (run with infra/scripts/with-emulator.sh). One test
//! binary: each file is a module, so the suite links once.

mod binary;
mod connect;
mod dlq;
mod doctor;
mod fleet;
mod links;
mod review;
mod rotate;
mod shipment;
mod stack;
mod store;
mod support;
