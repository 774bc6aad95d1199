//! Links sign and verify as a customer's page needs: only the genuine link, for its
//! purpose and shipment, before it expires, under the current or the previous key.

use domain::{Channel, ShipmentKey};
use links::{LinkKeys, LinkRefused, LinkSecret, Purpose, WeakKey};
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
fn the_stored_secret_rotates_keeping_the_old_key_as_previous() {
    let first = LinkSecret::first(OLD);
    let sent = first
        .keys()
        .unwrap()
        .sign(&shipment(), Purpose::Track, NOW + 60);
    let rotated = first.rotated(NEW);
    assert_eq!(rotated.previous.as_deref(), Some(first.current.as_str()));
    let keys = rotated.keys().unwrap();
    assert_eq!(keys.verify(&sent, Purpose::Track, NOW), Ok(shipment()));
    // Twice rotated, the first key is gone.
    let again = rotated.rotated(b"a third key, thirty-two bytes or longer");
    assert_eq!(
        again.keys().unwrap().verify(&sent, Purpose::Track, NOW),
        Err(LinkRefused::Forged)
    );
    // As stored: JSON, and nothing else in it.
    let json = serde_json::to_string(&again).unwrap();
    assert_eq!(serde_json::from_str::<LinkSecret>(&json).unwrap(), again);
    assert!(serde_json::from_str::<LinkSecret>(r#"{"current":"x","extra":1}"#).is_err());
    assert_eq!(
        LinkSecret {
            current: "not base64!".into(),
            previous: None
        }
        .keys()
        .unwrap_err(),
        WeakKey
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

#[tokio::test]
async fn each_page_gets_its_own_link_under_the_pages_url_that_opens_only_that_page() {
    use domain::ports::CustomerLinks;
    let secrets = std::sync::Arc::new(fakes::FakeSecrets::default());
    let signed = links::SignedLinks {
        secrets: secrets.clone(),
        base_url: "https://pages.example/".into(),
        lifetime_s: links::LINK_LIFETIME_S,
    };
    // No keys yet: an error, which the composer answers with the courier's own link.
    assert!(signed
        .page(Purpose::Track, &shipment(), NOW * 1000)
        .await
        .is_err());
    secrets.put(
        links::SECRET_NAME,
        serde_json::to_string(&LinkSecret::first(NEW)).unwrap(),
    );
    for (page, path) in [
        (Purpose::Track, "t"),
        (Purpose::FixAddress, "a"),
        (Purpose::Reschedule, "r"),
    ] {
        let link = signed.page(page, &shipment(), NOW * 1000).await.unwrap();
        let token = link
            .strip_prefix(&format!("https://pages.example/{path}/"))
            .expect("under the pages URL, one slash");
        assert_eq!(keys().verify(token, page, NOW), Ok(shipment()));
        assert_eq!(
            keys().verify(token, page, NOW + links::LINK_LIFETIME_S),
            Err(LinkRefused::Expired)
        );
        for other in Purpose::ALL.into_iter().filter(|p| *p != page) {
            assert_eq!(
                keys().verify(token, other, NOW),
                Err(LinkRefused::OtherPurpose),
                "a {page:?} link opened {other:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_tracking_message_links_to_the_stacks_page_and_without_keys_to_the_couriers() {
    use domain::notify::{Composer, Template};
    use domain::ports::Outbox;
    let rules = fakes::FakeStoreRules::default();
    let notifiers = fakes::FakeNotifiers::default();
    let wake = fakes::FakeQueue::default();
    let secrets = std::sync::Arc::new(fakes::FakeSecrets::default());
    let tracking = links::customer_links(secrets.clone(), Some("https://pages.example".into()))
        .expect("a pages URL gives links");
    let record = fakes::sample::with_task(
        &fakes::sample::shipment("acme", "1001"),
        &fakes::sample::task(7),
        domain::ShipmentStatus::Created,
    );
    let key = record.shipment.key.clone();

    for (keys, expected, not) in [
        (false, "https://track.example/TRK0007", "pages.example"),
        (true, "https://pages.example/t/v1.", "track.example"),
    ] {
        if keys {
            secrets.put(
                links::SECRET_NAME,
                serde_json::to_string(&LinkSecret::first(NEW)).unwrap(),
            );
        }
        let outbox = fakes::FakeOutbox::default();
        let composer = Composer {
            rules: &rules,
            notifiers: &notifiers,
            outbox: &outbox,
            wake: &wake,
            links: Some(tracking.as_ref()),
        };
        composer
            .compose(&record, &key, Template::TrackingLink, None)
            .await
            .unwrap();
        let sent = outbox.all().await.unwrap();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].body.contains(expected), "{}", sent[0].body);
        assert!(!sent[0].body.contains(not), "{}", sent[0].body);
    }
}

#[test]
fn a_tag_checks_only_for_its_context_and_survives_one_rotation() {
    let keys = keys();
    let tag = keys.tag("csrf|session-a");
    assert!(keys.check_tag("csrf|session-a", &tag));
    assert!(!keys.check_tag("csrf|session-b", &tag));
    assert!(!keys.check_tag("csrf|session-a", "not base64 !"));
    assert!(!keys.check_tag("csrf|session-a", ""));
    let rotated = LinkSecret::first(NEW).rotated(b"a newer key for the links, 32 bytes+");
    assert!(rotated.keys().unwrap().check_tag("csrf|session-a", &tag));
    let stranger = LinkSecret::first(b"somebody else's key, 32 bytes long")
        .keys()
        .unwrap();
    assert!(!stranger.check_tag("csrf|session-a", &tag));
}

#[tokio::test]
async fn the_messages_link_the_fix_address_and_reschedule_pages_when_there_are_any() {
    use domain::notify::{Composer, Template};
    use domain::ports::{Outbox, StoreRules};
    let rules = fakes::FakeStoreRules::default();
    let notifiers = fakes::FakeNotifiers::default();
    let wake = fakes::FakeQueue::default();
    let secrets = std::sync::Arc::new(fakes::FakeSecrets::default());
    secrets.put(
        links::SECRET_NAME,
        serde_json::to_string(&LinkSecret::first(NEW)).unwrap(),
    );
    let pages = links::customer_links(secrets, Some("https://pages.example".into()))
        .expect("a pages URL gives links");
    let record = fakes::sample::with_task(
        &fakes::sample::shipment("acme", "1001"),
        &fakes::sample::task(7),
        domain::ShipmentStatus::Failed,
    );
    let key = record.shipment.key.clone();
    let compose = |template| {
        let rules = &rules;
        let notifiers = &notifiers;
        let wake = &wake;
        let pages = pages.clone();
        let record = record.clone();
        let key = key.clone();
        async move {
            let outbox = fakes::FakeOutbox::default();
            let composer = Composer {
                rules,
                notifiers,
                outbox: &outbox,
                wake,
                links: Some(pages.as_ref()),
            };
            composer
                .compose(&record, &key, template, Some("Mian Stret 12".into()))
                .await
                .unwrap();
            outbox.all().await.unwrap().remove(0).body
        }
    };
    let clarify = compose(Template::AddressClarification).await;
    assert!(clarify.contains("https://pages.example/a/v1."), "{clarify}");
    // Without slots the failed-delivery message points at the tracking page.
    let failed = compose(Template::DeliveryFailed).await;
    assert!(!failed.contains("pages.example/r/"), "{failed}");
    let config: domain::StoreConfig = serde_json::from_value(serde_json::json!({
        "delivery_slots": {"windows": ["09:00-12:00"]}
    }))
    .unwrap();
    rules.put(key.channel, &key.store, &config).await.unwrap();
    let failed = compose(Template::DeliveryFailed).await;
    assert!(
        failed.contains("Choose a new delivery time: https://pages.example/r/v1."),
        "{failed}"
    );
}
