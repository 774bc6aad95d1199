//! marketplace-intake's handler against in-memory fakes of its ports: each SP-API
//! notification is stored once and queued once, however often Amazon delivers it; what
//! cannot be read walks to the DLQ; an outage backs off.

use super::*;
use aws::metrics::CaptureSink;
use domain::audit::InboundState;
use fakes::sample::{failed, sqs_raw};
use fakes::World;
use serde_json::{json, Value};
use std::time::Duration;

/// Amazon's published ORDER_CHANGE notification (seller A3TH9S8BH6GOGM, order
/// 903-8868176-2219830, notification d0e9e693-…).
const ORDER_CHANGE_NOTIFICATION: &str =
    include_str!("../../../tests/fixtures/amazon/ORDER_CHANGE_notification_example.json");
const NOTIFICATION_ID: &str = "d0e9e693-c3ad-4373-979f-ed4ec98dd746";
const SELLER: &str = "a3th9s8bh6gogm";

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    step: MarketplaceIntake,
}

fn setup() -> Setup {
    let world = World::new();
    let metrics = Arc::new(CaptureSink::default());
    let step = MarketplaceIntake {
        audit: world.audit.clone(),
        intake: world.intake_queue.clone(),
        retries: world.retries.clone(),
        metrics: Metrics::with_sink(metrics.clone()),
        backoff: Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        },
    };
    Setup {
        world,
        metrics,
        step,
    }
}

fn inbound_id() -> String {
    domain::audit::inbound_id("amazon", SELLER, NOTIFICATION_ID)
}

/// The published notification with `change` applied to its JSON.
fn notification(change: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(ORDER_CHANGE_NOTIFICATION).unwrap();
    change(&mut value);
    value.to_string()
}

fn expected_message() -> InboundReceived {
    InboundReceived {
        inbound_id: inbound_id(),
        channel: "amazon".into(),
        store: SELLER.into(),
        topic: ORDER_CHANGE.into(),
    }
}

/// The duplicate counts emitted: (Function, Channel, Stage) of each.
fn duplicates_counted(s: &Setup) -> Vec<(String, String, String)> {
    s.metrics
        .documents()
        .iter()
        .filter(|d| d.get("DuplicateCreationAttempts").is_some())
        .map(|d| {
            let text = |name: &str| d[name].as_str().unwrap_or_default().to_owned();
            (text("Function"), text("Channel"), text("Stage"))
        })
        .collect()
}

#[tokio::test]
async fn an_order_change_notification_is_stored_whole_and_queued_once() {
    let s = setup();

    let response = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    assert!(failed(&response).is_empty());
    let stored = s.world.audit.record(&inbound_id()).expect("stored");
    assert_eq!(stored.channel, "amazon");
    assert_eq!(
        stored.store, SELLER,
        "the seller, lowercased, names the store"
    );
    assert_eq!(stored.topic, ORDER_CHANGE);
    assert_eq!(stored.webhook_id, NOTIFICATION_ID);
    assert_eq!(
        stored.triggered_at.as_deref(),
        Some("2020-01-11T00:09:53.109Z")
    );
    assert_eq!(
        stored.body,
        ORDER_CHANGE_NOTIFICATION.as_bytes(),
        "byte for byte"
    );
    assert_eq!(stored.state, InboundState::Enqueued);
    assert_eq!(s.world.intake_queue.sent(), [expected_message()]);
    assert!(duplicates_counted(&s).is_empty());
}

#[tokio::test]
async fn a_redelivery_is_a_duplicate_counted_in_metrics_and_not_queued_again() {
    let s = setup();

    let first = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;
    let again = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;
    let third = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    for response in [first, again, third] {
        assert!(failed(&response).is_empty(), "a duplicate is acknowledged");
    }
    assert_eq!(
        s.world.intake_queue.sent(),
        [expected_message()],
        "queued once"
    );
    assert_eq!(s.world.audit.records().len(), 1);
    assert_eq!(s.world.audit.record(&inbound_id()).unwrap().duplicates, 2);
    let counted = (
        "marketplace-intake".to_owned(),
        "amazon".to_owned(),
        "notification".to_owned(),
    );
    assert_eq!(duplicates_counted(&s), [counted.clone(), counted]);
}

