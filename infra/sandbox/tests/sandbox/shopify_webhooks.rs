//! The fake Shopify Admin GraphQL API's access scopes and webhook subscriptions, used by
//! `courier-bridge connect`, `disconnect` and `doctor`.

use reqwest::{Client, StatusCode};
use sandbox::{Fault, Sandbox, ShopifyWebhookView};
use serde_json::{json, Value};

use crate::support::{body_json, start, SHOPIFY_TOKEN};

const SCOPES: &str = "query { currentAppInstallation { accessScopes { handle } } }";

const LIST: &str = r#"query ($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    edges { cursor node { id topic format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const CREATE: &str = r#"mutation ($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}"#;

const DELETE: &str = r#"mutation ($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}"#;

const HOOKS: &str = "https://bridge.example.com/webhooks/shopify/demo-store";

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

async fn create(sandbox: &Sandbox, topic: &str, callback_url: &str) -> Value {
    let variables = json!({
        "topic": topic,
        "webhookSubscription": { "callbackUrl": callback_url, "format": "JSON" }
    });
    graphql(sandbox, CREATE, variables).await
}

async fn list(sandbox: &Sandbox, first: u64, after: Option<&str>) -> Value {
    graphql(sandbox, LIST, json!({ "first": first, "after": after })).await["data"]
        ["webhookSubscriptions"]
        .clone()
}

