//! The Notifications API v1
//! (<https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-reference>): where
//! notifications go (*destinations*, Amazon SQS queues here) and which a seller gets
//! (*subscriptions*, one per notification type).
//!
//! Destinations belong to the application, so their operations are grantless: `GET` and
//! `POST /notifications/v1/destinations`, `GET` and `DELETE .../destinations/{destinationId}`,
//! and `GET` and `DELETE /notifications/v1/subscriptions/{notificationType}/{subscriptionId}`
//! need a grantless token. A subscription is the seller's: `POST` and `GET
//! /notifications/v1/subscriptions/{notificationType}` need a seller token. The wrong kind
//! of token is `403 Unauthorized`, as is `createSubscription` while
//! [`crate::Sandbox::set_amazon_notifications_denied`] says the application lacks the role.
//!
//! Decided here, where the reference is silent: a second destination for a queue another
//! destination already names is `409 Conflict`, as is deleting a destination a subscription
//! still uses; only SQS destinations are served (an `eventBridge` specification is
//! `InvalidInput`); any non-empty `payloadVersion` is accepted (types differ: `1.0`,
//! `2020-09-04`); a `processingDirective` is kept and echoed, not applied. Nothing is ever
//! sent to a queue.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::store::TokenKind;
use super::{authorize, errors, invalid_input, AccessRefused};
use crate::state::AppState;

/// The notification types of the reference (`notificationType` in paths); others are
/// `InvalidInput`.
const NOTIFICATION_TYPES: [&str; 25] = [
    "ACCOUNT_STATUS_CHANGED",
    "ANY_OFFER_CHANGED",
    "B2B_ANY_OFFER_CHANGED",
    "BRANDED_ITEM_CONTENT_CHANGE",
    "DATA_KIOSK_QUERY_PROCESSING_FINISHED",
    "DETAIL_PAGE_TRAFFIC_EVENT",
    "EXTERNAL_FULFILLMENT_SHIPMENT_STATUS_CHANGE",
    "FBA_INVENTORY_AVAILABILITY_CHANGES",
    "FBA_OUTBOUND_SHIPMENT_STATUS",
    "FEE_PROMOTION",
    "FEED_PROCESSING_FINISHED",
    "FULFILLMENT_ORDER_STATUS",
    "ITEM_INVENTORY_EVENT_CHANGE",
    "ITEM_PRODUCT_TYPE_CHANGE",
    "ITEM_SALES_EVENT_CHANGE",
    "LISTINGS_ITEM_ISSUES_CHANGE",
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
    "LISTINGS_ITEM_STATUS_CHANGE",
    "MFN_ORDER_STATUS_CHANGE",
    "ORDER_CHANGE",
    "ORDER_STATUS_CHANGE",
    "PRICING_HEALTH",
    "PRODUCT_TYPE_DEFINITIONS_CHANGE",
    "REPORT_PROCESSING_FINISHED",
    "TRANSACTION_UPDATE",
];

const NOT_FOUND: &str = "The resource specified does not exist.";

/// A notification destination, as returned by [`crate::Sandbox::amazon_destinations`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonDestinationView {
    pub destination_id: String,
    pub name: String,
    /// The SQS queue's ARN, `arn:aws:sqs:<region>:<account>:<queue>`.
    pub arn: String,
}

/// A seller's notification subscription, as returned by
/// [`crate::Sandbox::amazon_subscriptions`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonSubscriptionView {
    pub subscription_id: String,
    /// E.g. `ORDER_CHANGE`.
    pub notification_type: String,
    pub payload_version: String,
    pub destination_id: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Subscription {
    view: AmazonSubscriptionView,
    processing_directive: Option<Value>,
}

/// Destinations and the (one) seller's subscriptions, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Notifications {
    destinations: Vec<AmazonDestinationView>,
    subscriptions: Vec<Subscription>,
    /// The application lacks the role `createSubscription` needs.
    pub(crate) denied: bool,
}

/// Why a request about destinations or subscriptions fails.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Access(AccessRefused),
    Invalid(String),
    NotFound(&'static str),
    Conflict(&'static str),
}

impl From<AccessRefused> for Refusal {
    fn from(refused: AccessRefused) -> Self {
        Refusal::Access(refused)
    }
}

impl Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Access(refused) => refused.into_response(),
            Refusal::Invalid(message) => invalid_input(&message),
            Refusal::NotFound(message) => errors(StatusCode::NOT_FOUND, "NotFound", message, ""),
            Refusal::Conflict(message) => errors(StatusCode::CONFLICT, "Conflict", message, ""),
        }
    }
}

