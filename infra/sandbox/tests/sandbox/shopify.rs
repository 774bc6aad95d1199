//! The fake Shopify Admin GraphQL API used by the status write-back.

use reqwest::{Client, Response, StatusCode};
use sandbox::{Fault, Sandbox};
use serde_json::{json, Value};

use crate::support::{body_json, set_faults, start, SHOPIFY_TOKEN};

const BIG_ORDER: &str = "820982911946154508";

const ORDER_QUERY: &str = r#"query ($orderId: ID!) {
  order(id: $orderId) {
    id
    fulfillmentOrders(first: 10) { nodes { id status } }
    fulfillments(first: 10) { id status trackingInfo { company number url } }
  }
}"#;

const FULFILLMENT_CREATE: &str = r#"mutation ($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"#;

async fn graphql_with_token(sandbox: &Sandbox, token: Option<&str>, body: Value) -> Response {
    let mut request = Client::new()
        .post(format!(
            "{}/admin/api/2025-01/graphql.json",
            sandbox.base_url()
        ))
        .json(&body);
    if let Some(token) = token {
        request = request.header("X-Shopify-Access-Token", token);
    }
    request.send().await.unwrap()
}

async fn graphql(sandbox: &Sandbox, query: &str, variables: Value) -> Value {
    let response = graphql_with_token(
        sandbox,
        Some(SHOPIFY_TOKEN),
        json!({ "query": query, "variables": variables }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await
}

async fn order(sandbox: &Sandbox, order_gid: &str) -> Value {
    graphql(sandbox, ORDER_QUERY, json!({ "orderId": order_gid })).await
}

async fn fulfill(sandbox: &Sandbox, fulfillment_order_id: &str) -> Value {
    let variables = json!({
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [{ "fulfillmentOrderId": fulfillment_order_id }],
            "trackingInfo": {
                "number": "SBX0123456789",
                "url": "http://127.0.0.1/track/SBX0123456789",
                "company": "Sandbox Courier"
            },
            "notifyCustomer": true
        }
    });
    graphql(sandbox, FULFILLMENT_CREATE, variables).await
}

#[tokio::test]
async fn fulfilling_an_order_closes_its_fulfillment_order() {
    let sandbox = start().await;
    let order_gid = format!("gid://shopify/Order/{BIG_ORDER}");

    let before = order(&sandbox, &order_gid).await;
    let fulfillment_orders = &before["data"]["order"]["fulfillmentOrders"]["nodes"];
    assert_eq!(before["data"]["order"]["id"], order_gid, "id kept exact");
    assert_eq!(fulfillment_orders.as_array().unwrap().len(), 1);
    assert_eq!(fulfillment_orders[0]["status"], "OPEN");
    assert_eq!(before["data"]["order"]["fulfillments"], json!([]));
    let fo_id = fulfillment_orders[0]["id"].as_str().unwrap().to_owned();
    assert!(
        fo_id.starts_with("gid://shopify/FulfillmentOrder/"),
        "{fo_id}"
    );
    assert_eq!(order(&sandbox, &order_gid).await, before, "created once");

    let created = fulfill(&sandbox, &fo_id).await;
    let payload = &created["data"]["fulfillmentCreate"];
    assert_eq!(payload["userErrors"], json!([]));
    let fulfillment = &payload["fulfillment"];
    assert!(fulfillment["id"]
        .as_str()
        .unwrap()
        .starts_with("gid://shopify/Fulfillment/"));
    assert_eq!(fulfillment["status"], "SUCCESS");
    assert_eq!(
        fulfillment["trackingInfo"],
        json!([{
            "company": "Sandbox Courier",
            "number": "SBX0123456789",
            "url": "http://127.0.0.1/track/SBX0123456789"
        }])
    );

    let recorded = sandbox.fulfillments();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].order_id, BIG_ORDER);
    assert_eq!(recorded[0].fulfillment_id, fulfillment["id"]);
    assert_eq!(recorded[0].fulfillment_order_ids, [fo_id.as_str()]);
    assert_eq!(
        recorded[0].tracking_number.as_deref(),
        Some("SBX0123456789")
    );
    assert_eq!(
        recorded[0].tracking_url.as_deref(),
        Some("http://127.0.0.1/track/SBX0123456789")
    );
    assert_eq!(
        recorded[0].tracking_company.as_deref(),
        Some("Sandbox Courier")
    );
    assert!(recorded[0].notify_customer);

    let after = order(&sandbox, &order_gid).await;
    assert_eq!(
        after["data"]["order"]["fulfillmentOrders"]["nodes"][0],
        json!({ "id": fo_id, "status": "CLOSED" })
    );
    assert_eq!(after["data"]["order"]["fulfillments"], json!([fulfillment]));

    let again = fulfill(&sandbox, &fo_id).await;
    assert_eq!(
        again["data"]["fulfillmentCreate"],
        json!({
            "fulfillment": null,
            "userErrors": [{
                "field": ["fulfillment"],
                "message": format!("Fulfillment order {fo_id} has an unfulfillable status= closed.")
            }]
        })
    );
    assert_eq!(sandbox.fulfillments().len(), 1);
}

