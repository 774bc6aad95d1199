//! Just enough of the Admin GraphQL API for the tracking and status write-back, and the
//! dispatch to the webhook-registration operations of [`super::webhooks`].
//!
//! There is no GraphQL engine: the operation is recognised by the query text and answered
//! with a fixed selection, the one the write-back asks for, reading the variable names the
//! write-back uses (`$orderId`, `$fulfillment`, `$id`, `$fulfillmentId`,
//! `$trackingInfoInput`, `$notifyCustomer`, `$fulfillmentEvent`).
//!
//! Inputs are checked the way Shopify checks them: a value the schema refuses (an unknown
//! `FulfillmentEventStatus`, a malformed `DateTime` or global id) is a request-level GraphQL
//! error and nothing runs; a well-formed request the store refuses (an unknown fulfillment)
//! is a `userErrors` entry of the mutation's payload.

use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::store::{
    fulfillment_gid, shopify_datetime, Fulfillment, FulfillmentEvent, NewFulfillment,
    NewFulfillmentEvent, OrderSnapshot, ShopStore, TrackingInfo, UserError,
};
use super::webhooks;

/// `FulfillmentEventStatus` as of 2025-07
/// (<https://shopify.dev/docs/api/admin-graphql/2025-07/enums/FulfillmentEventStatus>).
const EVENT_STATUSES: [&str; 10] = [
    "ATTEMPTED_DELIVERY",
    "CONFIRMED",
    "DELAYED",
    "DELIVERED",
    "FAILURE",
    "IN_TRANSIT",
    "LABEL_PRINTED",
    "LABEL_PURCHASED",
    "OUT_FOR_DELIVERY",
    "READY_FOR_PICKUP",
];

/// Added to `FulfillmentEventStatus` in 2025-10
/// (<https://shopify.dev/docs/api/admin-graphql/2025-10/enums/fulfillmenteventstatus>).
const CARRIER_PICKED_UP: &str = "CARRIER_PICKED_UP";

/// The `FulfillmentEventStatus` values of an API version (`2025-07`, `unstable`). Versions
/// before 2025-07 are served the 2025-07 values.
fn event_statuses(version: &str) -> Vec<&'static str> {
    let mut statuses = EVENT_STATUSES.to_vec();
    // `YYYY-MM` compares as text; `unstable` sorts after every dated version.
    if version >= "2025-10" {
        statuses.push(CARRIER_PICKED_UP);
        statuses.sort_unstable();
    }
    statuses
}

#[derive(Debug, Deserialize)]
pub(crate) struct GraphqlRequest {
    query: String,
    #[serde(default)]
    variables: Value,
}

/// `{"errors": [{"message": ...}]}`, GraphQL's request-level error shape.
pub(crate) fn errors(message: impl Into<String>) -> Value {
    json!({ "errors": [{ "message": message.into() }] })
}

/// Shopify's answer when the request exceeds the API's cost budget (HTTP 200).
pub(crate) fn throttled() -> Value {
    json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] })
}

/// Runs one operation against the store for API `version` and returns the response body.
///
/// The webhook operations ([`super::webhooks`]) are matched first, mutations before the
/// list (their selections name `webhookSubscription` too). Then mutations before queries:
/// their selections mention `fulfillment` too. The `fulfillment(id:)` query is matched
/// last, by its root field with its argument list; it answers `events` when the query
/// selects them.
pub(crate) fn execute(shop: &mut ShopStore, request: &GraphqlRequest, version: &str) -> Value {
    let query = request.query.as_str();
    let variables = &request.variables;
    if query.contains("webhookSubscriptionCreate") {
        webhooks::webhook_subscription_create(&mut shop.webhooks, variables)
    } else if query.contains("webhookSubscriptionDelete") {
        webhooks::webhook_subscription_delete(&mut shop.webhooks, variables)
    } else if query.contains("webhookSubscriptions") {
        webhooks::webhook_subscriptions(&shop.webhooks, variables)
    } else if query.contains("currentAppInstallation") {
        webhooks::current_app_installation(&shop.webhooks)
    } else if query.contains("fulfillmentEventCreate") {
        let now = OffsetDateTime::now_utc();
        fulfillment_event_create(shop, &request.variables, version, now)
    } else if query.contains("fulfillmentTrackingInfoUpdate") {
        tracking_info_update(shop, &request.variables)
    } else if query.contains("fulfillmentCreate") {
        fulfillment_create(shop, &request.variables)
    } else if query.contains("fulfillmentOrders") {
        order(shop, &request.variables)
    } else if query.contains("fulfillment(") {
        fulfillment(shop, &request.variables, query.contains("events("))
    } else {
        errors("unsupported by the sandbox")
    }
}

