//! A Shopify webhook body under every topic courier-bridge acts on.
#![no_main]

use courier_bridge_fuzz::check_event;
use libfuzzer_sys::fuzz_target;
use channels::shopify;

const TOPICS: [&str; 5] = [
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "fulfillments/create",
];

fuzz_target!(|body: &[u8]| {
    for topic in TOPICS {
        let outcome = shopify::order_event(topic, body, "demo-store");
        if let Ok(event) = &outcome {
            // Ids are read as u64 and kept as text: never through a float.
            assert!(event.order_id.bytes().all(|b| b.is_ascii_digit()));
        }
        check_event(outcome);
    }
});
