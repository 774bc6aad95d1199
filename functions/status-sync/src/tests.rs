//! status-sync's handler against in-memory fakes of its ports: the tracking goes back to the
//! store once, each courier status moves the shipment forward only, is kept in the history,
//! written back and told to the customer once; refusals become review items, outages back
//! off, and what is not ours or not readable is audited instead of applied.

use super::*;
use aws::metrics::CaptureSink;
use domain::audit::InboundRecord;
use domain::notify::{NotifyChannel, OutboxEntry, OutboxState, Template};
use domain::record::ShipmentRecord;
use domain::review::review_id;
use domain::write_back::Tracking;
use domain::{Shipment, ShipmentStatus};
use fakes::sample::{self, failed, sqs_batch};
use fakes::{StoreWrite, World};
use serde_json::{json, Value};

/// A batch of one message, as the event source mapping hands it over.
fn batch(message: &SyncEvent) -> SqsEvent {
    sqs_batch(std::slice::from_ref(message))
}

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    step: StatusSync,
}

fn setup() -> Setup {
    let world = World::new();
    let metrics = Arc::new(CaptureSink::default());
    let step = StatusSync {
        audit: world.audit.clone(),
        shipments: world.shipments.clone(),
        reviews: world.reviews.clone(),
        history: world.history.clone(),
        idempotency: world.idempotency.clone(),
        writers: world.writers.clone(),
        rules: world.rules.clone(),
        notifiers: world.notifiers.clone(),
        outbox: world.outbox.clone(),
        wake: world.outbox_queue.clone(),
        links: None,
        retries: world.retries.clone(),
        metrics: Metrics::with_sink(metrics.clone()),
        lease: Duration::from_secs(30),
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

/// Order `order_id`'s shipment with task `tsk_3`, now in `status`; `written_back`: its
/// tracking is already in the store.
fn shipment_with_task(
    s: &Setup,
    order_id: &str,
    status: ShipmentStatus,
    written_back: bool,
) -> Shipment {
    let shipment = sample::shipment("acme", order_id);
    let mut record: ShipmentRecord = sample::with_task(&shipment, &sample::task(3), status);
    if written_back {
        record.tracking_written_back = Some(format!("fulfillment:{}", shipment.key));
    }
    s.world.shipments.insert(record);
    shipment
}

fn tracking_assigned(shipment: &Shipment) -> SyncEvent {
    SyncEvent::TrackingAssigned {
        shipment_key: shipment.key.clone(),
    }
}

/// A sandbox courier webhook body, as docs/sandbox-courier-api.md shows it.
fn courier_webhook(
    event_id: &str,
    task_id: &str,
    reference: &str,
    status: &str,
    sequence: u64,
    occurred_at: &str,
) -> Value {
    let delivered = status == "delivered";
    json!({
        "event_id": event_id,
        "type": "task.status_changed",
        "task_id": task_id,
        "reference": reference,
        "tracking_number": "TRK0003",
        "tracking_url": "https://track.example/TRK0003",
        "status": status,
        "driver_id": "drv_02",
        "sequence": sequence,
        "occurred_at": occurred_at,
        "eta": null,
        "failure": null,
        "proof": delivered.then(|| json!({
            "recipient_name": "Kim Weber",
            "signature_url": format!("https://sandbox.example/proof/{task_id}/signature.png"),
            "photo_urls": [format!("https://sandbox.example/proof/{task_id}/photo-1.jpg")],
            "location": {"lat": 52.521918, "lng": 13.413215},
            "completed_at": occurred_at
        })),
        "cod_collected": null,
        "delivery_cost": delivered.then(|| json!({"amount_minor": 590, "currency": "EUR"}))
    })
}

/// The shipment's task's webhook reporting `status`.
fn about(shipment: &Shipment, event_id: &str, status: &str, sequence: u64, at: &str) -> Value {
    courier_webhook(
        event_id,
        "tsk_3",
        &shipment.key.to_string(),
        status,
        sequence,
        at,
    )
}

/// Stores a courier webhook in the audit trail as webhook-intake does, and returns the
/// sync queue's message that names it.
fn reported(s: &Setup, event_id: &str, body: &[u8]) -> SyncEvent {
    let id = domain::audit::inbound_id("courier", "sandbox", event_id);
    s.world.audit.insert(
        InboundRecord {
            id: id.clone(),
            channel: "courier".into(),
            store: "sandbox".into(),
            topic: "task.status_changed".into(),
            webhook_id: event_id.into(),
            received_at: "2026-11-24T10:00:01Z".into(),
            triggered_at: None,
            signature: "valid".into(),
            state: InboundState::Enqueued,
            duplicates: 0,
            body: body.to_vec(),
            order_key: None,
            shipment_key: None,
            outcome: None,
            task_id: None,
            task_created_at: None,
            review_id: None,
        },
        0,
    );
    SyncEvent::CourierReported {
        inbound_id: id,
        courier: CourierKind::Sandbox,
    }
}

fn webhook(s: &Setup, body: &Value) -> SyncEvent {
    let event_id = body["event_id"].as_str().unwrap().to_owned();
    reported(s, &event_id, body.to_string().as_bytes())
}

fn inbound_of(event: &SyncEvent) -> String {
    match event {
        SyncEvent::CourierReported { inbound_id, .. } => inbound_id.clone(),
        other => panic!("not a courier event: {other:?}"),
    }
}

/// What the audit trail says became of the webhook: (state, outcome line).
fn audited(s: &Setup, event: &SyncEvent) -> (InboundState, String) {
    let record = s.world.audit.record(&inbound_of(event)).unwrap();
    (record.state, record.outcome.unwrap_or_default())
}

fn record(s: &Setup, shipment: &Shipment) -> ShipmentRecord {
    s.world.shipments.record(&shipment.key).unwrap()
}

fn outbox_ids(s: &Setup) -> Vec<String> {
    s.world.outbox.entries().into_iter().map(|e| e.id).collect()
}

fn message_id(shipment: &Shipment, template: Template) -> String {
    OutboxEntry::id_for(&shipment.key.to_string(), template.as_str())
}

fn sla_points(s: &Setup) -> usize {
    s.metrics
        .documents()
        .iter()
        .filter(|d| d.get("DeliverySla").is_some())
        .count()
}

// ---------------------------------------------------------------------------------------
// TrackingAssigned
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn assigned_tracking_is_written_back_once_and_the_customer_gets_the_link_once() {
    let s = setup();
    let shipment = shipment_with_task(&s, "1001", ShipmentStatus::Created, false);

    let first = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    let again = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;

    assert!(failed(&first).is_empty() && failed(&again).is_empty());
    assert_eq!(
        s.world.writers.store.writes(),
        [StoreWrite::Tracking(
            shipment.key.clone(),
            Tracking {
                number: "TRK0003".into(),
                url: Some("https://track.example/TRK0003".into()),
                company: CourierKind::Sandbox.display_name().into(),
            }
        )],
        "written once"
    );
    assert_eq!(
        record(&s, &shipment).tracking_written_back,
        Some(format!("fulfillment:{}", shipment.key))
    );
    let messages = s.world.outbox.entries();
    assert_eq!(messages.len(), 1, "one tracking-link message");
    let link = &messages[0];
    assert_eq!(link.id, message_id(&shipment, Template::TrackingLink));
    assert_eq!(link.channel, NotifyChannel::Email);
    assert_eq!(link.to, "kim@example.com");
    assert!(
        link.body.contains("https://track.example/TRK0003"),
        "{}",
        link.body
    );
    assert_eq!(link.state, OutboxState::Pending);
    assert!(
        s.world
            .outbox_queue
            .sent()
            .iter()
            .all(|w| w.outbox_id == link.id),
        "notify is woken for that message only"
    );
}

#[tokio::test]
async fn a_store_with_a_time_zone_tells_its_customers_times_in_it() {
    let s = setup();
    let shipment = sample::shipment("acme", "1002");
    let mut record = sample::with_task(&shipment, &sample::task(3), ShipmentStatus::Created);
    // 2024-03-05 14:30 UTC: 20:00 in Kolkata.
    record.delivery.eta_ms = Some(1_709_649_000_000);
    s.world.shipments.insert(record);
    let config: domain::StoreConfig =
        serde_json::from_value(json!({"time_zone": "Asia/Kolkata"})).unwrap();
    domain::ports::StoreRules::put(
        s.world.rules.as_ref(),
        domain::Channel::Shopify,
        "acme",
        &config,
    )
    .await
    .unwrap();

    let answer = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    assert!(failed(&answer).is_empty());
    let messages = s.world.outbox.entries();
    assert!(
        messages[0].body.contains("20:00 IST"),
        "{}",
        messages[0].body
    );
    assert!(!messages[0].body.contains("UTC"), "{}", messages[0].body);
}

#[test]
fn a_store_time_zone_that_is_no_iana_name_is_refused_when_the_rules_are_read() {
    let wrong = serde_json::from_value::<domain::StoreConfig>(json!({"time_zone": "CEST"}));
    let error = wrong.unwrap_err().to_string();
    assert!(
        error.contains("\"CEST\" is not an IANA time zone"),
        "{error}"
    );
}

#[tokio::test]
async fn a_store_that_refuses_the_tracking_opens_a_store_rejected_review_item() {
    let s = setup();
    let shipment = shipment_with_task(&s, "1002", ShipmentStatus::Created, false);
    s.world.writers.store.faults.inject(
        "write_tracking",
        PartnerError::rejected("shopify", "422", "fulfillment_order is closed"),
    );

    let response = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;

    assert!(failed(&response).is_empty(), "a refusal is not retried");
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].id,
        review_id(&format!("tracking:{}", shipment.key))
    );
    assert_eq!(items[0].kind, "write_back");
    assert_eq!(
        items[0].reasons,
        [ReviewReason::StoreRejected {
            message: "fulfillment_order is closed".into()
        }]
    );
    assert_eq!(items[0].shipment_key, Some(shipment.key.to_string()));
    assert!(s.world.writers.store.writes().is_empty());
    assert!(record(&s, &shipment).tracking_written_back.is_none());
    assert!(
        s.world.outbox.entries().is_empty(),
        "no link to a tracking the store lacks"
    );
}

