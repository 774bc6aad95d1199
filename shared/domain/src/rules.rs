//! A store's delivery rules: when its orders ship, and which service each one gets. They
//! live in the store's configuration (the stores table, `courier-bridge store put`), not in
//! code, because every shop names its shipping methods differently.

use super::Dimensions;
use crate::locale::Locale;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The courier service a shipment is booked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    #[default]
    Standard,
    SameDay,
    NextDay,
    /// Delivered inside the customer's chosen window.
    Scheduled,
    /// Left at a pickup point or locker for the customer to collect.
    PickupPoint,
    /// Needs a bigger vehicle or two people.
    Oversized,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Standard => "standard",
            ServiceType::SameDay => "same_day",
            ServiceType::NextDay => "next_day",
            ServiceType::Scheduled => "scheduled",
            ServiceType::PickupPoint => "pickup_point",
            ServiceType::Oversized => "oversized",
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a store's orders become courier tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TriggerPolicy {
    /// Prepaid orders once payment is captured, cash-on-delivery orders once confirmed.
    #[default]
    PaymentOrConfirmation,
    /// Only when the warehouse says a parcel is ready (a Shopify fulfillment, WooCommerce
    /// `completed`, the API's `order.ready_to_ship`).
    ReadyToShip,
}

/// One store's configuration. Every field has a default, so a store without one works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default)]
    pub trigger: TriggerPolicy,
    /// Tried in order; the first that matches decides the service.
    #[serde(default)]
    pub service_rules: Vec<ServiceRule>,
    #[serde(default)]
    pub default_service: ServiceType,
    /// WooCommerce: the order status to set once the tracking note is written (e.g.
    /// "completed"); left as it is when absent. Other channels have no such status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_after_tracking: Option<String>,
    /// WooCommerce: the order status to set once the courier reports the delivery (e.g.
    /// "completed"); left as it is when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_after_delivery: Option<String>,
    /// Alert this many hours before a marketplace's latest ship date (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_by_alert_hours: Option<u32>,
    /// How this store's customers hear about their delivery.
    #[serde(default, skip_serializing_if = "NotificationRules::is_default")]
    pub notifications: NotificationRules,
    /// The IANA time zone the store's customers read times in ("Europe/Berlin"), on its
    /// pages and in its messages. Absent: the fleet's, once a plan gave the shipment a
    /// driver; else UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZoneName>,
    /// The language the store's customer pages are written in: a BCP 47 tag, of which
    /// only the language counts ("de", "de-AT"); one the pages are not written in is
    /// refused. Absent: English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// The delivery times the store offers a customer who reschedules (the failed-delivery
    /// message links to the page). Absent: no rescheduling page; the message links to the
    /// store's `reschedule_url`, else the tracking page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_slots: Option<DeliverySlots>,
}

/// The slots a store delivers in, on the wall clock of its time zone: each of `windows` on
/// each of the next `days_ahead` days (from tomorrow) that is one of `weekdays`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySlots {
    /// "09:00-12:00": start and end, 24-hour, the end after the start.
    pub windows: Vec<SlotWindow>,
    /// How many days ahead a customer may choose (1–14; default 5).
    #[serde(default = "default_days_ahead")]
    pub days_ahead: u8,
    /// The days delivered on; absent: Monday to Saturday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<Weekday>>,
}

fn default_days_ahead() -> u8 {
    5
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    fn of(day: jiff::civil::Weekday) -> Weekday {
        match day {
            jiff::civil::Weekday::Monday => Weekday::Mon,
            jiff::civil::Weekday::Tuesday => Weekday::Tue,
            jiff::civil::Weekday::Wednesday => Weekday::Wed,
            jiff::civil::Weekday::Thursday => Weekday::Thu,
            jiff::civil::Weekday::Friday => Weekday::Fri,
            jiff::civil::Weekday::Saturday => Weekday::Sat,
            jiff::civil::Weekday::Sunday => Weekday::Sun,
        }
    }
}

/// One window of the day, checked when the rules are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotWindow {
    /// Minutes after midnight.
    pub start: u16,
    pub end: u16,
}

impl std::fmt::Display for SlotWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