/// `FulfillmentInput`, the `$fulfillment` variable of `fulfillmentCreate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentInput {
    line_items_by_fulfillment_order: Vec<FulfillmentOrderLineItems>,
    #[serde(default)]
    tracking_info: Option<TrackingInfo>,
    #[serde(default)]
    notify_customer: Option<bool>,
}

/// Only whole fulfillment orders are fulfilled: `fulfillmentOrderLineItems` is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrderLineItems {
    fulfillment_order_id: String,
}

fn fulfillment_create(shop: &mut ShopStore, variables: &Value) -> Value {
    let input = match FulfillmentInput::deserialize(&variables["fulfillment"]) {
        Ok(input) => input,
        Err(error) => {
            return errors(format!(
            "Variable $fulfillment of type FulfillmentInput! was provided invalid value: {error}"
        ))
        }
    };
    let new = NewFulfillment {
        fulfillment_order_ids: input
            .line_items_by_fulfillment_order
            .into_iter()
            .map(|items| items.fulfillment_order_id)
            .collect(),
        tracking: input.tracking_info,
        notify_customer: input.notify_customer.unwrap_or(false),
    };
    json!({ "data": { "fulfillmentCreate": payload(shop.create_fulfillment(new)) } })
}

/// `fulfillmentTrackingInfoUpdate(fulfillmentId:, trackingInfoInput:, notifyCustomer:)`.
fn tracking_info_update(shop: &mut ShopStore, variables: &Value) -> Value {
    let Some(gid) = variables["fulfillmentId"].as_str() else {
        return errors("Variable $fulfillmentId of type ID! was provided invalid value");
    };
    if fulfillment_number(gid).is_none() {
        return invalid_id(gid);
    }
    let tracking = match TrackingInfo::deserialize(&variables["trackingInfoInput"]) {
        Ok(tracking) => tracking,
        Err(error) => {
            return errors(format!(
                "Variable $trackingInfoInput of type FulfillmentTrackingInput! was provided \
                 invalid value: {error}"
            ))
        }
    };
    // Left out, Shopify sends no notification.
    let notify = variables["notifyCustomer"].as_bool().unwrap_or(false);
    let result = shop.update_tracking(gid, tracking, notify);
    json!({ "data": { "fulfillmentTrackingInfoUpdate": payload(result) } })
}

/// `fulfillment(id:)`: `null` for a well-formed id the store does not have, as Shopify
/// answers. With `events`, every event of the fulfillment, newest first: the order the
/// write-back asks for (`sortKey: ID, reverse: true`); `first` is not read.
fn fulfillment(shop: &mut ShopStore, variables: &Value, with_events: bool) -> Value {
    let Some(gid) = variables["id"].as_str() else {
        return errors("Variable $id of type ID! was provided invalid value");
    };
    let Some(number) = fulfillment_number(gid) else {
        return invalid_id(gid);
    };
    let gid = fulfillment_gid(number);
    let events = shop.events_of(&gid);
    let found = shop.fulfillment(&gid).map(|f| {
        let mut json = fulfillment_json(f);
        json["order"] = json!({ "id": format!("gid://shopify/Order/{}", f.order_id) });
        if with_events {
            let nodes: Vec<Value> = events.iter().rev().map(event_json).collect();
            json["events"] = json!({ "nodes": nodes });
        }
        json
    });
    json!({ "data": { "fulfillment": found } })
}

