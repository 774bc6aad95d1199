//! Times as the pipeline stores and compares them: milliseconds since the epoch (numbers
//! compare correctly in DynamoDB conditions; RFC 3339 strings with varying fractions do
//! not), and RFC 3339 text for people.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    ms_of(OffsetDateTime::now_utc())
}

/// Milliseconds since the epoch of `t`.
pub fn ms_of(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Now as RFC 3339 text ("2026-11-24T10:00:00.123Z").
pub fn rfc3339_now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A time in ms since the epoch as UTC; `None` out of `time`'s range.
pub fn utc_from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// A time in ms since the epoch as RFC 3339 UTC text; empty out of range.
pub fn rfc3339_from_ms(ms: i64) -> String {
    utc_from_ms(ms)
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time, or the zone-less ISO 8601 UTC form WooCommerce's `*_gmt` fields
/// use ("2017-03-22T19:28:08").
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn woocommerce_gmt_times_parse_as_utc() {
        let t = parse_time("2017-03-22T19:28:08").unwrap();
        assert_eq!(t.unix_timestamp(), 1_490_210_888);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn milliseconds_round_trip_through_utc() {
        let t = parse_time("2026-11-24T10:00:00.123Z").unwrap();
        assert_eq!(utc_from_ms(ms_of(t)), Some(t));
    }
}
