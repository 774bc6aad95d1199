//! normalize's handler against in-memory fakes of its ports: each stored payload, read by
//! its channel's reader, becomes recorded shipments and task requests, a review item, a
//! cancellation or a wait; repeats ask only what the record says; failures back off or
//! become review items, never silent successes.

use super::*;
use domain::audit::{InboundRecord, InboundState};
use domain::messages::TaskAction;
use domain::review::review_id;
use domain::{Channel, ShipmentKey, ShipmentStatus, StoreConfig, TriggerPolicy};
use fakes::sample::{self, failed, sqs_batch};
use fakes::World;
use serde_json::{json, Value};
use std::time::Duration;

/// Shopify's 2017 test `orders/create` notification: cancelled, voided, phone
/// "555-555-SHIP", a Canadian postcode on a US address.
const SHOPIFY_TEST_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/shopify/orders_create_laravel-shopify_webhook.json");
/// A JSON body that is no Shopify order (shopify-api-js's HMAC sample).
const NOT_AN_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/shopify/hmac_shopify-api-js_body.json");
/// Shopify's example `fulfillments/create` payload.
const SHOPIFY_FULFILLMENT: &[u8] =
    include_bytes!("../../../tests/fixtures/shopify/fulfillments_create_docs_sample_2026-04.json");
/// The generic API's documented examples.
const API_COD_CREATED: &[u8] =
    include_bytes!("../../../docs/api/examples/order.created.cash-on-delivery.json");
const API_CANCELLED: &[u8] = include_bytes!("../../../docs/api/examples/order.cancelled.json");
const API_TWO_SHIPMENTS: &[u8] =
    include_bytes!("../../../docs/api/examples/order.created.prepaid-two-shipments.json");
const API_READY_FIRST_PARCEL: &[u8] =
    include_bytes!("../../../docs/api/examples/order.ready_to_ship.first-parcel.json");
/// Amazon's published ORDER_CHANGE notification (seller A3TH9S8BH6GOGM, order
/// 903-8868176-2219830) and the SP-API sandbox's getOrder / getOrderAddress answers.
const AMAZON_ORDER_CHANGE: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/ORDER_CHANGE_notification_example.json");
const AMAZON_GET_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/getOrder_sandbox_TEST_CASE_200.json");
const AMAZON_GET_ORDER_ADDRESS: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/getOrderAddress_sandbox_TEST_CASE_200.json");

const STORE: &str = "acme";
const AMAZON_STORE: &str = "a3th9s8bh6gogm";
const AMAZON_ORDER: &str = "903-8868176-2219830";

/// A batch of one message, as the event source mapping hands it over.
fn batch(message: &InboundReceived) -> SqsEvent {
    sqs_batch(std::slice::from_ref(message))
}

struct Setup {
    world: World,
    step: Normalize,
}

fn setup() -> Setup {
    let world = World::new();
    let step = Normalize {
        audit: world.audit.clone(),
        shipments: world.shipments.clone(),
        reviews: world.reviews.clone(),
        tasks: world.tasks_queue.clone(),
        rules: world.rules.clone(),
        orders: world.orders.clone(),
        retries: world.retries.clone(),
        backoff: Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        },
    };
    Setup { world, step }
}

/// A complete, valid prepaid Shopify order (paid), shipping to Berlin; the shape of
/// Shopify's `orders/paid` body, as the end-to-end suite's sample order.
fn paid_order(id: u64) -> Value {
    json!({
        "id": id,
        "name": format!("#{id}"),
        "email": "kunde@example.com",
        "currency": "EUR",
        "total_price": "42.50",
        "total_weight": 800,
        "financial_status": "paid",
        "confirmed": true,
        "cancelled_at": null,
        "updated_at": "2026-11-24T10:15:00+01:00",
        "payment_gateway_names": ["shopify_payments"],
        "shipping_address": {
            "name": "Kim Weber", "address1": "Torstraße 1", "address2": "3. OG",
            "city": "Berlin", "zip": "10119", "country_code": "DE", "phone": "030 901820"
        },
        "line_items": [{"quantity": 1, "requires_shipping": true}]
    })
}

