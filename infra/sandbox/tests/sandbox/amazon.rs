//! The fake Amazon SP-API: LWA tokens, the Orders API reads and `confirmShipment`.

use reqwest::{Client, RequestBuilder, StatusCode};
use sandbox::{
    AmazonOrderSeed, Sandbox, AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET, AMAZON_REFRESH_TOKEN,
    AMAZON_TOKEN_PATH,
};
use serde_json::{json, Value};

use crate::support::{body_json, start};

const ORDER: &str = "902-1845936-5435065";

fn seed() -> AmazonOrderSeed {
    AmazonOrderSeed {
        order: json!({
            "AmazonOrderId": ORDER, "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
            "MarketplaceId": "ATVPDKIKX0DER", "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": 4,
            "OrderTotal": {"CurrencyCode": "USD", "Amount": "11.01"}
        }),
        address: Some(json!({
            "AmazonOrderId": ORDER,
            "ShippingAddress": {"Name": "MFNIntegrationTestMerchant", "AddressLine1": "2201 WESTLAKE AVE",
                                "City": "SEATTLE", "CountryCode": "US", "Phone": "+1 480-386-0930 ext. 73824"}
        })),
        buyer_info: None,
        order_items: vec![
            json!({"OrderItemId": "05015851154158", "QuantityOrdered": 2, "QuantityShipped": 0}),
            json!({"OrderItemId": "05015851154159", "QuantityOrdered": 1, "QuantityShipped": 0}),
            json!({"OrderItemId": "05015851154160", "QuantityOrdered": 1}),
        ],
    }
}

fn token_form(refresh_token: &str, client_secret: &str) -> [(&'static str, String); 4] {
    [
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh_token.to_owned()),
        ("client_id", AMAZON_LWA_CLIENT_ID.to_owned()),
        ("client_secret", client_secret.to_owned()),
    ]
}

