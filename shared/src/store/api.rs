//! The generic API's write-back: a signed `shipment.tracking` event POSTed to the store's
//! `callback_url` (documented as the `shipmentTracking` webhook of `docs/api/openapi.yaml`).
//!
//! The callback is signed like the store's own events (same secret, same headers), so a
//! store verifies both directions with one function. Its event id is derived from the
//! shipment key and the tracking number: every retry sends the same bytes under the same id,
//! and the store's deduplication on that id is what makes a retry after an unknown outcome
//! safe. A store without a `callback_url` wants nothing written, and that is not an error.

use super::{StoreError, StoreWriter, Tracking, WriteBack};
use crate::channel::api::{
    sign, EVENT_ID_HEADER, SCHEMA_VERSION, SENT_AT_HEADER, SIGNATURE_HEADER, TOPIC_HEADER,
};
use crate::domain::ShipmentKey;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The topic (header) and `event` (body) of the tracking callback.
pub const TRACKING_TOPIC: &str = "shipment.tracking";

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
    ) -> Result<ApiWriter, StoreError> {
        if credentials.signing_secret.trim().is_empty() {
            return Err(StoreError::Config("signing_secret is blank".into()));
        }
        let callback_url = match credentials.callback_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let url = reqwest::Url::parse(text).map_err(|e| {
                    StoreError::Config(format!("callback_url {:?}: {e}", redacted(text)))
                })?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(StoreError::Config(format!(
                        "callback_url must be https (or http for local runs), not {}",
                        url.scheme()
                    )));
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

    /// POSTs `event`, signed. Any 2xx means the store has it (a repeat of an event id it has
    /// seen must also answer 2xx).
    async fn send(
        &self,
        url: &reqwest::Url,
        event: &TrackingEvent,
    ) -> Result<WriteBack, StoreError> {
        let body = serde_json::to_vec(event)
            .map_err(|e| StoreError::Rejected(format!("tracking event not serializable: {e}")))?;
        let mut request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(self.signing_secret.as_bytes(), &body),
            )
            .header(EVENT_ID_HEADER, &event.event_id)
            .header(TOPIC_HEADER, TRACKING_TOPIC);
        if let Ok(now) = OffsetDateTime::now_utc().format(&Rfc3339) {
            request = request.header(SENT_AT_HEADER, now);
        }
        // Errors leave the URL out: its query may carry the store's token.
        let response = match request.body(body).send().await.map_err(|e| e.without_url()) {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Err(StoreError::Unavailable(e.to_string())),
            Err(e) if e.is_builder() => return Err(StoreError::Config(e.to_string())),
            // Sent, perhaps received: a retry re-sends the same event id, which the store
            // dedupes.
            Err(e) => return Err(StoreError::Ambiguous(e.to_string())),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(WriteBack::Written {
                reference: event.event_id.clone(),
            });
        }
        let wait = crate::courier::retry_after(response.headers());
        let answer = response.text().await.unwrap_or_default();
        let answer: String = answer.chars().take(300).collect();
        Err(match status.as_u16() {
            429 => StoreError::Throttled { retry_after: wait },
            401 | 403 => StoreError::Config(format!(
                "{status} from the callback (is the store's signing secret the same?): {answer}"
            )),
            408 | 500..=599 => StoreError::Unavailable(format!("{status}: {answer}")),
            _ => StoreError::Rejected(format!("{status}: {answer}")),
        })
    }
}

#[async_trait::async_trait]
impl StoreWriter for ApiWriter {
    async fn write_status(
        &self,
        _key: &ShipmentKey,
        _report: &super::StatusReport,
    ) -> Result<super::StatusWriteBack, StoreError> {
        // PLACEHOLDER (issue 4, in progress): replaced by the channel's status write-back.
        Ok(super::StatusWriteBack::NotShown)
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        let Some(url) = &self.callback_url else {
            return Ok(WriteBack::AlreadyThere {
                reference: NO_CALLBACK.into(),
            });
        };
        self.send(url, &TrackingEvent::new(key, tracking)).await
    }
}

/// The write-back client for a custom store, with its credentials from the secret `secret`.
pub async fn writer(services: &Services, secret: &str) -> Result<Box<dyn StoreWriter>, StoreError> {
    let credentials: ApiCredentials = services.secrets.get_json(secret).await?;
    let writer = ApiWriter::new(services.http.clone(), &credentials)?;
    Ok(Box::new(writer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;

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
                matches!(ApiWriter::new(http.clone(), &c), Err(StoreError::Config(_))),
                "{secret:?} {url:?}"
            );
        }
        let blank = ApiCredentials {
            signing_secret: "s".into(),
            callback_url: Some(" ".into()),
        };
        assert!(ApiWriter::new(http, &blank).unwrap().callback_url.is_none());
    }
}