/// Stores a verified payload in the audit trail, as an intake does, and returns the intake
/// queue's message that names it.
fn stored(
    s: &Setup,
    channel: &str,
    store: &str,
    topic: &str,
    webhook_id: &str,
    body: &[u8],
) -> InboundReceived {
    let id = domain::audit::inbound_id(channel, store, webhook_id);
    s.world.audit.insert(
        InboundRecord {
            id: id.clone(),
            channel: channel.into(),
            store: store.into(),
            topic: topic.into(),
            webhook_id: webhook_id.into(),
            received_at: "2026-11-24T09:20:00Z".into(),
            triggered_at: None,
            signature: "valid".into(),
            state: InboundState::Enqueued,
            duplicates: 0,
            body: body.to_vec(),
            order_key: None,
            shipment_key: None,
            outcome: None,
            task_id: None,
            task_created_at: None,
            review_id: None,
        },
        0,
    );
    InboundReceived {
        inbound_id: id,
        channel: channel.into(),
        store: store.into(),
        topic: topic.into(),
    }
}

fn shopify(s: &Setup, webhook_id: &str, topic: &str, body: &Value) -> InboundReceived {
    stored(
        s,
        "shopify",
        STORE,
        topic,
        webhook_id,
        body.to_string().as_bytes(),
    )
}

fn api(s: &Setup, event_id: &str, topic: &str, body: &[u8]) -> InboundReceived {
    stored(s, "api", STORE, topic, event_id, body)
}

fn amazon_notification(s: &Setup) -> InboundReceived {
    stored(
        s,
        "amazon",
        AMAZON_STORE,
        "ORDER_CHANGE",
        "d0e9e693-c3ad-4373-979f-ed4ec98dd746",
        AMAZON_ORDER_CHANGE,
    )
}

/// What the audit trail says became of the payload: (state, outcome line).
fn audited(s: &Setup, message: &InboundReceived) -> (InboundState, String) {
    let record = s.world.audit.record(&message.inbound_id).unwrap();
    (record.state, record.outcome.unwrap_or_default())
}

fn shopify_key(order_id: u64) -> ShipmentKey {
    ShipmentKey::new(Channel::Shopify, STORE, &order_id.to_string(), "1")
}

fn requests(s: &Setup) -> Vec<(String, TaskAction)> {
    s.world
        .tasks_queue
        .sent()
        .into_iter()
        .map(|r| (r.shipment_key.to_string(), r.action))
        .collect()
}

async fn with_policy(s: &Setup, channel: Channel, trigger: TriggerPolicy) {
    let config = StoreConfig {
        trigger,
        ..StoreConfig::default()
    };
    s.world.rules.put(channel, STORE, &config).await.unwrap();
}

#[tokio::test]
async fn a_paid_shopify_order_becomes_a_recorded_shipment_and_one_task_request() {
    let s = setup();
    let message = shopify(&s, "w1", "orders/paid", &paid_order(1001));

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    let key = shopify_key(1001);
    let record = s
        .world
        .shipments
        .record(&key)
        .expect("the shipment is recorded");
    assert_eq!(record.status, ShipmentStatus::Pending);
    assert_eq!(record.source_inbound, message.inbound_id);
    assert_eq!(record.shipment.recipient.phone.unwrap().e164, "+4930901820");
    assert_eq!(record.shipment.order_name.as_deref(), Some("#1001"));
    assert_eq!(requests(&s), [(key.to_string(), TaskAction::Create)]);
    assert_eq!(
        audited(&s, &message),
        (InboundState::Processed, "task requested".to_owned())
    );
    let trail = s.world.audit.record(&message.inbound_id).unwrap();
    assert_eq!(trail.order_key.as_deref(), Some("shopify:acme:1001"));
    assert_eq!(trail.shipment_key, Some(key.to_string()));
    assert!(s.world.reviews.items().is_empty());
}

#[tokio::test]
async fn the_same_payload_twice_records_once_and_asks_again_only_while_no_task_exists() {
    let s = setup();
    let message = shopify(&s, "w1", "orders/paid", &paid_order(1002));
    let key = shopify_key(1002);

    let first = s.step.handle(batch(&message)).await;
    // The redelivery finds its own record without a task: the first attempt may have died
    // between recording and asking, so the record says to ask again (create-task is
    // idempotent, a second request makes no second task).
    let second = s.step.handle(batch(&message)).await;

    assert!(failed(&first).is_empty() && failed(&second).is_empty());
    assert_eq!(s.world.shipments.records().len(), 1);
    assert_eq!(
        s.world.shipments.record(&key).unwrap().version,
        1,
        "written once"
    );
    assert_eq!(
        audited(&s, &message).1,
        "task requested (retry)",
        "the second delivery says why it asked again"
    );
    assert_eq!(requests(&s).len(), 2);

    // Once the task exists, the record says there is nothing to ask.
    s.world
        .shipments
        .record_task(&key, domain::CourierKind::Sandbox, &sample::task(1))
        .await
        .unwrap();
    let third = s.step.handle(batch(&message)).await;
    assert!(failed(&third).is_empty());
    assert_eq!(requests(&s).len(), 2, "no request once the task exists");
    assert_eq!(audited(&s, &message).1, "duplicate: task already exists");
    assert_eq!(
        s.world.shipments.record(&key).unwrap().status,
        ShipmentStatus::Created,
        "the duplicate changed nothing"
    );
}

