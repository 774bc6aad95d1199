//! Phone numbers in E.164, parsed with libphonenumber's metadata (the `phonenumber` crate)
//! in the context of the shipping country, so "(555) 555-0100" in the US and "020 7946 0018"
//! in GB both become dialable numbers, and "555-555-SHIP" is caught instead of sent.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A valid phone number in E.164 form ("+14155550100"), with its extension if one was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub e164: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("{0:?} is not a phone number")]
    Unparseable(String),
    #[error("{0:?} is not a valid number for its region")]
    Invalid(String),
}

impl Phone {
    /// Parses `raw` as dialled from `country` (ISO 3166-1 alpha-2, e.g. "US"); an
    /// international number ("+44 ...") is accepted from any country. An unknown country code
    /// parses only international numbers.
    pub fn parse(raw: &str, country: &str) -> Result<Phone, PhoneError> {
        // libphonenumber reads letters as keypad digits ("1-800-FLOWERS"). In a number
        // without a fixed length (German ones) a word typed after it ("030 901820 home")
        // would become more digits of another, valid number: a wrong task. Letters are
        // allowed only in the extension marker; anything else goes to review.
        if number_part(raw).chars().any(char::is_alphabetic) {
            return Err(PhoneError::Unparseable(raw.to_owned()));
        }
        let region = country.parse::<phonenumber::country::Id>().ok();
        let number =
            phonenumber::parse(region, raw).map_err(|_| PhoneError::Unparseable(raw.to_owned()))?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid(raw.to_owned()));
        }
        Ok(Phone {
            e164: number.format().mode(phonenumber::Mode::E164).to_string(),
            extension: number.extension().map(|ext| ext.to_string()),
        })
    }

    /// Loads libphonenumber's metadata, which the first parse would otherwise load: a
    /// function that parses phones calls this while it starts, so its first event does not
    /// pay for it.
    pub fn warm_up() {
        let _ = Phone::parse("+1 415 555 0100", "US");
    }

    /// The number with all but the country code and last four digits hidden, for logs.
    pub fn masked(&self) -> String {
        mask_digits(&self.e164)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

/// The text before an extension marker ("ext. 12", "x12", "#12", ";ext=12", "доб. 12")
/// that is followed by digits; the whole text when there is none.
fn number_part(raw: &str) -> &str {
    const MARKERS: [&str; 8] = [";ext=", "extension", "ext.", "ext", "доб.", "доб", "x", "#"];
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for (i, (start, _)) in chars.iter().enumerate() {
        for marker in MARKERS {
            let marker: Vec<char> = marker.chars().collect();
            let Some(window) = chars.get(i..i + marker.len()) else {
                continue;
            };
            let matches = window
                .iter()
                .zip(&marker)
                .all(|((_, c), m)| c.to_lowercase().eq(m.to_lowercase()));
            if !matches {
                continue;
            }
            let after = chars.get(i + marker.len()).map_or(raw.len(), |(b, _)| *b);
            let digits_follow = raw[after..]
                .trim_start_matches([' ', '.', ':'])
                .starts_with(|c: char| c.is_ascii_digit());
            if digits_follow {
                return &raw[..*start];
            }
        }
    }
    raw
}

/// Masks any phone-like string for logs: keeps a leading '+', two digits and the last four.
pub fn mask_digits(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let keep_head = if raw.starts_with('+') { 3 } else { 0 };
    let keep_tail = 4.min(chars.len().saturating_sub(keep_head));
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_head || i >= chars.len() - keep_tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_become_e164_in_the_shipping_country() {
        let cases = [
            ("(415) 555-0132", "US", "+14155550132"),
            ("+1 480-386-0930", "US", "+14803860930"),
            ("020 7946 0018", "GB", "+442079460018"),
            ("+49 30 901820", "FR", "+4930901820"),
            ("01 42 68 53 00", "FR", "+33142685300"),
        ];
        for (raw, country, e164) in cases {
            assert_eq!(
                Phone::parse(raw, country).unwrap().e164,
                e164,
                "{raw} in {country}"
            );
        }
    }

    #[test]
    fn an_extension_is_kept_apart_from_the_dialable_number() {
        let phone = Phone::parse("+1 480-386-0930 ext. 73824", "US").unwrap();
        assert_eq!(phone.e164, "+14803860930");
        assert_eq!(phone.extension.as_deref(), Some("73824"));
    }

    #[test]
    fn published_sample_phones_that_cannot_be_dialled_are_errors() {
        // Shopify's sample order: letters map to digits, but 555 is no US area code.
        assert!(Phone::parse("555-555-SHIP", "US").is_err());
        assert!(Phone::parse("123-123-1234", "CA").is_err());
        assert!(Phone::parse("not a phone", "US").is_err());
        assert!(Phone::parse("", "US").is_err());
    }

    #[test]
    fn words_are_never_read_as_digits_but_extension_markers_are_kept() {
        for (raw, country) in [
            ("030 901820 home", "DE"),
            ("+49 30 901820 Ana", "DE"),
            ("415 555 01 AB", "US"),
            ("1-800-FLOWERS", "US"),
        ] {
            assert!(Phone::parse(raw, country).is_err(), "{raw}");
        }
        for (raw, ext) in [
            ("+1 480-386-0930 ext. 73824", "73824"),
            ("2134567890 ext 123", "123"),
            ("+12134567890#1234", "1234"),
            ("+1 213 456 7890 x12", "12"),
        ] {
            let phone = Phone::parse(raw, "US").unwrap();
            assert_eq!(phone.extension.as_deref(), Some(ext), "{raw}");
        }
    }

    #[test]
    fn masking_hides_all_but_the_country_code_and_last_four_digits() {
        assert_eq!(mask_digits("+14155550132"), "+14*****0132");
        assert_eq!(mask_digits("555"), "555");
    }
}
