//! The generic JSON API: the documented, versioned contract any custom store can implement,
//! and the one place where one of its fields becomes a draft field.
//!
//! Contract: `docs/api/openapi.yaml` (endpoint, headers, answers, the tracking callback),
//! `docs/api/order-event.v1.schema.json` (the body) and `docs/api/README.md` (signing, with
//! a worked example). `shared/tests/api_schema.rs` keeps the schema and this parser in step.
//!
//! Choices a store developer relies on:
//! - Every event carries the order's whole current state, so the decision reads the state,
//!   not the topic; only `order.cancelled` and `order.ready_to_ship` add a fact of their own.
//! - Each entry of `shipments` is its own delivery with its own key
//!   (`api:{store}:{order id}:{shipment id}`); without `shipments` the order is one shipment,
//!   [`WHOLE_ORDER_SHIPMENT`].
//! - Unknown fields are ignored (new optional fields arrive without a version bump), so the
//!   facts that decide whether money is collected or a parcel leaves are required, never
//!   defaulted: a misspelt `cancelled` must fail loudly, not read as `false`.
//! - The parser is never stricter than the schema about shape: whatever the schema accepts
//!   parses. Contents the schema cannot judge (a phone number, a currency's decimals) become
//!   review reasons in [`ShipmentDraft::validate`], as for every channel.

use crate::webhook::{delivery_id_is_key, DeliveryId, TopicSource, WebhookContract};
use crate::ParseError;
use domain::draft::AddressDraft;
use domain::order::{OrderEvent, OrderFacts, PaymentState};
use domain::shipment::is_valid_id;
use domain::{Channel, Dimensions, Notes, ShipmentDraft};
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const CHANNEL: &str = "api";

/// The body version this build reads. A new major shape becomes "2" and is read alongside
/// "1", so stores move over when they choose; additive changes stay within "1".
pub const SCHEMA_VERSION: &str = "1";

/// Base64 HMAC-SHA256 of the raw body, keyed with the store's signing secret.
pub const SIGNATURE_HEADER: &str = "x-courier-bridge-signature";
/// Unique per event and reused by every retry of it: the deduplication key.
pub const EVENT_ID_HEADER: &str = "x-courier-bridge-event-id";
/// One of [`Topic`]'s names, e.g. `order.updated`.
pub const TOPIC_HEADER: &str = "x-courier-bridge-topic";
/// Optional RFC 3339 time of this delivery attempt; informational (the body's `updated_at`
/// orders events).
pub const SENT_AT_HEADER: &str = "x-courier-bridge-sent-at";

/// The shipment id of an order sent without `shipments`.
pub const WHOLE_ORDER_SHIPMENT: &str = "1";

/// The topics courier-bridge acts on. Anything else is acknowledged and recorded, not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrderCreated,
    OrderUpdated,
    /// The listed shipments are packed (what the `ready_to_ship` trigger policy waits for).
    OrderReadyToShip,
    /// The order is cancelled, whatever its body says.
    OrderCancelled,
}

impl Topic {
    pub const ALL: [Topic; 4] = [
        Topic::OrderCreated,
        Topic::OrderUpdated,
        Topic::OrderReadyToShip,
        Topic::OrderCancelled,
    ];

    pub fn parse(topic: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == topic)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrderCreated => "order.created",
            Topic::OrderUpdated => "order.updated",
            Topic::OrderReadyToShip => "order.ready_to_ship",
            Topic::OrderCancelled => "order.cancelled",
        }
    }
}

/// Whether deliveries of this topic become order events.
pub fn acts_on(topic: &str) -> bool {
    Topic::parse(topic).is_some()
}

/// How the generic API's stores sign and label their events.
pub static WEBHOOK: WebhookContract = WebhookContract {
    signature_header: SIGNATURE_HEADER,
    verify: verify_signature,
    topic: TopicSource::Header(TOPIC_HEADER),
    delivery_id: DeliveryId::Header(EVENT_ID_HEADER),
    triggered_at_header: Some(SENT_AT_HEADER),
    acts_on,
    dedupe_key: delivery_id_is_key,
    unsigned_ping: None,
    handshake: None,
};

