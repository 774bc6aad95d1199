//! WooCommerce: webhook headers, topics and the activation ping, the REST v3 order resource
//! (what `order.*` webhooks deliver), and the one place where a WooCommerce field becomes a
//! draft field.
//!
//! Contract: `WC_Webhook` (woocommerce `includes/class-wc-webhook.php`: headers, the
//! signature, the ping, the payload of each event) and the REST API v3 order resource
//! (<https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties>).
//!
//! Things the contract implies that are easy to get wrong:
//! - WooCommerce never retries a delivery, and disables a webhook after more than 5
//!   consecutive non-2xx answers: every well-signed delivery, acted on or not, deserves a 2xx.
//! - Webhooks are sent in the background, so their order is not the order of events: read the
//!   state in the body (its `status`), and let `date_modified_gmt` order them.

use crate::webhook::{DeliveryId, TopicSource, WebhookContract};
use crate::ParseError;
use domain::clock::parse_time;
use domain::draft::{clean, AddressDraft};
use domain::order::{OrderEvent, OrderFacts, PaymentState};
use domain::{Channel, Notes, ShipmentDraft};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Base64 HMAC-SHA256 of the raw body, keyed with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "x-wc-webhook-signature";
/// `resource.event`, e.g. `order.updated`.
pub const TOPIC_HEADER: &str = "x-wc-webhook-topic";
pub const RESOURCE_HEADER: &str = "x-wc-webhook-resource";
pub const EVENT_HEADER: &str = "x-wc-webhook-event";
/// WooCommerce's id for one delivery: `wp_hash(webhook id . unix seconds)`. It is the same
/// for every delivery one webhook sends within one second, so it is not unique alone: see
/// [`dedupe_key`].
pub const DELIVERY_ID_HEADER: &str = "x-wc-webhook-delivery-id";
pub const WEBHOOK_ID_HEADER: &str = "x-wc-webhook-id";
/// The site's home URL (`home_url('/')`, with its trailing slash).
pub const SOURCE_HEADER: &str = "x-wc-webhook-source";

/// A WooCommerce order is always delivered whole: one shipment per order.
pub const WHOLE_ORDER_SHIPMENT: &str = "1";

/// The id of WooCommerce's built-in "Cash on delivery" gateway (`WC_Gateway_COD`).
const COD_PAYMENT_METHOD: &str = "cod";

/// Order meta keys a checkout or delivery-date plugin writes, read as structured delivery
/// data. Each is also accepted with a leading underscore (WordPress's "hidden meta"
/// convention, which most plugins use), and the underscored key wins when both are present.
/// The window bounds are RFC 3339; `fragile` and `call_before_arrival` are true when "yes",
/// "1" or "true" (any case), or JSON `true`/`1`.
pub const WINDOW_START_META: &str = "delivery_window_start";
pub const WINDOW_END_META: &str = "delivery_window_end";
pub const ENTRANCE_META: &str = "entrance";
pub const FLOOR_META: &str = "floor";
pub const INTERCOM_META: &str = "intercom";
pub const FRAGILE_META: &str = "fragile";
pub const CALL_BEFORE_ARRIVAL_META: &str = "call_before_arrival";

/// The topics courier-bridge acts on. Anything else is acknowledged and recorded, not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrderCreated,
    OrderUpdated,
    /// The order went to the trash (`wp_trash_post`). The body holds only `{"id": …}`.
    OrderDeleted,
    /// Taken out of the trash: the full order, back in its earlier status.
    OrderRestored,
}

impl Topic {
    pub fn parse(topic: &str) -> Option<Topic> {
        match topic {
            "order.created" => Some(Topic::OrderCreated),
            "order.updated" => Some(Topic::OrderUpdated),
            "order.deleted" => Some(Topic::OrderDeleted),
            "order.restored" => Some(Topic::OrderRestored),
            _ => None,
        }
    }
}

