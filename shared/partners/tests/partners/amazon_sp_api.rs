//! `SpApiClient` against the sandbox's fake SP-API (LWA + Orders API v0), and its error
//! mapping against wiremock.

use domain::error::Classify;
use domain::order::Trigger;
use domain::ports::StoreWriter;
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::PartnerError;
use domain::{Channel, ContactKind, ShipmentKey, ShipmentStatus, StoreConfig, TriggerPolicy};
use partners::stores::amazon::{package_reference_id, AmazonCredentials, SpApiClient};
use sandbox::{
    AmazonOrderSeed, Sandbox, SandboxConfig, AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET,
    AMAZON_REFRESH_TOKEN, AMAZON_TOKEN_PATH,
};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/amazon");
const ORDER_ID: &str = "902-1845936-5435065";

fn payload(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["payload"].clone()
}

/// The SP-API sandbox's TEST_CASE_200 order and address, with a relay buyer and three items
/// (two pages in the fake).
fn seed() -> AmazonOrderSeed {
    AmazonOrderSeed {
        order: payload("getOrder_sandbox_TEST_CASE_200.json"),
        address: Some(payload("getOrderAddress_sandbox_TEST_CASE_200.json")),
        buyer_info: Some(json!({
            "AmazonOrderId": ORDER_ID, "BuyerEmail": "fzyrv6gwkhbb15c@marketplace.amazon.com",
            "BuyerName": "MFNIntegrationTestMerchant"
        })),
        order_items: vec![
            json!({"OrderItemId": "05015851154158", "QuantityOrdered": 2, "QuantityShipped": 0}),
            json!({"OrderItemId": "05015851154159", "QuantityOrdered": 1, "QuantityShipped": 1}),
            json!({"OrderItemId": "05015851154160", "QuantityOrdered": 1}),
        ],
    }
}

async fn start() -> Sandbox {
    let config = SandboxConfig {
        courier_api_key: "sbx_test_key".into(),
        shopify_access_token: "shpat_test_token".into(),
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .unwrap()
}

fn credentials(base: &str, refresh_token: &str) -> AmazonCredentials {
    AmazonCredentials {
        lwa_client_id: AMAZON_LWA_CLIENT_ID.into(),
        lwa_client_secret: AMAZON_LWA_CLIENT_SECRET.into(),
        refresh_token: refresh_token.into(),
        marketplace_id: "ATVPDKIKX0DER".into(),
        endpoint: base.into(),
        lwa_token_url: format!("{base}{AMAZON_TOKEN_PATH}"),
    }
}

fn client(base: &str) -> SpApiClient {
    SpApiClient::new(
        reqwest::Client::new(),
        credentials(base, AMAZON_REFRESH_TOKEN),
    )
}

fn key(order_id: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::Amazon, "sample", order_id, "1")
}

fn tracking() -> Tracking {
    Tracking {
        number: "SBX0123456789".into(),
        url: Some("http://127.0.0.1/track/SBX0123456789".into()),
        company: "Sandbox Courier".into(),
    }
}

#[tokio::test]
async fn a_seeded_order_is_fetched_with_one_cached_token_and_every_item_page() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let api = client(&sandbox.base_url());

    let fetched = api.fetch_order(ORDER_ID).await.unwrap();
    assert_eq!(fetched.order.order_status, "Unshipped");
    assert_eq!(fetched.items.len(), 3, "both pages");
    assert_eq!(
        fetched.buyer, None,
        "the phone is there: no buyer-info call"
    );
    let event = fetched.event("sample");
    assert_eq!(
        event.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
        Trigger::Ship
    );
    let s = event.shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.key.to_string(), "amazon:sample:902-1845936-5435065:1");
    assert_eq!(s.parcel.pieces, 3);
    assert_eq!(
        s.recipient.phone.unwrap().extension.as_deref(),
        Some("73824")
    );

    let buyer = api.get_order_buyer_info(ORDER_ID).await.unwrap();
    assert!(buyer
        .buyer_email
        .unwrap()
        .ends_with("@marketplace.amazon.com"));
    assert_eq!(sandbox.amazon_token_grants(), 1, "the token is cached");
}

