//! HTTP tests of the sandbox: a real server on a free port, driven with reqwest.

mod common;
mod control;
mod courier;
mod faults;
mod shopify;
