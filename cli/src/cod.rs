//! `courier-bridge cod`: cash on delivery. A dispatcher records the cash each courier hands
//! over (`handover`, once per receipt), reconciles a day on demand (`reconcile`, the same
//! run as the nightly schedule), and reads the cash-out tasks and the stored reports.

use crate::error::CliError;
use crate::render::Table;
use aws::stack::StackStores;
use domain::cod::DayReport;
use domain::cod::{day_text, parse_day, CashOutTask, HandoverWrite};
use domain::cod::{CourierId, Handover, Reconciliation};
use domain::ports::{CashBook, ReportShelf};
use domain::{Currency, Money};
use serde::Serialize;
use time::Date;

/// The report files of a day, as cod-reconcile stores them.
pub const REPORT_FILES: [&str; 3] = ["couriers.csv", "exceptions.csv", "report.html"];

pub fn day(text: &str) -> Result<Date, CliError> {
    parse_day(text).ok_or_else(|| CliError::Usage(format!("{text:?} is not a day (YYYY-MM-DD)")))
}

pub fn courier(text: &str) -> Result<CourierId, CliError> {
    CourierId::parse(text).ok_or_else(|| {
        CliError::Usage(format!(
            "{text:?} is not a courier: platform/driver, e.g. sandbox/drv_01"
        ))
    })
}

/// Parses "12.50" in `currency`, exactly (no float, no rounding).
pub fn amount(text: &str, currency: &str) -> Result<Money, CliError> {
    let currency: Currency = currency
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|e| CliError::Usage(format!("--currency: {e}")))?;
    Money::parse(text, currency).map_err(|e| CliError::Usage(format!("--amount: {e}")))
}

#[derive(Debug, Serialize)]
pub struct Recorded {
    pub day: String,
    pub courier: String,
    pub receipt: String,
    pub amount: String,
    /// "recorded" or "already recorded".
    pub outcome: &'static str,
}

/// Records cash a courier handed over. The same receipt twice is recorded once; the same
/// receipt with another amount is refused, and nothing changes.
pub async fn handover(
    stores: &StackStores,
    day: Date,
    handover: &Handover,
    by: &str,
) -> Result<Recorded, CliError> {
    use domain::cod::HandoverError;
    let outcome = match domain::cod::hand_over(&stores.cash, day, handover, by).await {
        Ok(HandoverWrite::AlreadyRecorded) => "already recorded",
        Ok(_) => "recorded",
        Err(HandoverError::NoReceipt) => {
            return Err(CliError::Usage("--receipt must not be empty".into()))
        }
        Err(HandoverError::NotPositive) => {
            return Err(CliError::Usage("--amount must be more than zero".into()))
        }
        Err(refused @ HandoverError::Conflict { .. }) => {
            return Err(CliError::Refused(refused.to_string()))
        }
        Err(HandoverError::Storage(error)) => return Err(error.into()),
    };
    Ok(Recorded {
        day: day_text(day),
        courier: handover.courier.to_string(),
        receipt: handover.receipt.clone(),
        amount: handover.amount.to_string(),
        outcome,
    })
}

pub fn render_recorded(r: &Recorded) -> String {
    format!(
        "{}: {} handed over {} on {} (receipt {})",
        r.outcome, r.courier, r.amount, r.day, r.receipt
    )
}

#[derive(Debug, Serialize)]
pub struct Reconciled {
    pub summary: DayReport,
    pub reconciliation: Reconciliation,
}

/// Reconciles `day` now, exactly as the nightly run does.
pub async fn reconcile(stores: &StackStores, day: Date) -> Result<Reconciled, CliError> {
    let zone = stores.fleet_time_zone().await?;
    let (summary, reconciliation) = stores.cash_desk(zone.as_deref()).run_day(day).await?;
    Ok(Reconciled {
        summary,
        reconciliation,
    })
}