#[tokio::test]
async fn scopes_are_the_defaults_until_a_test_replaces_them() {
    let sandbox = start().await;
    let handles = |answer: Value| -> Vec<String> {
        answer["data"]["currentAppInstallation"]["accessScopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|scope| scope["handle"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        handles(graphql(&sandbox, SCOPES, json!({})).await),
        [
            "read_orders",
            "read_fulfillments",
            "write_merchant_managed_fulfillment_orders",
            "write_fulfillments"
        ]
    );
    sandbox.set_shopify_scopes(&["read_orders"]);
    assert_eq!(
        handles(graphql(&sandbox, SCOPES, json!({})).await),
        ["read_orders"]
    );
}

#[tokio::test]
async fn a_subscription_is_created_listed_and_deleted() {
    let sandbox = start().await;
    let created = create(&sandbox, "ORDERS_PAID", HOOKS).await;
    let payload = &created["data"]["webhookSubscriptionCreate"];
    assert_eq!(payload["userErrors"], json!([]));
    let subscription = &payload["webhookSubscription"];
    let id = subscription["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gid://shopify/WebhookSubscription/"), "{id}");
    assert_eq!(
        subscription,
        &json!({
            "id": id,
            "topic": "ORDERS_PAID",
            "format": "JSON",
            "endpoint": { "__typename": "WebhookHttpEndpoint", "callbackUrl": HOOKS },
        })
    );
    assert_eq!(
        sandbox.shopify_webhook_subscriptions(),
        [ShopifyWebhookView {
            id: id.clone(),
            topic: "ORDERS_PAID".into(),
            callback_url: HOOKS.into(),
        }]
    );

    let listed = list(&sandbox, 50, None).await;
    assert_eq!(listed["edges"][0]["node"], *subscription);
    assert_eq!(listed["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        listed["pageInfo"]["endCursor"],
        listed["edges"][0]["cursor"]
    );

    let deleted = graphql(&sandbox, DELETE, json!({ "id": id })).await;
    assert_eq!(
        deleted,
        json!({ "data": { "webhookSubscriptionDelete": {
            "deletedWebhookSubscriptionId": id, "userErrors": []
        } } })
    );
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
    let again = graphql(&sandbox, DELETE, json!({ "id": id })).await;
    assert_eq!(
        again,
        json!({ "data": { "webhookSubscriptionDelete": {
            "deletedWebhookSubscriptionId": null,
            "userErrors": [{ "field": ["id"], "message": "Webhook subscription does not exist" }]
        } } })
    );
    let empty = list(&sandbox, 50, None).await;
    assert_eq!(empty["edges"], json!([]));
    assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
}

#[tokio::test]
async fn subscriptions_are_paged_oldest_first_with_opaque_cursors() {
    let sandbox = start().await;
    let topics = [
        "ORDERS_CREATE",
        "ORDERS_PAID",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
        "FULFILLMENTS_CREATE",
    ];
    for topic in topics {
        let created = create(&sandbox, topic, HOOKS).await;
        assert_eq!(
            created["data"]["webhookSubscriptionCreate"]["userErrors"],
            json!([]),
            "{topic}"
        );
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = list(&sandbox, 2, after.as_deref()).await;
        pages += 1;
        for edge in page["edges"].as_array().unwrap() {
            let cursor = edge["cursor"].as_str().unwrap();
            assert!(
                !cursor.contains("WebhookSubscription"),
                "cursors are opaque: {cursor}"
            );
            seen.push(edge["node"]["topic"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, topics);

    // A cursor stays good when what it points at is deleted.
    let first_page = list(&sandbox, 2, None).await;
    let cursor = first_page["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_id = first_page["edges"][1]["node"]["id"].clone();
    graphql(&sandbox, DELETE, json!({ "id": second_id })).await;
    let rest = list(&sandbox, 250, Some(&cursor)).await;
    assert_eq!(rest["edges"].as_array().unwrap().len(), 3);
    assert_eq!(rest["edges"][0]["node"]["topic"], "ORDERS_UPDATED");
}

#[tokio::test]
async fn page_sizes_and_cursors_the_schema_refuses_are_graphql_errors() {
    let sandbox = start().await;
    for first in [json!(0), json!(251), json!(-1)] {
        let answer = graphql(&sandbox, LIST, json!({ "first": first })).await;
        assert!(answer["errors"][0]["message"].is_string(), "{first}");
        assert!(answer.get("data").is_none(), "{first}");
    }
    let missing = graphql(&sandbox, LIST, json!({})).await;
    assert_eq!(
        missing["errors"][0]["message"],
        "you must provide one of first or last"
    );
    let garbage = graphql(&sandbox, LIST, json!({ "first": 5, "after": "nope" })).await;
    assert!(garbage["errors"].is_array());
    assert!(list(&sandbox, 250, None).await["edges"].is_array());
}

#[tokio::test]
async fn a_taken_or_invalid_address_is_a_user_error_and_creates_nothing() {
    let sandbox = start().await;
    create(&sandbox, "ORDERS_PAID", HOOKS).await;

    let taken = create(&sandbox, "ORDERS_PAID", HOOKS).await;
    assert_eq!(
        taken,
        json!({ "data": { "webhookSubscriptionCreate": {
            "webhookSubscription": null,
            "userErrors": [{
                "field": ["webhookSubscription", "callbackUrl"],
                "message": "Address for this topic has already been taken"
            }]
        } } })
    );
    for invalid in [
        "bridge.example.com/hooks",
        "ftp://bridge.example.com/hooks",
        "",
    ] {
        let answer = create(&sandbox, "ORDERS_CREATE", invalid).await;
        assert_eq!(
            answer["data"]["webhookSubscriptionCreate"]["userErrors"],
            json!([{ "field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid" }]),
            "{invalid:?}"
        );
    }
    // The same address on another topic is a different subscription.
    let other = create(&sandbox, "APP_UNINSTALLED", HOOKS).await;
    assert_eq!(
        other["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([])
    );
    assert_eq!(sandbox.shopify_webhook_subscriptions().len(), 2);
}

#[tokio::test]
async fn an_unknown_topic_is_an_invalid_variable() {
    let sandbox = start().await;
    for topic in [json!("ORDERS_SHIPPED"), json!("orders/paid"), json!(null)] {
        let variables = json!({ "topic": topic, "webhookSubscription": { "callbackUrl": HOOKS } });
        let answer = graphql(&sandbox, CREATE, variables).await;
        assert_eq!(
            answer["errors"][0]["message"],
            "Variable $topic of type WebhookSubscriptionTopic! was provided invalid value",
            "{topic}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["code"],
            "INVALID_VARIABLE"
        );
        assert!(answer.get("data").is_none());
    }
    let no_input = graphql(&sandbox, CREATE, json!({ "topic": "ORDERS_PAID" })).await;
    assert_eq!(
        no_input["errors"][0]["extensions"]["code"],
        "INVALID_VARIABLE"
    );
    let bad_format = graphql(
        &sandbox,
        CREATE,
        json!({ "topic": "ORDERS_PAID", "webhookSubscription": { "callbackUrl": HOOKS, "format": "YAML" } }),
    )
    .await;
    assert_eq!(
        bad_format["errors"][0]["extensions"]["code"],
        "INVALID_VARIABLE"
    );
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
}

#[tokio::test]
async fn a_topic_needs_its_access_scope() {
    let sandbox = start().await;
    sandbox.set_shopify_scopes(&["read_fulfillments"]);
    let denied = create(&sandbox, "ORDERS_PAID", HOOKS).await;
    assert_eq!(
        denied,
        json!({
            "errors": [{
                "message": "Access denied for webhookSubscriptionCreate field. Required access: `read_orders` access scope.",
                "extensions": { "code": "ACCESS_DENIED" }
            }],
            "data": { "webhookSubscriptionCreate": null }
        })
    );
    let fulfillments = create(&sandbox, "FULFILLMENTS_CREATE", HOOKS).await;
    assert_eq!(
        fulfillments["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([])
    );

    sandbox.set_shopify_scopes(&["read_orders"]);
    let denied = create(&sandbox, "FULFILLMENTS_UPDATE", HOOKS).await;
    assert_eq!(
        denied["errors"][0]["message"],
        "Access denied for webhookSubscriptionCreate field. Required access: `read_fulfillments` access scope."
    );
    // Any app may hear that it was uninstalled.
    sandbox.set_shopify_scopes(&[]);
    let uninstalled = create(&sandbox, "APP_UNINSTALLED", HOOKS).await;
    assert_eq!(
        uninstalled["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([])
    );
    let topics: Vec<String> = sandbox
        .shopify_webhook_subscriptions()
        .into_iter()
        .map(|s| s.topic)
        .collect();
    assert_eq!(topics, ["FULFILLMENTS_CREATE", "APP_UNINSTALLED"]);
}

#[tokio::test]
async fn faults_strike_the_webhook_operations_too() {
    let sandbox = start().await;
    sandbox.set_shopify_admin_fault(Fault::RateLimited { times: 1 });
    let throttled = create(&sandbox, "ORDERS_PAID", HOOKS).await;
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
    let created = create(&sandbox, "ORDERS_PAID", HOOKS).await;
    assert_eq!(
        created["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([])
    );
}