#[tokio::test]
async fn a_throttled_store_backs_off_with_its_retry_after_and_the_retry_writes_once() {
    let s = setup();
    let shipment = shipment_with_task(&s, "1003", ShipmentStatus::Created, false);
    s.world.writers.store.faults.inject(
        "write_tracking",
        PartnerError::Throttled {
            partner: "shopify",
            retry_after: Some(Duration::from_secs(20)),
        },
    );

    let response = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert!(delays[0].1 >= Duration::from_secs(20), "{delays:?}");
    assert!(
        s.world.reviews.items().is_empty(),
        "a throttle is no refusal"
    );
    assert!(s.world.writers.store.writes().is_empty());

    // The write-back's key was given back: the retry need not wait for a lease.
    let retry = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    assert!(failed(&retry).is_empty());
    assert_eq!(s.world.writers.store.writes().len(), 1);
    assert!(record(&s, &shipment).tracking_written_back.is_some());
}

#[tokio::test]
async fn a_lost_answer_from_the_store_is_retried_and_the_retry_finds_its_write() {
    let s = setup();
    let shipment = shipment_with_task(&s, "1004", ShipmentStatus::Created, false);
    s.world.writers.store.lose_answers.inject(
        "write_tracking",
        PartnerError::ambiguous("shopify", "timed out after sending"),
    );

    let first = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    assert_eq!(failed(&first), ["m1"], "an unknown outcome is retried");
    assert!(record(&s, &shipment).tracking_written_back.is_none());

    let retry = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    assert!(failed(&retry).is_empty());
    assert_eq!(
        s.world.writers.store.writes().len(),
        1,
        "the store found the fulfillment it had"
    );
    assert_eq!(
        record(&s, &shipment).tracking_written_back,
        Some(format!("fulfillment:{}", shipment.key))
    );
}

