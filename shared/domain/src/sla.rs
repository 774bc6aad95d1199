//! The delivery promise, in one place: when a shipment should be delivered by, so
//! status-sync can tell an on-time delivery from a late one (the `DeliverySla` metric).
//!
//! Channels give no promised delivery time except the customer's window, so:
//! - a shipment with a delivery window (any service, `scheduled` above all) is due by the
//!   window's end;
//! - otherwise it is due a fixed time after the channel event that made it shippable (the
//!   shipment's `source_event_ms`: the payment or confirmation, or a later edit of the
//!   order before its task, which restarts the promise):
//!
//! | service        | due within |
//! |----------------|------------|
//! | `same_day`     | 24 h       |
//! | `next_day`     | 48 h       |
//! | `standard`, `pickup_point`, `scheduled` without a window | 120 h (5 days) |
//! | `oversized`    | 168 h (7 days) |
//!
//! The hours stand in for "today" / "tomorrow" in the store's time zone, which is not
//! known here; they are deliberately generous so that a late delivery is really late.

use crate::{ServiceType, Shipment};

const HOUR_MS: i64 = 3_600_000;

/// How long after the order became shippable a service without a window is due.
pub fn allowance_ms(service: ServiceType) -> i64 {
    HOUR_MS
        * match service {
            ServiceType::SameDay => 24,
            ServiceType::NextDay => 48,
            ServiceType::Standard | ServiceType::PickupPoint | ServiceType::Scheduled => 120,
            ServiceType::Oversized => 168,
        }
}

/// When `shipment`, shippable since `shippable_ms`, is due (ms since the epoch).
pub fn due_by_ms(shipment: &Shipment, shippable_ms: i64) -> i64 {
    match &shipment.window {
        Some(window) => (window.end.unix_timestamp_nanos() / 1_000_000) as i64,
        None => shippable_ms.saturating_add(allowance_ms(shipment.service)),
    }
}

/// A delivery's verdict: on time, and if not, by how much it was late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub on_time: bool,
    pub late_by_ms: i64,
}

pub fn verdict(shipment: &Shipment, shippable_ms: i64, delivered_ms: i64) -> Verdict {
    let late_by_ms = delivered_ms - due_by_ms(shipment, shippable_ms);
    Verdict {
        on_time: late_by_ms <= 0,
        late_by_ms: late_by_ms.max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipment::DeliveryWindow;
    use time::macros::datetime;

    fn shipment(service: ServiceType) -> Shipment {
        let mut s: Shipment = serde_json::from_value(serde_json::json!({
            "key": "shopify:acme:1001:1",
            "recipient": {"name": "Ana"},
            "address": {"street": "Main St", "city": "Berlin", "country_code": "DE"},
            "parcel": {"pieces": 1},
            "payment": {"kind": "prepaid", "order_total": {"minor": 100, "currency": "EUR"}},
            "service": "standard"
        }))
        .expect("a minimal shipment");
        s.service = service;
        s
    }

    #[test]
    fn a_next_day_delivery_within_48_hours_is_on_time_and_after_it_late() {
        let s = shipment(ServiceType::NextDay);
        let paid = 1_000_000;
        assert!(verdict(&s, paid, paid + 47 * HOUR_MS).on_time);
        let late = verdict(&s, paid, paid + 49 * HOUR_MS);
        assert!(!late.on_time);
        assert_eq!(late.late_by_ms, HOUR_MS);
    }

    #[test]
    fn a_window_is_the_promise_whatever_the_service() {
        let mut s = shipment(ServiceType::SameDay);
        s.window = Some(DeliveryWindow {
            start: datetime!(2025-03-01 10:00 UTC),
            end: datetime!(2025-03-01 12:00 UTC),
        });
        let end_ms = datetime!(2025-03-01 12:00 UTC).unix_timestamp() * 1000;
        assert_eq!(due_by_ms(&s, 0), end_ms);
        assert!(verdict(&s, 0, end_ms).on_time);
        assert!(!verdict(&s, 0, end_ms + 1).on_time);
    }

    #[test]
    fn faster_services_promise_sooner() {
        assert!(allowance_ms(ServiceType::SameDay) < allowance_ms(ServiceType::NextDay));
        assert!(allowance_ms(ServiceType::NextDay) < allowance_ms(ServiceType::Standard));
        assert!(allowance_ms(ServiceType::Standard) < allowance_ms(ServiceType::Oversized));
    }
}
