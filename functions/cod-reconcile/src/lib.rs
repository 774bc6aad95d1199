//! cod-reconcile: each night (EventBridge schedule) it reconciles the previous UTC day's
//! cash on delivery per courier: expected (delivered COD shipments), collected (reported by
//! the courier with each delivery) and handed over (recorded by a dispatcher with the CLI).
//! It writes one cash-out task per courier and currency with the amount due, and stores the
//! report (CSV and HTML) in the reports bucket ([`shared::cod`], which the CLI runs too).
//! Invoked with `{"day": "2026-11-24"}` it reconciles that day.

use serde::Deserialize;
use shared::aws::cash::{day_text, parse_day};
pub use shared::cod::{CodRunError, DayReport};
use shared::domain::cod::Reconciliation;
use shared::error::{Classify, Transience};
use shared::metrics::{names, MetricDoc, Unit};
use shared::services::Services;
use std::collections::BTreeMap;
use time::Date;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("the event names no day: give {{\"day\": \"YYYY-MM-DD\"}} or a scheduled event's time ({0})")]
    NoDay(String),
    #[error(transparent)]
    Run(#[from] CodRunError),
}

impl Classify for ReconcileError {
    fn transience(&self) -> Transience {
        match self {
            ReconcileError::Run(e) => e.transience(),
            ReconcileError::NoDay(_) => Transience::Permanent,
        }
    }
}

/// What invokes the function: the schedule's event (its `time`) or an operator's day.
#[derive(Debug, Default, Deserialize)]
pub struct Request {
    /// `2026-11-24`: reconcile this day.
    pub day: Option<String>,
    /// A scheduled EventBridge event's time: reconcile the UTC day before it.
    pub time: Option<String>,
}

impl Request {
    pub fn for_day(day: Date) -> Request {
        Request {
            day: Some(day_text(day)),
            time: None,
        }
    }

    pub fn day(&self) -> Result<Date, ReconcileError> {
        if let Some(text) = &self.day {
            return parse_day(text).ok_or_else(|| ReconcileError::NoDay(format!("day {text:?}")));
        }
        let time = self
            .time
            .as_deref()
            .and_then(shared::channel::parse_time)
            .ok_or_else(|| ReconcileError::NoDay(format!("time {:?}", self.time)))?;
        time.date()
            .previous_day()
            .ok_or_else(|| ReconcileError::NoDay("the first day there is".into()))
    }
}

pub async fn handle(services: &Services, request: Request) -> Result<DayReport, ReconcileError> {
    let day = request.day()?;
    let (summary, reconciliation) = shared::cod::run_day(services, day).await?;
    emit_metrics(services, &reconciliation);
    Ok(summary)
}

/// Per courier platform (a bounded dimension; driver ids go in the report, not in metric
/// dimensions): the share of shipments that matched, and how far the cash is off in each
/// currency (|collected − expected| + |handed over − collected|, in minor units).
fn emit_metrics(services: &Services, r: &Reconciliation) {
    let mut accuracy: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for count in &r.per_courier {
        let entry = accuracy.entry(count.courier.platform.as_str()).or_default();
        entry.0 += count.checked;
        entry.1 += count.matched;
    }
    for (platform, (checked, matched)) in accuracy {
        let percent = if checked == 0 {
            100.0
        } else {
            f64::from(matched) * 100.0 / f64::from(checked)
        };
        services.metrics.emit(
            &MetricDoc::new()
                .dimension("Courier", platform)
                .metric(names::COD_RECONCILIATION_ACCURACY, Unit::Percent, percent)
                .property("ShipmentsChecked", checked),
        );
    }
    let mut difference: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for l in &r.lines {
        let off = (l.collected_minor - l.expected_minor).abs()
            + (l.handed_over_minor - l.collected_minor).abs();
        *difference
            .entry((l.courier.platform.as_str(), l.currency.code()))
            .or_default() += off;
    }
    for ((platform, currency), minor) in difference {
        services.metrics.emit(
            &MetricDoc::new()
                .dimension("Courier", platform)
                .dimension("Currency", currency)
                .metric(names::COD_DIFFERENCE_MINOR, Unit::None, minor as f64),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Request {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_schedule_reconciles_the_day_before_its_time_and_an_operator_names_a_day() {
        // EventBridge's scheduled event, as it arrives (02:30 UTC on the 25th).
        let scheduled = request(
            r#"{"version":"0","id":"89d1a02d","detail-type":"Scheduled Event","source":"aws.events",
                "account":"123456789012","time":"2026-11-25T02:30:00Z","region":"eu-west-1",
                "resources":["arn:aws:events:eu-west-1:123456789012:rule/daily"],"detail":{}}"#,
        );
        assert_eq!(day_text(scheduled.day().unwrap()), "2026-11-24");
        // Across a month and a year.
        assert_eq!(
            day_text(request(r#"{"time":"2027-01-01T02:30:00Z"}"#).day().unwrap()),
            "2026-12-31"
        );
        assert_eq!(
            day_text(request(r#"{"day":"2026-11-20"}"#).day().unwrap()),
            "2026-11-20"
        );
    }

    #[test]
    fn an_event_without_a_day_is_refused_for_good() {
        for json in [
            r#"{}"#,
            r#"{"day":"24.11.2026"}"#,
            r#"{"time":"yesterday"}"#,
        ] {
            let err = request(json).day().unwrap_err();
            assert!(matches!(err, ReconcileError::NoDay(_)), "{json}: {err}");
            assert_eq!(err.transience(), Transience::Permanent);
        }
    }
}