/// How WooCommerce signs and labels its webhooks.
pub static WEBHOOK: WebhookContract = WebhookContract {
    signature_header: SIGNATURE_HEADER,
    verify: verify_signature,
    topic: TopicSource::Header(TOPIC_HEADER),
    delivery_id: DeliveryId::Header(DELIVERY_ID_HEADER),
    triggered_at_header: None,
    acts_on,
    // The delivery id repeats within a second; the body digest tells deliveries apart.
    dedupe_key,
    unsigned_ping: Some(is_ping),
    handshake: None,
};

/// Whether deliveries of this topic become order events.
pub fn acts_on(topic: &str) -> bool {
    Topic::parse(topic).is_some()
}

/// WooCommerce's activation ping (`WC_Webhook::deliver_ping`): an unsigned POST whose form
/// body is `webhook_id=<digits>`, sent when a webhook is saved as active. WooCommerce
/// activates the webhook only if the answer is exactly 200 (not any 2xx). It carries no
/// data, so answering it without a signature check gives nothing away.
pub fn is_ping(body: &[u8]) -> bool {
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|id| !id.is_empty() && id.iter().all(u8::is_ascii_digit))
}

/// Whether a webhook secret can authenticate anything. WooCommerce lets a webhook have an
/// empty secret and still signs with it (an HMAC with an empty key, which anyone can make),
/// so such a store must be refused rather than "verified". WooCommerce decodes HTML
/// entities in the secret before signing (`wp_specialchars_decode`): secrets of letters and
/// digits avoid any doubt about which bytes are the key.
pub fn usable_secret(secret: &str) -> bool {
    !secret.trim().is_empty()
}

/// Checks `X-WC-Webhook-Signature` against the raw body; never true for an unusable secret.
pub fn verify_signature(secret: &str, body: &[u8], signature_b64: &str) -> bool {
    usable_secret(secret)
        && crate::signature::verify_base64_hmac_sha256(secret.as_bytes(), body, signature_b64)
}

/// The deduplication key of a delivery. The delivery id alone repeats across different
/// deliveries of one webhook within the same second (see [`DELIVERY_ID_HEADER`]), so the
/// key adds a digest of the body: a redelivery of the same bytes gets the same key, two
/// orders saved in the same second do not.
pub fn dedupe_key(delivery_id: &str, body: &[u8]) -> String {
    format!(
        "{}:{}",
        delivery_id.trim(),
        hex::encode(Sha256::digest(body))
    )
}

/// Reads a webhook body of an acted-on topic into an [`OrderEvent`].
pub fn order_event(topic: &str, body: &[u8], store: &str) -> Result<OrderEvent, ParseError> {
    match Topic::parse(topic) {
        None => Err(ParseError::UnknownTopic {
            channel: "woocommerce",
            topic: topic.to_owned(),
        }),
        Some(Topic::OrderDeleted) => Ok(parse_order(body)?.deleted_event()),
        Some(_) => Ok(parse_order(body)?.to_event(store)),
    }
}

/// Parses an `order.*` webhook body (the REST v3 order resource).
pub fn parse_order(body: &[u8]) -> Result<Order, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::malformed("woocommerce", "order", e))
}

/// The subset of WooCommerce's REST v3 order that delivery needs. Only `id` is required
/// (an `order.deleted` body has nothing else); a field a store leaves out becomes a review
/// reason, not a parse error.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// Exact: serde_json reads integers into u64 without passing through f64.
    pub id: u64,
    /// What the shop shows as the order number (sequential-number plugins change it).
    pub number: Option<String>,
    pub status: Option<String>,
    pub currency: Option<String>,
    /// Decimal text, e.g. "29.35".
    pub total: Option<String>,
    pub date_modified_gmt: Option<String>,
    /// Set on any move to `processing` or `completed`, cash on delivery included, so it does
    /// not say money arrived; the status and the payment method do.
    pub date_paid_gmt: Option<String>,
    pub payment_method: Option<String>,
    pub billing: Option<Address>,
    pub shipping: Option<Address>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub meta_data: Vec<MetaData>,
    pub customer_note: Option<String>,
}

