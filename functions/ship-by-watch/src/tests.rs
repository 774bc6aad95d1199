//! ship-by-watch's handler against in-memory fakes of its ports: a marketplace shipment
//! near or past its latest ship date gets one alert however often the watch runs; one the
//! marketplace was told about is not watched; each dead-letter queue's depth is a metric.

use super::*;
use aws::metrics::CaptureSink;
use domain::review::review_id;
use domain::{Channel, ShipmentKey, StoreConfig};
use fakes::sample;
use fakes::World;
use serde_json::{json, Value};

const SELLER: &str = "a3th9s8bh6gogm";

/// A dead-letter queue that answers with a fixed depth, or cannot be read.
struct FixedDepth(Result<u64, StorageError>);

#[async_trait::async_trait]
impl QueueDepth for FixedDepth {
    async fn approximate_depth(&self) -> Result<u64, StorageError> {
        self.0.clone()
    }
}

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    step: ShipByWatch,
}

fn setup_with_queues(queues: Vec<(&str, Result<u64, StorageError>)>) -> Setup {
    let world = World::new();
    let metrics = Arc::new(CaptureSink::default());
    let step = ShipByWatch {
        shipments: world.shipments.clone(),
        rules: world.rules.clone(),
        reviews: world.reviews.clone(),
        dead_letter_queues: queues
            .into_iter()
            .map(|(name, depth)| {
                let queue: Arc<dyn QueueDepth> = Arc::new(FixedDepth(depth));
                (name.to_owned(), queue)
            })
            .collect(),
        metrics: Metrics::with_sink(metrics.clone()),
    };
    Setup {
        world,
        metrics,
        step,
    }
}

fn setup() -> Setup {
    setup_with_queues(Vec::new())
}

/// The schedule's event, as EventBridge delivers it.
fn tick() -> EventBridgeEvent {
    serde_json::from_value(json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-24T10:15:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/ship-by-watch"],
        "detail": {}
    }))
    .unwrap()
}

/// An Amazon order's shipment, recorded and waiting for its task, that must ship by
/// `ship_by`.
fn marketplace_shipment(s: &Setup, order_id: &str, ship_by: OffsetDateTime) -> ShipmentRecord {
    let mut shipment = sample::shipment(SELLER, order_id);
    shipment.key = ShipmentKey::new(Channel::Amazon, SELLER, order_id, "1");
    shipment.ship_by = Some(ship_by);
    let record = sample::pending(&shipment, 1_000, "amazon:a3th9s8bh6gogm:n1");
    s.world.shipments.insert(record.clone());
    record
}

fn in_hours(hours: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::hours(hours)
}

fn alert_reason(ship_by: OffsetDateTime) -> ReviewReason {
    ReviewReason::ShipByAtRisk {
        ship_by: ship_by.format(&Rfc3339).unwrap(),
    }
}

