//! Local time for a fleet: plan days, shifts and cut-offs are in the fleet's IANA time
//! zone, and the planner counts seconds from the plan day's local midnight.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("{0:?} is not an IANA time zone name (such as Europe/Berlin or Asia/Kolkata)")]
    UnknownZone(String),
    #[error("{0:?} is not a day YYYY-MM-DD")]
    BadDay(String),
    #[error("{0:?} is not a local time HH:MM")]
    BadTime(String),
    #[error("{0} is outside the range of dates this can place")]
    OutOfRange(String),
}

/// The time zone named `name`, from the IANA database compiled into the binary.
pub fn zone(name: &str) -> Result<TimeZone, LocalTimeError> {
    if name.trim().is_empty() {
        return Err(LocalTimeError::UnknownZone(name.to_owned()));
    }
    TimeZone::get(name).map_err(|_| LocalTimeError::UnknownZone(name.to_owned()))
}

/// One calendar day in a fleet's time zone.
#[derive(Debug, Clone)]
pub struct PlanDay {
    pub date: Date,
    pub zone: TimeZone,
    /// Local midnight, seconds since the Unix epoch: the planner's time origin.
    pub origin_s: i64,
}

impl PlanDay {
    pub fn new(day: &str, zone_name: &str) -> Result<PlanDay, LocalTimeError> {
        let zone = zone(zone_name)?;
        let date: Date = day
            .parse()
            .map_err(|_| LocalTimeError::BadDay(day.to_owned()))?;
        // The day's first instant: 00:00, or the first time that exists where a DST jump
        // skips midnight.
        let origin_s = date
            .to_zoned_datetime(zone.clone())
            .map_err(|_| LocalTimeError::OutOfRange(day.to_owned()))?
            .timestamp()
            .as_second();
        Ok(PlanDay {
            date,
            zone,
            origin_s,
        })
    }

    /// The local day of `ms` (ms since the epoch) in `zone_name`.
    pub fn containing(ms: i64, zone_name: &str) -> Result<PlanDay, LocalTimeError> {
        let zone = zone(zone_name)?;
        let date = Timestamp::from_millisecond(ms)
            .map_err(|_| LocalTimeError::OutOfRange(ms.to_string()))?
            .to_zoned_datetime(zone)
            .date();
        PlanDay::new(&date.to_string(), zone_name)
    }

    /// "2026-12-06".
    pub fn day(&self) -> String {
        self.date.to_string()
    }

    /// Seconds from the origin to local "HH:MM" on this day. On a day a clock change skips
    /// or repeats that time, the instant is the one a wall clock shows first.
    pub fn seconds_at(&self, local: &str) -> Result<i64, LocalTimeError> {
        let minutes = super::fleet::local_minutes(local)
            .ok_or_else(|| LocalTimeError::BadTime(local.to_owned()))?;
        let at = if minutes == 24 * 60 {
            self.date
                .tomorrow()
                .and_then(|d| d.to_zoned_datetime(self.zone.clone()))
        } else {
            self.date
                .at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
                .to_zoned_datetime(self.zone.clone())
        }
        .map_err(|_| LocalTimeError::OutOfRange(format!("{} {local}", self.date)))?;
        Ok(at.timestamp().as_second() - self.origin_s)
    }

    /// Seconds from the origin of an instant in ms since the epoch.
    pub fn seconds_from_origin(&self, ms: i64) -> i64 {
        ms.div_euclid(1000) - self.origin_s
    }

    /// ms since the epoch of `seconds` from the origin.
    pub fn ms_at(&self, seconds: f64) -> i64 {
        ((self.origin_s as f64 + seconds) * 1000.).round() as i64
    }

    /// How long this day is, in seconds (23 or 25 hours on a clock change).
    pub fn length_s(&self) -> Result<i64, LocalTimeError> {
        self.seconds_at("24:00")
    }
}

/// "08:05": `ms` (since the epoch) on the wall clock of `zone_name`; UTC if the zone is
/// unknown (a plan shows its own zone beside).
pub fn local_clock(ms: i64, zone_name: &str) -> String {
    let zone = zone(zone_name).unwrap_or(TimeZone::UTC);
    match Timestamp::from_millisecond(ms) {
        Ok(at) => {
            let t = at.to_zoned_datetime(zone).time();
            format!("{:02}:{:02}", t.hour(), t.minute())
        }
        Err(_) => "--:--".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_is_counted_from_local_midnight_whatever_the_offset() {
        let kolkata = PlanDay::new("2026-12-07", "Asia/Kolkata").unwrap();
        // 2026-12-06T18:30:00Z is midnight in India (+05:30).
        assert_eq!(kolkata.origin_s, 1_796_581_800);
        assert_eq!(kolkata.seconds_at("08:00").unwrap(), 8 * 3600);
        assert_eq!(kolkata.length_s().unwrap(), 24 * 3600);
        assert_eq!(kolkata.day(), "2026-12-07");
    }

    #[test]
    fn days_with_a_clock_change_are_23_or_25_hours_and_shifts_follow_the_wall_clock() {
        // Berlin springs forward at 02:00 on 2026-03-29 and falls back at 03:00 on 2026-10-25.
        let spring = PlanDay::new("2026-03-29", "Europe/Berlin").unwrap();
        assert_eq!(spring.length_s().unwrap(), 23 * 3600);
        assert_eq!(spring.seconds_at("08:00").unwrap(), 7 * 3600);
        let autumn = PlanDay::new("2026-10-25", "Europe/Berlin").unwrap();
        assert_eq!(autumn.length_s().unwrap(), 25 * 3600);
        assert_eq!(autumn.seconds_at("08:00").unwrap(), 9 * 3600);
    }

    #[test]
    fn clock_times_are_shown_on_the_fleets_wall_clock() {
        // 2026-12-06T20:00:00Z.
        assert_eq!(local_clock(1_796_587_200_000, "Asia/Kolkata"), "01:30");
        assert_eq!(local_clock(1_796_587_200_000, "Europe/Berlin"), "21:00");
        assert_eq!(local_clock(1_796_587_200_000, "Nowhere/Else"), "20:00");
    }

    #[test]
    fn the_local_day_of_an_instant_is_not_its_utc_day() {
        // 20:00 UTC on 6 December is already the 7th in Auckland and still the 6th in Lima.
        let ms = 1_796_587_200_000;
        assert_eq!(
            PlanDay::containing(ms, "Pacific/Auckland").unwrap().day(),
            "2026-12-07"
        );
        assert_eq!(
            PlanDay::containing(ms, "America/Lima").unwrap().day(),
            "2026-12-06"
        );
    }

    #[test]
    fn bad_names_days_and_times_are_errors_that_say_what_was_wrong() {
        assert!(matches!(
            zone("Mars/Olympus"),
            Err(LocalTimeError::UnknownZone(_))
        ));
        assert!(matches!(zone(""), Err(LocalTimeError::UnknownZone(_))));
        assert!(matches!(
            PlanDay::new("2026-13-01", "UTC"),
            Err(LocalTimeError::BadDay(_))
        ));
        let day = PlanDay::new("2026-12-06", "UTC").unwrap();
        for bad in ["8:00", "25:00", "12:60", "noon", "24:01"] {
            assert!(
                matches!(day.seconds_at(bad), Err(LocalTimeError::BadTime(_))),
                "{bad}"
            );
        }
    }
}
