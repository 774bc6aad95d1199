//! Signed status webhooks: every status change of a task (not its creation) becomes one
//! `task.status_changed` event, POSTed to the registered URL in the background and retried
//! with backoff until the receiver answers 2xx.
//!
//! Registration is `PUT`/`GET`/`DELETE /v1/webhook` (one webhook per sandbox); the events,
//! their headers and the signature are documented in `docs/sandbox-courier-api.md`.

use std::fmt;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::model::{Money, Task, TaskStatus};
use crate::error::{parse_json, ApiError};
use crate::state::AppState;

/// Carries the event id; the same on every attempt to deliver one event.
pub const WEBHOOK_EVENT_ID_HEADER: &str = "X-Sandbox-Event-Id";
/// Lower-case hex of HMAC-SHA256(secret, raw body).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "X-Sandbox-Signature";
/// The `type` of every event.
pub const TASK_STATUS_CHANGED: &str = "task.status_changed";

/// How often one event is tried at most, the first attempt included.
pub const WEBHOOK_MAX_ATTEMPTS: u32 = 8;
/// The wait before the first retry; it doubles after every failed retry ...
pub const WEBHOOK_FIRST_RETRY_DELAY: Duration = Duration::from_millis(50);
/// ... up to this.
pub const WEBHOOK_MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// How long one attempt may take before it counts as failed.
pub const WEBHOOK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The tariff behind an event's `delivery_cost`: a base price, in minor units ...
pub const TARIFF_BASE_MINOR: u64 = 490;
/// ... plus this for every started kilogram above the first.
pub const TARIFF_PER_EXTRA_KG_MINOR: u64 = 100;
/// The currency of the delivery cost when the task has no cash on delivery.
pub const TARIFF_DEFAULT_CURRENCY: &str = "EUR";

/// Where proof of delivery says the parcel was handed over when the destination has no
/// coordinates (Berlin, Alexanderplatz).
const FALLBACK_LOCATION: Location = Location {
    lat: 52.521_918,
    lng: 13.413_215,
};

const MILLIS_UTC: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// One attempt to deliver one event, as [`crate::Sandbox::webhook_deliveries`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveryView {
    pub event_id: String,
    pub task_id: String,
    /// The event's status, e.g. `picked_up`.
    pub status: String,
    pub sequence: u32,
    /// 1 for the first attempt, counting up on every retry.
    pub attempt: u32,
    pub outcome: WebhookOutcome,
}

/// What one delivery attempt got back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// The receiver answered with this HTTP status.
    HttpStatus(u16),
    /// No answer: connection refused, timeout, ...
    Error(String),
}

impl WebhookOutcome {
    /// A 2xx answer: the event is delivered and not tried again.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::HttpStatus(status) if (200..300).contains(status))
    }
}

/// The registered receiver.
#[derive(Clone)]
struct Registration {
    url: String,
    secret: String,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The webhook registration and the log of delivery attempts.
#[derive(Debug, Default)]
pub(crate) struct WebhookStore {
    registration: Option<Registration>,
    deliveries: Vec<WebhookDeliveryView>,
    /// Built on first use and shared by every delivery.
    client: Option<reqwest::Client>,
}

/// Why a registration is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum RegistrationError {
    #[error("url must be an absolute http:// or https:// URL")]
    Url,
    #[error("secret is required and must not be blank")]
    Secret,
}

impl RegistrationError {
    fn field(&self) -> &'static str {
        match self {
            Self::Url => "url",
            Self::Secret => "secret",
        }
    }
}

