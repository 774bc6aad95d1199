//! Amazon's published samples (tests/fixtures/amazon, sources in tests/fixtures/SOURCES.md),
//! used as they are: the ORDER_CHANGE example and the SP-API sandbox's TEST_CASE_200 order.

use channels::amazon::{self, BuyerInfo, Order, OrderAddress, OrderItem};
use domain::order::Trigger;
use domain::{Contact, ContactKind, Payment, ReviewReason, StoreConfig, TriggerPolicy};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/amazon");
const ORDER_ID: &str = "902-1845936-5435065";
const RELAY: &str = "fzyrv6gwkhbb15c@marketplace.amazon.com";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn sample_order() -> Order {
    amazon::parse_order(&fixture("getOrder_sandbox_TEST_CASE_200.json")).unwrap()
}

fn sample_address() -> OrderAddress {
    amazon::parse_order_address(&fixture("getOrderAddress_sandbox_TEST_CASE_200.json")).unwrap()
}

/// The sandbox's getOrderItems answer for TEST_CASE_200 carries a buyer cancellation request;
/// these stand for the same order without it: 3 units ordered, 1 of them already shipped.
fn items() -> Vec<OrderItem> {
    serde_json::from_value(serde_json::json!([
        {"OrderItemId": "05015851154158", "ASIN": "B00551Q3CS", "QuantityOrdered": 2, "QuantityShipped": 0,
         "ItemPrice": {"CurrencyCode": "USD", "Amount": "10.00"}},
        {"OrderItemId": "05015851154159", "QuantityOrdered": 1, "QuantityShipped": 1}
    ]))
    .unwrap()
}

fn relay_buyer() -> BuyerInfo {
    serde_json::from_value(serde_json::json!({
        "AmazonOrderId": ORDER_ID, "BuyerEmail": RELAY, "BuyerName": "MFNIntegrationTestMerchant"
    }))
    .unwrap()
}

#[test]
fn the_order_change_example_is_a_buyer_cancellation_request() {
    let change =
        amazon::parse_notification(&fixture("ORDER_CHANGE_notification_example.json")).unwrap();
    assert_eq!(
        change.notification_id,
        "d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    );
    assert_eq!(change.seller_id, "A3TH9S8BH6GOGM");
    assert_eq!(change.amazon_order_id, "903-8868176-2219830");
    assert_eq!(change.order_status.as_deref(), Some("Unshipped"));
    assert_eq!(change.fulfillment_type.as_deref(), Some("MFN"));
    assert!(!change.is_fulfilled_by_amazon());
    assert!(change.buyer_requested_cancel);
    assert_eq!(
        change.event_time.map(|t| t.unix_timestamp()),
        Some(1_578_701_393)
    );

    // Once the seller accepts, getOrder says Canceled: the event cancels under every policy,
    // and carries no shipment.
    let mut order = sample_order();
    order.amazon_order_id = change.amazon_order_id.clone();
    order.order_status = "Canceled".into();
    let event = amazon::order_event(&order, None, None, &[], "sample");
    assert!(event.shipments.is_empty());
    for policy in [
        TriggerPolicy::PaymentOrConfirmation,
        TriggerPolicy::ReadyToShip,
    ] {
        assert!(matches!(
            event.facts.trigger(policy),
            Trigger::Cancel { .. }
        ));
    }
}

#[test]
fn the_sandbox_order_and_its_address_normalize_into_one_shipment() {
    let event = amazon::order_event(
        &sample_order(),
        Some(&sample_address()),
        None,
        &items(),
        "sample",
    );
    assert_eq!(event.order_id, ORDER_ID);
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    assert_eq!(event.shipments.len(), 1);
    let s = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.key.to_string(), "amazon:sample:902-1845936-5435065:1");
    assert_eq!(s.recipient.name, "MFNIntegrationTestMerchant");
    let phone = s.recipient.phone.unwrap();
    assert_eq!(phone.e164, "+14803860930");
    assert_eq!(phone.extension.as_deref(), Some("73824"));
    assert_eq!(s.recipient.email, None);
    assert_eq!(s.recipient.alternate_contact, None);
    assert_eq!(s.address.street, "2201 WESTLAKE AVE");
    assert_eq!(s.address.city, "SEATTLE");
    assert_eq!(s.address.region.as_deref(), Some("WA"));
    assert_eq!(s.address.postal_code.as_deref(), Some("98121-2778"));
    assert_eq!(s.address.country_code, "US");
    assert!(matches!(
        s.payment,
        Payment::Prepaid { order_total } if order_total.minor == 1101 && order_total.currency.code() == "USD"
    ));
    assert_eq!(
        s.ship_by.map(|t| t.unix_timestamp()),
        Some(1_569_913),
        "1970-01-19T04:05:13Z"
    );
    assert_eq!(s.parcel.pieces, 2, "the units not yet shipped");
    assert_eq!(
        event.occurred_at.map(|t| t.unix_timestamp()),
        Some(1_569_512),
        "LastUpdateDate 1970-01-19T03:58:32Z"
    );
}

#[test]
fn without_a_phone_the_relay_address_is_the_contact_and_without_it_a_person_decides() {
    let mut address = sample_address();
    if let Some(a) = address.shipping_address.as_mut() {
        a.phone = None;
    }
    let order = sample_order();
    let event = amazon::order_event(
        &order,
        Some(&address),
        Some(&relay_buyer()),
        &items(),
        "sample",
    );
    let s = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.recipient.phone, None);
    assert_eq!(
        s.recipient.alternate_contact,
        Some(Contact {
            kind: ContactKind::MarketplaceMessaging,
            address: RELAY.into()
        })
    );
    assert_eq!(
        s.recipient.email, None,
        "the relay is messaging, not an inbox"
    );

    let event = amazon::order_event(&order, Some(&address), None, &items(), "sample");
    assert_eq!(
        event.shipments[0]
            .validate(&StoreConfig::default())
            .unwrap_err(),
        [ReviewReason::MissingPhone]
    );

    if let Some(a) = address.shipping_address.as_mut() {
        a.phone = Some("+1 480-XXX-XX30".into());
    }
    let event = amazon::order_event(&order, Some(&address), None, &items(), "sample");
    assert_eq!(
        event.shipments[0]
            .validate(&StoreConfig::default())
            .unwrap_err(),
        [ReviewReason::MaskedPhone]
    );
}

#[test]
fn without_items_the_orders_own_unshipped_count_is_the_piece_count() {
    let event = amazon::order_event(
        &sample_order(),
        Some(&sample_address()),
        None,
        &[],
        "sample",
    );
    assert_eq!(event.shipments[0].pieces, 1, "NumberOfItemsUnshipped");
}
