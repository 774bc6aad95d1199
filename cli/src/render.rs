//! Plain-text output: aligned columns for lists, RFC 3339 for times.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Left-aligned columns, two spaces apart; the last column is not padded.
pub struct Table<const N: usize> {
    header: [String; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    pub fn new(header: [&str; N]) -> Self {
        Table {
            header: header.map(str::to_owned),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let mut widths = [0; N];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|row| {
                let line: Vec<String> = row
                    .iter()
                    .zip(widths)
                    .map(|(cell, width)| format!("{cell:<width$}"))
                    .collect();
                line.join("  ").trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// An event time (ms since the epoch) as RFC 3339, with the raw value when it is out of
/// range rather than failing a `show`.
pub fn event_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let mut table = Table::new(["ID", "STATUS"]);
        table.row(["review:a".into(), "open".into()]);
        table.row(["b".into(), "released".into()]);
        assert_eq!(
            table.render(),
            "ID        STATUS\nreview:a  open\nb         released"
        );
    }

    #[test]
    fn event_times_are_rfc3339() {
        assert_eq!(event_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(event_time(i64::MAX), format!("{} ms", i64::MAX));
    }
}