#[tokio::test]
async fn another_payload_reporting_the_same_order_state_is_a_duplicate_that_asks_nothing() {
    let s = setup();
    // Shopify sends orders/create, orders/paid and orders/updated for one change: three
    // webhook ids, one order state.
    let paid = shopify(&s, "w1", "orders/paid", &paid_order(1003));
    let updated = shopify(&s, "w2", "orders/updated", &paid_order(1003));

    let response = s.step.handle(batch(&paid)).await;
    let again = s.step.handle(batch(&updated)).await;

    assert!(failed(&response).is_empty() && failed(&again).is_empty());
    assert_eq!(
        requests(&s),
        [(shopify_key(1003).to_string(), TaskAction::Create)],
        "one request"
    );
    assert_eq!(audited(&s, &updated).1, "duplicate: task already requested");
    assert_eq!(
        s.world
            .shipments
            .record(&shopify_key(1003))
            .unwrap()
            .source_inbound,
        paid.inbound_id,
        "the record keeps the payload that wrote it"
    );
}

#[tokio::test]
async fn an_order_with_an_undialable_phone_becomes_a_review_item_with_every_reason() {
    let s = setup();
    // Shopify's test order, paid and not cancelled: phone "555-555-SHIP", postcode K2P0S0
    // on a US address.
    let mut order: Value = serde_json::from_slice(SHOPIFY_TEST_ORDER).unwrap();
    order["financial_status"] = json!("paid");
    order["cancelled_at"] = Value::Null;
    let message = shopify(&s, "w1", "orders/paid", &order);

    let response = s.step.handle(batch(&message)).await;

    assert!(
        failed(&response).is_empty(),
        "a review item is an answer, not a retry"
    );
    let key = shopify_key(820_982_911_946_154_508);
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item.id, review_id(&key.to_string()));
    assert_eq!(item.kind, "shipment");
    assert_eq!(
        item.reasons,
        [
            ReviewReason::InvalidPostalCode {
                value: "K2P0S0".into(),
                country: "US".into()
            },
            ReviewReason::InvalidPhone {
                value: "555-555-SHIP".into()
            },
        ],
        "every reason, not just the first"
    );
    assert!(
        item.draft.is_some(),
        "the draft is kept for an operator to fix"
    );
    assert_eq!(
        item.source_inbound.as_deref(),
        Some(message.inbound_id.as_str())
    );
    let (state, outcome) = audited(&s, &message);
    assert_eq!(state, InboundState::Processed);
    assert_eq!(outcome, "needs review: invalid_postal_code, invalid_phone");
    let trail = s.world.audit.record(&message.inbound_id).unwrap();
    assert_eq!(trail.review_id.as_deref(), Some(item.id.as_str()));
    assert!(
        s.world.shipments.records().is_empty(),
        "nothing is recorded"
    );
    assert!(requests(&s).is_empty(), "no task is asked for");
}

#[tokio::test]
async fn a_twenty_thousand_character_name_becomes_one_too_long_review_item_never_a_task() {
    let s = setup();
    // A signed order whose name a courier would refuse far from here, wrapped in a
    // right-to-left override.
    let name = format!("\u{202E}{}", "K".repeat(20_000));
    let mut order = paid_order(1010);
    order["shipping_address"]["name"] = json!(name);
    order["shipping_address"]["zip"] = json!("1011");
    let message = shopify(&s, "w1", "orders/paid", &order);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty(), "a review item is an answer");
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1, "one item for the shipment");
    let item = &items[0];
    assert_eq!(item.id, review_id(&shopify_key(1010).to_string()));
    assert_eq!(
        item.reasons,
        [
            ReviewReason::InvalidPostalCode {
                value: "1011".into(),
                country: "DE".into()
            },
            ReviewReason::TooLong {
                field: "recipient_name".into(),
                length: 20_000,
                limit: 200,
            },
        ],
        "every reason, the name counted without its override"
    );
    let draft = item.draft.as_ref().expect("the draft is kept to fix");
    assert_eq!(
        draft.recipient_name.as_deref(),
        Some("K".repeat(20_000).as_str()),
        "kept whole for the dispatcher, without the override"
    );
    assert_eq!(
        audited(&s, &message),
        (
            InboundState::Processed,
            "needs review: invalid_postal_code, too_long".to_owned()
        )
    );
    assert!(
        s.world.shipments.records().is_empty(),
        "nothing is recorded"
    );
    assert!(requests(&s).is_empty(), "no task is asked for");
}

