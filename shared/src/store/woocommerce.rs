//! WooCommerce REST write-back: the tracking becomes a customer note on the order, which
//! WooCommerce shows on the customer's order page and e-mails to them ("Note added to your
//! order"); and, for later use, order status changes.
//!
//! Contract: <https://woocommerce.github.io/woocommerce-rest-api-docs/#order-notes> and
//! `#update-an-order`. Authentication is HTTP Basic with the REST key's consumer key and
//! secret, which WooCommerce accepts only over HTTPS; errors are
//! `{"code": "...", "message": "...", "data": {"status": N}}`.

use super::{StoreError, StoreWriter, Tracking, WriteBack};
use crate::domain::ShipmentKey;
use crate::services::Services;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What the store secret holds (Secrets Manager, `{prefix}woocommerce/{store}`).
#[derive(Clone, Serialize, Deserialize)]
pub struct WooCommerceCredentials {
    /// The webhook's secret (WooCommerce > Settings > Advanced > Webhooks).
    pub webhook_secret: String,
    /// The site's address, e.g. `https://shop.example.com` (a WordPress in a sub-directory
    /// includes it: `https://example.com/shop`).
    pub site_url: String,
    /// A REST API key with read/write access (`ck_…` / `cs_…`).
    pub consumer_key: String,
    pub consumer_secret: String,
}

impl std::fmt::Debug for WooCommerceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooCommerceCredentials")
            .field("site_url", &self.site_url)
            .finish_non_exhaustive()
    }
}

/// One note of an order, as `GET /orders/{id}/notes` and `POST` return it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderNote {
    pub id: u64,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub customer_note: bool,
}

/// A WooCommerce REST v3 client for one store.
pub struct WooCommerceRest {
    http: reqwest::Client,
    /// `{site_url}/wp-json/wc/v3`.
    api: String,
    consumer_key: String,
    consumer_secret: String,
}

impl std::fmt::Debug for WooCommerceRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooCommerceRest")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

/// Whether a call changes the store: a failure after sending one is ambiguous.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Read,
    Write,
}

impl WooCommerceRest {
    /// A client for the store at `site_url`. Plain `http` is refused except on loopback (the
    /// sandbox): Basic credentials would cross the network in clear, and WooCommerce itself
    /// refuses Basic auth without HTTPS.
    pub fn new(
        http: reqwest::Client,
        site_url: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<WooCommerceRest, StoreError> {
        let url = reqwest::Url::parse(site_url.trim())
            .map_err(|e| StoreError::Config(format!("site_url {site_url:?}: {e}")))?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            other => {
                return Err(StoreError::Config(format!(
                    "site_url {site_url:?}: WooCommerce's REST API needs https, not {other}"
                )))
            }
        }
        if consumer_key.is_empty() || consumer_secret.is_empty() {
            return Err(StoreError::Config(
                "the WooCommerce consumer key and secret must not be empty".into(),
            ));
        }
        Ok(WooCommerceRest {
            http,
            api: format!("{}/wp-json/wc/v3", url.as_str().trim_end_matches('/')),
            consumer_key: consumer_key.to_owned(),
            consumer_secret: consumer_secret.to_owned(),
        })
    }

    pub fn from_credentials(
        http: reqwest::Client,
        credentials: &WooCommerceCredentials,
    ) -> Result<WooCommerceRest, StoreError> {
        WooCommerceRest::new(
            http,
            &credentials.site_url,
            &credentials.consumer_key,
            &credentials.consumer_secret,
        )
    }

    /// Every note of the order (the endpoint is not paginated), newest first.
    pub async fn notes(&self, order_id: &str) -> Result<Vec<OrderNote>, StoreError> {
        let url = format!("{}/orders/{}/notes", self.api, path_id(order_id)?);
        let body = self.call(self.http.get(url), Call::Read).await?;
        serde_json::from_value(body)
            .map_err(|e| StoreError::Unavailable(format!("unexpected order notes shape: {e}")))
    }

