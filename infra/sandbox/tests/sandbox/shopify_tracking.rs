//! Tracking on a fulfillment the merchant made: the `fulfillment(id:)` query and the
//! `fulfillmentTrackingInfoUpdate` mutation of the fake Shopify Admin GraphQL API.

use reqwest::{Client, StatusCode};
use sandbox::{Sandbox, ShopifySeedError};
use serde_json::{json, Value};

use crate::support::{body_json, start, SHOPIFY_TOKEN};

const ORDER: &str = "820982911946154508";
const FULFILLMENT: &str = "5912345678901234567";

const FULFILLMENT_QUERY: &str = r#"query ($id: ID!) {
  fulfillment(id: $id) { id order { id } trackingInfo(first: 10) { number } }
}"#;

const TRACKING_UPDATE: &str = r#"mutation ($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) {
    fulfillment { id trackingInfo(first: 10) { number } }
    userErrors { field message }
  }
}"#;

async fn graphql(sandbox: &Sandbox, query: &str, variables: Value) -> Value {
    let response = Client::new()
        .post(format!(
            "{}/admin/api/2025-07/graphql.json",
            sandbox.base_url()
        ))
        .header("X-Shopify-Access-Token", SHOPIFY_TOKEN)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await
}

async fn lookup(sandbox: &Sandbox, gid: &str) -> Value {
    graphql(sandbox, FULFILLMENT_QUERY, json!({ "id": gid })).await
}

async fn update(sandbox: &Sandbox, gid: &str, number: &str) -> Value {
    graphql(
        sandbox,
        TRACKING_UPDATE,
        json!({
            "fulfillmentId": gid,
            "trackingInfoInput": {
                "number": number,
                "url": format!("http://127.0.0.1/track/{number}"),
                "company": "Sandbox Courier"
            },
            "notifyCustomer": true
        }),
    )
    .await
}

#[tokio::test]
async fn a_merchants_fulfillment_takes_tracking_and_keeps_one_set() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    assert_eq!(gid, format!("gid://shopify/Fulfillment/{FULFILLMENT}"));

    let before = lookup(&sandbox, &gid).await;
    assert_eq!(
        before,
        json!({ "data": { "fulfillment": {
            "id": gid,
            "status": "SUCCESS",
            "order": { "id": format!("gid://shopify/Order/{ORDER}") },
            "trackingInfo": []
        } } }),
        "big ids kept exact"
    );

    let updated = update(&sandbox, &gid, "SBX1").await;
    let payload = &updated["data"]["fulfillmentTrackingInfoUpdate"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["fulfillment"]["id"], gid);
    assert_eq!(
        payload["fulfillment"]["trackingInfo"],
        json!([{
            "company": "Sandbox Courier",
            "number": "SBX1",
            "url": "http://127.0.0.1/track/SBX1"
        }])
    );
    assert_eq!(
        lookup(&sandbox, &gid).await["data"]["fulfillment"]["trackingInfo"][0]["number"],
        "SBX1"
    );

    // A second update replaces the first: Shopify keeps one set of tracking per fulfillment.
    update(&sandbox, &gid, "SBX2").await;
    let recorded = sandbox.fulfillments();
    assert_eq!(recorded.len(), 1, "no fulfillment created");
    assert_eq!(recorded[0].order_id, ORDER);
    assert_eq!(recorded[0].fulfillment_id, gid);
    assert!(recorded[0].by_merchant);
    assert!(recorded[0].fulfillment_order_ids.is_empty());
    assert_eq!(recorded[0].tracking_number.as_deref(), Some("SBX2"));
    assert_eq!(
        recorded[0].tracking_company.as_deref(),
        Some("Sandbox Courier")
    );
    assert!(recorded[0].notify_customer);
}

#[tokio::test]
async fn the_order_lists_the_merchants_fulfillment_and_keeps_its_fulfillment_order_open() {
    let sandbox = start().await;
    sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let order = graphql(
        &sandbox,
        "query ($orderId: ID!) { order(id: $orderId) { id fulfillmentOrders(first: 10) { nodes { id status } } fulfillments(first: 10) { id } } }",
        json!({ "orderId": format!("gid://shopify/Order/{ORDER}") }),
    )
    .await;
    let order = &order["data"]["order"];
    assert_eq!(
        order["fulfillments"][0]["id"],
        format!("gid://shopify/Fulfillment/{FULFILLMENT}")
    );
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["status"], "OPEN");
}

#[tokio::test]
async fn unknown_fulfillments_are_null_or_user_errors_and_change_nothing() {
    let sandbox = start().await;
    let unknown = format!("gid://shopify/Fulfillment/{FULFILLMENT}");
    assert_eq!(
        lookup(&sandbox, &unknown).await,
        json!({ "data": { "fulfillment": null } })
    );
    assert_eq!(
        update(&sandbox, &unknown, "SBX1").await,
        json!({ "data": { "fulfillmentTrackingInfoUpdate": {
            "fulfillment": null,
            "userErrors": [{ "field": ["fulfillmentId"], "message": "Fulfillment does not exist." }]
        } } })
    );
    assert!(sandbox.fulfillments().is_empty());
}

#[tokio::test]
async fn ids_that_are_not_fulfillment_gids_are_request_errors() {
    let sandbox = start().await;
    for id in [
        FULFILLMENT,
        "gid://shopify/Order/1",
        "gid://shopify/Fulfillment/x",
    ] {
        let expected = json!({ "errors": [{ "message": format!("Invalid global id '{id}'") }] });
        assert_eq!(lookup(&sandbox, id).await, expected, "{id}");
        assert_eq!(update(&sandbox, id, "SBX1").await, expected, "{id}");
    }
}

#[tokio::test]
async fn seeding_refuses_non_numeric_and_repeated_ids() {
    let sandbox = start().await;
    assert_eq!(
        sandbox.seed_shopify_fulfillment(ORDER, "gid://shopify/Fulfillment/1"),
        Err(ShopifySeedError::NotNumeric(
            "gid://shopify/Fulfillment/1".to_owned()
        ))
    );
    assert_eq!(
        sandbox.seed_shopify_fulfillment("#1001", FULFILLMENT),
        Err(ShopifySeedError::NotNumeric("#1001".to_owned()))
    );
    sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    assert_eq!(
        sandbox.seed_shopify_fulfillment("1", FULFILLMENT),
        Err(ShopifySeedError::FulfillmentExists(format!(
            "gid://shopify/Fulfillment/{FULFILLMENT}"
        )))
    );
    assert_eq!(sandbox.fulfillments().len(), 1);
}