/// Event ids as the contract allows them: 1–128 visible ASCII characters (a UUID fits).
pub fn is_valid_event_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The `X-Courier-Bridge-Signature` of `body`: what a store sends and what the tracking
/// callback carries.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    crate::signature::sign_base64_hmac_sha256(secret, body)
}

/// Checks `X-Courier-Bridge-Signature` against the raw body (constant-time). A blank secret
/// never verifies: an HMAC keyed with nothing is one anyone can make.
pub fn verify_signature(secret: &str, body: &[u8], signature_b64: &str) -> bool {
    !secret.trim().is_empty()
        && crate::signature::verify_base64_hmac_sha256(secret.as_bytes(), body, signature_b64)
}

/// Reads a body of an acted-on topic into an [`OrderEvent`].
pub fn order_event(topic: &str, body: &[u8], store: &str) -> Result<OrderEvent, ParseError> {
    let topic = Topic::parse(topic).ok_or_else(|| ParseError::UnknownTopic {
        channel: CHANNEL,
        topic: topic.to_owned(),
    })?;
    Ok(parse_event(body)?.order.to_event(topic, store))
}

/// Parses and checks a body: its version first, so that a newer version is reported as
/// such rather than as whatever v1 field it lacks.
pub fn parse_event(body: &[u8]) -> Result<EventV1, ParseError> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: Option<serde_json::Value>,
    }
    let version: Version =
        serde_json::from_slice(body).map_err(|e| ParseError::malformed(CHANNEL, "event", e))?;
    match version.schema_version {
        Some(serde_json::Value::String(v)) if v == SCHEMA_VERSION => {}
        Some(serde_json::Value::String(v)) => {
            return Err(ParseError::malformed(
                CHANNEL,
                "schema_version",
                format!(
                    "unsupported schema_version {v:?}: this deployment reads {SCHEMA_VERSION:?}"
                ),
            ))
        }
        Some(other) => {
            return Err(ParseError::malformed(
                CHANNEL,
                "schema_version",
                format!(
                    "schema_version must be a string such as \"{SCHEMA_VERSION}\", not {other}"
                ),
            ))
        }
        None => {
            return Err(ParseError::malformed(
                CHANNEL,
                "schema_version",
                "schema_version is missing",
            ))
        }
    }
    let event: EventV1 =
        serde_json::from_slice(body).map_err(|e| ParseError::malformed(CHANNEL, "event", e))?;
    event.order.check()?;
    Ok(event)
}

/// A version-1 body: `{"schema_version": "1", "order": {…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventV1 {
    pub schema_version: String,
    pub order: Order,
}

