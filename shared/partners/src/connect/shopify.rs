//! Shopify: webhook subscriptions through the Admin GraphQL API (the version the write-back
//! uses, `stores::shopify::ADMIN_API_VERSION`): `webhookSubscriptions`, `webhookSubscriptionCreate` and
//! `webhookSubscriptionDelete`, JSON to an HTTPS endpoint
//! (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate>).
//! The secret Shopify signs with is the app's; a subscription has none of its own.
//!
//! In this version a subscription's URL is `callbackUrl`, read through its `endpoint`
//! (`WebhookHttpEndpoint`); the unified `uri` field came later (2025-10).

use super::{Subscription, WebhookAdmin};
use crate::stores::shopify::{user_errors, ShopifyAdmin, PARTNER};
use async_trait::async_trait;
use domain::{PartnerError, StoreConfig, TriggerPolicy};
use serde_json::{json, Value};

/// The topics a store's trigger policy needs, as Shopify's enum names them.
pub fn topics(config: &StoreConfig) -> Vec<String> {
    let mut topics = vec![
        "ORDERS_CREATE",
        "ORDERS_PAID",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
    ];
    if config.trigger == TriggerPolicy::ReadyToShip {
        topics.push("FULFILLMENTS_CREATE");
    }
    topics.into_iter().map(str::to_owned).collect()
}

/// The access scope a topic needs
/// (<https://shopify.dev/docs/api/webhooks?reference=graphql>), and the one the
/// write-back needs whatever the topics.
fn scope_of(topic: &str) -> &'static str {
    if topic.starts_with("FULFILLMENTS_") {
        "read_fulfillments"
    } else {
        "read_orders"
    }
}

/// `fulfillmentCreate` on a merchant-managed location.
const WRITE_BACK_SCOPE: &str = "write_merchant_managed_fulfillment_orders";

const SCOPES_QUERY: &str = r#"query courierBridgeAccessScopes {
  currentAppInstallation { accessScopes { handle } }
}"#;

const LIST_QUERY: &str = r#"query courierBridgeWebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    edges { cursor node { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const CREATE_MUTATION: &str = r#"mutation courierBridgeWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}"#;

const DELETE_MUTATION: &str = r#"mutation courierBridgeWebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}"#;

/// Shopify's largest page.
const PAGE: u32 = 250;
/// 250 × 40 subscriptions is far beyond what one app holds; a cursor that never ends is a
/// fault, not a reason to loop forever.
const MAX_PAGES: usize = 40;

/// One shop's webhook subscriptions, as the app whose token it is sees them (a
/// subscription made in the shop's admin, or by another app, is not listed).
pub struct ShopifyWebhooks {
    admin: ShopifyAdmin,
}

impl ShopifyWebhooks {
    pub fn new(http: reqwest::Client, base_url: &str, access_token: &str) -> ShopifyWebhooks {
        ShopifyWebhooks {
            admin: ShopifyAdmin::new(http, base_url, access_token),
        }
    }

    /// The scopes the token was granted.
    pub async fn scopes(&self) -> Result<Vec<String>, PartnerError> {
        let data = self.admin.graphql(SCOPES_QUERY, json!({}), false).await?;
        Ok(data["currentAppInstallation"]["accessScopes"]
            .as_array()
            .map(|scopes| {
                scopes
                    .iter()
                    .filter_map(|s| s["handle"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl WebhookAdmin for ShopifyWebhooks {
    fn partner(&self) -> &'static str {
        PARTNER
    }

    async fn preflight(&self, topics: &[String]) -> Result<(), PartnerError> {
        let granted = self.scopes().await?;
        let mut needed: Vec<&str> = topics.iter().map(|t| scope_of(t)).collect();
        needed.push(WRITE_BACK_SCOPE);
        needed.sort_unstable();
        needed.dedup();
        // A write scope includes its read scope (Shopify lists only the write one).
        let has = |scope: &str| {
            granted.iter().any(|g| g == scope)
                || scope
                    .strip_prefix("read_")
                    .is_some_and(|rest| granted.iter().any(|g| *g == format!("write_{rest}")))
        };
        let missing: Vec<&str> = needed.into_iter().filter(|s| !has(s)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(PartnerError::config(
                PARTNER,
                format!(
                    "the access token lacks the scope(s) {}: add them to the app's \
                     configuration, reinstall it on the shop, and use its new token",
                    missing.join(", ")
                ),
            ))
        }
    }

    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        let mut subscriptions = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let data = self
                .admin
                .graphql(LIST_QUERY, json!({ "first": PAGE, "after": after }), false)
                .await?;
            let connection = &data["webhookSubscriptions"];
            for edge in connection["edges"].as_array().into_iter().flatten() {
                if let Some(subscription) = subscription(&edge["node"]) {
                    subscriptions.push(subscription);
                }
            }
            let page = &connection["pageInfo"];
            match (page["hasNextPage"].as_bool(), page["endCursor"].as_str()) {
                (Some(true), Some(cursor)) => after = Some(cursor.to_owned()),
                _ => return Ok(subscriptions),
            }
        }
        Err(PartnerError::unavailable(
            PARTNER,
            format!("webhookSubscriptions did not end after {MAX_PAGES} pages"),
        ))
    }

    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError> {
        let variables = json!({
            "topic": topic,
            "webhookSubscription": { "callbackUrl": url, "format": "JSON" },
        });
        let data = self.admin.graphql(CREATE_MUTATION, variables, true).await?;
        let payload = &data["webhookSubscriptionCreate"];
        user_errors(payload)?;
        subscription(&payload["webhookSubscription"]).ok_or_else(|| {
            PartnerError::ambiguous(
                PARTNER,
                "webhookSubscriptionCreate returned no subscription",
            )
        })
    }

    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError> {
        let data = self
            .admin
            .graphql(DELETE_MUTATION, json!({ "id": subscription.id }), true)
            .await?;
        user_errors(&data["webhookSubscriptionDelete"])
    }
}

/// A subscription node; one to a non-HTTP endpoint (EventBridge, Pub/Sub) keeps its type
/// as its URL, so it is never taken for the stack's.
fn subscription(node: &Value) -> Option<Subscription> {
    let endpoint = &node["endpoint"];
    let url = endpoint["callbackUrl"]
        .as_str()
        .or_else(|| endpoint["__typename"].as_str())?;
    Some(Subscription {
        id: node["id"].as_str()?.to_owned(),
        topic: node["topic"].as_str()?.to_owned(),
        url: url.to_owned(),
    })
}
