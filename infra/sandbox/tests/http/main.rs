//! HTTP tests of the sandbox: a real server on a free port, driven with reqwest.

mod amazon;
mod common;
mod control;
mod courier;
mod faults;
mod shopify;
mod shopify_tracking;
mod task_changes;
mod woocommerce;