#[tokio::test]
async fn a_right_to_left_override_in_a_name_never_reaches_the_courier_task() {
    let s = setup();
    let mut order = paid_order(1011);
    // Displayed as is, U+202E shows "Kim Weber" reversed: "rebeW miK".
    order["shipping_address"]["name"] = json!("\u{202E}Kim Weber\u{202C}");
    order["shipping_address"]["address1"] = json!("Tor\u{2067}straße 1\u{2069}");
    let message = shopify(&s, "w1", "orders/paid", &order);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    let key = shopify_key(1011);
    let record = s.world.shipments.record(&key).expect("recorded");
    assert_eq!(record.shipment.recipient.name, "Kim Weber");
    assert_eq!(record.shipment.address.street, "Torstraße 1");
    assert_eq!(requests(&s), [(key.to_string(), TaskAction::Create)]);

    // create-task, on the request normalize queued, against the same world.
    let create = create_task::CreateTask {
        shipments: s.world.shipments.clone(),
        reviews: s.world.reviews.clone(),
        audit: s.world.audit.clone(),
        idempotency: s.world.idempotency.clone(),
        tasks: s.world.tasks_queue.clone(),
        retries: s.world.retries.clone(),
        sync: s.world.sync_queue.clone(),
        rules: s.world.rules.clone(),
        notifiers: s.world.notifiers.clone(),
        outbox: s.world.outbox.clone(),
        wake: s.world.outbox_queue.clone(),
        links: None,
        couriers: s.world.couriers.clone(),
        metrics: aws::metrics::Metrics::with_sink(Arc::new(aws::metrics::CaptureSink::default())),
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        },
    };
    let response = create.handle(sqs_batch(&s.world.tasks_queue.drain())).await;
    assert!(failed(&response).is_empty());
    let tasks = s.world.courier.tasks();
    assert_eq!(tasks.len(), 1, "one courier task");
    let sent = &tasks[0].shipment;
    assert_eq!(sent.recipient.name, "Kim Weber");
    assert!(!sent.recipient.name.contains('\u{202E}'));
    assert_eq!(sent.address.street, "Torstraße 1");
}

#[tokio::test]
async fn a_payload_that_is_not_the_channels_contract_becomes_an_unparseable_payload_review() {
    let s = setup();
    let message = stored(&s, "shopify", STORE, "orders/paid", "w1", NOT_AN_ORDER);

    let response = s.step.handle(batch(&message)).await;

    assert!(
        failed(&response).is_empty(),
        "the same bytes fail the same way: no retry"
    );
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, review_id(&message.inbound_id));
    assert_eq!(items[0].kind, "payload");
    assert!(
        matches!(&items[0].reasons[..], [ReviewReason::UnparseablePayload { error }] if error.contains("shopify")),
        "{:?}",
        items[0].reasons
    );
    assert_eq!(
        audited(&s, &message),
        (
            InboundState::Review,
            "needs review: unparseable_payload".to_owned()
        )
    );
    assert!(s.world.shipments.records().is_empty());
    assert!(requests(&s).is_empty());
}