/// `fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!)`.
fn fulfillment_event_create(
    shop: &mut ShopStore,
    variables: &Value,
    version: &str,
    now: OffsetDateTime,
) -> Value {
    let new = match event_input(&variables["fulfillmentEvent"], version, now) {
        Ok(new) => new,
        Err(error) => return error,
    };
    let payload = match shop.create_event(new, now) {
        Ok(event) => json!({ "fulfillmentEvent": event_json(&event), "userErrors": [] }),
        Err(user_errors) => json!({
            "fulfillmentEvent": null,
            "userErrors": user_errors_json(&user_errors),
        }),
    };
    json!({ "data": { "fulfillmentEventCreate": payload } })
}

/// Reads `FulfillmentEventInput` as Shopify coerces it: `fulfillmentId` (a Fulfillment gid)
/// and `status` (the version's enum) required; `happenedAt` (now when left out) and
/// `estimatedDeliveryAt` `DateTime`s; `latitude`/`longitude` `Float`s; `message` a string.
/// Address fields are accepted and not kept.
fn event_input(
    input: &Value,
    version: &str,
    now: OffsetDateTime,
) -> Result<NewFulfillmentEvent, Value> {
    if !input.is_object() {
        return Err(errors(
            "Variable $fulfillmentEvent of type FulfillmentEventInput! was provided invalid \
             value (Expected value to not be null)",
        ));
    }
    let invalid = |field: &str, explanation: String| invalid_event_input(input, field, explanation);
    let Some(gid) = input["fulfillmentId"].as_str() else {
        return Err(invalid(
            "fulfillmentId",
            not_null_or(&input["fulfillmentId"], "ID"),
        ));
    };
    if fulfillment_number(gid).is_none() {
        return Err(invalid_id(gid));
    }
    let statuses = event_statuses(version);
    let status = match &input["status"] {
        Value::String(status) if statuses.contains(&status.as_str()) => status.clone(),
        Value::Null => return Err(invalid("status", "Expected value to not be null".into())),
        other => {
            return Err(invalid(
                "status",
                format!("Expected {other} to be one of: {}", statuses.join(", ")),
            ))
        }
    };
    let happened_at = datetime(input, "happenedAt").map_err(|e| invalid("happenedAt", e))?;
    let estimated_delivery_at =
        datetime(input, "estimatedDeliveryAt").map_err(|e| invalid("estimatedDeliveryAt", e))?;
    let latitude = float(input, "latitude").map_err(|e| invalid("latitude", e))?;
    let longitude = float(input, "longitude").map_err(|e| invalid("longitude", e))?;
    let message = match &input["message"] {
        Value::Null => None,
        Value::String(message) => Some(message.clone()),
        other => return Err(invalid("message", coerce(other, "String"))),
    };
    Ok(NewFulfillmentEvent {
        fulfillment_id: gid.to_owned(),
        status,
        happened_at: happened_at.unwrap_or(now),
        message,
        latitude,
        longitude,
        estimated_delivery_at,
    })
}

/// An optional `DateTime` (ISO 8601; RFC 3339 here).
fn datetime(input: &Value, field: &str) -> Result<Option<OffsetDateTime>, String> {
    match &input[field] {
        Value::Null => Ok(None),
        Value::String(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(Some)
            .map_err(|_| coerce(&input[field], "DateTime")),
        other => Err(coerce(other, "DateTime")),
    }
}

/// An optional `Float` (a JSON integer is a Float too).
fn float(input: &Value, field: &str) -> Result<Option<f64>, String> {
    match &input[field] {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| coerce(&input[field], "Float")),
        other => Err(coerce(other, "Float")),
    }
}

fn coerce(value: &Value, type_name: &str) -> String {
    format!("Could not coerce value {value} to {type_name}")
}

fn not_null_or(value: &Value, type_name: &str) -> String {
    if value.is_null() {
        "Expected value to not be null".to_owned()
    } else {
        coerce(value, type_name)
    }
}

/// GraphQL's (graphql-ruby's) answer to a variable the schema refuses.
fn invalid_event_input(input: &Value, field: &str, explanation: String) -> Value {
    json!({ "errors": [{
        "message": format!(
            "Variable $fulfillmentEvent of type FulfillmentEventInput! was provided invalid \
             value for {field} ({explanation})"
        ),
        "extensions": {
            "value": input,
            "problems": [{ "path": [field], "explanation": explanation }],
        },
    }] })
}

