//! The sandbox's "geocoder": places a destination or says why it cannot.
//!
//! A real courier geocodes every address and refuses the ones it cannot place. The sandbox
//! has no map, so it fails on two fixed, documented triggers instead: tests can provoke each
//! answer on purpose, and every ordinary address (one with a house number) is placed.

use super::model::Destination;

/// The postal code that exists nowhere.
pub(crate) const UNKNOWN_POSTAL_CODE: &str = "00000";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AddressError {
    #[error("no address matches postal code {postal_code}")]
    NotFound { postal_code: String },
    #[error("{line1:?} has no house number: it matches several places on the street")]
    Ambiguous { line1: String },
}

/// Checks that `destination` can be placed on the map.
///
/// Postal code `00000` is not found; a `line1` without any digit (no house number) is
/// ambiguous. Any numeral counts as a digit, so addresses written in non-Latin scripts are
/// placed as well.
pub(crate) fn resolve(destination: &Destination) -> Result<(), AddressError> {
    if let Some(postal_code) = destination
        .postal_code
        .as_deref()
        .map(str::trim)
        .filter(|code| *code == UNKNOWN_POSTAL_CODE)
    {
        return Err(AddressError::NotFound {
            postal_code: postal_code.to_owned(),
        });
    }
    if !destination.line1.chars().any(char::is_numeric) {
        return Err(AddressError::Ambiguous {
            line1: destination.line1.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(line1: &str, postal_code: Option<&str>) -> Destination {
        Destination {
            line1: line1.to_owned(),
            line2: None,
            city: "Berlin".into(),
            region: None,
            postal_code: postal_code.map(str::to_owned),
            country_code: "DE".into(),
            latitude: None,
            longitude: None,
        }
    }

    #[test]
    fn addresses_with_a_house_number_are_placed() {
        for line1 in [
            "123 Shipping Street",
            "Torstraße 1",
            "Hauptstraße 5a",
            "١٢ شارع",
        ] {
            assert_eq!(
                resolve(&destination(line1, Some("10119"))),
                Ok(()),
                "{line1}"
            );
        }
        assert_eq!(resolve(&destination("1 Road", None)), Ok(()));
    }

    #[test]
    fn postal_code_00000_is_not_found_even_with_a_house_number() {
        assert_eq!(
            resolve(&destination("123 Shipping Street", Some(" 00000 "))),
            Err(AddressError::NotFound {
                postal_code: "00000".into()
            })
        );
    }

    #[test]
    fn a_street_without_a_number_is_ambiguous() {
        assert_eq!(
            resolve(&destination("Main Street", Some("40003"))),
            Err(AddressError::Ambiguous {
                line1: "Main Street".into()
            })
        );
    }
}
