//! A fake Shopify Admin GraphQL API: `POST /admin/api/{version}/graphql.json`.
//!
//! Operations served: the `order(id:)` query (fulfillment orders and fulfillments),
//! `fulfillmentCreate`, the `fulfillment(id:)` query (with its `events`),
//! `fulfillmentTrackingInfoUpdate` and `fulfillmentEventCreate` (checked against the
//! `FulfillmentEventStatus` values of the API version in the path); and, for `connect`,
//! `disconnect` and `doctor`, the `currentAppInstallation` scopes query, the
//! `webhookSubscriptions` connection and `webhookSubscriptionCreate` /
//! `webhookSubscriptionDelete` (see [`webhooks`]; the scopes are set with
//! [`crate::Sandbox::set_shopify_scopes`]). Armed faults
//! ([`crate::Sandbox::set_shopify_admin_fault`]) strike every operation alike.
//!
//! Orders appear the first time they are asked about, because the write-back only ever asks
//! about orders a webhook announced. Fulfillments do not: a fulfillment is something the
//! merchant made, so it exists only once a test seeds it
//! ([`crate::Sandbox::seed_shopify_fulfillment`], the counterpart of the
//! `fulfillments/create` webhook it sends) or `fulfillmentCreate` made it. A tracking update
//! for any other id is refused, as Shopify refuses it, so a client that sends a wrong id
//! fails here rather than in production.

mod graphql;
mod store;
mod webhooks;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub(crate) use store::ShopStore;
pub use store::{FulfillmentEventView, FulfillmentView, ShopifySeedError};
pub use webhooks::ShopifyWebhookView;

use crate::faults::{HoldBack, Injected};
use crate::state::AppState;

const ACCESS_TOKEN_HEADER: &str = "x-shopify-access-token";

/// Shopify's exact 401 message, so clients can be tested against the real wording.
const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

pub(crate) fn router() -> Router<AppState> {
    // Every API version is served the same way.
    Router::new().route("/admin/api/{version}/graphql.json", post(graphql_endpoint))
}

async fn graphql_endpoint(
    State(app): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let token = headers.get(ACCESS_TOKEN_HEADER).map(HeaderValue::as_bytes);
    if token != Some(app.config().shopify_access_token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "errors": INVALID_TOKEN })),
        )
            .into_response();
    }

    let hold_back = match app.with(|store| store.faults.shopify_admin.trigger()) {
        Some(Injected::Unavailable) => return unavailable(),
        Some(Injected::RateLimited) => return Json(graphql::throttled()).into_response(),
        Some(Injected::LoseResponse(delay)) => Some(HoldBack(delay)),
        None => None,
    };

    let request = body
        .ok()
        .and_then(|body| serde_json::from_slice::<graphql::GraphqlRequest>(&body).ok());
    let mut response = match request {
        Some(request) => {
            let answer = app.with(|store| graphql::execute(&mut store.shop, &request, &version));
            Json(answer).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            Json(graphql::errors(
                r#"the body must be JSON: {"query": "...", "variables": {...}}"#,
            )),
        )
            .into_response(),
    };
    if let Some(hold_back) = hold_back {
        response.extensions_mut().insert(hold_back);
    }
    response
}

fn unavailable() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(graphql::errors("Service unavailable, retry later")),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
