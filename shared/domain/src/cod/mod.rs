//! Cash on delivery reconciliation, per courier and day: what the delivered shipments said
//! to collect (expected), what the courier reported collecting with each delivery
//! (collected), and what the dispatcher recorded the courier handing over (handed over).
//! Amounts are minor units and are only ever added within one currency: a courier who
//! collected EUR and USD has two lines.
//!
//! Pure: the function crate gathers the day's shipments and hand-overs and stores what
//! comes out.

pub mod cash;
pub mod report;
pub mod run;

pub use cash::{
    day_text, hand_over, parse_day, CashOutTask, CashOutWrite, HandoverError, HandoverWrite,
};
pub use run::{day_of, CashDesk, CodRunError, DayReport};

use crate::{Currency, Money, ShipmentStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Who holds the cash: a driver of a courier platform. A platform that did not say which
/// driver delivered is one courier of its own ("onfleet/unassigned").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CourierId {
    /// The courier integration, as on the shipment ("sandbox", "onfleet").
    pub platform: String,
    /// The driver (worker) id the platform reported with the delivery.
    pub driver: Option<String>,
}

impl CourierId {
    pub fn new(platform: &str, driver: Option<&str>) -> CourierId {
        CourierId {
            platform: platform.to_owned(),
            driver: driver.filter(|d| !d.trim().is_empty()).map(str::to_owned),
        }
    }

    /// Parses the form [`Display`](fmt::Display) writes: "sandbox/drv_01" (or "sandbox").
    pub fn parse(text: &str) -> Option<CourierId> {
        let (platform, driver) = match text.split_once('/') {
            Some((p, d)) => (p, Some(d)),
            None => (text, None),
        };
        let driver = driver.filter(|d| *d != UNASSIGNED);
        if platform.trim().is_empty() || driver.is_some_and(|d| d.trim().is_empty()) {
            return None;
        }
        Some(CourierId::new(platform, driver))
    }
}

const UNASSIGNED: &str = "unassigned";

impl fmt::Display for CourierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.platform,
            self.driver.as_deref().unwrap_or(UNASSIGNED)
        )
    }
}

/// One shipment's cash facts, as reconciliation sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct CodDelivery {
    /// The shipment key.
    pub shipment: String,
    /// The order as people know it ("#1001").
    pub order: String,
    pub courier: CourierId,
    pub status: ShipmentStatus,
    /// The order was cancelled (the task may have been on its way).
    pub cancelled: bool,
    /// The cash on delivery amount, if the order is cash on delivery.
    pub expected: Option<Money>,
    /// What the courier reported collecting; `None` when it reported nothing.
    pub collected: Option<Money>,
}

/// Cash a dispatcher recorded a courier handing over, with its receipt number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub courier: CourierId,
    pub receipt: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Delivered, and the courier collected less than the order's cash on delivery.
    Underpaid,
    /// Delivered, and the courier collected more (or collected on a prepaid order).
    Overpaid,
    /// Cash collected although the order was cancelled, or the parcel failed or came back.
    CollectedOnCancelledOrReturned,
    /// Delivered with cash on delivery, and the courier reported no collection at all.
    DeliveredNothingReported,
    /// Collected in another currency than the order's: nothing is converted.
    CurrencyMismatch,
    /// The courier handed over less than it collected that day.
    HandedOverLessThanCollected,
    /// The dispatcher recorded more than the courier collected that day.
    HandedOverMoreThanCollected,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Underpaid => "underpaid",
            ExceptionKind::Overpaid => "overpaid",
            ExceptionKind::CollectedOnCancelledOrReturned => "collected_on_cancelled_or_returned",
            ExceptionKind::DeliveredNothingReported => "delivered_nothing_reported",
            ExceptionKind::CurrencyMismatch => "currency_mismatch",
            ExceptionKind::HandedOverLessThanCollected => "handed_over_less_than_collected",
            ExceptionKind::HandedOverMoreThanCollected => "handed_over_more_than_collected",
        }
    }

    /// What a dispatcher reads in the report.
    pub fn describe(self) -> &'static str {
        match self {
            ExceptionKind::Underpaid => "collected less than the cash on delivery",
            ExceptionKind::Overpaid => "collected more than the cash on delivery",
            ExceptionKind::CollectedOnCancelledOrReturned => {
                "cash collected on a cancelled, failed or returned delivery"
            }
            ExceptionKind::DeliveredNothingReported => "delivered, but no cash collection reported",
            ExceptionKind::CurrencyMismatch => "collected in another currency than the order's",
            ExceptionKind::HandedOverLessThanCollected => "handed over less than collected",
            ExceptionKind::HandedOverMoreThanCollected => "handed over more than collected",
        }
    }
}