    /// Adds a note; a customer note is shown to the customer and e-mailed to them.
    pub async fn add_note(
        &self,
        order_id: &str,
        note: &str,
        customer_note: bool,
    ) -> Result<OrderNote, StoreError> {
        let url = format!("{}/orders/{}/notes", self.api, path_id(order_id)?);
        let request = self
            .http
            .post(url)
            .json(&json!({ "note": note, "customer_note": customer_note }));
        let body = self.call(request, Call::Write).await?;
        serde_json::from_value(body)
            .map_err(|e| StoreError::Ambiguous(format!("note created, unexpected answer: {e}")))
    }

    /// Writes `tracking` to the order as a customer note, once: if a note already mentions
    /// the tracking number (an earlier attempt whose answer was lost), it says so instead.
    pub async fn write_tracking_note(
        &self,
        order_id: &str,
        tracking: &Tracking,
    ) -> Result<WriteBack, StoreError> {
        let number = tracking.number.trim();
        if number.is_empty() {
            return Err(StoreError::Rejected("empty tracking number".into()));
        }
        if let Some(existing) = self
            .notes(order_id)
            .await?
            .iter()
            .find(|n| mentions(&n.note, number))
        {
            return Ok(WriteBack::AlreadyThere {
                reference: existing.id.to_string(),
            });
        }
        let note = self
            .add_note(order_id, &tracking_note(tracking), true)
            .await?;
        Ok(WriteBack::Written {
            reference: note.id.to_string(),
        })
    }

    /// Moves the order to `status` (`completed`, or a plugin's custom status). Setting the
    /// status it already has changes nothing, so a retry is harmless.
    pub async fn set_status(&self, order_id: &str, status: &str) -> Result<(), StoreError> {
        let url = format!("{}/orders/{}", self.api, path_id(order_id)?);
        let request = self.http.put(url).json(&json!({ "status": status }));
        self.call(request, Call::Write).await.map(drop)
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        call: Call,
    ) -> Result<Value, StoreError> {
        let sent = request
            .basic_auth(&self.consumer_key, Some(&self.consumer_secret))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if call == Call::Write && !e.is_connect() => {
                return Err(StoreError::Ambiguous(e.to_string()))
            }
            Err(e) => return Err(StoreError::Unavailable(e.to_string())),
        };
        let status = response.status();
        let wait = crate::courier::retry_after(response.headers());
        let body: Value = match response.json().await {
            Ok(b) => b,
            Err(e) if call == Call::Write && status.is_success() => {
                return Err(StoreError::Ambiguous(format!("unreadable response: {e}")))
            }
            // Error pages in front of WordPress (a proxy's 502, a host's 429) are often HTML.
            Err(_) if !status.is_success() => Value::Null,
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "{status}: unreadable response: {e}"
                )))
            }
        };
        let error = || match (body["code"].as_str(), body["message"].as_str()) {
            (Some(code), Some(message)) => format!("{status}: {code}: {message}"),
            _ => status.to_string(),
        };
        match status.as_u16() {
            200..=299 => Ok(body),
            429 => Err(StoreError::Throttled { retry_after: wait }),
            401 | 403 => Err(StoreError::Config(error())),
            // No REST route at all: a wrong site_url, or WordPress without pretty permalinks.
            404 if body["code"] == "rest_no_route" => Err(StoreError::Config(error())),
            s if s >= 500 => Err(StoreError::Unavailable(error())),
            _ => Err(StoreError::Rejected(error())),
        }
    }
}

/// WooCommerce order ids are positive integers; anything else would change the URL's path.
fn path_id(order_id: &str) -> Result<&str, StoreError> {
    let ok = !order_id.is_empty() && order_id.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(order_id)
    } else {
        Err(StoreError::Rejected(format!(
            "{order_id:?} is not a WooCommerce order id"
        )))
    }
}

/// What the customer reads (and is e-mailed).
fn tracking_note(tracking: &Tracking) -> String {
    let mut note = format!(
        "Your order is on its way with {}. Tracking number: {}.",
        tracking.company.trim(),
        tracking.number.trim()
    );
    if let Some(url) = tracking
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        note.push_str(&format!(" Track it at {url}"));
    }
    note
}

/// Whether `text` mentions `number` as a whole token: tracking "SBX1" is not in a note about
/// "SBX12", but it is in "number: SBX1." and in a tracking URL ending in `/SBX1`.
fn mentions(text: &str, number: &str) -> bool {
    let token_char = |c: char| c.is_alphanumeric();
    text.match_indices(number).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + number.len()..].chars().next();
        !before.is_some_and(token_char) && !after.is_some_and(token_char)
    })
}