impl std::str::FromStr for SlotWindow {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not a window like \"09:00-12:00\"");
        let minutes = |hhmm: &str| -> Option<u16> {
            let (h, m) = hhmm.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 && hhmm.trim().len() == 5).then_some(h * 60 + m)
        };
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            minutes(start).ok_or_else(bad)?,
            minutes(end).ok_or_else(bad)?,
        );
        if end <= start {
            return Err(format!("{text:?}: the window ends before it starts"));
        }
        Ok(SlotWindow { start, end })
    }
}

impl Serialize for SlotWindow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SlotWindow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A slot a customer can pick: milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl DeliverySlots {
    /// The slots offered at `now_ms` in `zone` (an IANA name; UTC when unknown), earliest
    /// first: from tomorrow, `days_ahead` days, on the delivery weekdays. A window that a
    /// clock change makes impossible that day (it starts in the skipped hour) is left out.
    pub fn offered(&self, now_ms: i64, zone: Option<&str>) -> Vec<Slot> {
        let zone = zone
            .and_then(|name| jiff::tz::TimeZone::get(name).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let Ok(now) = jiff::Timestamp::from_millisecond(now_ms) else {
            return Vec::new();
        };
        let today = now.to_zoned_datetime(zone.clone()).date();
        let weekdays = self.weekdays.clone().unwrap_or_else(|| {
            vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
            ]
        });
        let mut slots = Vec::new();
        for ahead in 1..=i64::from(self.days_ahead.clamp(1, 14)) {
            let Ok(day) = today.checked_add(jiff::Span::new().days(ahead)) else {
                continue;
            };
            if !weekdays.contains(&Weekday::of(day.weekday())) {
                continue;
            }
            for window in &self.windows {
                let at = |minutes: u16| {
                    let time =
                        jiff::civil::Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
                            .ok()?;
                    let zoned = day.to_datetime(time).to_zoned_datetime(zone.clone()).ok()?;
                    // A wall-clock time the clock skipped lands elsewhere: not offered.
                    (zoned.datetime() == day.to_datetime(time))
                        .then(|| zoned.timestamp().as_millisecond())
                };
                if let (Some(start_ms), Some(end_ms)) = (at(window.start), at(window.end)) {
                    slots.push(Slot { start_ms, end_ms });
                }
            }
        }
        slots.sort_by_key(|s| s.start_ms);
        slots
    }
}

/// An IANA time zone name the compiled-in database knows: checked when the rules are
/// read, so a typo is refused when a store's rules are put, not met as UTC later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TimeZoneName {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        jiff::tz::TimeZone::get(name)
            .map(|_| TimeZoneName(name.to_owned()))
            .map_err(|_| format!("{name:?} is not an IANA time zone (e.g. Europe/Berlin)"))
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Customer notifications for one store. The defaults notify by e-mail, else by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NotificationRules {
    /// In order of preference: the first the recipient can be reached on is used (an
    /// e-mail address for `email`, a phone for `sms` and `whatsapp`). Absent: `["email",
    /// "sms"]`; empty: the store sends its own notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<crate::notify::NotifyChannel>>,
    /// The link in the "delivery failed" message where the customer picks a new time;
    /// `{order}` and `{tracking}` are filled in. Absent: the tracking page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_url: Option<String>,
    /// The name messages are signed with. Absent: the store's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
}

impl NotificationRules {
    fn is_default(&self) -> bool {
        *self == NotificationRules::default()
    }

    /// The channels to try, best first.
    pub fn channels(&self) -> Vec<crate::notify::NotifyChannel> {
        use crate::notify::NotifyChannel;
        self.channels
            .clone()
            .unwrap_or_else(|| vec![NotifyChannel::Email, NotifyChannel::Sms])
    }
}

/// A rule matches when every condition it states holds; a rule stating none matches all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRule {
    pub service: ServiceType,
    /// Case-insensitive substrings of the order's shipping method name; any one matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipping_method_contains: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_weight_grams: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_longest_side_mm: Option<u64>,
    /// Matches only orders that carry (true) or lack (false) a delivery window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_window: Option<bool>,
}

/// What the service rules look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceFacts<'a> {
    pub shipping_method: Option<&'a str>,
    pub weight_grams: Option<u64>,
    pub dimensions: Option<Dimensions>,
    pub has_window: bool,
}

