//! The `POST /v1/tasks` and `PUT /v1/tasks/{id}` body as received, and its validation into
//! a [`NewTask`] or a [`TaskUpdate`].
//!
//! Every field is optional at the serde level so that a missing field is reported as a 422
//! naming that field rather than as an anonymous deserialisation error.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::model::{Delivery, Destination, Money, NewTask, Parcel, Recipient, TaskUpdate};
use crate::error::ApiError;

/// The services a task may be booked as (the bridge's `ServiceType` names).
pub(crate) const SERVICES: [&str; 6] = [
    "standard",
    "same_day",
    "next_day",
    "scheduled",
    "pickup_point",
    "oversized",
];

#[derive(Debug, Deserialize)]
pub(crate) struct TaskRequest {
    reference: Option<String>,
    recipient: Option<RecipientInput>,
    destination: Option<DestinationInput>,
    parcel: Option<ParcelInput>,
    cash_on_delivery: Option<MoneyInput>,
    notes: Option<String>,
    complete_after: Option<String>,
    complete_before: Option<String>,
    service: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RecipientInput {
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    alternate_contact: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DestinationInput {
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

// Signed so that a negative number is reported against its field, not as a type error.
#[derive(Debug, Deserialize)]
struct ParcelInput {
    pieces: Option<i64>,
    weight_grams: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct MoneyInput {
    amount_minor: Option<i64>,
    currency: Option<String>,
}

type Result<T> = std::result::Result<T, ApiError>;

impl TaskRequest {
    /// Checks a create request against the documented rules; the error names the first bad
    /// field.
    pub(crate) fn into_new_task(mut self) -> Result<NewTask> {
        let reference = required_text(self.reference.take(), "reference")?;
        Ok(NewTask {
            reference,
            delivery: self.into_delivery()?,
        })
    }

    /// Checks an update request: the create rules, except that `reference` may be left out.
    pub(crate) fn into_update(mut self) -> Result<TaskUpdate> {
        let reference = self
            .reference
            .take()
            .map(|reference| required_text(Some(reference), "reference"))
            .transpose()?;
        Ok(TaskUpdate {
            reference,
            delivery: self.into_delivery()?,
        })
    }

    fn into_delivery(self) -> Result<Delivery> {
        let recipient = self
            .recipient
            .ok_or_else(|| missing("recipient"))?
            .validate()?;
        let destination = self
            .destination
            .ok_or_else(|| missing("destination"))?
            .validate()?;
        let parcel = self.parcel.ok_or_else(|| missing("parcel"))?.validate()?;
        let cash_on_delivery = self
            .cash_on_delivery
            .map(MoneyInput::validate)
            .transpose()?;
        let complete_after = timestamp(self.complete_after, "complete_after")?;
        let complete_before = timestamp(self.complete_before, "complete_before")?;
        if let (Some(after), Some(before)) = (complete_after, complete_before) {
            if after > before {
                return Err(ApiError::invalid(
                    "complete_before",
                    "complete_before must not be earlier than complete_after",
                ));
            }
        }
        let service = self.service.map(service).transpose()?;
        Ok(Delivery {
            recipient,
            destination,
            parcel,
            cash_on_delivery,
            notes: self.notes,
            complete_after,
            complete_before,
            service,
        })
    }
}

impl RecipientInput {
    fn validate(self) -> Result<Recipient> {
        let name = required_text(self.name, "recipient.name")?;
        let phone = optional_text(self.phone);
        if phone.as_deref().is_some_and(|phone| !is_e164(phone)) {
            return Err(ApiError::invalid(
                "recipient.phone",
                "recipient.phone must be E.164: '+' followed by 8 to 15 digits",
            ));
        }
        let alternate_contact = optional_text(self.alternate_contact);
        // The driver must be able to reach someone; a masked phone needs a substitute.
        if phone.is_none() && alternate_contact.is_none() {
            return Err(ApiError::invalid(
                "recipient.phone",
                "recipient.phone is required unless recipient.alternate_contact is given",
            ));
        }
        Ok(Recipient {
            name,
            phone,
            email: self.email,
            alternate_contact,
        })
    }
}

impl DestinationInput {
    fn validate(self) -> Result<Destination> {
        let line1 = required_text(self.line1, "destination.line1")?;
        let city = required_text(self.city, "destination.city")?;
        let country_code = required_text(self.country_code, "destination.country_code")?;
        if !is_upper_alpha(&country_code, 2) {
            return Err(ApiError::invalid(
                "destination.country_code",
                "destination.country_code must be 2 upper-case letters (ISO 3166-1 alpha-2)",
            ));
        }
        coordinate(self.latitude, 90.0, "destination.latitude")?;
        coordinate(self.longitude, 180.0, "destination.longitude")?;
        Ok(Destination {
            line1,
            line2: self.line2,
            city,
            region: self.region,
            postal_code: self.postal_code,
            country_code,
            latitude: self.latitude,
            longitude: self.longitude,
        })
    }
}

impl ParcelInput {
    fn validate(self) -> Result<Parcel> {
        let pieces = self.pieces.ok_or_else(|| missing("parcel.pieces"))?;
        let pieces = u32::try_from(pieces)
            .ok()
            .filter(|pieces| *pieces >= 1)
            .ok_or_else(|| {
                ApiError::invalid(
                    "parcel.pieces",
                    "parcel.pieces must be a whole number of at least 1",
                )
            })?;
        let weight_grams = self
            .weight_grams
            .map(|grams| {
                u64::try_from(grams).map_err(|_| {
                    ApiError::invalid("parcel.weight_grams", "parcel.weight_grams must be >= 0")
                })
            })
            .transpose()?;
        Ok(Parcel {
            pieces,
            weight_grams,
        })
    }
}

impl MoneyInput {
    fn validate(self) -> Result<Money> {
        let amount_minor = self
            .amount_minor
            .ok_or_else(|| missing("cash_on_delivery.amount_minor"))?;
        let amount_minor = u64::try_from(amount_minor).map_err(|_| {
            ApiError::invalid(
                "cash_on_delivery.amount_minor",
                "cash_on_delivery.amount_minor must be >= 0",
            )
        })?;
        let currency = required_text(self.currency, "cash_on_delivery.currency")?;
        if !is_upper_alpha(&currency, 3) {
            return Err(ApiError::invalid(
                "cash_on_delivery.currency",
                "cash_on_delivery.currency must be 3 upper-case letters (ISO 4217)",
            ));
        }
        Ok(Money {
            amount_minor,
            currency,
        })
    }
}

fn missing(field: &str) -> ApiError {
    ApiError::invalid(field, format!("{field} is required"))
}

fn service(name: String) -> Result<String> {
    if SERVICES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(ApiError::invalid(
            "service",
            format!("service must be one of {}", SERVICES.join(", ")),
        ))
    }
}

/// An optional string: empty and all-whitespace count as absent, like `null`.
fn optional_text(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}

/// A required string: absent, `null`, empty and all-whitespace are all "missing".
fn required_text(value: Option<String>, field: &str) -> Result<String> {
    value
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| missing(field))
}

fn timestamp(value: Option<String>, field: &str) -> Result<Option<OffsetDateTime>> {
    value
        .map(|text| {
            OffsetDateTime::parse(&text, &Rfc3339).map_err(|error| {
                ApiError::invalid(
                    field,
                    format!("{field} must be an RFC 3339 timestamp: {error}"),
                )
            })
        })
        .transpose()
}

fn coordinate(value: Option<f64>, limit: f64, field: &str) -> Result<()> {
    match value {
        Some(degrees) if !(-limit..=limit).contains(&degrees) => Err(ApiError::invalid(
            field,
            format!("{field} must be between -{limit} and {limit}"),
        )),
        _ => Ok(()),
    }
}

fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_upper_alpha(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(is_e164("+14155550100"));
        assert!(is_e164("+12345678"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("+1234567"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+1 415 555 0100"));
        assert!(!is_e164("+"));
        assert!(!is_e164("+١٢٣٤٥٦٧٨٩"));
    }

    #[test]
    fn upper_alpha() {
        assert!(is_upper_alpha("US", 2));
        assert!(!is_upper_alpha("us", 2));
        assert!(!is_upper_alpha("USA", 2));
        assert!(is_upper_alpha("USD", 3));
        assert!(!is_upper_alpha("ÜS", 2));
    }

    #[test]
    fn whitespace_only_is_missing() {
        assert!(required_text(Some("  ".into()), "reference").is_err());
        assert!(required_text(None, "reference").is_err());
        assert_eq!(
            required_text(Some("x".into()), "reference").ok().as_deref(),
            Some("x")
        );
    }

    #[test]
    fn coordinates_are_range_checked() {
        assert!(coordinate(Some(90.0), 90.0, "lat").is_ok());
        assert!(coordinate(Some(-90.5), 90.0, "lat").is_err());
        assert!(coordinate(None, 90.0, "lat").is_ok());
    }
}