impl fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that does not add up, with the amounts that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodException {
    pub kind: ExceptionKind,
    pub courier: CourierId,
    /// The shipment, for the exceptions about one delivery; `None` for a day's hand-over.
    pub shipment: Option<String>,
    pub order: Option<String>,
    pub status: Option<ShipmentStatus>,
    /// What there should have been (the cash on delivery, or what was collected).
    pub expected: Option<Money>,
    /// What there was (collected, or handed over).
    pub actual: Option<Money>,
}

/// A courier's day in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierLine {
    pub courier: CourierId,
    pub currency: Currency,
    /// Delivered shipments with cash on delivery.
    pub cod_deliveries: u32,
    pub expected_minor: i64,
    pub collected_minor: i64,
    pub handed_over_minor: i64,
}

impl CourierLine {
    pub fn expected(&self) -> Money {
        self.money(self.expected_minor)
    }
    pub fn collected(&self) -> Money {
        self.money(self.collected_minor)
    }
    pub fn handed_over(&self) -> Money {
        self.money(self.handed_over_minor)
    }
    /// Collected minus expected: what the deliveries' cash is off by.
    pub fn collection_difference(&self) -> Money {
        self.money(self.collected_minor.saturating_sub(self.expected_minor))
    }
    /// What the courier still owes the depot for the day: collected minus handed over,
    /// never below zero (an excess hand-over is an exception, not a credit).
    pub fn due(&self) -> Money {
        self.money(
            self.collected_minor
                .saturating_sub(self.handed_over_minor)
                .max(0),
        )
    }
    fn money(&self, minor: i64) -> Money {
        Money {
            minor,
            currency: self.currency,
        }
    }
}

/// A day's reconciliation: one line per courier and currency, and every exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub lines: Vec<CourierLine>,
    pub exceptions: Vec<CodException>,
    /// Shipments with cash on delivery or cash collected that day.
    pub shipments_checked: u32,
    /// Of those, the ones whose collection matched exactly (no exception).
    pub shipments_matched: u32,
    /// The same two counts per courier, in courier order.
    pub per_courier: Vec<CourierCount>,
}

/// How many of a courier's shipments were checked and matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierCount {
    pub courier: CourierId,
    pub checked: u32,
    pub matched: u32,
}

impl CourierCount {
    pub fn accuracy_percent(&self) -> f64 {
        percent(self.matched, self.checked)
    }
}

fn percent(matched: u32, checked: u32) -> f64 {
    if checked == 0 {
        return 100.0;
    }
    f64::from(matched) * 100.0 / f64::from(checked)
}

impl Reconciliation {
    /// Matched shipments as a percentage of those checked; a day with none is 100.
    pub fn accuracy_percent(&self) -> f64 {
        percent(self.shipments_matched, self.shipments_checked)
    }

    /// Every line adds up (expected = collected = handed over) and nothing is off.
    pub fn is_balanced(&self) -> bool {
        self.exceptions.is_empty()
            && self.lines.iter().all(|l| {
                l.expected_minor == l.collected_minor && l.collected_minor == l.handed_over_minor
            })
    }
}

type Lines = BTreeMap<(CourierId, &'static str), CourierLine>;

fn line<'a>(lines: &'a mut Lines, courier: &CourierId, currency: Currency) -> &'a mut CourierLine {
    lines
        .entry((courier.clone(), currency.code()))
        .or_insert_with(|| CourierLine {
            courier: courier.clone(),
            currency,
            cod_deliveries: 0,
            expected_minor: 0,
            collected_minor: 0,
            handed_over_minor: 0,
        })
}