#[tokio::test]
async fn a_cancellation_before_the_task_cancels_the_shipment_here() {
    let s = setup();
    // Order 2077 (cash on delivery, confirmed) ships; then the API cancels it.
    let created = api(&s, "evt-created", "order.created", API_COD_CREATED);
    let response = s.step.handle(sqs_batch(&[created])).await;
    assert!(failed(&response).is_empty());
    let key = ShipmentKey::new(Channel::Api, STORE, "2077", "1");
    assert_eq!(requests(&s), [(key.to_string(), TaskAction::Create)]);
    let record = s.world.shipments.record(&key).unwrap();
    assert_eq!(
        record.shipment.payment.cod_amount().map(|m| m.minor),
        Some(24_900),
        "PLN 249.00 to collect"
    );

    let cancelled = api(&s, "evt-cancelled", "order.cancelled", API_CANCELLED);
    let response = s.step.handle(batch(&cancelled)).await;

    assert!(failed(&response).is_empty());
    let record = s.world.shipments.record(&key).unwrap();
    assert_eq!(
        record.status,
        ShipmentStatus::Cancelled,
        "no task yet: cancelled here"
    );
    assert!(record.cancel_requested);
    assert_eq!(requests(&s).len(), 1, "the courier need not hear of it");
    assert_eq!(
        audited(&s, &cancelled),
        (
            InboundState::Processed,
            "cancelled: order cancelled; 1 shipment(s), 0 courier cancellation(s) requested"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn a_cancellation_after_the_task_asks_the_courier_to_cancel_it() {
    let s = setup();
    let shipment = sample::shipment(STORE, "2078");
    s.world.shipments.insert(sample::with_task(
        &shipment,
        &sample::task(4),
        ShipmentStatus::Assigned,
    ));
    let mut order = paid_order(2078);
    order["cancelled_at"] = json!("2026-11-24T12:40:00Z");
    order["updated_at"] = json!("2026-11-24T12:40:00Z");
    let message = shopify(&s, "w9", "orders/cancelled", &order);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        requests(&s),
        [(shipment.key.to_string(), TaskAction::Cancel)]
    );
    let record = s.world.shipments.record(&shipment.key).unwrap();
    assert!(record.cancel_requested);
    assert_eq!(
        record.status,
        ShipmentStatus::Assigned,
        "the courier decides"
    );
    assert_eq!(
        audited(&s, &message).1,
        "cancelled: order cancelled; 1 shipment(s), 1 courier cancellation(s) requested"
    );
}

#[tokio::test]
async fn a_cancelled_order_never_seen_before_is_remembered_so_a_late_older_event_ships_nothing() {
    let s = setup();
    // Shopify's test order is cancelled and voided.
    let cancelled = stored(
        &s,
        "shopify",
        STORE,
        "orders/cancelled",
        "w1",
        SHOPIFY_TEST_ORDER,
    );
    let response = s.step.handle(batch(&cancelled)).await;
    assert!(failed(&response).is_empty());
    assert_eq!(
        audited(&s, &cancelled).1,
        "ignored: order cancelled (no shipment existed)"
    );

    // An older, paid version of the same order arrives late.
    let mut older = paid_order(820_982_911_946_154_508);
    older["updated_at"] = json!("2017-07-17T13:40:00-04:00");
    let late = shopify(&s, "w0", "orders/paid", &older);
    let response = s.step.handle(batch(&late)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(audited(&s, &late).1, "ignored: the order was cancelled");
    assert!(requests(&s).is_empty(), "no task for a cancelled order");
    let key = shopify_key(820_982_911_946_154_508);
    assert_eq!(
        s.world.shipments.record(&key).map(|r| r.status),
        Some(ShipmentStatus::Cancelled)
    );
}

#[tokio::test]
async fn an_order_the_trigger_policy_waits_for_records_why_and_asks_nothing() {
    let s = setup();
    let mut unpaid = paid_order(1004);
    unpaid["financial_status"] = json!("pending");
    let message = shopify(&s, "w1", "orders/create", &unpaid);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        audited(&s, &message),
        (
            InboundState::Processed,
            "waiting: payment not captured".to_owned()
        )
    );
    assert!(s.world.shipments.records().is_empty());
    assert!(requests(&s).is_empty());
}

#[tokio::test]
async fn under_the_ready_to_ship_policy_only_the_parcels_the_warehouse_readied_ship() {
    let s = setup();
    with_policy(&s, Channel::Api, TriggerPolicy::ReadyToShip).await;
    let created = api(&s, "evt-1", "order.created", API_TWO_SHIPMENTS);
    let ready = api(&s, "evt-2", "order.ready_to_ship", API_READY_FIRST_PARCEL);

    let first = s.step.handle(batch(&created)).await;
    assert!(failed(&first).is_empty());
    assert_eq!(
        audited(&s, &created).1,
        "waiting: waiting for the warehouse (ready_to_ship policy)"
    );
    assert!(requests(&s).is_empty());

    let second = s.step.handle(batch(&ready)).await;
    assert!(failed(&second).is_empty());
    let parcel = ShipmentKey::new(Channel::Api, STORE, "SO-1001", "SO-1001-1");
    assert_eq!(requests(&s), [(parcel.to_string(), TaskAction::Create)]);
    assert_eq!(
        s.world.shipments.records().len(),
        1,
        "the second parcel waits"
    );
    assert_eq!(audited(&s, &ready).1, "task requested");
}

#[tokio::test]
async fn an_order_of_two_shipments_records_each_with_its_own_request() {
    let s = setup();
    let message = api(&s, "evt-1", "order.created", API_TWO_SHIPMENTS);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    let keys: Vec<String> = ["SO-1001-1", "SO-1001-2"]
        .map(|id| ShipmentKey::new(Channel::Api, STORE, "SO-1001", id).to_string())
        .into();
    assert_eq!(
        requests(&s),
        keys.iter()
            .map(|k| (k.clone(), TaskAction::Create))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        audited(&s, &message).1,
        format!("{}: task requested; {}: task requested", keys[0], keys[1])
    );
}

#[tokio::test]
async fn a_readiness_event_under_the_payment_policy_is_ignored() {
    let s = setup();
    let message = stored(
        &s,
        "shopify",
        STORE,
        "fulfillments/create",
        "w1",
        SHOPIFY_FULFILLMENT,
    );

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    let (state, outcome) = audited(&s, &message);
    assert_eq!(state, InboundState::Processed);
    assert!(
        outcome.starts_with("ignored: readiness events"),
        "{outcome}"
    );
    assert!(s.world.shipments.records().is_empty());
    assert!(requests(&s).is_empty());
}

#[tokio::test]
async fn a_storage_outage_backs_off_and_the_retry_records_the_shipment_once() {
    let s = setup();
    let message = shopify(&s, "w1", "orders/paid", &paid_order(1005));
    s.world
        .shipments
        .faults
        .inject("record", fakes::unavailable("PutItem"));

    let response = s.step.handle(batch(&message)).await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert_eq!(delays.len(), 1);
    assert_eq!(delays[0].0, "r1");
    assert!(
        delays[0].1 >= Duration::from_secs(1),
        "backs off per the policy: {delays:?}"
    );
    assert!(s.world.shipments.records().is_empty());
    assert!(requests(&s).is_empty());
    assert_eq!(
        audited(&s, &message).0,
        InboundState::Enqueued,
        "no outcome yet"
    );

    let retry = s.step.handle(batch(&message)).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(requests(&s).len(), 1);
    assert_eq!(audited(&s, &message).1, "task requested");
}

/// Handles `message` once with the task queue down (the payload is recorded, the request
/// is not sent, the message comes back), then again with it up.
async fn lose_the_request_then_retry(s: &Setup, message: &InboundReceived) {
    s.world
        .tasks_queue
        .faults
        .inject("send", fakes::unavailable("SendMessage"));
    let response = s.step.handle(batch(message)).await;
    assert_eq!(
        failed(&response),
        ["m1"],
        "recorded, but not asked: retried"
    );
    assert!(requests(s).is_empty());
    let retry = s.step.handle(batch(message)).await;
    assert!(failed(&retry).is_empty());
}

#[tokio::test]
async fn a_lost_task_request_is_retried_and_the_retry_asks_again() {
    let s = setup();
    let message = shopify(&s, "w1", "orders/paid", &paid_order(1006));
    lose_the_request_then_retry(&s, &message).await;
    assert!(s.world.shipments.record(&shopify_key(1006)).is_some());
    assert_eq!(
        requests(&s),
        [(shopify_key(1006).to_string(), TaskAction::Create)]
    );
    assert_eq!(audited(&s, &message).1, "task requested (retry)");
}

#[tokio::test]
async fn an_amazon_order_the_orders_api_refuses_becomes_a_store_rejected_review() {
    let s = setup();
    s.world.orders.faults.inject(
        "order_event",
        PartnerError::rejected("amazon", "403", "Access to requested resource is denied."),
    );
    let message = amazon_notification(&s);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty(), "a refusal is not retried");
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, review_id(&message.inbound_id));
    assert!(
        matches!(&items[0].reasons[..], [ReviewReason::StoreRejected { message }] if message.contains("Access to requested resource is denied")),
        "{:?}",
        items[0].reasons
    );
    assert_eq!(
        audited(&s, &message),
        (
            InboundState::Review,
            "needs review: store_rejected".to_owned()
        )
    );
    assert!(requests(&s).is_empty());
}

