//! The generic API's write-back: a signed `shipment.tracking` event POSTed to the store's
//! `callback_url` (documented as the `shipmentTracking` webhook of `docs/api/openapi.yaml`),
//! then a signed `shipment.status_changed` event for each delivery status (the
//! `shipmentStatusChanged` webhook): assigned, picked_up, out_for_delivery, delivered,
//! failed, returned, with when it happened, the ETA, the failure and the proof of delivery.
//! Other statuses (a cancellation is the store's own act) are not sent.
//!
//! Callbacks are signed like the store's own events (same secret, same headers), so a
//! store verifies both directions with one function. Their event id is derived from the
//! shipment key and the tracking number, or the status: every retry sends the same bytes
//! under the same id, and the store's deduplication on that id is what makes a retry after
//! an unknown outcome safe (we cannot look at the store before writing, as the other
//! channels do). A store without a `callback_url` wants nothing written, and that is not an
//! error.

use crate::http::{self, Effect};
use channels::api::{
    sign, EVENT_ID_HEADER, SCHEMA_VERSION, SENT_AT_HEADER, SIGNATURE_HEADER, TOPIC_HEADER,
};
use domain::courier::{Failure, LocationSource, ProofOfDelivery};
use domain::ports::StoreWriter;
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{PartnerError, ShipmentKey, ShipmentStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(crate) const PARTNER: &str = "api";

/// A callback that cannot be made for this shipment (an event that does not serialize, a
/// time out of range): retrying cannot help.
fn refused(message: String) -> PartnerError {
    PartnerError::rejected(PARTNER, "refused", message)
}

/// The topic (header) and `event` (body) of the tracking callback.
pub const TRACKING_TOPIC: &str = "shipment.tracking";

/// The topic (header) and `event` (body) of the status callback.
pub const STATUS_TOPIC: &str = "shipment.status_changed";

/// The reference of a write-back to a store without a `callback_url`: nothing to write,
/// nothing to retry.
pub const NO_CALLBACK: &str = "no-callback";

/// What the store secret holds (Secrets Manager, `{prefix}api/{store}`).
#[derive(Clone, Deserialize)]
pub struct ApiCredentials {
    /// Keys the HMAC of the store's events and of our callbacks.
    pub signing_secret: String,
    /// Where tracking is POSTed; absent or blank: the store wants no callbacks.
    #[serde(default)]
    pub callback_url: Option<String>,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("callback_url", &self.callback_url.as_deref().map(redacted))
            .finish_non_exhaustive()
    }
}

/// A URL without its query, fragment and user info, which may hold tokens.
fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            // Fails only for URLs that cannot have user info, which then have none.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "<not a URL>".into(),
    }
}

/// The callback body, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub schema_version: String,
    /// Always [`TRACKING_TOPIC`].
    pub event: String,
    /// Also the `X-Courier-Bridge-Event-Id` header: the store's deduplication key.
    pub event_id: String,
    pub order_id: String,
    pub shipment_id: String,
    pub tracking: TrackingInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingInfo {
    pub number: String,
    pub url: Option<String>,
    /// The carrier name to show the customer.
    pub company: String,
}

impl TrackingEvent {
    pub fn new(key: &ShipmentKey, tracking: &Tracking) -> TrackingEvent {
        TrackingEvent {
            schema_version: SCHEMA_VERSION.to_owned(),
            event: TRACKING_TOPIC.to_owned(),
            event_id: tracking_event_id(key, &tracking.number),
            order_id: key.order_id.clone(),
            shipment_id: key.shipment_id.clone(),
            tracking: TrackingInfo {
                number: tracking.number.clone(),
                url: tracking.url.clone(),
                company: tracking.company.clone(),
            },
        }
    }
}

