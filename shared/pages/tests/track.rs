//! The tracking page says where the delivery is in the customer's words and time zone, and
//! shows whatever a store or customer typed as text, never as markup.

use domain::courier::event::{Failure, ProofOfDelivery};
use domain::record::ShipmentRecord;
use domain::ShipmentStatus;
use fakes::sample::{shipment, task, with_task};
use pages::{track, Locale, TrackView};

/// 2026-12-07 14:30 UTC: 15:30 in Berlin.
const AFTERNOON: i64 = 1_796_653_800_000;

fn record(status: ShipmentStatus) -> ShipmentRecord {
    let mut record = with_task(&shipment("acme", "1001"), &task(7), status);
    record.transitions = vec![
        (ShipmentStatus::Assigned, AFTERNOON - 3_600_000),
        (ShipmentStatus::PickedUp, AFTERNOON - 1_800_000),
    ];
    record
}

fn page(record: &ShipmentRecord, zone: Option<&str>) -> String {
    track(&TrackView {
        record,
        store: "Acme Blumen",
        courier: Some("Sandbox Courier"),
        time_zone: zone,
        reschedule_url: None,
        locale: Locale::En,
    })
}

#[test]
fn on_the_way_it_shows_the_status_path_and_the_eta_in_the_stores_time_zone() {
    let mut out = record(ShipmentStatus::OutForDelivery);
    out.transitions
        .push((ShipmentStatus::OutForDelivery, AFTERNOON - 600_000));
    out.delivery.eta_ms = Some(AFTERNOON);

    let html = page(&out, Some("Europe/Berlin"));
    assert!(html.contains("On the way to you"), "{html}");
    assert!(html.contains("Expected Mon 7 Dec, 15:30 CET."), "{html}");
    // Each step with its local time, in order.
    let picked = html
        .find("Picked up by the driver<time>Mon 7 Dec, 15:00 CET")
        .unwrap();
    let assigned = html
        .find("A driver will bring it<time>Mon 7 Dec, 14:30 CET")
        .unwrap();
    assert!(assigned < picked);
    assert!(html.contains("TRK0007"));
    assert!(html.contains("Sandbox Courier"));
    assert!(!html.contains("Proof of delivery"));
}

#[test]
fn a_plans_eta_stands_in_until_the_courier_gives_one() {
    let mut assigned = record(ShipmentStatus::Assigned);
    assigned.dispatch = Some(domain::record::Dispatched {
        plan_id: "p1".into(),
        day: "2026-12-07".into(),
        driver: "drv_01".into(),
        eta_ms: AFTERNOON + 3_600_000,
        time_zone: "Europe/Berlin".into(),
    });
    let html = page(&assigned, Some("Europe/Berlin"));
    assert!(html.contains("Expected Mon 7 Dec, 16:30 CET."), "{html}");
}

#[test]
fn delivered_it_shows_the_proof_and_no_eta() {
    let mut delivered = record(ShipmentStatus::Delivered);
    delivered.delivery.eta_ms = Some(AFTERNOON);
    delivered.delivery.proof = Some(ProofOfDelivery {
        signature_upload_id: Some("sig_1".into()),
        photo_upload_ids: vec!["ph_1".into(), "ph_2".into()],
        signature_text: Some("K. Weber".into()),
        recipient_name: Some("Kim Weber".into()),
        notes: Some("Left with the neighbour at no. 3".into()),
        location: None,
        completed_at_ms: Some(AFTERNOON),
    });
    let html = page(&delivered, Some("Europe/Berlin"));
    assert!(html.contains("<p class=\"now\">Delivered</p>"), "{html}");
    assert!(!html.contains("Expected"));
    assert!(
        html.contains("<dt>Signed by</dt><dd>K. Weber</dd>"),
        "{html}"
    );
    assert!(html.contains("<dd>Mon 7 Dec, 15:30 CET</dd>"));
    assert!(html.contains("2 taken at the door"));
    assert!(html.contains("Left with the neighbour at no. 3"));
}

#[test]
fn a_failed_attempt_says_why_in_words() {
    let mut failed = record(ShipmentStatus::Failed);
    failed.delivery.failure = Some(Failure {
        reason: Some("RECIPIENT_ABSENT".into()),
        notes: None,
    });
    let html = page(&failed, None);
    assert!(html.contains("Delivery attempt failed"));
    assert!(
        html.contains("nobody was available to receive it"),
        "{html}"
    );
}

#[test]
fn without_a_known_time_zone_times_are_utc() {
    let mut out = record(ShipmentStatus::OutForDelivery);
    out.delivery.eta_ms = Some(AFTERNOON);
    for zone in [None, Some("Mars/Olympus_Mons")] {
        let html = page(&out, zone);
        assert!(
            html.contains("Expected Mon 7 Dec, 14:30 UTC."),
            "{zone:?}: {html}"
        );
    }
}

#[test]
fn what_stores_and_customers_typed_is_text_never_markup() {
    let mut hostile = record(ShipmentStatus::Delivered);
    hostile.shipment.order_name = Some("<script>alert('order')</script>".into());
    hostile.shipment.address.city = "\"><img src=x onerror=alert(1)>".into();
    hostile.delivery.proof = Some(ProofOfDelivery {
        signature_upload_id: None,
        photo_upload_ids: Vec::new(),
        signature_text: Some("<b>Mallory</b>".into()),
        recipient_name: None,
        notes: None,
        location: None,
        completed_at_ms: None,
    });
    let html = track(&TrackView {
        record: &hostile,
        store: "</title><script>steal()</script>",
        courier: Some("Sandbox Courier"),
        time_zone: None,
        reschedule_url: None,
        locale: Locale::En,
    });
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert('order')&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;Mallory&lt;/b&gt;"));
}

#[test]
fn what_a_driver_typed_reaches_the_customer_without_bidi_controls() {
    let mut delivered = record(ShipmentStatus::Delivered);
    delivered.delivery.proof = Some(ProofOfDelivery {
        signature_upload_id: None,
        photo_upload_ids: Vec::new(),
        // Shown as is, U+202E would reverse the signer's name.
        signature_text: Some("\u{202E}rebeW .K".into()),
        recipient_name: None,
        notes: Some("Left with \u{2067}the neighbour\u{2069}".into()),
        location: None,
        completed_at_ms: None,
    });
    delivered.shipment.address.city = "Berlin\u{200F}".into();
    let html = page(&delivered, None);
    assert!(!html.chars().any(domain::text::is_bidi_control), "{html}");
    assert!(html.contains("rebeW .K"), "{html}");
    assert!(html.contains("Left with the neighbour"), "{html}");
}

#[test]
fn a_refused_link_gets_one_plain_page() {
    let html = pages::not_found();
    assert!(html.contains("Page not found"));
    assert!(!html.contains("expired") && !html.contains("forged"));
}
