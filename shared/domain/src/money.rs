//! Money in minor units with its ISO 4217 currency. Never a float: an order of 57.98 USD is
//! 5798 cents, exactly, and 1000 JPY is 1000 yen (JPY has no minor unit).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code, with the number of digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point in this currency (USD 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u32 {
        // Funds and metals (XAU, XDR...) have no minor unit defined; treat them as 0.
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        iso_currency::Currency::from_code(code)
            .map(Currency)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount in the minor unit of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount")]
    NotDecimal(String),
    #[error("{amount:?} has more decimals than {currency} allows")]
    TooPrecise { amount: String, currency: String },
    #[error("{0:?} is too large")]
    Overflow(String),
    #[error("{0:?} is negative")]
    Negative(String),
}

impl Money {
    /// Parses a non-negative decimal string as the channels send it ("57.98", "57.9", "1000")
    /// into minor units, exactly. Extra trailing zeros are fine ("57.980"); a non-zero digit
    /// beyond the currency's precision is an error rather than a rounding.
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, MoneyError> {
        let text = amount.trim();
        if text.starts_with('-') {
            return Err(MoneyError::Negative(amount.to_owned()));
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
            return Err(MoneyError::NotDecimal(amount.to_owned()));
        }
        let exponent = currency.exponent() as usize;
        let significant = fraction.trim_end_matches('0');
        if significant.len() > exponent {
            return Err(MoneyError::TooPrecise {
                amount: amount.to_owned(),
                currency: currency.code().to_owned(),
            });
        }
        let mut digits = String::with_capacity(whole.len() + exponent);
        digits.push_str(whole);
        digits.push_str(significant);
        digits.extend(std::iter::repeat_n('0', exponent - significant.len()));
        let minor = digits
            .parse::<i64>()
            .map_err(|_| MoneyError::Overflow(amount.to_owned()))?;
        Ok(Money { minor, currency })
    }
}

impl Money {
    /// The amount as decimal text without the currency ("57.90", "1000"): the form channels
    /// send and [`Money::parse`] reads.
    pub fn decimal(&self) -> String {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return self.minor.to_string();
        }
        let scale = 10_i64.pow(exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let scale = scale.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exponent as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn decimal_strings_become_exact_minor_units_per_currency_exponent() {
        let cases = [
            ("57.98", "USD", 5798),
            ("57.9", "USD", 5790),
            ("57", "USD", 5700),
            ("57.980", "USD", 5798),
            ("0.00", "EUR", 0),
            ("1000", "JPY", 1000),
            ("1000.00", "JPY", 1000),
            ("1.234", "KWD", 1234),
            ("92233720368547758.07", "USD", i64::MAX),
        ];
        for (text, code, minor) in cases {
            assert_eq!(
                Money::parse(text, cur(code)).unwrap().minor,
                minor,
                "{text} {code}"
            );
        }
    }

    #[test]
    fn amounts_that_cannot_be_represented_exactly_are_errors() {
        assert!(matches!(
            Money::parse("57.985", cur("USD")),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse("10.5", cur("JPY")),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse("1e3", cur("USD")),
            Err(MoneyError::NotDecimal(_))
        ));
        assert!(matches!(
            Money::parse(".5", cur("USD")),
            Err(MoneyError::NotDecimal(_))
        ));
        assert!(matches!(
            Money::parse("-1.00", cur("USD")),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Money::parse("92233720368547758.08", cur("USD")),
            Err(MoneyError::Overflow(_))
        ));
        assert!(matches!(
            "XYZ".parse::<Currency>(),
            Err(MoneyError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn money_displays_with_its_currency_precision() {
        assert_eq!(
            Money::parse("57.9", cur("USD")).unwrap().to_string(),
            "57.90 USD"
        );
        assert_eq!(
            Money::parse("1000", cur("JPY")).unwrap().to_string(),
            "1000 JPY"
        );
        // Differences (a short hand-over) are negative: one sign, in front.
        for (minor, code, text) in [
            (-150, "EUR", "-1.50 EUR"),
            (-5, "EUR", "-0.05 EUR"),
            (-1500, "JPY", "-1500 JPY"),
            (-1, "KWD", "-0.001 KWD"),
        ] {
            let money = Money {
                minor,
                currency: cur(code),
            };
            assert_eq!(money.to_string(), text);
        }
    }
}
