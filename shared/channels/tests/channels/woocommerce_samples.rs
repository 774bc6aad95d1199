//! WooCommerce's published samples (tests/fixtures/woocommerce, sources in
//! tests/fixtures/SOURCES.md), used as they are.

use channels::signature::{sign_base64_hmac_sha256, verify_base64_hmac_sha256};
use channels::woocommerce::{self, Topic};
use channels::ParseError;
use domain::order::Trigger;
use domain::{Payment, ReviewReason, StoreConfig, TriggerPolicy};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/woocommerce"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn triple() -> (serde_json::Value, Vec<u8>) {
    let t: serde_json::Value =
        serde_json::from_slice(&fixture("webhook_delivery_action.signature.json")).unwrap();
    let body = fixture(t["body_file"].as_str().unwrap());
    (t, body)
}

#[test]
fn the_published_delivery_verifies_and_a_changed_byte_does_not() {
    let (t, mut body) = triple();
    let secret = t["secret"].as_str().unwrap();
    let hmac = t["hmac"].as_str().unwrap();
    assert_eq!(body.len(), 77);
    assert!(verify_base64_hmac_sha256(secret.as_bytes(), &body, hmac));
    assert!(woocommerce::verify_signature(secret, &body, hmac));
    let last = body.len() - 1;
    body[last] ^= 0x01;
    assert!(!verify_base64_hmac_sha256(secret.as_bytes(), &body, hmac));
    assert!(!woocommerce::verify_signature(secret, &body, hmac));
    body[last] ^= 0x01;
    body[0] ^= 0x20;
    assert!(!woocommerce::verify_signature(secret, &body, hmac));
}

#[test]
fn an_empty_secret_signs_as_woocommerce_does_but_is_refused() {
    // WooCommerce core's own expectation (test_generate_signature): it signs with an empty
    // secret. Anyone can make that signature, so it must not authenticate a delivery.
    let published = "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=";
    assert_eq!(sign_base64_hmac_sha256(b"", b"secret"), published);
    assert!(!woocommerce::usable_secret(""));
    assert!(!woocommerce::verify_signature("", b"secret", published));
    assert!(!verify_base64_hmac_sha256(b"", b"secret", published));
    assert!(woocommerce::usable_secret("my-super-secret-private-key"));
}

#[test]
fn the_published_action_delivery_is_not_an_order() {
    let (t, body) = triple();
    let topic = t["topic"].as_str().unwrap();
    assert_eq!(topic, t["other_headers"]["X-WC-Webhook-Topic"]);
    assert!(!woocommerce::acts_on(topic));
    assert_eq!(Topic::parse(topic), None);
    assert!(matches!(
        woocommerce::order_event(topic, &body, "demo-store"),
        Err(ParseError::UnknownTopic {
            channel: "woocommerce",
            ..
        })
    ));
    // Even delivered under an order topic, it is a typed error, not a shipment.
    assert!(matches!(
        woocommerce::order_event("order.updated", &body, "demo-store"),
        Err(ParseError::Malformed {
            channel: "woocommerce",
            what: "order",
            ..
        })
    ));
    assert!(!woocommerce::is_ping(&body));
}

#[test]
fn the_published_order_ships_once_its_undiallable_phone_is_fixed() {
    let body = fixture("order_wp-api-v3_docs_create_response.json");
    let order = woocommerce::parse_order(&body).unwrap();
    assert_eq!(order.id, 727);
    let event = woocommerce::order_event("order.created", &body, "demo-store").unwrap();
    assert_eq!(event.order_id, "727");
    assert_eq!(
        event.occurred_at.map(|t| t.unix_timestamp()),
        Some(1_490_210_888),
        "date_modified_gmt 2017-03-22T19:28:08, UTC"
    );
    // Processing and paid by bank transfer: ships on payment, waits for the warehouse.
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    assert!(matches!(
        event.facts.trigger(TriggerPolicy::ReadyToShip),
        Trigger::Wait { .. }
    ));
    assert_eq!(event.shipments.len(), 1);
    let draft = &event.shipments[0];
    // The shipping address has no phone, so the billing one stands in: 555 is no US area
    // code, so it cannot reach a driver's dialler.
    let reasons = draft.validate(&StoreConfig::default()).unwrap_err();
    assert_eq!(
        reasons,
        vec![ReviewReason::InvalidPhone {
            value: "(555) 555-5555".into()
        }]
    );

    let mut fixed = draft.clone();
    fixed.apply_fix("phone", "(415) 555-0132").unwrap();
    let s = fixed.validate(&StoreConfig::default()).unwrap();
    assert_eq!(s.key.to_string(), "woocommerce:demo-store:727:1");
    assert_eq!(s.order_name.as_deref(), Some("#727"));
    assert_eq!(s.recipient.name, "John Doe");
    assert_eq!(s.recipient.phone.unwrap().e164, "+14155550132");
    assert_eq!(s.recipient.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(s.recipient.company, None, "an empty company is none");
    assert_eq!(s.address.street, "969 Market");
    assert_eq!(s.address.apartment, None);
    assert_eq!(s.address.city, "San Francisco");
    assert_eq!(s.address.region.as_deref(), Some("CA"));
    assert_eq!(s.address.postal_code.as_deref(), Some("94103"));
    assert_eq!(s.address.country_code, "US");
    assert_eq!(s.parcel.pieces, 3, "2 + 1 line item quantities");
    assert_eq!(
        s.parcel.weight_grams, None,
        "the order resource has no weight"
    );
    match s.payment {
        Payment::Prepaid { order_total } => {
            assert_eq!(
                (order_total.minor, order_total.currency.code()),
                (2935, "USD")
            )
        }
        other => panic!("expected prepaid, got {other:?}"),
    }
    assert_eq!(s.notes.text, None, "an empty customer_note is none");
    assert_eq!(fixed.shipping_method.as_deref(), Some("Flat Rate"));
}
