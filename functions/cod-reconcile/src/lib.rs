//! cod-reconcile: each night (EventBridge schedule) it reconciles the previous UTC day's
//! cash on delivery per courier: expected (delivered COD shipments), collected (reported by
//! the courier with each delivery) and handed over (recorded by a dispatcher with the CLI).
//! It writes one cash-out task per courier and currency with the amount due, and stores the
//! report (CSV and HTML) in the reports bucket ([`domain::cod::CashDesk`], which the CLI runs too).
//! Invoked with `{"day": "2026-11-24"}` it reconciles that day.

mod wiring;

pub use wiring::Config;

use aws::metrics::{names, MetricDoc, Metrics, Unit};
use domain::cod::{day_text, parse_day, CashDesk, Reconciliation};
pub use domain::cod::{CodRunError, DayReport};
use domain::error::{Classify, Transience};
use domain::ports::{CashBook, FleetStore, ReportShelf, ShipmentStore};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::Date;

/// What cod-reconcile reads and writes, each behind the domain's port.
pub struct CodReconcile {
    pub shipments: Arc<dyn ShipmentStore>,
    pub cash: Arc<dyn CashBook>,
    pub reports: Arc<dyn ReportShelf>,
    /// The fleet, if dispatch is in use: its time zone is the day's.
    pub fleet: Arc<dyn FleetStore>,
    pub metrics: Metrics,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("the event names no day: give {{\"day\": \"YYYY-MM-DD\"}} or a scheduled event's time ({0})")]
    NoDay(String),
    #[error(transparent)]
    Run(#[from] CodRunError),
    #[error("reading the fleet: {0}")]
    Fleet(#[from] domain::StorageError),
}

impl Classify for ReconcileError {
    fn transience(&self) -> Transience {
        match self {
            ReconcileError::Run(e) => e.transience(),
            ReconcileError::Fleet(e) => e.transience(),
            ReconcileError::NoDay(_) => Transience::Permanent,
        }
    }
}

/// What invokes the function: the schedule's event (its `time`) or an operator's day.
#[derive(Debug, Default, Deserialize)]
pub struct Request {
    /// `2026-11-24`: reconcile this day.
    pub day: Option<String>,
    /// A scheduled EventBridge event's time: reconcile the day before it (the fleet's
    /// local day; the UTC day without a fleet).
    pub time: Option<String>,
}

impl Request {
    pub fn for_day(day: Date) -> Request {
        Request {
            day: Some(day_text(day)),
            time: None,
        }
    }

    /// The day to reconcile, in `time_zone` (UTC without one).
    pub fn day(&self, time_zone: Option<&str>) -> Result<Date, ReconcileError> {
        if let Some(text) = &self.day {
            return parse_day(text).ok_or_else(|| ReconcileError::NoDay(format!("day {text:?}")));
        }
        let time = self
            .time
            .as_deref()
            .and_then(domain::clock::parse_time)
            .ok_or_else(|| ReconcileError::NoDay(format!("time {:?}", self.time)))?;
        domain::cod::day_of(domain::clock::ms_of(time), time_zone)
            .and_then(|d| d.previous_day())
            .ok_or_else(|| ReconcileError::NoDay("the first day there is".into()))
    }
}

impl CodReconcile {
    pub async fn handle(&self, request: Request) -> Result<DayReport, ReconcileError> {
        let zone = self.fleet.get().await?.map(|fleet| fleet.time_zone);
        let day = request.day(zone.as_deref())?;
        let desk = CashDesk {
            shipments: self.shipments.as_ref(),
            cash: self.cash.as_ref(),
            reports: self.reports.as_ref(),
            time_zone: zone.as_deref(),
        };
        let (summary, reconciliation) = desk.run_day(day).await?;
        emit_metrics(&self.metrics, &reconciliation);
        Ok(summary)
    }
}

/// Per courier platform (a bounded dimension; driver ids go in the report, not in metric
/// dimensions): the share of shipments that matched, and how far the cash is off in each
/// currency (|collected − expected| + |handed over − collected|, in minor units).
fn emit_metrics(metrics: &Metrics, r: &Reconciliation) {
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
        metrics.emit(
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
        metrics.emit(
            &MetricDoc::new()
                .dimension("Courier", platform)
                .dimension("Currency", currency)
                .metric(names::COD_DIFFERENCE_MINOR, Unit::None, minor as f64),
        );
    }
}

#[cfg(test)]
mod tests;
