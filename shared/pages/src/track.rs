//! The customer's tracking page: where the delivery is, when it is expected, who carries
//! it, and once delivered, the proof.

use domain::record::ShipmentRecord;
use domain::ShipmentStatus;
use maud::html;

/// What the tracking page shows, read from the shipment.
pub struct TrackView<'a> {
    pub record: &'a ShipmentRecord,
    /// The store's name as the customer knows it.
    pub store: &'a str,
    /// The courier's name ("Onfleet", the delivery company's).
    pub courier: &'a str,
    /// The IANA time zone the customer's times are shown in; UTC when `None` or unknown.
    pub time_zone: Option<&'a str>,
    /// Where the customer may choose another delivery time (the store offers slots and the
    /// driver does not have the parcel yet).
    pub reschedule_url: Option<&'a str>,
}

/// The tracking page.
pub fn track(view: &TrackView) -> String {
    let record = view.record;
    let shipment = &record.shipment;
    let order = shipment
        .order_name
        .clone()
        .unwrap_or_else(|| shipment.key.order_id.clone());
    let zone = view.time_zone;
    let eta = (!is_final(record.status))
        .then(|| {
            record
                .delivery
                .eta_ms
                .or(record.dispatch.as_ref().map(|d| d.eta_ms))
        })
        .flatten()
        .and_then(|ms| moment(ms, zone));
    let body = html! {
        h1 { "Your order " (order) " from " (view.store) }
        p.now { (status_words(record.status)) }
        @if let Some(eta) = &eta {
            p { "Expected " (eta) "." }
        }
        @if let Some(url) = view.reschedule_url {
            p { a href=(url) { "Choose another delivery time" } }
        }
        @if let Some(failure) = &record.delivery.failure {
            p { "The delivery did not happen: "
                (failure.reason.as_deref()
                    .and_then(domain::notify::templates::failure_reason_text)
                    .unwrap_or("the courier could not deliver it"))
                "." }
        }
        dl {
            dt { "Courier" } dd { (view.courier) }
            @if let Some(task) = &record.task {
                dt { "Tracking number" } dd { (task.tracking_number) }
            }
            dt { "Delivering to" }
            dd { (shipment.address.street_line()) ", " (shipment.address.city) }
        }
        @if !record.transitions.is_empty() {
            h2 { "So far" }
            ol.path {
                @for (status, ms) in &record.transitions {
                    li { (status_words(*status))
                        @if let Some(at) = moment(*ms, zone) { time { (at) } } }
                }
            }
        }
        @if let Some(proof) = record.delivery.proof.as_ref().filter(|_| record.status == ShipmentStatus::Delivered) {
            h2 { "Proof of delivery" }
            dl {
                @if let Some(name) = &proof.signature_text {
                    dt { "Signed by" } dd { (name) }
                }
                @if let Some(at) = proof.completed_at_ms.and_then(|ms| moment(ms, zone)) {
                    dt { "Delivered" } dd { (at) }
                }
                @if !proof.photo_upload_ids.is_empty() {
                    dt { "Photos" } dd { (proof.photo_upload_ids.len()) " taken at the door" }
                }
                @if let Some(notes) = &proof.notes {
                    dt { "Driver's note" } dd { (notes) }
                }
            }
        }
    };
    super::layout(&format!("Order {order}"), body)
}

fn is_final(status: ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Cancelled
    )
}

/// A status in the customer's words.
fn status_words(status: ShipmentStatus) -> &'static str {
    match status {
        ShipmentStatus::Pending | ShipmentStatus::Created => {
            "Order received, preparing the delivery"
        }
        ShipmentStatus::Assigned => "A driver will bring it",
        ShipmentStatus::PickedUp => "Picked up by the driver",
        ShipmentStatus::OutForDelivery => "On the way to you",
        ShipmentStatus::Delivered => "Delivered",
        ShipmentStatus::Failed => "Delivery attempt failed",
        ShipmentStatus::Returned => "Returned to the store",
        ShipmentStatus::NeedsClarification => "We need to check your address",
        ShipmentStatus::Cancelled => "Cancelled",
    }
}

/// "Mon 7 Dec, 15:30 CET": a moment on the wall clock of `zone` (UTC without one, or for
/// a name the time zone database does not know).
fn moment(ms: i64, zone: Option<&str>) -> Option<String> {
    let zone = zone
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let at = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned_datetime(zone);
    Some(at.strftime("%a %-d %b, %H:%M %Z").to_string())
}
