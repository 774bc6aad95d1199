//! The sandbox courier's status webhooks (docs/sandbox-courier-api.md, "Webhooks"): one
//! signed POST per status change, with the proof of delivery, the cash collected and the
//! delivery cost on the events that carry them. A generic REST courier can send the same.
//!
//! Pure: no I/O, no clock. Intake verifies [`SIGNATURE_HEADER`] over the raw body and dedupes
//! on [`EVENT_ID_HEADER`]; status-sync calls [`parse`].

use crate::webhook::{delivery_id_is_key, DeliveryId, TopicSource, WebhookContract};
use domain::courier::{
    CourierEvent, EventKind, Failure, LocationSource, PodLocation, ProofOfDelivery,
};
use domain::error::{Classify, Transience};
use domain::{CourierKind, Money, ShipmentStatus};
use serde::Deserialize;

/// Lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook secret.
pub const SIGNATURE_HEADER: &str = "x-sandbox-signature";
/// Stable across the courier's retries of one event.
pub const EVENT_ID_HEADER: &str = "x-sandbox-event-id";
pub const EVENT_TYPE: &str = "task.status_changed";

/// How the sandbox courier signs and labels its webhooks.
pub static WEBHOOK: WebhookContract = WebhookContract {
    signature_header: SIGNATURE_HEADER,
    verify: verify_signature,
    topic: TopicSource::Body(event_type),
    delivery_id: DeliveryId::Header(EVENT_ID_HEADER),
    triggered_at_header: None,
    acts_on: |kind| kind == EVENT_TYPE,
    dedupe_key: delivery_id_is_key,
    unsigned_ping: None,
    handshake: None,
};

/// Checks `X-Sandbox-Signature`; a blank secret never verifies.
pub fn verify_signature(secret: &str, body: &[u8], signature_hex: &str) -> bool {
    !secret.trim().is_empty()
        && crate::signature::verify_hex_hmac_sha256(secret.as_bytes(), body, signature_hex)
}

/// The event's `type`, read without trusting the rest of the body.
pub fn event_type(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("type")?
        .as_str()
        .map(str::to_owned)
}

#[derive(Debug, Deserialize)]
struct Payload {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    task_id: String,
    reference: Option<String>,
    tracking_url: Option<String>,
    status: String,
    /// The driver the task is assigned to (absent before assignment).
    driver_id: Option<String>,
    sequence: u64,
    occurred_at: String,
    eta: Option<String>,
    failure: Option<WireFailure>,
    proof: Option<WireProof>,
    cod_collected: Option<WireMoney>,
    delivery_cost: Option<WireMoney>,
}

