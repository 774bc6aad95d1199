//! courier-bridge's library: the delivery domain and the adapters at its edges.
//!
//! - [`domain`] is pure: shipments, money, phones, statuses, review reasons. It knows no
//!   channel, courier or AWS type.
//! - [`channel`] turns a store's payload into a [`domain::Shipment`] (or review reasons).
//! - [`courier`] and [`store`] talk to partners over HTTP, each behind one small trait.
//! - [`aws`] holds the DynamoDB stores, the SQS queues and the Secrets Manager cache.
//! - [`idempotency`] is the create-once protocol of DESIGN.md, over a store trait.
//! - [`batch`] runs an SQS batch with partial failures and backoff.
//! - [`metrics`] writes CloudWatch embedded-metric-format documents; [`sla`] says when a
//!   delivery was promised.

pub mod aws;
pub mod batch;
pub mod channel;
pub mod cod;
pub mod config;
pub mod courier;
pub mod domain;
pub mod error;
pub mod idempotency;
pub mod messages;
pub mod metrics;
pub mod notifications;
pub mod notify;
pub mod pipeline;
pub mod services;
pub mod signature;
pub mod sla;
pub mod store;
pub mod telemetry;
