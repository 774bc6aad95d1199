//! A WooCommerce webhook body under every topic courier-bridge acts on.
#![no_main]

use courier_bridge_fuzz::check_event;
use libfuzzer_sys::fuzz_target;
use channels::woocommerce;

const TOPICS: [&str; 4] = [
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
];

fuzz_target!(|body: &[u8]| {
    for topic in TOPICS {
        check_event(woocommerce::order_event(topic, body, "demo-store"));
    }
});
