//! The draft: a channel's order as text, before validation. Every channel adapter fills one
//! (it owns the field names); [`ShipmentDraft::validate`] is the one place that turns text
//! into a [`Shipment`] or into every reason it cannot be one. Operators fix a draft by its
//! field paths (`address.postal_code`), so the paths in review reasons are the draft's.
//!
//! Validation first removes the bidi controls of every text field a person will see, then
//! holds each to its limit ([`crate::text`]): a field over it is a `too_long` reason, never
//! a value cut to fit.

use super::rules::ServiceFacts;
use super::{
    postal, Address, Channel, Contact, Currency, DeliveryWindow, Dimensions, Money, Notes, Parcel,
    Payment, Phone, Recipient, ReviewReason, Shipment, ShipmentKey, StoreConfig,
};
use crate::shipment::is_valid_id;
use crate::text::{self, Limit};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDraft {
    pub channel: Channel,
    pub store: String,
    pub order_id: String,
    pub shipment_id: String,
    #[serde(default)]
    pub order_name: Option<String>,
    #[serde(default)]
    pub recipient_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// Candidates in order of preference (the delivery address's first); the first given one
    /// is the delivery phone.
    #[serde(default)]
    pub phones: Vec<String>,
    /// The channel hides the buyer's phone (marketplaces); then an alternate contact may
    /// stand in for it.
    #[serde(default)]
    pub phone_masked: bool,
    #[serde(default)]
    pub alternate_contact: Option<Contact>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<AddressDraft>,
    #[serde(default)]
    pub pieces: u32,
    #[serde(default)]
    pub weight_grams: Option<u64>,
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub cash_on_delivery: bool,
    /// What the courier collects (COD) or the order's total (prepaid), as decimal text.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub insured_value: Option<String>,
    #[serde(default)]
    pub notes: Notes,
    #[serde(default)]
    pub window_start: Option<String>,
    #[serde(default)]
    pub window_end: Option<String>,
    #[serde(default)]
    pub shipping_method: Option<String>,
    /// RFC 3339: the marketplace's latest ship date.
    #[serde(default)]
    pub ship_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddressDraft {
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

impl ShipmentDraft {
    pub fn new(channel: Channel, store: &str, order_id: &str, shipment_id: &str) -> Self {
        ShipmentDraft {
            channel,
            store: store.to_owned(),
            order_id: order_id.to_owned(),
            shipment_id: shipment_id.to_owned(),
            order_name: None,
            recipient_name: None,
            company: None,
            phones: Vec::new(),
            phone_masked: false,
            alternate_contact: None,
            email: None,
            address: None,
            pieces: 0,
            weight_grams: None,
            dimensions: None,
            currency: None,
            cash_on_delivery: false,
            amount: None,
            insured_value: None,
            notes: Notes::default(),
            window_start: None,
            window_end: None,
            shipping_method: None,
            ship_by: None,
        }
    }

    /// The key this draft will have as a shipment (valid or not: review items use its text).
    pub fn key(&self) -> ShipmentKey {
        ShipmentKey::new(self.channel, &self.store, &self.order_id, &self.shipment_id)
    }

    /// The text fields a courier, a driver or a customer is shown: names, contacts, the
    /// address's parts, notes. Ids (checked to be printable ASCII) and the parsed fields
    /// (amounts, dates) are not among them.
    fn texts(&self) -> impl Iterator<Item = &String> {
        let address = self.address.iter().flat_map(|a| {
            [
                &a.street,
                &a.house,
                &a.building,
                &a.apartment,
                &a.entrance,
                &a.floor,
                &a.intercom,
                &a.city,
                &a.region,
                &a.postal_code,
                &a.country_code,
            ]
            .into_iter()
            .flatten()
        });
        [
            &self.order_name,
            &self.recipient_name,
            &self.company,
            &self.email,
            &self.notes.text,
        ]
        .into_iter()
        .flatten()
        .chain(&self.phones)
        .chain(self.alternate_contact.as_ref().map(|c| &c.address))
        .chain(address)
    }

    /// [`ShipmentDraft::texts`], to change them.
    fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        let address = self.address.iter_mut().flat_map(|a| {
            let AddressDraft {
                street,
                house,
                building,
                apartment,
                entrance,
                floor,
                intercom,
                city,
                region,
                postal_code,
                country_code,
                ..
            } = a;
            [
                street,
                house,
                building,
                apartment,
                entrance,
                floor,
                intercom,
                city,
                region,
                postal_code,
                country_code,
            ]
            .into_iter()
            .flatten()
        });
        [
            &mut self.order_name,
            &mut self.recipient_name,
            &mut self.company,
            &mut self.email,
            &mut self.notes.text,
        ]
        .into_iter()
        .flatten()
        .chain(&mut self.phones)
        .chain(self.alternate_contact.as_mut().map(|c| &mut c.address))
        .chain(address)
    }

    /// Whether a text field a person will see carries a bidi control.
    pub fn has_bidi_controls(&self) -> bool {
        self.texts().any(|t| text::has_bidi_controls(t))
    }

    /// Removes the bidi controls ([`text::strip_bidi_controls`]) from every text field a
    /// courier, a driver or a customer will see: what normalize and the review desk keep.
    pub fn strip_bidi_controls(&mut self) {
        self.texts_mut().for_each(text::strip_bidi_controls_in);
    }

    /// This draft without bidi controls; borrowed when it has none.
    pub fn without_bidi_controls(&self) -> Cow<'_, ShipmentDraft> {
        if self.has_bidi_controls() {
            let mut stripped = self.clone();
            stripped.strip_bidi_controls();
            Cow::Owned(stripped)
        } else {
            Cow::Borrowed(self)
        }
    }

    /// Validates every field and collects every problem at once, so that an operator fixes
    /// the order in one pass. The text is read without its bidi controls, and each text
    /// field is held to its limit ([`crate::text`]): over it, the field is a `too_long`
    /// reason and the draft no shipment, so nothing is ever cut.
    pub fn validate(&self, config: &StoreConfig) -> Result<Shipment, Vec<ReviewReason>> {
        self.without_bidi_controls().validate_stripped(config)
    }

    fn validate_stripped(&self, config: &StoreConfig) -> Result<Shipment, Vec<ReviewReason>> {
        let mut reasons = Vec::new();
        for (field, id) in [
            ("order_id", &self.order_id),
            ("shipment_id", &self.shipment_id),
        ] {
            if !is_valid_id(id) {
                reasons.push(ReviewReason::InvalidId {
                    field: field.into(),
                    value: id.clone(),
                });
            }
        }
        let address = match &self.address {
            None => {
                reasons.push(ReviewReason::MissingAddress);
                None
            }
            Some(a) => a.validate(&mut reasons),
        };
        let country = address
            .as_ref()
            .map(|a| a.country_code.clone())
            .unwrap_or_default();
        let order_name = limited(&self.order_name, &text::ORDER_NAME, &mut reasons);
        let name = limited(&self.recipient_name, &text::RECIPIENT_NAME, &mut reasons);
        if name.is_none() {
            reasons.push(ReviewReason::MissingField {
                field: "recipient_name".into(),
            });
        }
        let company = limited(&self.company, &text::COMPANY, &mut reasons);
        let phone = self.phone(&country, &mut reasons);
        let email = clean(&self.email);
        if let Some(e) = &email {
            if text::EMAIL.admits(e, &mut reasons) && !looks_like_email(e) {
                reasons.push(ReviewReason::InvalidEmail { value: e.clone() });
            }
        }
        if let Some(contact) = &self.alternate_contact {
            text::ALTERNATE_CONTACT.admits(&contact.address, &mut reasons);
        }
        let notes_text = limited(&self.notes.text, &text::NOTES, &mut reasons);
        if self.pieces == 0 {
            reasons.push(ReviewReason::NothingToShip);
        }
        let currency = self.currency(&mut reasons);
        let payment = currency.and_then(|c| self.payment(c, &mut reasons));
        let insured_value = currency.and_then(|c| {
            let text = clean(&self.insured_value)?;
            money(&text, c, "insured_value", &mut reasons)
        });
        let window = self.window(&mut reasons);
        let ship_by =
            clean(&self.ship_by).and_then(|t| match OffsetDateTime::parse(&t, &Rfc3339) {
                Ok(t) => Some(t),
                Err(e) => {
                    reasons.push(ReviewReason::InvalidDate {
                        field: "ship_by".into(),
                        value: t,
                        error: e.to_string(),
                    });
                    None
                }
            });

        match (reasons.is_empty(), address, name, payment) {
            (true, Some(address), Some(name), Some(payment)) => {
                let service = config.service_for(&ServiceFacts {
                    shipping_method: self.shipping_method.as_deref(),
                    weight_grams: self.weight_grams,
                    dimensions: self.dimensions,
                    has_window: window.is_some(),
                });
                Ok(Shipment {
                    key: self.key(),
                    order_name,
                    recipient: Recipient {
                        name,
                        phone,
                        email,
                        company,
                        alternate_contact: self.alternate_contact.clone(),
                    },
                    address,
                    parcel: Parcel {
                        pieces: self.pieces,
                        weight_grams: self.weight_grams.filter(|w| *w > 0),
                        dimensions: self.dimensions,
                    },
                    payment,
                    insured_value,
                    notes: Notes {
                        text: notes_text,
                        ..self.notes.clone()
                    },
                    window,
                    service,
                    ship_by,
                })
            }
            _ => Err(reasons),
        }
    }

    /// The delivery phone. A masked or absent one is acceptable only when the channel gave an
    /// alternate contact (marketplace messaging); otherwise the driver could not call.
    fn phone(&self, country: &str, reasons: &mut Vec<ReviewReason>) -> Option<Phone> {
        let raw = self.phones.iter().map(|p| p.trim()).find(|p| !p.is_empty());
        match raw {
            // Too long to be a number: said as such, not as a number that does not parse.
            Some(raw) if !self.phone_masked && !text::PHONE.admits(raw, reasons) => None,
            Some(raw) if !self.phone_masked => match Phone::parse(raw, country) {
                Ok(p) => Some(p),
                Err(_) => {
                    reasons.push(ReviewReason::InvalidPhone {
                        value: raw.to_owned(),
                    });
                    None
                }
            },
            _ if self.alternate_contact.is_some() => None,
            Some(_) => {
                reasons.push(ReviewReason::MaskedPhone);
                None
            }
            None => {
                reasons.push(ReviewReason::MissingPhone);
                None
            }
        }
    }

    fn currency(&self, reasons: &mut Vec<ReviewReason>) -> Option<Currency> {
        let Some(code) = clean(&self.currency) else {
            reasons.push(ReviewReason::MissingField {
                field: "currency".into(),
            });
            return None;
        };
        match code.parse() {
            Ok(c) => Some(c),
            Err(e) => {
                reasons.push(ReviewReason::InvalidAmount {
                    field: "currency".into(),
                    value: code,
                    error: format!("{e}"),
                });
                None
            }
        }
    }

    fn payment(&self, currency: Currency, reasons: &mut Vec<ReviewReason>) -> Option<Payment> {
        let Some(text) = clean(&self.amount) else {
            reasons.push(ReviewReason::MissingField {
                field: "amount".into(),
            });
            return None;
        };
        let amount = money(&text, currency, "amount", reasons)?;
        if self.cash_on_delivery {
            Some(Payment::CashOnDelivery { amount })
        } else {
            Some(Payment::Prepaid {
                order_total: amount,
            })
        }
    }

    fn window(&self, reasons: &mut Vec<ReviewReason>) -> Option<DeliveryWindow> {
        let (start, end) = match (clean(&self.window_start), clean(&self.window_end)) {
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
            Ok((s, e)) if s < e => Some(DeliveryWindow { start: s, end: e }),
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

    /// Applies an operator's correction: `path` is a field of the draft ("phone",
    /// "address.postal_code", "amount"); `value` is JSON or, failing that, text. "phone" sets
    /// the delivery phone (and un-masks it).
    pub fn apply_fix(&mut self, path: &str, value: &str) -> Result<(), FixError> {
        if path == "phone" {
            self.phones = vec![value.to_owned()];
            self.phone_masked = false;
            return Ok(());
        }
        if matches!(path, "channel" | "store" | "order_id" | "shipment_id") {
            return Err(FixError::Immutable(path.into()));
        }
        // "40202" is valid JSON (a number) but a postal code is text: try the JSON reading
        // first (numbers, booleans, objects), then the text.
        let text = serde_json::Value::String(value.to_owned());
        let attempts = match serde_json::from_str::<serde_json::Value>(value) {
            Ok(json) if json != text => vec![json, text],
            _ => vec![text],
        };
        let mut last = FixError::UnknownField(path.into());
        for candidate in attempts {
            match self.with_value(path, &candidate) {
                Ok(fixed) => {
                    *self = fixed;
                    return Ok(());
                }
                Err(e @ FixError::UnknownField(_)) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The draft with `value` at `path`, checked to have landed there: a misspelt field
    /// would otherwise be dropped by serde and the fix reported as applied.
    fn with_value(&self, path: &str, value: &serde_json::Value) -> Result<Self, FixError> {
        let invalid = |e: serde_json::Error| FixError::Invalid {
            path: path.into(),
            error: e.to_string(),
        };
        let mut tree = serde_json::to_value(self).map_err(invalid)?;
        let mut node = &mut tree;
        for part in path.split('.') {
            if node.is_null() {
                *node = serde_json::Value::Object(Default::default());
            }
            node = node
                .as_object_mut()
                .ok_or_else(|| FixError::UnknownField(path.into()))?
                .entry(part)
                .or_insert(serde_json::Value::Null);
        }
        *node = value.clone();
        let fixed: ShipmentDraft = serde_json::from_value(tree).map_err(invalid)?;
        let pointer = format!("/{}", path.replace('.', "/"));
        let landed = serde_json::to_value(&fixed)
            .map_err(invalid)?
            .pointer(&pointer)
            .is_some_and(|v| v == value);
        if landed {
            Ok(fixed)
        } else {
            Err(FixError::UnknownField(path.into()))
        }
    }
}

/// A shipment back into draft form, so that an operator's fix starts from what the courier
/// refused (an address it could not place).
impl From<&Shipment> for ShipmentDraft {
    fn from(s: &Shipment) -> ShipmentDraft {
        let mut d = ShipmentDraft::new(
            s.key.channel,
            &s.key.store,
            &s.key.order_id,
            &s.key.shipment_id,
        );
        d.order_name = s.order_name.clone();
        d.recipient_name = Some(s.recipient.name.clone());
        d.company = s.recipient.company.clone();
        d.phones = s
            .recipient
            .phone
            .iter()
            .map(|p| match &p.extension {
                Some(ext) => format!("{} ext. {ext}", p.e164),
                None => p.e164.clone(),
            })
            .collect();
        d.alternate_contact = s.recipient.alternate_contact.clone();
        d.email = s.recipient.email.clone();
        let a = &s.address;
        d.address = Some(AddressDraft {
            street: Some(a.street.clone()),
            house: a.house.clone(),
            building: a.building.clone(),
            apartment: a.apartment.clone(),
            entrance: a.entrance.clone(),
            floor: a.floor.clone(),
            intercom: a.intercom.clone(),
            city: Some(a.city.clone()),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country_code: Some(a.country_code.clone()),
            latitude: a.latitude,
            longitude: a.longitude,
        });
        d.pieces = s.parcel.pieces;
        d.weight_grams = s.parcel.weight_grams;
        d.dimensions = s.parcel.dimensions;
        let money = match &s.payment {
            Payment::CashOnDelivery { amount } => {
                d.cash_on_delivery = true;
                *amount
            }
            Payment::Prepaid { order_total } => *order_total,
        };
        d.currency = Some(money.currency.code().to_owned());
        d.amount = Some(money.decimal());
        d.insured_value = s.insured_value.map(|m| m.decimal());
        d.notes = s.notes.clone();
        d.window_start = s
            .window
            .as_ref()
            .and_then(|w| w.start.format(&Rfc3339).ok());
        d.window_end = s.window.as_ref().and_then(|w| w.end.format(&Rfc3339).ok());
        d.ship_by = s.ship_by.and_then(|t| t.format(&Rfc3339).ok());
        d
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("{0:?} is not a field of the shipment draft")]
    UnknownField(String),
    #[error("{0:?} identifies the shipment and cannot be changed")]
    Immutable(String),
    #[error("{path}: {error}")]
    Invalid { path: String, error: String },
}

impl AddressDraft {
    fn validate(&self, reasons: &mut Vec<ReviewReason>) -> Option<Address> {
        let mut require = |value: &Option<String>, field: &str| {
            let v = clean(value);
            if v.is_none() {
                reasons.push(ReviewReason::MissingField {
                    field: format!("address.{field}"),
                });
            }
            v
        };
        let street = require(&self.street, "street");
        let city = require(&self.city, "city");
        let country = require(&self.country_code, "country_code");
        // Every part held to its limit before any is used, so that one item lists them all.
        for (value, limit) in [(&street, &text::STREET), (&city, &text::CITY)] {
            if let Some(value) = value {
                limit.admits(value, reasons);
            }
        }
        let house = limited(&self.house, &text::HOUSE, reasons);
        let building = limited(&self.building, &text::BUILDING, reasons);
        let apartment = limited(&self.apartment, &text::APARTMENT, reasons);
        let entrance = limited(&self.entrance, &text::ENTRANCE, reasons);
        let floor = limited(&self.floor, &text::FLOOR, reasons);
        let intercom = limited(&self.intercom, &text::INTERCOM, reasons);
        let region = limited(&self.region, &text::REGION, reasons);
        let country = country.filter(|c| {
            let ok = c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
            if !ok {
                reasons.push(ReviewReason::InvalidCountry { value: c.clone() });
            }
            ok
        });
        let postal_code = clean(&self.postal_code);
        // A code over its limit is said to be too long, not checked against a format.
        let postal_fits = postal_code
            .as_deref()
            .is_none_or(|code| text::POSTAL_CODE.admits(code, reasons));
        if let (Some(code), Some(country), true) = (&postal_code, &country, postal_fits) {
            if postal::is_valid(country, code) == Some(false) {
                reasons.push(ReviewReason::InvalidPostalCode {
                    value: code.clone(),
                    country: country.clone(),
                });
            }
        }
        let coordinates = match (self.latitude, self.longitude) {
            (Some(lat), Some(lng))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) =>
            {
                (Some(lat), Some(lng))
            }
            // Half a coordinate or an impossible one is dropped, not trusted: the text
            // address still routes.
            _ => (None, None),
        };
        Some(Address {
            street: street?,
            house,
            building,
            apartment,
            entrance,
            floor,
            intercom,
            city: city?,
            region,
            postal_code,
            country_code: country?,
            latitude: coordinates.0,
            longitude: coordinates.1,
        })
    }
}

fn money(
    text: &str,
    currency: Currency,
    field: &str,
    reasons: &mut Vec<ReviewReason>,
) -> Option<Money> {
    match Money::parse(text, currency) {
        Ok(m) if m.minor >= 0 => Some(m),
        Ok(_) => {
            reasons.push(ReviewReason::InvalidAmount {
                field: field.into(),
                value: text.to_owned(),
                error: "negative".into(),
            });
            None
        }
        Err(e) => {
            reasons.push(ReviewReason::InvalidAmount {
                field: field.into(),
                value: text.to_owned(),
                error: e.to_string(),
            });
            None
        }
    }
}

/// [`clean`], and held to `limit`: over it, a `too_long` reason is added (the value is still
/// returned whole; with a reason, the draft becomes no shipment).
fn limited(
    value: &Option<String>,
    limit: &Limit,
    reasons: &mut Vec<ReviewReason>,
) -> Option<String> {
    let value = clean(value);
    if let Some(v) = &value {
        limit.admits(v, reasons);
    }
    value
}

/// Trimmed, and `None` when empty: stores send "" and " " for "not given".
pub fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A deliberately small check: one '@', something before it, a dotted domain after it.
/// Full RFC 5322 validation rejects nothing a courier cares about.
pub fn looks_like_email(email: &str) -> bool {
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
