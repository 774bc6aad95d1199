//! Shopify Admin GraphQL write-back: the tracking number and URL go on a fulfillment, which
//! is how Shopify shows tracking to the customer and, with `notifyCustomer`, emails it.
//!
//! Which fulfillment depends on the shipment (see [`crate::channel::shopify`]):
//!
//! * the whole order ([`WHOLE_ORDER_SHIPMENT`]): nobody has fulfilled it yet, so the tracking
//!   becomes a new fulfillment of the order's open fulfillment orders (`fulfillmentCreate`);
//! * one fulfillment the merchant made (ready-to-ship policy; the shipment id is its REST
//!   id): the parcel is already a fulfillment, so the tracking is set on it
//!   (`fulfillmentTrackingInfoUpdate`). Creating another would fulfill items twice, or fail
//!   once the merchant's fulfillments had closed every fulfillment order.
//!
//! Contract (API version [`ADMIN_API_VERSION`]):
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/fulfillmentCreate>,
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/fulfillmentTrackingInfoUpdate>
//! (`fulfillmentId: ID!`, `trackingInfoInput: FulfillmentTrackingInput!`,
//! `notifyCustomer: Boolean`; payload `fulfillment` and `userErrors { field message }`) and
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/queries/fulfillment> (`null` when the
//! store has no such fulfillment). Throttling is a 200 answer whose
//! `errors[].extensions.code` is `THROTTLED` (the cost-based leaky bucket), not a 429.

use super::{StoreError, Tracking, WriteBack};
use crate::channel::shopify::WHOLE_ORDER_SHIPMENT;
use crate::domain::ShipmentKey;
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

const FULFILLMENT_QUERY: &str = r#"query courierBridgeFulfillment($id: ID!) {
  fulfillment(id: $id) {
    id
    order { id }
    trackingInfo(first: 10) { number }
  }
}"#;

const TRACKING_INFO_UPDATE_MUTATION: &str = r#"mutation courierBridgeTrackingInfoUpdate($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) {
    fulfillment { id trackingInfo(first: 10) { number } }
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

impl Fulfillment {
    fn shows(&self, tracking: &Tracking) -> bool {
        self.tracking_info
            .iter()
            .any(|t| t.number.as_deref() == Some(tracking.number.as_str()))
    }
}

#[derive(Debug, Deserialize)]
struct OrderRef {
    id: String,
}

/// The `fulfillment(id:)` query's answer.
#[derive(Debug, Deserialize)]
struct FulfillmentWithOrder {
    #[serde(flatten)]
    fulfillment: Fulfillment,
    order: OrderRef,
}

/// Where a shipment's tracking goes, read from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target<'a> {
    /// A new fulfillment of the whole order.
    WholeOrder,
    /// The merchant's fulfillment with this numeric (REST) id.
    Fulfillment(&'a str),
}

impl<'a> Target<'a> {
    /// Shopify's fulfillment ids are large integers, so the whole-order id "1" is never one.
    fn of(key: &'a ShipmentKey) -> Result<Target<'a>, StoreError> {
        let id = key.shipment_id.as_str();
        if id == WHOLE_ORDER_SHIPMENT {
            Ok(Target::WholeOrder)
        } else if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Target::Fulfillment(id))
        } else {
            Err(StoreError::Rejected(format!(
                "shipment id {id:?} is neither the whole order nor a Shopify fulfillment id"
            )))
        }
    }
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
        if let Some(existing) = fulfillments.iter().find(|f| f.shows(tracking)) {
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
        written(&data, "fulfillmentCreate")
    }

    /// Sets `tracking` on the merchant's fulfillment `fulfillment_id` (its numeric id) of
    /// order `order_id`, once: if the fulfillment already shows this tracking number, it
    /// says so instead of writing again. Shopify keeps one set of tracking per fulfillment,
    /// so a different number there (an earlier task's) is replaced.
    pub async fn track_fulfillment(
        &self,
        order_id: &str,
        fulfillment_id: &str,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        let gid = format!("gid://shopify/Fulfillment/{fulfillment_id}");
        let data = self
            .graphql(FULFILLMENT_QUERY, json!({ "id": gid }), false)
            .await?;
        let found = data
            .get("fulfillment")
            .filter(|f| !f.is_null())
            .ok_or_else(|| {
                StoreError::Rejected(format!(
                    "fulfillment {fulfillment_id} not found in the store"
                ))
            })?;
        let found: FulfillmentWithOrder = serde_json::from_value(found.clone())
            .map_err(|e| StoreError::Unavailable(format!("unexpected fulfillment shape: {e}")))?;
        // The webhook named both; a mismatch means the key is wrong, and writing would put
        // one customer's tracking on another's order.
        let order_gid = format!("gid://shopify/Order/{order_id}");
        if found.order.id != order_gid {
            return Err(StoreError::Rejected(format!(
                "fulfillment {fulfillment_id} belongs to {}, not order {order_id}",
                found.order.id
            )));
        }
        if found.fulfillment.shows(tracking) {
            return Ok(WriteBack::AlreadyThere {
                reference: found.fulfillment.id,
            });
        }

        let input = json!({
            "fulfillmentId": found.fulfillment.id,
            "trackingInfoInput": {
                "number": tracking.number,
                "url": tracking.url,
                "company": tracking.company,
            },
            "notifyCustomer": true,
        });
        let data = self
            .graphql(TRACKING_INFO_UPDATE_MUTATION, input, true)
            .await?;
        written(&data, "fulfillmentTrackingInfoUpdate")
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

/// A fulfillment mutation's payload: its `userErrors` are a refusal; no fulfillment and no
/// error means we cannot tell what happened.
fn written(data: &Value, mutation: &str) -> Result<WriteBack, StoreError> {
    let payload = &data[mutation];
    if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        return Err(StoreError::Rejected(messages.join("; ")));
    }
    match payload["fulfillment"]["id"].as_str() {
        Some(id) => Ok(WriteBack::Written {
            reference: id.to_owned(),
        }),
        None => Err(StoreError::Ambiguous(format!(
            "{mutation} returned no fulfillment"
        ))),
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
    async fn write_status(
        &self,
        _key: &ShipmentKey,
        _report: &super::StatusReport,
    ) -> Result<super::StatusWriteBack, StoreError> {
        // PLACEHOLDER (issue 4, in progress): replaced by the channel's status write-back.
        Ok(super::StatusWriteBack::NotShown)
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        match Target::of(key)? {
            Target::WholeOrder => self.fulfill_with_tracking(&key.order_id, tracking).await,
            Target::Fulfillment(id) => self.track_fulfillment(&key.order_id, id, tracking).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;

    fn key(shipment_id: &str) -> ShipmentKey {
        ShipmentKey::new(Channel::Shopify, "shop", "820982911946154508", shipment_id)
    }

    #[test]
    fn the_shipment_id_names_the_target() {
        let whole = key(WHOLE_ORDER_SHIPMENT);
        assert_eq!(Target::of(&whole).ok(), Some(Target::WholeOrder));
        let parcel = key("5912345678901");
        assert_eq!(
            Target::of(&parcel).ok(),
            Some(Target::Fulfillment("5912345678901"))
        );
        for odd in ["", "gid://shopify/Fulfillment/5", "12a"] {
            assert!(
                matches!(Target::of(&key(odd)), Err(StoreError::Rejected(_))),
                "{odd:?}"
            );
        }
    }
}
