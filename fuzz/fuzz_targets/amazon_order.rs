//! Orders API bodies as the marketplace intake reads them: the same bytes as `getOrder`,
//! `getOrderAddress`, `getOrderBuyerInfo` and `getOrderItems` responses (all are
//! `{"payload": …}`), then the order's event and its drafts.
#![no_main]

use courier_bridge_fuzz::check_event;
use libfuzzer_sys::fuzz_target;
use channels::amazon;

fuzz_target!(|body: &[u8]| {
    let address = amazon::parse_order_address(body).ok();
    let buyer = amazon::parse_buyer_info(body).ok();
    let items = amazon::parse_order_items(body)
        .map(|page| page.order_items)
        .unwrap_or_default();
    check_event(amazon::parse_order(body).map(|order| {
        amazon::order_event(
            &order,
            address.as_ref(),
            buyer.as_ref(),
            &items,
            "demo-store",
        )
    }));
});