fn event_json(event: &FulfillmentEvent) -> Value {
    json!({
        "id": event.id,
        "status": event.status,
        "happenedAt": shopify_datetime(event.happened_at),
        "createdAt": shopify_datetime(event.created_at),
        "message": event.message,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "estimatedDeliveryAt": event.estimated_delivery_at.map(shopify_datetime),
    })
}

fn user_errors_json(user_errors: &[UserError]) -> Vec<Value> {
    user_errors
        .iter()
        .map(|error| json!({ "field": error.field, "message": error.message }))
        .collect()
}

/// A mutation payload: the fulfillment, or the user errors that refused it.
fn payload(result: Result<Fulfillment, Vec<UserError>>) -> Value {
    match result {
        Ok(fulfillment) => {
            json!({ "fulfillment": fulfillment_json(&fulfillment), "userErrors": [] })
        }
        Err(user_errors) => json!({
            "fulfillment": null,
            "userErrors": user_errors_json(&user_errors),
        }),
    }
}

fn invalid_id(gid: &str) -> Value {
    errors(format!("Invalid global id '{gid}'"))
}

fn order(shop: &mut ShopStore, variables: &Value) -> Value {
    let Some(gid) = variables["orderId"].as_str() else {
        return errors("Variable $orderId of type ID! was provided invalid value");
    };
    let order = order_number(gid).map(|id| order_json(&shop.order(id)));
    json!({ "data": { "order": order } })
}

/// The numeric part of `gid://shopify/Order/<digits>`, kept as text: ids exceed 2^53.
fn order_number(gid: &str) -> Option<&str> {
    numeric_part(gid, "gid://shopify/Order/")
}

/// The numeric part of `gid://shopify/Fulfillment/<digits>`.
fn fulfillment_number(gid: &str) -> Option<&str> {
    numeric_part(gid, "gid://shopify/Fulfillment/")
}

fn numeric_part<'a>(gid: &'a str, prefix: &str) -> Option<&'a str> {
    gid.strip_prefix(prefix)
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn order_json(order: &OrderSnapshot) -> Value {
    json!({
        "id": format!("gid://shopify/Order/{}", order.id),
        "fulfillmentOrders": {
            "nodes": order
                .fulfillment_orders
                .iter()
                .map(|(id, status)| json!({ "id": id, "status": status.as_graphql() }))
                .collect::<Vec<_>>(),
        },
        "fulfillments": order.fulfillments.iter().map(fulfillment_json).collect::<Vec<_>>(),
    })
}