fn dlq_points(s: &Setup) -> Vec<(String, f64)> {
    s.metrics
        .documents()
        .iter()
        .filter(|d| d.get("DlqDepth").is_some())
        .map(|d| {
            (
                d["Queue"].as_str().unwrap_or_default().to_owned(),
                d["DlqDepth"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_shipment_inside_its_alert_window_gets_exactly_one_review_item_however_often_it_runs() {
    let s = setup();
    let ship_by = in_hours(2);
    let record = marketplace_shipment(&s, "902-1845936-5435065", ship_by);
    let key = record.shipment.key.to_string();

    let first = s.step.handle(tick()).await.unwrap();
    let second = s.step.handle(tick()).await.unwrap();
    let third = s.step.handle(tick()).await.unwrap();

    assert_eq!(
        first,
        ShipByReport {
            watched: 1,
            at_risk: vec![key.clone()],
            newly_alerted: 1,
            dismissed: 0,
            dlq_depths: Vec::new(),
        }
    );
    for later in [second, third] {
        assert_eq!(later.at_risk, std::slice::from_ref(&key), "still at risk");
        assert_eq!(later.newly_alerted, 0, "alerted before");
    }
    let items = s.world.reviews.items();
    assert_eq!(items.len(), 1, "one alert");
    let item = &items[0];
    assert_eq!(item.id, review_id(&format!("ship-by:{key}")));
    assert_eq!(item.kind, "alert");
    assert_eq!(item.reasons, [alert_reason(ship_by)]);
    assert_eq!(item.shipment_key.as_deref(), Some(key.as_str()));
    assert_eq!(item.order_key, Some(record.shipment.key.order_key()));
    assert_eq!(item.occurrences, 3, "each run counts on the open item");
}

#[tokio::test]
async fn a_dismissed_alert_stays_dismissed_until_the_marketplace_moves_the_date() {
    let s = setup();
    let ship_by = in_hours(2);
    let record = marketplace_shipment(&s, "902-1845936-5435066", ship_by);
    let key = record.shipment.key.to_string();
    s.step.handle(tick()).await.unwrap();
    let id = review_id(&format!("ship-by:{key}"));
    assert!(s
        .world
        .reviews
        .close(&id, domain::review::DISMISSED, "carrier booked by phone")
        .await
        .unwrap());

    let after = s.step.handle(tick()).await.unwrap();
    assert_eq!(after.at_risk, std::slice::from_ref(&key), "still at risk");
    assert_eq!((after.newly_alerted, after.dismissed), (0, 1));
    assert!(s.world.reviews.open_items().is_empty(), "not reopened");

    // Amazon extends the latest ship date: a new date is a new alert.
    let mut moved = record.clone();
    let new_date = in_hours(3);
    moved.shipment.ship_by = Some(new_date);
    s.world.shipments.insert(moved);
    let later = s.step.handle(tick()).await.unwrap();
    assert_eq!((later.newly_alerted, later.dismissed), (1, 0));
    let open = s.world.reviews.open_items();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].reasons, [alert_reason(new_date)]);
}

#[tokio::test]
async fn a_late_shipment_is_at_risk_and_one_far_from_its_date_is_only_watched() {
    let s = setup();
    let late = marketplace_shipment(&s, "late-1", in_hours(-5));
    marketplace_shipment(&s, "later-1", in_hours(72));

    let report = s.step.handle(tick()).await.unwrap();

    assert_eq!(report.watched, 2);
    assert_eq!(report.at_risk, [late.shipment.key.to_string()]);
    assert_eq!(report.newly_alerted, 1);
    assert_eq!(s.world.reviews.items().len(), 1);
}

#[tokio::test]
async fn a_stores_own_alert_window_decides_what_is_at_risk() {
    let s = setup();
    let config = StoreConfig {
        ship_by_alert_hours: Some(96),
        ..StoreConfig::default()
    };
    s.world
        .rules
        .put(Channel::Amazon, SELLER, &config)
        .await
        .unwrap();
    let record = marketplace_shipment(&s, "902-1", in_hours(72));

    let report = s.step.handle(tick()).await.unwrap();

    assert_eq!(report.at_risk, [record.shipment.key.to_string()]);
}

#[tokio::test]
async fn a_shipment_the_marketplace_was_told_about_or_that_was_cancelled_is_not_watched() {
    let s = setup();
    let mut written_back = marketplace_shipment(&s, "done-1", in_hours(-1));
    written_back.task = Some(sample::task(1));
    written_back.status = ShipmentStatus::PickedUp;
    written_back.tracking_written_back = Some("amazon:confirmShipment:done-1".into());
    s.world.shipments.insert(written_back);
    let mut cancelled = marketplace_shipment(&s, "gone-1", in_hours(1));
    cancelled.cancel_requested = true;
    s.world.shipments.insert(cancelled);
    let mut returned = marketplace_shipment(&s, "back-1", in_hours(1));
    returned.status = ShipmentStatus::Returned;
    s.world.shipments.insert(returned);
    // A store order has no latest ship date at all.
    s.world.shipments.insert(sample::pending(
        &sample::shipment("acme", "1001"),
        1_000,
        "shopify:acme:w1",
    ));

    let report = s.step.handle(tick()).await.unwrap();

    assert_eq!(report, ShipByReport::default());
    assert!(s.world.reviews.items().is_empty());
}

#[tokio::test]
async fn each_dead_letter_queues_depth_is_reported_as_a_metric() {
    let s = setup_with_queues(vec![
        ("TasksDLQ", Ok(3)),
        ("IntakeDLQ", Ok(0)),
        ("SyncDLQ", Err(fakes::unavailable("GetQueueAttributes"))),
    ]);

    let report = s.step.handle(tick()).await.unwrap();

    assert_eq!(
        report.dlq_depths,
        [("TasksDLQ".to_owned(), 3), ("IntakeDLQ".to_owned(), 0)],
        "a queue that cannot be read is left out"
    );
    assert_eq!(
        dlq_points(&s),
        [("TasksDLQ".to_owned(), 3.0), ("IntakeDLQ".to_owned(), 0.0)]
    );
    let documents: Vec<Value> = s.metrics.documents();
    assert!(documents
        .iter()
        .all(|d| d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == json!([["Queue"], []])));
}

#[tokio::test]
async fn a_storage_outage_fails_the_run_and_opens_nothing() {
    let s = setup_with_queues(vec![("TasksDLQ", Ok(1))]);
    marketplace_shipment(&s, "902-2", in_hours(1));
    s.world
        .shipments
        .faults
        .inject("all", fakes::unavailable("Scan"));

    let error = s.step.handle(tick()).await.unwrap_err();

    assert!(domain::Classify::is_transient(&error), "{error}");
    assert!(s.world.reviews.items().is_empty());

    // The next run (the schedule's next tick) alerts.
    let report = s.step.handle(tick()).await.unwrap();
    assert_eq!(report.newly_alerted, 1);
}
