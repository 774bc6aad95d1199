//! Webhook subscriptions and the app's granted access scopes, for `courier-bridge connect`,
//! `disconnect` and `doctor`: the `currentAppInstallation { accessScopes }` query, the
//! `webhookSubscriptions(first:, after:)` connection, and the `webhookSubscriptionCreate`
//! and `webhookSubscriptionDelete` mutations
//! (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate>).
//!
//! As in [`super::graphql`], values the schema refuses (a topic that is not a
//! `WebhookSubscriptionTopic`, a `first` out of range) are request-level GraphQL errors, a
//! missing access scope is Shopify's `ACCESS_DENIED` error with the field `null`, and a
//! well-formed request the shop refuses (an address already taken, an unknown subscription)
//! is a `userErrors` entry. Only HTTP endpoints exist here (`WebhookHttpEndpoint`, format
//! `JSON` or `XML`); the `uri` input of later API versions and the list's filters
//! (`topics`, `callbackUrl`, `query`) are not read.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::graphql::errors;
use super::store::UserError;

/// What a freshly installed courier-bridge app is granted: reading orders and fulfillments
/// for the webhooks, writing fulfillments for the write-back.
pub(crate) const DEFAULT_SCOPES: [&str; 4] = [
    "read_orders",
    "read_fulfillments",
    "write_merchant_managed_fulfillment_orders",
    "write_fulfillments",
];

/// The `WebhookSubscriptionTopic` values served, with the access scope each needs (`None`:
/// any app may subscribe). A subset of Shopify's enum
/// (<https://shopify.dev/docs/api/admin-graphql/latest/enums/WebhookSubscriptionTopic>):
/// the order and fulfillment topics and the app's own uninstall.
const TOPICS: [(&str, Option<&str>); 12] = [
    ("APP_UNINSTALLED", None),
    ("FULFILLMENTS_CREATE", Some("read_fulfillments")),
    ("FULFILLMENTS_UPDATE", Some("read_fulfillments")),
    ("ORDERS_CANCELLED", Some("read_orders")),
    ("ORDERS_CREATE", Some("read_orders")),
    ("ORDERS_DELETE", Some("read_orders")),
    ("ORDERS_EDITED", Some("read_orders")),
    ("ORDERS_FULFILLED", Some("read_orders")),
    ("ORDERS_PAID", Some("read_orders")),
    ("ORDERS_PARTIALLY_FULFILLED", Some("read_orders")),
    ("ORDERS_UPDATED", Some("read_orders")),
    ("REFUNDS_CREATE", Some("read_orders")),
];

/// `WebhookSubscriptionFormat`.
const FORMATS: [&str; 2] = ["JSON", "XML"];

/// The largest page a connection serves (Shopify's limit on `first`).
const MAX_PAGE: u64 = 250;

const GID_PREFIX: &str = "gid://shopify/WebhookSubscription/";

/// A webhook subscription of the fake shop, as returned by
/// [`crate::Sandbox::shopify_webhook_subscriptions`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyWebhookView {
    /// `gid://shopify/WebhookSubscription/<n>`.
    pub id: String,
    /// A `WebhookSubscriptionTopic` value, e.g. `ORDERS_PAID`.
    pub topic: String,
    pub callback_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Subscription {
    /// The numeric part of the gid; also the order of creation.
    number: u64,
    topic: String,
    format: String,
    callback_url: String,
}

impl Subscription {
    fn gid(&self) -> String {
        format!("{GID_PREFIX}{}", self.number)
    }

    fn json(&self) -> Value {
        json!({
            "id": self.gid(),
            "topic": self.topic,
            "format": self.format,
            "endpoint": { "__typename": "WebhookHttpEndpoint", "callbackUrl": self.callback_url },
        })
    }
}

/// The shop's webhook subscriptions (oldest first) and the scopes the app holds.
#[derive(Debug)]
pub(crate) struct WebhookBook {
    scopes: Vec<String>,
    subscriptions: Vec<Subscription>,
    last_number: u64,
}

impl Default for WebhookBook {
    fn default() -> Self {
        WebhookBook {
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            subscriptions: Vec::new(),
            last_number: 0,
        }
    }
}

