//! The control API under `/sandbox`: fault injection, the request log, the courier's webhook
//! delivery log and the messages the fake Twilio accepted, for tests.
//! Not part of the courier contract, and unauthenticated.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::courier::WebhookDeliveryView;
use crate::error::{parse_json, ApiError};
use crate::faults::Fault;
use crate::request_log::RequestLogEntry;
use crate::state::AppState;
use crate::twilio::TwilioMessageView;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/faults", post(set_faults).delete(clear_faults))
        .route("/sandbox/requests", get(requests))
        .route("/sandbox/webhook-deliveries", get(webhook_deliveries))
        .route("/sandbox/twilio/messages", get(twilio_messages))
}

/// `POST /sandbox/faults` body. Endpoints left out keep their current fault; unknown keys
/// are rejected so a misspelt endpoint cannot silently inject nothing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFaults {
    create_task: Option<Fault>,
    /// `PUT /v1/drivers/{driver_id}/route`.
    assign_route: Option<Fault>,
    shopify_admin: Option<Fault>,
    twilio: Option<Fault>,
}

async fn set_faults(
    State(app): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let SetFaults {
        create_task,
        assign_route,
        shopify_admin,
        twilio,
    } = parse_json(&body?)?;
    app.with(|store| {
        if let Some(fault) = create_task {
            store.faults.create_task.set(fault);
        }
        if let Some(fault) = assign_route {
            store.faults.assign_route.set(fault);
        }
        if let Some(fault) = shopify_admin {
            store.faults.shopify_admin.set(fault);
        }
        if let Some(fault) = twilio {
            store.faults.twilio.set(fault);
        }
    });
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.with(|store| store.faults.clear());
    StatusCode::NO_CONTENT
}

async fn requests(State(app): State<AppState>) -> Json<Vec<RequestLogEntry>> {
    Json(app.with(|store| store.requests.snapshot()))
}

async fn webhook_deliveries(State(app): State<AppState>) -> Json<Vec<WebhookDeliveryView>> {
    Json(app.with(|store| store.webhooks.deliveries()))
}

async fn twilio_messages(State(app): State<AppState>) -> Json<Vec<TwilioMessageView>> {
    Json(app.with(|store| store.twilio.views()))
}
