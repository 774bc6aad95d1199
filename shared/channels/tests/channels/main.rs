//! One test binary for the crate (every test binary links the whole dependency tree).
mod amazon_samples;
mod onfleet_webhooks;
mod parsers_never_panic;
mod phones_and_addresses;
mod shopify_samples;
mod woocommerce_samples;