#[tokio::test]
async fn a_hidden_phone_makes_the_fetch_include_the_relay_address() {
    let sandbox = start().await;
    let mut seed = seed();
    if let Some(address) = seed.address.as_mut() {
        address["ShippingAddress"]["Phone"] = json!("");
    }
    sandbox.seed_amazon_order(seed).unwrap();
    let fetched = client(&sandbox.base_url())
        .fetch_order(ORDER_ID)
        .await
        .unwrap();
    let s = fetched.event("sample").shipments[0]
        .validate(&StoreConfig::default())
        .unwrap();
    assert_eq!(s.recipient.phone, None);
    assert_eq!(
        s.recipient.alternate_contact.map(|c| c.kind),
        Some(ContactKind::MarketplaceMessaging)
    );
}

#[tokio::test]
async fn write_tracking_confirms_the_unshipped_units_once() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let writer: Box<dyn StoreWriter> = Box::new(client(&sandbox.base_url()));
    let reference = package_reference_id(&key(ORDER_ID));

    let first = writer
        .write_tracking(&key(ORDER_ID), &tracking())
        .await
        .unwrap();
    assert_eq!(
        first,
        WriteBack::Written {
            reference: reference.clone()
        }
    );
    let confirmations = sandbox.amazon_confirmations();
    assert_eq!(confirmations.len(), 1);
    let c = &confirmations[0];
    assert_eq!(
        (c.order_id.as_str(), c.marketplace_id.as_str()),
        (ORDER_ID, "ATVPDKIKX0DER")
    );
    assert_eq!(c.package_reference_id, reference);
    assert_eq!(
        (c.carrier_code.as_str(), c.carrier_name.as_deref()),
        ("Other", Some("Sandbox Courier"))
    );
    assert_eq!(c.tracking_number, "SBX0123456789");
    let items: Vec<(&str, u32)> = c
        .order_items
        .iter()
        .map(|i| (i.order_item_id.as_str(), i.quantity))
        .collect();
    assert_eq!(items, [("05015851154158", 2), ("05015851154160", 1)]);
    assert_eq!(
        sandbox.amazon_order(ORDER_ID).unwrap()["OrderStatus"],
        "Shipped"
    );

    let second = writer
        .write_tracking(&key(ORDER_ID), &tracking())
        .await
        .unwrap();
    assert_eq!(second, WriteBack::AlreadyThere { reference });
    assert_eq!(sandbox.amazon_confirmations().len(), 1);
}

#[tokio::test]
async fn missing_cancelled_and_unauthorised_orders_fail_the_right_way() {
    let sandbox = start().await;
    let mut cancelled = seed();
    cancelled.order["AmazonOrderId"] = json!("902-0000000-0000001");
    cancelled.order["OrderStatus"] = json!("Canceled");
    sandbox.seed_amazon_order(cancelled).unwrap();
    let api = client(&sandbox.base_url());

    let missing = api.get_order("111-0000000-0000000").await.unwrap_err();
    assert_eq!(
        missing,
        PartnerError::rejected("amazon", "404", "Amazon has no order 111-0000000-0000000")
    );
    assert_eq!(missing.rejected_status(), Some(404));
    assert!(!missing.is_transient());
    let as_store = StoreWriter::write_tracking(&api, &key("111-0000000-0000000"), &tracking())
        .await
        .unwrap_err();
    assert!(
        matches!(as_store, PartnerError::Rejected { .. }),
        "{as_store}"
    );
    assert_eq!(as_store, missing);

    let refused = api
        .write_tracking(&key("902-0000000-0000001"), &tracking())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, PartnerError::Rejected { code, .. } if code == "not_confirmable"),
        "{refused}"
    );
    assert!(sandbox.amazon_confirmations().is_empty());

    let wrong = SpApiClient::new(
        reqwest::Client::new(),
        credentials(&sandbox.base_url(), "Atzr|revoked"),
    );
    let auth = wrong.get_order(ORDER_ID).await.unwrap_err();
    assert!(
        matches!(&auth, PartnerError::Config { message: m, .. } if m.contains("invalid_grant")),
        "{auth}"
    );
    assert!(
        auth.is_transient(),
        "an operator fixes the secret; messages wait"
    );
}

async fn lwa(server: &MockServer, expires_in: u64, grants: u64) {
    Mock::given(method("POST"))
        .and(path("/auth/o2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "Atza|mock", "token_type": "bearer", "expires_in": expires_in
        })))
        .expect(grants)
        .mount(server)
        .await;
}

fn mock_client(server: &MockServer) -> SpApiClient {
    SpApiClient::new(reqwest::Client::new(), credentials(&server.uri(), "Atzr|r"))
}

