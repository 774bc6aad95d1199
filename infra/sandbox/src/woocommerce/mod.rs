//! A fake WooCommerce REST API (v3), just enough for the write-back and for `connect`,
//! `disconnect` and `doctor`:
//!
//! * `GET /wp-json/wc/v3/orders/{id}/notes` (`?type=any|customer|internal`) and
//!   `POST /wp-json/wc/v3/orders/{id}/notes` (`{"note", "customer_note", "added_by_user"}`);
//! * `PUT`/`POST`/`PATCH /wp-json/wc/v3/orders/{id}` (`{"status"}`) and `GET` of the same,
//!   answering a subset of the order resource: `{"id", "status"}`;
//! * the webhooks resource, `/wp-json/wc/v3/webhooks` and `/wp-json/wc/v3/webhooks/{id}`
//!   (see [`webhooks`]).
//!
//! Orders exist from their first mention, in `processing`. Authentication is HTTP Basic with
//! one of two fixed key pairs: [`WOOCOMMERCE_CONSUMER_KEY`] / [`WOOCOMMERCE_CONSUMER_SECRET`]
//! (read/write) or [`WOOCOMMERCE_READ_ONLY_CONSUMER_KEY`] /
//! [`WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET`] (read), both an administrator's. Errors have
//! WooCommerce's shape, `{"code", "message", "data": {"status"}}`, with its codes.

mod store;
mod webhooks;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

pub(crate) use store::WooStore;
pub use store::{WooCommerceNoteView, WooCommerceStatusView, WooCommerceWebhookView};

use crate::faults::{HoldBack, Injected};
use crate::state::AppState;
use store::{Note, ORDER_STATUSES};

/// The sandbox store's REST API consumer key (fixed, so that no configuration is needed).
pub const WOOCOMMERCE_CONSUMER_KEY: &str = "ck_sandbox";
/// The sandbox store's REST API consumer secret.
pub const WOOCOMMERCE_CONSUMER_SECRET: &str = "cs_sandbox";
/// A second key of the sandbox store, with `read` permissions only: it may list and view,
/// and every write (`POST`, `PUT`, `PATCH`, `DELETE`) is refused.
pub const WOOCOMMERCE_READ_ONLY_CONSUMER_KEY: &str = "ck_sandbox_read";
/// The read-only key's consumer secret.
pub const WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET: &str = "cs_sandbox_read";

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
        .route(
            "/wp-json/wc/v3/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/wp-json/wc/v3/webhooks/{webhook_id}",
            get(webhooks::read)
                .put(webhooks::update)
                .post(webhooks::update)
                .patch(webhooks::update)
                .delete(webhooks::delete),
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
    Delete,
}

impl Access {
    /// Whether the method writes (`POST`, `PUT`, `PATCH`, `DELETE`), which a read-only key
    /// may not.
    fn writes(self) -> bool {
        matches!(self, Access::Create | Access::Edit | Access::Delete)
    }
}

/// What every order route does first: an armed fault strikes (an outage in front of
/// WordPress), then the route's id pattern (`\d+`), then authentication.
fn admit(
    app: &AppState,
    headers: &HeaderMap,
    order_id: &str,
    access: Access,
) -> Result<(u64, Option<HoldBack>), WcError> {
    let hold_back = strike(app)?;
    if order_id.is_empty() || !order_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(no_route());
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

/// WordPress's answer to a path no route matches (an id that is not `\d+`).
fn no_route() -> WcError {
    WcError::new(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

/// Consumes the armed fault, if any: an outage or rate limit is the answer, a lost response
/// tags the response to come.
fn strike(app: &AppState) -> Result<Option<HoldBack>, WcError> {
    match app.with(|store| store.woocommerce.fault.trigger()) {
        Some(Injected::Unavailable) => Err(WcError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sandbox_unavailable",
            "Service unavailable, retry later.",
        )),
        Some(Injected::RateLimited) => Err(WcError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "sandbox_rate_limited",
            "Too many requests, retry later.",
        )),
        Some(Injected::LoseResponse(delay)) => Ok(Some(HoldBack(delay))),
        None => Ok(None),
    }
}

/// HTTP Basic with one of the sandbox's key pairs. Without credentials the request is
/// anonymous and the route's permission check refuses it in its own words; a read-only key
/// is refused every write by WooCommerce's authentication itself
/// (`WC_REST_Authentication::check_permissions`), before any route runs.
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
            Access::Delete => (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
        };
        return Err(WcError::new(StatusCode::UNAUTHORIZED, code, message));
    };
    let pair = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, credentials)| STANDARD.decode(credentials.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(key, secret)| (key.to_owned(), secret.to_owned()))
        });
    let authentication_error = |message: &str| {
        WcError::new(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            message,
        )
    };
    match pair {
        Some((key, secret))
            if key == WOOCOMMERCE_CONSUMER_KEY && secret == WOOCOMMERCE_CONSUMER_SECRET =>
        {
            Ok(())
        }
        Some((key, secret))
            if key == WOOCOMMERCE_READ_ONLY_CONSUMER_KEY
                && secret == WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET =>
        {
            if access.writes() {
                Err(authentication_error(
                    "The API key provided does not have write permissions.",
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(authentication_error("Consumer key is invalid.")),
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

/// A list in WordPress's words (`wp_sprintf_l`, as enum errors use it): `a and b`,
/// `a, b, and c`.
fn wp_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, second] => format!("{first} and {second}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// WordPress's REST date, `2026-05-01T09:00:00`: the site's local time without an offset.
/// The sandbox site's timezone is UTC, so local and GMT times are the same.
fn wp_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    at.format(&format).unwrap_or_default()
}

fn note_json(note: &Note) -> Value {
    let date = wp_date(note.created);
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
                return Err(WcError::invalid_param(
                    "status",
                    format!("status is not one of {}.", wp_list(&ORDER_STATUSES)),
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

    fn headers(key: &str, secret: &str) -> HeaderMap {
        let request = reqwest::Client::new()
            .get("http://127.0.0.1/")
            .basic_auth(key, Some(secret))
            .build()
            .unwrap();
        request.headers().clone()
    }

    #[test]
    fn lists_read_as_wordpress_writes_them() {
        assert_eq!(wp_list(&["asc", "desc"]), "asc and desc");
        assert_eq!(wp_list(&["a", "b", "c"]), "a, b, and c");
        assert_eq!(wp_list(&["a"]), "a");
    }

    #[test]
    fn the_read_write_pair_may_do_anything_the_read_only_pair_only_read() {
        let full = headers(WOOCOMMERCE_CONSUMER_KEY, WOOCOMMERCE_CONSUMER_SECRET);
        let read = headers(
            WOOCOMMERCE_READ_ONLY_CONSUMER_KEY,
            WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET,
        );
        for access in [
            Access::List,
            Access::View,
            Access::Create,
            Access::Edit,
            Access::Delete,
        ] {
            assert!(authenticate(&full, access).is_ok());
            let refused = authenticate(&read, access).err();
            assert_eq!(refused.is_some(), access.writes());
            if let Some(refused) = refused {
                assert_eq!(refused.code, "woocommerce_rest_authentication_error");
                assert_eq!(
                    refused.message,
                    "The API key provided does not have write permissions."
                );
            }
        }
        let crossed = headers(
            WOOCOMMERCE_CONSUMER_KEY,
            WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET,
        );
        assert_eq!(
            authenticate(&crossed, Access::View)
                .err()
                .map(|e| e.message),
            Some("Consumer key is invalid.".to_owned())
        );
    }
}
