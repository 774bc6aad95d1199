//! A day's reconciliation as files people open: two CSVs (one line per courier and
//! currency; one per exception) and one HTML page with a bar chart per courier. Pure, and
//! a function of the reconciliation only (no "generated at"), so a re-run writes the same
//! bytes.

use super::{CourierLine, Reconciliation};
use crate::html::escape;
use crate::Money;
use std::fmt::Write as _;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("could not finish the CSV: {0}")]
    CsvFlush(String),
}

/// One line per courier and currency. Amounts in the currency's units ("12.50"), so a
/// spreadsheet adds them up; the currency is its own column and never mixed.
pub fn couriers_csv(day: &str, r: &Reconciliation) -> Result<Vec<u8>, ReportError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "day",
        "courier",
        "currency",
        "cod_deliveries",
        "expected",
        "collected",
        "handed_over",
        "collected_minus_expected",
        "due",
    ])?;
    for l in &r.lines {
        csv.write_record([
            day.to_owned(),
            l.courier.to_string(),
            l.currency.code().to_owned(),
            l.cod_deliveries.to_string(),
            l.expected().decimal(),
            l.collected().decimal(),
            l.handed_over().decimal(),
            l.collection_difference().decimal(),
            l.due().decimal(),
        ])?;
    }
    finish(csv)
}

/// One line per exception, with its reason and the amounts that show it.
pub fn exceptions_csv(day: &str, r: &Reconciliation) -> Result<Vec<u8>, ReportError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "day",
        "courier",
        "exception",
        "reason",
        "order",
        "shipment",
        "status",
        "currency",
        "expected",
        "actual",
    ])?;
    let amount = |m: Option<Money>| m.map(|m| m.decimal()).unwrap_or_default();
    for e in &r.exceptions {
        let currency = e
            .actual
            .or(e.expected)
            .map(|m| m.currency.code().to_owned())
            .unwrap_or_default();
        csv.write_record([
            day.to_owned(),
            e.courier.to_string(),
            e.kind.as_str().to_owned(),
            e.kind.describe().to_owned(),
            e.order.clone().unwrap_or_default(),
            e.shipment.clone().unwrap_or_default(),
            e.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            currency,
            amount(e.expected),
            amount(e.actual),
        ])?;
    }
    finish(csv)
}