/// `createDestination`'s body (`CreateDestinationRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDestination {
    name: String,
    resource_specification: ResourceSpecification,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpecification {
    #[serde(default)]
    sqs: Option<SqsResource>,
    #[serde(default)]
    event_bridge: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct SqsResource {
    arn: String,
}

/// `createSubscription`'s body (`CreateSubscriptionRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateSubscription {
    payload_version: String,
    destination_id: String,
    #[serde(default)]
    processing_directive: Option<Value>,
}

impl Notifications {
    pub(crate) fn destination_views(&self) -> Vec<AmazonDestinationView> {
        self.destinations.clone()
    }

    pub(crate) fn subscription_views(&self) -> Vec<AmazonSubscriptionView> {
        self.subscriptions.iter().map(|s| s.view.clone()).collect()
    }

    fn create_destination(
        &mut self,
        request: CreateDestination,
    ) -> Result<AmazonDestinationView, Refusal> {
        if request.name.trim().is_empty() {
            return Err(Refusal::Invalid("name must not be empty".into()));
        }
        let arn = match (
            request.resource_specification.sqs,
            request.resource_specification.event_bridge,
        ) {
            (Some(sqs), None) => sqs.arn,
            (None, Some(_)) => {
                return Err(Refusal::Invalid(
                    "The sandbox serves SQS destinations only, not eventBridge".into(),
                ))
            }
            _ => {
                return Err(Refusal::Invalid(
                    "resourceSpecification needs exactly one of sqs and eventBridge".into(),
                ))
            }
        };
        if !is_sqs_arn(&arn) {
            return Err(Refusal::Invalid(format!(
                "{arn:?} is not a valid SQS queue ARN"
            )));
        }
        if self.destinations.iter().any(|d| d.arn == arn) {
            return Err(Refusal::Conflict(
                "A destination with the same resource already exists.",
            ));
        }
        let destination = AmazonDestinationView {
            destination_id: Uuid::new_v4().to_string(),
            name: request.name,
            arn,
        };
        self.destinations.push(destination.clone());
        Ok(destination)
    }

    fn destination(&self, id: &str) -> Result<&AmazonDestinationView, Refusal> {
        self.destinations
            .iter()
            .find(|d| d.destination_id == id)
            .ok_or(Refusal::NotFound(NOT_FOUND))
    }

    fn delete_destination(&mut self, id: &str) -> Result<(), Refusal> {
        self.destination(id)?;
        if self
            .subscriptions
            .iter()
            .any(|s| s.view.destination_id == id)
        {
            return Err(Refusal::Conflict(
                "The destination is used by a subscription; delete the subscription first.",
            ));
        }
        self.destinations.retain(|d| d.destination_id != id);
        Ok(())
    }

    fn create_subscription(
        &mut self,
        notification_type: &str,
        request: CreateSubscription,
    ) -> Result<Subscription, Refusal> {
        if request.payload_version.trim().is_empty() {
            return Err(Refusal::Invalid("payloadVersion must not be empty".into()));
        }
        if self.destination(&request.destination_id).is_err() {
            return Err(Refusal::Invalid(format!(
                "destinationId {} does not exist",
                request.destination_id
            )));
        }
        if self.subscription_of(notification_type).is_some() {
            return Err(Refusal::Conflict(
                "A subscription for this notification type already exists.",
            ));
        }
        let subscription = Subscription {
            view: AmazonSubscriptionView {
                subscription_id: Uuid::new_v4().to_string(),
                notification_type: notification_type.to_owned(),
                payload_version: request.payload_version,
                destination_id: request.destination_id,
            },
            processing_directive: request.processing_directive,
        };
        self.subscriptions.push(subscription.clone());
        Ok(subscription)
    }

    fn subscription_of(&self, notification_type: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.view.notification_type == notification_type)
    }

    fn subscription_by_id(
        &self,
        notification_type: &str,
        id: &str,
    ) -> Result<&Subscription, Refusal> {
        self.subscriptions
            .iter()
            .find(|s| s.view.notification_type == notification_type && s.view.subscription_id == id)
            .ok_or(Refusal::NotFound(NOT_FOUND))
    }

    fn delete_subscription(&mut self, notification_type: &str, id: &str) -> Result<(), Refusal> {
        self.subscription_by_id(notification_type, id)?;
        self.subscriptions.retain(|s| s.view.subscription_id != id);
        Ok(())
    }
}