/// The status callback's body, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChangedEvent {
    pub schema_version: String,
    /// Always [`STATUS_TOPIC`].
    pub event: String,
    /// Also the `X-Courier-Bridge-Event-Id` header: the store's deduplication key.
    pub event_id: String,
    pub order_id: String,
    pub shipment_id: String,
    /// One of [`callback_status`]'s values.
    pub status: String,
    /// When the courier says it happened, RFC 3339 in UTC.
    pub happened_at: String,
    pub tracking: TrackingInfo,
    /// Expected arrival, RFC 3339 in UTC, when the courier gave one.
    pub eta: Option<String>,
    /// With `failed`, when the courier said why.
    pub failure: Option<FailureInfo>,
    /// With `delivered`.
    pub proof: Option<ProofInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureInfo {
    /// The courier's reason code (e.g. Onfleet's `failureReason`), as it sent it.
    pub reason: Option<String>,
    /// The driver's notes.
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofInfo {
    /// The courier's id of the signature image (fetched from the courier's API).
    pub signature_upload_id: Option<String>,
    /// The courier's ids of the delivery photos, in its order.
    pub photo_upload_ids: Vec<String>,
    /// The name the signer typed.
    pub signature_text: Option<String>,
    /// Whom the parcel was for (the task's recipient), not a verified receiver.
    pub recipient_name: Option<String>,
    /// The driver's completion notes.
    pub notes: Option<String>,
    pub location: Option<LocationInfo>,
    /// RFC 3339 in UTC.
    pub completed_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocationInfo {
    pub latitude: f64,
    pub longitude: f64,
    /// `driver_at_completion` (the driver's position), `completion_event` (the last event
    /// with one), or `destination` (where the parcel was to go, not a measured position).
    pub source: LocationSource,
}

/// The `status` a courier status is sent as, or `None` for statuses the store is not told
/// about.
pub fn callback_status(status: ShipmentStatus) -> Option<&'static str> {
    match status {
        ShipmentStatus::Assigned => Some("assigned"),
        ShipmentStatus::PickedUp => Some("picked_up"),
        ShipmentStatus::OutForDelivery => Some("out_for_delivery"),
        ShipmentStatus::Delivered => Some("delivered"),
        ShipmentStatus::Failed => Some("failed"),
        ShipmentStatus::Returned => Some("returned"),
        ShipmentStatus::Pending
        | ShipmentStatus::Created
        | ShipmentStatus::NeedsClarification
        | ShipmentStatus::Cancelled => None,
    }
}

/// RFC 3339 in UTC (fractional seconds only when there are some).
fn rfc3339(ms: i64) -> Option<String> {
    domain::clock::utc_from_ms(ms)?.format(&Rfc3339).ok()
}

impl StatusChangedEvent {
    /// The callback for `report`; `None` for a status the store is not told about, or a time
    /// outside any calendar.
    pub fn new(key: &ShipmentKey, report: &StatusReport) -> Option<StatusChangedEvent> {
        if !report.is_shown() {
            return None;
        }
        let status = callback_status(report.status)?;
        let tracking = &report.tracking;
        Some(StatusChangedEvent {
            schema_version: SCHEMA_VERSION.to_owned(),
            event: STATUS_TOPIC.to_owned(),
            event_id: status_event_id(key, status),
            order_id: key.order_id.clone(),
            shipment_id: key.shipment_id.clone(),
            status: status.to_owned(),
            happened_at: rfc3339(report.happened_at_ms)?,
            tracking: TrackingInfo {
                number: tracking.number.clone(),
                url: tracking.url.clone(),
                company: tracking.company.clone(),
            },
            eta: report.eta_ms.and_then(rfc3339),
            failure: report.failure.as_ref().map(FailureInfo::from),
            proof: report.proof.as_ref().map(ProofInfo::from),
        })
    }
}

impl From<&Failure> for FailureInfo {
    fn from(f: &Failure) -> Self {
        FailureInfo {
            reason: f.reason.clone(),
            notes: f.notes.clone(),
        }
    }
}

impl From<&ProofOfDelivery> for ProofInfo {
    fn from(p: &ProofOfDelivery) -> Self {
        ProofInfo {
            signature_upload_id: p.signature_upload_id.clone(),
            photo_upload_ids: p.photo_upload_ids.clone(),
            signature_text: p.signature_text.clone(),
            recipient_name: p.recipient_name.clone(),
            notes: p.notes.clone(),
            location: p
                .location
                .filter(|l| l.lat.is_finite() && l.lng.is_finite())
                .map(|l| LocationInfo {
                    latitude: l.lat,
                    longitude: l.lng,
                    source: l.source,
                }),
            completed_at: p.completed_at_ms.and_then(rfc3339),
        }
    }
}

/// `status:{shipment key}:{status}`: one per shipment and status, the same for every retry
/// (a shipment reaches each status once: statuses only move forward).
pub fn status_event_id(key: &ShipmentKey, status: &str) -> String {
    format!("status:{key}:{status}")
}

/// `tracking:{shipment key}:{digest}`: the same for every retry, new when the tracking number
/// changes (a re-booked task), so the store's deduplication never hides a new number. The
/// number enters as a digest because it is the courier's text and the id must stay a valid
/// header value.
pub fn tracking_event_id(key: &ShipmentKey, number: &str) -> String {
    let digest = Sha256::digest(number.as_bytes());
    format!("tracking:{key}:{}", hex::encode(&digest[..8]))
}

/// Sends tracking callbacks for one store.
#[derive(Clone)]
pub struct ApiWriter {
    http: reqwest::Client,
    signing_secret: String,
    callback_url: Option<reqwest::Url>,
}

impl std::fmt::Debug for ApiWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiWriter")
            .field(
                "callback_url",
                &self.callback_url.as_ref().map(|u| redacted(u.as_str())),
            )
            .finish_non_exhaustive()
    }
}

