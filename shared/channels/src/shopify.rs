//! Shopify: webhook headers and topics, the order and fulfillment payloads, and the one place
//! where a Shopify field becomes a draft field.
//!
//! Contract: <https://shopify.dev/docs/apps/build/webhooks> (headers, HMAC of the raw body,
//! 5 s answer budget, retries with the same `X-Shopify-Webhook-Id`) and the REST `Order` and
//! `Fulfillment` resources, which is what `orders/*` and `fulfillments/*` webhooks deliver.

use crate::webhook::{delivery_id_is_key, DeliveryId, TopicSource, WebhookContract};
use crate::ParseError;
use domain::clock::parse_time;
use domain::draft::{clean, AddressDraft};
use domain::order::{OrderEvent, OrderFacts, PaymentState};
use domain::{Channel, Notes, ShipmentDraft};
use serde::Deserialize;

pub const HMAC_HEADER: &str = "x-shopify-hmac-sha256";
pub const TOPIC_HEADER: &str = "x-shopify-topic";
pub const WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";
pub const TRIGGERED_AT_HEADER: &str = "x-shopify-triggered-at";
pub const SHOP_DOMAIN_HEADER: &str = "x-shopify-shop-domain";

/// The shipment id of a whole order (payment policy). Under the ready-to-ship policy each
/// fulfillment is its own shipment, keyed by the fulfillment id.
pub const WHOLE_ORDER_SHIPMENT: &str = "1";

/// Shopify's own name for its cash-on-delivery manual payment method.
const COD_GATEWAY: &str = "cash on delivery";

/// The topics courier-bridge acts on. Anything else is acknowledged and recorded, not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrdersCreate,
    OrdersPaid,
    OrdersUpdated,
    OrdersCancelled,
    /// A fulfillment: under the ready-to-ship policy, one parcel of the order is ready.
    FulfillmentsCreate,
}

impl Topic {
    pub fn parse(topic: &str) -> Option<Topic> {
        match topic {
            "orders/create" => Some(Topic::OrdersCreate),
            "orders/paid" => Some(Topic::OrdersPaid),
            "orders/updated" => Some(Topic::OrdersUpdated),
            "orders/cancelled" => Some(Topic::OrdersCancelled),
            "fulfillments/create" => Some(Topic::FulfillmentsCreate),
            _ => None,
        }
    }
}

/// How Shopify signs and labels its webhooks.
pub static WEBHOOK: WebhookContract = WebhookContract {
    signature_header: HMAC_HEADER,
    verify: verify_signature,
    topic: TopicSource::Header(TOPIC_HEADER),
    delivery_id: DeliveryId::Header(WEBHOOK_ID_HEADER),
    triggered_at_header: Some(TRIGGERED_AT_HEADER),
    acts_on: |topic| Topic::parse(topic).is_some(),
    dedupe_key: delivery_id_is_key,
    unsigned_ping: None,
    handshake: None,
};

/// Checks `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the app's
/// secret). A blank secret never verifies.
pub fn verify_signature(secret: &str, body: &[u8], signature_b64: &str) -> bool {
    !secret.trim().is_empty()
        && crate::signature::verify_base64_hmac_sha256(secret.as_bytes(), body, signature_b64)
}

/// Reads a webhook body of an acted-on topic into an [`OrderEvent`].
pub fn order_event(topic: &str, body: &[u8], store: &str) -> Result<OrderEvent, ParseError> {
    match Topic::parse(topic) {
        None => Err(ParseError::UnknownTopic {
            channel: "shopify",
            topic: topic.to_owned(),
        }),
        Some(Topic::FulfillmentsCreate) => Ok(parse_fulfillment(body)?.to_event(store)),
        Some(_) => Ok(parse_order(body)?.to_event(store)),
    }
}

