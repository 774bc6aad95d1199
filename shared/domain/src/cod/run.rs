//! The day's cash-on-delivery run, shared by cod-reconcile (the schedule) and the CLI (on
//! demand): gather the day's shipments and hand-overs, reconcile them ([`super::reconcile`]),
//! write one cash-out task per courier and currency, and store the report files. A re-run
//! reads the same facts, writes the same report bytes and creates no second task.

use super::cash::{day_text, CashOutTask, CashOutWrite};
use super::{report, CodDelivery, CourierId, Reconciliation};
use crate::error::{Classify, Transience};
use crate::ports::{CashBook, ReportShelf, ShipmentStore, StorageError};
use crate::record::ShipmentRecord;
use crate::ShipmentStatus;
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

#[derive(Debug, thiserror::Error)]
pub enum CodRunError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
}

impl Classify for CodRunError {
    fn transience(&self) -> Transience {
        match self {
            CodRunError::Storage(e) => e.transience(),
            CodRunError::Report(_) => Transience::Permanent,
        }
    }
}

/// What the day's run reads and writes.
#[derive(Clone, Copy)]
pub struct CashDesk<'a> {
    pub shipments: &'a dyn ShipmentStore,
    pub cash: &'a dyn CashBook,
    pub reports: &'a dyn ReportShelf,
    /// The fleet's IANA time zone: a day of cash is a local working day there. `None` (no
    /// fleet): UTC days, as before fleets existed.
    pub time_zone: Option<&'a str>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayReport {
    pub day: String,
    pub couriers: usize,
    pub exceptions: BTreeMap<String, usize>,
    pub shipments_checked: u32,
    pub accuracy_percent: f64,
    pub balanced: bool,
    pub cash_outs_created: usize,
    pub cash_outs_revised: usize,
    pub cash_outs_unchanged: usize,
    /// The report's keys in the reports bucket.
    pub report_keys: Vec<String>,
}

impl CashDesk<'_> {
    /// Reconciles `day`, writes its cash-out tasks and stores its report; returns what it did
    /// and the reconciliation itself.
    pub async fn run_day(&self, day: Date) -> Result<(DayReport, Reconciliation), CodRunError> {
        let reconciliation = self.reconcile_day(day).await?;
        let day_name = day_text(day);

        let mut writes = (0, 0, 0);
        for task in cash_out_tasks(day, &reconciliation) {
            match self.cash.put_cash_out(&task).await? {
                CashOutWrite::Created => writes.0 += 1,
                CashOutWrite::Revised => writes.1 += 1,
                CashOutWrite::Unchanged => writes.2 += 1,
            }
        }

        let prefix = report_prefix(day);
        let files = [
            (
                "couriers.csv",
                report::couriers_csv(&day_name, &reconciliation)?,
                "text/csv; charset=utf-8",
            ),
            (
                "exceptions.csv",
                report::exceptions_csv(&day_name, &reconciliation)?,
                "text/csv; charset=utf-8",
            ),
            (
                "report.html",
                report::html(&day_name, &reconciliation).into_bytes(),
                "text/html; charset=utf-8",
            ),
        ];
        let mut report_keys = Vec::new();
        for (name, body, content_type) in files {
            let key = format!("{prefix}{name}");
            self.reports.put(&key, body, content_type).await?;
            report_keys.push(key);
        }

        let mut exceptions = BTreeMap::new();
        for e in &reconciliation.exceptions {
            *exceptions.entry(e.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        let summary = DayReport {
            day: day_name,
            couriers: reconciliation.lines.len(),
            exceptions,
            shipments_checked: reconciliation.shipments_checked,
            accuracy_percent: reconciliation.accuracy_percent(),
            balanced: reconciliation.is_balanced(),
            cash_outs_created: writes.0,
            cash_outs_revised: writes.1,
            cash_outs_unchanged: writes.2,
            report_keys,
        };
        if summary.balanced {
            tracing::info!(?summary, "cash on delivery reconciled");
        } else {
            // An operator's signal: the dashboard counts these, the report names them.
            tracing::warn!(?summary, "cash on delivery does not add up");
        }
        Ok((summary, reconciliation))
    }

    /// The day's reconciliation from the stored shipments and hand-overs (read only).
    pub async fn reconcile_day(&self, day: Date) -> Result<Reconciliation, CodRunError> {
        let deliveries: Vec<CodDelivery> = self
            .shipments
            .all()
            .await?
            .iter()
            .filter_map(|record| cod_delivery(record, day, self.time_zone))
            .collect();
        let handovers = self.cash.handovers(day).await?;
        Ok(super::reconcile(&deliveries, &handovers))
    }
}

/// The shipment's cash facts if its cash belongs to `day` (local to `time_zone`, UTC
/// without one): the day the courier reported collecting, or, when it reported nothing, the
/// day it delivered. `None` for a shipment with no cash on delivery and nothing collected,
/// or whose cash belongs to another day.
pub fn cod_delivery(
    record: &ShipmentRecord,
    day: Date,
    time_zone: Option<&str>,
) -> Option<CodDelivery> {
    let expected = record.shipment.payment.cod_amount();
    let collected = record.delivery.cod_collected;
    if expected.is_none() && collected.is_none_or(|c| c.minor == 0) {
        return None;
    }
    let delivered_ms = record
        .transitions
        .iter()
        .rev()
        .find(|(s, _)| *s == ShipmentStatus::Delivered)
        .map(|(_, at)| *at);
    let cash_ms = match collected {
        Some(_) => record.delivery.cod_collected_ms.or(delivered_ms),
        None => delivered_ms,
    }?;
    if day_of(cash_ms, time_zone)? != day {
        return None;
    }
    let platform = record.courier.map_or("unknown", |c| c.as_str());
    Some(CodDelivery {
        shipment: record.shipment.key.to_string(),
        order: record
            .shipment
            .order_name
            .clone()
            .unwrap_or_else(|| record.shipment.key.order_id.clone()),
        courier: CourierId::new(platform, record.delivery.driver.as_deref()),
        status: record.status,
        cancelled: record.cancel_requested,
        expected,
        collected,
    })
}

/// The calendar day of `ms` in `time_zone` (UTC without one; an unknown zone is no day).
pub fn day_of(ms: i64, time_zone: Option<&str>) -> Option<Date> {
    match time_zone {
        None => OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .map(|t| t.date()),
        Some(zone) => {
            let local = crate::dispatch::PlanDay::containing(ms, zone).ok()?.date;
            let month = time::Month::try_from(u8::try_from(local.month()).ok()?).ok()?;
            Date::from_calendar_date(
                i32::from(local.year()),
                month,
                u8::try_from(local.day()).ok()?,
            )
            .ok()
        }
    }
}

/// One cash-out task per courier and currency that collected or handed over cash.
pub fn cash_out_tasks(day: Date, r: &Reconciliation) -> Vec<CashOutTask> {
    r.lines
        .iter()
        .filter(|l| l.collected_minor != 0 || l.handed_over_minor != 0)
        .map(|l| CashOutTask {
            courier: l.courier.clone(),
            day,
            collected: l.collected(),
            handed_over: l.handed_over(),
            due: l.due(),
            revision: 0,
        })
        .collect()
}

/// Where a day's report files are: `cod/2026-11-24/`.
pub fn report_prefix(day: Date) -> String {
    format!("cod/{}/", day_text(day))
}
