//! A fake of Onfleet's webhooks API (<https://docs.onfleet.com/reference/webhooks>), under
//! `/api/v2` (Onfleet's `https://onfleet.com/api/v2`):
//!
//! * `GET /api/v2/auth/test`: whether the key is good;
//! * `GET /api/v2/webhooks`: every webhook, oldest first;
//! * `POST /api/v2/webhooks` (`{"url", "trigger", "name"?, "threshold"?}`): checks the URL
//!   as Onfleet does (<https://docs.onfleet.com/reference/validation>), then creates the
//!   webhook;
//! * `DELETE /api/v2/webhooks/{id}`: `200` with no body.
//!
//! Authentication is HTTP Basic with [`ONFLEET_API_KEY`] as the user name and no password.
//! Errors have Onfleet's shape, `{"code", "message": {"error", "message", "cause"?,
//! "request"}}`. Webhooks are never delivered; they are listed by
//! [`crate::Sandbox::onfleet_webhooks`].
//!
//! The URL check: before creating, the fake sends `GET <url>?check=<random value>` (the
//! value appended to any query the URL has) and creates the webhook only if the answer is
//! `200` with the value as its body (surrounding whitespace ignored). Redirects are not
//! followed, and the check gives up after [`CHECK_TIMEOUT`]. The store is not locked while
//! the check runs. As Onfleet does, a second webhook with the same URL and trigger is
//! allowed.

mod store;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub(crate) use store::OnfleetStore;
pub use store::OnfleetWebhookView;

use crate::courier::error_text;
use crate::state::AppState;
use store::{NewWebhook, Webhook};

/// The sandbox organization's API key (fixed, so that no configuration is needed): the user
/// name of HTTP Basic, with an empty password.
pub const ONFLEET_API_KEY: &str = "onfleet_sandbox_key";

/// The sandbox organization's id (24 characters, like Onfleet's).
const ORGANIZATION_ID: &str = "SbxOrgCourierBridge00001";

/// How long the URL check waits for the receiver's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The trigger numbers Onfleet has, 0 (`taskStarted`) to 17; 11 is unused.
fn is_trigger(trigger: u64) -> bool {
    trigger <= 17 && trigger != 11
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/auth/test", get(auth_test))
        .route("/api/v2/webhooks", get(list).post(create))
        .route("/api/v2/webhooks/{webhook_id}", delete(remove))
}

/// An Onfleet error.
#[derive(Debug)]
struct OnfleetError {
    status: StatusCode,
    code: &'static str,
    error: u32,
    message: String,
    cause: Option<String>,
}

impl OnfleetError {
    fn invalid_argument(message: impl Into<String>, cause: impl Into<String>) -> Self {
        OnfleetError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidArgument",
            error: 1000,
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    /// A parameter the request got wrong, in Onfleet's general words.
    fn invalid_parameter(cause: impl Into<String>) -> Self {
        Self::invalid_argument("The values of one or more parameters are invalid.", cause)
    }
}

impl IntoResponse for OnfleetError {
    fn into_response(self) -> Response {
        let mut message = json!({ "error": self.error, "message": self.message });
        if let Some(cause) = self.cause {
            message["cause"] = json!(cause);
        }
        // Onfleet names every request, so support can find it.
        message["request"] = json!(Uuid::new_v4().to_string());
        (
            self.status,
            Json(json!({ "code": self.code, "message": message })),
        )
            .into_response()
    }
}

/// HTTP Basic, the API key as the user name and an empty (or no) password.
fn authenticate(headers: &HeaderMap) -> Result<(), OnfleetError> {
    let valid = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, credentials)| STANDARD.decode(credentials.trim()).ok())
        .is_some_and(|decoded| {
            decoded == format!("{ONFLEET_API_KEY}:").as_bytes()
                || decoded == ONFLEET_API_KEY.as_bytes()
        });
    if valid {
        Ok(())
    } else {
        Err(OnfleetError {
            status: StatusCode::UNAUTHORIZED,
            code: "InvalidCredentials",
            error: 1102,
            message: "The API key is invalid.".to_owned(),
            cause: None,
        })
    }
}

