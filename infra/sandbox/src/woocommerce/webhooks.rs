//! The webhooks resource of the REST API v3, as `WC_REST_Webhooks_Controller` serves it
//! (<https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks>):
//!
//! * `GET /wp-json/wc/v3/webhooks` (`per_page` 1–100, default 10; `page`; `status`
//!   `all|active|paused|disabled`; `order` `asc|desc`, default `desc`; `orderby`
//!   `date|id|title`, default `date`), with `X-WP-Total`, `X-WP-TotalPages` and a `Link`
//!   header to the neighbouring pages;
//! * `POST /wp-json/wc/v3/webhooks` (`{"name", "topic", "delivery_url", "secret",
//!   "status"}`): `201` with the webhook and a `Location`;
//! * `GET`, `PUT`/`POST`/`PATCH` and `DELETE` (`?force=true`) of `/wp-json/wc/v3/webhooks/{id}`.
//!
//! Checks and answers follow the controller's source (WooCommerce 9.x,
//! `includes/rest-api/Controllers/Version1/class-wc-rest-webhooks-v1-controller.php` and its
//! v2 subclass), including its quirks: a webhook is always created `active` whatever
//! `status` asks (the status is only validated); error codes carry the post type
//! (`woocommerce_rest_shop_webhook_invalid_id`); reading an unknown id is `400 ID is
//! invalid.` while deleting one is `404 Invalid ID.`; the secret is never shown, and
//! WooCommerce makes one up when none is given. No ping is sent to the delivery URL on
//! creation (WooCommerce sends one and ignores how it fares), and `search`, `include`,
//! `exclude`, `before`, `after` and `offset` are not read.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{
    is_valid_topic, NewWebhook, Webhook, WebhookChanges, WebhookOrder, WEBHOOK_STATUSES,
};
use super::{authenticate, finish, no_route, object_body, strike, wp_date, Access, WcError};
use crate::faults::HoldBack;
use crate::state::AppState;

const COLLECTION_PATH: &str = "/wp-json/wc/v3/webhooks";