impl WebhookBook {
    /// Replaces the granted scopes, as a merchant approving a different set would.
    pub(crate) fn set_scopes(&mut self, scopes: &[&str]) {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Whether `scope` (a `read_*` one) is held. A `write_*` scope includes its `read_*`
    /// one, as Shopify grants it.
    fn holds(&self, scope: &str) -> bool {
        let write = scope.replacen("read_", "write_", 1);
        self.scopes
            .iter()
            .any(|held| *held == scope || *held == write)
    }

    pub(crate) fn views(&self) -> Vec<ShopifyWebhookView> {
        self.subscriptions
            .iter()
            .map(|s| ShopifyWebhookView {
                id: s.gid(),
                topic: s.topic.clone(),
                callback_url: s.callback_url.clone(),
            })
            .collect()
    }

    /// Subscribes `callback_url` to `topic`, or refuses an address that is not absolute
    /// http(s) or already subscribed to the topic. The topic and format are the handler's
    /// to check.
    fn create(
        &mut self,
        topic: &str,
        callback_url: &str,
        format: &str,
    ) -> Result<Subscription, Vec<UserError>> {
        let on_address = |message: &str| {
            vec![UserError {
                field: vec!["webhookSubscription", "callbackUrl"],
                message: message.to_owned(),
            }]
        };
        if !is_http_url(callback_url) {
            return Err(on_address("Address is invalid"));
        }
        if self
            .subscriptions
            .iter()
            .any(|s| s.topic == topic && s.callback_url == callback_url)
        {
            return Err(on_address("Address for this topic has already been taken"));
        }
        self.last_number += 1;
        let subscription = Subscription {
            number: self.last_number,
            topic: topic.to_owned(),
            format: format.to_owned(),
            callback_url: callback_url.to_owned(),
        };
        self.subscriptions.push(subscription.clone());
        Ok(subscription)
    }

    /// Deletes the subscription with this gid and returns the gid.
    fn delete(&mut self, gid: &str) -> Result<String, Vec<UserError>> {
        let Some(index) = self.subscriptions.iter().position(|s| s.gid() == gid) else {
            return Err(vec![UserError {
                field: vec!["id"],
                message: "Webhook subscription does not exist".to_owned(),
            }]);
        };
        Ok(self.subscriptions.remove(index).gid())
    }
}

/// An absolute `http://` or `https://` URL with a host.
fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// A cursor: opaque to clients, the last number of the page here (Shopify's are base64
/// JSON too). Numbers only grow, so a cursor stays valid when subscriptions are deleted.
fn cursor(number: u64) -> String {
    STANDARD.encode(json!({ "last_id": number }).to_string())
}

fn cursor_number(cursor: &str) -> Option<u64> {
    let decoded = STANDARD.decode(cursor).ok()?;
    serde_json::from_slice::<Value>(&decoded).ok()?["last_id"].as_u64()
}

/// `currentAppInstallation { accessScopes { handle } }`.
pub(super) fn current_app_installation(book: &WebhookBook) -> Value {
    let scopes: Vec<Value> = book
        .scopes
        .iter()
        .map(|handle| json!({ "handle": handle }))
        .collect();
    json!({ "data": { "currentAppInstallation": { "accessScopes": scopes } } })
}

/// `webhookSubscriptions(first: $first, after: $after)`: oldest first, in pages.
pub(super) fn webhook_subscriptions(book: &WebhookBook, variables: &Value) -> Value {
    let first = match &variables["first"] {
        Value::Null => return errors("you must provide one of first or last"),
        Value::Number(n) if n.is_i64() || n.is_u64() => match n.as_u64() {
            Some(first) if (1..=MAX_PAGE).contains(&first) => first,
            _ => {
                return errors(format!(
                    "Argument 'first' on Field 'webhookSubscriptions' must be between 1 and \
                     {MAX_PAGE}, not {n}"
                ))
            }
        },
        other => return invalid_variable("first", "Int", other),
    };
    let after = match &variables["after"] {
        Value::Null => None,
        Value::String(after) => match cursor_number(after) {
            Some(number) => Some(number),
            None => {
                return errors(format!(
                    "Invalid cursor for current pagination sort: {after}"
                ))
            }
        },
        other => return invalid_variable("after", "String", other),
    };
    let rest: Vec<&Subscription> = book
        .subscriptions
        .iter()
        .filter(|s| after.is_none_or(|after| s.number > after))
        .collect();
    // `first` is at most 250, so it fits any usize.
    let page = &rest[..rest.len().min(first as usize)];
    let edges: Vec<Value> = page
        .iter()
        .map(|s| json!({ "cursor": cursor(s.number), "node": s.json() }))
        .collect();
    let has_previous =
        after.is_some_and(|after| book.subscriptions.iter().any(|s| s.number <= after));
    json!({ "data": { "webhookSubscriptions": {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": rest.len() > page.len(),
            "hasPreviousPage": has_previous,
            "startCursor": page.first().map(|s| cursor(s.number)),
            "endCursor": page.last().map(|s| cursor(s.number)),
        },
    } } })
}

