//! Just enough of the Admin GraphQL API for the status write-back.
//!
//! There is no GraphQL engine: the operation is recognised by the query text and answered
//! with a fixed selection, the one the write-back asks for, reading the variable names the
//! write-back uses (`$orderId`, `$fulfillment`, `$id`, `$fulfillmentId`,
//! `$trackingInfoInput`, `$notifyCustomer`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{
    fulfillment_gid, Fulfillment, NewFulfillment, OrderSnapshot, ShopStore, TrackingInfo, UserError,
};

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
///
/// Mutations are matched first: their selections mention `fulfillment` too. The
/// `fulfillment(id:)` query is matched last, by its root field with its argument list.
pub(crate) fn execute(shop: &mut ShopStore, request: &GraphqlRequest) -> Value {
    let query = request.query.as_str();
    if query.contains("fulfillmentTrackingInfoUpdate") {
        tracking_info_update(shop, &request.variables)
    } else if query.contains("fulfillmentCreate") {
        fulfillment_create(shop, &request.variables)
    } else if query.contains("fulfillmentOrders") {
        order(shop, &request.variables)
    } else if query.contains("fulfillment(") {
        fulfillment(shop, &request.variables)
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
/// answers.
fn fulfillment(shop: &mut ShopStore, variables: &Value) -> Value {
    let Some(gid) = variables["id"].as_str() else {
        return errors("Variable $id of type ID! was provided invalid value");
    };
    let Some(number) = fulfillment_number(gid) else {
        return invalid_id(gid);
    };
    let found = shop.fulfillment(&fulfillment_gid(number)).map(|f| {
        let mut json = fulfillment_json(f);
        json["order"] = json!({ "id": format!("gid://shopify/Order/{}", f.order_id) });
        json
    });
    json!({ "data": { "fulfillment": found } })
}

/// A mutation payload: the fulfillment, or the user errors that refused it.
fn payload(result: Result<Fulfillment, Vec<UserError>>) -> Value {
    match result {
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
        let answer = fulfillment(&mut shop, &json!({ "id": "501" }));
        assert_eq!(answer["errors"][0]["message"], "Invalid global id '501'");
        let unknown = fulfillment(&mut shop, &json!({ "id": "gid://shopify/Fulfillment/9" }));
        assert_eq!(unknown, json!({ "data": { "fulfillment": null } }));
    }
}