#[tokio::test]
async fn tracking_for_a_shipment_without_a_task_or_that_does_not_exist_goes_to_the_dlq() {
    let s = setup();
    let shipment = sample::shipment("acme", "1005");
    s.world
        .shipments
        .insert(sample::pending(&shipment, 1_000, "shopify:acme:w1"));
    let unknown = sample::shipment("acme", "9999");

    let response = s
        .step
        .handle(sqs_batch(&[
            tracking_assigned(&shipment),
            tracking_assigned(&unknown),
        ]))
        .await;

    let mut failures = failed(&response);
    failures.sort();
    assert_eq!(failures, ["m1", "m2"]);
    assert!(s.world.retries.delays().iter().all(|(_, d)| d.is_zero()));
    assert!(s.world.writers.store.writes().is_empty());
}

// ---------------------------------------------------------------------------------------
// CourierReported
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_delivery_moves_the_shipment_is_kept_written_back_and_told_to_the_customer() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2001", ShipmentStatus::OutForDelivery, true);
    let at = "2026-11-24T14:03:12.345Z";
    let event = webhook(&s, &about(&shipment, "evt_1", "delivered", 4, at));

    let response = s.step.handle(batch(&event)).await;

    assert!(failed(&response).is_empty());
    let at_ms = domain::clock::parse_time(at)
        .map(domain::clock::ms_of)
        .unwrap();
    let now = record(&s, &shipment);
    assert_eq!(now.status, ShipmentStatus::Delivered);
    assert_eq!(now.transitions, [(ShipmentStatus::Delivered, at_ms)]);
    assert_eq!(now.delivery.driver.as_deref(), Some("drv_02"));
    assert_eq!(
        now.delivery
            .proof
            .as_ref()
            .and_then(|p| p.recipient_name.as_deref()),
        Some("Kim Weber")
    );
    assert_eq!(now.delivery.delivery_cost.map(|c| c.minor), Some(590));

    let history = s.world.history.list(&shipment.key).await.unwrap();
    assert_eq!(history.len(), 1, "kept in the history");
    assert_eq!(history[0].status, Some(ShipmentStatus::Delivered));
    assert_eq!(history[0].at_ms, at_ms);
    assert_eq!(history[0].event_id, inbound_of(&event));

    assert_eq!(
        s.world.writers.store.writes(),
        [StoreWrite::Status(
            shipment.key.clone(),
            ShipmentStatus::Delivered
        )],
        "written back to the store"
    );
    assert_eq!(outbox_ids(&s), [message_id(&shipment, Template::Delivered)]);
    assert_eq!(
        s.world
            .outbox_queue
            .sent()
            .last()
            .map(|w| w.outbox_id.clone()),
        Some(message_id(&shipment, Template::Delivered)),
        "notify is woken"
    );
    assert_eq!(
        audited(&s, &event),
        (InboundState::Processed, "Delivered: applied".to_owned())
    );
    let trail = s.world.audit.record(&inbound_of(&event)).unwrap();
    assert_eq!(trail.shipment_key, Some(shipment.key.to_string()));
    assert_eq!(sla_points(&s), 1, "the promise is judged once");
}