/// The subset of Shopify's `Order` that delivery needs. Every field a store may leave empty
/// is optional: absence becomes a review reason, not a parse error.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// Exact: serde_json reads integers into u64 without passing through f64.
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub contact_email: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub currency: Option<String>,
    pub total_price: Option<String>,
    pub total_outstanding: Option<String>,
    pub total_weight: Option<u64>,
    pub financial_status: Option<String>,
    #[serde(default)]
    pub confirmed: bool,
    pub cancelled_at: Option<String>,
    pub updated_at: Option<String>,
    pub gateway: Option<String>,
    #[serde(default)]
    pub payment_gateway_names: Vec<String>,
    pub shipping_address: Option<MailingAddress>,
    pub customer: Option<Customer>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub note_attributes: Vec<NoteAttribute>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailingAddress {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province_code: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    pub quantity: u32,
    #[serde(default = "default_true")]
    pub requires_shipping: bool,
    pub price: Option<String>,
    pub grams: Option<u64>,
    pub price_set: Option<PriceSet>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PriceSet {
    pub shop_money: Option<MoneySet>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MoneySet {
    pub currency_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShippingLine {
    pub title: Option<String>,
    pub code: Option<String>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct NoteAttribute {
    pub name: String,
    pub value: serde_json::Value,
}

/// Note attributes a checkout extension or a delivery-date app writes, read as structured
/// delivery data. Documented in docs/channels.md.
pub const WINDOW_START_ATTRIBUTE: &str = "delivery_window_start";
pub const WINDOW_END_ATTRIBUTE: &str = "delivery_window_end";
const ATTRIBUTES: [&str; 5] = [
    "entrance",
    "floor",
    "intercom",
    "fragile",
    "call_before_arrival",
];

/// A `fulfillments/create` body.
#[derive(Debug, Clone, Deserialize)]
pub struct Fulfillment {
    pub id: u64,
    pub order_id: u64,
    pub name: Option<String>,
    pub status: Option<String>,
    pub email: Option<String>,
    pub updated_at: Option<String>,
    pub destination: Option<MailingAddress>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    pub currency: Option<String>,
}

/// Parses an `orders/*` webhook body.
pub fn parse_order(body: &[u8]) -> Result<Order, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::malformed("shopify", "order", e))
}

/// Parses a `fulfillments/*` webhook body.
pub fn parse_fulfillment(body: &[u8]) -> Result<Fulfillment, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::malformed("shopify", "fulfillment", e))
}

impl Order {
    pub fn is_cash_on_delivery(&self) -> bool {
        self.payment_gateway_names
            .iter()
            .chain(self.gateway.iter())
            .any(|g| g.to_ascii_lowercase().starts_with(COD_GATEWAY))
    }

    /// The order's state as facts for the trigger policy. It reads the state, not the topic,
    /// so whichever of `orders/create`, `orders/paid` or `orders/updated` arrives first
    /// decides the same.
    pub fn facts(&self) -> OrderFacts {
        let payment = match self.financial_status.as_deref().unwrap_or("") {
            "paid" => PaymentState::Captured,
            "voided" | "refunded" => PaymentState::Voided,
            _ => PaymentState::Pending,
        };
        OrderFacts {
            cancelled: self.cancelled_at.is_some(),
            payment,
            cash_on_delivery: self.is_cash_on_delivery(),
            confirmed: self.confirmed,
            ready_to_ship: false,
            readiness_only: false,
            blocked: None,
        }
    }

    pub fn to_event(&self, store: &str) -> OrderEvent {
        OrderEvent {
            order_id: self.id.to_string(),
            facts: self.facts(),
            shipments: vec![self.draft(store)],
            occurred_at: self.updated_at.as_deref().and_then(parse_time),
        }
    }