/// `arn:aws:sqs:<region>:<12-digit account>:<queue name>`. A queue name is 1–80 letters,
/// digits, `-` and `_`: FIFO queues (`.fifo`) cannot receive notifications.
fn is_sqs_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    let ["arn", "aws", "sqs", region, account, queue] = parts.as_slice() else {
        return false;
    };
    let region_parts: Vec<&str> = region.split('-').collect();
    let region_ok = region_parts.len() >= 3
        && region_parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && region_parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let queue_ok = (1..=80).contains(&queue.len())
        && queue
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    region_ok && account_ok && queue_ok
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/notifications/v1/destinations",
            get(get_destinations).post(create_destination),
        )
        .route(
            "/notifications/v1/destinations/{destination_id}",
            get(get_destination).delete(delete_destination),
        )
        .route(
            "/notifications/v1/subscriptions/{notification_type}",
            get(get_subscription).post(create_subscription),
        )
        .route(
            "/notifications/v1/subscriptions/{notification_type}/{subscription_id}",
            get(get_subscription_by_id).delete(delete_subscription_by_id),
        )
}

fn destination_json(destination: &AmazonDestinationView) -> Value {
    json!({
        "name": destination.name,
        "destinationId": destination.destination_id,
        "resource": { "sqs": { "arn": destination.arn } },
    })
}

fn subscription_json(subscription: &Subscription) -> Value {
    let view = &subscription.view;
    let mut json = json!({
        "subscriptionId": view.subscription_id,
        "payloadVersion": view.payload_version,
        "destinationId": view.destination_id,
    });
    if let Some(directive) = &subscription.processing_directive {
        json["processingDirective"] = directive.clone();
    }
    json
}

fn payload(value: Value) -> Response {
    Json(json!({ "payload": value })).into_response()
}

/// A successful delete: `200 {}`.
fn deleted() -> Response {
    Json(json!({})).into_response()
}

/// The path's notification type, if it is one.
fn known_type(notification_type: &str) -> Result<(), Refusal> {
    if NOTIFICATION_TYPES.contains(&notification_type) {
        Ok(())
    } else {
        Err(Refusal::Invalid(format!(
            "{notification_type} is not a valid notificationType"
        )))
    }
}

/// The JSON body as `T`, or `InvalidInput`.
fn body_as<T: for<'de> Deserialize<'de>>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, Refusal> {
    body.ok()
        .and_then(|body| serde_json::from_slice(&body).ok())
        .ok_or_else(|| Refusal::Invalid(format!("The request body is not a {what}")))
}

/// What every operation does first: check the token's kind.
fn admit(app: &AppState, headers: &HeaderMap, needed: TokenKind) -> Result<(), Refusal> {
    authorize(app, headers, needed).map_err(Refusal::from)
}

/// The handler's answer, or its refusal's.
fn respond(result: Result<Response, Refusal>) -> Response {
    result.unwrap_or_else(Refusal::into_response)
}

/// `getDestinations` (grantless).
async fn get_destinations(State(app): State<AppState>, headers: HeaderMap) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).map(|()| {
        let destinations = app.with(|store| store.amazon.notifications.destination_views());
        payload(destinations.iter().map(destination_json).collect())
    }))
}

/// `createDestination` (grantless).
async fn create_destination(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).and_then(|()| {
        let request = body_as::<CreateDestination>(body, "CreateDestinationRequest")?;
        let destination =
            app.with(|store| store.amazon.notifications.create_destination(request))?;
        Ok(payload(destination_json(&destination)))
    }))
}

/// `getDestination` (grantless).
async fn get_destination(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(destination_id): Path<String>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).and_then(|()| {
        let destination = app.with(|store| {
            store
                .amazon
                .notifications
                .destination(&destination_id)
                .map(destination_json)
        })?;
        Ok(payload(destination))
    }))
}

/// `deleteDestination` (grantless).
async fn delete_destination(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(destination_id): Path<String>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).and_then(|()| {
        app.with(|store| {
            store
                .amazon
                .notifications
                .delete_destination(&destination_id)
        })?;
        Ok(deleted())
    }))
}

/// `createSubscription` (the seller's).
async fn create_subscription(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(notification_type): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Seller).and_then(|()| {
        // The role is checked before the request is looked at.
        if app.with(|store| store.amazon.notifications.denied) {
            return Err(Refusal::Access(AccessRefused::Denied));
        }
        known_type(&notification_type)?;
        let request = body_as::<CreateSubscription>(body, "CreateSubscriptionRequest")?;
        let subscription = app.with(|store| {
            store
                .amazon
                .notifications
                .create_subscription(&notification_type, request)
        })?;
        Ok(payload(subscription_json(&subscription)))
    }))
}