#[tokio::test]
async fn a_repeated_event_changes_nothing_and_repeats_no_effect() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2002", ShipmentStatus::OutForDelivery, true);
    let body = about(
        &shipment,
        "evt_1",
        "delivered",
        4,
        "2026-11-24T14:03:12.345Z",
    );
    let event = webhook(&s, &body);
    let first = s.step.handle(batch(&event)).await;
    assert!(failed(&first).is_empty());
    let after_first = record(&s, &shipment);

    // The same delivery again, and a second webhook reporting the same status later.
    let again = s.step.handle(batch(&event)).await;
    let other = webhook(
        &s,
        &about(
            &shipment,
            "evt_2",
            "delivered",
            5,
            "2026-11-24T14:05:00.000Z",
        ),
    );
    let second = s.step.handle(batch(&other)).await;

    assert!(failed(&again).is_empty() && failed(&second).is_empty());
    let now = record(&s, &shipment);
    assert_eq!(now.status, ShipmentStatus::Delivered);
    assert_eq!(now.version, after_first.version, "no write to the shipment");
    assert_eq!(now.transitions, after_first.transitions);
    assert_eq!(
        s.world.writers.store.writes().len(),
        1,
        "the store heard once"
    );
    assert_eq!(
        outbox_ids(&s),
        [message_id(&shipment, Template::Delivered)],
        "one message"
    );
    assert_eq!(audited(&s, &event).1, "Delivered: already applied");
    assert_eq!(audited(&s, &other).1, "Delivered: already applied");
    assert_eq!(
        s.world.history.list(&shipment.key).await.unwrap().len(),
        2,
        "the redelivery is not kept twice; the second webhook is its own entry"
    );
    assert_eq!(sla_points(&s), 1);
}