#[tokio::test]
async fn a_throttled_orders_api_backs_off_honouring_its_retry_after() {
    let s = setup();
    s.world.orders.faults.inject(
        "order_event",
        PartnerError::Throttled {
            partner: "amazon",
            retry_after: Some(Duration::from_secs(30)),
        },
    );
    let message = amazon_notification(&s);

    let response = s.step.handle(batch(&message)).await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert!(delays[0].1 >= Duration::from_secs(30), "{delays:?}");
    assert!(
        s.world.reviews.items().is_empty(),
        "a throttle is no refusal"
    );
    assert_eq!(audited(&s, &message).0, InboundState::Enqueued);
}

#[tokio::test]
async fn an_amazon_notification_ships_the_order_the_orders_api_returns() {
    let s = setup();
    // The sandbox's getOrder/getOrderAddress answers, read as the Orders API client reads
    // them, stand for the order the notification names.
    let order = channels::amazon::parse_order(AMAZON_GET_ORDER).unwrap();
    let address = channels::amazon::parse_order_address(AMAZON_GET_ORDER_ADDRESS).unwrap();
    let event = channels::amazon::order_event(&order, Some(&address), None, &[], AMAZON_STORE);
    let order_id = event.order_id.clone();
    s.world.orders.put(AMAZON_STORE, AMAZON_ORDER, event);
    let message = amazon_notification(&s);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    let key = ShipmentKey::new(Channel::Amazon, AMAZON_STORE, &order_id, "1");
    let record = s.world.shipments.record(&key).expect("recorded");
    assert!(
        record.shipment.ship_by.is_some(),
        "the latest ship date is kept"
    );
    assert_eq!(requests(&s), [(key.to_string(), TaskAction::Create)]);
    assert_eq!(audited(&s, &message).1, "task requested");
}