/// `GET /webhooks`.
pub(super) async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let result = admit_collection(&app, &headers, Access::List).and_then(|hold_back| {
        let Query(query) = query.map_err(|_| invalid_query())?;
        let per_page = integer_param(&query, "per_page", 10, Some(100))?;
        let page = integer_param(&query, "page", 1, None)?;
        let status = enum_param(
            &query,
            "status",
            "all",
            &["all", "active", "paused", "disabled"],
        )?;
        let order = enum_param(&query, "order", "desc", &["asc", "desc"])?;
        let orderby = match enum_param(&query, "orderby", "date", &["date", "id", "title"])? {
            "id" => WebhookOrder::Id,
            "title" => WebhookOrder::Title,
            _ => WebhookOrder::Date,
        };
        let status = (status != "all").then_some(status);
        let all = app.with(|store| store.woocommerce.webhooks(status, orderby, order == "asc"));
        let total = all.len() as u64;
        let pages = total.div_ceil(per_page);
        let listed: Vec<Value> = all
            .iter()
            .skip(usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(usize::MAX))
            .map(|webhook| webhook_json(webhook, app.base_url()))
            .collect();

        let mut response = Json(listed).into_response();
        let response_headers = response.headers_mut();
        response_headers.insert("x-wp-total", HeaderValue::from(total));
        response_headers.insert("x-wp-totalpages", HeaderValue::from(pages));
        if let Some(link) = page_links(app.base_url(), &query, page, pages) {
            response_headers.insert(header::LINK, link);
        }
        Ok(finish(response, hold_back))
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /webhooks`.
pub(super) async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = admit_collection(&app, &headers, Access::Create).and_then(|hold_back| {
        let object = object_body(body)?;
        let missing: Vec<&str> = ["topic", "delivery_url"]
            .into_iter()
            .filter(|name| object.get(*name).is_none_or(Value::is_null))
            .collect();
        if !missing.is_empty() {
            return Err(WcError {
                params: Some(json!(missing)),
                ..WcError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_missing_callback_param",
                    format!("Missing parameter(s): {}", missing.join(", ")),
                )
            });
        }
        let name = string_field(&object, "name")?;
        status_field(&object)?;
        let topic = string_field(&object, "topic")?.unwrap_or_default();
        let secret = string_field(&object, "secret")?;
        let delivery_url = string_field(&object, "delivery_url")?.unwrap_or_default();
        if object.get("id").is_some_and(is_set) {
            return Err(WcError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_shop_webhook_exists",
                "Cannot create existing shop_webhook.",
            ));
        }
        let topic = topic.to_ascii_lowercase();
        if !is_valid_topic(&topic) {
            return Err(invalid_topic(
                "Webhook topic is required and must be valid.",
            ));
        }
        if !is_valid_url(&delivery_url) {
            return Err(invalid_delivery_url());
        }
        let now = OffsetDateTime::now_utc();
        let new = NewWebhook {
            name: name
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| default_name(now)),
            topic,
            delivery_url,
            secret: secret
                .filter(|secret| !secret.is_empty())
                .unwrap_or_else(generate_secret),
        };
        let webhook = app.with(|store| store.woocommerce.add_webhook(new, now));
        let location = format!("{}{COLLECTION_PATH}/{}", app.base_url(), webhook.id);
        let response = (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(webhook_json(&webhook, app.base_url())),
        )
            .into_response();
        Ok(finish(response, hold_back))
    });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /webhooks/{id}`.
pub(super) async fn read(
    State(app): State<AppState>,
    Path(webhook_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result =
        admit_item(&app, &headers, &webhook_id, Access::View).and_then(|(id, hold_back)| {
            if id == 0 {
                return Err(invalid_id_404());
            }
            let webhook = app
                .with(|store| store.woocommerce.webhook(id))
                .ok_or_else(invalid_id_400)?;
            Ok(finish(
                Json(webhook_json(&webhook, app.base_url())).into_response(),
                hold_back,
            ))
        });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `PUT`, `POST` or `PATCH /webhooks/{id}`: `name`, `status`, `topic`, `delivery_url` and
/// `secret`, each changed only when given and not empty.
pub(super) async fn update(
    State(app): State<AppState>,
    Path(webhook_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result =
        admit_item(&app, &headers, &webhook_id, Access::Edit).and_then(|(id, hold_back)| {
            let object = object_body(body)?;
            let name = string_field(&object, "name")?.filter(|s| !s.is_empty());
            let status = status_field(&object)?;
            let topic = string_field(&object, "topic")?.filter(|s| !s.is_empty());
            let secret = string_field(&object, "secret")?.filter(|s| !s.is_empty());
            // `delivery_url` is read-only in the schema, so it is not type-checked: whatever is
            // given must be a URL.
            let delivery_url = match object.get("delivery_url") {
                None | Some(Value::Null) => None,
                Some(Value::String(url)) if url.is_empty() => None,
                Some(Value::String(url)) if is_valid_url(url) => Some(url.clone()),
                Some(_) => return Err(invalid_delivery_url()),
            };
            if app.with(|store| store.woocommerce.webhook(id)).is_none() {
                return Err(invalid_id_400());
            }
            let topic = match topic.map(|topic| topic.to_ascii_lowercase()) {
                Some(topic) if !is_valid_topic(&topic) => {
                    return Err(invalid_topic("Webhook topic must be valid."))
                }
                topic => topic,
            };
            let changes = WebhookChanges {
                name,
                status: status.map(str::to_owned),
                topic,
                delivery_url,
                secret,
            };
            let now = OffsetDateTime::now_utc();
            let webhook = app
                .with(|store| store.woocommerce.update_webhook(id, changes, now))
                .ok_or_else(invalid_id_400)?;
            Ok(finish(
                Json(webhook_json(&webhook, app.base_url())).into_response(),
                hold_back,
            ))
        });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `DELETE /webhooks/{id}?force=true`: answers the webhook as it was.
pub(super) async fn delete(
    State(app): State<AppState>,
    Path(webhook_id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let result =
        admit_item(&app, &headers, &webhook_id, Access::Delete).and_then(|(id, hold_back)| {
            let Query(query) = query.map_err(|_| invalid_query())?;
            let force = match query.get("force").map(String::as_str) {
                None | Some("false" | "0" | "") => false,
                Some("true" | "1") => true,
                Some(_) => {
                    return Err(WcError::invalid_param(
                        "force",
                        "force is not of type boolean.".into(),
                    ))
                }
            };
            // Checked before the id: an unknown webhook without `force` is refused as a trash.
            if !force {
                return Err(WcError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "woocommerce_rest_trash_not_supported",
                    "Webhooks do not support trashing.",
                ));
            }
            let webhook = app
                .with(|store| store.woocommerce.delete_webhook(id))
                .ok_or_else(invalid_id_404)?;
            Ok(finish(
                Json(webhook_json(&webhook, app.base_url())).into_response(),
                hold_back,
            ))
        });
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A fault strikes first, then authentication.
fn admit_collection(
    app: &AppState,
    headers: &HeaderMap,
    access: Access,
) -> Result<Option<HoldBack>, WcError> {
    let hold_back = strike(app)?;
    authenticate(headers, access)?;
    Ok(hold_back)
}

/// A fault strikes first, then the route's id pattern (`\d+`), then authentication.
fn admit_item(
    app: &AppState,
    headers: &HeaderMap,
    webhook_id: &str,
    access: Access,
) -> Result<(u64, Option<HoldBack>), WcError> {
    let hold_back = strike(app)?;
    if webhook_id.is_empty() || !webhook_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(no_route());
    }
    authenticate(headers, access)?;
    // Digits too many for a u64 name no webhook, like 0.
    Ok((webhook_id.parse().unwrap_or(0), hold_back))
}

/// The webhook resource (v2/v3 `prepare_item_for_response`).
fn webhook_json(webhook: &Webhook, base_url: &str) -> Value {
    let created = wp_date(webhook.created);
    let modified = wp_date(webhook.modified);
    json!({
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource(),
        "event": webhook.event(),
        "hooks": webhook.hooks(),
        "delivery_url": webhook.delivery_url,
        "date_created": created,
        "date_created_gmt": created,
        "date_modified": modified,
        "date_modified_gmt": modified,
        "_links": {
            "self": [{ "href": format!("{base_url}{COLLECTION_PATH}/{}", webhook.id) }],
            "collection": [{ "href": format!("{base_url}{COLLECTION_PATH}") }],
        },
    })
}

/// `Link: <…?page=1>; rel="prev", <…?page=3>; rel="next"`, with the request's other query
/// parameters kept; `None` when there is no neighbouring page.
fn page_links(
    base_url: &str,
    query: &HashMap<String, String>,
    page: u64,
    pages: u64,
) -> Option<HeaderValue> {
    let link = |target: u64, rel: &str| {
        let mut url = reqwest::Url::parse(&format!("{base_url}{COLLECTION_PATH}")).ok()?;
        let kept: BTreeMap<&String, &String> =
            query.iter().filter(|(name, _)| *name != "page").collect();
        url.query_pairs_mut()
            .extend_pairs(kept)
            .append_pair("page", &target.to_string());
        Some(format!("<{url}>; rel=\"{rel}\""))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.extend(link((page - 1).min(pages), "prev"));
    }
    if pages > page {
        links.extend(link(page + 1, "next"));
    }
    if links.is_empty() {
        return None;
    }
    HeaderValue::from_str(&links.join(", ")).ok()
}

/// "Webhook created on May 01, 2026 @ 09:00 AM", WooCommerce's name for an unnamed webhook.
fn default_name(now: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[month repr:short] [day], [year] @ [hour repr:12]:[minute] [period]"
    );
    format!(
        "Webhook created on {}",
        now.format(&format).unwrap_or_default()
    )
}

/// A 50-character secret, as long as the one `wp_generate_password(50, true, true)` makes.
fn generate_secret() -> String {
    let mut secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    secret.truncate(50);
    secret
}

/// `wc_is_valid_url`: starts with `http://` or `https://` and is a URL (with a host).
fn is_valid_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && reqwest::Url::parse(url).is_ok_and(|parsed| parsed.host_str().is_some())
}

/// PHP's `! empty()`: neither absent, `null`, `false`, `0`, `""` nor `"0"`.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// An optional string argument (`null` counts as absent).
fn string_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, WcError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(WcError::invalid_param(
            name,
            format!("{name} is not of type string."),
        )),
    }
}

/// The optional `status` argument, one of [`WEBHOOK_STATUSES`] (the schema's enum).
fn status_field(object: &Map<String, Value>) -> Result<Option<&'static str>, WcError> {
    match object.get("status") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(status)) => WEBHOOK_STATUSES
            .iter()
            .find(|known| *known == status)
            .map(|known| Some(*known))
            .ok_or_else(|| not_one_of("status", &WEBHOOK_STATUSES)),
        Some(_) => Err(WcError::invalid_param(
            "status",
            "status is not of type string.".into(),
        )),
    }
}