#[tokio::test]
async fn throttling_reports_the_usage_plan_wait() {
    let server = MockServer::start().await;
    lwa(&server, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/orders/v0/orders/{ORDER_ID}")))
        .and(header("x-amz-access-token", "Atza|mock"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-amzn-RateLimit-Limit", "0.5")
                .set_body_json(json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]})),
        )
        .mount(&server)
        .await;
    let err = mock_client(&server).get_order(ORDER_ID).await.unwrap_err();
    assert_eq!(
        err,
        PartnerError::Throttled {
            partner: "amazon",
            retry_after: Some(Duration::from_secs(2))
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_failed_write_is_ambiguous_a_failed_read_unavailable() {
    let server = MockServer::start().await;
    lwa(&server, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/orders/v0/orders/{ORDER_ID}")))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/orders/v0/orders/{ORDER_ID}/shipmentConfirmation"
        )))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let api = mock_client(&server);
    assert!(matches!(
        api.get_order(ORDER_ID).await,
        Err(PartnerError::Unavailable { .. })
    ));
    let package = partners::stores::amazon::PackageDetail {
        package_reference_id: "1".into(),
        carrier_code: "Other".into(),
        carrier_name: Some("Sandbox Courier".into()),
        shipping_method: None,
        tracking_number: "T".into(),
        ship_date: "2026-11-20T10:00:00Z".into(),
        order_items: vec![],
    };
    assert!(matches!(
        api.confirm_shipment(ORDER_ID, "ATVPDKIKX0DER", &package)
            .await,
        Err(PartnerError::Ambiguous { .. })
    ));
}

#[tokio::test]
async fn a_refused_token_is_replaced_on_the_next_call() {
    let server = MockServer::start().await;
    lwa(&server, 3600, 2).await;
    Mock::given(method("GET"))
        .and(path(format!("/orders/v0/orders/{ORDER_ID}/buyerInfo")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]
        })))
        .mount(&server)
        .await;
    let api = mock_client(&server);
    for _ in 0..2 {
        let err = api.get_order_buyer_info(ORDER_ID).await.unwrap_err();
        assert!(
            matches!(&err, PartnerError::Config { message: m, .. } if m.contains("Unauthorized")),
            "{err}"
        );
    }
    // The LWA mock's `expect(2)` is verified when the server drops.
}

#[tokio::test]
async fn a_token_expiring_within_the_margin_is_not_kept() {
    let server = MockServer::start().await;
    lwa(&server, 30, 2).await;
    Mock::given(method("GET"))
        .and(path(format!("/orders/v0/orders/{ORDER_ID}/buyerInfo")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"payload": {"AmazonOrderId": ORDER_ID}})),
        )
        .mount(&server)
        .await;
    let api = mock_client(&server);
    for _ in 0..2 {
        assert_eq!(
            api.get_order_buyer_info(ORDER_ID)
                .await
                .unwrap()
                .buyer_email,
            None
        );
    }
}

#[tokio::test]
async fn order_ids_that_would_change_the_path_are_refused_before_any_call() {
    let server = MockServer::start().await;
    lwa(&server, 3600, 0).await;
    let err = mock_client(&server).get_order("../x").await.unwrap_err();
    assert!(
        matches!(&err, PartnerError::Rejected { code, message, .. }
            if code == "invalid_order_id" && message.contains("../x")),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn delivery_statuses_are_not_written_to_amazon_and_make_no_call() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let api = client(&sandbox.base_url());
    api.write_tracking(&key(ORDER_ID), &tracking())
        .await
        .unwrap();
    let order = sandbox.amazon_order(ORDER_ID);
    // Neither LWA nor SP-API is called: any request here fails the test.
    let nobody = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&nobody)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&nobody)
        .await;
    let unreachable = client(&nobody.uri());

    for status in [
        ShipmentStatus::Assigned,
        ShipmentStatus::PickedUp,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::Failed,
        ShipmentStatus::Returned,
        ShipmentStatus::Cancelled,
    ] {
        let report = StatusReport {
            status,
            happened_at_ms: 1_795_000_000_000,
            tracking: tracking(),
            tracking_reference: package_reference_id(&key(ORDER_ID)),
            failure: None,
            proof: None,
            eta_ms: None,
        };
        for writer in [&api, &unreachable] {
            assert_eq!(
                StoreWriter::write_status(writer, &key(ORDER_ID), &report)
                    .await
                    .unwrap(),
                StatusWriteBack::NotShown,
                "{status}"
            );
        }
    }
    assert_eq!(
        sandbox.amazon_confirmations().len(),
        1,
        "the tracking alone"
    );
    assert_eq!(sandbox.amazon_order(ORDER_ID), order);
}
