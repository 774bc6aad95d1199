//! The fake SP-API's grantless tokens and Notifications API, used by
//! `courier-bridge connect`, `disconnect` and `doctor`.

use reqwest::{Client, Response, StatusCode};
use sandbox::{
    AmazonDestinationView, AmazonSubscriptionView, Sandbox, AMAZON_LWA_CLIENT_ID,
    AMAZON_LWA_CLIENT_SECRET, AMAZON_NOTIFICATIONS_SCOPE, AMAZON_REFRESH_TOKEN, AMAZON_TOKEN_PATH,
};
use serde_json::{json, Value};

use crate::support::{body_json, start};

const ARN: &str = "arn:aws:sqs:us-east-1:123456789012:courier-bridge-amazon";

async fn token(sandbox: &Sandbox, form: &[(&str, &str)]) -> Response {
    Client::new()
        .post(format!("{}{AMAZON_TOKEN_PATH}", sandbox.base_url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn grantless_token(sandbox: &Sandbox) -> String {
    let response = token(
        sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("scope", AMAZON_NOTIFICATIONS_SCOPE),
            ("client_id", AMAZON_LWA_CLIENT_ID),
            ("client_secret", AMAZON_LWA_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn seller_token(sandbox: &Sandbox) -> String {
    let response = token(
        sandbox,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", AMAZON_REFRESH_TOKEN),
            ("client_id", AMAZON_LWA_CLIENT_ID),
            ("client_secret", AMAZON_LWA_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(
    sandbox: &Sandbox,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut request = Client::new()
        .request(
            method,
            format!("{}/notifications/v1{path}", sandbox.base_url()),
        )
        .header("x-amz-access-token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn destination_body(arn: &str) -> Value {
    json!({ "name": "courier-bridge", "resourceSpecification": { "sqs": { "arn": arn } } })
}

async fn create_destination(sandbox: &Sandbox, grantless: &str) -> String {
    let response = call(
        sandbox,
        reqwest::Method::POST,
        grantless,
        "/destinations",
        Some(destination_body(ARN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await["payload"]["destinationId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn subscribe(sandbox: &Sandbox, seller: &str, kind: &str, destination: &str) -> Response {
    call(
        sandbox,
        reqwest::Method::POST,
        seller,
        &format!("/subscriptions/{kind}"),
        Some(json!({ "payloadVersion": "1.0", "destinationId": destination })),
    )
    .await
}

async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "{code}");
    let body = body_json(response).await;
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    body
}

fn denied() -> Value {
    json!({ "errors": [{ "code": "Unauthorized", "message": "Access to requested resource is denied.", "details": "" }] })
}

#[tokio::test]
async fn lwa_gives_grantless_tokens_for_the_notifications_scope_only() {
    let sandbox = start().await;
    grantless_token(&sandbox).await;
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", AMAZON_LWA_CLIENT_ID),
        ("client_secret", AMAZON_LWA_CLIENT_SECRET),
    ];
    let with_scope = |scope: &'static str| {
        let mut form = base.to_vec();
        form.push(("scope", scope));
        form
    };
    let other = token(
        &sandbox,
        &with_scope("sellingpartnerapi::client_credential:rotation"),
    )
    .await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(other).await["error"], "invalid_scope");
    let missing = token(&sandbox, &base).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(missing).await["error"], "invalid_request");
    let mut wrong_client = with_scope(AMAZON_NOTIFICATIONS_SCOPE);
    wrong_client[2].1 = "wrong";
    let refused = token(&sandbox, &wrong_client).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(refused).await["error"], "invalid_client");
    assert_eq!(sandbox.amazon_token_grants(), 1);
}

#[tokio::test]
async fn each_token_opens_only_its_own_operations() {
    let sandbox = start().await;
    let grantless = grantless_token(&sandbox).await;
    let seller = seller_token(&sandbox).await;
    use reqwest::Method;

    // A grantless token on the seller's Orders API and subscriptions.
    let order = Client::new()
        .get(format!(
            "{}/orders/v0/orders/111-0000000-0000000",
            sandbox.base_url()
        ))
        .header("x-amz-access-token", &grantless)
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(order).await, denied());
    for (method, path) in [
        (Method::GET, "/subscriptions/ORDER_CHANGE"),
        (Method::POST, "/subscriptions/ORDER_CHANGE"),
    ] {
        let response = call(&sandbox, method, &grantless, path, Some(json!({}))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body_json(response).await, denied(), "{path}");
    }
    // A seller token on the application's destinations.
    for (method, path) in [
        (Method::GET, "/destinations"),
        (Method::POST, "/destinations"),
        (Method::GET, "/destinations/x"),
        (Method::DELETE, "/destinations/x"),
        (Method::GET, "/subscriptions/ORDER_CHANGE/x"),
        (Method::DELETE, "/subscriptions/ORDER_CHANGE/x"),
    ] {
        let response = call(&sandbox, method, &seller, path, Some(destination_body(ARN))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body_json(response).await, denied(), "{path}");
    }
    // No token, or a forged one.
    for token in ["", "Atza|forged"] {
        let response = call(&sandbox, Method::GET, token, "/destinations", None).await;
        let body = assert_error(response, StatusCode::FORBIDDEN, "Unauthorized").await;
        assert_eq!(
            body["errors"][0]["details"],
            "The access token you provided is revoked, malformed or invalid."
        );
    }
    assert!(sandbox.amazon_destinations().is_empty());
}

#[tokio::test]
async fn a_destination_and_a_subscription_are_made_read_and_removed() {
    let sandbox = start().await;
    let grantless = grantless_token(&sandbox).await;
    let seller = seller_token(&sandbox).await;
    use reqwest::Method;

    let destination_id = create_destination(&sandbox, &grantless).await;
    let destination = json!({
        "name": "courier-bridge", "destinationId": destination_id,
        "resource": { "sqs": { "arn": ARN } }
    });
    let listed = call(&sandbox, Method::GET, &grantless, "/destinations", None).await;
    assert_eq!(body_json(listed).await, json!({ "payload": [destination] }));
    let one = call(
        &sandbox,
        Method::GET,
        &grantless,
        &format!("/destinations/{destination_id}"),
        None,
    )
    .await;
    assert_eq!(body_json(one).await, json!({ "payload": destination }));
    assert_eq!(
        sandbox.amazon_destinations(),
        [AmazonDestinationView {
            destination_id: destination_id.clone(),
            name: "courier-bridge".into(),
            arn: ARN.into(),
        }]
    );

    let none = call(
        &sandbox,
        Method::GET,
        &seller,
        "/subscriptions/ORDER_CHANGE",
        None,
    )
    .await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body_json(none).await,
        json!({ "errors": [{ "code": "NotFound", "message": "Subscription not found.", "details": "" }] })
    );

    let created = subscribe(&sandbox, &seller, "ORDER_CHANGE", &destination_id).await;
    assert_eq!(created.status(), StatusCode::OK);
    let subscription = body_json(created).await["payload"].clone();
    let subscription_id = subscription["subscriptionId"].as_str().unwrap().to_owned();
    assert_eq!(
        subscription,
        json!({ "subscriptionId": subscription_id, "payloadVersion": "1.0", "destinationId": destination_id })
    );
    let read = call(
        &sandbox,
        Method::GET,
        &seller,
        "/subscriptions/ORDER_CHANGE",
        None,
    )
    .await;
    assert_eq!(body_json(read).await["payload"], subscription);
    let by_id = call(
        &sandbox,
        Method::GET,
        &grantless,
        &format!("/subscriptions/ORDER_CHANGE/{subscription_id}"),
        None,
    )
    .await;
    assert_eq!(body_json(by_id).await["payload"], subscription);
    assert_eq!(
        sandbox.amazon_subscriptions(),
        [AmazonSubscriptionView {
            subscription_id: subscription_id.clone(),
            notification_type: "ORDER_CHANGE".into(),
            payload_version: "1.0".into(),
            destination_id: destination_id.clone(),
        }]
    );

    // The destination stays while a subscription uses it.
    let in_use = call(
        &sandbox,
        Method::DELETE,
        &grantless,
        &format!("/destinations/{destination_id}"),
        None,
    )
    .await;
    assert_error(in_use, StatusCode::CONFLICT, "Conflict").await;

    let unsubscribed = call(
        &sandbox,
        Method::DELETE,
        &grantless,
        &format!("/subscriptions/ORDER_CHANGE/{subscription_id}"),
        None,
    )
    .await;
    assert_eq!(unsubscribed.status(), StatusCode::OK);
    assert_eq!(body_json(unsubscribed).await, json!({}));
    let again = call(
        &sandbox,
        Method::DELETE,
        &grantless,
        &format!("/subscriptions/ORDER_CHANGE/{subscription_id}"),
        None,
    )
    .await;
    assert_error(again, StatusCode::NOT_FOUND, "NotFound").await;

    let removed = call(
        &sandbox,
        Method::DELETE,
        &grantless,
        &format!("/destinations/{destination_id}"),
        None,
    )
    .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(body_json(removed).await, json!({}));
    for method in [Method::GET, Method::DELETE] {
        let gone = call(
            &sandbox,
            method,
            &grantless,
            &format!("/destinations/{destination_id}"),
            None,
        )
        .await;
        assert_error(gone, StatusCode::NOT_FOUND, "NotFound").await;
    }
    assert!(sandbox.amazon_destinations().is_empty());
    assert!(sandbox.amazon_subscriptions().is_empty());
}

#[tokio::test]
async fn destinations_need_an_sqs_arn_and_one_per_queue() {
    let sandbox = start().await;
    let grantless = grantless_token(&sandbox).await;
    use reqwest::Method;
    for bad in [
        destination_body("arn:aws:sqs:us-east-1:1234:queue"),
        destination_body("https://sqs.us-east-1.amazonaws.com/123456789012/queue"),
        destination_body("arn:aws:sqs:us-east-1:123456789012:queue.fifo"),
        json!({ "name": "x" }),
        json!({ "resourceSpecification": { "sqs": { "arn": ARN } } }),
        json!({ "name": "x", "resourceSpecification": { "eventBridge": { "region": "us-east-1", "accountId": "123456789012" } } }),
    ] {
        let response = call(
            &sandbox,
            Method::POST,
            &grantless,
            "/destinations",
            Some(bad.clone()),
        )
        .await;
        assert_error(response, StatusCode::BAD_REQUEST, "InvalidInput").await;
    }
    create_destination(&sandbox, &grantless).await;
    let twice = call(
        &sandbox,
        Method::POST,
        &grantless,
        "/destinations",
        Some(destination_body(ARN)),
    )
    .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert_eq!(
        body_json(twice).await,
        json!({ "errors": [{ "code": "Conflict", "message": "A destination with the same resource already exists.", "details": "" }] })
    );
    assert_eq!(sandbox.amazon_destinations().len(), 1);
}

#[tokio::test]
async fn subscriptions_are_checked_and_one_per_type() {
    let sandbox = start().await;
    let grantless = grantless_token(&sandbox).await;
    let seller = seller_token(&sandbox).await;
    let destination = create_destination(&sandbox, &grantless).await;

    let unknown_type = subscribe(&sandbox, &seller, "ORDER_SHIPPED", &destination).await;
    assert_error(unknown_type, StatusCode::BAD_REQUEST, "InvalidInput").await;
    let unknown_destination = subscribe(&sandbox, &seller, "ORDER_CHANGE", "nope").await;
    assert_error(unknown_destination, StatusCode::BAD_REQUEST, "InvalidInput").await;
    let no_version = call(
        &sandbox,
        reqwest::Method::POST,
        &seller,
        "/subscriptions/ORDER_CHANGE",
        Some(json!({ "destinationId": destination })),
    )
    .await;
    assert_error(no_version, StatusCode::BAD_REQUEST, "InvalidInput").await;
    let unknown_get = call(
        &sandbox,
        reqwest::Method::GET,
        &seller,
        "/subscriptions/ORDER_SHIPPED",
        None,
    )
    .await;
    assert_error(unknown_get, StatusCode::BAD_REQUEST, "InvalidInput").await;

    let first = subscribe(&sandbox, &seller, "ORDER_CHANGE", &destination).await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = subscribe(&sandbox, &seller, "ORDER_CHANGE", &destination).await;
    assert_error(second, StatusCode::CONFLICT, "Conflict").await;
    let other = subscribe(&sandbox, &seller, "FEED_PROCESSING_FINISHED", &destination).await;
    assert_eq!(other.status(), StatusCode::OK);
    let kinds: Vec<String> = sandbox
        .amazon_subscriptions()
        .into_iter()
        .map(|s| s.notification_type)
        .collect();
    assert_eq!(kinds, ["ORDER_CHANGE", "FEED_PROCESSING_FINISHED"]);
}

#[tokio::test]
async fn without_the_role_create_subscription_is_denied() {
    let sandbox = start().await;
    let grantless = grantless_token(&sandbox).await;
    let seller = seller_token(&sandbox).await;
    let destination = create_destination(&sandbox, &grantless).await;

    sandbox.set_amazon_notifications_denied(true);
    let refused = subscribe(&sandbox, &seller, "ORDER_CHANGE", &destination).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(refused).await, denied());
    assert!(sandbox.amazon_subscriptions().is_empty());

    sandbox.set_amazon_notifications_denied(false);
    let allowed = subscribe(&sandbox, &seller, "ORDER_CHANGE", &destination).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(sandbox.amazon_subscriptions().len(), 1);
}
