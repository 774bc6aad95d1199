//! The local runtime: what AWS does around courier-bridge's functions, done on one machine
//! against an AWS emulator (moto server by default, LocalStack alike), running the
//! functions' own handlers.
//!
//! - [`provision`] creates the tables and queues **from template.yaml** and resolves each
//!   function's environment exactly as CloudFormation would; [`functions`] builds each
//!   function from that environment, as its `main` does.
//! - [`gateway`] serves the template's HTTP API routes on 127.0.0.1 (API Gateway).
//! - [`mappings`] polls each SQS event source (batch size, partial batch failures,
//!   visibility; the emulator's redrive moves poison messages to the DLQ).
//! - [`process`] and [`runtime_api`] run functions as their own binaries speaking the
//!   Lambda Runtime API (the benchmark's mode; tests call the handlers in process).
//! - [`dlq`] redrives a DLQ back to its source queue.
//! - [`demo`] replays real Shopify samples through the whole loop.

pub mod demo;
pub mod dlq;
pub mod functions;
pub mod gateway;
pub mod mappings;
pub mod process;
pub mod provision;
pub mod runtime;
pub mod runtime_api;
pub mod secrets;
pub mod serve;
pub mod template;

pub use runtime::{FunctionMode, LocalRuntime, RuntimeError, RuntimeOptions, Scheduled};