fn finish(csv: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ReportError> {
    csv.into_inner()
        .map_err(|e| ReportError::CsvFlush(e.error().to_string()))
}

/// The page a dispatcher opens: totals, a chart per courier, the exceptions.
pub fn html(day: &str, r: &Reconciliation) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Cash on delivery, {day}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border-bottom: 1px solid #d9e2ec; padding: .35rem .7rem; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.ok {{ color: #1f7a3a; }} .off {{ color: #b42318; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1.5rem; }}
figure {{ margin: 0; }} figcaption {{ font-weight: 600; }}
</style></head><body>
<h1>Cash on delivery, {day}</h1>
"#,
        day = escape(day)
    );
    let verdict = if r.is_balanced() {
        r#"<p class="ok">Balanced: every courier handed over what it collected, and every collection matched its order.</p>"#.to_owned()
    } else {
        format!(
            r#"<p class="off">{} exception(s) to look at.</p>"#,
            r.exceptions.len()
        )
    };
    let _ = write!(
        page,
        "{verdict}\n<p>{} shipment(s) checked, {} matched ({:.1}%).</p>\n",
        r.shipments_checked,
        r.shipments_matched,
        r.accuracy_percent()
    );

    page.push_str("<h2>Couriers</h2>\n<table><thead><tr><th>Courier</th><th>Currency</th><th>COD deliveries</th><th>Expected</th><th>Collected</th><th>Handed over</th><th>Collected − expected</th><th>Due</th></tr></thead><tbody>\n");
    for l in &r.lines {
        let _ = writeln!(
            page,
            r#"<tr><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            escape(&l.courier.to_string()),
            l.currency.code(),
            l.cod_deliveries,
            l.expected().decimal(),
            l.collected().decimal(),
            l.handed_over().decimal(),
            l.collection_difference().decimal(),
            l.due().decimal(),
        );
    }
    page.push_str("</tbody></table>\n<h2>Per courier</h2>\n<div class=\"charts\">\n");
    for l in &r.lines {
        page.push_str(&chart(l));
    }
    page.push_str("</div>\n<h2>Exceptions</h2>\n");
    if r.exceptions.is_empty() {
        page.push_str("<p>None.</p>\n");
    } else {
        page.push_str("<table><thead><tr><th>Courier</th><th>Exception</th><th>Order</th><th>Status</th><th>Expected</th><th>Actual</th></tr></thead><tbody>\n");
        for e in &r.exceptions {
            let amount = |m: Option<Money>| m.map(|m| m.to_string()).unwrap_or_default();
            let _ = writeln!(
                page,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                escape(&e.courier.to_string()),
                escape(e.kind.describe()),
                escape(e.order.as_deref().unwrap_or("")),
                e.status.map(|s| s.as_str()).unwrap_or(""),
                escape(&amount(e.expected)),
                escape(&amount(e.actual)),
            );
        }
        page.push_str("</tbody></table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

/// Three bars (expected, collected, handed over) on one scale: a gap shows at a glance.
fn chart(l: &CourierLine) -> String {
    const WIDTH: i64 = 240;
    let bars = [
        ("expected", l.expected_minor, "#7b8794"),
        ("collected", l.collected_minor, "#2680c2"),
        ("handed over", l.handed_over_minor, "#1f7a3a"),
    ];
    let max = bars.iter().map(|b| b.1.max(0)).max().unwrap_or(0).max(1);
    let mut svg = format!(
        r#"<figure><figcaption>{} ({})</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="420" height="96" role="img" aria-label="expected, collected and handed over">
"#,
        escape(&l.courier.to_string()),
        l.currency.code()
    );
    for (i, (label, minor, colour)) in bars.iter().enumerate() {
        let y = 8 + i as i64 * 28;
        let width = minor.max(&0) * WIDTH / max;
        let amount = match *label {
            "expected" => l.expected(),
            "collected" => l.collected(),
            _ => l.handed_over(),
        };
        let _ = writeln!(
            svg,
            r#"<text x="0" y="{}" font-size="12">{label}</text><rect x="90" y="{y}" width="{width}" height="18" fill="{colour}"/><text x="{}" y="{}" font-size="12">{}</text>"#,
            y + 13,
            96 + width,
            y + 13,
            amount.decimal(),
        );
    }
    svg.push_str("</svg></figure>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cod::{reconcile, CodDelivery, CourierId, Handover};
    use crate::ShipmentStatus;

    fn eur(minor: i64) -> Money {
        Money {
            minor,
            currency: "EUR".parse().unwrap(),
        }
    }

    fn day() -> Reconciliation {
        let courier = CourierId::new("sandbox", Some("drv_01"));
        let delivery = |shipment: &str, order: &str, expected, collected| CodDelivery {
            shipment: shipment.into(),
            order: order.into(),
            courier: courier.clone(),
            status: ShipmentStatus::Delivered,
            cancelled: false,
            expected: Some(eur(expected)),
            collected: Some(eur(collected)),
        };
        reconcile(
            &[
                delivery("s1", "#1001", 2500, 2500),
                // An order name a store controls: quotes, commas and markup.
                delivery("s2", "#10\"02, <b>x</b>", 1000, 900),
            ],
            &[Handover {
                courier: courier.clone(),
                receipt: "R-1".into(),
                amount: eur(3000),
            }],
        )
    }

    #[test]
    fn the_couriers_csv_has_one_line_per_courier_and_currency_in_units() {
        let csv = String::from_utf8(couriers_csv("2026-11-24", &day()).unwrap()).unwrap();
        assert_eq!(
            csv,
            "day,courier,currency,cod_deliveries,expected,collected,handed_over,collected_minus_expected,due\n\
             2026-11-24,sandbox/drv_01,EUR,2,35.00,34.00,30.00,-1.00,4.00\n"
        );
    }

    #[test]
    fn the_exceptions_csv_quotes_what_a_store_typed() {
        let csv = String::from_utf8(exceptions_csv("2026-11-24", &day()).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][2], "underpaid");
        assert_eq!(&rows[0][4], "#10\"02, <b>x</b>");
        assert_eq!((&rows[0][8], &rows[0][9]), ("10.00", "9.00"));
        assert_eq!(&rows[1][2], "handed_over_less_than_collected");
        assert_eq!((&rows[1][8], &rows[1][9]), ("34.00", "30.00"));
    }

    #[test]
    fn the_page_escapes_store_text_and_draws_a_chart_per_courier() {
        let page = html("2026-11-24", &day());
        assert!(page.contains("#10&quot;02, &lt;b&gt;x&lt;/b&gt;"), "{page}");
        assert!(!page.contains("<b>x</b>"));
        assert_eq!(page.matches("<svg").count(), 1);
        assert!(page.contains("2 exception(s)"));
        // The largest amount fills the chart's width; the others are to scale.
        assert!(
            page.contains(r##"width="240" height="18" fill="#7b8794""##),
            "{page}"
        );
        assert!(
            page.contains(r##"width="205" height="18" fill="#1f7a3a""##),
            "{page}"
        );
    }

    #[test]
    fn the_same_reconciliation_renders_the_same_bytes() {
        assert_eq!(html("d", &day()), html("d", &day()));
        assert_eq!(
            couriers_csv("d", &day()).unwrap(),
            couriers_csv("d", &day()).unwrap()
        );
    }
}