fn webhook_json(webhook: &Webhook) -> Value {
    let view = &webhook.view;
    let mut json = json!({
        "id": view.id,
        "count": 0,
        "url": view.url,
        "trigger": view.trigger,
        "isEnabled": true,
        "name": view.name,
    });
    if let Some(threshold) = webhook.threshold {
        json["threshold"] = json!(threshold);
    }
    json
}

/// `GET /api/v2/auth/test`.
async fn auth_test(headers: HeaderMap) -> Response {
    match authenticate(&headers) {
        Ok(()) => Json(json!({
            "message": format!("Hello organization {ORGANIZATION_ID}, you have been authenticated!")
        }))
        .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /api/v2/webhooks`.
async fn list(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = authenticate(&headers) {
        return error.into_response();
    }
    let webhooks = app.with(|store| store.onfleet.webhooks());
    Json(webhooks.iter().map(webhook_json).collect::<Vec<_>>()).into_response()
}

/// `POST /api/v2/webhooks`.
async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match try_create(&app, &headers, body).await {
        Ok(webhook) => Json(webhook_json(&webhook)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn try_create(
    app: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Webhook, OnfleetError> {
    authenticate(headers)?;
    let object = body
        .ok()
        .and_then(|body| serde_json::from_slice::<Map<String, Value>>(&body).ok())
        .ok_or_else(|| OnfleetError::invalid_parameter("The body must be a JSON object."))?;
    let new = new_webhook(&object)?;
    let client = app
        .with(|store| {
            store.onfleet.client(|| {
                reqwest::Client::builder()
                    .timeout(CHECK_TIMEOUT)
                    // A redirect is not the check value.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
            })
        })
        .map_err(|error| OnfleetError::invalid_argument(CHECK_FAILED, error_text(&error)))?;
    // The lock is released: the receiver may take its time, or call the sandbox itself.
    check_url(&client, &new.url).await?;
    Ok(app.with(|store| store.onfleet.add(new)))
}

/// The body's fields, checked: `url` absolute http(s), `trigger` one of Onfleet's, `name` a
/// string, `threshold` a whole number.
fn new_webhook(object: &Map<String, Value>) -> Result<NewWebhook, OnfleetError> {
    let url = match object.get("url") {
        Some(Value::String(url)) if is_http_url(url) => url.clone(),
        Some(other) => {
            return Err(OnfleetError::invalid_parameter(format!(
                "url must be an absolute http:// or https:// URL, not {other}"
            )))
        }
        None => return Err(OnfleetError::invalid_parameter("url is required.")),
    };
    let trigger = match object.get("trigger") {
        Some(Value::Number(n)) => match n.as_u64().filter(|t| is_trigger(*t)) {
            Some(trigger) => trigger,
            None => {
                return Err(OnfleetError::invalid_parameter(format!(
                    "trigger {n} is not a webhook trigger (0 to 17, except 11)."
                )))
            }
        },
        Some(other) => {
            return Err(OnfleetError::invalid_parameter(format!(
                "trigger must be a number, not {other}"
            )))
        }
        None => return Err(OnfleetError::invalid_parameter("trigger is required.")),
    };
    let name = match object.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(other) => {
            return Err(OnfleetError::invalid_parameter(format!(
                "name must be a string, not {other}"
            )))
        }
    };
    let threshold = match object.get("threshold") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(other) => {
            return Err(OnfleetError::invalid_parameter(format!(
                "threshold must be a whole number, not {other}"
            )))
        }
    };
    Ok(NewWebhook {
        url,
        // At most 17, checked above.
        trigger: u8::try_from(trigger).unwrap_or(u8::MAX),
        name,
        threshold,
    })
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

const CHECK_FAILED: &str =
    "Webhook validation failed: the URL must respond to a GET with the check value.";

/// Onfleet's URL check: `GET <url>?check=<value>` must answer `200` with the value.
async fn check_url(client: &reqwest::Client, url: &str) -> Result<(), OnfleetError> {
    let failed = |cause: String| OnfleetError::invalid_argument(CHECK_FAILED, cause);
    let mut check = reqwest::Url::parse(url).map_err(|error| failed(error.to_string()))?;
    let value = Uuid::new_v4().simple().to_string();
    check.query_pairs_mut().append_pair("check", &value);
    let response = client
        .get(check.clone())
        .send()
        .await
        .map_err(|error| failed(format!("GET {check} failed: {}", error_text(&error))))?;
    let status = response.status();
    let body = response.text().await.map_err(|error| {
        failed(format!(
            "GET {check}: the body could not be read: {}",
            error_text(&error)
        ))
    })?;
    if status != reqwest::StatusCode::OK {
        return Err(failed(format!(
            "GET {check} answered {status}, not 200 OK."
        )));
    }
    if body.trim() != value {
        let mut shown: String = body.chars().take(100).collect();
        if shown.len() < body.len() {
            shown.push('…');
        }
        return Err(failed(format!(
            "GET {check} answered 200 with {shown:?}, not the check value."
        )));
    }
    Ok(())
}

/// `DELETE /api/v2/webhooks/{id}`.
async fn remove(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
) -> Response {
    if let Err(error) = authenticate(&headers) {
        return error.into_response();
    }
    if app.with(|store| store.onfleet.delete(&webhook_id)) {
        StatusCode::OK.into_response()
    } else {
        OnfleetError {
            status: StatusCode::NOT_FOUND,
            code: "ResourceNotFound",
            error: 1402,
            message: "The requested resource does not exist.".to_owned(),
            cause: Some(format!("Webhook {webhook_id} was not found.")),
        }
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: Value) -> Result<NewWebhook, OnfleetError> {
        match body {
            Value::Object(object) => new_webhook(&object),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn triggers_are_onfleets_numbers() {
        let valid: Vec<u64> = (0..=20).filter(|t| is_trigger(*t)).collect();
        assert_eq!(valid.len(), 17);
        assert!(!valid.contains(&11) && valid.contains(&17) && !valid.contains(&18));
    }

    #[test]
    fn fields_are_checked() {
        let ok =
            fields(json!({ "url": "https://example.com/h?a=1", "trigger": 9, "threshold": 300 }));
        assert_eq!(
            ok.ok(),
            Some(NewWebhook {
                url: "https://example.com/h?a=1".into(),
                trigger: 9,
                name: None,
                threshold: Some(300),
            })
        );
        for bad in [
            json!({ "trigger": 9 }),
            json!({ "url": "example.com/h", "trigger": 9 }),
            json!({ "url": "ftp://example.com/h", "trigger": 9 }),
            json!({ "url": "https://example.com/h" }),
            json!({ "url": "https://example.com/h", "trigger": 11 }),
            json!({ "url": "https://example.com/h", "trigger": 18 }),
            json!({ "url": "https://example.com/h", "trigger": -1 }),
            json!({ "url": "https://example.com/h", "trigger": "3" }),
            json!({ "url": "https://example.com/h", "trigger": 3, "name": 5 }),
            json!({ "url": "https://example.com/h", "trigger": 3, "threshold": 1.5 }),
        ] {
            let error = fields(bad.clone()).err();
            assert_eq!(error.map(|e| e.code), Some("InvalidArgument"), "{bad}");
        }
    }

    #[test]
    fn the_key_is_the_user_name_with_no_password() {
        let headers = |user: &str, password: Option<&str>| {
            reqwest::Client::new()
                .get("http://127.0.0.1/")
                .basic_auth(user, password)
                .build()
                .unwrap()
                .headers()
                .clone()
        };
        assert!(authenticate(&headers(ONFLEET_API_KEY, Some(""))).is_ok());
        assert!(authenticate(&headers(ONFLEET_API_KEY, None)).is_ok());
        assert!(authenticate(&headers(ONFLEET_API_KEY, Some("x"))).is_err());
        assert!(authenticate(&headers("other", Some(""))).is_err());
        assert!(authenticate(&HeaderMap::new()).is_err());
    }
}