/// `getSubscription` (the seller's).
async fn get_subscription(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(notification_type): Path<String>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Seller).and_then(|()| {
        known_type(&notification_type)?;
        let subscription = app.with(|store| {
            store
                .amazon
                .notifications
                .subscription_of(&notification_type)
                .map(subscription_json)
        });
        subscription
            .map(payload)
            .ok_or(Refusal::NotFound("Subscription not found."))
    }))
}

/// `getSubscriptionById` (grantless).
async fn get_subscription_by_id(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((notification_type, subscription_id)): Path<(String, String)>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).and_then(|()| {
        known_type(&notification_type)?;
        let subscription = app.with(|store| {
            store
                .amazon
                .notifications
                .subscription_by_id(&notification_type, &subscription_id)
                .map(subscription_json)
        })?;
        Ok(payload(subscription))
    }))
}

/// `deleteSubscriptionById` (grantless).
async fn delete_subscription_by_id(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((notification_type, subscription_id)): Path<(String, String)>,
) -> Response {
    respond(admit(&app, &headers, TokenKind::Grantless).and_then(|()| {
        known_type(&notification_type)?;
        app.with(|store| {
            store
                .amazon
                .notifications
                .delete_subscription(&notification_type, &subscription_id)
        })?;
        Ok(deleted())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sqs:us-east-1:123456789012:courier-bridge-orders";

    fn destination(arn: &str) -> CreateDestination {
        serde_json::from_value(json!({
            "name": "courier-bridge", "resourceSpecification": { "sqs": { "arn": arn } }
        }))
        .unwrap()
    }

    fn subscription(destination_id: &str) -> CreateSubscription {
        serde_json::from_value(json!({ "payloadVersion": "1.0", "destinationId": destination_id }))
            .unwrap()
    }

    #[test]
    fn sqs_arns_name_a_region_an_account_and_a_standard_queue() {
        assert!(is_sqs_arn(ARN));
        assert!(is_sqs_arn("arn:aws:sqs:us-gov-west-1:123456789012:q_1"));
        for bad in [
            "arn:aws:sqs:us-east-1:12345678901:q",
            "arn:aws:sns:us-east-1:123456789012:q",
            "arn:aws:sqs:useast:123456789012:q",
            "arn:aws:sqs:us-east-1:123456789012:q.fifo",
            "arn:aws:sqs:us-east-1:123456789012:",
            "arn:aws:sqs:us-east-1:123456789012:q:extra",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        ] {
            assert!(!is_sqs_arn(bad), "{bad}");
        }
    }

    #[test]
    fn destinations_are_one_per_queue_and_kept_while_subscribed() {
        let mut store = Notifications::default();
        let made = store.create_destination(destination(ARN)).unwrap();
        assert_eq!(
            store.create_destination(destination(ARN)),
            Err(Refusal::Conflict(
                "A destination with the same resource already exists."
            ))
        );
        let subscribed = store
            .create_subscription("ORDER_CHANGE", subscription(&made.destination_id))
            .unwrap();
        assert!(matches!(
            store.delete_destination(&made.destination_id),
            Err(Refusal::Conflict(_))
        ));
        assert_eq!(
            store.delete_subscription("ANY_OFFER_CHANGED", &subscribed.view.subscription_id),
            Err(Refusal::NotFound(NOT_FOUND)),
            "the id belongs to another type"
        );
        assert_eq!(
            store.delete_subscription("ORDER_CHANGE", &subscribed.view.subscription_id),
            Ok(())
        );
        assert_eq!(store.delete_destination(&made.destination_id), Ok(()));
        assert!(store.destination_views().is_empty() && store.subscription_views().is_empty());
    }

    #[test]
    fn subscriptions_need_a_destination_and_are_one_per_type() {
        let mut store = Notifications::default();
        assert!(matches!(
            store.create_subscription("ORDER_CHANGE", subscription("nope")),
            Err(Refusal::Invalid(_))
        ));
        let made = store.create_destination(destination(ARN)).unwrap();
        store
            .create_subscription("ORDER_CHANGE", subscription(&made.destination_id))
            .unwrap();
        assert!(matches!(
            store.create_subscription("ORDER_CHANGE", subscription(&made.destination_id)),
            Err(Refusal::Conflict(_))
        ));
        assert!(store
            .create_subscription("ANY_OFFER_CHANGED", subscription(&made.destination_id))
            .is_ok());
        assert_eq!(store.subscription_views().len(), 2);
    }
}