/// The order's current state. Optional fields may be absent or `null`; what delivery needs
/// and the order lacks becomes a review reason, not a parse error.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub payment: Payment,
    pub cash_on_delivery: bool,
    /// The store accepted the order: what a cash-on-delivery order waits for.
    pub confirmed: bool,
    pub cancelled: bool,
    /// RFC 3339; orders events about the same order (older ones are stale).
    pub updated_at: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub notes: Option<OrderNotes>,
    #[serde(default)]
    pub delivery_window: Option<Window>,
    #[serde(default)]
    pub shipping_method: Option<String>,
    /// Partial shipments. Absent or `null`: the order is one shipment, described by the
    /// order-level parcel fields.
    #[serde(default)]
    pub shipments: Option<Vec<Shipment>>,
    /// Used only when `shipments` is absent.
    #[serde(flatten)]
    pub parcel: Parcel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payment {
    Captured,
    Pending,
    /// Voided or refunded: nothing ships.
    Voided,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Customer {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub house: Option<String>,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub apartment: Option<String>,
    #[serde(default)]
    pub entrance: Option<String>,
    #[serde(default)]
    pub floor: Option<String>,
    #[serde(default)]
    pub intercom: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderNotes {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub fragile: bool,
    #[serde(default)]
    pub call_before_arrival: bool,
}

/// Both bounds RFC 3339; a half or inverted window is a review reason.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Window {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

/// One delivery of the order.
#[derive(Debug, Clone, Deserialize)]
pub struct Shipment {
    pub id: String,
    #[serde(flatten)]
    pub parcel: Parcel,
}

/// What one delivery carries and costs: a shipment's fields, or the order's when it is one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Parcel {
    #[serde(default, deserialize_with = "whole")]
    pub pieces: u32,
    #[serde(default, deserialize_with = "whole")]
    pub weight_grams: Option<u64>,
    #[serde(default)]
    pub dimensions_mm: Option<DimensionsMm>,
    /// What the courier collects (cash on delivery) or the declared value (prepaid), as
    /// decimal text: a JSON number is refused, since it reaches most parsers as a binary
    /// float and 0.1 has no exact binary form.
    #[serde(default, deserialize_with = "decimal_text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "decimal_text")]
    pub insured_value: Option<String>,
    #[serde(default)]
    pub ready_to_ship: bool,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct DimensionsMm {
    #[serde(deserialize_with = "whole")]
    pub length: u64,
    #[serde(deserialize_with = "whole")]
    pub width: u64,
    #[serde(deserialize_with = "whole")]
    pub height: u64,
}

/// The largest whole number a JSON number holds exactly (2^53 - 1), the schema's maximum.
const MAX_WHOLE: f64 = 9_007_199_254_740_991.0;

/// A count the schema calls an integer. JSON Schema counts `1200.0` as one, and so does a
/// store that validates against it, so it is read as 1200; a fraction, a negative number or
/// one past the field's type is refused. (`null` is `None` for the optional fields.)
fn whole<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Whole,
{
    use serde::de::Error;
    let value = Option::<serde_json::Number>::deserialize(d)?;
    let Some(n) = value else {
        return T::none().ok_or_else(|| D::Error::custom("a whole number, not null"));
    };
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=MAX_WHOLE).contains(f))
            .map(|f| f as u64)
    });
    match whole {
        Some(w) => T::from_u64(w).ok_or_else(|| D::Error::custom(format!("{n} is too large"))),
        None => Err(D::Error::custom(format!(
            "{n} is not a whole number of 0 or more"
        ))),
    }
}

/// The integer fields [`whole`] reads.
trait Whole: Sized {
    fn from_u64(n: u64) -> Option<Self>;
    /// What `null` is, if the field may be null.
    fn none() -> Option<Self>;
}

impl Whole for u64 {
    fn from_u64(n: u64) -> Option<Self> {
        Some(n)
    }
    fn none() -> Option<Self> {
        None
    }
}

impl Whole for u32 {
    fn from_u64(n: u64) -> Option<Self> {
        u32::try_from(n).ok()
    }
    fn none() -> Option<Self> {
        None
    }
}

impl Whole for Option<u64> {
    fn from_u64(n: u64) -> Option<Self> {
        Some(Some(n))
    }
    fn none() -> Option<Self> {
        Some(None)
    }
}

/// Money as text; a JSON number gets an error that says why, not serde's "expected a string".
fn decimal_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Err(D::Error::custom(format!(
            "money is a decimal string (\"{n}\"), never a JSON number"
        ))),
        Some(other) => Err(D::Error::custom(format!(
            "money is a decimal string, not {other}"
        ))),
    }
}

