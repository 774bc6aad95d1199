//! Shopify Admin GraphQL write-back: the tracking number and URL become a fulfillment of the
//! order's open fulfillment orders (`fulfillmentCreate`), which is how Shopify shows tracking
//! to the customer and, with `notifyCustomer`, emails it.
//!
//! Contract: <https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate>.
//! Throttling is a 200 answer whose `errors[].extensions.code` is `THROTTLED` (the cost-based
//! leaky bucket), not a 429.

use super::{StoreError, Tracking, WriteBack};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

pub const ADMIN_API_VERSION: &str = "2025-07";

const FULFILLMENT_ORDERS_QUERY: &str = r#"query courierBridgeFulfillmentOrders($orderId: ID!) {
  order(id: $orderId) {
    id
    fulfillmentOrders(first: 20) { nodes { id status } }
    fulfillments(first: 50) { id status trackingInfo(first: 5) { company number url } }
  }
}"#;

const FULFILLMENT_CREATE_MUTATION: &str = r#"mutation courierBridgeFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"#;

/// What the store secret holds (Secrets Manager, `{prefix}shopify/{store}`).
#[derive(Clone, Deserialize)]
pub struct ShopifyCredentials {
    pub webhook_secret: String,
    pub admin_access_token: String,
    /// `https://{shop}.myshopify.com` unless set (the sandbox store in local runs).
    #[serde(default)]
    pub admin_api_base_url: Option<String>,
}

impl std::fmt::Debug for ShopifyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyCredentials")
            .field("admin_api_base_url", &self.admin_api_base_url)
            .finish_non_exhaustive()
    }
}

impl ShopifyCredentials {
    pub fn admin_base_url(&self, store: &str) -> String {
        self.admin_api_base_url
            .clone()
            .unwrap_or_else(|| format!("https://{store}.myshopify.com"))
    }
}

pub struct ShopifyAdmin {
    http: reqwest::Client,
    endpoint: String,
    access_token: String,
}

#[derive(Debug, Deserialize)]
struct FulfillmentOrderNode {
    id: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct TrackingInfo {
    number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Fulfillment {
    id: String,
    #[serde(rename = "trackingInfo", default)]
    tracking_info: Vec<TrackingInfo>,
}

impl ShopifyAdmin {
    pub fn new(http: reqwest::Client, base_url: &str, access_token: &str) -> ShopifyAdmin {
        ShopifyAdmin {
            http,
            endpoint: format!(
                "{}/admin/api/{ADMIN_API_VERSION}/graphql.json",
                base_url.trim_end_matches('/')
            ),
            access_token: access_token.to_owned(),
        }
    }

    /// Writes `tracking` to the order as a fulfillment, once: if a fulfillment with this
    /// tracking number is already there, it says so instead of writing another.
    pub async fn fulfill_with_tracking(
        &self,
        order_id: &str,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        let order_gid = format!("gid://shopify/Order/{order_id}");
        let data = self
            .graphql(
                FULFILLMENT_ORDERS_QUERY,
                json!({ "orderId": order_gid }),
                false,
            )
            .await?;
        let order = data.get("order").filter(|o| !o.is_null()).ok_or_else(|| {
            StoreError::Rejected(format!("order {order_id} not found in the store"))
        })?;

        let fulfillments: Vec<Fulfillment> = parse(order, "fulfillments")?;
        if let Some(existing) = fulfillments.iter().find(|f| {
            f.tracking_info
                .iter()
                .any(|t| t.number.as_deref() == Some(tracking.number.as_str()))
        }) {
            return Ok(WriteBack::AlreadyThere {
                reference: existing.id.clone(),
            });
        }

        let open: Vec<FulfillmentOrderNode> = parse(&order["fulfillmentOrders"], "nodes")?;
        let open: Vec<_> = open
            .into_iter()
            .filter(|fo| matches!(fo.status.as_str(), "OPEN" | "IN_PROGRESS"))
            .map(|fo| json!({ "fulfillmentOrderId": fo.id }))
            .collect();
        if open.is_empty() {
            return Err(StoreError::Rejected(format!(
                "order {order_id} has no open fulfillment order to attach tracking to"
            )));
        }

        let input = json!({
            "fulfillment": {
                "lineItemsByFulfillmentOrder": open,
                "trackingInfo": {
                    "number": tracking.number,
                    "url": tracking.url,
                    "company": tracking.company,
                },
                "notifyCustomer": true,
            }
        });
        let data = self
            .graphql(FULFILLMENT_CREATE_MUTATION, input, true)
            .await?;
        let result = &data["fulfillmentCreate"];
        let user_errors = result["userErrors"].as_array().cloned().unwrap_or_default();
        if !user_errors.is_empty() {
            let messages: Vec<String> = user_errors
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_owned))
                .collect();
            return Err(StoreError::Rejected(messages.join("; ")));
        }
        match result["fulfillment"]["id"].as_str() {
            Some(id) => Ok(WriteBack::Written {
                reference: id.to_owned(),
            }),
            None => Err(StoreError::Ambiguous(
                "fulfillmentCreate returned no fulfillment".into(),
            )),
        }
    }

    /// One GraphQL call. `mutation` marks calls that change the store: a failure after
    /// sending one is ambiguous.
    async fn graphql(
        &self,
        query: &str,
        variables: Value,
        mutation: bool,
    ) -> Result<Value, StoreError> {
        let sent = self
            .http
            .post(&self.endpoint)
            .header("X-Shopify-Access-Token", &self.access_token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if mutation && !e.is_connect() => {
                return Err(StoreError::Ambiguous(e.to_string()))
            }
            Err(e) => return Err(StoreError::Unavailable(e.to_string())),
        };
        let status = response.status();
        let wait = crate::courier::retry_after(response.headers());
        let body: Value = match response.json().await {
            Ok(b) => b,
            Err(e) if mutation && status.is_success() => {
                return Err(StoreError::Ambiguous(format!("unreadable response: {e}")))
            }
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "{status}: unreadable response: {e}"
                )))
            }
        };
        match status.as_u16() {
            200..=299 => {}
            429 => return Err(StoreError::Throttled { retry_after: wait }),
            401 | 403 => return Err(StoreError::Config(format!("{status}: {}", body["errors"]))),
            s if s >= 500 => return Err(StoreError::Unavailable(format!("{status}"))),
            _ => {
                return Err(StoreError::Rejected(format!(
                    "{status}: {}",
                    body["errors"]
                )))
            }
        }
        if let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) {
            let throttled = errors
                .iter()
                .any(|e| e["extensions"]["code"].as_str() == Some("THROTTLED"));
            if throttled {
                return Err(StoreError::Throttled {
                    retry_after: Some(Duration::from_secs(1)),
                });
            }
            return Err(StoreError::Rejected(
                errors
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        Ok(body["data"].clone())
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    parent: &Value,
    field: &str,
) -> Result<Vec<T>, StoreError> {
    serde_json::from_value(parent.get(field).cloned().unwrap_or(Value::Array(vec![])))
        .map_err(|e| StoreError::Unavailable(format!("unexpected {field} shape: {e}")))
}

#[async_trait::async_trait]
impl super::StoreWriter for ShopifyAdmin {
    async fn write_tracking(
        &self,
        key: &crate::domain::ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        self.fulfill_with_tracking(&key.order_id, tracking).await
    }
}