    /// The whole order as one delivery.
    pub fn draft(&self, store: &str) -> ShipmentDraft {
        let mut d = ShipmentDraft::new(
            Channel::Shopify,
            store,
            &self.id.to_string(),
            WHOLE_ORDER_SHIPMENT,
        );
        d.order_name = self.name.clone();
        fill_destination(&mut d, self.shipping_address.as_ref());
        // The shipping address's phone is the one for this delivery; the order's and the
        // customer's are fallbacks the customer gave at checkout.
        d.phones.extend(self.phone.clone());
        d.phones
            .extend(self.customer.as_ref().and_then(|c| c.phone.clone()));
        d.email = clean(&self.email)
            .or_else(|| clean(&self.contact_email))
            .or_else(|| self.customer.as_ref().and_then(|c| clean(&c.email)));
        d.pieces = shipped_pieces(&self.line_items);
        d.weight_grams = self.total_weight;
        d.currency = self.currency.clone();
        d.cash_on_delivery = self.is_cash_on_delivery();
        // What the courier must collect is what is still owed; older payloads lack
        // total_outstanding, and then an unpaid COD order owes its total.
        d.amount = if d.cash_on_delivery {
            clean(&self.total_outstanding).or_else(|| clean(&self.total_price))
        } else {
            clean(&self.total_price)
        };
        d.shipping_method = self.shipping_lines.iter().find_map(|l| clean(&l.title));
        let attribute = |name: &str| {
            self.note_attributes
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| match &a.value {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Bool(b) => Some(b.to_string()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
        };
        d.window_start = attribute(WINDOW_START_ATTRIBUTE);
        d.window_end = attribute(WINDOW_END_ATTRIBUTE);
        let [entrance, floor, intercom, fragile, call] = ATTRIBUTES.map(attribute);
        if let Some(a) = d.address.as_mut() {
            a.entrance = entrance;
            a.floor = floor;
            a.intercom = intercom;
        }
        let yes = |v: Option<String>| {
            v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
        };
        d.notes = Notes {
            text: self.note.clone(),
            fragile: yes(fragile),
            call_before_arrival: yes(call),
        };
        d
    }
}

impl Fulfillment {
    /// A fulfillment is one parcel the warehouse made ready: its own shipment, keyed by the
    /// fulfillment id, carrying its own line items. The payload holds no payment data, so
    /// the parcel ships prepaid with the value of its items (COD stores ship whole orders).
    pub fn to_event(&self, store: &str) -> OrderEvent {
        let mut d = ShipmentDraft::new(
            Channel::Shopify,
            store,
            &self.order_id.to_string(),
            &self.id.to_string(),
        );
        d.order_name = self.name.clone();
        fill_destination(&mut d, self.destination.as_ref());
        d.email = clean(&self.email);
        d.pieces = shipped_pieces(&self.line_items);
        let grams: u64 = self
            .line_items
            .iter()
            .filter(|l| l.requires_shipping)
            .map(|l| l.grams.unwrap_or(0).saturating_mul(u64::from(l.quantity)))
            .sum();
        d.weight_grams = Some(grams);
        // Fulfillment payloads carry the currency on each item's price set.
        d.currency = self.currency.clone().or_else(|| {
            self.line_items.iter().find_map(|l| {
                l.price_set
                    .as_ref()?
                    .shop_money
                    .as_ref()?
                    .currency_code
                    .clone()
            })
        });
        d.amount = items_value(&self.line_items);
        let cancelled = matches!(
            self.status.as_deref(),
            Some("cancelled" | "error" | "failure")
        );
        OrderEvent {
            order_id: self.order_id.to_string(),
            facts: OrderFacts {
                cancelled,
                payment: PaymentState::Captured,
                cash_on_delivery: false,
                confirmed: true,
                ready_to_ship: true,
                readiness_only: true,
                blocked: None,
            },
            shipments: vec![d],
            occurred_at: self.updated_at.as_deref().and_then(parse_time),
        }
    }
}

/// The sum of `price × quantity` of the shipped items, as exact decimal text (no floats):
/// prices are added in their smallest unit after aligning decimals.
fn items_value(items: &[LineItem]) -> Option<String> {
    let mut total: i128 = 0;
    let mut scale = 0usize;
    let prices: Vec<(&str, u32)> = items
        .iter()
        .filter(|l| l.requires_shipping)
        .map(|l| Some((l.price.as_deref()?, l.quantity)))
        .collect::<Option<_>>()?;
    for (price, _) in &prices {
        scale = scale.max(price.split_once('.').map_or(0, |(_, f)| f.len()));
    }
    for (price, qty) in prices {
        let (int, frac) = price.split_once('.').unwrap_or((price, ""));
        let digits = format!("{int}{frac:0<scale$}");
        let minor: i128 = digits.parse().ok()?;
        total = total.checked_add(minor.checked_mul(i128::from(qty))?)?;
    }
    let text = format!("{:0>width$}", total, width = scale + 1);
    let (int, frac) = text.split_at(text.len() - scale);
    Some(if scale == 0 {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    })
}

fn shipped_pieces(items: &[LineItem]) -> u32 {
    items
        .iter()
        .filter(|l| l.requires_shipping)
        .fold(0u32, |sum, l| sum.saturating_add(l.quantity))
}

fn fill_destination(d: &mut ShipmentDraft, a: Option<&MailingAddress>) {
    let Some(a) = a else { return };
    d.recipient_name = clean(&a.name).or_else(|| {
        let joined = [&a.first_name, &a.last_name]
            .iter()
            .filter_map(|p| clean(p))
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    d.company = a.company.clone();
    d.phones.extend(a.phone.clone());
    d.address = Some(AddressDraft {
        street: a.address1.clone(),
        apartment: a.address2.clone(),
        city: a.city.clone(),
        region: clean(&a.province_code).or_else(|| clean(&a.province)),
        postal_code: a.zip.clone(),
        country_code: a.country_code.clone(),
        latitude: a.latitude,
        longitude: a.longitude,
        ..AddressDraft::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::order::Trigger;
    use domain::{Payment, ReviewReason, ServiceType, Shipment, StoreConfig, TriggerPolicy};
    use serde_json::json;

    fn paid_order() -> serde_json::Value {
        json!({
            "id": 5_000_000_000_000_000_001_u64,
            "name": "#1001",
            "email": "ana@example.com",
            "currency": "EUR",
            "total_price": "57.90",
            "total_weight": 1200,
            "financial_status": "paid",
            "confirmed": true,
            "cancelled_at": null,
            "payment_gateway_names": ["shopify_payments"],
            "note": "Leave at the door",
            "shipping_address": {
                "name": "Ana Lima", "address1": "Hauptstraße 5", "address2": "Wohnung 3",
                "city": "Berlin", "zip": "10115", "country_code": "DE", "province_code": null,
                "phone": "030 901820", "latitude": 52.52, "longitude": 13.40
            },
            "line_items": [
                {"quantity": 2, "requires_shipping": true},
                {"quantity": 1, "requires_shipping": false}
            ],
            "shipping_lines": [{"title": "Same Day Express"}]
        })
    }

    fn event(v: &serde_json::Value) -> OrderEvent {
        order_event("orders/updated", v.to_string().as_bytes(), "s").unwrap()
    }

    fn shipment(v: &serde_json::Value) -> Result<Shipment, Vec<ReviewReason>> {
        event(v).shipments[0].validate(&StoreConfig::default())
    }

    fn trigger(v: &serde_json::Value) -> Trigger {
        event(v).facts.trigger(TriggerPolicy::PaymentOrConfirmation)
    }

    #[test]
    fn a_paid_order_becomes_a_complete_shipment() {
        let config: StoreConfig = serde_json::from_value(json!({
            "service_rules": [{"service": "same_day", "shipping_method_contains": ["same day"]}]
        }))
        .unwrap();
        let s = event(&paid_order()).shipments[0].validate(&config).unwrap();
        assert_eq!(s.key.to_string(), "shopify:s:5000000000000000001:1");
        assert_eq!(s.recipient.phone.unwrap().e164, "+4930901820");
        assert_eq!(s.recipient.email.as_deref(), Some("ana@example.com"));
        assert_eq!(s.address.apartment.as_deref(), Some("Wohnung 3"));
        assert_eq!(s.address.latitude, Some(52.52));
        assert_eq!((s.parcel.pieces, s.parcel.weight_grams), (2, Some(1200)));
        assert!(matches!(s.payment, Payment::Prepaid { order_total } if order_total.minor == 5790));
        assert_eq!(s.notes.text.as_deref(), Some("Leave at the door"));
        assert_eq!(s.service, ServiceType::SameDay);
    }

    #[test]
    fn prepaid_orders_ship_on_payment_and_cod_orders_on_confirmation() {
        let mut v = paid_order();
        assert_eq!(trigger(&v), Trigger::Ship);
        v["financial_status"] = json!("authorized");
        assert!(
            matches!(trigger(&v), Trigger::Wait { .. }),
            "authorized is not captured"
        );
        v["payment_gateway_names"] = json!(["Cash on Delivery (COD)"]);
        v["financial_status"] = json!("pending");
        v["confirmed"] = json!(false);
        assert!(matches!(trigger(&v), Trigger::Wait { .. }));
        v["confirmed"] = json!(true);
        assert_eq!(trigger(&v), Trigger::Ship);
        v["cancelled_at"] = json!("2026-11-24T10:00:00Z");
        assert!(matches!(trigger(&v), Trigger::Cancel { .. }));
    }

    #[test]
    fn a_cod_order_collects_what_is_outstanding() {
        let mut v = paid_order();
        v["payment_gateway_names"] = json!(["Cash on Delivery (COD)"]);
        v["total_outstanding"] = json!("47.90");
        assert_eq!(
            shipment(&v).unwrap().payment.cod_amount().unwrap().minor,
            4790
        );
        v["total_outstanding"] = json!(null);
        assert_eq!(
            shipment(&v).unwrap().payment.cod_amount().unwrap().minor,
            5790
        );
    }

    #[test]
    fn every_missing_or_invalid_field_is_a_reason_at_once() {
        let mut v = paid_order();
        v["shipping_address"]["phone"] = json!(null);
        v["shipping_address"]["city"] = json!("  ");
        v["email"] = json!("not-an-email");
        v["total_price"] = json!("57.999");
        let reasons = shipment(&v).unwrap_err();
        assert_eq!(
            reasons.iter().map(ReviewReason::code).collect::<Vec<_>>(),
            [
                "missing_field",
                "missing_phone",
                "invalid_email",
                "invalid_amount"
            ]
        );
        assert_eq!(
            reasons[0],
            ReviewReason::MissingField {
                field: "address.city".into()
            }
        );
    }

    #[test]
    fn an_order_without_a_shipping_address_needs_review() {
        let mut v = paid_order();
        v["shipping_address"] = json!(null);
        assert!(shipment(&v)
            .unwrap_err()
            .contains(&ReviewReason::MissingAddress));
    }

    #[test]
    fn the_phone_falls_back_to_the_order_then_the_customer() {
        let mut v = paid_order();
        v["shipping_address"]["phone"] = json!(null);
        v["customer"] = json!({"phone": "+49 30 901821"});
        assert_eq!(
            shipment(&v).unwrap().recipient.phone.unwrap().e164,
            "+4930901821"
        );
        v["phone"] = json!("+49 30 901822");
        assert_eq!(
            shipment(&v).unwrap().recipient.phone.unwrap().e164,
            "+4930901822"
        );
    }

    #[test]
    fn note_attributes_carry_the_window_and_structured_delivery_notes() {
        let mut v = paid_order();
        v["note_attributes"] = json!([
            {"name": "delivery_window_start", "value": "2026-11-25T10:00:00+01:00"},
            {"name": "delivery_window_end", "value": "2026-11-25T12:00:00+01:00"},
            {"name": "intercom", "value": "45K"},
            {"name": "floor", "value": 3},
            {"name": "fragile", "value": "yes"}
        ]);
        let s = shipment(&v).unwrap();
        let window = s.window.unwrap();
        assert_eq!((window.end - window.start).whole_hours(), 2);
        assert_eq!(s.address.intercom.as_deref(), Some("45K"));
        assert_eq!(s.address.floor.as_deref(), Some("3"));
        assert!(s.notes.fragile && !s.notes.call_before_arrival);
        v["note_attributes"][1]["value"] = json!("2026-11-25T09:00:00+01:00");
        assert_eq!(
            shipment(&v).unwrap_err()[0].code(),
            "invalid_delivery_window"
        );
    }

    #[test]
    fn a_fulfillment_is_its_own_shipment_only_under_the_ready_to_ship_policy() {
        let body = json!({
            "id": 255858046, "order_id": 5_000_000_000_000_000_001_u64, "status": "success",
            "destination": {"name": "Ana Lima", "address1": "Hauptstraße 5", "city": "Berlin",
                            "zip": "10115", "country_code": "DE", "phone": "030 901820"},
            "line_items": [
                {"quantity": 2, "requires_shipping": true, "price": "19.95", "grams": 300},
                {"quantity": 1, "requires_shipping": true, "price": "5.5", "grams": 0}
            ],
            "currency": "EUR"
        });
        let e = order_event("fulfillments/create", body.to_string().as_bytes(), "s").unwrap();
        assert_eq!(e.facts.trigger(TriggerPolicy::ReadyToShip), Trigger::Ship);
        assert!(matches!(
            e.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
            Trigger::Ignore { .. }
        ));
        let s = e.shipments[0].validate(&StoreConfig::default()).unwrap();
        assert_eq!(s.key.to_string(), "shopify:s:5000000000000000001:255858046");
        assert_eq!((s.parcel.pieces, s.parcel.weight_grams), (3, Some(600)));
        assert!(matches!(s.payment, Payment::Prepaid { order_total } if order_total.minor == 4540));
    }

    #[test]
    fn item_values_add_exactly_across_decimal_places() {
        let item = |price: &str, quantity| LineItem {
            quantity,
            requires_shipping: true,
            price: Some(price.into()),
            grams: None,
            price_set: None,
        };
        assert_eq!(
            items_value(&[item("0.1", 3), item("0.20", 1)]).as_deref(),
            Some("0.50")
        );
        assert_eq!(items_value(&[item("1000", 2)]).as_deref(), Some("2000"));
        assert_eq!(items_value(&[item("x", 1)]), None);
    }
}
