//! Shopify: webhook headers and topics, the order payload, the trigger policy, and the one
//! place where a Shopify field becomes a [`Shipment`] field.
//!
//! Contract: <https://shopify.dev/docs/apps/build/webhooks> (headers, HMAC of the raw body,
//! 5 s answer budget, retries with the same `X-Shopify-Webhook-Id`) and the REST `Order`
//! resource, which is what `orders/*` webhooks deliver.

use super::{NeedsReview, Trigger};
use crate::domain::{
    postal, Address, Channel, Currency, DeliveryWindow, Money, Parcel, Payment, Phone, Recipient,
    ReviewReason, Shipment, ShipmentKey,
};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const HMAC_HEADER: &str = "x-shopify-hmac-sha256";
pub const TOPIC_HEADER: &str = "x-shopify-topic";
pub const WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";
pub const TRIGGERED_AT_HEADER: &str = "x-shopify-triggered-at";
pub const SHOP_DOMAIN_HEADER: &str = "x-shopify-shop-domain";

/// The one shipment of a Shopify order until partial fulfillments split it (issue 3).
pub const WHOLE_ORDER_SHIPMENT: &str = "1";

/// Shopify's own name for its cash-on-delivery manual payment method.
const COD_GATEWAY: &str = "cash on delivery";

/// The topics courier-bridge acts on. Anything else is acknowledged and recorded, not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrdersCreate,
    OrdersPaid,
    OrdersUpdated,
}