#[tokio::test]
async fn an_order_amazon_fulfils_itself_is_ignored_without_asking_the_orders_api() {
    let s = setup();
    let mut notification: Value = serde_json::from_slice(AMAZON_ORDER_CHANGE).unwrap();
    notification["Payload"]["OrderChangeNotification"]["Summary"]["FulfillmentType"] = json!("AFN");
    // Had the order been fetched, the fake Orders API (which knows no order) would have
    // refused it and a review item would say so.
    let message = stored(
        &s,
        "amazon",
        AMAZON_STORE,
        "ORDER_CHANGE",
        "afn-1",
        notification.to_string().as_bytes(),
    );

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        audited(&s, &message),
        (
            InboundState::Processed,
            "ignored: fulfilled by Amazon".to_owned()
        )
    );
    assert!(
        s.world.reviews.items().is_empty(),
        "the Orders API was not asked"
    );
    assert!(s.world.shipments.records().is_empty());
    assert!(requests(&s).is_empty());
}

#[tokio::test]
async fn a_queued_id_missing_from_the_audit_trail_is_poison() {
    let s = setup();
    let message = InboundReceived {
        inbound_id: "shopify:acme:never-stored".into(),
        channel: "shopify".into(),
        store: STORE.into(),
        topic: "orders/paid".into(),
    };

    let response = s.step.handle(sqs_batch(&[message])).await;

    assert_eq!(failed(&response), ["m1"]);
    assert_eq!(
        s.world.retries.delays(),
        [("r1".to_owned(), Duration::ZERO)],
        "poison is not held back: it walks to the DLQ"
    );
    assert!(s.world.reviews.items().is_empty());
    assert!(requests(&s).is_empty());

    let unreadable = s.step.handle(sample::sqs_raw(&["{\"inbound\":"])).await;
    assert_eq!(failed(&unreadable), ["m1"]);
    assert_eq!(
        s.world.retries.delays().last().map(|(_, d)| *d),
        Some(Duration::ZERO)
    );
}

#[tokio::test]
async fn one_bad_record_does_not_hold_back_the_others_in_its_batch() {
    let s = setup();
    let good = shopify(&s, "w1", "orders/paid", &paid_order(1007));
    let missing = InboundReceived {
        inbound_id: "shopify:acme:gone".into(),
        ..good.clone()
    };

    let response = s.step.handle(sqs_batch(&[missing, good])).await;

    assert_eq!(failed(&response), ["m1"]);
    assert_eq!(
        requests(&s),
        [(shopify_key(1007).to_string(), TaskAction::Create)]
    );
}

/// The task queue, yielding before each send: a record of a batch pauses mid-way, inside
/// its span, and lets the next one run.
struct YieldingQueue(Arc<fakes::FakeQueue<TaskRequested>>);

#[async_trait::async_trait]
impl Queue<TaskRequested> for YieldingQueue {
    async fn send(&self, message: &TaskRequested) -> Result<(), StorageError> {
        tokio::task::yield_now().await;
        self.0.send(message).await
    }
}

