//! A fake WooCommerce REST API (v3), just enough for the write-back:
//!
//! * `GET /wp-json/wc/v3/orders/{id}/notes` (`?type=any|customer|internal`) and
//!   `POST /wp-json/wc/v3/orders/{id}/notes` (`{"note", "customer_note", "added_by_user"}`);
//! * `PUT`/`POST`/`PATCH /wp-json/wc/v3/orders/{id}` (`{"status"}`) and `GET` of the same,
//!   answering a subset of the order resource: `{"id", "status"}`.
//!
//! Orders exist from their first mention, in `processing`. Authentication is HTTP Basic with
//! the fixed pair [`WOOCOMMERCE_CONSUMER_KEY`] / [`WOOCOMMERCE_CONSUMER_SECRET`]; errors have
//! WooCommerce's shape, `{"code", "message", "data": {"status"}}`, with its codes.

mod store;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

pub(crate) use store::WooStore;
pub use store::{WooCommerceNoteView, WooCommerceStatusView};

use crate::faults::{HoldBack, Injected};
use crate::state::AppState;
use store::{Note, ORDER_STATUSES};

/// The sandbox store's REST API consumer key (fixed, so that no configuration is needed).
pub const WOOCOMMERCE_CONSUMER_KEY: &str = "ck_sandbox";
/// The sandbox store's REST API consumer secret.
pub const WOOCOMMERCE_CONSUMER_SECRET: &str = "cs_sandbox";
/// Base64 of `ck_sandbox:cs_sandbox`, what an `Authorization: Basic` header carries. The
/// pair is fixed, so comparing encodings avoids a base64 dependency.
const BASIC_CREDENTIALS: &str = "Y2tfc2FuZGJveDpjc19zYW5kYm94";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/wp-json/wc/v3/orders/{order_id}/notes",
            get(list_notes).post(create_note),
        )
        .route(
            "/wp-json/wc/v3/orders/{order_id}",
            get(get_order)
                .put(update_order)
                .post(update_order)
                .patch(update_order),
        )
}

/// A WooCommerce REST error (a `WP_Error`).
#[derive(Debug)]
struct WcError {
    status: StatusCode,
    code: &'static str,
    message: String,
    params: Option<Value>,
}

impl WcError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        WcError {
            status,
            code,
            message: message.into(),
            params: None,
        }
    }

    fn invalid_param(name: &str, problem: String) -> Self {
        WcError {
            params: Some(json!({ name: problem })),
            ..WcError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                format!("Invalid parameter(s): {name}"),
            )
        }
    }
}

impl IntoResponse for WcError {
    fn into_response(self) -> Response {
        let mut data = json!({ "status": self.status.as_u16() });
        if let Some(params) = self.params {
            data["params"] = params;
        }
        let body = json!({ "code": self.code, "message": self.message, "data": data });
        let mut response = (self.status, Json(body)).into_response();
        if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// What the request asks to do, for WooCommerce's per-action "not allowed" errors.
#[derive(Clone, Copy)]
enum Access {
    List,
    View,
    Create,
    Edit,
}

/// What every route does first: an armed fault strikes (an outage in front of WordPress),
/// then the route's id pattern (`\d+`), then authentication.
fn admit(
    app: &AppState,
    headers: &HeaderMap,
    order_id: &str,
    access: Access,
) -> Result<(u64, Option<HoldBack>), WcError> {
    let hold_back = match app.with(|store| store.woocommerce.fault.trigger()) {
        Some(Injected::Unavailable) => {
            return Err(WcError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sandbox_unavailable",
                "Service unavailable, retry later.",
            ))
        }
        Some(Injected::RateLimited) => {
            return Err(WcError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "sandbox_rate_limited",
                "Too many requests, retry later.",
            ))
        }
        Some(Injected::LoseResponse(delay)) => Some(HoldBack(delay)),
        None => None,
    };
    if order_id.is_empty() || !order_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WcError::new(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        ));
    }
    authenticate(headers, access)?;
    match order_id.parse::<u64>() {
        Ok(id) if id > 0 => Ok((id, hold_back)),
        _ => Err(WcError::new(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_order_invalid_id",
            "Invalid order ID.",
        )),
    }
}

fn authenticate(headers: &HeaderMap, access: Access) -> Result<(), WcError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        let (code, message) = match access {
            Access::List => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            ),
            Access::View => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot view this resource.",
            ),
            Access::Create => (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            Access::Edit => (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ),
        };
        return Err(WcError::new(StatusCode::UNAUTHORIZED, code, message));
    };
    let valid = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, credentials)| {
            scheme.eq_ignore_ascii_case("basic") && credentials.trim() == BASIC_CREDENTIALS
        });
    if valid {
        Ok(())
    } else {
        Err(WcError::new(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ))
    }
}

/// Tags a response to be held back by the fault middleware.
fn finish(mut response: Response, hold_back: Option<HoldBack>) -> Response {
    if let Some(hold_back) = hold_back {
        response.extensions_mut().insert(hold_back);
    }
    response
}

