//! The fake WooCommerce REST API's webhooks, used by `courier-bridge connect`,
//! `disconnect` and `doctor`, and its read-only key.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use sandbox::{
    Fault, Sandbox, WooCommerceWebhookView, WOOCOMMERCE_CONSUMER_KEY, WOOCOMMERCE_CONSUMER_SECRET,
    WOOCOMMERCE_READ_ONLY_CONSUMER_KEY, WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET,
};
use serde_json::{json, Value};

use crate::support::{body_json, start};

const HOOKS: &str = "https://bridge.example.com/webhooks/woocommerce/demo-store";

fn url(sandbox: &Sandbox, path: &str) -> String {
    format!("{}/wp-json/wc/v3{path}", sandbox.base_url())
}

fn authed(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth(WOOCOMMERCE_CONSUMER_KEY, Some(WOOCOMMERCE_CONSUMER_SECRET))
}

fn read_only(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth(
        WOOCOMMERCE_READ_ONLY_CONSUMER_KEY,
        Some(WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET),
    )
}

async fn create(sandbox: &Sandbox, body: Value) -> Response {
    authed(Client::new().post(url(sandbox, "/webhooks")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn create_id(sandbox: &Sandbox, topic: &str) -> u64 {
    let response = create(
        sandbox,
        json!({ "name": format!("courier-bridge {topic}"), "topic": topic, "delivery_url": HOOKS, "secret": "whsec" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body_json(response).await["id"].as_u64().unwrap()
}

async fn list(sandbox: &Sandbox, query: &str) -> Response {
    authed(Client::new().get(url(sandbox, &format!("/webhooks{query}"))))
        .send()
        .await
        .unwrap()
}

fn ids(listed: &Value) -> Vec<u64> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_u64().unwrap())
        .collect()
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn a_webhook_is_created_read_and_deleted() {
    let sandbox = start().await;
    let created = create(
        &sandbox,
        json!({
            "name": "courier-bridge order.created", "topic": "order.created",
            "delivery_url": HOOKS, "secret": "whsec_demo", "status": "active"
        }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let base = sandbox.base_url();
    assert_eq!(
        header(&created, "location"),
        format!("{base}/wp-json/wc/v3/webhooks/1")
    );
    let webhook = body_json(created).await;
    let date = webhook["date_created"].as_str().unwrap().to_owned();
    assert_eq!(date.len(), 19, "{date}");
    assert_eq!(
        webhook,
        json!({
            "id": 1, "name": "courier-bridge order.created", "status": "active",
            "topic": "order.created", "resource": "order", "event": "created",
            "hooks": ["woocommerce_new_order"], "delivery_url": HOOKS,
            "date_created": date, "date_created_gmt": date,
            "date_modified": date, "date_modified_gmt": date,
            "_links": {
                "self": [{ "href": format!("{base}/wp-json/wc/v3/webhooks/1") }],
                "collection": [{ "href": format!("{base}/wp-json/wc/v3/webhooks") }],
            },
        }),
        "the secret is never shown"
    );
    assert_eq!(
        sandbox.woocommerce_webhooks(),
        [WooCommerceWebhookView {
            id: 1,
            name: "courier-bridge order.created".into(),
            topic: "order.created".into(),
            delivery_url: HOOKS.into(),
            secret: "whsec_demo".into(),
            status: "active".into(),
        }]
    );

    let read = authed(Client::new().get(url(&sandbox, "/webhooks/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(body_json(read).await, webhook);

    let deleted = authed(Client::new().delete(url(&sandbox, "/webhooks/1?force=true")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(body_json(deleted).await, webhook);
    assert!(sandbox.woocommerce_webhooks().is_empty());

    let gone = authed(Client::new().delete(url(&sandbox, "/webhooks/1?force=true")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body_json(gone).await,
        json!({ "code": "woocommerce_rest_shop_webhook_invalid_id", "message": "Invalid ID.", "data": { "status": 404 } })
    );
    let unknown = authed(Client::new().get(url(&sandbox, "/webhooks/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(unknown).await,
        json!({ "code": "woocommerce_rest_shop_webhook_invalid_id", "message": "ID is invalid.", "data": { "status": 400 } })
    );
}

#[tokio::test]
async fn webhooks_cannot_be_trashed() {
    let sandbox = start().await;
    let id = create_id(&sandbox, "order.updated").await;
    for query in ["", "?force=false"] {
        let trashed =
            authed(Client::new().delete(url(&sandbox, &format!("/webhooks/{id}{query}"))))
                .send()
                .await
                .unwrap();
        assert_eq!(trashed.status(), StatusCode::NOT_IMPLEMENTED, "{query}");
        assert_eq!(
            body_json(trashed).await,
            json!({
                "code": "woocommerce_rest_trash_not_supported",
                "message": "Webhooks do not support trashing.",
                "data": { "status": 501 }
            })
        );
    }
    assert_eq!(sandbox.woocommerce_webhooks().len(), 1);
}

#[tokio::test]
async fn a_missing_secret_is_generated_and_a_missing_name_dated() {
    let sandbox = start().await;
    let created = create(
        &sandbox,
        json!({ "topic": "Order.Deleted", "delivery_url": HOOKS, "status": "paused" }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let webhook = body_json(created).await;
    assert_eq!(webhook["topic"], "order.deleted");
    assert_eq!(webhook["hooks"], json!(["wp_trash_post"]));
    assert_eq!(
        webhook["status"], "active",
        "WooCommerce creates every webhook active"
    );
    let name = webhook["name"].as_str().unwrap();
    assert!(name.starts_with("Webhook created on "), "{name}");
    let recorded = &sandbox.woocommerce_webhooks()[0];
    assert_eq!(recorded.secret.len(), 50, "{recorded:?}");
}

#[tokio::test]
async fn bad_topics_urls_and_statuses_are_400_and_create_nothing() {
    let sandbox = start().await;
    let cases = [
        (
            json!({ "delivery_url": HOOKS }),
            json!({ "code": "rest_missing_callback_param", "message": "Missing parameter(s): topic", "data": { "status": 400, "params": ["topic"] } }),
        ),
        (
            json!({ "name": "x" }),
            json!({ "code": "rest_missing_callback_param", "message": "Missing parameter(s): topic, delivery_url", "data": { "status": 400, "params": ["topic", "delivery_url"] } }),
        ),
        (
            json!({ "topic": "order.shipped", "delivery_url": HOOKS }),
            json!({ "code": "woocommerce_rest_shop_webhook_invalid_topic", "message": "Webhook topic is required and must be valid.", "data": { "status": 400 } }),
        ),
        (
            json!({ "topic": "subscription.created", "delivery_url": HOOKS }),
            json!({ "code": "woocommerce_rest_shop_webhook_invalid_topic", "message": "Webhook topic is required and must be valid.", "data": { "status": 400 } }),
        ),
        (
            json!({ "topic": "order.created", "delivery_url": "bridge.example.com/hooks" }),
            json!({ "code": "woocommerce_rest_shop_webhook_invalid_delivery_url", "message": "Webhook delivery URL must be a valid URL starting with http:// or https://.", "data": { "status": 400 } }),
        ),
        (
            json!({ "topic": "order.created", "delivery_url": HOOKS, "status": "enabled" }),
            json!({ "code": "rest_invalid_param", "message": "Invalid parameter(s): status", "data": { "status": 400, "params": { "status": "status is not one of active, paused, and disabled." } } }),
        ),
        (
            json!({ "topic": 5, "delivery_url": HOOKS }),
            json!({ "code": "rest_invalid_param", "message": "Invalid parameter(s): topic", "data": { "status": 400, "params": { "topic": "topic is not of type string." } } }),
        ),
    ];
    for (body, error) in cases {
        let response = create(&sandbox, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body_json(response).await, error, "{body}");
    }
    assert!(sandbox.woocommerce_webhooks().is_empty());
}

#[tokio::test]
async fn webhooks_are_listed_newest_first_in_pages() {
    let sandbox = start().await;
    let topics = [
        "order.created",
        "order.updated",
        "order.deleted",
        "product.created",
        "customer.created",
    ];
    for topic in topics {
        create_id(&sandbox, topic).await;
    }

    let first = list(&sandbox, "?per_page=2").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "x-wp-total"), "5");
    assert_eq!(header(&first, "x-wp-totalpages"), "3");
    let link = header(&first, "link").to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("page=2") && !link.contains("prev"),
        "{link}"
    );
    assert_eq!(ids(&body_json(first).await), [5, 4]);

    let mut all = Vec::new();
    for page in 1..=4 {
        let response = list(&sandbox, &format!("?per_page=2&page={page}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        all.extend(ids(&body_json(response).await));
    }
    assert_eq!(all, [5, 4, 3, 2, 1], "the page after the last is empty");

    let default = body_json(list(&sandbox, "").await).await;
    assert_eq!(ids(&default), [5, 4, 3, 2, 1], "10 a page by default");
    let oldest_first = body_json(list(&sandbox, "?order=asc&orderby=id").await).await;
    assert_eq!(ids(&oldest_first), [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn the_list_filters_by_status() {
    let sandbox = start().await;
    let active = create_id(&sandbox, "order.created").await;
    let paused = create_id(&sandbox, "order.updated").await;
    let updated = authed(Client::new().put(url(&sandbox, &format!("/webhooks/{paused}"))))
        .json(&json!({ "status": "paused" }))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(body_json(updated).await["status"], "paused");

    for (status, expected) in [
        ("all", vec![paused, active]),
        ("active", vec![active]),
        ("paused", vec![paused]),
        ("disabled", vec![]),
    ] {
        let response = list(&sandbox, &format!("?status={status}")).await;
        assert_eq!(header(&response, "x-wp-total"), expected.len().to_string());
        assert_eq!(ids(&body_json(response).await), expected, "{status}");
    }
}

#[tokio::test]
async fn bad_list_parameters_are_rest_invalid_param() {
    let sandbox = start().await;
    let cases = [
        (
            "?per_page=101",
            json!({ "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)" }),
        ),
        (
            "?per_page=0",
            json!({ "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)" }),
        ),
        (
            "?page=0",
            json!({ "page": "page must be greater than or equal to 1" }),
        ),
        (
            "?status=deleted",
            json!({ "status": "status is not one of all, active, paused, and disabled." }),
        ),
        (
            "?order=up",
            json!({ "order": "order is not one of asc and desc." }),
        ),
    ];
    for (query, params) in cases {
        let response = list(&sandbox, query).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = body_json(response).await;
        assert_eq!(body["code"], "rest_invalid_param", "{query}");
        assert_eq!(body["data"]["params"], params, "{query}");
    }
    assert_eq!(
        list(&sandbox, "?per_page=100").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_read_only_key_reads_but_never_writes() {
    let sandbox = start().await;
    let id = create_id(&sandbox, "order.created").await;
    let listed = read_only(Client::new().get(url(&sandbox, "/webhooks")))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(ids(&body_json(listed).await), [id]);
    let one = read_only(Client::new().get(url(&sandbox, &format!("/webhooks/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    let order = read_only(Client::new().get(url(&sandbox, "/orders/727")))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), StatusCode::OK);

    let no_write = json!({
        "code": "woocommerce_rest_authentication_error",
        "message": "The API key provided does not have write permissions.",
        "data": { "status": 401 }
    });
    let client = Client::new();
    let writes = [
        read_only(client.post(url(&sandbox, "/webhooks")))
            .json(&json!({ "topic": "order.updated", "delivery_url": HOOKS })),
        read_only(client.delete(url(&sandbox, &format!("/webhooks/{id}?force=true")))),
        read_only(client.put(url(&sandbox, &format!("/webhooks/{id}"))))
            .json(&json!({ "status": "paused" })),
        read_only(client.put(url(&sandbox, "/orders/727"))).json(&json!({ "status": "completed" })),
        read_only(client.post(url(&sandbox, "/orders/727/notes"))).json(&json!({ "note": "x" })),
    ];
    for write in writes {
        let response = write.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body_json(response).await, no_write);
    }
    assert_eq!(sandbox.woocommerce_webhooks().len(), 1);
    assert_eq!(sandbox.woocommerce_webhooks()[0].status, "active");
    assert!(sandbox.woocommerce_statuses().is_empty());
    assert!(sandbox.woocommerce_notes().is_empty());
}

#[tokio::test]
async fn anonymous_and_wrong_credentials_are_401() {
    let sandbox = start().await;
    let client = Client::new();
    let cases = [
        (
            client.get(url(&sandbox, "/webhooks")),
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        ),
        (
            client.get(url(&sandbox, "/webhooks/1")),
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot view this resource.",
        ),
        (
            client
                .post(url(&sandbox, "/webhooks"))
                .json(&json!({ "topic": "order.created", "delivery_url": HOOKS })),
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        ),
        (
            client.delete(url(&sandbox, "/webhooks/1?force=true")),
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        ),
        (
            client
                .get(url(&sandbox, "/webhooks"))
                .basic_auth(WOOCOMMERCE_CONSUMER_KEY, Some("cs_wrong")),
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ),
    ];
    for (request, code, message) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(
            body_json(response).await,
            json!({ "code": code, "message": message, "data": { "status": 401 } })
        );
    }
    let word = authed(client.get(url(&sandbox, "/webhooks/abc")))
        .send()
        .await
        .unwrap();
    assert_eq!(word.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(word).await["code"], "rest_no_route");
}

#[tokio::test]
async fn faults_strike_the_webhook_routes() {
    let sandbox = start().await;
    sandbox.set_woocommerce_fault(Fault::Unavailable { times: 2 });
    let down = create(
        &sandbox,
        json!({ "topic": "order.created", "delivery_url": HOOKS }),
    )
    .await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.headers()["retry-after"], "1");
    assert_eq!(
        list(&sandbox, "").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(sandbox.woocommerce_webhooks().is_empty(), "nothing is made");

    // A lost response: the webhook is made, the client gives up before hearing so.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let lost = authed(impatient.post(url(&sandbox, "/webhooks")))
        .json(&json!({ "topic": "order.created", "delivery_url": HOOKS }))
        .send()
        .await;
    assert!(lost.unwrap_err().is_timeout());
    assert_eq!(sandbox.woocommerce_webhooks().len(), 1);
}
