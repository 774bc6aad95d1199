//! Just enough of the Admin GraphQL API for the status write-back.
//!
//! There is no GraphQL engine: the operation is recognised by the query text and answered
//! with a fixed selection, the one the write-back asks for.

use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{Fulfillment, NewFulfillment, OrderSnapshot, ShopStore, TrackingInfo};

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

/// Runs one operation against the store and returns the response body.
pub(crate) fn execute(shop: &mut ShopStore, request: &GraphqlRequest) -> Value {
    if request.query.contains("fulfillmentCreate") {
        fulfillment_create(shop, &request.variables)
    } else if request.query.contains("fulfillmentOrders") {
        order(shop, &request.variables)
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
    let payload = match shop.create_fulfillment(new) {
        Ok(fulfillment) => {
            json!({ "fulfillment": fulfillment_json(&fulfillment), "userErrors": [] })
        }
        Err(user_errors) => json!({
            "fulfillment": null,
            "userErrors": user_errors
                .iter()
                .map(|error| json!({ "field": error.field, "message": error.message }))
                .collect::<Vec<_>>(),
        }),
    };
    json!({ "data": { "fulfillmentCreate": payload } })
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
    gid.strip_prefix("gid://shopify/Order/")
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
    }
}