#[derive(Debug, Deserialize)]
struct WireFailure {
    reason: Option<String>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireProof {
    recipient_name: Option<String>,
    signature_url: Option<String>,
    #[serde(default)]
    photo_urls: Vec<String>,
    location: Option<WireLocation>,
    completed_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireLocation {
    lat: f64,
    lng: f64,
}

#[derive(Debug, Deserialize)]
struct WireMoney {
    amount_minor: i64,
    currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("sandbox webhook is not a status event: {0}")]
    Malformed(String),
    #[error("sandbox webhook has unknown status {0:?}")]
    UnknownStatus(String),
    #[error("sandbox webhook type {0:?} is not a task status change")]
    NotAStatusEvent(String),
}

impl WebhookError {
    /// A well-formed event of a type added after this code: acknowledge and drop.
    pub fn is_ignorable(&self) -> bool {
        matches!(self, WebhookError::NotAStatusEvent(_))
    }
}

impl Classify for WebhookError {
    fn transience(&self) -> Transience {
        Transience::Permanent
    }
}

/// Reads a verified webhook body into a [`CourierEvent`]. Never panics.
pub fn parse(body: &[u8]) -> Result<CourierEvent, WebhookError> {
    let payload: Payload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if payload.kind != EVENT_TYPE {
        return Err(WebhookError::NotAStatusEvent(payload.kind));
    }
    let time_ms = ms(&payload.occurred_at)
        .ok_or_else(|| WebhookError::Malformed(format!("occurred_at {:?}", payload.occurred_at)))?;
    let (kind, status) = match payload.status.as_str() {
        "assigned" => (EventKind::Assigned, ShipmentStatus::Assigned),
        "picked_up" => (EventKind::Started, ShipmentStatus::PickedUp),
        "out_for_delivery" => (EventKind::Started, ShipmentStatus::OutForDelivery),
        "delivered" => (EventKind::Completed, ShipmentStatus::Delivered),
        "failed" => (EventKind::Failed, ShipmentStatus::Failed),
        "returned" => (EventKind::Returned, ShipmentStatus::Returned),
        "cancelled" => (EventKind::Deleted, ShipmentStatus::Cancelled),
        other => return Err(WebhookError::UnknownStatus(other.to_owned())),
    };
    let money = |m: Option<WireMoney>| -> Result<Option<Money>, WebhookError> {
        m.map(|m| {
            Ok(Money {
                minor: m.amount_minor,
                currency: m
                    .currency
                    .parse()
                    .map_err(|e| WebhookError::Malformed(format!("{e}")))?,
            })
        })
        .transpose()
    };
    let proof = payload.proof.map(|p| ProofOfDelivery {
        signature_upload_id: p.signature_url,
        photo_upload_ids: p.photo_urls,
        signature_text: None,
        recipient_name: p.recipient_name,
        notes: None,
        location: p
            .location
            .filter(|l| l.lat.is_finite() && l.lng.is_finite())
            .map(|l| PodLocation {
                lng: l.lng,
                lat: l.lat,
                source: LocationSource::DriverAtCompletion,
            }),
        completed_at_ms: p.completed_at.as_deref().and_then(ms),
    });
    Ok(CourierEvent {
        courier: CourierKind::Sandbox,
        courier_event: format!("{}#{}", payload.status, payload.sequence),
        kind,
        task_id: payload.task_id,
        reference: payload.reference.filter(|r| !r.is_empty()),
        time_ms: Some(time_ms),
        status: Some(status),
        failure: payload.failure.map(|f| Failure {
            reason: f.reason,
            notes: f.notes,
        }),
        proof,
        eta_ms: payload.eta.as_deref().and_then(ms),
        tracking_url: payload.tracking_url,
        worker_id: payload.driver_id.filter(|d| !d.is_empty()),
        cod_collected: money(payload.cod_collected)?,
        delivery_cost: money(payload.delivery_cost)?,
    })
    .map(|mut e: CourierEvent| {
        // The event id names the delivery in logs; intake already deduped on it.
        e.courier_event = format!("{} ({})", e.courier_event, payload.event_id);
        e
    })
}

fn ms(text: &str) -> Option<i64> {
    domain::clock::parse_time(text).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(status: &str) -> Vec<u8> {
        json!({
            "event_id": "evt_1", "type": "task.status_changed", "task_id": "tsk_1",
            "reference": "shopify:shop:1:1", "tracking_number": "SBX1",
            "tracking_url": "http://x/track/SBX1", "status": status, "sequence": 4,
            "occurred_at": "2026-11-24T10:00:00.250Z", "eta": null,
            "failure": null,
            "proof": {"recipient_name": "Ann", "signature_url": "http://x/s.png",
                      "photo_urls": ["http://x/p.jpg"], "location": {"lat": 52.5, "lng": 13.4},
                      "completed_at": "2026-11-24T10:00:00Z"},
            "cod_collected": {"amount_minor": 1250, "currency": "EUR"},
            "delivery_cost": {"amount_minor": 590, "currency": "EUR"}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_delivery_carries_its_proof_cash_and_cost() {
        let e = parse(&body("delivered")).unwrap();
        assert_eq!(e.status, Some(ShipmentStatus::Delivered));
        assert_eq!(e.time_ms, Some(1_795_514_400_250));
        assert_eq!(e.reference.as_deref(), Some("shopify:shop:1:1"));
        assert_eq!(e.cod_collected.map(|m| m.minor), Some(1250));
        assert_eq!(e.delivery_cost.map(|m| m.currency.code()), Some("EUR"));
        let proof = e.proof.unwrap();
        assert_eq!(proof.recipient_name.as_deref(), Some("Ann"));
        assert_eq!(proof.location.map(|l| l.lat), Some(52.5));
    }

    #[test]
    fn every_documented_status_maps_and_others_are_refused() {
        for (wire, status) in [
            ("assigned", ShipmentStatus::Assigned),
            ("picked_up", ShipmentStatus::PickedUp),
            ("out_for_delivery", ShipmentStatus::OutForDelivery),
            ("failed", ShipmentStatus::Failed),
            ("returned", ShipmentStatus::Returned),
            ("cancelled", ShipmentStatus::Cancelled),
        ] {
            assert_eq!(parse(&body(wire)).unwrap().status, Some(status), "{wire}");
        }
        assert_eq!(
            parse(&body("teleported")),
            Err(WebhookError::UnknownStatus("teleported".into()))
        );
        assert!(matches!(parse(b"{}"), Err(WebhookError::Malformed(_))));
        let other = String::from_utf8(body("assigned"))
            .unwrap()
            .replace("task.status_changed", "driver.shift_started");
        assert!(parse(other.as_bytes()).unwrap_err().is_ignorable());
    }

    #[test]
    fn a_bad_currency_or_time_is_malformed_not_a_panic() {
        let bad = String::from_utf8(body("delivered")).unwrap();
        assert!(matches!(
            parse(bad.replace("\"EUR\"", "\"EURO\"").as_bytes()),
            Err(WebhookError::Malformed(_))
        ));
        assert!(matches!(
            parse(
                bad.replace("2026-11-24T10:00:00.250Z", "yesterday")
                    .as_bytes()
            ),
            Err(WebhookError::Malformed(_))
        ));
    }
}
