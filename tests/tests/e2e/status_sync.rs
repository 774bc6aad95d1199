//! The delivery as it happens: the sandbox courier's drivers move tasks on and post signed
//! webhooks; intake verifies and dedupes them, status-sync moves the shipment, keeps the
//! history and the proof, writes each status back to the store and tells the customer —
//! each once.

use domain::notify::{OutboxEntry, OutboxState};
use domain::{Channel, ShipmentKey, ShipmentStatus};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness, STORE};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// A paid order whose task exists, with the tracking on the store and the tracking link
/// sent: the state every delivery test starts from.
async fn dispatched(h: &Harness, id: u64) -> (ShipmentKey, String) {
    let (status, _, _) = h
        .deliver(
            "orders/paid",
            &format!("w-{id}"),
            paid_order(id).to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
    let task = h.task_for(&key.to_string()).await;
    wait_for("tracking on the store and the link sent", WAIT, || async {
        let record = h.shipment(&key).await;
        let link = outbox(h, &key, "tracking_link").await;
        (record.tracking_written_back.is_some() && link.is_some_and(|m| m.state.is_final()))
            .then_some(())
    })
    .await;
    (key, task.id)
}

async fn outbox(h: &Harness, key: &ShipmentKey, template: &str) -> Option<OutboxEntry> {
    h.stores()
        .outbox
        .get(&OutboxEntry::id_for(&key.to_string(), template))
        .await
        .expect("outbox readable")
}

/// Customers of this store hear by SMS, so the sandbox's Twilio counts every message.
async fn sms_store(h: &Harness) {
    h.configure_store(
        Channel::Shopify,
        STORE,
        json!({"notifications": {
            "channels": ["sms"],
            "reschedule_url": "https://shop.example/reschedule?order={order}"
        }}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_reaches_the_store_and_the_customer_once_each() {
    let h = Harness::start("delivery", &[]).await;
    sms_store(&h).await;
    let (key, task) = dispatched(&h, 7_710_000_000_000_000_001).await;

    for status in [
        ShipmentStatus::Assigned,
        ShipmentStatus::PickedUp,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
    ] {
        h.advance_task(&task, 1).await;
        h.wait_for_status(&key, status).await;
    }
    // Each message leaves on its own: "delivered" may go out before "on the way".
    wait_for("every write-back and message", WAIT, || async {
        let events = h.sandbox.shopify_fulfillment_events();
        let mut sent = 0;
        for template in ["tracking_link", "on_the_way", "delivered"] {
            let message = outbox(&h, &key, template).await;
            sent += usize::from(message.is_some_and(|m| m.state == OutboxState::Sent));
        }
        (events.len() >= 4 && sent == 3).then_some(())
    })
    .await;
    let record = h.shipment(&key).await;

    // The state machine's path, with when each step happened.
    let path: Vec<ShipmentStatus> = record.transitions.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        path,
        [
            ShipmentStatus::Assigned,
            ShipmentStatus::PickedUp,
            ShipmentStatus::OutForDelivery,
            ShipmentStatus::Delivered
        ]
    );
    assert!(record.transitions.windows(2).all(|w| w[0].1 <= w[1].1));
    // Proof of delivery and the courier's bill.
    let proof = record.delivery.proof.expect("proof of delivery");
    assert!(proof.signature_upload_id.is_some() && !proof.photo_upload_ids.is_empty());
    assert!(proof.location.is_some() && proof.completed_at_ms.is_some());
    assert_eq!(proof.recipient_name.as_deref(), Some("Kim Weber"));
    let cost = record.delivery.delivery_cost.expect("delivery cost");
    assert_eq!((cost.minor, cost.currency.code()), (490, "EUR"));
    assert_eq!(record.delivery.cod_collected, None, "a prepaid order");
    // The full history, in the order things happened.
    let history = h.stores().history.list(&key).await.unwrap();
    let statuses: Vec<_> = history.iter().filter_map(|e| e.status).collect();
    assert_eq!(statuses, path);

    // The store: one fulfillment event per status, on the tracking's fulfillment.
    let events = h.sandbox.shopify_fulfillment_events();
    let kinds: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        kinds,
        ["CONFIRMED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"],
        "{events:?}"
    );
    assert!(events
        .iter()
        .all(|e| Some(&e.fulfillment_id) == record.tracking_written_back.as_ref()));

    // The customer: tracking link, on the way, delivered; one SMS each.
    let sms = h.sandbox.sms_messages();
    assert_eq!(sms.len(), 3, "{sms:?}");
    assert!(sms.iter().all(|m| m.to == "+4930901820"));
    for template in ["tracking_link", "on_the_way", "delivered"] {
        let m = outbox(&h, &key, template).await.expect(template);
        assert_eq!(m.state, OutboxState::Sent, "{template}");
        assert_eq!(m.attempts, 1, "{template}");
        assert!(
            sms.iter().any(|s| Some(&s.sid) == m.provider_id.as_ref()),
            "{template} went out as {:?}",
            m.provider_id
        );
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_tells_the_customer_why_and_where_to_reschedule() {
    let h = Harness::start("failed", &[]).await;
    sms_store(&h).await;
    let id = 7_710_000_000_000_000_002_u64;
    let (key, task) = dispatched(&h, id).await;
    h.advance_task(&task, 3).await;
    h.wait_for_status(&key, ShipmentStatus::OutForDelivery)
        .await;
    h.advance_task_with(
        &task,
        json!({"outcome": "failed", "reason": "recipient_absent"}),
    )
    .await;
    let record = h.wait_for_status(&key, ShipmentStatus::Failed).await;
    let failure = record.delivery.failure.expect("the reason is kept");
    assert_eq!(failure.reason.as_deref(), Some("recipient_absent"));

    let message = wait_for("the failure message", WAIT, || async {
        outbox(&h, &key, "delivery_failed")
            .await
            .filter(|m| m.state == OutboxState::Sent)
    })
    .await;
    assert!(
        message
            .body
            .contains(&format!("https://shop.example/reschedule?order={id}")),
        "{}",
        message.body
    );
    assert!(
        !message.body.contains("recipient_absent"),
        "a reason, not a code: {}",
        message.body
    );

    // The parcel goes back; the store hears of the attempt and of the return.
    h.advance_task(&task, 1).await;
    h.wait_for_status(&key, ShipmentStatus::Returned).await;
    wait_for("the return on the store", WAIT, || async {
        let kinds: Vec<String> = h
            .sandbox
            .shopify_fulfillment_events()
            .into_iter()
            .map(|e| e.status)
            .collect();
        (kinds.iter().any(|k| k == "ATTEMPTED_DELIVERY") && kinds.iter().any(|k| k == "FAILURE"))
            .then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_store_and_failing_sms_provider_are_retried_and_nothing_is_sent_twice() {
    // A short partner timeout, so a held response becomes an unknown outcome quickly.
    let h = Harness::start("sync-faults", &[("PARTNER_TIMEOUT_MS", "1500")]).await;
    sms_store(&h).await;
    let (key, task) = dispatched(&h, 7_710_000_000_000_000_003).await;

    // Shopify throttles the first three write-backs; Twilio is unavailable once (503).
    h.sandbox
        .set_shopify_admin_fault(sandbox::Fault::RateLimited { times: 3 });
    h.sandbox
        .set_twilio_fault(sandbox::Fault::Unavailable { times: 1 });
    for status in [
        ShipmentStatus::Assigned,
        ShipmentStatus::PickedUp,
        ShipmentStatus::OutForDelivery,
    ] {
        h.advance_task(&task, 1).await;
        h.wait_for_status(&key, status).await;
    }
    let on_the_way = wait_for(
        "the on-the-way SMS, after the provider recovers",
        WAIT,
        || async {
            outbox(&h, &key, "on_the_way")
                .await
                .filter(|m| m.state == OutboxState::Sent)
        },
    )
    .await;
    assert_eq!(on_the_way.attempts, 2, "one failed attempt, then sent");

    // Twilio takes the delivered message but the answer never comes back: the outcome is
    // unknown, so it is not sent again.
    h.sandbox.set_twilio_fault(sandbox::Fault::LoseResponse {
        times: 1,
        delay_ms: 4_000,
    });
    h.advance_task(&task, 1).await;
    h.wait_for_status(&key, ShipmentStatus::Delivered).await;
    let delivered = wait_for("the delivered message ended", WAIT, || async {
        outbox(&h, &key, "delivered")
            .await
            .filter(|m| m.state.is_final())
    })
    .await;
    assert_eq!(delivered.state, OutboxState::Unknown, "{delivered:?}");
    wait_for("every status on the store", WAIT, || async {
        (h.sandbox.shopify_fulfillment_events().len() == 4).then_some(())
    })
    .await;

    // Retries may land out of order; each event carries when it happened (happenedAt),
    // which is what Shopify orders its timeline by.
    let mut kinds: Vec<String> = h
        .sandbox
        .shopify_fulfillment_events()
        .into_iter()
        .map(|e| e.status)
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["CONFIRMED", "DELIVERED", "IN_TRANSIT", "OUT_FOR_DELIVERY"],
        "each status once, despite the throttling"
    );
    let sms = h.sandbox.sms_messages();
    assert_eq!(
        sms.len(),
        3,
        "tracking link, on the way, delivered: once each: {sms:?}"
    );
    h.stop().await;
}