impl ApiWriter {
    /// Checks the credentials once, so a bad secret is a configuration error now rather than
    /// a failure on every shipment.
    pub fn new(
        http: reqwest::Client,
        credentials: &ApiCredentials,
    ) -> Result<ApiWriter, PartnerError> {
        if credentials.signing_secret.trim().is_empty() {
            return Err(PartnerError::config(PARTNER, "signing_secret is blank"));
        }
        let callback_url = match credentials.callback_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let url = reqwest::Url::parse(text).map_err(|e| {
                    PartnerError::config(PARTNER, format!("callback_url {:?}: {e}", redacted(text)))
                })?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(PartnerError::config(
                        PARTNER,
                        format!(
                            "callback_url must be https (or http for local runs), not {}",
                            url.scheme()
                        ),
                    ));
                }
                Some(url)
            }
        };
        Ok(ApiWriter {
            http,
            signing_secret: credentials.signing_secret.clone(),
            callback_url,
        })
    }

    /// POSTs `event` under `topic` and `event_id`, signed, and answers the event id. Any 2xx
    /// means the store has it (a repeat of an event id it has seen must also answer 2xx).
    async fn send<T: Serialize>(
        &self,
        url: &reqwest::Url,
        topic: &str,
        event_id: &str,
        event: &T,
    ) -> Result<String, PartnerError> {
        let body = serde_json::to_vec(event)
            .map_err(|e| refused(format!("{topic} event not serializable: {e}")))?;
        let mut request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(self.signing_secret.as_bytes(), &body),
            )
            .header(EVENT_ID_HEADER, event_id)
            .header(TOPIC_HEADER, topic);
        if let Ok(now) = OffsetDateTime::now_utc().format(&Rfc3339) {
            request = request.header(SENT_AT_HEADER, now);
        }
        // Sent, perhaps received, then lost: a retry re-sends the same event id, which the
        // store dedupes.
        let reply = http::exchange(PARTNER, request.body(body), Effect::Write).await?;
        if reply.is_success() {
            return Ok(event_id.to_owned());
        }
        let answer = reply.text(300);
        Err(match reply.status.as_u16() {
            401 | 403 => PartnerError::config(
                PARTNER,
                format!(
                    "{} from the callback (is the store's signing secret the same?): {answer}",
                    reply.status
                ),
            ),
            _ => http::refusal(PARTNER, &reply, answer),
        })
    }
}

#[async_trait::async_trait]
impl StoreWriter for ApiWriter {
    /// A status the store is not told about, or a store without a `callback_url`, is
    /// `NotShown`: nothing is sent.
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        let Some(url) = &self.callback_url else {
            return Ok(StatusWriteBack::NotShown);
        };
        if !report.is_shown() {
            return Ok(StatusWriteBack::NotShown);
        }
        let event = StatusChangedEvent::new(key, report).ok_or_else(|| {
            refused(format!(
                "happened_at {} is out of range",
                report.happened_at_ms
            ))
        })?;
        let reference = self
            .send(url, STATUS_TOPIC, &event.event_id, &event)
            .await?;
        Ok(StatusWriteBack::Written { reference })
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        let Some(url) = &self.callback_url else {
            return Ok(WriteBack::AlreadyThere {
                reference: NO_CALLBACK.into(),
            });
        };
        let event = TrackingEvent::new(key, tracking);
        let reference = self
            .send(url, TRACKING_TOPIC, &event.event_id, &event)
            .await?;
        Ok(WriteBack::Written { reference })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Channel;

