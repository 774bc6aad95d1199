//! The Shopify Admin GraphQL write-back against the sandbox's fake store (over HTTP), and
//! the errors a real store's answers map to (wiremock where the sandbox cannot produce them).

use sandbox::{Fault, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use shared::domain::{Channel, ShipmentKey};
use shared::error::{Classify, Transience};
use shared::store::shopify::ShopifyAdmin;
use shared::store::{StoreError, StoreWriter, Tracking, WriteBack};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "shpat_test_token";
/// Above 2^53: a float on the way would change it.
const ORDER: &str = "820982911946154508";
const FULFILLMENT: &str = "5912345678901234567";
const GRAPHQL_PATH: &str = "/admin/api/2025-07/graphql.json";

async fn start() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: "sbx_unused".into(),
            shopify_access_token: TOKEN.into(),
        },
    )
    .await
    .expect("the sandbox starts on a free port")
}

fn admin(base_url: &str) -> ShopifyAdmin {
    ShopifyAdmin::new(reqwest::Client::new(), base_url, TOKEN)
}

fn key(order_id: &str, shipment_id: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::Shopify, "demo-store", order_id, shipment_id)
}

fn tracking(number: &str) -> Tracking {
    Tracking {
        number: number.into(),
        url: Some(format!("https://track.example/{number}")),
        company: "Sandbox Courier".into(),
    }
}

fn fulfillment_gid(id: &str) -> String {
    format!("gid://shopify/Fulfillment/{id}")
}

#[tokio::test]
async fn a_whole_order_gets_one_new_fulfillment() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());
    let whole = key(ORDER, "1");

    let first = store
        .write_tracking(&whole, &tracking("SBX1"))
        .await
        .unwrap();
    let reference = match first {
        WriteBack::Written { reference } => reference,
        other => panic!("expected a new fulfillment, got {other:?}"),
    };
    assert_eq!(
        store
            .write_tracking(&whole, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::AlreadyThere {
            reference: reference.clone()
        }
    );

    let fulfillments = sandbox.fulfillments();
    assert_eq!(fulfillments.len(), 1);
    assert_eq!(fulfillments[0].fulfillment_id, reference);
    assert_eq!(fulfillments[0].order_id, ORDER);
    assert!(!fulfillments[0].by_merchant);
    assert_eq!(fulfillments[0].tracking_number.as_deref(), Some("SBX1"));
}

#[tokio::test]
async fn a_merchants_fulfillment_gets_the_tracking_once_and_nothing_is_created() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);

    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::Written {
            reference: gid.clone()
        }
    );
    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::AlreadyThere {
            reference: gid.clone()
        }
    );

    let fulfillments = sandbox.fulfillments();
    assert_eq!(fulfillments.len(), 1, "no fulfillment created");
    let view = &fulfillments[0];
    assert_eq!(view.fulfillment_id, gid);
    assert_eq!(view.tracking_number.as_deref(), Some("SBX1"));
    assert_eq!(
        view.tracking_url.as_deref(),
        Some("https://track.example/SBX1")
    );
    assert_eq!(view.tracking_company.as_deref(), Some("Sandbox Courier"));
    assert!(
        view.notify_customer,
        "the customer is e-mailed the tracking"
    );
}

#[tokio::test]
async fn a_new_tracking_number_replaces_an_earlier_one() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);

    store
        .write_tracking(&parcel, &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX12"))
            .await
            .unwrap(),
        WriteBack::Written { reference: gid },
        "a number that merely starts like the first is another one"
    );
    assert_eq!(
        sandbox.fulfillments()[0].tracking_number.as_deref(),
        Some("SBX12")
    );
}

#[tokio::test]
async fn an_unknown_or_foreign_fulfillment_is_rejected_and_changes_nothing() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());

    let unknown = store
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&unknown, Err(StoreError::Rejected(m)) if m.contains(FULFILLMENT)),
        "{unknown:?}"
    );

    // The fulfillment exists, but on another order: the key is wrong.
    sandbox
        .seed_shopify_fulfillment("1001", FULFILLMENT)
        .unwrap();
    let foreign = store
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&foreign, Err(StoreError::Rejected(m)) if m.contains("gid://shopify/Order/1001")),
        "{foreign:?}"
    );
    let view = &sandbox.fulfillments()[0];
    assert_eq!(view.tracking_number, None);

    let odd = store
        .write_tracking(&key(ORDER, "parcel-2"), &tracking("SBX1"))
        .await;
    assert!(matches!(odd, Err(StoreError::Rejected(_))), "{odd:?}");
    assert_eq!(sandbox.fulfillments().len(), 1);
    for error in [unknown, foreign, odd] {
        assert_eq!(error.unwrap_err().transience(), Transience::Permanent);
    }
}

