//! Postal code checks for the countries whose format is strict enough to catch a wrong one.
//! A country not listed here is accepted as given: rejecting a valid code is worse than
//! passing an unchecked one to the courier.

/// `Some(true/false)` when `country` has a known format, `None` when it is not checked.
pub fn is_valid(country: &str, code: &str) -> Option<bool> {
    let code = code.trim();
    let bytes = code.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let result = match country {
        // ZIP or ZIP+4.
        "US" => match bytes.len() {
            5 => digits(bytes),
            10 => digits(&bytes[..5]) && bytes[5] == b'-' && digits(&bytes[6..]),
            _ => false,
        },
        // A1A 1A1, the space optional.
        "CA" => {
            let compact: Vec<u8> = bytes.iter().copied().filter(|b| *b != b' ').collect();
            compact.len() == 6
                && compact.iter().enumerate().all(|(i, b)| {
                    if i % 2 == 0 {
                        b.is_ascii_alphabetic()
                    } else {
                        b.is_ascii_digit()
                    }
                })
        }
        "DE" | "FR" | "ES" | "IT" | "FI" => bytes.len() == 5 && digits(bytes),
        "NL" => {
            let compact: Vec<u8> = bytes.iter().copied().filter(|b| *b != b' ').collect();
            compact.len() == 6
                && digits(&compact[..4])
                && compact[4..].iter().all(u8::is_ascii_alphabetic)
        }
        "AT" | "BE" | "CH" | "DK" | "NO" | "AU" => bytes.len() == 4 && digits(bytes),
        "RU" | "IN" | "KZ" => bytes.len() == 6 && digits(bytes),
        "PL" => bytes.len() == 6 && digits(&bytes[..2]) && bytes[2] == b'-' && digits(&bytes[3..]),
        // Outward + inward code; the inward part is always digit-letter-letter.
        "GB" => {
            let compact: Vec<u8> = bytes.iter().copied().filter(|b| *b != b' ').collect();
            (5..=7).contains(&compact.len())
                && compact[0].is_ascii_alphabetic()
                && compact[compact.len() - 3].is_ascii_digit()
                && compact[compact.len() - 2..]
                    .iter()
                    .all(u8::is_ascii_alphabetic)
        }
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn postal_codes_are_checked_against_their_country_format() {
        let cases = [
            ("US", "40003", Some(true)),
            ("US", "40003-1234", Some(true)),
            // Shopify's sample order ships to Kentucky with a Canadian postal code.
            ("US", "K2P0S0", Some(false)),
            ("CA", "K2P 0S0", Some(true)),
            ("CA", "K2P0S0", Some(true)),
            ("CA", "12345", Some(false)),
            ("GB", "SW1A 1AA", Some(true)),
            ("GB", "12345", Some(false)),
            ("DE", "10115", Some(true)),
            ("NL", "1012 AB", Some(true)),
            ("PL", "00-950", Some(true)),
            ("BR", "01310-100", None),
        ];
        for (country, code, expected) in cases {
            assert_eq!(is_valid(country, code), expected, "{country} {code}");
        }
    }
}