impl Topic {
    pub fn parse(topic: &str) -> Option<Topic> {
        match topic {
            "orders/create" => Some(Topic::OrdersCreate),
            "orders/paid" => Some(Topic::OrdersPaid),
            "orders/updated" => Some(Topic::OrdersUpdated),
            _ => None,
        }
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
    pub gateway: Option<String>,
    #[serde(default)]
    pub payment_gateway_names: Vec<String>,
    pub shipping_address: Option<MailingAddress>,
    pub customer: Option<Customer>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
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
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct NoteAttribute {
    pub name: String,
    pub value: serde_json::Value,
}

/// Note attributes that carry a delivery window (RFC 3339), as a checkout extension or a
/// delivery-date app writes them. Documented in the README.
pub const WINDOW_START_ATTRIBUTE: &str = "delivery_window_start";
pub const WINDOW_END_ATTRIBUTE: &str = "delivery_window_end";

/// Parses an `orders/*` webhook body.
pub fn parse_order(body: &[u8]) -> Result<Order, serde_json::Error> {
    serde_json::from_slice(body)
}

impl Order {
    pub fn is_cash_on_delivery(&self) -> bool {
        self.payment_gateway_names
            .iter()
            .chain(self.gateway.iter())
            .any(|g| g.to_ascii_lowercase().starts_with(COD_GATEWAY))
    }

    /// The trigger policy: prepaid orders ship once payment is captured (`paid`); COD orders
    /// once the order is confirmed. It reads the order's state, not the topic, so whichever
    /// of `orders/create`, `orders/paid` or `orders/updated` arrives first decides the same.
    pub fn trigger(&self) -> Trigger {
        let status = self.financial_status.as_deref().unwrap_or("");
        if self.cancelled_at.is_some() {
            return Trigger::Ignore {
                why: "order cancelled".into(),
            };
        }
        if matches!(status, "voided" | "refunded") {
            return Trigger::Ignore {
                why: format!("payment {status}"),
            };
        }
        if self.is_cash_on_delivery() {
            if self.confirmed {
                Trigger::Ship
            } else {
                Trigger::Wait {
                    why: "cash-on-delivery order not confirmed".into(),
                }
            }
        } else if status == "paid" {
            Trigger::Ship
        } else {
            Trigger::Wait {
                why: format!("payment not captured (financial_status {status:?})"),
            }
        }
    }

    /// Maps the order to its shipment, or to every reason it cannot be one.
    pub fn to_shipment(&self, store: &str) -> Result<Shipment, NeedsReview> {
        let mut reasons = Vec::new();
        let key = ShipmentKey::new(
            Channel::Shopify,
            store,
            &self.id.to_string(),
            WHOLE_ORDER_SHIPMENT,
        );

        let address = match &self.shipping_address {
            None => {
                reasons.push(ReviewReason::MissingAddress);
                None
            }
            Some(a) => address(a, &mut reasons),
        };
        let country = self
            .shipping_address
            .as_ref()
            .and_then(|a| non_empty(&a.country_code))
            .unwrap_or_default();

        let name = self.shipping_address.as_ref().and_then(|a| {
            non_empty(&a.name).or_else(|| {
                let joined = [&a.first_name, &a.last_name]
                    .iter()
                    .filter_map(|p| non_empty(p))
                    .collect::<Vec<_>>()
                    .join(" ");
                (!joined.is_empty()).then_some(joined)
            })
        });
        if name.is_none() && self.shipping_address.is_some() {
            reasons.push(ReviewReason::MissingField {
                field: "shipping_address.name".into(),
            });
        }

        // The shipping address's phone is the one for this delivery; the order's and the
        // customer's are fallbacks the customer gave at checkout.
        let raw_phone = self
            .shipping_address
            .as_ref()
            .and_then(|a| non_empty(&a.phone))
            .or_else(|| non_empty(&self.phone))
            .or_else(|| self.customer.as_ref().and_then(|c| non_empty(&c.phone)));
        let phone = match raw_phone {
            None => {
                reasons.push(ReviewReason::MissingPhone);
                None
            }
            Some(raw) => match Phone::parse(&raw, &country) {
                Ok(p) => Some(p),
                Err(_) => {
                    reasons.push(ReviewReason::InvalidPhone { value: raw });
                    None
                }
            },
        };

        let email = non_empty(&self.email)
            .or_else(|| non_empty(&self.contact_email))
            .or_else(|| self.customer.as_ref().and_then(|c| non_empty(&c.email)));
        if let Some(e) = &email {
            if !looks_like_email(e) {
                reasons.push(ReviewReason::InvalidEmail { value: e.clone() });
            }
        }

        let pieces: u32 = self
            .line_items
            .iter()
            .filter(|l| l.requires_shipping)
            .map(|l| l.quantity)
            .sum();
        if pieces == 0 {
            reasons.push(ReviewReason::NothingToShip);
        }

        let payment = self.payment(&mut reasons);
        let window = self.window(&mut reasons);

        match (reasons.is_empty(), address, name, phone, payment) {
            (true, Some(address), Some(name), Some(phone), Some(payment)) => Ok(Shipment {
                key,
                order_name: non_empty(&self.name),
                recipient: Recipient {
                    name,
                    phone,
                    email,
                    company: self
                        .shipping_address
                        .as_ref()
                        .and_then(|a| non_empty(&a.company)),
                },
                address,
                parcel: Parcel {
                    pieces,
                    weight_grams: self.total_weight.filter(|w| *w > 0),
                },
                payment,
                notes: non_empty(&self.note),
                window,
            }),
            _ => Err(NeedsReview(reasons)),
        }
    }

    fn payment(&self, reasons: &mut Vec<ReviewReason>) -> Option<Payment> {
        let Some(code) = non_empty(&self.currency) else {
            reasons.push(ReviewReason::MissingField {
                field: "currency".into(),
            });
            return None;
        };
        let currency: Currency = match code.parse() {
            Ok(c) => c,
            Err(e) => {
                reasons.push(ReviewReason::InvalidAmount {
                    field: "currency".into(),
                    value: code,
                    error: format!("{e}"),
                });
                return None;
            }
        };
        // What the courier must collect is what is still owed; older payloads lack
        // total_outstanding, and then an unpaid COD order owes its total.
        let (field, text) = if self.is_cash_on_delivery() {
            match non_empty(&self.total_outstanding) {
                Some(t) => ("total_outstanding", Some(t)),
                None => ("total_price", non_empty(&self.total_price)),
            }
        } else {
            ("total_price", non_empty(&self.total_price))
        };
        let Some(text) = text else {
            reasons.push(ReviewReason::MissingField {
                field: field.into(),
            });
            return None;
        };
        match Money::parse(&text, currency) {
            Ok(amount) if self.is_cash_on_delivery() => Some(Payment::CashOnDelivery { amount }),
            Ok(order_total) => Some(Payment::Prepaid { order_total }),
            Err(e) => {
                reasons.push(ReviewReason::InvalidAmount {
                    field: field.into(),
                    value: text,
                    error: e.to_string(),
                });
                None
            }
        }
    }

    fn window(&self, reasons: &mut Vec<ReviewReason>) -> Option<DeliveryWindow> {
        let attribute = |name: &str| {
            self.note_attributes
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.value.as_str().map(str::to_owned))
        };
        let (start, end) = match (
            attribute(WINDOW_START_ATTRIBUTE),
            attribute(WINDOW_END_ATTRIBUTE),
        ) {
            (None, None) => return None,
            (Some(s), Some(e)) => (s, e),
            _ => {
                reasons.push(ReviewReason::InvalidDeliveryWindow {
                    error: "a window needs both a start and an end".into(),
                });
                return None;
            }
        };
        let parsed = OffsetDateTime::parse(&start, &Rfc3339)
            .and_then(|s| OffsetDateTime::parse(&end, &Rfc3339).map(|e| (s, e)));
        match parsed {
            Ok((start, end)) if start < end => Some(DeliveryWindow { start, end }),
            Ok(_) => {
                reasons.push(ReviewReason::InvalidDeliveryWindow {
                    error: format!("window ends ({end}) before it starts ({start})"),
                });
                None
            }
            Err(e) => {
                reasons.push(ReviewReason::InvalidDeliveryWindow {
                    error: e.to_string(),
                });
                None
            }
        }
    }
}

fn address(a: &MailingAddress, reasons: &mut Vec<ReviewReason>) -> Option<Address> {
    let mut require = |value: &Option<String>, field: &str| {
        let v = non_empty(value);
        if v.is_none() {
            reasons.push(ReviewReason::MissingField {
                field: format!("shipping_address.{field}"),
            });
        }
        v
    };
    let street = require(&a.address1, "address1");
    let city = require(&a.city, "city");
    let country = require(&a.country_code, "country_code");
    let country = country.filter(|c| {
        let ok = c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
        if !ok {
            reasons.push(ReviewReason::InvalidCountry { value: c.clone() });
        }
        ok
    });
    let postal_code = non_empty(&a.zip);
    if let (Some(code), Some(country)) = (&postal_code, &country) {
        if postal::is_valid(country, code) == Some(false) {
            reasons.push(ReviewReason::InvalidPostalCode {
                value: code.clone(),
                country: country.clone(),
            });
        }
    }
    Some(Address {
        street: street?,
        apartment: non_empty(&a.address2),
        city: city?,
        region: non_empty(&a.province_code).or_else(|| non_empty(&a.province)),
        postal_code,
        country_code: country?,
        latitude: a.latitude,
        longitude: a.longitude,
    })
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A deliberately small check: one '@', something before it, a dotted domain after it.
/// Full RFC 5322 validation rejects nothing a courier cares about.
fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            ]
        })
    }

    fn order(v: serde_json::Value) -> Order {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_paid_order_becomes_a_complete_shipment() {
        let shipment = order(paid_order()).to_shipment("demo-store").unwrap();
        assert_eq!(
            shipment.key.to_string(),
            "shopify:demo-store:5000000000000000001:1"
        );
        assert_eq!(shipment.recipient.phone.e164, "+4930901820");
        assert_eq!(shipment.recipient.email.as_deref(), Some("ana@example.com"));
        assert_eq!(shipment.address.apartment.as_deref(), Some("Wohnung 3"));
        assert_eq!(shipment.address.latitude, Some(52.52));
        assert_eq!(
            shipment.parcel,
            Parcel {
                pieces: 2,
                weight_grams: Some(1200)
            }
        );
        assert_eq!(shipment.payment.cod_amount(), None);
        assert!(
            matches!(shipment.payment, Payment::Prepaid { order_total } if order_total.minor == 5790)
        );
        assert_eq!(shipment.notes.as_deref(), Some("Leave at the door"));
    }

    #[test]
    fn prepaid_orders_ship_on_payment_and_cod_orders_on_confirmation() {
        let mut v = paid_order();
        assert_eq!(order(v.clone()).trigger(), Trigger::Ship);
        v["financial_status"] = json!("pending");
        assert!(matches!(order(v.clone()).trigger(), Trigger::Wait { .. }));
        v["financial_status"] = json!("authorized");
        assert!(
            matches!(order(v.clone()).trigger(), Trigger::Wait { .. }),
            "authorized is not captured"
        );

        v["payment_gateway_names"] = json!(["Cash on Delivery (COD)"]);
        v["financial_status"] = json!("pending");
        v["confirmed"] = json!(false);
        assert!(matches!(order(v.clone()).trigger(), Trigger::Wait { .. }));
        v["confirmed"] = json!(true);
        assert_eq!(order(v.clone()).trigger(), Trigger::Ship);

        v["cancelled_at"] = json!("2026-11-24T10:00:00Z");
        assert!(matches!(order(v).trigger(), Trigger::Ignore { .. }));
    }

    #[test]
    fn a_cod_order_collects_what_is_outstanding() {
        let mut v = paid_order();
        v["payment_gateway_names"] = json!(["Cash on Delivery (COD)"]);
        v["total_outstanding"] = json!("47.90");
        let shipment = order(v.clone()).to_shipment("s").unwrap();
        assert_eq!(shipment.payment.cod_amount().unwrap().minor, 4790);
        v["total_outstanding"] = json!(null);
        let shipment = order(v).to_shipment("s").unwrap();
        assert_eq!(shipment.payment.cod_amount().unwrap().minor, 5790);
    }

    #[test]
    fn every_missing_or_invalid_field_is_a_reason_at_once() {
        let mut v = paid_order();
        v["shipping_address"]["phone"] = json!(null);
        v["shipping_address"]["city"] = json!("  ");
        v["email"] = json!("not-an-email");
        v["total_price"] = json!("57.999");
        let NeedsReview(reasons) = order(v).to_shipment("s").unwrap_err();
        assert_eq!(
            reasons.iter().map(ReviewReason::code).collect::<Vec<_>>(),
            [
                "missing_field",
                "missing_phone",
                "invalid_email",
                "invalid_amount"
            ]
        );
    }

    #[test]
    fn an_order_without_a_shipping_address_needs_review() {
        let mut v = paid_order();
        v["shipping_address"] = json!(null);
        let NeedsReview(reasons) = order(v).to_shipment("s").unwrap_err();
        assert!(reasons.contains(&ReviewReason::MissingAddress));
    }

    #[test]
    fn the_phone_falls_back_to_the_order_then_the_customer() {
        let mut v = paid_order();
        v["shipping_address"]["phone"] = json!(null);
        v["customer"] = json!({"phone": "+49 30 901821"});
        assert_eq!(
            order(v.clone())
                .to_shipment("s")
                .unwrap()
                .recipient
                .phone
                .e164,
            "+4930901821"
        );
        v["phone"] = json!("+49 30 901822");
        assert_eq!(
            order(v).to_shipment("s").unwrap().recipient.phone.e164,
            "+4930901822"
        );
    }

    #[test]
    fn a_delivery_window_comes_from_note_attributes() {
        let mut v = paid_order();
        v["note_attributes"] = json!([
            {"name": "delivery_window_start", "value": "2026-11-25T10:00:00+01:00"},
            {"name": "delivery_window_end", "value": "2026-11-25T12:00:00+01:00"}
        ]);
        let window = order(v.clone()).to_shipment("s").unwrap().window.unwrap();
        assert_eq!((window.end - window.start).whole_hours(), 2);
        v["note_attributes"][1]["value"] = json!("2026-11-25T09:00:00+01:00");
        let NeedsReview(reasons) = order(v).to_shipment("s").unwrap_err();
        assert_eq!(reasons[0].code(), "invalid_delivery_window");
    }
}
