//! One test binary for the crate (every test binary links the whole dependency tree).
mod amazon_sp_api;
mod api_callback;
mod api_schema;
mod notify_ses;
mod notify_twilio;
mod onfleet_client;
mod sandbox_courier_client;
mod shopify_admin;
mod woocommerce_rest;