    fn key() -> ShipmentKey {
        ShipmentKey::new(Channel::Api, "shop", "SO-1001", "A")
    }

    fn tracking(number: &str) -> Tracking {
        Tracking {
            number: number.into(),
            url: None,
            company: "Sandbox Courier".into(),
        }
    }

    #[test]
    fn the_event_id_is_stable_per_shipment_and_number() {
        let a = TrackingEvent::new(&key(), &tracking("TRK1"));
        assert_eq!(a, TrackingEvent::new(&key(), &tracking("TRK1")));
        assert!(a.event_id.starts_with("tracking:api:shop:SO-1001:A:"));
        assert_ne!(
            a.event_id,
            TrackingEvent::new(&key(), &tracking("TRK2")).event_id
        );
        assert!(a.event_id.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn credentials_never_show_the_secret_or_url_tokens() {
        let c: ApiCredentials = serde_json::from_value(serde_json::json!({
            "signing_secret": "s3cr3t-value",
            "callback_url": "https://user:pw@shop.example/hooks?token=abc"
        }))
        .unwrap();
        let shown = format!("{c:?}");
        for hidden in ["s3cr3t-value", "token", "abc", "pw"] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        assert!(shown.contains("shop.example/hooks"), "{shown}");
        let writer = ApiWriter::new(reqwest::Client::new(), &c).unwrap();
        assert!(!format!("{writer:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn unusable_credentials_are_configuration_errors() {
        let http = reqwest::Client::new();
        for (secret, url) in [
            ("", Some("https://shop.example/hooks")),
            ("s", Some("not a url")),
            ("s", Some("ftp://shop.example/hooks")),
        ] {
            let c = ApiCredentials {
                signing_secret: secret.into(),
                callback_url: url.map(str::to_owned),
            };
            assert!(
                matches!(
                    ApiWriter::new(http.clone(), &c),
                    Err(PartnerError::Config { .. })
                ),
                "{secret:?} {url:?}"
            );
        }
        let blank = ApiCredentials {
            signing_secret: "s".into(),
            callback_url: Some(" ".into()),
        };
        assert!(ApiWriter::new(http, &blank).unwrap().callback_url.is_none());
    }

    fn report(status: ShipmentStatus) -> StatusReport {
        StatusReport {
            status,
            happened_at_ms: 1_795_000_000_250,
            tracking: tracking("TRK1"),
            tracking_reference: "tracking:x".into(),
            failure: None,
            proof: None,
            eta_ms: None,
        }
    }

    #[test]
    fn status_events_have_one_id_per_shipment_and_status() {
        let delivered =
            StatusChangedEvent::new(&key(), &report(ShipmentStatus::Delivered)).unwrap();
        assert_eq!(delivered.event_id, "status:api:shop:SO-1001:A:delivered");
        assert_eq!(delivered.happened_at, "2026-11-18T11:06:40.25Z");
        assert_eq!(delivered.event, STATUS_TOPIC);
        let mut later = report(ShipmentStatus::Delivered);
        later.happened_at_ms += 1000;
        assert_eq!(
            StatusChangedEvent::new(&key(), &later).unwrap().event_id,
            delivered.event_id,
            "the same status of the same shipment is the same event"
        );
        let failed = StatusChangedEvent::new(&key(), &report(ShipmentStatus::Failed)).unwrap();
        assert_ne!(failed.event_id, delivered.event_id);
        for hidden in [
            ShipmentStatus::Pending,
            ShipmentStatus::Created,
            ShipmentStatus::NeedsClarification,
            ShipmentStatus::Cancelled,
        ] {
            assert_eq!(callback_status(hidden), None);
            assert_eq!(StatusChangedEvent::new(&key(), &report(hidden)), None);
        }
        let mut never = report(ShipmentStatus::Assigned);
        never.happened_at_ms = i64::MAX;
        assert_eq!(StatusChangedEvent::new(&key(), &never), None);
    }
}