/// The `billing` and `shipping` objects. `email` exists on billing only; `phone` on billing
/// always and on shipping since WooCommerce 5.6.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    /// A state or county code ("CA").
    pub state: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    #[serde(default)]
    pub quantity: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShippingLine {
    pub method_title: Option<String>,
    pub method_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetaData {
    pub key: String,
    /// Whatever the plugin stored: text, a number, a boolean, or a structure.
    #[serde(default)]
    pub value: serde_json::Value,
}

impl Address {
    fn full_name(&self) -> Option<String> {
        let joined = [&self.first_name, &self.last_name]
            .iter()
            .filter_map(|p| clean(p))
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    }

    /// WooCommerce sends every address key, empty when unused (a virtual order, an order
    /// keyed in without a shipping address): all empty means no address.
    fn has_location(&self) -> bool {
        [
            &self.address_1,
            &self.address_2,
            &self.city,
            &self.postcode,
            &self.country,
        ]
        .iter()
        .any(|f| clean(f).is_some())
    }
}

impl Order {
    pub fn is_cash_on_delivery(&self) -> bool {
        self.payment_method.as_deref().map(str::trim) == Some(COD_PAYMENT_METHOD)
    }

    /// The order's state as facts for the trigger policy, read from its status (never from
    /// the topic, which says only which hook fired):
    ///
    /// - `processing`: paid, or a cash-on-delivery order the shop accepted (WooCommerce puts
    ///   COD orders there unpaid).
    /// - `completed`: the same, and the warehouse is done (what the ready-to-ship policy
    ///   waits for).
    /// - `pending`, `on-hold`: awaiting payment, or a COD order the shop has not accepted.
    /// - `failed`: the payment failed, but the customer may pay again (WooCommerce accepts
    ///   payment for `pending` and `failed` orders), so it waits rather than cancels.
    /// - `checkout-draft`: a checkout not yet placed; waits.
    /// - `cancelled`, `trash`: cancelled. `refunded`: the money went back, so nothing ships.
    /// - Any other (a plugin's custom status) waits: a later event in a known status decides.
    ///
    /// A COD order's payment is always pending: its money comes at the door.
    pub fn facts(&self) -> OrderFacts {
        let cod = self.is_cash_on_delivery();
        let paid = if cod {
            PaymentState::Pending
        } else {
            PaymentState::Captured
        };
        let status = self.status.as_deref().map(str::trim).unwrap_or("");
        let (cancelled, payment, confirmed, ready_to_ship) = match status {
            "processing" => (false, paid, true, false),
            "completed" => (false, paid, true, true),
            "cancelled" | "trash" => (true, PaymentState::Pending, false, false),
            "refunded" => (false, PaymentState::Voided, false, false),
            _ => (false, PaymentState::Pending, false, false),
        };
        OrderFacts {
            cancelled,
            payment,
            cash_on_delivery: cod,
            confirmed,
            ready_to_ship,
            readiness_only: false,
            blocked: None,
        }
    }

    pub fn to_event(&self, store: &str) -> OrderEvent {
        OrderEvent {
            order_id: self.id.to_string(),
            facts: self.facts(),
            shipments: vec![self.draft(store)],
            occurred_at: self.occurred_at(),
        }
    }

    /// An `order.deleted` delivery: the order went to the trash, so its tasks are cancelled.
    /// The body has only the id (unless a plugin filters in more), so there is no shipment.
    pub fn deleted_event(&self) -> OrderEvent {
        OrderEvent {
            order_id: self.id.to_string(),
            facts: OrderFacts {
                cancelled: true,
                payment: PaymentState::Pending,
                cash_on_delivery: self.is_cash_on_delivery(),
                confirmed: false,
                ready_to_ship: false,
                readiness_only: false,
                blocked: None,
            },
            shipments: Vec::new(),
            occurred_at: self.occurred_at(),
        }
    }

    fn occurred_at(&self) -> Option<time::OffsetDateTime> {
        self.date_modified_gmt.as_deref().and_then(parse_time)
    }

    /// The whole order as one delivery.
    pub fn draft(&self, store: &str) -> ShipmentDraft {
        let mut d = ShipmentDraft::new(
            Channel::WooCommerce,
            store,
            &self.id.to_string(),
            WHOLE_ORDER_SHIPMENT,
        );
        // WooCommerce shows order numbers as "#727" (admin, e-mails).
        d.order_name = clean(&self.number).map(|n| format!("#{n}"));
        let none = Address::default();
        let shipping = self.shipping.as_ref().unwrap_or(&none);
        let billing = self.billing.as_ref().unwrap_or(&none);
        d.recipient_name = shipping.full_name().or_else(|| billing.full_name());
        d.company = clean(&shipping.company);
        // The shipping phone is the delivery's; the billing phone is the customer's own.
        d.phones.extend(clean(&shipping.phone));
        d.phones.extend(clean(&billing.phone));
        d.email = clean(&billing.email);

        // The billing address is not a delivery address: an order without a shipping one
        // goes to review (missing address) rather than to wherever the invoice goes.
        d.address = shipping.has_location().then(|| AddressDraft {
            street: shipping.address_1.clone(),
            apartment: shipping.address_2.clone(),
            entrance: self.meta(ENTRANCE_META),
            floor: self.meta(FLOOR_META),
            intercom: self.meta(INTERCOM_META),
            city: shipping.city.clone(),
            region: shipping.state.clone(),
            postal_code: shipping.postcode.clone(),
            country_code: shipping.country.clone(),
            ..AddressDraft::default()
        });

        d.pieces = self
            .line_items
            .iter()
            .fold(0u32, |sum, l| sum.saturating_add(l.quantity));
        d.currency = self.currency.clone();
        d.cash_on_delivery = self.is_cash_on_delivery();
        // Prepaid: the order's total. COD: what the courier collects, which is the same
        // total (WooCommerce has no partial payment of an order).
        d.amount = clean(&self.total);
        d.shipping_method = self
            .shipping_lines
            .iter()
            .find_map(|l| clean(&l.method_title));
        d.window_start = self.meta(WINDOW_START_META);
        d.window_end = self.meta(WINDOW_END_META);
        let yes = |v: Option<String>| {
            v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
        };
        d.notes = Notes {
            text: clean(&self.customer_note),
            fragile: yes(self.meta(FRAGILE_META)),
            call_before_arrival: yes(self.meta(CALL_BEFORE_ARRIVAL_META)),
        };
        d
    }

    /// The text of meta `_name`, else `name`. Structured values (arrays, objects) are not
    /// delivery data and read as absent.
    fn meta(&self, name: &str) -> Option<String> {
        let hidden = format!("_{name}");
        let find = |key: &str| self.meta_data.iter().find(|m| m.key == key);
        let value = match &find(&hidden).or_else(|| find(name))?.value {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!value.is_empty()).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::order::Trigger;
    use domain::{Payment, ReviewReason, Shipment, StoreConfig, TriggerPolicy};
    use serde_json::json;

    /// A paid order in the shape of the REST v3 docs' example, with a diallable phone.
    fn order() -> serde_json::Value {
        json!({
            "id": 727,
            "number": "727",
            "status": "processing",
            "currency": "EUR",
            "date_modified_gmt": "2026-11-24T09:15:00",
            "date_paid_gmt": "2026-11-24T09:15:00",
            "total": "57.90",
            "customer_note": " Ring twice ",
            "payment_method": "stripe",
            "billing": {
                "first_name": "Ana", "last_name": "Lima", "company": "", "address_1": "Invoice 1",
                "address_2": "", "city": "Hamburg", "state": "", "postcode": "20095", "country": "DE",
                "email": "ana@example.com", "phone": "+49 40 1234567"
            },
            "shipping": {
                "first_name": "Ana", "last_name": "Lima", "company": "Lima GmbH",
                "address_1": "Hauptstraße 5", "address_2": "Wohnung 3", "city": "Berlin",
                "state": "BE", "postcode": "10115", "country": "DE", "phone": "030 901820"
            },
            "line_items": [{"id": 1, "quantity": 2, "price": 3}, {"id": 2, "quantity": 1}],
            "shipping_lines": [{"method_title": "Same Day Express", "method_id": "flat_rate"}],
            "meta_data": [{"id": 1, "key": "_download_permissions_granted", "value": "yes"}]
        })
    }

    fn event(v: &serde_json::Value) -> OrderEvent {
        order_event("order.updated", v.to_string().as_bytes(), "shop").unwrap()
    }

    fn shipment(v: &serde_json::Value) -> Result<Shipment, Vec<ReviewReason>> {
        event(v).shipments[0].validate(&StoreConfig::default())
    }

    fn trigger(v: &serde_json::Value, policy: TriggerPolicy) -> Trigger {
        event(v).facts.trigger(policy)
    }

    const PAYMENT: TriggerPolicy = TriggerPolicy::PaymentOrConfirmation;
    const READY: TriggerPolicy = TriggerPolicy::ReadyToShip;

    #[test]
    fn a_processing_order_becomes_a_complete_shipment() {
        let e = event(&order());
        assert_eq!(e.order_id, "727");
        assert_eq!(e.occurred_at.unwrap().unix_timestamp(), 1_795_511_700);
        assert_eq!(e.facts.trigger(PAYMENT), Trigger::Ship);
        let s = e.shipments[0].validate(&StoreConfig::default()).unwrap();
        assert_eq!(s.key.to_string(), "woocommerce:shop:727:1");
        assert_eq!(s.order_name.as_deref(), Some("#727"));
        assert_eq!(s.recipient.name, "Ana Lima");
        assert_eq!(s.recipient.company.as_deref(), Some("Lima GmbH"));
        assert_eq!(s.recipient.phone.unwrap().e164, "+4930901820");
        assert_eq!(s.recipient.email.as_deref(), Some("ana@example.com"));
        assert_eq!(s.address.street, "Hauptstraße 5");
        assert_eq!(s.address.apartment.as_deref(), Some("Wohnung 3"));
        assert_eq!(s.address.city, "Berlin");
        assert_eq!(s.address.region.as_deref(), Some("BE"));
        assert_eq!(s.address.postal_code.as_deref(), Some("10115"));
        assert_eq!(s.address.country_code, "DE");
        assert_eq!((s.parcel.pieces, s.parcel.weight_grams), (3, None));
        assert!(matches!(s.payment, Payment::Prepaid { order_total } if order_total.minor == 5790));
        assert_eq!(s.notes.text.as_deref(), Some("Ring twice"));
        assert!(!s.notes.fragile && !s.notes.call_before_arrival);
        assert_eq!(
            e.shipments[0].shipping_method.as_deref(),
            Some("Same Day Express")
        );
    }

    #[test]
    fn a_cod_order_in_processing_ships_collecting_its_total_exactly() {
        let mut v = order();
        v["payment_method"] = json!("cod");
        v["total"] = json!("1234567.89");
        let e = event(&v);
        assert!(e.facts.cash_on_delivery && e.facts.confirmed);
        assert_eq!(e.facts.payment, PaymentState::Pending, "paid at the door");
        assert_eq!(e.facts.trigger(PAYMENT), Trigger::Ship);
        let s = e.shipments[0].validate(&StoreConfig::default()).unwrap();
        match s.payment {
            Payment::CashOnDelivery { amount } => {
                assert_eq!((amount.minor, amount.currency.code()), (123_456_789, "EUR"))
            }
            other => panic!("expected cash on delivery, got {other:?}"),
        }
    }

    #[test]
    fn orders_awaiting_payment_or_acceptance_wait() {
        for (status, method) in [
            ("on-hold", "bacs"),
            ("pending", "stripe"),
            ("failed", "stripe"),
            ("checkout-draft", "stripe"),
            ("on-hold", "cod"),
            ("pending", "cod"),
            ("a-plugins-status", "stripe"),
        ] {
            let mut v = order();
            v["status"] = json!(status);
            v["payment_method"] = json!(method);
            for policy in [PAYMENT, READY] {
                assert!(
                    matches!(trigger(&v, policy), Trigger::Wait { .. }),
                    "{status} {method} {policy:?}"
                );
            }
        }
    }

    #[test]
    fn completed_is_what_the_ready_to_ship_policy_waits_for() {
        let mut v = order();
        assert!(matches!(trigger(&v, READY), Trigger::Wait { .. }));
        v["status"] = json!("completed");
        assert_eq!(trigger(&v, READY), Trigger::Ship);
        assert_eq!(trigger(&v, PAYMENT), Trigger::Ship);
        v["payment_method"] = json!("cod");
        assert_eq!(trigger(&v, READY), Trigger::Ship);
        let s = shipment(&v).unwrap();
        assert_eq!(s.payment.cod_amount().unwrap().minor, 5790);
    }

    #[test]
    fn cancelled_refunded_trashed_and_deleted_orders_cancel() {
        for status in ["cancelled", "refunded", "trash"] {
            let mut v = order();
            v["status"] = json!(status);
            v["payment_method"] = json!("cod");
            for policy in [PAYMENT, READY] {
                assert!(
                    matches!(trigger(&v, policy), Trigger::Cancel { .. }),
                    "{status} {policy:?}"
                );
            }
        }
        let deleted = order_event("order.deleted", br#"{"id":727}"#, "shop").unwrap();
        assert_eq!(deleted.order_id, "727");
        assert!(deleted.shipments.is_empty());
        assert!(matches!(
            deleted.facts.trigger(READY),
            Trigger::Cancel { .. }
        ));
    }

    #[test]
    fn a_restored_order_is_read_from_its_status() {
        let restored = order().to_string();
        let e = order_event("order.restored", restored.as_bytes(), "shop").unwrap();
        assert_eq!(e.facts.trigger(PAYMENT), Trigger::Ship);
    }

    #[test]
    fn the_phone_falls_back_to_billing_and_the_name_too() {
        let mut v = order();
        v["shipping"]["phone"] = json!("");
        assert_eq!(
            shipment(&v).unwrap().recipient.phone.unwrap().e164,
            "+49401234567"
        );
        v["shipping"].as_object_mut().unwrap().remove("phone");
        v["shipping"]["first_name"] = json!(" ");
        v["shipping"]["last_name"] = json!("");
        let s = shipment(&v).unwrap();
        assert_eq!(s.recipient.phone.unwrap().e164, "+49401234567");
        assert_eq!(s.recipient.name, "Ana Lima");
        assert_eq!(
            s.address.city, "Berlin",
            "the address stays the shipping one"
        );
    }

    #[test]
    fn an_order_without_a_shipping_address_needs_review_not_the_billing_address() {
        let mut v = order();
        for field in [
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
        ] {
            v["shipping"][field] = json!("");
        }
        assert!(shipment(&v)
            .unwrap_err()
            .contains(&ReviewReason::MissingAddress));
        v["shipping"] = json!(null);
        assert!(shipment(&v)
            .unwrap_err()
            .contains(&ReviewReason::MissingAddress));
    }

    #[test]
    fn order_meta_carries_the_window_and_structured_notes_with_or_without_underscore() {
        let mut v = order();
        v["meta_data"] = json!([
            {"id": 1, "key": "_delivery_window_start", "value": "2026-11-25T10:00:00+01:00"},
            {"id": 2, "key": "delivery_window_end", "value": "2026-11-25T12:00:00+01:00"},
            {"id": 3, "key": "_intercom", "value": "45K"},
            {"id": 4, "key": "floor", "value": 3},
            {"id": 5, "key": "_entrance", "value": "B"},
            {"id": 6, "key": "fragile", "value": "Yes"},
            {"id": 7, "key": "_call_before_arrival", "value": true},
            {"id": 8, "key": "call_before_arrival", "value": "no"},
            {"id": 9, "key": "_floor", "value": {"nested": 1}}
        ]);
        let s = shipment(&v).unwrap();
        let window = s.window.unwrap();
        assert_eq!((window.end - window.start).whole_hours(), 2);
        assert_eq!(s.address.intercom.as_deref(), Some("45K"));
        assert_eq!(
            s.address.floor, None,
            "the underscored key wins, and a structure is not a floor"
        );
        assert_eq!(s.address.entrance.as_deref(), Some("B"));
        assert!(s.notes.fragile);
        assert!(s.notes.call_before_arrival, "the underscored key wins");
        v["meta_data"][1]["value"] = json!("2026-11-25T09:00:00+01:00");
        assert_eq!(
            shipment(&v).unwrap_err()[0].code(),
            "invalid_delivery_window"
        );
    }

    #[test]
    fn ids_above_two_to_the_53_stay_exact() {
        let mut v = order();
        v["id"] = json!(9_007_199_254_740_993_u64);
        assert_eq!(event(&v).order_id, "9007199254740993");
    }

    #[test]
    fn only_order_topics_are_acted_on_and_other_bodies_are_typed_errors() {
        for topic in [
            "order.created",
            "order.updated",
            "order.deleted",
            "order.restored",
        ] {
            assert!(acts_on(topic), "{topic}");
        }
        for topic in ["product.updated", "action.woocommerce_add_to_cart", ""] {
            assert!(!acts_on(topic), "{topic}");
        }
        assert!(matches!(
            order_event("coupon.created", b"{}", "shop"),
            Err(ParseError::UnknownTopic { .. })
        ));
        for body in [&b"webhook_id=1"[..], b"{}", b"{\"id\": -1}", b"[]"] {
            assert!(matches!(
                order_event("order.created", body, "shop"),
                Err(ParseError::Malformed { .. })
            ));
        }
    }

    #[test]
    fn the_activation_ping_is_recognised_and_nothing_else_is() {
        assert!(is_ping(b"webhook_id=535"));
        for body in [
            &b"webhook_id="[..],
            b"webhook_id=53a",
            b"webhook_id=535&x=1",
            b"{\"webhook_id\":535}",
            b"",
        ] {
            assert!(!is_ping(body), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn empty_secrets_are_unusable_and_never_verify() {
        assert!(!usable_secret(""));
        assert!(!usable_secret("  "));
        assert!(usable_secret("my-super-secret-private-key"));
        let sig = crate::signature::sign_base64_hmac_sha256(b"", b"secret");
        assert!(!verify_signature("", b"secret", &sig));
        let sig = crate::signature::sign_base64_hmac_sha256(b"k", b"{}");
        assert!(verify_signature("k", b"{}", &sig));
        assert!(!verify_signature("k", b"{ }", &sig));
    }

    #[test]
    fn dedupe_keys_tell_apart_deliveries_that_share_a_delivery_id() {
        let a = dedupe_key("3c2f", br#"{"id":1}"#);
        assert_eq!(a, dedupe_key(" 3c2f ", br#"{"id":1}"#));
        assert_ne!(a, dedupe_key("3c2f", br#"{"id":2}"#));
        assert_ne!(a, dedupe_key("3c30", br#"{"id":1}"#));
    }
}
