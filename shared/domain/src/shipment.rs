//! The internal shipment: what every channel's order becomes, and what every courier's task
//! is made from. No channel or courier field name appears here.

use super::{Money, Phone, ServiceType};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Shopify,
    #[serde(rename = "woocommerce")]
    WooCommerce,
    /// Amazon Selling Partner API (merchant-fulfilled orders).
    Amazon,
    /// The generic, documented JSON API for custom stores (docs/api/openapi.yaml).
    Api,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Shopify,
        Channel::WooCommerce,
        Channel::Amazon,
        Channel::Api,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woocommerce",
            Channel::Amazon => "amazon",
            Channel::Api => "api",
        }
    }
}

impl FromStr for Channel {
    type Err = ShipmentKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "shopify" => Ok(Channel::Shopify),
            "woocommerce" => Ok(Channel::WooCommerce),
            "amazon" => Ok(Channel::Amazon),
            "api" => Ok(Channel::Api),
            other => Err(ShipmentKeyError::UnknownChannel(other.to_owned())),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One delivery of one order: channel + store account + order id + shipment id. It is the
/// idempotency key of the task and the reference the courier stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShipmentKey {
    pub channel: Channel,
    pub store: String,
    /// Kept as text: channels' ids may exceed 2^53 and must never pass through a float.
    pub order_id: String,
    pub shipment_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentKeyError {
    #[error("unknown channel {0:?}")]
    UnknownChannel(String),
    #[error("{0:?} is not a shipment key (channel:store:order:shipment)")]
    Malformed(String),
}

/// Store names are the path segment of the webhook URL: lowercase letters, digits, '-', '_'
/// (a Shopify shop's subdomain fits), at most 64 characters.
pub fn is_valid_store_name(store: &str) -> bool {
    !store.is_empty()
        && store.len() <= 64
        && store
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl ShipmentKey {
    pub fn new(channel: Channel, store: &str, order_id: &str, shipment_id: &str) -> Self {
        ShipmentKey {
            channel,
            store: store.to_owned(),
            order_id: order_id.to_owned(),
            shipment_id: shipment_id.to_owned(),
        }
    }

    /// The order this shipment belongs to: "shopify:demo-store:820982911946154508".
    pub fn order_key(&self) -> String {
        format!("{}:{}:{}", self.channel, self.store, self.order_id)
    }
}

/// Order and shipment ids as channels give them ("820982911946154508", "903-8868176-2219830",
/// a custom store's "SO-1001/2"): printable ASCII without ':' or whitespace, at most 128
/// bytes, so that the key's text form stays unambiguous and fits a courier's reference field.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// "shopify:demo-store:820982911946154508:1". Store names and ids hold no ':', so the form
/// is unambiguous.
impl fmt::Display for ShipmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.order_key(), self.shipment_id)
    }
}

impl FromStr for ShipmentKey {
    type Err = ShipmentKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [channel, store, order, shipment]
                if is_valid_store_name(store) && is_valid_id(order) && is_valid_id(shipment) =>
            {
                Ok(ShipmentKey::new(channel.parse()?, store, order, shipment))
            }
            _ => Err(ShipmentKeyError::Malformed(s.to_owned())),
        }
    }
}

impl Serialize for ShipmentKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ShipmentKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    /// Absent only when a marketplace masks it and an alternate contact is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// How to reach the customer when the phone is masked (e.g. marketplace messaging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_contact: Option<Contact>,
}

/// A way to reach the customer other than their phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    /// The address on that channel (a marketplace relay e-mail, a conversation id).
    pub address: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// The marketplace's buyer–seller messaging (Amazon's relay e-mail address).
    MarketplaceMessaging,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// The street (with the house number when the customer wrote them together).
    pub street: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Apartment, suite, unit: the second address line when the channel has no finer fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apartment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercom: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// Kept as the channel gave them: a courier routes better on coordinates than on text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