#[tokio::test]
async fn a_redelivery_of_one_stored_but_never_queued_is_queued_now() {
    let s = setup();
    s.world
        .intake_queue
        .faults
        .inject("send", fakes::unavailable("SendMessage"));

    let first = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    assert_eq!(failed(&first), ["m1"], "not queued: retried");
    assert!(s.world.retries.delays()[0].1 >= Duration::from_secs(1));
    assert_eq!(
        s.world.audit.record(&inbound_id()).unwrap().state,
        InboundState::Received,
        "stored, still waiting for the queue"
    );
    assert!(s.world.intake_queue.sent().is_empty());

    let redelivery = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    assert!(failed(&redelivery).is_empty());
    assert_eq!(s.world.intake_queue.sent(), [expected_message()]);
    assert_eq!(
        s.world.audit.record(&inbound_id()).unwrap().state,
        InboundState::Enqueued
    );
    assert_eq!(
        duplicates_counted(&s).len(),
        1,
        "still a duplicate delivery"
    );
}

#[tokio::test]
async fn a_notification_of_another_type_is_stored_but_not_queued() {
    let s = setup();
    let other = notification(|n| {
        n["NotificationType"] = json!("ORDER_STATUS_CHANGE");
        n["NotificationMetadata"]["NotificationId"] = json!("other-1");
    });

    let response = s.step.handle(sqs_raw(&[&other])).await;

    assert!(failed(&response).is_empty());
    let stored = s
        .world
        .audit
        .record(&domain::audit::inbound_id("amazon", SELLER, "other-1"))
        .expect("kept for the audit trail");
    assert_eq!(stored.state, InboundState::Ignored);
    assert_eq!(stored.topic, "ORDER_STATUS_CHANGE");
    assert!(
        s.world.intake_queue.sent().is_empty(),
        "normalize has nothing to do"
    );

    // A redelivery of it is a duplicate and still not queued.
    let again = s.step.handle(sqs_raw(&[&other])).await;
    assert!(failed(&again).is_empty());
    assert!(s.world.intake_queue.sent().is_empty());
}

#[tokio::test]
async fn an_unreadable_notification_or_one_without_a_usable_seller_is_poison() {
    let s = setup();
    let no_seller = notification(|n| {
        n["Payload"]["OrderChangeNotification"]
            .as_object_mut()
            .unwrap()
            .remove("SellerId");
    });
    let odd_seller = notification(|n| {
        n["Payload"]["OrderChangeNotification"]["SellerId"] = json!("A3TH 9S8B/H6GOGM");
    });
    let no_id = notification(|n| {
        n.as_object_mut().unwrap().remove("NotificationMetadata");
    });

    let response = s
        .step
        .handle(sqs_raw(&["not json", &no_seller, &odd_seller, &no_id]))
        .await;

    let mut failures = failed(&response);
    failures.sort();
    assert_eq!(failures, ["m1", "m2", "m3", "m4"]);
    let delays = s.world.retries.delays();
    assert_eq!(delays.len(), 4);
    assert!(
        delays.iter().all(|(_, d)| *d == Duration::ZERO),
        "poison is not held back: it walks to the DLQ whole: {delays:?}"
    );
    assert!(s.world.audit.records().is_empty(), "nothing is stored");
    assert!(s.world.intake_queue.sent().is_empty());
}

#[tokio::test]
async fn a_storage_outage_backs_off_and_the_retry_stores_and_queues_it_once() {
    let s = setup();
    s.world
        .audit
        .faults
        .inject("receive", fakes::unavailable("PutItem"));

    let response = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert_eq!(delays.len(), 1);
    assert!(
        delays[0].1 >= Duration::from_secs(1) && delays[0].1 <= Duration::from_secs(2),
        "the first retry waits half to all of the base: {delays:?}"
    );
    assert!(s.world.audit.records().is_empty());
    assert!(s.world.intake_queue.sent().is_empty());

    let retry = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(s.world.intake_queue.sent(), [expected_message()]);
    assert!(
        duplicates_counted(&s).is_empty(),
        "the retry is the first store"
    );
}

#[tokio::test]
async fn queued_but_not_marked_enqueued_is_still_a_success() {
    let s = setup();
    s.world
        .audit
        .faults
        .inject("advance", fakes::unavailable("UpdateItem"));

    let response = s.step.handle(sqs_raw(&[ORDER_CHANGE_NOTIFICATION])).await;

    assert!(
        failed(&response).is_empty(),
        "the notification is on its way"
    );
    assert_eq!(s.world.intake_queue.sent(), [expected_message()]);
    assert_eq!(
        s.world.audit.record(&inbound_id()).unwrap().state,
        InboundState::Received
    );
}