impl WebhookStore {
    /// Registers `url`, replacing any registered webhook.
    pub(crate) fn register(
        &mut self,
        url: String,
        secret: String,
    ) -> Result<(), RegistrationError> {
        let parsed = reqwest::Url::parse(&url).map_err(|_| RegistrationError::Url)?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(RegistrationError::Url);
        }
        if secret.trim().is_empty() {
            return Err(RegistrationError::Secret);
        }
        self.registration = Some(Registration { url, secret });
        Ok(())
    }

    pub(crate) fn unregister(&mut self) {
        self.registration = None;
    }

    pub(crate) fn url(&self) -> Option<&str> {
        self.registration.as_ref().map(|r| r.url.as_str())
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDeliveryView> {
        self.deliveries.clone()
    }

    /// The event for the status `task` has just moved to, signed for the registered
    /// webhook; `None` if no webhook is registered.
    pub(crate) fn prepare(&self, task: &Task, base_url: &str) -> Option<Outgoing> {
        let registration = self.registration.clone()?;
        let event_id = format!("evt_{}", Uuid::new_v4().simple());
        let event = status_event(&event_id, task, base_url);
        // Serialising plain strings, numbers and options cannot fail.
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let signature = sign(&registration.secret, &body);
        let sequence = event.sequence;
        Some(Outgoing {
            url: registration.url,
            event_id,
            task_id: task.id.clone(),
            status: task.status.as_str(),
            sequence,
            body,
            signature,
        })
    }

    fn client(&mut self) -> Result<reqwest::Client, String> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_ATTEMPT_TIMEOUT)
            // A redirect is an answer like any other non-2xx one: retried, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| error_text(&error))?;
        self.client = Some(client.clone());
        Ok(client)
    }
}

/// A signed event waiting to be delivered.
#[derive(Debug)]
pub(crate) struct Outgoing {
    url: String,
    event_id: String,
    task_id: String,
    status: &'static str,
    sequence: u32,
    body: Vec<u8>,
    signature: String,
}

/// Delivers `outgoing` in the background; the caller does not wait.
pub(crate) fn dispatch(app: &AppState, outgoing: Option<Outgoing>) {
    if let Some(outgoing) = outgoing {
        tokio::spawn(deliver(app.clone(), outgoing));
    }
}

/// Tries until a 2xx answer or [`WEBHOOK_MAX_ATTEMPTS`], logging every attempt.
async fn deliver(app: AppState, outgoing: Outgoing) {
    let client = app.with(|store| store.webhooks.client());
    let body = Bytes::from(outgoing.body);
    let mut delay = WEBHOOK_FIRST_RETRY_DELAY;
    for attempt in 1..=WEBHOOK_MAX_ATTEMPTS {
        let outcome = match &client {
            Ok(client) => match client
                .post(&outgoing.url)
                .header(header::CONTENT_TYPE, "application/json")
                .header(WEBHOOK_EVENT_ID_HEADER, &outgoing.event_id)
                .header(WEBHOOK_SIGNATURE_HEADER, &outgoing.signature)
                .body(body.clone())
                .send()
                .await
            {
                Ok(response) => WebhookOutcome::HttpStatus(response.status().as_u16()),
                Err(error) => WebhookOutcome::Error(error_text(&error)),
            },
            Err(error) => WebhookOutcome::Error(error.clone()),
        };
        let delivered = outcome.is_success();
        tracing::debug!(
            event_id = %outgoing.event_id,
            attempt,
            ?outcome,
            "courier webhook delivery attempt"
        );
        let view = WebhookDeliveryView {
            event_id: outgoing.event_id.clone(),
            task_id: outgoing.task_id.clone(),
            status: outgoing.status.to_owned(),
            sequence: outgoing.sequence,
            attempt,
            outcome,
        };
        app.with(|store| store.webhooks.deliveries.push(view));
        if delivered || attempt == WEBHOOK_MAX_ATTEMPTS {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(WEBHOOK_MAX_RETRY_DELAY);
    }
}

/// The error and its causes: reqwest's top-level message alone rarely says what failed.
pub(crate) fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Lower-case hex of HMAC-SHA256 keyed with the secret's bytes, over the raw body.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The body of one event, field for field as documented.
#[derive(Debug, Serialize)]
struct StatusChangedEvent<'a> {
    event_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    task_id: &'a str,
    reference: &'a str,
    tracking_number: &'a str,
    tracking_url: &'a str,
    status: &'static str,
    driver_id: Option<&'a str>,
    sequence: u32,
    occurred_at: String,
    eta: Option<String>,
    failure: Option<FailureBody<'a>>,
    proof: Option<Proof>,
    cod_collected: Option<Money>,
    delivery_cost: Option<Money>,
}