/// A JSON object body; an empty body is an empty object, as WordPress reads it.
fn object_body(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, WcError> {
    let invalid = || {
        WcError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
    };
    let body = body.map_err(|_| invalid())?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(invalid()),
    }
}

fn boolean(object: &Map<String, Value>, name: &str) -> Result<bool, WcError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(WcError::invalid_param(
            name,
            format!("{name} is not of type boolean."),
        )),
    }
}

fn note_json(note: &Note) -> Value {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    // The sandbox site's timezone is UTC, so local and GMT times are the same.
    let date = note.created.format(&format).unwrap_or_default();
    json!({
        "id": note.id,
        "author": if note.added_by_user { "sandbox" } else { "system" },
        "date_created": date,
        "date_created_gmt": date,
        "note": note.note,
        "customer_note": note.customer_note,
    })
}

/// `GET /wp-json/wc/v3/orders/{id}/notes`.
async fn list_notes(
    State(app): State<AppState>,
    Path(order_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = admit(&app, &headers, &order_id, Access::List).and_then(|(id, hold_back)| {
        let kind = query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("type="))
            .unwrap_or("any");
        // `Some(true)`: customer notes only; `Some(false)`: internal ones; `None`: all.
        let customer = match kind {
            "any" => None,
            "customer" => Some(true),
            "internal" => Some(false),
            _ => {
                return Err(WcError::invalid_param(
                    "type",
                    "type is not one of any, customer, and internal.".into(),
                ))
            }
        };
        let listed: Vec<Value> = app
            .with(|store| store.woocommerce.notes(id))
            .iter()
            .filter(|note| customer.is_none_or(|c| note.customer_note == c))
            .map(note_json)
            .collect();
        Ok(finish(Json(listed).into_response(), hold_back))
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /wp-json/wc/v3/orders/{id}/notes`.
async fn create_note(
    State(app): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = admit(&app, &headers, &order_id, Access::Create).and_then(|(id, hold_back)| {
        let object = object_body(body)?;
        let note = match object.get("note") {
            None | Some(Value::Null) => {
                return Err(WcError {
                    params: Some(json!(["note"])),
                    ..WcError::new(
                        StatusCode::BAD_REQUEST,
                        "rest_missing_callback_param",
                        "Missing parameter(s): note",
                    )
                })
            }
            Some(Value::String(note)) if !note.trim().is_empty() => note.clone(),
            Some(_) => {
                return Err(WcError::invalid_param(
                    "note",
                    "note is not a non-empty string.".into(),
                ))
            }
        };
        let customer_note = boolean(&object, "customer_note")?;
        let added_by_user = boolean(&object, "added_by_user")?;
        let now = OffsetDateTime::now_utc();
        let note = app.with(|store| {
            store
                .woocommerce
                .add_note(id, note, customer_note, added_by_user, now)
        });
        let location = format!("/wp-json/wc/v3/orders/{id}/notes/{}", note.id);
        let response = (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(note_json(&note)),
        )
            .into_response();
        Ok(finish(response, hold_back))
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /wp-json/wc/v3/orders/{id}`.
async fn get_order(
    State(app): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = admit(&app, &headers, &order_id, Access::View).map(|(id, hold_back)| {
        let status = app.with(|store| store.woocommerce.status(id));
        finish(
            Json(json!({ "id": id, "status": status })).into_response(),
            hold_back,
        )
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `PUT`, `POST` or `PATCH /wp-json/wc/v3/orders/{id}`: only `status` is read.
async fn update_order(
    State(app): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = admit(&app, &headers, &order_id, Access::Edit).and_then(|(id, hold_back)| {
        let object = object_body(body)?;
        let status = match object.get("status") {
            None => None,
            Some(Value::String(s)) if ORDER_STATUSES.contains(&s.as_str()) => Some(s.clone()),
            Some(_) => {
                let (last, rest) = ORDER_STATUSES.split_last().unwrap_or((&"", &[]));
                return Err(WcError::invalid_param(
                    "status",
                    format!("status is not one of {}, and {last}.", rest.join(", ")),
                ));
            }
        };
        let status = app.with(|store| {
            if let Some(status) = &status {
                store.woocommerce.set_status(id, status);
            }
            store.woocommerce.status(id)
        });
        Ok(finish(
            Json(json!({ "id": id, "status": status })).into_response(),
            hold_back,
        ))
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basic_credentials_encode_the_published_pair() {
        let request = reqwest::Client::new()
            .get("http://127.0.0.1/")
            .basic_auth(WOOCOMMERCE_CONSUMER_KEY, Some(WOOCOMMERCE_CONSUMER_SECRET))
            .build()
            .unwrap();
        assert_eq!(
            request.headers()[header::AUTHORIZATION],
            format!("Basic {BASIC_CREDENTIALS}")
        );
    }
}