#[tokio::test]
async fn throttled_is_transient_and_the_retry_writes() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());

    for shipment in ["1", FULFILLMENT] {
        sandbox.set_shopify_admin_fault(Fault::RateLimited { times: 1 });
        let throttled = store
            .write_tracking(&key(ORDER, shipment), &tracking("SBX1"))
            .await;
        match throttled {
            Err(error @ StoreError::Throttled { retry_after }) => {
                assert!(
                    retry_after.is_some(),
                    "a wait for the leaky bucket to drain"
                );
                assert!(error.is_transient());
            }
            other => panic!("{shipment}: expected Throttled, got {other:?}"),
        }
    }
    assert_eq!(sandbox.fulfillments().len(), 1);
    assert_eq!(sandbox.fulfillments()[0].tracking_number, None);

    assert_eq!(
        store
            .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::Written { reference: gid }
    );
}

#[tokio::test]
async fn a_wrong_token_is_a_configuration_error() {
    let sandbox = start().await;
    let store = ShopifyAdmin::new(reqwest::Client::new(), &sandbox.base_url(), "shpat_wrong");
    let answer = store
        .write_tracking(&key(ORDER, "1"), &tracking("SBX1"))
        .await;
    assert!(matches!(answer, Err(StoreError::Config(_))), "{answer:?}");
}

/// A store answering each operation (recognised by the root field in the query text) with
/// a fixed body.
async fn scripted(answers: &[(&str, Value)]) -> MockServer {
    let server = MockServer::start().await;
    for (field, body) in answers {
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .and(body_string_contains(*field))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

fn user_errors(mutation: &str) -> Value {
    json!({ "data": { mutation: {
        "fulfillment": null,
        "userErrors": [
            { "field": ["fulfillmentId"], "message": "Fulfillment is cancelled." },
            { "field": null, "message": "Tracking cannot be updated." }
        ]
    } } })
}

#[tokio::test]
async fn user_errors_on_a_tracking_update_are_a_permanent_rejection() {
    let server = scripted(&[
        (
            "fulfillmentTrackingInfoUpdate",
            user_errors("fulfillmentTrackingInfoUpdate"),
        ),
        (
            "fulfillment(id:",
            json!({ "data": { "fulfillment": {
                "id": fulfillment_gid(FULFILLMENT),
                "order": { "id": format!("gid://shopify/Order/{ORDER}") },
                "trackingInfo": []
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    match answer {
        Err(error @ StoreError::Rejected(_)) => {
            assert_eq!(
                error.to_string(),
                "store rejected the write-back: Fulfillment is cancelled.; \
                 Tracking cannot be updated."
            );
            assert_eq!(error.transience(), Transience::Permanent);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn user_errors_on_a_new_fulfillment_are_a_permanent_rejection() {
    let server = scripted(&[
        ("fulfillmentCreate", user_errors("fulfillmentCreate")),
        (
            "fulfillmentOrders",
            json!({ "data": { "order": {
                "id": format!("gid://shopify/Order/{ORDER}"),
                "fulfillmentOrders": { "nodes": [
                    { "id": "gid://shopify/FulfillmentOrder/1", "status": "OPEN" }
                ] },
                "fulfillments": []
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, "1"), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&answer, Err(StoreError::Rejected(m)) if m.contains("Fulfillment is cancelled.")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_update_answer_without_fulfillment_or_errors_is_ambiguous() {
    let server = scripted(&[
        (
            "fulfillmentTrackingInfoUpdate",
            json!({ "data": { "fulfillmentTrackingInfoUpdate": {
                "fulfillment": null, "userErrors": []
            } } }),
        ),
        (
            "fulfillment(id:",
            json!({ "data": { "fulfillment": {
                "id": fulfillment_gid(FULFILLMENT),
                "order": { "id": format!("gid://shopify/Order/{ORDER}") },
                "trackingInfo": [{ "number": "OTHER" }]
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(answer, Err(StoreError::Ambiguous(_))),
        "{answer:?}"
    );
}