pub fn render_reconciled(r: &Reconciled) -> String {
    let s = &r.summary;
    let mut lines = Table::new([
        "COURIER",
        "CURRENCY",
        "COD",
        "EXPECTED",
        "COLLECTED",
        "HANDED OVER",
        "DUE",
    ]);
    for l in &r.reconciliation.lines {
        lines.row([
            l.courier.to_string(),
            l.currency.code().to_owned(),
            l.cod_deliveries.to_string(),
            l.expected().decimal(),
            l.collected().decimal(),
            l.handed_over().decimal(),
            l.due().decimal(),
        ]);
    }
    let mut text = format!(
        "{}: {} ({} shipment(s) checked, {:.1}% matched)\n",
        s.day,
        if s.balanced {
            "balanced"
        } else {
            "does not add up"
        },
        s.shipments_checked,
        s.accuracy_percent
    );
    if !r.reconciliation.lines.is_empty() {
        text.push_str(&lines.render());
        text.push('\n');
    }
    let mut exceptions = Table::new(["EXCEPTION", "COURIER", "ORDER", "EXPECTED", "ACTUAL"]);
    let amount = |m: Option<Money>| m.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
    for e in &r.reconciliation.exceptions {
        exceptions.row([
            e.kind.as_str().to_owned(),
            e.courier.to_string(),
            e.order.clone().unwrap_or_else(|| "-".into()),
            amount(e.expected),
            amount(e.actual),
        ]);
    }
    if !r.reconciliation.exceptions.is_empty() {
        text.push_str(&exceptions.render());
        text.push('\n');
    }
    text.push_str(&format!(
        "cash-out tasks: {} created, {} revised, {} unchanged\nreport: {}",
        s.cash_outs_created,
        s.cash_outs_revised,
        s.cash_outs_unchanged,
        s.report_keys.join(", ")
    ));
    text
}

#[derive(Debug, Serialize)]
pub struct CashOutLine {
    pub courier: String,
    pub currency: String,
    pub collected: String,
    pub handed_over: String,
    pub due: String,
    pub settled: bool,
    pub revision: u64,
}

impl From<&CashOutTask> for CashOutLine {
    fn from(t: &CashOutTask) -> Self {
        CashOutLine {
            courier: t.courier.to_string(),
            currency: t.due.currency.code().to_owned(),
            collected: t.collected.decimal(),
            handed_over: t.handed_over.decimal(),
            due: t.due.decimal(),
            settled: t.is_settled(),
            revision: t.revision,
        }
    }
}

pub async fn cash_outs(stores: &StackStores, day: Date) -> Result<Vec<CashOutLine>, CliError> {
    Ok(stores
        .cash
        .cash_outs(day)
        .await?
        .iter()
        .map(CashOutLine::from)
        .collect())
}

pub fn render_cash_outs(lines: &[CashOutLine]) -> String {
    if lines.is_empty() {
        return "no cash-out tasks for that day (has it been reconciled?)".into();
    }
    let mut table = Table::new([
        "COURIER",
        "CURRENCY",
        "COLLECTED",
        "HANDED OVER",
        "DUE",
        "STATE",
    ]);
    for l in lines {
        table.row([
            l.courier.clone(),
            l.currency.clone(),
            l.collected.clone(),
            l.handed_over.clone(),
            l.due.clone(),
            if l.settled { "settled" } else { "open" }.to_owned(),
        ]);
    }
    table.render()
}

#[derive(Debug, Serialize)]
pub struct ReportFile {
    pub key: String,
    pub bytes: i64,
}

/// Stored report files, of one day or of every day.
pub async fn reports(stores: &StackStores, day: Option<Date>) -> Result<Vec<ReportFile>, CliError> {
    let prefix = match day {
        Some(day) => domain::cod::run::report_prefix(day),
        None => "cod/".to_owned(),
    };
    Ok(stores
        .reports
        .list(&prefix)
        .await?
        .into_iter()
        .map(|o| ReportFile {
            key: o.key,
            bytes: o.size,
        })
        .collect())
}

pub fn render_reports(files: &[ReportFile]) -> String {
    if files.is_empty() {
        return "no reports stored".into();
    }
    let mut table = Table::new(["REPORT", "BYTES"]);
    for f in files {
        table.row([f.key.clone(), f.bytes.to_string()]);
    }
    table.render()
}

/// One report file's content.
pub async fn report(stores: &StackStores, day: Date, file: &str) -> Result<Vec<u8>, CliError> {
    if !REPORT_FILES.contains(&file) {
        return Err(CliError::Usage(format!(
            "--file must be one of {}",
            REPORT_FILES.join(", ")
        )));
    }
    let key = format!("{}{file}", domain::cod::run::report_prefix(day));
    stores
        .reports
        .get(&key)
        .await?
        .ok_or_else(|| CliError::Refused(format!("no report {key} (has the day been reconciled?)")))
}
