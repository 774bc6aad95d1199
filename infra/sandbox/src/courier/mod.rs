//! The sandbox courier API (`/v1`, bearer auth) and its public tracking page (`/track`).

mod advance;
mod auth;
mod errors;
mod geocode;
mod handlers;
mod model;
mod routes;
mod store;
mod tracking;
mod validate;
mod webhooks;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use axum::Router;

pub use model::{CourierTaskView, Destination, Money, Parcel, Recipient, StatusEvent};
pub(crate) use routes::RouteBook;
pub(crate) use store::TaskStore;
pub(crate) use webhooks::{error_text, WebhookStore};
pub use webhooks::{
    WebhookDeliveryView, WebhookOutcome, TARIFF_BASE_MINOR, TARIFF_DEFAULT_CURRENCY,
    TARIFF_PER_EXTRA_KG_MINOR, TASK_STATUS_CHANGED, WEBHOOK_ATTEMPT_TIMEOUT,
    WEBHOOK_EVENT_ID_HEADER, WEBHOOK_FIRST_RETRY_DELAY, WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_MAX_RETRY_DELAY, WEBHOOK_SIGNATURE_HEADER,
};

use crate::request_log;
use crate::state::AppState;

/// Lower-case, as `http::HeaderMap` lookups by `&str` are; matching is case-insensitive.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub(crate) fn router(app: &AppState) -> Router<AppState> {
    // The log wraps auth so that rejected requests are logged too; the fallback sits inside
    // both so unknown `/v1` paths need the key and are logged like any other request.
    let api = Router::new()
        .route(
            "/tasks",
            post(handlers::create_task).get(handlers::list_tasks),
        )
        .route(
            "/tasks/{id}",
            get(handlers::get_task).put(handlers::update_task),
        )
        .route("/tasks/{id}/cancel", post(handlers::cancel_task))
        .route("/tasks/{id}/advance", post(handlers::advance_task))
        .route(
            "/drivers/{driver_id}/route",
            put(routes::put_route).get(routes::get_route),
        )
        .route(
            "/webhook",
            put(webhooks::put_webhook)
                .get(webhooks::get_webhook)
                .delete(webhooks::delete_webhook),
        )
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::no_route)
        .layer(from_fn_with_state(app.clone(), auth::require_api_key))
        .layer(from_fn_with_state(app.clone(), request_log::record));

    Router::new()
        .nest("/v1", api)
        .route("/track/{tracking_number}", get(tracking::page))
}
