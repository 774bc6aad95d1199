//! A fake Amazon Selling Partner API: Login with Amazon's token endpoint, the Orders API v0
//! operations courier-bridge uses (`getOrder`, `getOrderAddress`, `getOrderBuyerInfo`,
//! `getOrderItems`, `confirmShipment`), over orders seeded by tests, and the Notifications
//! API v1's destinations and subscriptions (see [`notifications`]).
//!
//! LWA issues two kinds of access token. The `refresh_token` grant with the
//! [`AMAZON_LWA_CLIENT_ID`] / [`AMAZON_LWA_CLIENT_SECRET`] / [`AMAZON_REFRESH_TOKEN`] triple
//! gives a *seller* token, for the Orders API and a seller's notification subscriptions; the
//! `client_credentials` grant with the client pair and the [`AMAZON_NOTIFICATIONS_SCOPE`]
//! gives a *grantless* one, for the application's own destinations. Every SP-API request
//! needs a token of the right kind in `x-amz-access-token`. Errors have SP-API's shape,
//! `{"errors": [{"code", "message", "details"}]}` (LWA's are OAuth's, `{"error",
//! "error_description"}`).

mod notifications;
mod store;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub use notifications::{AmazonDestinationView, AmazonSubscriptionView};
pub(crate) use store::AmazonStore;
pub use store::{AmazonConfirmationView, AmazonConfirmedItem, AmazonOrderSeed, AmazonSeedError};

use store::{ConfirmShipmentRequest, OrderError, TokenKind};

use crate::state::AppState;

/// The sandbox application's LWA client id.
pub const AMAZON_LWA_CLIENT_ID: &str = "amzn1.application-oa2-client.courier-bridge-sandbox";
/// The sandbox application's LWA client secret.
pub const AMAZON_LWA_CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.courier-bridge-sandbox";
/// The sandbox seller's refresh token.
pub const AMAZON_REFRESH_TOKEN: &str = "Atzr|courier-bridge-sandbox-seller";
/// The scope of the `client_credentials` grant that gives a grantless token for the
/// Notifications API (the only grantless scope served).
pub const AMAZON_NOTIFICATIONS_SCOPE: &str = "sellingpartnerapi::notifications";
/// The LWA token endpoint's path (Amazon's: `https://api.amazon.com/auth/o2/token`).
pub const AMAZON_TOKEN_PATH: &str = "/auth/o2/token";
/// Items per `getOrderItems` page: small on purpose, so three items already need paging.
pub const AMAZON_ORDER_ITEMS_PAGE_SIZE: usize = 2;
/// Lifetime the token endpoint announces (tokens never actually expire here).
const TOKEN_LIFETIME_SECS: u64 = 3600;

const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(AMAZON_TOKEN_PATH, post(token))
        .route("/orders/v0/orders/{order_id}", get(get_order))
        .route("/orders/v0/orders/{order_id}/address", get(get_address))
        .route(
            "/orders/v0/orders/{order_id}/buyerInfo",
            get(get_buyer_info),
        )
        .route(
            "/orders/v0/orders/{order_id}/orderItems",
            get(get_order_items),
        )
        .route(
            "/orders/v0/orders/{order_id}/shipmentConfirmation",
            post(confirm_shipment),
        )
        .merge(notifications::router())
}

/// `POST /auth/o2/token`: the `refresh_token` grant (a seller token) and the
/// `client_credentials` grant with the notifications scope (a grantless token).
async fn token(
    State(app): State<AppState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let lwa_error = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    };
    let Ok(Form(form)) = form else {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter or is otherwise malformed",
        );
    };
    let field = |name: &str| form.get(name).map(String::as_str);
    let grant = field("grant_type");
    if !matches!(grant, Some("refresh_token" | "client_credentials")) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    if field("client_id") != Some(AMAZON_LWA_CLIENT_ID)
        || field("client_secret") != Some(AMAZON_LWA_CLIENT_SECRET)
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if grant == Some("client_credentials") {
        return match field("scope") {
            None | Some("") => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request is missing a required parameter : scope",
            ),
            Some(AMAZON_NOTIFICATIONS_SCOPE) => {
                let access_token = app.with(|store| store.amazon.issue_token(TokenKind::Grantless));
                // A grantless token acts for no seller, so there is nothing to refresh.
                Json(json!({
                    "access_token": access_token,
                    "token_type": "bearer",
                    "expires_in": TOKEN_LIFETIME_SECS,
                }))
                .into_response()
            }
            Some(_) => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The request has an invalid parameter : scope",
            ),
        };
    }
    if field("refresh_token") != Some(AMAZON_REFRESH_TOKEN) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let access_token = app.with(|store| store.amazon.issue_token(TokenKind::Seller));
    Json(json!({
        "access_token": access_token,
        "refresh_token": AMAZON_REFRESH_TOKEN,
        "token_type": "bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
    }))
    .into_response()
}