/// An integer query parameter of at least 1 (and at most `max`).
fn integer_param(
    query: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: Option<u64>,
) -> Result<u64, WcError> {
    let Some(text) = query.get(name) else {
        return Ok(default);
    };
    let Ok(value) = text.trim().parse::<i64>() else {
        return Err(WcError::invalid_param(
            name,
            format!("{name} is not of type integer."),
        ));
    };
    match (u64::try_from(value), max) {
        (Ok(value), Some(max)) if (1..=max).contains(&value) => Ok(value),
        (Ok(value), None) if value >= 1 => Ok(value),
        (_, Some(max)) => Err(WcError::invalid_param(
            name,
            format!("{name} must be between 1 (inclusive) and {max} (inclusive)"),
        )),
        (_, None) => Err(WcError::invalid_param(
            name,
            format!("{name} must be greater than or equal to 1"),
        )),
    }
}

/// A query parameter with an enum of values.
fn enum_param<'a>(
    query: &HashMap<String, String>,
    name: &str,
    default: &'a str,
    allowed: &[&'a str],
) -> Result<&'a str, WcError> {
    match query.get(name) {
        None => Ok(default),
        Some(value) => allowed
            .iter()
            .find(|known| *known == value)
            .copied()
            .ok_or_else(|| not_one_of(name, allowed)),
    }
}

