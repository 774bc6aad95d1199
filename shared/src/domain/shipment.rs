//! The internal shipment: what every channel's order becomes, and what every courier's task
//! is made from. No channel or courier field name appears here.

use super::{Money, Phone};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Shopify,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
        }
    }
}

impl FromStr for Channel {
    type Err = ShipmentKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "shopify" => Ok(Channel::Shopify),
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

/// "shopify:demo-store:820982911946154508:1". Store names hold no ':', ids are digits, so
/// the form is unambiguous.
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
                if is_valid_store_name(store) && !order.is_empty() && !shipment.is_empty() =>
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    pub phone: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// Street and house number, as the customer wrote them.
    pub street: String,
    /// Apartment, suite, unit, floor: the second address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apartment: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub pieces: u32,
    /// Unknown when the store gave 0 or nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u64>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DeliveryWindow>,
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