#[async_trait::async_trait]
impl StoreWriter for WooCommerceRest {
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
        self.write_tracking_note(&key.order_id, tracking).await
    }
}

/// The tracking note, then (when the store asks for it) the order status: what a
/// WooCommerce shop shows once a parcel is on its way.
struct NoteAndStatus {
    rest: WooCommerceRest,
    status: Option<String>,
}

#[async_trait::async_trait]
impl StoreWriter for NoteAndStatus {
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
        let written = self
            .rest
            .write_tracking_note(&key.order_id, tracking)
            .await?;
        // Setting a status is idempotent, so a retry after a failure here (which finds the
        // note already there) sets it again safely.
        if let Some(status) = &self.status {
            self.rest.set_status(&key.order_id, status).await?;
        }
        Ok(written)
    }
}

/// The write-back client of a WooCommerce store, with its credentials from the store secret;
/// `status` is the store's `status_after_tracking`, if it set one.
pub async fn writer(
    services: &Services,
    secret: &str,
    status: Option<String>,
) -> Result<Box<dyn StoreWriter>, StoreError> {
    let credentials: WooCommerceCredentials = services.secrets.get_json(secret).await?;
    let rest = WooCommerceRest::from_credentials(services.http.clone(), &credentials)?;
    Ok(Box::new(NoteAndStatus { rest, status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(site_url: &str) -> Result<WooCommerceRest, StoreError> {
        WooCommerceRest::new(reqwest::Client::new(), site_url, "ck_1", "cs_1")
    }

    #[test]
    fn only_https_or_loopback_http_sites_get_credentials() {
        for ok in [
            "https://shop.example.com",
            "https://example.com/shop/",
            "http://127.0.0.1:8787",
            "http://localhost:8080",
            "http://[::1]:80",
        ] {
            assert!(client(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            client("https://example.com/shop/").unwrap().api,
            "https://example.com/shop/wp-json/wc/v3"
        );
        for refused in [
            "http://shop.example.com",
            "ftp://127.0.0.1",
            "shop.example.com",
            "",
        ] {
            assert!(
                matches!(client(refused), Err(StoreError::Config(_))),
                "{refused}"
            );
        }
        assert!(matches!(
            WooCommerceRest::new(reqwest::Client::new(), "https://a.example", "", "cs"),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn order_ids_must_be_numeric_to_become_a_path() {
        assert_eq!(path_id("727").ok(), Some("727"));
        for bad in ["", "72 7", "../727", "727/notes", "-1"] {
            assert!(
                matches!(path_id(bad), Err(StoreError::Rejected(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_tracking_number_is_found_only_as_a_whole_token() {
        assert!(mentions("Tracking number: SBX1.", "SBX1"));
        assert!(mentions("https://t.example/track/SBX1", "SBX1"));
        assert!(mentions("SBX1", "SBX1"));
        assert!(!mentions("Tracking number: SBX12.", "SBX1"));
        assert!(!mentions("XSBX1", "SBX1"));
        assert!(mentions("SBX12 then SBX1", "SBX1"));
    }

    #[test]
    fn the_note_names_the_carrier_the_number_and_the_link() {
        let tracking = Tracking {
            number: "SBX1".into(),
            url: Some("https://t.example/SBX1".into()),
            company: "Sandbox Courier".into(),
        };
        let note = tracking_note(&tracking);
        assert_eq!(
            note,
            "Your order is on its way with Sandbox Courier. Tracking number: SBX1. \
             Track it at https://t.example/SBX1"
        );
        assert!(mentions(&note, "SBX1"));
        let no_url = Tracking {
            url: None,
            ..tracking
        };
        assert!(!tracking_note(&no_url).contains("Track it"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let credentials = WooCommerceCredentials {
            webhook_secret: "whsec-x".into(),
            site_url: "https://shop.example.com".into(),
            consumer_key: "ck_x".into(),
            consumer_secret: "cs_x".into(),
        };
        let debug = format!("{credentials:?}");
        assert!(debug.contains("shop.example.com"));
        for secret in ["whsec-x", "ck_x", "cs_x"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