impl Order {
    /// The rules serde cannot state: ids that fit a shipment key, an orderable time, and
    /// shipment ids unique within the order (each is an idempotency key).
    fn check(&self) -> Result<(), ParseError> {
        if !is_valid_id(&self.id) {
            return Err(ParseError::malformed(
                CHANNEL,
                "order.id",
                format!("{:?}: 1-128 visible ASCII characters, no ':'", self.id),
            ));
        }
        OffsetDateTime::parse(&self.updated_at, &Rfc3339).map_err(|e| {
            ParseError::malformed(
                CHANNEL,
                "order.updated_at",
                format!("{:?} is not RFC 3339: {e}", self.updated_at),
            )
        })?;
        if let Some(shipments) = &self.shipments {
            if shipments.is_empty() {
                return Err(ParseError::malformed(
                    CHANNEL,
                    "order.shipments",
                    "an empty list ships nothing; leave shipments out to ship the order whole",
                ));
            }
            let mut seen = HashSet::new();
            for s in shipments {
                if !is_valid_id(&s.id) {
                    return Err(ParseError::malformed(
                        CHANNEL,
                        "order.shipments[].id",
                        format!("{:?}: 1-128 visible ASCII characters, no ':'", s.id),
                    ));
                }
                if !seen.insert(s.id.as_str()) {
                    return Err(ParseError::malformed(
                        CHANNEL,
                        "order.shipments[].id",
                        format!("shipment id {:?} appears twice", s.id),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What the event means for the trigger policy.
    pub fn facts(&self, topic: Topic) -> OrderFacts {
        OrderFacts {
            cancelled: self.cancelled || topic == Topic::OrderCancelled,
            payment: match self.payment {
                Payment::Captured => PaymentState::Captured,
                Payment::Pending => PaymentState::Pending,
                Payment::Voided => PaymentState::Voided,
            },
            cash_on_delivery: self.cash_on_delivery,
            confirmed: self.confirmed,
            // One verdict per event: ready when the topic says so, or when every shipment in
            // the body is ready. Parcels packed one by one go out through order.ready_to_ship.
            ready_to_ship: topic == Topic::OrderReadyToShip
                || self.parcels().iter().all(|(_, p)| p.ready_to_ship),
            // The body carries the payment facts too, so the payment policy can decide on it.
            readiness_only: false,
            blocked: None,
        }
    }

    /// The order's deliveries: its shipments, or itself as one.
    fn parcels(&self) -> Vec<(&str, &Parcel)> {
        match &self.shipments {
            Some(list) => list.iter().map(|s| (s.id.as_str(), &s.parcel)).collect(),
            None => vec![(WHOLE_ORDER_SHIPMENT, &self.parcel)],
        }
    }

    pub fn to_event(&self, topic: Topic, store: &str) -> OrderEvent {
        OrderEvent {
            order_id: self.id.clone(),
            facts: self.facts(topic),
            shipments: self
                .parcels()
                .into_iter()
                .map(|(id, parcel)| self.draft(store, id, parcel))
                .collect(),
            occurred_at: OffsetDateTime::parse(&self.updated_at, &Rfc3339).ok(),
        }
    }

    fn draft(&self, store: &str, shipment_id: &str, parcel: &Parcel) -> ShipmentDraft {
        let mut d = ShipmentDraft::new(Channel::Api, store, &self.id, shipment_id);
        d.order_name = self.name.clone();
        let customer = self.customer.clone().unwrap_or_default();
        d.recipient_name = customer.name;
        d.company = customer.company;
        d.phones.extend(customer.phone);
        d.email = customer.email;
        d.address = self.shipping_address.as_ref().map(|a| AddressDraft {
            street: a.street.clone(),
            house: a.house.clone(),
            building: a.building.clone(),
            apartment: a.apartment.clone(),
            entrance: a.entrance.clone(),
            floor: a.floor.clone(),
            intercom: a.intercom.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country_code: a.country_code.clone(),
            latitude: a.latitude,
            longitude: a.longitude,
        });
        d.pieces = parcel.pieces;
        d.weight_grams = parcel.weight_grams;
        // A side of 0 mm is no measurement: the size counts as unknown, like a weight of 0.
        d.dimensions = parcel
            .dimensions_mm
            .filter(|m| m.length > 0 && m.width > 0 && m.height > 0)
            .map(|m| Dimensions {
                length_mm: m.length,
                width_mm: m.width,
                height_mm: m.height,
            });
        d.currency = self.currency.clone();
        d.cash_on_delivery = self.cash_on_delivery;
        // Never the order's amount for a partial shipment: that would collect it twice.
        d.amount = parcel.amount.clone();
        d.insured_value = parcel.insured_value.clone();
        let notes = self.notes.clone().unwrap_or_default();
        d.notes = Notes {
            text: notes.text,
            fragile: notes.fragile,
            call_before_arrival: notes.call_before_arrival,
        };
        let window = self.delivery_window.clone().unwrap_or_default();
        d.window_start = window.start;
        d.window_end = window.end;
        d.shipping_method = self.shipping_method.clone();
        d
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_numbers_written_as_decimals_are_read_and_fractions_refused() {
        let parcel: super::Parcel = serde_json::from_value(serde_json::json!({
            "pieces": 2.0, "weight_grams": 1200.0,
            "dimensions_mm": {"length": 376.0, "width": 280, "height": 90}
        }))
        .unwrap();
        assert_eq!(parcel.pieces, 2);
        assert_eq!(parcel.weight_grams, Some(1200));
        assert_eq!(parcel.dimensions_mm.map(|d| d.length), Some(376));
        let null: super::Parcel =
            serde_json::from_value(serde_json::json!({"weight_grams": null})).unwrap();
        assert_eq!(null.weight_grams, None);
        for bad in [
            serde_json::json!({"weight_grams": 1200.5}),
            serde_json::json!({"weight_grams": -1}),
            serde_json::json!({"pieces": 4294967296u64}),
            serde_json::json!({"pieces": null}),
        ] {
            assert!(
                serde_json::from_value::<super::Parcel>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    use super::*;
    use domain::order::Trigger;
    use domain::{Payment as Paid, ReviewReason, ServiceType, StoreConfig, TriggerPolicy};
    use serde_json::{json, Value};

    fn order() -> Value {
        json!({
            "schema_version": "1",
            "order": {
                "id": "SO-1001",
                "name": "#1001",
                "payment": "captured",
                "cash_on_delivery": false,
                "confirmed": true,
                "cancelled": false,
                "updated_at": "2026-11-24T10:00:00+01:00",
                "currency": "EUR",
                "customer": {"name": "Ana Lima", "phone": "+49 30 901820",
                             "email": "ana@example.com", "company": null},
                "shipping_address": {
                    "street": "Hauptstraße", "house": "5", "apartment": "3", "floor": "2",
                    "intercom": "45K", "city": "Berlin", "postal_code": "10115",
                    "country_code": "DE", "latitude": 52.52, "longitude": 13.405
                },
                "notes": {"text": "Leave with the neighbour", "fragile": true},
                "delivery_window": {"start": "2026-11-25T10:00:00+01:00",
                                    "end": "2026-11-25T12:00:00+01:00"},
                "shipping_method": "Same Day Express",
                "pieces": 2,
                "weight_grams": 1200,
                "dimensions_mm": {"length": 300, "width": 200, "height": 100},
                "amount": "57.90",
                "insured_value": "50.00"
            }
        })
    }

    fn event(topic: &str, v: &Value) -> OrderEvent {
        order_event(topic, v.to_string().as_bytes(), "shop").unwrap()
    }

    fn error(v: &Value) -> ParseError {
        order_event("order.updated", v.to_string().as_bytes(), "shop").unwrap_err()
    }

    #[test]
    fn a_whole_order_is_one_complete_shipment() {
        let e = event("order.created", &order());
        assert_eq!(e.order_id, "SO-1001");
        assert_eq!(
            e.occurred_at.map(|t| t.unix_timestamp()),
            Some(1_795_510_800)
        );
        assert_eq!(e.shipments.len(), 1);
        let config: StoreConfig = serde_json::from_value(json!({
            "service_rules": [{"service": "same_day", "shipping_method_contains": ["same day"]}]
        }))
        .unwrap();
        let s = e.shipments[0].validate(&config).unwrap();
        assert_eq!(s.key.to_string(), "api:shop:SO-1001:1");
        assert_eq!(s.recipient.phone.unwrap().e164, "+4930901820");
        assert_eq!(s.address.street_line(), "Hauptstraße 5");
        assert_eq!(s.address.intercom.as_deref(), Some("45K"));
        assert_eq!(s.address.longitude, Some(13.405));
        assert_eq!(s.parcel.dimensions.map(|d| d.longest_side_mm()), Some(300));
        assert!(matches!(s.payment, Paid::Prepaid { order_total } if order_total.minor == 5790));
        assert_eq!(s.insured_value.map(|m| m.minor), Some(5000));
        assert!(s.notes.fragile && !s.notes.call_before_arrival);
        assert_eq!(s.window.map(|w| (w.end - w.start).whole_hours()), Some(2));
        assert_eq!(s.service, ServiceType::SameDay);
        assert_eq!(
            e.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
            Trigger::Ship
        );
    }

    #[test]
    fn partial_shipments_are_separate_deliveries_each_with_its_own_amount() {
        let mut v = order();
        v["order"]["cash_on_delivery"] = json!(true);
        v["order"]["payment"] = json!("pending");
        v["order"]["shipments"] = json!([
            {"id": "A", "pieces": 1, "amount": "40.00", "weight_grams": 800},
            {"id": "B", "pieces": 1, "amount": "17.90"}
        ]);
        let e = event("order.created", &v);
        let shipments: Vec<_> = e
            .shipments
            .iter()
            .map(|d| d.validate(&StoreConfig::default()).unwrap())
            .collect();
        let keys: Vec<String> = shipments.iter().map(|s| s.key.to_string()).collect();
        assert_eq!(keys, ["api:shop:SO-1001:A", "api:shop:SO-1001:B"]);
        let cod: Vec<i64> = shipments
            .iter()
            .map(|s| s.payment.cod_amount().unwrap().minor)
            .collect();
        assert_eq!(cod, [4000, 1790], "never the order's 57.90 twice");
        assert_eq!(shipments[1].parcel.weight_grams, None);
        // A shipment without its own amount is a review, not the order's amount.
        v["order"]["shipments"][1]["amount"] = json!(null);
        let e = event("order.created", &v);
        assert_eq!(
            e.shipments[1]
                .validate(&StoreConfig::default())
                .unwrap_err(),
            [ReviewReason::MissingField {
                field: "amount".into()
            }]
        );
    }

    #[test]
    fn the_topic_adds_cancellation_and_readiness_and_the_state_decides_the_rest() {
        let v = order();
        let policy = TriggerPolicy::ReadyToShip;
        assert!(matches!(
            event("order.updated", &v).facts.trigger(policy),
            Trigger::Wait { .. }
        ));
        let ready = event("order.ready_to_ship", &v);
        assert_eq!(ready.facts.trigger(policy), Trigger::Ship);
        assert_eq!(
            ready.facts.trigger(TriggerPolicy::PaymentOrConfirmation),
            Trigger::Ship,
            "the body carries the payment facts, so it is not a readiness-only event"
        );
        assert!(matches!(
            event("order.cancelled", &v).facts.trigger(policy),
            Trigger::Cancel { .. }
        ));
        let mut voided = v.clone();
        voided["order"]["payment"] = json!("voided");
        assert!(matches!(
            event("order.created", &voided).facts.trigger(policy),
            Trigger::Cancel { .. }
        ));
    }

    #[test]
    fn readiness_in_the_body_counts_only_when_every_shipment_is_ready() {
        let mut v = order();
        v["order"]["shipments"] = json!([
            {"id": "A", "pieces": 1, "amount": "40.00", "ready_to_ship": true},
            {"id": "B", "pieces": 1, "amount": "17.90", "ready_to_ship": false}
        ]);
        assert!(!event("order.updated", &v).facts.ready_to_ship);
        v["order"]["shipments"][1]["ready_to_ship"] = json!(true);
        assert!(event("order.updated", &v).facts.ready_to_ship);
        // A ready_to_ship event lists the parcels it declares ready, whatever they say.
        v["order"]["shipments"] = json!([{"id": "B", "pieces": 1, "amount": "17.90"}]);
        let e = event("order.ready_to_ship", &v);
        assert!(e.facts.ready_to_ship);
        assert_eq!(e.shipments.len(), 1);
    }

    #[test]
    fn cash_on_delivery_waits_for_confirmation() {
        let mut v = order();
        v["order"]["cash_on_delivery"] = json!(true);
        v["order"]["payment"] = json!("pending");
        v["order"]["confirmed"] = json!(false);
        let policy = TriggerPolicy::PaymentOrConfirmation;
        assert!(matches!(
            event("order.created", &v).facts.trigger(policy),
            Trigger::Wait { .. }
        ));
        v["order"]["confirmed"] = json!(true);
        let e = event("order.updated", &v);
        assert_eq!(e.facts.trigger(policy), Trigger::Ship);
        let s = e.shipments[0].validate(&StoreConfig::default()).unwrap();
        assert_eq!(s.payment.cod_amount().map(|m| m.minor), Some(5790));
    }

    #[test]
    fn versions_other_than_1_are_refused_as_such() {
        let mut v = order();
        v["schema_version"] = json!("2");
        v["order"] = json!({"completely": "different"});
        let e = error(&v);
        assert!(
            matches!(&e, ParseError::Malformed { what: "schema_version", error, .. }
                if error.contains("unsupported schema_version \"2\"")),
            "{e}"
        );
        v["schema_version"] = json!(1);
        assert!(matches!(
            error(&v),
            ParseError::Malformed {
                what: "schema_version",
                ..
            }
        ));
        let body = json!({"order": order()["order"]});
        assert!(matches!(
            error(&body),
            ParseError::Malformed {
                what: "schema_version",
                ..
            }
        ));
    }

    #[test]
    fn money_as_a_json_number_is_refused_with_the_reason() {
        let mut v = order();
        v["order"]["amount"] = json!(57.9);
        let e = error(&v).to_string();
        assert!(e.contains("never a JSON number"), "{e}");
    }

    #[test]
    fn required_facts_are_never_defaulted_and_unknown_fields_are_ignored() {
        let mut v = order();
        v["order"]["canceled"] = json!(true);
        v["order"]["gift_wrap"] = json!({"paper": "red"});
        v["sent_by"] = json!("shop-backend/3.2");
        assert!(!event("order.updated", &v).facts.cancelled);
        v["order"].as_object_mut().unwrap().remove("cancelled");
        assert!(error(&v).to_string().contains("cancelled"));
    }

    #[test]
    fn ids_that_cannot_be_part_of_a_key_are_refused() {
        for (path, bad) in [
            ("id", json!("SO:1")),
            ("id", json!("")),
            ("id", json!("x".repeat(129))),
            ("id", json!(1001)),
        ] {
            let mut v = order();
            v["order"][path] = bad.clone();
            assert!(order_event("order.created", v.to_string().as_bytes(), "s").is_err());
        }
        let mut v = order();
        v["order"]["shipments"] = json!([
            {"id": "A", "pieces": 1, "amount": "1.00"},
            {"id": "A", "pieces": 1, "amount": "2.00"}
        ]);
        assert!(error(&v).to_string().contains("appears twice"));
        v["order"]["shipments"] = json!([{"id": "A B", "pieces": 1, "amount": "1.00"}]);
        assert!(error(&v).to_string().contains("shipments[].id"));
        v["order"]["shipments"] = json!([]);
        assert!(error(&v).to_string().contains("empty"));
        v["order"]["shipments"] = Value::Null;
        assert_eq!(event("order.created", &v).shipments[0].shipment_id, "1");
    }

    #[test]
    fn updated_at_must_be_rfc_3339() {
        let mut v = order();
        v["order"]["updated_at"] = json!("2026-11-24 10:00");
        assert!(error(&v).to_string().contains("updated_at"));
    }

    #[test]
    fn unknown_topics_are_not_acted_on() {
        assert!(!acts_on("order.deleted"));
        assert!(Topic::ALL.iter().all(|t| acts_on(t.as_str())));
        assert!(matches!(
            order_event("order.deleted", b"{}", "s"),
            Err(ParseError::UnknownTopic { channel: "api", .. })
        ));
    }

    #[test]
    fn missing_delivery_data_becomes_review_reasons_not_parse_errors() {
        let mut v = order();
        let o = v["order"].as_object_mut().unwrap();
        for field in [
            "customer",
            "shipping_address",
            "currency",
            "pieces",
            "amount",
        ] {
            o.remove(field);
        }
        let reasons = event("order.created", &v).shipments[0]
            .validate(&StoreConfig::default())
            .unwrap_err();
        let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
        assert_eq!(
            codes,
            [
                "missing_address",
                "missing_field",
                "missing_phone",
                "nothing_to_ship",
                "missing_field"
            ]
        );
    }

    #[test]
    fn a_zero_side_is_an_unknown_size() {
        let mut v = order();
        v["order"]["dimensions_mm"]["height"] = json!(0);
        assert_eq!(event("order.created", &v).shipments[0].dimensions, None);
    }

    #[test]
    fn signatures_round_trip_and_a_blank_secret_never_verifies() {
        let sig = sign(b"secret", b"{}");
        assert!(verify_signature("secret", b"{}", &sig));
        assert!(!verify_signature("secret", b"{} ", &sig));
        assert!(!verify_signature(" ", b"{}", &sign(b" ", b"{}")));
        assert!(is_valid_event_id("5f0c6f1e-1b7a-4c1e-9d5e-2b1f3c4d5e6f"));
        assert!(!is_valid_event_id("has space"));
    }
}
