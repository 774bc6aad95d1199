//! A generic-API event body (docs/api) under every topic courier-bridge acts on.
#![no_main]

use courier_bridge_fuzz::check_event;
use libfuzzer_sys::fuzz_target;
use channels::api;

fuzz_target!(|body: &[u8]| {
    for topic in api::Topic::ALL {
        check_event(api::order_event(topic.as_str(), body, "demo-store"));
    }
});
