//! WooCommerce REST write-back: the tracking becomes a customer note on the order, which
//! WooCommerce shows on the customer's order page and e-mails to them ("Note added to your
//! order"); each later delivery status becomes an order note too; and the order status
//! moves when the store asks for it (`status_after_tracking`, `status_after_delivery`).
//!
//! Contract: <https://woocommerce.github.io/woocommerce-rest-api-docs/#order-notes> and
//! `#update-an-order`. Authentication is HTTP Basic with the REST key's consumer key and
//! secret, which WooCommerce accepts only over HTTPS; errors are
//! `{"code": "...", "message": "...", "data": {"status": N}}`.
//!
//! # Delivery statuses
//!
//! WooCommerce has no shipment-tracking resource in its core REST API, so a status is an
//! order note (`POST /orders/{id}/notes`, `{"note", "customer_note"}`). A customer note is
//! shown on the customer's order page and e-mailed to them; a private note only to the
//! shop's staff. Each e-mail is a message the customer reads, so only what they act on or
//! wait for is a customer note, and not when courier-bridge already sends the customer its
//! own message about that status (`domain::notify::template_for`: out for delivery,
//! delivered, failed), which it does unless the store's `notifications.channels` is empty
//! ("the store sends its own notifications"):
//!
//! | courier status | note | the note says |
//! |---|---|---|
//! | Assigned | private | a driver is assigned |
//! | PickedUp | private | the courier has the parcel (the tracking note already told the customer it is on its way) |
//! | OutForDelivery | customer, or private when courier-bridge notifies | out for delivery, and the ETA when the courier gave one |
//! | Delivered | customer, or private when courier-bridge notifies | delivered, when, and who signed for it |
//! | Failed | customer, or private when courier-bridge notifies | the attempt failed, and the courier's reason |
//! | Returned | customer | the parcel is going back to the store |
//!
//! Other statuses are [`StatusWriteBack::NotShown`] without a call. Times are written in UTC
//! (the shop's time zone is not known here). Each note begins with its status's own opening
//! sentence and names the tracking number; the write-back looks for a note with both before
//! writing, as the tracking note is looked for by its number, so a retry after a lost answer
//! finds the note instead of adding another. `StatusReport::tracking_reference` (the
//! tracking note's id) is not needed for that.
//!
//! On Delivered, a store with `status_after_delivery` (e.g. `completed`) has its order moved
//! to that status after the note, written or found: setting the status the order already
//! has changes nothing, so a retry sets it again safely.