impl ServiceRule {
    fn matches(&self, facts: &ServiceFacts<'_>) -> bool {
        let method_ok = self.shipping_method_contains.is_empty()
            || facts.shipping_method.is_some_and(|m| {
                let m = m.to_lowercase();
                self.shipping_method_contains
                    .iter()
                    .any(|needle| m.contains(&needle.to_lowercase()))
            });
        let weight_ok = self
            .min_weight_grams
            .is_none_or(|min| facts.weight_grams.is_some_and(|w| w >= min));
        let size_ok = self
            .min_longest_side_mm
            .is_none_or(|min| facts.dimensions.is_some_and(|d| d.longest_side_mm() >= min));
        let window_ok = self.has_window.is_none_or(|w| w == facts.has_window);
        method_ok && weight_ok && size_ok && window_ok
    }
}

impl StoreConfig {
    pub fn service_for(&self, facts: &ServiceFacts<'_>) -> ServiceType {
        self.service_rules
            .iter()
            .find(|r| r.matches(facts))
            .map(|r| r.service)
            .unwrap_or(self.default_service)
    }

    pub fn ship_by_alert_hours(&self) -> u32 {
        self.ship_by_alert_hours.unwrap_or(24)
    }

    /// The language of the store's customer pages: English unless it sets one.
    pub fn locale(&self) -> Locale {
        self.locale.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StoreConfig {
        serde_json::from_value(serde_json::json!({
            "trigger": "payment_or_confirmation",
            "default_service": "next_day",
            "service_rules": [
                {"service": "oversized", "min_weight_grams": 30000},
                {"service": "oversized", "min_longest_side_mm": 1200},
                {"service": "pickup_point", "shipping_method_contains": ["pickup", "locker"]},
                {"service": "same_day", "shipping_method_contains": ["same day", "express"]},
                {"service": "scheduled", "has_window": true}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn the_first_matching_rule_decides_the_service() {
        let c = config();
        let facts =
            |method: Option<&'static str>, weight, side: Option<u64>, window| ServiceFacts {
                shipping_method: method,
                weight_grams: weight,
                dimensions: side.map(|s| Dimensions {
                    length_mm: s,
                    width_mm: 100,
                    height_mm: 100,
                }),
                has_window: window,
            };
        let cases = [
            (
                facts(Some("Same Day Courier"), Some(1000), None, false),
                ServiceType::SameDay,
            ),
            (
                facts(Some("Same Day Courier"), Some(31000), None, false),
                ServiceType::Oversized,
            ),
            (
                facts(Some("Parcel locker"), None, Some(1300), false),
                ServiceType::Oversized,
            ),
            (
                facts(Some("PICKUP point"), None, None, true),
                ServiceType::PickupPoint,
            ),
            (
                facts(Some("Standard"), Some(500), None, true),
                ServiceType::Scheduled,
            ),
            (facts(None, None, None, false), ServiceType::NextDay),
        ];
        for (facts, expected) in cases {
            assert_eq!(c.service_for(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn a_store_without_configuration_ships_standard_on_payment() {
        let c = StoreConfig::default();
        assert_eq!(c.trigger, TriggerPolicy::PaymentOrConfirmation);
        assert_eq!(
            c.service_for(&ServiceFacts::default()),
            ServiceType::Standard
        );
        assert_eq!(c.ship_by_alert_hours(), 24);
    }

    #[test]
    fn unknown_configuration_keys_are_refused_rather_than_ignored() {
        let typo = serde_json::json!({"triger": "ready_to_ship"});
        assert!(serde_json::from_value::<StoreConfig>(typo).is_err());
    }

    #[test]
    fn a_store_may_set_the_locale_of_its_pages() {
        let without = StoreConfig::default();
        assert_eq!((without.locale, without.locale()), (None, Locale::En));
        assert!(!serde_json::to_string(&without).unwrap().contains("locale"));

        let austrian: StoreConfig =
            serde_json::from_value(serde_json::json!({"locale": "de-AT"})).unwrap();
        assert_eq!(austrian.locale, Some(Locale::De));
        assert_eq!(austrian.locale(), Locale::De);
        // Written back as its language, and read again the same.
        let written = serde_json::to_value(&austrian).unwrap();
        assert_eq!(written["locale"], "de");
        assert_eq!(
            serde_json::from_value::<StoreConfig>(written).unwrap(),
            austrian
        );
        let french: StoreConfig = serde_json::from_value(
            serde_json::json!({"locale": "fr_CA", "time_zone": "America/Toronto"}),
        )
        .unwrap();
        assert_eq!(french.locale(), Locale::Fr);
    }

    #[test]
    fn a_locale_the_pages_are_not_written_in_is_refused() {
        for tag in ["pt-BR", "german", "", "de-"] {
            let config = serde_json::json!({"locale": tag});
            let error = serde_json::from_value::<StoreConfig>(config).unwrap_err();
            assert!(error.to_string().contains(&format!("{tag:?}")), "{error}");
        }
        let error =
            serde_json::from_value::<StoreConfig>(serde_json::json!({"locale": "it"})).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(r#"one of "en", "de", "fr", "es""#),
            "{error}"
        );
    }

    fn slots(json: serde_json::Value) -> DeliverySlots {
        serde_json::from_value(json).unwrap()
    }

    fn ms(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn slot_windows_are_read_strictly() {
        let window: SlotWindow = "09:00-12:30".parse().unwrap();
        assert_eq!((window.start, window.end), (540, 750));
        assert_eq!(window.to_string(), "09:00-12:30");
        for bad in [
            "9:00-12:00",
            "12:00-09:00",
            "10:00-10:00",
            "24:00-25:00",
            "09:00",
            "09:60-10:00",
        ] {
            assert!(bad.parse::<SlotWindow>().is_err(), "{bad}");
        }
        let config = serde_json::json!({"delivery_slots": {"windows": ["9-12"]}});
        assert!(serde_json::from_value::<StoreConfig>(config).is_err());
        let config = serde_json::json!({"delivery_slots": {"windows": ["09:00-12:00"], "day": 3}});
        assert!(serde_json::from_value::<StoreConfig>(config).is_err());
    }

    #[test]
    fn slots_start_tomorrow_on_delivery_days_on_the_stores_clock() {
        let offer =
            slots(serde_json::json!({"windows": ["14:00-18:00", "09:00-12:00"], "days_ahead": 3}));
        // Sunday 6 December 2026, 00:30 in Berlin (still Saturday in UTC): Monday to
        // Wednesday in Berlin, the windows at their Berlin hours.
        let now = ms("2026-12-05T23:30:00Z");
        let offered = offer.offered(now, Some("Europe/Berlin"));
        let starts: Vec<i64> = offered.iter().map(|s| s.start_ms).collect();
        assert_eq!(
            starts,
            [
                ms("2026-12-07T08:00:00Z"),
                ms("2026-12-07T13:00:00Z"),
                ms("2026-12-08T08:00:00Z"),
                ms("2026-12-08T13:00:00Z"),
                ms("2026-12-09T08:00:00Z"),
                ms("2026-12-09T13:00:00Z"),
            ]
        );
        assert_eq!(offered[0].end_ms, ms("2026-12-07T11:00:00Z"));
        // In UTC it is Saturday: Sunday is off, so Monday and Tuesday only.
        let utc = offer.offered(now, None);
        assert_eq!(utc.len(), 4);
        assert_eq!(utc[0].start_ms, ms("2026-12-07T09:00:00Z"));
        let sundays = slots(
            serde_json::json!({"windows": ["09:00-12:00"], "days_ahead": 1, "weekdays": ["sun"]}),
        );
        assert_eq!(
            sundays
                .offered(now, Some("Europe/Berlin"))
                .first()
                .map(|s| s.start_ms),
            None,
            "tomorrow in Berlin is Monday"
        );
        assert_eq!(
            sundays.offered(now, None).len(),
            1,
            "tomorrow in UTC is Sunday"
        );
    }

    #[test]
    fn a_window_in_the_hour_a_clock_change_skips_is_not_offered() {
        // New York springs forward on Sunday 14 March 2027: 02:00-03:00 does not exist.
        let offer = slots(
            serde_json::json!({"windows": ["02:00-03:00"], "days_ahead": 1, "weekdays": ["sun"]}),
        );
        let now = ms("2027-03-13T17:00:00Z");
        assert!(offer.offered(now, Some("America/New_York")).is_empty());
        let week_later = ms("2027-03-20T17:00:00Z");
        assert_eq!(offer.offered(week_later, Some("America/New_York")).len(), 1);
    }
}
