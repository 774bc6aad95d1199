//! Links sign and verify as a customer's page needs: only the genuine link, for its
//! purpose and shipment, before it expires, under the current or the previous key.

use domain::{Channel, ShipmentKey};
use links::{LinkKeys, LinkRefused, Purpose, WeakKey};
use proptest::prelude::*;

const OLD: &[u8] = b"an old signing key, 32 bytes at least!!";
const NEW: &[u8] = b"the new signing key, also 32 bytes or more";
const NOW: i64 = 1_796_600_000;

fn shipment() -> ShipmentKey {
    // An order id above 2^53, as real channels send: it must come back digit for digit.
    ShipmentKey::new(Channel::Shopify, "demo-store", "9007199254740993", "1")
}

fn keys() -> LinkKeys {
    LinkKeys::new(NEW, None).unwrap()
}

#[test]
fn a_link_is_the_shipment_for_its_purpose_until_it_expires() {
    for purpose in Purpose::ALL {
        let token = keys().sign(&shipment(), purpose, NOW + 3_600);
        assert_eq!(keys().verify(&token, purpose, NOW), Ok(shipment()));
        assert_eq!(keys().verify(&token, purpose, NOW + 3_599), Ok(shipment()));
        assert_eq!(
            keys().verify(&token, purpose, NOW + 3_600),
            Err(LinkRefused::Expired)
        );
    }
}

#[test]
fn a_link_for_one_purpose_opens_no_other() {
    let track = keys().sign(&shipment(), Purpose::Track, NOW + 60);
    assert_eq!(
        keys().verify(&track, Purpose::FixAddress, NOW),
        Err(LinkRefused::OtherPurpose)
    );
    assert_eq!(
        keys().verify(&track, Purpose::Reschedule, NOW),
        Err(LinkRefused::OtherPurpose)
    );
}

#[test]
fn another_shipment_or_a_later_expiry_spliced_into_a_link_is_forged() {
    let token = keys().sign(&shipment(), Purpose::Track, NOW + 60);
    let parts: Vec<&str> = token.split('.').collect();
    let other = ShipmentKey::new(Channel::Shopify, "demo-store", "9007199254740994", "1");
    // The payload of a link for the other shipment, or one expiring much later, with the
    // first link's signature.
    for forged_payload in [
        keys().sign(&other, Purpose::Track, NOW + 60),
        keys().sign(&shipment(), Purpose::Track, NOW + 86_400 * 365),
    ] {
        let payload = forged_payload.split('.').nth(1).unwrap();
        let spliced = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(
            keys().verify(&spliced, Purpose::Track, NOW),
            Err(LinkRefused::Forged)
        );
    }
    let stranger = LinkKeys::new(b"somebody else's key of 32 bytes or so", None).unwrap();
    let theirs = stranger.sign(&shipment(), Purpose::Track, NOW + 60);
    assert_eq!(
        keys().verify(&theirs, Purpose::Track, NOW),
        Err(LinkRefused::Forged)
    );
}

#[test]
fn links_signed_before_a_rotation_work_until_the_old_key_is_dropped() {
    let before = LinkKeys::new(OLD, None).unwrap();
    let sent = before.sign(&shipment(), Purpose::Reschedule, NOW + 600);

    let rotating = LinkKeys::new(NEW, Some(OLD)).unwrap();
    assert_eq!(
        rotating.verify(&sent, Purpose::Reschedule, NOW),
        Ok(shipment())
    );
    // New links are signed with the new key, which the old deployment would not know.
    let fresh = rotating.sign(&shipment(), Purpose::Reschedule, NOW + 600);
    assert_eq!(
        before.verify(&fresh, Purpose::Reschedule, NOW),
        Err(LinkRefused::Forged)
    );

    let rotated = LinkKeys::new(NEW, None).unwrap();
    assert_eq!(
        rotated.verify(&sent, Purpose::Reschedule, NOW),
        Err(LinkRefused::Forged)
    );
    assert_eq!(
        rotated.verify(&fresh, Purpose::Reschedule, NOW),
        Ok(shipment())
    );
}

#[test]
fn a_short_key_is_refused() {
    assert_eq!(LinkKeys::new(b"short", None).unwrap_err(), WeakKey);
    assert_eq!(LinkKeys::new(NEW, Some(b"short")).unwrap_err(), WeakKey);
}

#[test]
fn the_keys_never_show_in_a_debug_log() {
    let text = format!("{:?}", LinkKeys::new(NEW, Some(OLD)).unwrap());
    assert!(!text.contains("signing key"), "{text}");
}

proptest! {
    #[test]
    fn no_text_a_guesser_sends_is_accepted_or_panics(token in ".{0,200}") {
        prop_assert!(keys().verify(&token, Purpose::Track, NOW).is_err());
    }

    #[test]
    fn a_changed_character_anywhere_breaks_the_link(at in 0usize..200, with in "[A-Za-z0-9_.-]") {
        let token = keys().sign(&shipment(), Purpose::Track, NOW + 60);
        let at = at % token.len();
        let mut changed = token.clone();
        changed.replace_range(at..at + 1, &with);
        prop_assume!(changed != token);
        prop_assert!(keys().verify(&changed, Purpose::Track, NOW).is_err());
    }
}
