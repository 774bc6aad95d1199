//! The console's shipment list: find one by its tracking or order number, or list a day's,
//! narrowed to a store or a status, a page at a time.

use super::{encode, layout, shipment_link, Operator};
use domain::record::ShipmentRecord;
use maud::html;

/// The search as the operator typed it (so the form shows it again).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ShipmentSearch {
    /// A tracking number, or an order number (with the store).
    pub number: String,
    pub channel: String,
    pub store: String,
    /// YYYY-MM-DD, UTC.
    pub day: String,
    pub status: String,
    /// The page's cursor.
    pub after: String,
}

impl ShipmentSearch {
    /// The link to this search's page that starts after `cursor`.
    pub fn link_after(&self, cursor: &str) -> String {
        let pairs = [
            ("number", self.number.as_str()),
            ("channel", &self.channel),
            ("store", &self.store),
            ("day", &self.day),
            ("status", &self.status),
            ("after", cursor),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect();
        format!("/console/shipments?{}", query.join("&"))
    }
}

pub struct ShipmentsView<'a> {
    pub operator: &'a Operator<'a>,
    pub search: &'a ShipmentSearch,
    pub channels: &'a [&'a str],
    pub statuses: &'a [&'a str],
    /// What the list shows ("Tracking number 1Z…", "Shipments of 2026-12-06"), once searched.
    pub heading: Option<String>,
    pub shipments: &'a [ShipmentRecord],
    /// Why the search could not be made, in words.
    pub problem: Option<&'a str>,
    pub next: Option<String>,
}

pub fn shipments(view: &ShipmentsView) -> String {
    let search = view.search;
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| format!("{ms} ms"))
    };
    let body = html! {
        h1 { "Shipments" }
        form.filter.search method="get" action="/console/shipments" {
            p.field {
                label for="number" { "Tracking or order number" }
                input id="number" name="number" type="search" value=(search.number);
            }
            p.field {
                label for="channel" { "Channel" }
                select id="channel" name="channel" {
                    option value="" { "any" }
                    @for channel in view.channels {
                        option value=(channel) selected[*channel == search.channel] { (channel) }
                    }
                }
                label for="store" { "Store" }
                input id="store" name="store" type="text" value=(search.store);
            }
            p.field {
                label for="day" { "Day (UTC)" }
                input id="day" name="day" type="date" value=(search.day);
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "any" }
                    @for status in view.statuses {
                        option value=(status) selected[*status == search.status] { (status) }
                    }
                }
            }
            p.hint { "A number finds the shipment with that tracking number, or the order with that number in the chosen store. Without one, the list shows a day's shipments, newest first." }
            button type="submit" { "Search" }
        }
        @if let Some(problem) = view.problem {
            p.problem role="alert" { (problem) }
        }
        @if let Some(heading) = &view.heading {
            @if view.shipments.is_empty() {
                p { (heading) ": none." }
            } @else {
                table {
                    caption { (heading) }
                    thead { tr {
                        th scope="col" { "Shipment" } th scope="col" { "Order" }
                        th scope="col" { "Recipient" } th scope="col" { "Status" }
                        th scope="col" { "Tracking" } th scope="col" { "Last order event" }
                    } }
                    tbody {
                        @for record in view.shipments {
                            @let key = record.shipment.key.to_string();
                            tr {
                                td { a href=(shipment_link(&key)) { (key) } }
                                td { (record.shipment.order_name.as_deref().unwrap_or(&record.shipment.key.order_id)) }
                                td { (record.shipment.recipient.name) ", " (record.shipment.address.city) }
                                td { (record.status) }
                                td { @if let Some(task) = &record.task { (task.tracking_number) } }
                                td { (at(record.source_event_ms)) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &view.next {
                p { a rel="next" href=(next) { "Next page →" } }
            }
        }
    };
    layout("Shipments", Some(view.operator), body)
}