fn not_one_of(name: &str, allowed: &[&str]) -> WcError {
    WcError::invalid_param(
        name,
        format!("{name} is not one of {}.", super::wp_list(allowed)),
    )
}

fn invalid_query() -> WcError {
    WcError::new(
        StatusCode::BAD_REQUEST,
        "rest_invalid_param",
        "Invalid parameter(s): the query string",
    )
}

fn invalid_topic(message: &str) -> WcError {
    WcError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_shop_webhook_invalid_topic",
        message,
    )
}

fn invalid_delivery_url() -> WcError {
    WcError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    )
}

/// Reading or updating a webhook that does not exist.
fn invalid_id_400() -> WcError {
    WcError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_shop_webhook_invalid_id",
        "ID is invalid.",
    )
}

/// Deleting a webhook that does not exist, or reading id 0.
fn invalid_id_404() -> WcError {
    WcError::new(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_webhook_invalid_id",
        "Invalid ID.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_webhooks_are_named_by_their_date() {
        let at = OffsetDateTime::from_unix_timestamp(1_777_626_000).unwrap();
        assert_eq!(
            default_name(at),
            "Webhook created on May 01, 2026 @ 09:00 AM"
        );
    }

    #[test]
    fn generated_secrets_are_long_and_new() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 50);
        assert_ne!(secret, generate_secret());
    }

    #[test]
    fn delivery_urls_must_be_http_urls() {
        assert!(is_valid_url("https://example.com/hooks?x=1"));
        assert!(is_valid_url("http://127.0.0.1:8080/"));
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "https://",
            "HTTP://example.com",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }

    #[test]
    fn php_emptiness() {
        for set in [json!(1), json!("a"), json!(true), json!([0])] {
            assert!(is_set(&set), "{set}");
        }
        for empty in [
            json!(null),
            json!(0),
            json!(""),
            json!("0"),
            json!(false),
            json!([]),
        ] {
            assert!(!is_set(&empty), "{empty}");
        }
    }

    #[test]
    fn integer_params_have_wordpress_bounds() {
        let query = |value: &str| HashMap::from([("per_page".to_owned(), value.to_owned())]);
        let per_page = |value: &str| integer_param(&query(value), "per_page", 10, Some(100));
        assert_eq!(per_page("100").ok(), Some(100));
        assert_eq!(
            integer_param(&HashMap::new(), "per_page", 10, Some(100)).ok(),
            Some(10)
        );
        for bad in ["0", "101", "-1"] {
            assert_eq!(
                per_page(bad).err().and_then(|e| e.params),
                Some(
                    json!({ "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)" })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            per_page("ten").err().and_then(|e| e.params),
            Some(json!({ "per_page": "per_page is not of type integer." }))
        );
    }
}