#[tokio::test]
async fn an_older_event_arriving_late_never_moves_the_shipment_back() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2003", ShipmentStatus::Assigned, true);
    let out = webhook(
        &s,
        &about(
            &shipment,
            "evt_3",
            "out_for_delivery",
            3,
            "2026-11-24T10:00:00.000Z",
        ),
    );
    let picked_up = webhook(
        &s,
        &about(
            &shipment,
            "evt_2",
            "picked_up",
            2,
            "2026-11-24T09:30:00.000Z",
        ),
    );

    let first = s.step.handle(batch(&out)).await;
    let late = s.step.handle(batch(&picked_up)).await;

    assert!(failed(&first).is_empty() && failed(&late).is_empty());
    let now = record(&s, &shipment);
    assert_eq!(
        now.status,
        ShipmentStatus::OutForDelivery,
        "never backwards"
    );
    assert!(!now.passed_through(ShipmentStatus::PickedUp));
    assert_eq!(
        audited(&s, &picked_up),
        (
            InboundState::Processed,
            "PickedUp: not applied, the shipment is OutForDelivery".to_owned()
        )
    );
    assert_eq!(
        s.world.writers.store.writes(),
        [StoreWrite::Status(
            shipment.key.clone(),
            ShipmentStatus::OutForDelivery
        )],
        "the store never hears the older status"
    );
    assert_eq!(outbox_ids(&s), [message_id(&shipment, Template::OnTheWay)]);
    assert_eq!(
        s.world.history.list(&shipment.key).await.unwrap().len(),
        2,
        "the late event is still kept in the history"
    );
}

#[tokio::test]
async fn cash_collected_on_a_shipment_cancelled_meanwhile_is_kept_for_reconciliation() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2011", ShipmentStatus::Cancelled, true);
    let mut body = about(
        &shipment,
        "evt_1",
        "delivered",
        4,
        "2026-11-24T14:00:00.000Z",
    );
    body["cod_collected"] = json!({"amount_minor": 4250, "currency": "EUR"});
    let event = webhook(&s, &body);

    let response = s.step.handle(batch(&event)).await;

    assert!(failed(&response).is_empty());
    let now = record(&s, &shipment);
    assert_eq!(
        now.status,
        ShipmentStatus::Cancelled,
        "a terminal status stays"
    );
    assert_eq!(now.delivery.cod_collected.map(|m| m.minor), Some(4250));
    assert_eq!(
        now.delivery.driver.as_deref(),
        Some("drv_02"),
        "who holds the cash"
    );
    assert_eq!(
        audited(&s, &event).1,
        "Delivered: not applied, the shipment is Cancelled"
    );
    assert!(s.world.writers.store.writes().is_empty());
    assert!(s.world.outbox.entries().is_empty(), "no delivery message");
}

#[tokio::test]
async fn an_event_about_another_task_or_no_task_of_ours_is_ignored_and_audited() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2004", ShipmentStatus::Assigned, true);
    let clone = webhook(
        &s,
        &courier_webhook(
            "evt_9",
            "tsk_999",
            &shipment.key.to_string(),
            "delivered",
            4,
            "2026-11-24T14:00:00.000Z",
        ),
    );
    let foreign = webhook(
        &s,
        &courier_webhook(
            "evt_10",
            "tsk_777",
            "someone-elses-order-42",
            "delivered",
            4,
            "2026-11-24T14:00:00.000Z",
        ),
    );

    let response = s
        .step
        .handle(sqs_batch(&[clone.clone(), foreign.clone()]))
        .await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        audited(&s, &clone),
        (
            InboundState::Ignored,
            "task tsk_999 is not the shipment's task".to_owned()
        )
    );
    assert_eq!(
        audited(&s, &foreign),
        (
            InboundState::Ignored,
            "task tsk_777 is not one of ours".to_owned()
        )
    );
    let now = record(&s, &shipment);
    assert_eq!(
        now.status,
        ShipmentStatus::Assigned,
        "the shipment is untouched"
    );
    assert!(now.transitions.is_empty());
    assert!(s
        .world
        .history
        .list(&shipment.key)
        .await
        .unwrap()
        .is_empty());
    assert!(s.world.writers.store.writes().is_empty());
    assert!(s.world.outbox.entries().is_empty());
}

