//! The customer's tracking page: where the delivery is, when it is expected, who carries
//! it, and once delivered, the proof.

use crate::locale::{fill, Words};
use domain::locale::Locale;
use domain::record::ShipmentRecord;
use domain::ShipmentStatus;
use maud::html;

/// What the tracking page shows, read from the shipment.
pub struct TrackView<'a> {
    pub record: &'a ShipmentRecord,
    /// The store's name as the customer knows it.
    pub store: &'a str,
    /// The courier's name ("Onfleet", the delivery company's); `None`: "the courier", in
    /// the page's language.
    pub courier: Option<&'a str>,
    /// The IANA time zone the customer's times are shown in; UTC when `None` or unknown.
    pub time_zone: Option<&'a str>,
    /// Where the customer may choose another delivery time (the store offers slots and the
    /// driver does not have the parcel yet).
    pub reschedule_url: Option<&'a str>,
    /// The language the page is written in: the store's.
    pub locale: Locale,
}

/// The tracking page.
pub fn track(view: &TrackView) -> String {
    let words = Words(view.locale);
    let record = view.record;
    let shipment = &record.shipment;
    let order = shipment
        .order_name
        .as_deref()
        .map(|name| shown(name).into_owned())
        .unwrap_or_else(|| shipment.key.order_id.clone());
    let zone = view.time_zone;
    let moment = |ms: i64| moment(ms, zone, words);
    let eta = (!is_final(record.status))
        .then(|| {
            record
                .delivery
                .eta_ms
                .or(record.dispatch.as_ref().map(|d| d.eta_ms))
        })
        .flatten()
        .and_then(moment);
    let body = html! {
        h1 { (fill(words.your_order_from(), &[("order", &order), ("store", view.store)])) }
        p.now { (words.status(record.status)) }
        @if let Some(eta) = &eta {
            p { (fill(words.expected(), &[("eta", eta)])) }
        }
        @if let Some(url) = view.reschedule_url {
            p { a href=(url) { (words.choose_another_time()) } }
        }
        @if let Some(failure) = &record.delivery.failure {
            p { (fill(words.delivery_did_not_happen(),
                      &[("reason", words.failure_reason(failure.reason.as_deref()))])) }
        }
        dl {
            dt { (words.courier()) } dd { (view.courier.unwrap_or(words.the_courier())) }
            @if let Some(task) = &record.task {
                dt { (words.tracking_number()) } dd { (task.tracking_number) }
            }
            dt { (words.delivering_to()) }
            dd { (shown(&shipment.address.street_line())) ", " (shown(&shipment.address.city)) }
        }
        @if !record.transitions.is_empty() {
            h2 { (words.so_far()) }
            ol.path {
                @for (status, ms) in &record.transitions {
                    li { (words.status(*status))
                        @if let Some(at) = moment(*ms) { time { (at) } } }
                }
            }
        }
        @if let Some(proof) = record.delivery.proof.as_ref().filter(|_| record.status == ShipmentStatus::Delivered) {
            h2 { (words.proof_of_delivery()) }
            dl {
                @if let Some(name) = &proof.signature_text {
                    dt { (words.signed_by()) } dd { (shown(name)) }
                }
                @if let Some(at) = proof.completed_at_ms.and_then(moment) {
                    dt { (words.delivered_at()) } dd { (at) }
                }
                @if !proof.photo_upload_ids.is_empty() {
                    dt { (words.photos()) } dd { (words.photos_taken(proof.photo_upload_ids.len())) }
                }
                @if let Some(notes) = &proof.notes {
                    dt { (words.drivers_note()) } dd { (shown(notes)) }
                }
            }
        }
    };
    super::layout(
        view.locale,
        &fill(words.order_title(), &[("order", &order)]),
        body,
    )
}

/// Text from outside shown to the customer, without bidi controls (domain::text): the
/// courier's proof (a signer's name, a driver's note) comes from a driver's phone, and a
/// record written before normalization removed them may still hold one.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    domain::text::strip_bidi_controls(text)
}

fn is_final(status: ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Cancelled
    )
}

/// "Mon 7 Dec, 15:30 CET" ("Mo. 7. Dez., 15:30 CET"): a moment on the wall clock of `zone`
/// (UTC without one, or for a name the time zone database does not know).
fn moment(ms: i64, zone: Option<&str>, words: Words) -> Option<String> {
    let zone = zone
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let at = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned_datetime(zone);
    Some(words.moment(&at))
}
