//! A fake of Twilio's Programmable Messaging API (2010-04-01), SMS and WhatsApp:
//!
//! * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form parameters `To`, `From`
//!   and/or `MessagingServiceSid`, `Body` (and `MediaUrl`, counted, never fetched): creates
//!   a Message, answering `201` with the Message resource;
//! * `GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`: that resource again.
//!
//! HTTP Basic auth with [`TWILIO_ACCOUNT_SID`] / [`TWILIO_AUTH_TOKEN`]. Errors have Twilio's
//! shape, `{"code", "message", "more_info", "status"}`, with its codes; the checks and
//! Twilio's magic test numbers are in [`validate::check`]. Messages are never sent anywhere:
//! they stay `queued` (or `accepted` when only a Messaging Service names the sender) and
//! are listed by [`crate::Sandbox::sms_messages`].

mod store;
mod validate;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) use store::TwilioStore;
pub use store::{TwilioChannel, TwilioMessageView};

use crate::faults::{HoldBack, Injected, Strike};
use crate::state::AppState;
use store::Message;
use validate::{MessageParams, TwilioError};

/// The sandbox's Twilio Account SID (fixed, so that no configuration is needed).
pub const TWILIO_ACCOUNT_SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The sandbox's Twilio Auth Token.
pub const TWILIO_AUTH_TOKEN: &str = "5a4db0c5a4db0c5a4db0c5a4db0c0ffe";

const API_VERSION: &str = "2010-04-01";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
            post(create_message),
        )
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages/{message}",
            get(fetch_message),
        )
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        if self.code == 20003 {
            body["detail"] = json!("Your AccountSid or AuthToken was incorrect.");
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

fn error(status: StatusCode, code: u32, message: impl Into<String>) -> TwilioError {
    TwilioError {
        status,
        code,
        message: message.into(),
    }
}

/// HTTP Basic `AccountSid:AuthToken`, for the account the path names.
fn authenticate(headers: &HeaderMap, account_sid: &str) -> Result<(), TwilioError> {
    let valid = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, credentials)| STANDARD.decode(credentials.trim()).ok())
        .is_some_and(|decoded| {
            decoded == format!("{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}").as_bytes()
        });
    if valid && account_sid == TWILIO_ACCOUNT_SID {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, 20003, "Authenticate"))
    }
}

fn message_uri(sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{sid}")
}

/// The Message resource, as Twilio renders it (counts are strings, dates RFC 2822).
fn resource(message: &Message) -> Value {
    let view = &message.view;
    // Formatting only fails for years outside 0..=9999, which `now_utc` never yields.
    let date = message.created.format(&Rfc2822).unwrap_or_default();
    let uri = message_uri(&view.sid);
    json!({
        "account_sid": TWILIO_ACCOUNT_SID,
        "api_version": API_VERSION,
        "body": view.body,
        "date_created": date,
        "date_sent": null,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": view.from,
        "messaging_service_sid": view.messaging_service_sid,
        "num_media": message.num_media.to_string(),
        "num_segments": message.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": view.sid,
        // A service picks the sender after the request: `accepted` until it has.
        "status": if view.from.is_some() { "queued" } else { "accepted" },
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": view.to,
        "uri": format!("{uri}.json"),
    })
}

/// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
async fn create_message(
    State(app): State<AppState>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    // Faults strike first, like an outage in front of the API.
    let hold_back = match app.with(|store| store.faults.twilio.strike()) {
        Some(Strike::ServerError) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            )
            .into_response()
        }
        Some(Strike::Injected(Injected::Unavailable)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                20503,
                "Service Unavailable",
            )
            .into_response()
        }
        Some(Strike::Injected(Injected::RateLimited)) => {
            return error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests").into_response()
        }
        Some(Strike::Injected(Injected::LoseResponse(delay))) => Some(HoldBack(delay)),
        None => None,
    };
    if let Err(error) = authenticate(&headers, &account_sid) {
        return error.into_response();
    }
    // Twilio reads form parameters only: a JSON (or unreadable) body has none, so it fails
    // on the first required one (21604).
    let pairs = form.map(|Form(pairs)| pairs).unwrap_or_default();
    let accepted = match validate::check(MessageParams::from_pairs(pairs)) {
        Ok(accepted) => accepted,
        Err(error) => return error.into_response(),
    };

    let message = Message {
        view: TwilioMessageView {
            sid: format!("SM{}", Uuid::new_v4().simple()),
            to: accepted.to,
            from: accepted.from,
            messaging_service_sid: accepted.messaging_service_sid,
            body: accepted.body,
            channel: accepted.channel,
        },
        num_segments: accepted.num_segments,
        num_media: accepted.num_media,
        created: OffsetDateTime::now_utc(),
    };
    let body = resource(&message);
    tracing::debug!(sid = %message.view.sid, channel = ?message.view.channel, "twilio message accepted");
    // Recorded before the response, so a held-back response still leaves the message sent.
    app.with(|store| store.twilio.insert(message));

    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(hold_back) = hold_back {
        response.extensions_mut().insert(hold_back);
    }
    response
}

/// `GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`.
async fn fetch_message(
    State(app): State<AppState>,
    Path((account_sid, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(error) = authenticate(&headers, &account_sid) {
        return error.into_response();
    }
    let found = message
        .strip_suffix(".json")
        .and_then(|sid| app.with(|store| store.twilio.get(sid).map(resource)));
    match found {
        Some(body) => Json(body).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            20404,
            format!(
                "The requested resource /{API_VERSION}/Accounts/{account_sid}/Messages/{message} was not found"
            ),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credentials_have_twilio_s_shapes() {
        assert!(validate::is_sid(TWILIO_ACCOUNT_SID, "AC"));
        assert_eq!(TWILIO_AUTH_TOKEN.len(), 32);
        assert!(TWILIO_AUTH_TOKEN.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn the_resource_renders_counts_as_strings_and_dates_as_rfc_2822() {
        let message = Message {
            view: TwilioMessageView {
                sid: "SM00000000000000000000000000000001".into(),
                to: "+14155550100".into(),
                from: Some("+14155550101".into()),
                messaging_service_sid: None,
                body: "hi".into(),
                channel: TwilioChannel::Sms,
            },
            num_segments: 1,
            num_media: 0,
            created: time::macros::datetime!(2010-08-13 01:16:24 UTC),
        };
        let body = resource(&message);
        assert_eq!(body["date_created"], "Fri, 13 Aug 2010 01:16:24 +0000");
        assert_eq!(body["num_segments"], "1");
        assert_eq!(body["status"], "queued");
        assert_eq!(
            body["uri"],
            format!(
                "/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/SM00000000000000000000000000000001.json"
            )
        );
    }
}