#[tokio::test]
async fn an_event_before_create_task_stored_the_task_waits_for_it() {
    let s = setup();
    let shipment = sample::shipment("acme", "2005");
    s.world
        .shipments
        .insert(sample::pending(&shipment, 1_000, "shopify:acme:w1"));
    let assigned = webhook(
        &s,
        &about(
            &shipment,
            "evt_1",
            "assigned",
            1,
            "2026-11-24T09:00:00.000Z",
        ),
    );

    let early = s.step.handle(batch(&assigned)).await;

    assert_eq!(failed(&early), ["m1"]);
    let first = s.world.retries.delays()[0].1;
    assert!(
        (Duration::from_secs(1)..=Duration::from_secs(2)).contains(&first),
        "the first wait is short: {first:?}"
    );
    // Still no task at the seventh receive (create-task died before storing it; its retry
    // comes after the tasks queue's visibility timeout): the wait has grown with the
    // backoff instead of walking the event to the DLQ.
    let mut late = batch(&assigned);
    late.records[0]
        .attributes
        .insert("ApproximateReceiveCount".into(), "7".into());
    assert_eq!(failed(&s.step.handle(late).await), ["m1"]);
    let seventh = s.world.retries.delays()[1].1;
    assert!(seventh >= Duration::from_secs(30), "{seventh:?}");
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Pending);
    assert_eq!(
        audited(&s, &assigned).0,
        InboundState::Enqueued,
        "not decided yet"
    );

    // create-task stores the task (and status-sync its tracking); the retry applies the
    // event.
    s.world
        .shipments
        .record_task(&shipment.key, CourierKind::Sandbox, &sample::task(3))
        .await
        .unwrap();
    s.world
        .shipments
        .record_tracking_written_back(&shipment.key, "fulfillment:1")
        .await
        .unwrap();
    let retry = s.step.handle(batch(&assigned)).await;
    assert!(failed(&retry).is_empty(), "{:?}", s.world.retries.delays());
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Assigned);
}

#[tokio::test]
async fn a_status_reached_before_the_tracking_is_written_back_waits_for_it() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2006", ShipmentStatus::Created, false);
    let out = webhook(
        &s,
        &about(
            &shipment,
            "evt_1",
            "out_for_delivery",
            3,
            "2026-11-24T10:00:00.000Z",
        ),
    );

    let early = s.step.handle(batch(&out)).await;

    assert_eq!(failed(&early), ["m1"]);
    assert_eq!(
        s.world.retries.delays(),
        [("r1".to_owned(), domain::delivery::TRACKING_FIRST)]
    );
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::OutForDelivery);
    assert!(
        s.world.writers.store.writes().is_empty(),
        "the status waits"
    );

    let tracking = s
        .step
        .handle(sqs_batch(&[tracking_assigned(&shipment)]))
        .await;
    let retry = s.step.handle(batch(&out)).await;

    assert!(failed(&tracking).is_empty() && failed(&retry).is_empty());
    let writes = s.world.writers.store.writes();
    assert_eq!(writes.len(), 2);
    assert!(matches!(writes[0], StoreWrite::Tracking(..)));
    assert_eq!(
        writes[1],
        StoreWrite::Status(shipment.key.clone(), ShipmentStatus::OutForDelivery)
    );
    assert_eq!(audited(&s, &out).1, "OutForDelivery: already applied");
}

