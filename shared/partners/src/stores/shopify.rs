//! Shopify Admin GraphQL write-back: the tracking number and URL go on a fulfillment, which
//! is how Shopify shows tracking to the customer and, with `notifyCustomer`, emails it.
//!
//! Which fulfillment depends on the shipment (see `channels::shopify`):
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
//!
//! # Delivery statuses
//!
//! Each courier status becomes a fulfillment event on the fulfillment the tracking went to
//! (`StatusReport::tracking_reference`, its gid), which Shopify shows on the order's status
//! page and timeline: `fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!)`
//! with `fulfillmentId`, `status`, `happenedAt`, `message`, `latitude`/`longitude` and
//! `estimatedDeliveryAt`; payload `fulfillmentEvent` and `userErrors`
//! (<https://shopify.dev/docs/api/admin-graphql/2025-07/mutations/fulfillmentEventCreate>,
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/input-objects/FulfillmentEventInput>,
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/objects/FulfillmentEvent>).
//! The status is a `FulfillmentEventStatus`
//! (<https://shopify.dev/docs/api/admin-graphql/2025-07/enums/FulfillmentEventStatus>):
//!
//! | courier status | `FulfillmentEventStatus` | why |
//! |---|---|---|
//! | Assigned | `CONFIRMED` | "The fulfillment is confirmed": a driver has it, nothing moved yet |
//! | PickedUp | `IN_TRANSIT` | `CARRIER_PICKED_UP` exists only from 2025-10; in transit is what a pick-up starts |
//! | OutForDelivery | `OUT_FOR_DELIVERY` | same meaning |
//! | Delivered | `DELIVERED` | same meaning |
//! | Failed | `ATTEMPTED_DELIVERY` | "A delivery was attempted": the driver was there and could not deliver |
//! | Returned | `FAILURE` | the delivery will not happen; the version has no returned-to-sender value, and `FAILURE` is the only one that says the fulfillment ended without delivery |
//!
//! Any other status is [`StatusWriteBack::NotShown`] without a call. `message` carries what
//! the customer may read: the failure reason, who signed for the parcel (the signer's typed
//! name; photo and signature ids stay with the courier); `latitude`/`longitude` the proof of
//! delivery's place; `estimatedDeliveryAt` the courier's ETA.
//!
//! Idempotency: before creating, the fulfillment's newest events are read
//! (`fulfillment(id:) { order { id } events(first: 50, sortKey: ID, reverse: true) { nodes {
//! id status happenedAt } } }`,
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/objects/Fulfillment>,
//! <https://shopify.dev/docs/api/admin-graphql/2025-07/enums/FulfillmentEventSortKeys>);
//! an event with the same status and `happenedAt` (to the second: `DateTime` keeps no more)
//! is ours from an earlier attempt, and the answer is `AlreadyThere`. The same query checks
//! that the fulfillment exists and belongs to the shipment's order.

use crate::http::{self, Effect};
use channels::shopify::WHOLE_ORDER_SHIPMENT;
use domain::clock::utc_from_ms;
use domain::ports::StoreWriter;
use domain::write_back::{failure_reason_text, StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{PartnerError, ShipmentKey, ShipmentStatus};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const ADMIN_API_VERSION: &str = "2025-07";

pub(crate) const PARTNER: &str = "shopify";

/// Our own refusal of a write the store's data does not allow (an unknown order, a
/// fulfillment of another order): retrying cannot help.
fn refused(message: String) -> PartnerError {
    PartnerError::rejected(PARTNER, "refused", message)
}

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

/// The fulfillment, its order and its newest events: an earlier attempt of ours is among
/// them (we write at most six per fulfillment).
const FULFILLMENT_EVENTS_QUERY: &str = r#"query courierBridgeFulfillmentEvents($id: ID!) {
  fulfillment(id: $id) {
    id
    order { id }
    events(first: 50, sortKey: ID, reverse: true) { nodes { id status happenedAt } }
  }
}"#;

const FULFILLMENT_EVENT_CREATE_MUTATION: &str = r#"mutation courierBridgeFulfillmentEventCreate($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status happenedAt }
    userErrors { field message }
  }
}"#;

/// The `FulfillmentEventStatus` (API [`ADMIN_API_VERSION`]) a courier status is shown as,
/// or `None` for statuses the store is not told about (see the module's table).
pub fn fulfillment_event_status(status: ShipmentStatus) -> Option<&'static str> {
    match status {
        ShipmentStatus::Assigned => Some("CONFIRMED"),
        ShipmentStatus::PickedUp => Some("IN_TRANSIT"),
        ShipmentStatus::OutForDelivery => Some("OUT_FOR_DELIVERY"),
        ShipmentStatus::Delivered => Some("DELIVERED"),
        ShipmentStatus::Failed => Some("ATTEMPTED_DELIVERY"),
        ShipmentStatus::Returned => Some("FAILURE"),
        ShipmentStatus::Pending
        | ShipmentStatus::Created
        | ShipmentStatus::NeedsClarification
        | ShipmentStatus::Cancelled => None,
    }
}

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