/// `WebhookSubscriptionInput`, the `$webhookSubscription` variable.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookSubscriptionInput {
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// `webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription)`.
///
/// Checked in Shopify's order: the variables (schema), then the access scope the topic needs
/// (execution), then the address (the model's validation).
pub(super) fn webhook_subscription_create(book: &mut WebhookBook, variables: &Value) -> Value {
    let topic = &variables["topic"];
    let Some((topic, scope)) = topic
        .as_str()
        .and_then(|name| TOPICS.iter().find(|(known, _)| *known == name))
    else {
        return invalid_variable("topic", "WebhookSubscriptionTopic!", topic);
    };
    let input = &variables["webhookSubscription"];
    let parsed = match WebhookSubscriptionInput::deserialize(input) {
        Ok(parsed) if input.is_object() => parsed,
        _ => return invalid_variable("webhookSubscription", "WebhookSubscriptionInput!", input),
    };
    let format = match parsed.format.as_deref() {
        None => "JSON",
        Some(format) => match FORMATS.iter().find(|known| **known == format) {
            Some(format) => format,
            None => {
                return invalid_variable("webhookSubscription", "WebhookSubscriptionInput!", input)
            }
        },
    };
    if let Some(scope) = scope {
        if !book.holds(scope) {
            return json!({
                "errors": [{
                    "message": format!(
                        "Access denied for webhookSubscriptionCreate field. Required access: \
                         `{scope}` access scope."
                    ),
                    "extensions": { "code": "ACCESS_DENIED" },
                }],
                "data": { "webhookSubscriptionCreate": null },
            });
        }
    }
    let callback_url = parsed.callback_url.unwrap_or_default();
    let payload = match book.create(topic, &callback_url, format) {
        Ok(subscription) => json!({ "webhookSubscription": subscription.json(), "userErrors": [] }),
        Err(user_errors) => json!({
            "webhookSubscription": null,
            "userErrors": user_errors_json(&user_errors),
        }),
    };
    json!({ "data": { "webhookSubscriptionCreate": payload } })
}

/// `webhookSubscriptionDelete(id: $id)`.
pub(super) fn webhook_subscription_delete(book: &mut WebhookBook, variables: &Value) -> Value {
    let Some(gid) = variables["id"].as_str() else {
        return errors("Variable $id of type ID! was provided invalid value");
    };
    let well_formed = gid
        .strip_prefix(GID_PREFIX)
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return errors(format!("Invalid global id '{gid}'"));
    }
    let payload = match book.delete(gid) {
        Ok(deleted) => json!({ "deletedWebhookSubscriptionId": deleted, "userErrors": [] }),
        Err(user_errors) => json!({
            "deletedWebhookSubscriptionId": null,
            "userErrors": user_errors_json(&user_errors),
        }),
    };
    json!({ "data": { "webhookSubscriptionDelete": payload } })
}

fn user_errors_json(user_errors: &[UserError]) -> Vec<Value> {
    user_errors
        .iter()
        .map(|error| json!({ "field": error.field, "message": error.message }))
        .collect()
}

/// GraphQL's answer to a variable the schema refuses.
fn invalid_variable(name: &str, type_name: &str, value: &Value) -> Value {
    json!({ "errors": [{
        "message": format!("Variable ${name} of type {type_name} was provided invalid value"),
        "extensions": { "code": "INVALID_VARIABLE", "value": value },
    }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(book: &mut WebhookBook, topic: &str, url: &str) -> Value {
        webhook_subscription_create(
            book,
            &json!({ "topic": topic, "webhookSubscription": { "callbackUrl": url, "format": "JSON" } }),
        )
    }

    #[test]
    fn write_scopes_include_their_read_scopes() {
        let mut book = WebhookBook::default();
        assert!(book.holds("read_orders") && book.holds("read_fulfillments"));
        book.set_scopes(&["write_orders"]);
        assert!(book.holds("read_orders"));
        assert!(!book.holds("read_fulfillments"));
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        assert_eq!(cursor_number(&cursor(42)), Some(42));
        assert_eq!(cursor_number("nope"), None);
        assert_eq!(cursor_number(&STANDARD.encode("{}")), None);
    }

    #[test]
    fn subscriptions_are_created_once_per_topic_and_address() {
        let mut book = WebhookBook::default();
        let created = create(&mut book, "ORDERS_PAID", "https://example.com/hooks");
        assert_eq!(
            created["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"],
            "gid://shopify/WebhookSubscription/1"
        );
        let again = create(&mut book, "ORDERS_PAID", "https://example.com/hooks");
        assert_eq!(
            again["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"],
            "Address for this topic has already been taken"
        );
        let other_topic = create(&mut book, "ORDERS_CREATE", "https://example.com/hooks");
        assert_eq!(
            other_topic["data"]["webhookSubscriptionCreate"]["userErrors"],
            json!([])
        );
        assert_eq!(book.views().len(), 2);
    }

    #[test]
    fn deleting_frees_the_address_and_numbers_are_not_reused() {
        let mut book = WebhookBook::default();
        create(&mut book, "ORDERS_PAID", "https://example.com/hooks");
        let deleted = webhook_subscription_delete(
            &mut book,
            &json!({ "id": "gid://shopify/WebhookSubscription/1" }),
        );
        assert_eq!(
            deleted["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"],
            "gid://shopify/WebhookSubscription/1"
        );
        let again = create(&mut book, "ORDERS_PAID", "https://example.com/hooks");
        assert_eq!(
            again["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"],
            "gid://shopify/WebhookSubscription/2"
        );
    }
}