async fn access_token(sandbox: &Sandbox) -> String {
    let response = Client::new()
        .post(format!("{}{AMAZON_TOKEN_PATH}", sandbox.base_url()))
        .form(&token_form(AMAZON_REFRESH_TOKEN, AMAZON_LWA_CLIENT_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    body["access_token"].as_str().unwrap().to_owned()
}

fn orders(sandbox: &Sandbox, token: Option<&str>, path: &str) -> RequestBuilder {
    let request = Client::new().get(format!("{}/orders/v0/orders/{path}", sandbox.base_url()));
    match token {
        Some(token) => request.header("x-amz-access-token", token),
        None => request,
    }
}

fn confirmation(reference: &str, items: Value) -> Value {
    json!({
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": reference, "carrierCode": "Other", "carrierName": "Sandbox Courier",
            "trackingNumber": "SBX0123456789", "shipDate": "2026-11-20T10:00:00Z", "orderItems": items
        }
    })
}

async fn confirm(sandbox: &Sandbox, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = Client::new()
        .post(format!(
            "{}/orders/v0/orders/{ORDER}/shipmentConfirmation",
            sandbox.base_url()
        ))
        .json(body);
    if let Some(token) = token {
        request = request.header("x-amz-access-token", token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn lwa_grants_tokens_only_for_the_sandbox_credentials() {
    let sandbox = start().await;
    let token = access_token(&sandbox).await;
    assert!(token.starts_with("Atza|"), "{token}");

    let url = format!("{}{AMAZON_TOKEN_PATH}", sandbox.base_url());
    let cases = [
        (
            token_form("Atzr|other", AMAZON_LWA_CLIENT_SECRET),
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            token_form(AMAZON_REFRESH_TOKEN, "wrong"),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (form, status, error) in cases {
        let response = Client::new().post(&url).form(&form).send().await.unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(body_json(response).await["error"], error);
    }
    let mut wrong_grant = token_form(AMAZON_REFRESH_TOKEN, AMAZON_LWA_CLIENT_SECRET);
    wrong_grant[0].1 = "authorization_code".into();
    let response = Client::new()
        .post(&url)
        .form(&wrong_grant)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(response).await["error"], "unsupported_grant_type");
    assert_eq!(sandbox.amazon_token_grants(), 1);
}

#[tokio::test]
async fn orders_need_an_issued_access_token() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    for token in [None, Some("Atza|forged")] {
        let response = orders(&sandbox, token, ORDER).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body_json(response).await["errors"][0]["code"],
            "Unauthorized"
        );
    }
    let response = confirm(&sandbox, None, &confirmation("1", json!([]))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn seeded_orders_are_served_as_payloads_and_unknown_ones_are_404() {
    let sandbox = start().await;
    assert_eq!(sandbox.seed_amazon_order(seed()).unwrap(), ORDER);
    let token = access_token(&sandbox).await;

    let order = body_json(orders(&sandbox, Some(&token), ORDER).send().await.unwrap()).await;
    assert_eq!(order["payload"], seed().order);
    let address = orders(&sandbox, Some(&token), &format!("{ORDER}/address"));
    assert_eq!(
        body_json(address.send().await.unwrap()).await["payload"],
        seed().address.unwrap()
    );
    let buyer = orders(&sandbox, Some(&token), &format!("{ORDER}/buyerInfo"));
    assert_eq!(
        body_json(buyer.send().await.unwrap()).await,
        json!({ "payload": { "AmazonOrderId": ORDER } }),
        "no buyer info seeded"
    );

    let missing = orders(&sandbox, Some(&token), "111-0000000-0000000")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(missing).await["errors"][0]["code"], "NotFound");
}

#[tokio::test]
async fn order_items_are_paged_with_next_token() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let token = access_token(&sandbox).await;
    let items = format!("{ORDER}/orderItems");

    let first = body_json(orders(&sandbox, Some(&token), &items).send().await.unwrap()).await;
    assert_eq!(first["payload"]["OrderItems"].as_array().unwrap().len(), 2);
    let next = first["payload"]["NextToken"].as_str().unwrap().to_owned();
    let second = orders(&sandbox, Some(&token), &items)
        .query(&[("NextToken", &next)])
        .send()
        .await
        .unwrap();
    let second = body_json(second).await;
    assert_eq!(
        second["payload"]["OrderItems"][0]["OrderItemId"],
        "05015851154160"
    );
    assert!(second["payload"].get("NextToken").is_none());

    let bad = orders(&sandbox, Some(&token), &items)
        .query(&[("NextToken", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn confirming_every_item_ships_the_order_once() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let token = access_token(&sandbox).await;

    let part = confirmation(
        "7",
        json!([{"orderItemId": "05015851154158", "quantity": 2}]),
    );
    let response = confirm(&sandbox, Some(&token), &part).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.text().await.unwrap(), "");
    let order = sandbox.amazon_order(ORDER).unwrap();
    assert_eq!(order["OrderStatus"], "PartiallyShipped");
    assert_eq!(order["NumberOfItemsUnshipped"], 2);

    let reused = confirmation(
        "7",
        json!([{"orderItemId": "05015851154159", "quantity": 1}]),
    );
    let response = confirm(&sandbox, Some(&token), &reused).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "package 7 exists"
    );

    let rest = confirmation(
        "8",
        json!([{"orderItemId": "05015851154159", "quantity": 1}, {"orderItemId": "05015851154160", "quantity": 1}]),
    );
    assert_eq!(
        confirm(&sandbox, Some(&token), &rest).await.status(),
        StatusCode::NO_CONTENT
    );
    let order = body_json(orders(&sandbox, Some(&token), ORDER).send().await.unwrap()).await;
    assert_eq!(order["payload"]["OrderStatus"], "Shipped");
    assert_eq!(order["payload"]["NumberOfItemsShipped"], 4);

    let again = confirmation(
        "9",
        json!([{"orderItemId": "05015851154158", "quantity": 1}]),
    );
    let response = confirm(&sandbox, Some(&token), &again).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["errors"][0]["code"],
        "InvalidInput"
    );

    let recorded = sandbox.amazon_confirmations();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].order_id, ORDER);
    assert_eq!(recorded[0].package_reference_id, "7");
    assert_eq!(recorded[0].carrier_code, "Other");
    assert_eq!(recorded[0].carrier_name.as_deref(), Some("Sandbox Courier"));
    assert_eq!(recorded[0].tracking_number, "SBX0123456789");
    assert_eq!(recorded[0].order_items[0].quantity, 2);
}

#[tokio::test]
async fn malformed_confirmations_are_invalid_input() {
    let sandbox = start().await;
    sandbox.seed_amazon_order(seed()).unwrap();
    let token = access_token(&sandbox).await;
    let response = confirm(
        &sandbox,
        Some(&token),
        &json!({"marketplaceId": "ATVPDKIKX0DER"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["errors"][0]["code"],
        "InvalidInput"
    );
    assert!(sandbox.amazon_confirmations().is_empty());
}

#[test]
fn seeds_without_an_order_id_are_refused() {
    let mut bad = seed();
    bad.order = json!({"OrderStatus": "Unshipped"});
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime.block_on(start());
    assert!(sandbox.seed_amazon_order(bad).is_err());
}