/// One node of `Fulfillment.events`.
#[derive(Debug, Deserialize)]
struct EventNode {
    id: String,
    status: String,
    #[serde(rename = "happenedAt")]
    happened_at: String,
}

#[derive(Debug, Deserialize)]
struct EventConnection {
    #[serde(default)]
    nodes: Vec<EventNode>,
}

/// The events query's answer.
#[derive(Debug, Deserialize)]
struct FulfillmentEvents {
    id: String,
    order: OrderRef,
    events: EventConnection,
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
    fn of(key: &'a ShipmentKey) -> Result<Target<'a>, PartnerError> {
        let id = key.shipment_id.as_str();
        if id == WHOLE_ORDER_SHIPMENT {
            Ok(Target::WholeOrder)
        } else if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Target::Fulfillment(id))
        } else {
            Err(refused(format!(
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
    ) -> Result<WriteBack, PartnerError> {
        let order_gid = format!("gid://shopify/Order/{order_id}");
        let data = self
            .graphql(
                FULFILLMENT_ORDERS_QUERY,
                json!({ "orderId": order_gid }),
                false,
            )
            .await?;
        let order = data
            .get("order")
            .filter(|o| !o.is_null())
            .ok_or_else(|| refused(format!("order {order_id} not found in the store")))?;

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
            return Err(refused(format!(
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
    ) -> Result<WriteBack, PartnerError> {
        let gid = format!("gid://shopify/Fulfillment/{fulfillment_id}");
        let data = self
            .graphql(FULFILLMENT_QUERY, json!({ "id": gid }), false)
            .await?;
        let found = data
            .get("fulfillment")
            .filter(|f| !f.is_null())
            .ok_or_else(|| {
                refused(format!(
                    "fulfillment {fulfillment_id} not found in the store"
                ))
            })?;
        let found: FulfillmentWithOrder = serde_json::from_value(found.clone()).map_err(|e| {
            PartnerError::unavailable(PARTNER, format!("unexpected fulfillment shape: {e}"))
        })?;
        // The webhook named both; a mismatch means the key is wrong, and writing would put
        // one customer's tracking on another's order.
        let order_gid = format!("gid://shopify/Order/{order_id}");
        if found.order.id != order_gid {
            return Err(refused(format!(
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

    /// Shows `report` on the fulfillment `fulfillment_gid` of order `order_id` as a
    /// fulfillment event, once: if the fulfillment already has an event with this status
    /// and time (an earlier attempt got through), it says so instead of writing another.
    pub async fn create_fulfillment_event(
        &self,
        order_id: &str,
        fulfillment_gid: &str,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        let status = match fulfillment_event_status(report.status) {
            Some(status) if report.is_shown() => status,
            _ => return Ok(StatusWriteBack::NotShown),
        };
        let numeric = fulfillment_gid
            .strip_prefix("gid://shopify/Fulfillment/")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if numeric.is_none() {
            return Err(refused(format!(
                "{fulfillment_gid:?} is not a Shopify fulfillment id"
            )));
        }
        let happened_at = shopify_time(report.happened_at_ms).ok_or_else(|| {
            refused(format!(
                "happened_at {} is out of range",
                report.happened_at_ms
            ))
        })?;

        let data = self
            .graphql(
                FULFILLMENT_EVENTS_QUERY,
                json!({ "id": fulfillment_gid }),
                false,
            )
            .await?;
        let found = data
            .get("fulfillment")
            .filter(|f| !f.is_null())
            .ok_or_else(|| {
                refused(format!(
                    "fulfillment {fulfillment_gid} not found in the store"
                ))
            })?;
        let found: FulfillmentEvents = serde_json::from_value(found.clone()).map_err(|e| {
            PartnerError::unavailable(PARTNER, format!("unexpected fulfillment events shape: {e}"))
        })?;
        let order_gid = format!("gid://shopify/Order/{order_id}");
        if found.order.id != order_gid {
            return Err(refused(format!(
                "fulfillment {} belongs to {}, not order {order_id}",
                found.id, found.order.id
            )));
        }
        let second = happened_at.unix_timestamp();
        let earlier = found.events.nodes.iter().find(|e| {
            e.status == status
                && OffsetDateTime::parse(&e.happened_at, &Rfc3339)
                    .is_ok_and(|t| t.unix_timestamp() == second)
        });
        if let Some(earlier) = earlier {
            return Ok(StatusWriteBack::AlreadyThere {
                reference: earlier.id.clone(),
            });
        }

        let data = self
            .graphql(
                FULFILLMENT_EVENT_CREATE_MUTATION,
                json!({ "fulfillmentEvent": event_input(&found.id, status, happened_at, report) }),
                true,
            )
            .await?;
        let payload = &data["fulfillmentEventCreate"];
        user_errors(payload)?;
        match payload["fulfillmentEvent"]["id"].as_str() {
            Some(id) => Ok(StatusWriteBack::Written {
                reference: id.to_owned(),
            }),
            None => Err(PartnerError::ambiguous(
                PARTNER,
                "fulfillmentEventCreate returned no event",
            )),
        }
    }

    /// One GraphQL call. `mutation` marks calls that change the store: a failure after
    /// sending one is ambiguous.
    pub(crate) async fn graphql(
        &self,
        query: &str,
        variables: Value,
        mutation: bool,
    ) -> Result<Value, PartnerError> {
        let effect = if mutation {
            Effect::Write
        } else {
            Effect::Read
        };
        let request = self
            .http
            .post(&self.endpoint)
            .header("X-Shopify-Access-Token", &self.access_token)
            .json(&json!({ "query": query, "variables": variables }));
        let reply = http::exchange(PARTNER, request, effect).await?;
        if !reply.is_success() {
            let errors = serde_json::from_slice::<Value>(&reply.body)
                .map(|body| body["errors"].to_string())
                .unwrap_or_else(|_| reply.text(300));
            return Err(http::refusal(PARTNER, &reply, errors));
        }
        let body: Value = reply.json(PARTNER, effect)?;
        if let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) {
            // Shopify's cost-based limit answers 200 with THROTTLED, not 429.
            let throttled = errors
                .iter()
                .any(|e| e["extensions"]["code"].as_str() == Some("THROTTLED"));
            if throttled {
                return Err(PartnerError::Throttled {
                    partner: PARTNER,
                    retry_after: Some(Duration::from_secs(1)),
                });
            }
            return Err(PartnerError::rejected(
                PARTNER,
                "errors",
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
fn written(data: &Value, mutation: &str) -> Result<WriteBack, PartnerError> {
    let payload = &data[mutation];
    user_errors(payload)?;
    match payload["fulfillment"]["id"].as_str() {
        Some(id) => Ok(WriteBack::Written {
            reference: id.to_owned(),
        }),
        None => Err(PartnerError::ambiguous(
            PARTNER,
            format!("{mutation} returned no fulfillment"),
        )),
    }
}

/// A mutation payload's `userErrors`, if any, as a refusal.
pub(crate) fn user_errors(payload: &Value) -> Result<(), PartnerError> {
    match payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
        Some(errors) => {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect();
            Err(PartnerError::rejected(
                PARTNER,
                "userErrors",
                messages.join("; "),
            ))
        }
        None => Ok(()),
    }
}

/// `happened_at_ms` as Shopify keeps a `DateTime`: UTC, whole seconds.
fn shopify_time(ms: i64) -> Option<OffsetDateTime> {
    let at = utc_from_ms(ms)?;
    at.replace_nanosecond(0).ok()
}

/// `FulfillmentEventInput` for `report`, shown as `status`.
fn event_input(
    fulfillment_gid: &str,
    status: &str,
    happened_at: OffsetDateTime,
    report: &StatusReport,
) -> Value {
    let format = |t: OffsetDateTime| t.format(&Rfc3339).ok();
    let mut input = json!({
        "fulfillmentId": fulfillment_gid,
        "status": status,
        "happenedAt": format(happened_at),
    });
    if let Some(message) = event_message(report) {
        input["message"] = json!(message);
    }
    let place = report.proof.as_ref().and_then(|p| p.location);
    if let Some(place) = place.filter(|p| p.lat.is_finite() && p.lng.is_finite()) {
        input["latitude"] = json!(place.lat);
        input["longitude"] = json!(place.lng);
    }
    let eta = report.eta_ms.and_then(shopify_time).and_then(format);
    if let Some(eta) = eta {
        input["estimatedDeliveryAt"] = json!(eta);
    }
    input
}

/// The event's `message`: what Shopify's status label leaves out.
fn event_message(report: &StatusReport) -> Option<String> {
    let courier = report.tracking.company.trim();
    match report.status {
        ShipmentStatus::Assigned => {
            Some(format!("A {courier} driver is assigned to the delivery."))
        }
        ShipmentStatus::PickedUp => Some(format!("Picked up by {courier}.")),
        ShipmentStatus::Delivered => {
            let signer = report
                .proof
                .as_ref()
                .and_then(|p| p.signature_text.as_deref())
                .map(str::trim)
                .filter(|s| !s.is_empty());
            signer.map(|name| format!("Delivered. Signed for by {name}."))
        }
        ShipmentStatus::Failed => Some(match failure_reason_text(report.failure.as_ref()) {
            Some(reason) => format!("Delivery attempt failed: {reason}."),
            None => "Delivery attempt failed.".to_owned(),
        }),
        ShipmentStatus::Returned => Some("The parcel is being returned to the store.".to_owned()),
        _ => None,
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    parent: &Value,
    field: &str,
) -> Result<Vec<T>, PartnerError> {
    serde_json::from_value(parent.get(field).cloned().unwrap_or(Value::Array(vec![])))
        .map_err(|e| PartnerError::unavailable(PARTNER, format!("unexpected {field} shape: {e}")))
}

#[async_trait::async_trait]
impl StoreWriter for ShopifyAdmin {
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        self.create_fulfillment_event(&key.order_id, &report.tracking_reference, report)
            .await
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        match Target::of(key)? {
            Target::WholeOrder => self.fulfill_with_tracking(&key.order_id, tracking).await,
            Target::Fulfillment(id) => self.track_fulfillment(&key.order_id, id, tracking).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Channel;

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
                matches!(Target::of(&key(odd)), Err(PartnerError::Rejected { .. })),
                "{odd:?}"
            );
        }
    }

    fn report(status: ShipmentStatus) -> StatusReport {
        StatusReport {
            status,
            happened_at_ms: 1_795_000_000_250,
            tracking: Tracking {
                number: "SBX1".into(),
                url: None,
                company: "Sandbox Courier".into(),
            },
            tracking_reference: "gid://shopify/Fulfillment/1".into(),
            failure: None,
            proof: None,
            eta_ms: None,
        }
    }

    #[test]
    fn every_status_the_store_sees_has_an_event_status_and_no_other_does() {
        use ShipmentStatus::*;
        for status in [
            Pending,
            Created,
            Assigned,
            PickedUp,
            OutForDelivery,
            Delivered,
            Failed,
            Returned,
            NeedsClarification,
            Cancelled,
        ] {
            assert_eq!(
                fulfillment_event_status(status).is_some(),
                report(status).is_shown(),
                "{status}"
            );
        }
        assert_eq!(fulfillment_event_status(PickedUp), Some("IN_TRANSIT"));
        assert_eq!(fulfillment_event_status(Failed), Some("ATTEMPTED_DELIVERY"));
        assert_eq!(fulfillment_event_status(Returned), Some("FAILURE"));
    }

    #[test]
    fn the_event_input_carries_time_place_eta_and_what_the_customer_may_read() {
        use domain::courier::{Failure, LocationSource, PodLocation, ProofOfDelivery};
        let mut delivered = report(ShipmentStatus::Delivered);
        delivered.proof = Some(ProofOfDelivery {
            signature_upload_id: Some("sig-1".into()),
            photo_upload_ids: vec!["photo-1".into()],
            signature_text: Some(" Anna Nowak ".into()),
            recipient_name: Some("A. Nowak".into()),
            notes: Some("left with neighbour".into()),
            location: Some(PodLocation {
                lng: 13.405,
                lat: 52.52,
                source: LocationSource::DriverAtCompletion,
            }),
            completed_at_ms: Some(1_795_000_000_250),
        });
        delivered.eta_ms = Some(1_795_000_900_000);
        let at = shopify_time(delivered.happened_at_ms).unwrap();
        let input = event_input("gid://shopify/Fulfillment/1", "DELIVERED", at, &delivered);
        assert_eq!(
            input,
            json!({
                "fulfillmentId": "gid://shopify/Fulfillment/1",
                "status": "DELIVERED",
                "happenedAt": "2026-11-18T11:06:40Z",
                "message": "Delivered. Signed for by Anna Nowak.",
                "latitude": 52.52,
                "longitude": 13.405,
                "estimatedDeliveryAt": "2026-11-18T11:21:40Z",
            })
        );

        let mut failed = report(ShipmentStatus::Failed);
        failed.failure = Some(Failure {
            reason: Some("NO_ANSWER".into()),
            notes: Some("rang twice".into()),
        });
        assert_eq!(
            event_message(&failed).as_deref(),
            Some("Delivery attempt failed: no answer.")
        );
        let input = event_input("g", "ATTEMPTED_DELIVERY", at, &failed);
        assert!(input.get("latitude").is_none() && input.get("estimatedDeliveryAt").is_none());
        assert_eq!(event_message(&report(ShipmentStatus::OutForDelivery)), None);
        assert_eq!(event_message(&report(ShipmentStatus::Delivered)), None);
    }
}