#[test]
fn each_concurrent_records_log_lines_carry_its_own_payload() {
    let mut s = setup();
    s.step.tasks = Arc::new(YieldingQueue(s.world.tasks_queue.clone()));
    let acme = stored(
        &s,
        "shopify",
        "acme",
        "orders/paid",
        "wa",
        paid_order(1001).to_string().as_bytes(),
    );
    let beta = stored(
        &s,
        "shopify",
        "beta",
        "orders/paid",
        "wb",
        paid_order(1002).to_string().as_bytes(),
    );
    fakes::logs::capture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let response = runtime.block_on(s.step.handle(sqs_batch(&[acme.clone(), beta.clone()])));

    assert!(failed(&response).is_empty());
    let lines = fakes::logs::lines();
    let mut checked = 0;
    for event in &lines {
        let Some(shipment) = event["fields"]["shipment"].as_str() else {
            continue;
        };
        let (expected, message_id) = if shipment.contains(":acme:") {
            (&acme, "m1")
        } else {
            (&beta, "m2")
        };
        assert_eq!(
            event["span"]["inbound"].as_str(),
            Some(expected.inbound_id.as_str()),
            "{event}"
        );
        assert_eq!(
            event["span"]["store"].as_str(),
            Some(expected.store.as_str()),
            "{event}"
        );
        // Inside its own SQS message's span, and in no other record's.
        let spans = event["spans"].as_array().expect("the span list");
        assert_eq!(spans.len(), 2, "only its own spans are open: {event}");
        assert_eq!(spans[0]["message_id"].as_str(), Some(message_id), "{event}");
        checked += 1;
    }
    assert_eq!(checked, 2, "each record logged its shipment: {lines:?}");
}

/// The task queue with create-task behind it, as fast as it can be: an update request is
/// answered at once by the shipment's next review item (the driver has the parcel).
struct CourierTooFarAlong {
    queue: Arc<fakes::FakeQueue<TaskRequested>>,
    reviews: Arc<dyn domain::ports::ReviewInbox>,
}

#[async_trait::async_trait]
impl Queue<TaskRequested> for CourierTooFarAlong {
    async fn send(&self, message: &TaskRequested) -> Result<(), StorageError> {
        self.queue.send(message).await?;
        if message.action == TaskAction::Update {
            let key = message.shipment_key.to_string();
            let mut item = domain::ReviewItem::new(
                &key,
                "task",
                vec![domain::ReviewReason::EditAfterPickup {
                    status: "picked_up".into(),
                    changed: vec!["shipment".into()],
                }],
            );
            item.shipment_key = Some(key);
            self.reviews.open(&item).await?;
        }
        Ok(())
    }
}

/// A shipment whose task a driver has, and a stored edit of its address.
fn edit_of_an_assigned_shipment(s: &Setup, order: u64) -> (domain::Shipment, InboundReceived) {
    let shipment = sample::shipment(STORE, &order.to_string());
    s.world.shipments.insert(sample::with_task(
        &shipment,
        &sample::task(5),
        ShipmentStatus::Assigned,
    ));
    let mut edited = paid_order(order);
    edited["shipping_address"]["address1"] = json!("Karl-Marx-Allee 90");
    let message = shopify(s, &format!("edit-{order}"), "orders/updated", &edited);
    (shipment, message)
}

#[tokio::test]
async fn an_edit_does_not_close_the_review_item_its_own_update_opened() {
    let mut s = setup();
    s.step.tasks = Arc::new(CourierTooFarAlong {
        queue: s.world.tasks_queue.clone(),
        reviews: s.world.reviews.clone(),
    });
    let (shipment, message) = edit_of_an_assigned_shipment(&s, 2079);

    let response = s.step.handle(batch(&message)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        requests(&s),
        [(shipment.key.to_string(), TaskAction::Update)]
    );
    let open = s.world.reviews.open_items();
    assert_eq!(open.len(), 1, "{:?}", s.world.reviews.items());
    assert_eq!(open[0].reasons[0].code(), "edit_after_pickup");
}

#[tokio::test]
async fn an_edit_whose_update_request_was_lost_asks_for_it_again_on_retry() {
    let s = setup();
    let (shipment, message) = edit_of_an_assigned_shipment(&s, 2080);
    lose_the_request_then_retry(&s, &message).await;
    assert_eq!(
        requests(&s),
        [(shipment.key.to_string(), TaskAction::Update)],
        "the edit reaches the courier"
    );
    assert_eq!(audited(&s, &message).1, "task update requested (retry)");

    // The order's first payload, delivered again, still asks nothing.
    let first = shopify(&s, "w0", "orders/paid", &paid_order(2080));
    let again = s.step.handle(batch(&first)).await;
    assert!(failed(&again).is_empty());
    assert_eq!(requests(&s).len(), 1);
}