async fn get_order(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    read(&app, &headers, |store| store.order(&order_id))
}

async fn get_address(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    read(&app, &headers, |store| store.address(&order_id))
}

async fn get_buyer_info(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    read(&app, &headers, |store| store.buyer_info(&order_id))
}

async fn get_order_items(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return invalid_input("The query string could not be parsed");
    };
    let next = query.get("NextToken").map(String::as_str);
    read(&app, &headers, |store| {
        store.items_page(&order_id, next, AMAZON_ORDER_ITEMS_PAGE_SIZE)
    })
}

/// `POST .../shipmentConfirmation`: 204 with no body on success.
async fn confirm_shipment(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = authorize(&app, &headers, TokenKind::Seller) {
        return refused.into_response();
    }
    let request = body
        .ok()
        .and_then(|body| serde_json::from_slice::<ConfirmShipmentRequest>(&body).ok());
    let Some(request) = request else {
        return invalid_input("The request body is not a ConfirmShipmentRequest");
    };
    match app.with(|store| store.amazon.confirm(&order_id, request)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => order_error(&error),
    }
}

/// A read: checks the token, then answers `{"payload": ...}` or the error.
fn read(
    app: &AppState,
    headers: &HeaderMap,
    f: impl FnOnce(&AmazonStore) -> Result<Value, OrderError>,
) -> Response {
    if let Err(refused) = authorize(app, headers, TokenKind::Seller) {
        return refused.into_response();
    }
    match app.with(|store| f(&store.amazon)) {
        Ok(payload) => Json(json!({ "payload": payload })).into_response(),
        Err(error) => order_error(&error),
    }
}

/// Why an access token does not open an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AccessRefused {
    /// Missing, or never issued.
    BadToken,
    /// Valid, but of the other kind, or the application lacks the role.
    Denied,
}

impl IntoResponse for AccessRefused {
    fn into_response(self) -> Response {
        match self {
            AccessRefused::BadToken => unauthorized(),
            AccessRefused::Denied => denied(),
        }
    }
}

/// Checks the access token: one LWA issued, of the kind the operation needs. A token of
/// the other kind is valid but not for this resource: SP-API denies access without saying
/// the token is bad.
fn authorize(app: &AppState, headers: &HeaderMap, needed: TokenKind) -> Result<(), AccessRefused> {
    let kind = headers
        .get(ACCESS_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|token| app.with(|store| store.amazon.token_kind(token)));
    match kind {
        None => Err(AccessRefused::BadToken),
        Some(kind) if kind == needed => Ok(()),
        Some(_) => Err(AccessRefused::Denied),
    }
}

fn errors(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    let body = json!({ "errors": [{ "code": code, "message": message, "details": details }] });
    (status, Json(body)).into_response()
}

/// SP-API's answer to a missing, expired or unknown access token.
fn unauthorized() -> Response {
    errors(
        StatusCode::FORBIDDEN,
        "Unauthorized",
        "Access to requested resource is denied.",
        "The access token you provided is revoked, malformed or invalid.",
    )
}

/// SP-API's answer to a valid token without access to the resource: a grantless token on a
/// seller's operation or the reverse, or an application without the role.
fn denied() -> Response {
    errors(
        StatusCode::FORBIDDEN,
        "Unauthorized",
        "Access to requested resource is denied.",
        "",
    )
}

fn invalid_input(message: &str) -> Response {
    errors(StatusCode::BAD_REQUEST, "InvalidInput", message, "")
}

fn order_error(error: &OrderError) -> Response {
    match error {
        OrderError::NotFound => errors(StatusCode::NOT_FOUND, "NotFound", &error.to_string(), ""),
        OrderError::Invalid(message) => invalid_input(message),
    }
}
