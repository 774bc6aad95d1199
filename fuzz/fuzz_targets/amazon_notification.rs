//! An SP-API notification body (SQS message or EventBridge `detail`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use channels::amazon;

fuzz_target!(|body: &[u8]| {
    match amazon::parse_notification(body) {
        Ok(change) => {
            assert_eq!(change.amazon_order_id, change.notification.amazon_order_id);
            assert_eq!(change.seller_id, change.notification.seller_id);
            let _ = change.is_fulfilled_by_amazon();
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