#[tokio::test]
async fn a_store_that_refuses_a_status_opens_a_review_item_and_the_shipment_keeps_its_status() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2007", ShipmentStatus::OutForDelivery, true);
    s.world.writers.store.faults.inject(
        "write_status",
        PartnerError::rejected("shopify", "422", "fulfillment is cancelled"),
    );
    let event = webhook(
        &s,
        &about(
            &shipment,
            "evt_1",
            "delivered",
            4,
            "2026-11-24T14:00:00.000Z",
        ),
    );

    let response = s.step.handle(batch(&event)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Delivered);
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, review_id(&format!("status:{}", shipment.key)));
    assert_eq!(
        items[0].reasons,
        [ReviewReason::StoreRejected {
            message: "fulfillment is cancelled".into()
        }]
    );
}

#[tokio::test]
async fn an_unreadable_courier_webhook_opens_an_unparseable_payload_review() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2008", ShipmentStatus::Assigned, true);
    let teleported = webhook(
        &s,
        &about(
            &shipment,
            "evt_1",
            "teleported",
            2,
            "2026-11-24T10:00:00.000Z",
        ),
    );
    let truncated = reported(
        &s,
        "evt_2",
        br#"{"event_id": "evt_2", "type": "task.status_cha"#,
    );

    let response = s
        .step
        .handle(sqs_batch(&[teleported.clone(), truncated.clone()]))
        .await;

    assert!(failed(&response).is_empty(), "kept for review, not retried");
    for event in [&teleported, &truncated] {
        let id = inbound_of(event);
        let item = s
            .world
            .reviews
            .open_items()
            .into_iter()
            .find(|i| i.id == review_id(&id));
        let item = item.expect("a review item per unreadable webhook");
        assert_eq!(item.kind, "payload");
        assert!(
            matches!(&item.reasons[..], [ReviewReason::UnparseablePayload { .. }]),
            "{:?}",
            item.reasons
        );
        assert_eq!(item.source_inbound.as_deref(), Some(id.as_str()));
        assert_eq!(
            audited(&s, event),
            (
                InboundState::Review,
                "needs review: unreadable courier webhook".to_owned()
            )
        );
    }
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Assigned);
}

#[tokio::test]
async fn a_courier_event_of_another_type_is_acknowledged_and_ignored() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2009", ShipmentStatus::Assigned, true);
    let mut body = about(
        &shipment,
        "evt_1",
        "picked_up",
        2,
        "2026-11-24T10:00:00.000Z",
    );
    body["type"] = json!("driver.shift_started");
    let event = webhook(&s, &body);

    let response = s.step.handle(batch(&event)).await;

    assert!(failed(&response).is_empty());
    assert_eq!(
        audited(&s, &event),
        (InboundState::Ignored, "not a task event".to_owned())
    );
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Assigned);
    assert!(s.world.reviews.items().is_empty());
}

#[tokio::test]
async fn a_storage_outage_backs_off_and_a_webhook_missing_from_the_audit_trail_is_poison() {
    let s = setup();
    let shipment = shipment_with_task(&s, "2010", ShipmentStatus::Assigned, true);
    let event = webhook(
        &s,
        &about(
            &shipment,
            "evt_1",
            "picked_up",
            2,
            "2026-11-24T10:00:00.000Z",
        ),
    );
    s.world
        .shipments
        .faults
        .inject("apply_courier_status", fakes::unavailable("UpdateItem"));

    let response = s.step.handle(batch(&event)).await;

    assert_eq!(failed(&response), ["m1"]);
    assert!(s.world.retries.delays()[0].1 >= Duration::from_secs(1));
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::Assigned);
    assert_eq!(
        audited(&s, &event).0,
        InboundState::Enqueued,
        "no outcome yet"
    );
    let retry = s.step.handle(batch(&event)).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(record(&s, &shipment).status, ShipmentStatus::PickedUp);

    let missing = SyncEvent::CourierReported {
        inbound_id: "courier:sandbox:evt_never_stored".into(),
        courier: CourierKind::Sandbox,
    };
    let poison = s.step.handle(sqs_batch(&[missing])).await;
    assert_eq!(failed(&poison), ["m1"]);
    assert_eq!(
        s.world.retries.delays().last().map(|(_, d)| *d),
        Some(Duration::ZERO)
    );
}