#[derive(Debug, Serialize)]
struct FailureBody<'a> {
    reason: &'a str,
    notes: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Proof {
    recipient_name: String,
    signature_url: String,
    photo_urls: Vec<String>,
    location: Location,
    completed_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
struct Location {
    lat: f64,
    lng: f64,
}

fn status_event<'a>(event_id: &'a str, task: &'a Task, base_url: &str) -> StatusChangedEvent<'a> {
    let status = task.status;
    // The change just made is the last history entry; `created` is the first and no event.
    let occurred = task
        .status_history
        .last()
        .map_or_else(OffsetDateTime::now_utc, |change| change.at);
    let sequence = u32::try_from(task.status_history.len().saturating_sub(1)).unwrap_or(u32::MAX);
    let eta =
        eta_minutes(status).map(|minutes| millis(occurred + time::Duration::minutes(minutes)));
    let failure = match status {
        TaskStatus::Failed | TaskStatus::Returned => {
            task.failure.as_ref().map(|failure| FailureBody {
                reason: &failure.reason,
                notes: failure.notes.as_deref(),
            })
        }
        _ => None,
    };
    let delivered = status == TaskStatus::Delivered;
    let proof = delivered.then(|| proof(task, base_url, occurred));
    let cod_collected = if delivered {
        task.delivery.cash_on_delivery.as_ref().map(|cod| Money {
            amount_minor: task.cod_collected_minor.unwrap_or(cod.amount_minor),
            currency: cod.currency.clone(),
        })
    } else {
        None
    };
    let delivery_cost = matches!(
        status,
        TaskStatus::Delivered | TaskStatus::Failed | TaskStatus::Returned
    )
    .then(|| delivery_cost(task));

    StatusChangedEvent {
        event_id,
        kind: TASK_STATUS_CHANGED,
        task_id: &task.id,
        reference: &task.reference,
        tracking_number: &task.tracking_number,
        tracking_url: &task.tracking_url,
        status: status.as_str(),
        driver_id: task.driver_id.as_deref(),
        sequence,
        occurred_at: millis(occurred),
        eta,
        failure,
        proof,
        cod_collected,
        delivery_cost,
    }
}

/// How long after the change the driver expects to arrive, for the statuses with an ETA.
fn eta_minutes(status: TaskStatus) -> Option<i64> {
    match status {
        TaskStatus::Assigned => Some(240),
        TaskStatus::PickedUp => Some(120),
        TaskStatus::OutForDelivery => Some(30),
        _ => None,
    }
}

fn proof(task: &Task, base_url: &str, completed: OffsetDateTime) -> Proof {
    let destination = &task.delivery.destination;
    let location = match (destination.latitude, destination.longitude) {
        (Some(lat), Some(lng)) => Location { lat, lng },
        _ => FALLBACK_LOCATION,
    };
    let proof_base = format!("{base_url}/proof/{}", task.id);
    Proof {
        recipient_name: task.delivery.recipient.name.clone(),
        signature_url: format!("{proof_base}/signature.png"),
        photo_urls: vec![format!("{proof_base}/photo-1.jpg")],
        location,
        completed_at: millis(completed),
    }
}

/// [`TARIFF_BASE_MINOR`] plus [`TARIFF_PER_EXTRA_KG_MINOR`] per started kilogram above the
/// first (no weight: the base price), in the cash-on-delivery currency, else
/// [`TARIFF_DEFAULT_CURRENCY`].
fn delivery_cost(task: &Task) -> Money {
    let grams = task.delivery.parcel.weight_grams.unwrap_or(0);
    let extra_kg = grams.saturating_sub(1000).div_ceil(1000);
    Money {
        amount_minor: TARIFF_BASE_MINOR + extra_kg * TARIFF_PER_EXTRA_KG_MINOR,
        currency: task.delivery.cash_on_delivery.as_ref().map_or_else(
            || TARIFF_DEFAULT_CURRENCY.to_owned(),
            |cod| cod.currency.clone(),
        ),
    }
}

/// RFC 3339, UTC, milliseconds: `2026-05-01T09:30:00.123Z`.
fn millis(at: OffsetDateTime) -> String {
    // Formatting only fails for years outside 0..=9999, which `now_utc` never yields.
    at.to_offset(UtcOffset::UTC)
        .format(MILLIS_UTC)
        .unwrap_or_default()
}

/// `PUT /v1/webhook` body.
#[derive(Debug, Deserialize)]
struct WebhookRequest {
    url: Option<String>,
    secret: Option<String>,
}

/// What `PUT` and `GET /v1/webhook` answer: the secret is never echoed.
#[derive(Debug, Serialize)]
pub(super) struct WebhookBody {
    url: String,
}

/// `PUT /v1/webhook`: registers (or replaces) the webhook.
pub(super) async fn put_webhook(
    State(app): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<WebhookBody>, ApiError> {
    let WebhookRequest { url, secret } = parse_json(&body?)?;
    let url = url.ok_or_else(|| ApiError::invalid("url", "url is required"))?;
    let secret = secret.ok_or_else(|| ApiError::invalid("secret", "secret is required"))?;
    app.with(|store| store.webhooks.register(url.clone(), secret))
        .map_err(|error| ApiError::invalid(error.field(), error.to_string()))?;
    Ok(Json(WebhookBody { url }))
}

/// `GET /v1/webhook`.
pub(super) async fn get_webhook(
    State(app): State<AppState>,
) -> Result<Json<WebhookBody>, ApiError> {
    app.with(|store| store.webhooks.url().map(str::to_owned))
        .map(|url| Json(WebhookBody { url }))
        .ok_or_else(|| ApiError::NotFound("no webhook is registered".into()))
}

/// `DELETE /v1/webhook`: idempotent.
pub(super) async fn delete_webhook(State(app): State<AppState>) -> StatusCode {
    app.with(|store| store.webhooks.unregister());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courier::model::{
        Delivery, Destination, FailedAttempt, Parcel, Recipient, StatusChange,
    };

    fn task(status: TaskStatus, weight_grams: Option<u64>, cod: Option<Money>) -> Task {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_234);
        Task {
            id: "tsk_1".into(),
            reference: "ref-1".into(),
            tracking_number: "SBX0000000001".into(),
            tracking_url: "http://x/track/SBX0000000001".into(),
            status,
            created_at: at,
            delivery: Delivery {
                recipient: Recipient {
                    name: "Steve Shipper".into(),
                    phone: Some("+14155550100".into()),
                    email: None,
                    alternate_contact: None,
                },
                destination: Destination {
                    line1: "1 Road".into(),
                    line2: None,
                    city: "Berlin".into(),
                    region: None,
                    postal_code: None,
                    country_code: "DE".into(),
                    latitude: None,
                    longitude: None,
                },
                parcel: Parcel {
                    pieces: 1,
                    weight_grams,
                },
                cash_on_delivery: cod,
                notes: None,
                complete_after: None,
                complete_before: None,
                service: None,
            },
            updates: 0,
            status_history: vec![
                StatusChange {
                    status: TaskStatus::Created,
                    at,
                },
                StatusChange { status, at },
            ],
            failure: None,
            cod_collected_minor: None,
            driver_id: Some("drv_01".into()),
        }
    }

    fn eur(amount_minor: u64) -> Money {
        Money {
            amount_minor,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn the_tariff_charges_per_started_kilogram_above_the_first() {
        let cost = |grams| delivery_cost(&task(TaskStatus::Delivered, grams, None)).amount_minor;
        assert_eq!(cost(None), 490);
        assert_eq!(cost(Some(0)), 490);
        assert_eq!(cost(Some(1000)), 490);
        assert_eq!(cost(Some(1001)), 590);
        assert_eq!(cost(Some(2000)), 590);
        assert_eq!(cost(Some(2500)), 690);
        let usd = task(
            TaskStatus::Delivered,
            None,
            Some(Money {
                amount_minor: 1,
                currency: "USD".into(),
            }),
        );
        assert_eq!(delivery_cost(&usd).currency, "USD");
        assert_eq!(
            delivery_cost(&task(TaskStatus::Failed, None, None)).currency,
            "EUR"
        );
    }

    #[test]
    fn signatures_are_lower_case_hex_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn an_assigned_event_has_an_eta_and_nothing_else() {
        let task = task(TaskStatus::Assigned, None, Some(eur(100)));
        let event = serde_json::to_value(status_event("evt_1", &task, "http://x")).unwrap();
        assert_eq!(event["type"], "task.status_changed");
        assert_eq!(event["sequence"], 1);
        assert_eq!(event["occurred_at"], "1970-01-01T00:00:01.234Z");
        assert_eq!(event["eta"], "1970-01-01T04:00:01.234Z");
        for absent in ["failure", "proof", "cod_collected", "delivery_cost"] {
            assert!(event[absent].is_null(), "{absent}: {event}");
        }
    }

    #[test]
    fn a_delivered_event_carries_proof_cash_and_cost() {
        let mut task = task(TaskStatus::Delivered, Some(1200), Some(eur(5000)));
        task.cod_collected_minor = Some(4500);
        let event = serde_json::to_value(status_event("evt_1", &task, "http://x")).unwrap();
        assert!(event["eta"].is_null());
        assert_eq!(event["cod_collected"]["amount_minor"], 4500);
        // Who holds the cash: reconciliation is per driver.
        assert_eq!(event["driver_id"], "drv_01");
        assert_eq!(event["delivery_cost"]["amount_minor"], 590);
        assert_eq!(event["delivery_cost"]["currency"], "EUR");
        assert_eq!(
            event["proof"]["signature_url"],
            "http://x/proof/tsk_1/signature.png"
        );
        assert_eq!(event["proof"]["location"]["lat"], FALLBACK_LOCATION.lat);
        assert_eq!(event["proof"]["completed_at"], event["occurred_at"]);
    }

    #[test]
    fn failed_and_returned_events_carry_the_failure() {
        for status in [TaskStatus::Failed, TaskStatus::Returned] {
            let mut task = task(status, None, None);
            task.failure = Some(FailedAttempt {
                reason: "refused".into(),
                notes: None,
            });
            let event = serde_json::to_value(status_event("evt_1", &task, "http://x")).unwrap();
            assert_eq!(event["failure"]["reason"], "refused");
            assert!(event["failure"]["notes"].is_null());
            assert!(event["proof"].is_null());
            assert_eq!(event["delivery_cost"]["amount_minor"], 490);
        }
    }

    #[test]
    fn registrations_need_an_http_url_and_a_secret() {
        let mut store = WebhookStore::default();
        assert_eq!(
            store.register("ftp://x/hook".into(), "s".into()),
            Err(RegistrationError::Url)
        );
        assert_eq!(
            store.register("/hook".into(), "s".into()),
            Err(RegistrationError::Url)
        );
        assert_eq!(
            store.register("http://x/hook".into(), " ".into()),
            Err(RegistrationError::Secret)
        );
        assert_eq!(store.url(), None);
        assert_eq!(store.register("https://x/hook".into(), "s".into()), Ok(()));
        assert_eq!(store.url(), Some("https://x/hook"));
        assert!(!format!("{store:?}").contains("\"s\""));
    }
}