#[tokio::test]
async fn big_order_ids_survive_byte_for_byte() {
    let sandbox = start().await;
    let response = graphql_with_token(
        &sandbox,
        Some(SHOPIFY_TOKEN),
        json!({ "query": ORDER_QUERY, "variables": { "orderId": format!("gid://shopify/Order/{BIG_ORDER}") } }),
    )
    .await;
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&format!(r#""gid://shopify/Order/{BIG_ORDER}""#)),
        "{text}"
    );
    // As a float it would have become ...500 or ...512.
    assert!(!text.contains("820982911946154500"));
}

#[tokio::test]
async fn unknown_fulfillment_orders_are_user_errors() {
    let sandbox = start().await;
    let response = fulfill(&sandbox, "gid://shopify/FulfillmentOrder/404").await;
    assert_eq!(
        response["data"]["fulfillmentCreate"],
        json!({
            "fulfillment": null,
            "userErrors": [{ "field": ["fulfillment"], "message": "Fulfillment order does not exist." }]
        })
    );
    assert!(sandbox.fulfillments().is_empty());
}

#[tokio::test]
async fn malformed_order_ids_find_no_order() {
    let sandbox = start().await;
    for id in [
        "gid://shopify/Order/",
        "gid://shopify/Order/12x",
        "820982911946154508",
    ] {
        assert_eq!(
            order(&sandbox, id).await,
            json!({ "data": { "order": null } }),
            "{id}"
        );
    }
}

#[tokio::test]
async fn other_operations_are_unsupported() {
    let sandbox = start().await;
    let response = graphql(&sandbox, "{ shop { name } }", json!({})).await;
    assert_eq!(
        response,
        json!({ "errors": [{ "message": "unsupported by the sandbox" }] })
    );
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401() {
    let sandbox = start().await;
    let body = json!({ "query": ORDER_QUERY, "variables": { "orderId": "gid://shopify/Order/1" } });
    for token in [None, Some("shpat_wrong")] {
        let response = graphql_with_token(&sandbox, token, body.clone()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            body_json(response).await,
            json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" })
        );
    }
}

#[tokio::test]
async fn throttled_uses_shopifys_shape_then_recovers() {
    let sandbox = start().await;
    let armed = set_faults(
        &sandbox,
        json!({ "shopify_admin": { "mode": "throttled", "times": 2 } }),
    )
    .await;
    assert_eq!(armed.status(), StatusCode::NO_CONTENT);

    for _ in 0..2 {
        assert_eq!(
            order(&sandbox, "gid://shopify/Order/1").await,
            json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] })
        );
    }
    let recovered = order(&sandbox, "gid://shopify/Order/1").await;
    assert_eq!(recovered["data"]["order"]["id"], "gid://shopify/Order/1");
}

#[tokio::test]
async fn unavailable_is_503_and_changes_nothing() {
    let sandbox = start().await;
    let fo_id = order(&sandbox, "gid://shopify/Order/7").await["data"]["order"]
        ["fulfillmentOrders"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.set_shopify_admin_fault(Fault::Unavailable { times: 1 });

    let response = graphql_with_token(
        &sandbox,
        Some(SHOPIFY_TOKEN),
        json!({
            "query": FULFILLMENT_CREATE,
            "variables": { "fulfillment": { "lineItemsByFulfillmentOrder": [{ "fulfillmentOrderId": fo_id }] } }
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(sandbox.fulfillments().is_empty());

    let retried = fulfill(&sandbox, &fo_id).await;
    assert_eq!(
        retried["data"]["fulfillmentCreate"]["userErrors"],
        json!([])
    );
}
