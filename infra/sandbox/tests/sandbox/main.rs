//! The sandbox's tests, one binary: a real server on a free port, driven with reqwest,
//! and the webhook receiver its couriers post to.

mod amazon;
mod amazon_notifications;
mod control;
mod courier;
mod courier_webhooks;
mod faults;
mod geocode;
mod onfleet;
mod route_matrix;
mod routes;
mod shopify;
mod shopify_tracking;
mod shopify_webhooks;
mod support;
mod task_changes;
mod twilio;
mod woocommerce;
mod woocommerce_webhooks;