impl Address {
    /// The second line a courier shows the driver: apartment, building, entrance, floor.
    pub fn details_line(&self) -> Option<String> {
        let parts: Vec<String> = [
            self.building.as_ref().map(|b| format!("bldg {b}")),
            self.apartment.clone(),
            self.entrance.as_ref().map(|e| format!("entrance {e}")),
            self.floor.as_ref().map(|f| format!("floor {f}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Street and house number on one line.
    pub fn street_line(&self) -> String {
        match &self.house {
            Some(house) => format!("{} {house}", self.street),
            None => self.street.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub length_mm: u64,
    pub width_mm: u64,
    pub height_mm: u64,
}

impl Dimensions {
    pub fn longest_side_mm(&self) -> u64 {
        self.length_mm.max(self.width_mm).max(self.height_mm)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub pieces: u32,
    /// Unknown when the store gave 0 or nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Dimensions>,
}

/// How the order is paid: the courier collects `amount` on delivery, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payment {
    Prepaid { order_total: Money },
    CashOnDelivery { amount: Money },
}

impl Payment {
    pub fn cod_amount(&self) -> Option<Money> {
        match self {
            Payment::CashOnDelivery { amount } => Some(*amount),
            Payment::Prepaid { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

/// Instructions for the driver: structured where the channel gives them, text otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fragile: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub call_before_arrival: bool,
}

impl Notes {
    /// One text for couriers without structured fields.
    pub fn to_text(&self, intercom: Option<&str>) -> Option<String> {
        let mut parts = Vec::new();
        if self.fragile {
            parts.push("FRAGILE".to_owned());
        }
        if self.call_before_arrival {
            parts.push("Call before arrival".to_owned());
        }
        if let Some(code) = intercom {
            parts.push(format!("Intercom {code}"));
        }
        parts.extend(self.text.clone());
        (!parts.is_empty()).then(|| parts.join(". "))
    }
}

/// A normalized, validated delivery: everything a courier needs, nothing channel-specific.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub key: ShipmentKey,
    /// The store's human order number ("#1001"), for drivers and dispatchers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_name: Option<String>,
    pub recipient: Recipient,
    pub address: Address,
    pub parcel: Parcel,
    pub payment: Payment,
    /// What the parcel is insured for, when the store declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured_value: Option<Money>,
    #[serde(default)]
    pub notes: Notes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DeliveryWindow>,
    pub service: ServiceType,
    /// The marketplace's latest ship date: the shipping confirmation must beat it.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ship_by: Option<OffsetDateTime>,
}

impl Shipment {
    /// Whether an edit of `self` into `other` changes what the courier was told. The fields
    /// an edit may change after creation: address, recipient contact, window, notes.
    pub fn courier_facing_change(&self, other: &Shipment) -> bool {
        self.address != other.address
            || self.recipient != other.recipient
            || self.window != other.window
            || self.notes != other.notes
            || self.payment != other.payment
            || self.parcel != other.parcel
            || self.service != other.service
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_keys_round_trip_through_their_text_form_with_big_ids_exact() {
        let key = ShipmentKey::new(Channel::Shopify, "demo-store", "820982911946154508", "1");
        assert_eq!(key.to_string(), "shopify:demo-store:820982911946154508:1");
        assert_eq!(key.to_string().parse::<ShipmentKey>().unwrap(), key);
        assert_eq!(key.order_key(), "shopify:demo-store:820982911946154508");
    }

    #[test]
    fn malformed_shipment_keys_are_rejected() {
        for bad in [
            "",
            "shopify:a:b",
            "shopify:Bad Store:1:1",
            "ebay:s:1:1",
            "amazon:s:1 2:1",
            "shopify:s::1",
        ] {
            assert!(bad.parse::<ShipmentKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn store_names_are_url_segment_safe() {
        assert!(is_valid_store_name("demo-store_2"));
        for bad in ["", "Demo", "a:b", "a/b", &"x".repeat(65)] {
            assert!(!is_valid_store_name(bad), "{bad}");
        }
    }
}
