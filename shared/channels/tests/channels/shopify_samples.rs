//! Shopify's published samples (tests/fixtures/shopify, sources in tests/fixtures/SOURCES.md),
//! used as they are.

use channels::shopify::{self, Topic};
use channels::signature::verify_base64_hmac_sha256;
use domain::order::Trigger;
use domain::{Payment, ReviewReason, StoreConfig, TriggerPolicy};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/shopify");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn triple(name: &str) -> (Vec<u8>, String, String) {
    let t: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
    let body = fixture(t["body_file"].as_str().unwrap());
    (
        body,
        t["secret"].as_str().unwrap().into(),
        t["hmac"].as_str().unwrap().into(),
    )
}

#[test]
fn every_published_hmac_example_verifies_and_a_changed_byte_does_not() {
    for name in [
        "orders_create_laravel-shopify_webhook.hmac.json",
        "hmac_shopify-api-js.hmac.json",
        "hmac_go-shopify.hmac.json",
    ] {
        let (mut body, secret, hmac) = triple(name);
        assert!(
            verify_base64_hmac_sha256(secret.as_bytes(), &body, &hmac),
            "{name} verifies"
        );
        let last = body.len() - 1;
        body[last] ^= 0x01;
        assert!(
            !verify_base64_hmac_sha256(secret.as_bytes(), &body, &hmac),
            "{name} with a changed byte"
        );
        body[last] ^= 0x01;
        body[0] ^= 0x20;
        assert!(
            !verify_base64_hmac_sha256(secret.as_bytes(), &body, &hmac),
            "{name} with a changed first byte"
        );
    }
}

#[test]
fn the_published_sample_order_is_cancelled_and_its_contact_data_would_need_review() {
    let order =
        shopify::parse_order(&fixture("orders_create_laravel-shopify_webhook.json")).unwrap();
    assert_eq!(order.id, 820_982_911_946_154_508, "an id above 2^53, exact");
    // Cancelled and voided: no task, whatever else it says.
    let event = order.to_event("laravel-sample");
    assert!(matches!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Cancel { .. }
    ));
    // Were it paid, its contact data could not make a correct task: a phone with letters
    // that maps to no US area code, and a Canadian postal code on a Kentucky address.
    let reasons = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap_err();
    assert_eq!(
        reasons,
        vec![
            ReviewReason::InvalidPostalCode {
                value: "K2P0S0".into(),
                country: "US".into()
            },
            ReviewReason::InvalidPhone {
                value: "555-555-SHIP".into()
            },
        ]
    );
}

#[test]
fn the_published_sample_with_a_dialable_phone_maps_every_field() {
    let mut value: serde_json::Value =
        serde_json::from_slice(&fixture("orders_create_laravel-shopify_webhook.json")).unwrap();
    value["shipping_address"]["phone"] = "(502) 555-0147".into();
    value["shipping_address"]["zip"] = "40202".into();
    value["financial_status"] = "paid".into();
    value["cancelled_at"] = serde_json::Value::Null;
    let order: shopify::Order = serde_json::from_value(value).unwrap();
    let event = order.to_event("demo-store");
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    let s = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.key.to_string(), "shopify:demo-store:820982911946154508:1");
    assert_eq!(s.order_name.as_deref(), Some("#9999"));
    assert_eq!(s.recipient.name, "Steve Shipper");
    assert_eq!(s.recipient.phone.unwrap().e164, "+15025550147");
    assert_eq!(s.recipient.email.as_deref(), Some("jon@doe.ca"));
    assert_eq!(s.recipient.company.as_deref(), Some("Shipping Company"));
    assert_eq!(s.address.street, "123 Shipping Street");
    assert_eq!(s.address.apartment, None);
    assert_eq!(s.address.city, "Shippington");
    assert_eq!(s.address.region.as_deref(), Some("KY"));
    assert_eq!(s.address.country_code, "US");
    assert_eq!(s.parcel.pieces, 2, "two line items that require shipping");
    assert_eq!(s.parcel.weight_grams, None, "total_weight 0 means unknown");
    match s.payment {
        Payment::Prepaid { order_total } => {
            assert_eq!(
                (order_total.minor, order_total.currency.code()),
                (5798, "USD")
            )
        }
        other => panic!("expected prepaid, got {other:?}"),
    }
}

#[test]
fn payloads_that_are_not_orders_are_typed_errors_not_shipments() {
    // Signed sample bodies from the HMAC examples: valid JSON, no order in them.
    for name in ["hmac_shopify-api-js_body.json", "hmac_go-shopify_body.json"] {
        assert!(shopify::parse_order(&fixture(name)).is_err(), "{name}");
    }
}

#[test]
fn the_published_fulfillment_sample_is_one_parcel_that_needs_review_for_its_phone() {
    let body = fixture("fulfillments_create_docs_sample_2026-04.json");
    let event = shopify::order_event("fulfillments/create", &body, "demo-store").unwrap();
    // Its order id already lost precision at the source (JavaScript numbers); read exactly,
    // it is the number written, not the order it once was.
    assert_eq!(event.order_id, "820982911946154500");
    assert_eq!(
        Topic::parse("fulfillments/create"),
        Some(Topic::FulfillmentsCreate)
    );
    assert_eq!(
        event.facts.trigger(TriggerPolicy::ReadyToShip),
        Trigger::Ship
    );
    assert_eq!(event.shipments.len(), 1);
    let draft = &event.shipments[0];
    assert_eq!(draft.shipment_id, "123456", "keyed by the fulfillment id");
    assert_eq!(draft.currency.as_deref(), Some("USD"));
    // The same Steve Shipper with the same undiallable phone: review, not a task.
    let reasons = draft.validate(&StoreConfig::default()).unwrap_err();
    assert_eq!(
        reasons,
        vec![ReviewReason::InvalidPhone {
            value: "555-555-SHIP".into()
        }]
    );
    let mut fixed = draft.clone();
    fixed.apply_fix("phone", "(502) 555-0147").unwrap();
    let s = fixed.validate(&StoreConfig::default()).unwrap();
    assert_eq!(
        s.key.to_string(),
        "shopify:demo-store:820982911946154500:123456"
    );
    assert_eq!(s.address.region.as_deref(), Some("KY"));
}
