//! Any JSON that deserializes into a shipment draft (what the review inbox stores and an
//! operator's fix rewrites) validates without panicking, and so does any fix applied to it.
#![no_main]

use courier_bridge_fuzz::check_draft;
use libfuzzer_sys::fuzz_target;
use domain::ShipmentDraft;

/// Paths an operator may type, real and not.
const FIX_PATHS: [&str; 8] = [
    "phone",
    "amount",
    "address.postal_code",
    "address.latitude",
    "notes.fragile",
    "order_id",
    "phones.0",
    "colour",
];

fuzz_target!(|body: &[u8]| {
    let Ok(draft) = serde_json::from_slice::<ShipmentDraft>(body) else {
        return;
    };
    check_draft(&draft);
    // The last bytes, as text, are the value of a fix to each path.
    let value = String::from_utf8_lossy(&body[body.len().saturating_sub(16)..]);
    for path in FIX_PATHS {
        let mut fixed = draft.clone();
        if fixed.apply_fix(path, &value).is_ok() {
            assert_eq!(fixed.key(), draft.key());
            check_draft(&fixed);
        }
    }
});