use crate::http::{self, Effect};
use domain::clock::utc_from_ms;
use domain::notify::template_for;
use domain::ports::StoreWriter;
use domain::write_back::{failure_reason_text, StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{PartnerError, ShipmentKey, ShipmentStatus, StoreConfig};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub(crate) const PARTNER: &str = "woocommerce";

/// A write the order's data does not allow (not an order id, no tracking number).
fn refused(message: String) -> PartnerError {
    PartnerError::rejected(PARTNER, "refused", message)
}

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
    pub(crate) http: reqwest::Client,
    /// `{site_url}/wp-json/wc/v3`.
    pub(crate) api: String,
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

impl WooCommerceRest {
    /// A client for the store at `site_url`. Plain `http` is refused except on loopback (the
    /// sandbox): Basic credentials would cross the network in clear, and WooCommerce itself
    /// refuses Basic auth without HTTPS.
    pub fn new(
        http: reqwest::Client,
        site_url: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<WooCommerceRest, PartnerError> {
        let url = reqwest::Url::parse(site_url.trim())
            .map_err(|e| PartnerError::config(PARTNER, format!("site_url {site_url:?}: {e}")))?;
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
                return Err(PartnerError::config(
                    PARTNER,
                    format!(
                        "site_url {site_url:?}: WooCommerce's REST API needs https, not {other}"
                    ),
                ))
            }
        }
        if consumer_key.is_empty() || consumer_secret.is_empty() {
            return Err(PartnerError::config(
                PARTNER,
                "the WooCommerce consumer key and secret must not be empty",
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
    ) -> Result<WooCommerceRest, PartnerError> {
        WooCommerceRest::new(
            http,
            &credentials.site_url,
            &credentials.consumer_key,
            &credentials.consumer_secret,
        )
    }

    /// Every note of the order (the endpoint is not paginated), newest first.
    pub async fn notes(&self, order_id: &str) -> Result<Vec<OrderNote>, PartnerError> {
        let url = format!("{}/orders/{}/notes", self.api, path_id(order_id)?);
        let body = self.call(self.http.get(url), Effect::Read).await?;
        serde_json::from_value(body).map_err(|e| {
            PartnerError::unavailable(PARTNER, format!("unexpected order notes shape: {e}"))
        })
    }

    /// Adds a note; a customer note is shown to the customer and e-mailed to them.
    pub async fn add_note(
        &self,
        order_id: &str,
        note: &str,
        customer_note: bool,
    ) -> Result<OrderNote, PartnerError> {
        let url = format!("{}/orders/{}/notes", self.api, path_id(order_id)?);
        let request = self
            .http
            .post(url)
            .json(&json!({ "note": note, "customer_note": customer_note }));
        let body = self.call(request, Effect::Write).await?;
        serde_json::from_value(body).map_err(|e| {
            PartnerError::ambiguous(PARTNER, format!("note created, unexpected answer: {e}"))
        })
    }

    /// Writes `tracking` to the order as a customer note, once: if a note already mentions
    /// the tracking number (an earlier attempt whose answer was lost), it says so instead.
    pub async fn write_tracking_note(
        &self,
        order_id: &str,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        let number = tracking.number.trim();
        if number.is_empty() {
            return Err(refused("empty tracking number".into()));
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

    /// Writes `report` to the order as a note, once: if a note already opens with the
    /// status's sentence and names the tracking number (an earlier attempt whose answer was
    /// lost), it says so instead. Statuses the store is not told about are `NotShown`.
    /// `notified` says courier-bridge sends the customer its own messages: a note about a
    /// status it notifies is then private, so the customer is not told twice.
    pub async fn write_status_note(
        &self,
        order_id: &str,
        report: &StatusReport,
        notified: bool,
    ) -> Result<StatusWriteBack, PartnerError> {
        let Some(kind) = NoteKind::of(report) else {
            return Ok(StatusWriteBack::NotShown);
        };
        let number = report.tracking.number.trim();
        if number.is_empty() {
            return Err(refused("empty tracking number".into()));
        }
        if let Some(existing) = self
            .notes(order_id)
            .await?
            .iter()
            .find(|n| n.note.starts_with(kind.opening) && mentions(&n.note, number))
        {
            return Ok(StatusWriteBack::AlreadyThere {
                reference: existing.id.to_string(),
            });
        }
        let customer_note = kind.customer && !(notified && template_for(report.status).is_some());
        let note = self
            .add_note(order_id, &status_note(kind, report), customer_note)
            .await?;
        Ok(StatusWriteBack::Written {
            reference: note.id.to_string(),
        })
    }

    /// Moves the order to `status` (`completed`, or a plugin's custom status). Setting the
    /// status it already has changes nothing, so a retry is harmless.
    pub async fn set_status(&self, order_id: &str, status: &str) -> Result<(), PartnerError> {
        let url = format!("{}/orders/{}", self.api, path_id(order_id)?);
        let request = self.http.put(url).json(&json!({ "status": status }));
        self.call(request, Effect::Write).await.map(drop)
    }

    pub(crate) async fn call(
        &self,
        request: reqwest::RequestBuilder,
        effect: Effect,
    ) -> Result<Value, PartnerError> {
        let request = request.basic_auth(&self.consumer_key, Some(&self.consumer_secret));
        let reply = http::exchange(PARTNER, request, effect).await?;
        if reply.is_success() {
            return reply.json(PARTNER, effect);
        }
        // Error pages in front of WordPress (a proxy's 502, a host's 429) are often HTML.
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let error = match (body["code"].as_str(), body["message"].as_str()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            _ => reply.text(300),
        };
        // No REST route at all: a wrong site_url, or WordPress without pretty permalinks.
        if reply.status.as_u16() == 404 && body["code"] == "rest_no_route" {
            return Err(PartnerError::config(
                PARTNER,
                format!("{}: {error}", reply.status),
            ));
        }
        Err(http::refusal(PARTNER, &reply, error))
    }
}

/// WooCommerce order ids are positive integers; anything else would change the URL's path.
fn path_id(order_id: &str) -> Result<&str, PartnerError> {
    let ok = !order_id.is_empty() && order_id.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(order_id)
    } else {
        Err(refused(format!(
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

/// How one delivery status is written as a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NoteKind {
    /// The note's first sentence, its status's alone (none begins another's): with the
    /// tracking number, how the write-back recognises its earlier note.
    opening: &'static str,
    /// Shown and e-mailed to the customer, or private to the shop's staff.
    customer: bool,
}

impl NoteKind {
    /// The note for the report's status, or `None` for statuses the store is not told about.
    fn of(report: &StatusReport) -> Option<NoteKind> {
        if !report.is_shown() {
            return None;
        }
        let (opening, customer) = match report.status {
            ShipmentStatus::Assigned => ("Courier update: a driver is assigned.", false),
            ShipmentStatus::PickedUp => ("Courier update: the courier has the parcel.", false),
            ShipmentStatus::OutForDelivery => ("Your order is out for delivery.", true),
            ShipmentStatus::Delivered => ("Your order has been delivered.", true),
            ShipmentStatus::Failed => ("Your order could not be delivered.", true),
            ShipmentStatus::Returned => ("Your order is on its way back to us.", true),
            _ => return None,
        };
        Some(NoteKind { opening, customer })
    }
}

/// `YYYY-MM-DD HH:MM UTC`.
fn note_time(ms: i64) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    utc_from_ms(ms)?.format(&format).ok()
}

/// The note's text: the opening, the tracking, then what the courier reported.
fn status_note(kind: NoteKind, report: &StatusReport) -> String {
    let tracking = &report.tracking;
    let mut note = format!(
        "{} {} tracking number: {}.",
        kind.opening,
        tracking.company.trim(),
        tracking.number.trim()
    );
    let mut add = |sentence: String| {
        note.push(' ');
        note.push_str(&sentence);
    };
    match report.status {
        ShipmentStatus::OutForDelivery => {
            if let Some(eta) = report.eta_ms.and_then(note_time) {
                add(format!("Expected around {eta}."));
            }
        }
        ShipmentStatus::Delivered => {
            let proof = report.proof.as_ref();
            let at = proof
                .and_then(|p| p.completed_at_ms)
                .unwrap_or(report.happened_at_ms);
            if let Some(at) = note_time(at) {
                add(format!("Delivered {at}."));
            }
            let signer = proof
                .and_then(|p| p.signature_text.as_deref())
                .map(str::trim)
                .filter(|s| !s.is_empty());
            if let Some(signer) = signer {
                add(format!("Signed for by {signer}."));
            }
        }
        ShipmentStatus::Failed => {
            if let Some(reason) = failure_reason_text(report.failure.as_ref()) {
                add(format!("Reason: {reason}."));
            }
        }
        _ => {}
    }
    if kind.customer {
        if let Some(url) = tracking
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            add(format!("Track it at {url}"));
        }
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

/// The notes alone, for a store that sends its own customer messages; [`WooCommerceWriter`]
/// follows the store's configuration.
#[async_trait::async_trait]
impl StoreWriter for WooCommerceRest {
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        self.write_status_note(&key.order_id, report, false).await
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        self.write_tracking_note(&key.order_id, tracking).await
    }
}

/// The tracking and status notes, each followed (when the store asks for it) by the order
/// status: what a WooCommerce shop shows once a parcel is on its way, and once delivered.
#[derive(Debug)]
pub struct WooCommerceWriter {
    rest: WooCommerceRest,
    /// The store's `status_after_tracking`.
    after_tracking: Option<String>,
    /// The store's `status_after_delivery`.
    after_delivery: Option<String>,
    /// courier-bridge sends the store's customers its own messages.
    notified: bool,
}

impl WooCommerceWriter {
    /// Reads the store's `status_after_tracking` and `status_after_delivery` (absent: the
    /// order status is left as it is) and its notification channels (none: the store sends
    /// its own messages, so status notes it would not otherwise send are customer notes).
    pub fn new(rest: WooCommerceRest, config: &StoreConfig) -> WooCommerceWriter {
        WooCommerceWriter {
            rest,
            after_tracking: config.status_after_tracking.clone(),
            after_delivery: config.status_after_delivery.clone(),
            notified: !config.notifications.channels().is_empty(),
        }
    }
}

#[async_trait::async_trait]
impl StoreWriter for WooCommerceWriter {
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        let written = self
            .rest
            .write_status_note(&key.order_id, report, self.notified)
            .await?;
        // As after the tracking note: idempotent, so set again on a retry that finds the
        // note (the status change may be what failed the first time).
        if report.status == ShipmentStatus::Delivered {
            if let Some(status) = &self.after_delivery {
                self.rest.set_status(&key.order_id, status).await?;
            }
        }
        Ok(written)
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        let written = self
            .rest
            .write_tracking_note(&key.order_id, tracking)
            .await?;
        // Setting a status is idempotent, so a retry after a failure here (which finds the
        // note already there) sets it again safely.
        if let Some(status) = &self.after_tracking {
            self.rest.set_status(&key.order_id, status).await?;
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(site_url: &str) -> Result<WooCommerceRest, PartnerError> {
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
                matches!(client(refused), Err(PartnerError::Config { .. })),
                "{refused}"
            );
        }
        assert!(matches!(
            WooCommerceRest::new(reqwest::Client::new(), "https://a.example", "", "cs"),
            Err(PartnerError::Config { .. })
        ));
    }

    #[test]
    fn order_ids_must_be_numeric_to_become_a_path() {
        assert_eq!(path_id("727").ok(), Some("727"));
        for bad in ["", "72 7", "../727", "727/notes", "-1"] {
            assert!(
                matches!(path_id(bad), Err(PartnerError::Rejected { .. })),
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

    fn report(status: ShipmentStatus) -> StatusReport {
        StatusReport {
            status,
            happened_at_ms: 1_795_000_000_250,
            tracking: Tracking {
                number: "SBX1".into(),
                url: Some("https://t.example/SBX1".into()),
                company: "Sandbox Courier".into(),
            },
            tracking_reference: "1".into(),
            failure: None,
            proof: None,
            eta_ms: None,
        }
    }

    const SHOWN: [ShipmentStatus; 6] = [
        ShipmentStatus::Assigned,
        ShipmentStatus::PickedUp,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::Failed,
        ShipmentStatus::Returned,
    ];

    #[test]
    fn each_shown_status_has_its_own_opening_and_the_rest_none() {
        let kinds: Vec<NoteKind> = SHOWN
            .iter()
            .map(|s| NoteKind::of(&report(*s)).unwrap())
            .collect();
        for (i, a) in kinds.iter().enumerate() {
            for (j, b) in kinds.iter().enumerate() {
                assert!(i == j || !a.opening.starts_with(b.opening), "{a:?} / {b:?}");
            }
            // Nor does the tracking note begin like a status note.
            assert!(!tracking_note(&report(SHOWN[i]).tracking).starts_with(a.opening));
        }
        let customer: Vec<bool> = kinds.iter().map(|k| k.customer).collect();
        assert_eq!(customer, [false, false, true, true, true, true]);
        for hidden in [
            ShipmentStatus::Pending,
            ShipmentStatus::Created,
            ShipmentStatus::NeedsClarification,
            ShipmentStatus::Cancelled,
        ] {
            assert_eq!(NoteKind::of(&report(hidden)), None, "{hidden}");
        }
    }

    #[test]
    fn status_notes_say_what_the_courier_reported() {
        use domain::courier::{Failure, ProofOfDelivery};
        let note = |r: &StatusReport| status_note(NoteKind::of(r).unwrap(), r);

        let mut out = report(ShipmentStatus::OutForDelivery);
        out.eta_ms = Some(1_795_003_600_000);
        assert_eq!(
            note(&out),
            "Your order is out for delivery. Sandbox Courier tracking number: SBX1. \
             Expected around 2026-11-18 12:06 UTC. Track it at https://t.example/SBX1"
        );

        let mut delivered = report(ShipmentStatus::Delivered);
        delivered.proof = Some(ProofOfDelivery {
            signature_upload_id: None,
            photo_upload_ids: vec![],
            signature_text: Some("Anna Nowak".into()),
            recipient_name: None,
            notes: None,
            location: None,
            completed_at_ms: Some(1_795_000_060_000),
        });
        assert_eq!(
            note(&delivered),
            "Your order has been delivered. Sandbox Courier tracking number: SBX1. \
             Delivered 2026-11-18 11:07 UTC. Signed for by Anna Nowak. \
             Track it at https://t.example/SBX1"
        );

        let mut failed = report(ShipmentStatus::Failed);
        failed.failure = Some(Failure {
            reason: Some("CANNOT_FIND_ADDRESS".into()),
            notes: Some("gate code 1234".into()),
        });
        let text = note(&failed);
        assert!(text.contains("Reason: cannot find address."), "{text}");
        assert!(!text.contains("1234"), "driver notes stay private: {text}");

        let assigned = note(&report(ShipmentStatus::Assigned));
        assert_eq!(
            assigned,
            "Courier update: a driver is assigned. Sandbox Courier tracking number: SBX1."
        );
        for status in SHOWN {
            assert!(mentions(&note(&report(status)), "SBX1"), "{status}");
        }
    }

    #[test]
    fn failure_reasons_read_as_words_and_free_text_stays() {
        use domain::courier::Failure;
        let text = |reason: Option<&str>| {
            super::failure_reason_text(Some(&Failure {
                reason: reason.map(str::to_owned),
                notes: None,
            }))
        };
        assert_eq!(text(Some("NO_ANSWER")).as_deref(), Some("no answer"));
        assert_eq!(
            text(Some("Customer refused")).as_deref(),
            Some("Customer refused")
        );
        assert_eq!(text(Some("  ")), None);
        assert_eq!(text(None), None);
        assert_eq!(super::failure_reason_text(None), None);
    }
}