/// Reconciles one day: `deliveries` are the shipments whose cash belongs to the day,
/// `handovers` what was handed over for it.
pub fn reconcile(deliveries: &[CodDelivery], handovers: &[Handover]) -> Reconciliation {
    let mut lines: Lines = BTreeMap::new();
    let mut exceptions = Vec::new();
    let mut counts: BTreeMap<CourierId, (u32, u32)> = BTreeMap::new();

    let mut ordered: Vec<&CodDelivery> = deliveries.iter().collect();
    ordered.sort_by(|a, b| (&a.courier, &a.shipment).cmp(&(&b.courier, &b.shipment)));
    for delivery in ordered {
        let collected = delivery.collected.filter(|c| c.minor != 0);
        if delivery.expected.is_none() && collected.is_none() {
            continue;
        }
        let count = counts.entry(delivery.courier.clone()).or_default();
        count.0 += 1;
        let delivered = delivery.status == ShipmentStatus::Delivered && !delivery.cancelled;
        // The cash the courier holds counts on its line whatever the shipment's fate.
        if let Some(c) = collected {
            let l = line(&mut lines, &delivery.courier, c.currency);
            l.collected_minor = l.collected_minor.saturating_add(c.minor);
        }
        let kind = if delivered {
            if let Some(e) = delivery.expected {
                let l = line(&mut lines, &delivery.courier, e.currency);
                l.cod_deliveries += 1;
                l.expected_minor = l.expected_minor.saturating_add(e.minor);
            }
            match (delivery.expected, delivery.collected) {
                (Some(_), None) => Some(ExceptionKind::DeliveredNothingReported),
                (Some(e), Some(c)) if e.currency != c.currency => {
                    Some(ExceptionKind::CurrencyMismatch)
                }
                (Some(e), Some(c)) if c.minor < e.minor => Some(ExceptionKind::Underpaid),
                (Some(e), Some(c)) if c.minor > e.minor => Some(ExceptionKind::Overpaid),
                (None, Some(c)) if c.minor > 0 => Some(ExceptionKind::Overpaid),
                _ => None,
            }
        } else if collected.is_some() {
            Some(ExceptionKind::CollectedOnCancelledOrReturned)
        } else {
            // Cash on delivery that was not delivered: nothing to collect, nothing off.
            None
        };
        match kind {
            None => count.1 += 1,
            Some(kind) => exceptions.push(CodException {
                kind,
                courier: delivery.courier.clone(),
                shipment: Some(delivery.shipment.clone()),
                order: Some(delivery.order.clone()),
                status: Some(delivery.status),
                expected: match kind {
                    // Nothing was due on a prepaid order or an undelivered one.
                    ExceptionKind::CollectedOnCancelledOrReturned => None,
                    _ => delivery.expected,
                },
                actual: delivery.collected,
            }),
        }
    }

    for handover in handovers {
        let l = line(&mut lines, &handover.courier, handover.amount.currency);
        l.handed_over_minor = l.handed_over_minor.saturating_add(handover.amount.minor);
    }
    let lines: Vec<CourierLine> = lines.into_values().collect();
    for l in &lines {
        let kind = match l.handed_over_minor.cmp(&l.collected_minor) {
            std::cmp::Ordering::Less => ExceptionKind::HandedOverLessThanCollected,
            std::cmp::Ordering::Greater => ExceptionKind::HandedOverMoreThanCollected,
            std::cmp::Ordering::Equal => continue,
        };
        exceptions.push(CodException {
            kind,
            courier: l.courier.clone(),
            shipment: None,
            order: None,
            status: None,
            expected: Some(l.collected()),
            actual: Some(l.handed_over()),
        });
    }
    exceptions
        .sort_by(|a, b| (&a.courier, a.kind, &a.shipment).cmp(&(&b.courier, b.kind, &b.shipment)));
    Reconciliation {
        lines,
        exceptions,
        shipments_checked: counts.values().map(|c| c.0).sum(),
        shipments_matched: counts.values().map(|c| c.1).sum(),
        per_courier: counts
            .into_iter()
            .map(|(courier, (checked, matched))| CourierCount {
                courier,
                checked,
                matched,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        money(minor, "EUR")
    }

    fn money(minor: i64, code: &str) -> Money {
        Money {
            minor,
            currency: code.parse().unwrap(),
        }
    }

    fn ana() -> CourierId {
        CourierId::new("sandbox", Some("drv_ana"))
    }

    fn delivered(shipment: &str, expected: Option<Money>, collected: Option<Money>) -> CodDelivery {
        CodDelivery {
            shipment: shipment.into(),
            order: format!("#{shipment}"),
            courier: ana(),
            status: ShipmentStatus::Delivered,
            cancelled: false,
            expected,
            collected,
        }
    }

    fn handover(amount: Money) -> Handover {
        Handover {
            courier: ana(),
            receipt: "R-1".into(),
            amount,
        }
    }

    fn kinds(r: &Reconciliation) -> Vec<ExceptionKind> {
        r.exceptions.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn every_exception_kind_from_its_own_case() {
        use ExceptionKind::*;
        let returned = CodDelivery {
            status: ShipmentStatus::Returned,
            ..delivered("s", Some(eur(1000)), Some(eur(1000)))
        };
        let failed = CodDelivery {
            status: ShipmentStatus::Failed,
            ..delivered("s", Some(eur(1000)), Some(eur(300)))
        };
        let cancelled = CodDelivery {
            status: ShipmentStatus::Cancelled,
            ..delivered("s", Some(eur(1000)), Some(eur(1000)))
        };
        let cancel_requested_but_delivered = CodDelivery {
            cancelled: true,
            ..delivered("s", Some(eur(1000)), Some(eur(1000)))
        };
        // (case, deliveries, hand-overs, the exceptions it must give)
        type Case = (
            &'static str,
            Vec<CodDelivery>,
            Vec<Handover>,
            Vec<ExceptionKind>,
        );
        let table: Vec<Case> = vec![
            (
                "exact",
                vec![delivered("s", Some(eur(1000)), Some(eur(1000)))],
                vec![handover(eur(1000))],
                vec![],
            ),
            (
                "underpaid",
                vec![delivered("s", Some(eur(1000)), Some(eur(900)))],
                vec![handover(eur(900))],
                vec![Underpaid],
            ),
            (
                "overpaid",
                vec![delivered("s", Some(eur(1000)), Some(eur(1200)))],
                vec![handover(eur(1200))],
                vec![Overpaid],
            ),
            (
                "collected on a prepaid order",
                vec![delivered("s", None, Some(eur(500)))],
                vec![handover(eur(500))],
                vec![Overpaid],
            ),
            (
                "collected on a returned order",
                vec![returned],
                vec![handover(eur(1000))],
                vec![CollectedOnCancelledOrReturned],
            ),
            (
                "collected on a failed attempt",
                vec![failed],
                vec![handover(eur(300))],
                vec![CollectedOnCancelledOrReturned],
            ),
            (
                "collected on a cancelled order",
                vec![cancelled],
                vec![handover(eur(1000))],
                vec![CollectedOnCancelledOrReturned],
            ),
            (
                "delivered although the order was cancelled",
                vec![cancel_requested_but_delivered],
                vec![handover(eur(1000))],
                vec![CollectedOnCancelledOrReturned],
            ),
            (
                "delivered, nothing reported",
                vec![delivered("s", Some(eur(1000)), None)],
                vec![],
                vec![DeliveredNothingReported],
            ),
            (
                "another currency",
                vec![delivered("s", Some(eur(1000)), Some(money(1000, "USD")))],
                vec![handover(money(1000, "USD"))],
                vec![CurrencyMismatch],
            ),
            (
                "handed over less",
                vec![delivered("s", Some(eur(1000)), Some(eur(1000)))],
                vec![handover(eur(700))],
                vec![HandedOverLessThanCollected],
            ),
            (
                "handed over more",
                vec![delivered("s", Some(eur(1000)), Some(eur(1000)))],
                vec![handover(eur(1100))],
                vec![HandedOverMoreThanCollected],
            ),
            (
                "underpaid and handed over less",
                vec![delivered("s", Some(eur(1000)), Some(eur(900)))],
                vec![handover(eur(800))],
                vec![Underpaid, HandedOverLessThanCollected],
            ),
        ];
        for (case, deliveries, handovers, expected) in table {
            let r = reconcile(&deliveries, &handovers);
            assert_eq!(kinds(&r), expected, "{case}");
            assert_eq!(r.is_balanced(), expected.is_empty(), "{case}");
        }
    }

    #[test]
    fn an_exception_carries_the_amounts_that_show_it() {
        let r = reconcile(
            &[delivered("s1", Some(eur(1000)), Some(eur(900)))],
            &[handover(eur(600))],
        );
        assert_eq!(
            r.exceptions,
            vec![
                CodException {
                    kind: ExceptionKind::Underpaid,
                    courier: ana(),
                    shipment: Some("s1".into()),
                    order: Some("#s1".into()),
                    status: Some(ShipmentStatus::Delivered),
                    expected: Some(eur(1000)),
                    actual: Some(eur(900)),
                },
                CodException {
                    kind: ExceptionKind::HandedOverLessThanCollected,
                    courier: ana(),
                    shipment: None,
                    order: None,
                    status: None,
                    expected: Some(eur(900)),
                    actual: Some(eur(600)),
                },
            ]
        );
        let line = &r.lines[0];
        assert_eq!(line.collection_difference(), eur(-100));
        assert_eq!(line.due(), eur(300));
    }

    #[test]
    fn lines_are_per_courier_and_currency_and_never_mix_currencies() {
        let ben = CourierId::new("sandbox", Some("drv_ben"));
        let deliveries = vec![
            delivered("a", Some(eur(1000)), Some(eur(1000))),
            delivered("b", Some(eur(2500)), Some(eur(2500))),
            delivered("c", Some(money(700, "USD")), Some(money(700, "USD"))),
            CodDelivery {
                courier: ben.clone(),
                ..delivered("d", Some(money(1500, "JPY")), Some(money(1500, "JPY")))
            },
        ];
        let handovers = vec![
            handover(eur(3500)),
            handover(money(700, "USD")),
            Handover {
                courier: ben.clone(),
                receipt: "R-9".into(),
                amount: money(1500, "JPY"),
            },
        ];
        let r = reconcile(&deliveries, &handovers);
        assert!(r.is_balanced(), "{r:?}");
        let summary: Vec<(String, &str, u32, i64, i64, i64)> = r
            .lines
            .iter()
            .map(|l| {
                (
                    l.courier.to_string(),
                    l.currency.code(),
                    l.cod_deliveries,
                    l.expected_minor,
                    l.collected_minor,
                    l.handed_over_minor,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("sandbox/drv_ana".to_owned(), "EUR", 2, 3500, 3500, 3500),
                ("sandbox/drv_ana".to_owned(), "USD", 1, 700, 700, 700),
                ("sandbox/drv_ben".to_owned(), "JPY", 1, 1500, 1500, 1500),
            ]
        );
        assert_eq!(r.accuracy_percent(), 100.0);
    }

    #[test]
    fn accuracy_counts_matched_shipments_and_ignores_prepaid_ones() {
        let r = reconcile(
            &[
                delivered("a", Some(eur(1000)), Some(eur(1000))),
                delivered("b", Some(eur(1000)), Some(eur(900))),
                delivered("c", None, None),
                delivered("d", Some(eur(1000)), Some(eur(1000))),
                delivered("e", None, Some(eur(0))),
            ],
            &[handover(eur(2900))],
        );
        assert_eq!((r.shipments_checked, r.shipments_matched), (3, 2));
        assert_eq!(
            r.per_courier,
            vec![CourierCount {
                courier: ana(),
                checked: 3,
                matched: 2
            }]
        );
        assert!((r.accuracy_percent() - 66.666).abs() < 0.01);
        assert_eq!(reconcile(&[], &[]).accuracy_percent(), 100.0);
    }

    #[test]
    fn a_cod_order_that_was_not_delivered_and_collected_nothing_is_no_exception() {
        let r = reconcile(
            &[CodDelivery {
                status: ShipmentStatus::Returned,
                ..delivered("s", Some(eur(1000)), None)
            }],
            &[],
        );
        assert!(r.is_balanced(), "{r:?}");
        assert!(r.lines.is_empty());
    }

    #[test]
    fn the_same_input_in_another_order_gives_the_same_result() {
        let mut deliveries = vec![
            delivered("b", Some(eur(1000)), Some(eur(900))),
            delivered("a", Some(eur(1000)), None),
            CodDelivery {
                courier: CourierId::new("onfleet", None),
                ..delivered("c", Some(eur(300)), Some(eur(400)))
            },
        ];
        let first = reconcile(&deliveries, &[handover(eur(100))]);
        deliveries.reverse();
        assert_eq!(reconcile(&deliveries, &[handover(eur(100))]), first);
    }

    #[test]
    fn a_courier_id_reads_back_from_its_text() {
        for id in [
            CourierId::new("sandbox", Some("drv_01")),
            CourierId::new("onfleet", None),
        ] {
            assert_eq!(CourierId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(
            CourierId::parse("onfleet"),
            Some(CourierId::new("onfleet", None))
        );
        assert_eq!(CourierId::parse("/drv"), None);
        assert_eq!(CourierId::parse("sandbox/"), None);
    }
}