fn fulfillment_json(fulfillment: &Fulfillment) -> Value {
    json!({
        "id": fulfillment.id,
        "status": "SUCCESS",
        "trackingInfo": fulfillment.tracking.iter().collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_must_be_digits() {
        assert_eq!(
            order_number("gid://shopify/Order/820982911946154508"),
            Some("820982911946154508")
        );
        assert_eq!(order_number("gid://shopify/Order/"), None);
        assert_eq!(order_number("gid://shopify/Order/12a"), None);
        assert_eq!(order_number("gid://shopify/Product/12"), None);
        assert_eq!(order_number("820982911946154508"), None);
    }

    #[test]
    fn operations_are_recognised_by_query_text() {
        let mut shop = ShopStore::default();
        let run = |shop: &mut ShopStore, query: &str, variables: Value| {
            execute(
                shop,
                &GraphqlRequest {
                    query: query.to_owned(),
                    variables,
                },
                "2025-07",
            )
        };
        let unsupported = run(&mut shop, "{ shop { name } }", Value::Null);
        assert_eq!(
            unsupported["errors"][0]["message"],
            "unsupported by the sandbox"
        );
        let missing = run(
            &mut shop,
            "query { order { fulfillmentOrders } }",
            json!({}),
        );
        assert!(missing["errors"].is_array());
        let bad = run(
            &mut shop,
            "mutation { fulfillmentCreate }",
            json!({ "fulfillment": { "trackingInfo": {} } }),
        );
        assert!(bad["errors"].is_array());

        shop.seed_fulfillment("7", "501").ok();
        let lookup = "query ($id: ID!) { fulfillment(id: $id) { id order { id } } }";
        let found = run(
            &mut shop,
            lookup,
            json!({ "id": "gid://shopify/Fulfillment/501" }),
        );
        assert_eq!(
            found["data"]["fulfillment"]["order"]["id"],
            "gid://shopify/Order/7"
        );
        let update = "mutation { fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId) { fulfillment { id } } }";
        let updated = run(
            &mut shop,
            update,
            json!({
                "fulfillmentId": "gid://shopify/Fulfillment/501",
                "trackingInfoInput": { "number": "SBX1" }
            }),
        );
        assert_eq!(
            updated["data"]["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"][0]
                ["number"],
            "SBX1"
        );
    }

    #[test]
    fn fulfillment_ids_must_be_fulfillment_gids() {
        assert_eq!(
            fulfillment_number("gid://shopify/Fulfillment/501"),
            Some("501")
        );
        assert_eq!(fulfillment_number("gid://shopify/Order/501"), None);
        assert_eq!(fulfillment_number("501"), None);
        let mut shop = ShopStore::default();
        let answer = fulfillment(&mut shop, &json!({ "id": "501" }), false);
        assert_eq!(answer["errors"][0]["message"], "Invalid global id '501'");
        let unknown = fulfillment(
            &mut shop,
            &json!({ "id": "gid://shopify/Fulfillment/9" }),
            true,
        );
        assert_eq!(unknown, json!({ "data": { "fulfillment": null } }));
    }

    const EVENT_CREATE: &str = "mutation ($fulfillmentEvent: FulfillmentEventInput!) { \
        fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) { fulfillmentEvent { id } } }";

    fn create_event(shop: &mut ShopStore, version: &str, input: Value) -> Value {
        let at = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        fulfillment_event_create(shop, &json!({ "fulfillmentEvent": input }), version, at)
    }

    #[test]
    fn an_event_is_created_on_a_known_fulfillment_and_listed_newest_first() {
        let mut shop = ShopStore::default();
        let gid = shop.seed_fulfillment("7", "501").unwrap();
        let created = create_event(
            &mut shop,
            "2025-07",
            json!({
                "fulfillmentId": gid, "status": "OUT_FOR_DELIVERY",
                "happenedAt": "2026-11-20T14:05:00.250+01:00",
                "estimatedDeliveryAt": "2026-11-20T15:00:00Z",
                "latitude": 52, "longitude": 13.405, "message": "On its way"
            }),
        );
        let event = &created["data"]["fulfillmentEventCreate"]["fulfillmentEvent"];
        assert_eq!(event["id"], "gid://shopify/FulfillmentEvent/1");
        assert_eq!(event["happenedAt"], "2026-11-20T13:05:00Z");
        assert_eq!(event["estimatedDeliveryAt"], "2026-11-20T15:00:00Z");
        assert_eq!(event["latitude"], 52.0);
        assert_eq!(
            created["data"]["fulfillmentEventCreate"]["userErrors"],
            json!([])
        );
        // Left out, happenedAt is now.
        let second = create_event(
            &mut shop,
            "2025-07",
            json!({ "fulfillmentId": gid, "status": "DELIVERED" }),
        );
        assert_eq!(
            second["data"]["fulfillmentEventCreate"]["fulfillmentEvent"]["happenedAt"],
            "2026-11-18T11:06:40Z"
        );

        let query =
            "query ($id: ID!) { fulfillment(id: $id) { id events(first: 50) { nodes { id } } } }";
        let request = GraphqlRequest {
            query: query.to_owned(),
            variables: json!({ "id": gid }),
        };
        let listed = execute(&mut shop, &request, "2025-07");
        let statuses: Vec<&Value> = listed["data"]["fulfillment"]["events"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| &node["status"])
            .collect();
        assert_eq!(statuses, [&json!("DELIVERED"), &json!("OUT_FOR_DELIVERY")]);
        // Without `events` in the selection, none are answered.
        let plain = fulfillment(&mut shop, &json!({ "id": gid }), false);
        assert!(plain["data"]["fulfillment"].get("events").is_none());
        let run = execute(
            &mut shop,
            &GraphqlRequest {
                query: EVENT_CREATE.to_owned(),
                variables: json!({ "fulfillmentEvent": { "fulfillmentId": gid, "status": "DELAYED" } }),
            },
            "2025-07",
        );
        assert_eq!(
            run["data"]["fulfillmentEventCreate"]["userErrors"],
            json!([])
        );
        assert_eq!(shop.event_views().len(), 3);
    }

    #[test]
    fn an_unknown_fulfillment_is_a_user_error() {
        let mut shop = ShopStore::default();
        let answer = create_event(
            &mut shop,
            "2025-07",
            json!({ "fulfillmentId": "gid://shopify/Fulfillment/9", "status": "DELIVERED" }),
        );
        let payload = &answer["data"]["fulfillmentEventCreate"];
        assert_eq!(payload["fulfillmentEvent"], Value::Null);
        assert_eq!(
            payload["userErrors"],
            json!([{ "field": ["fulfillmentEvent", "fulfillmentId"], "message": "Fulfillment does not exist." }])
        );
        assert!(shop.event_views().is_empty());
    }

    #[test]
    fn values_the_schema_refuses_are_graphql_errors_and_create_nothing() {
        let mut shop = ShopStore::default();
        let gid = shop.seed_fulfillment("7", "501").unwrap();
        for (input, field) in [
            (
                json!({ "fulfillmentId": gid, "status": "PICKED_UP" }),
                "status",
            ),
            (
                json!({ "fulfillmentId": gid, "status": "delivered" }),
                "status",
            ),
            (json!({ "fulfillmentId": gid }), "status"),
            (json!({ "status": "DELIVERED" }), "fulfillmentId"),
            (
                json!({ "fulfillmentId": gid, "status": "DELIVERED", "happenedAt": "yesterday" }),
                "happenedAt",
            ),
            (
                json!({ "fulfillmentId": gid, "status": "DELIVERED", "estimatedDeliveryAt": 5 }),
                "estimatedDeliveryAt",
            ),
            (
                json!({ "fulfillmentId": gid, "status": "DELIVERED", "latitude": "52.5" }),
                "latitude",
            ),
            (
                json!({ "fulfillmentId": gid, "status": "DELIVERED", "message": 7 }),
                "message",
            ),
        ] {
            let answer = create_event(&mut shop, "2025-07", input.clone());
            assert!(answer.get("data").is_none(), "{input}");
            assert_eq!(
                answer["errors"][0]["extensions"]["problems"][0]["path"],
                json!([field]),
                "{input}"
            );
        }
        let not_a_gid = create_event(
            &mut shop,
            "2025-07",
            json!({ "fulfillmentId": "501", "status": "DELIVERED" }),
        );
        assert_eq!(not_a_gid["errors"][0]["message"], "Invalid global id '501'");
        assert!(create_event(&mut shop, "2025-07", Value::Null)["errors"].is_array());
        assert!(shop.event_views().is_empty());
    }

    #[test]
    fn carrier_picked_up_exists_from_2025_10() {
        let mut shop = ShopStore::default();
        let gid = shop.seed_fulfillment("7", "501").unwrap();
        let input = json!({ "fulfillmentId": gid, "status": "CARRIER_PICKED_UP" });
        let old = create_event(&mut shop, "2025-07", input.clone());
        let message = old["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(
                "Expected \"CARRIER_PICKED_UP\" to be one of: ATTEMPTED_DELIVERY, CONFIRMED,"
            ),
            "{message}"
        );
        for version in ["2025-10", "2026-01", "unstable"] {
            let new = create_event(&mut shop, version, input.clone());
            assert_eq!(
                new["data"]["fulfillmentEventCreate"]["userErrors"],
                json!([]),
                "{version}"
            );
        }
        assert_eq!(event_statuses("2025-10").len(), EVENT_STATUSES.len() + 1);
    }
}
