//! cod-reconcile's handler against in-memory fakes of its ports: a day's delivered cash on
//! delivery and hand-overs become one cash-out task per courier and currency and the three
//! report files; a re-run changes nothing; what does not add up is an exception and a
//! metric; a request without a day is refused for good.

use super::*;
use aws::metrics::CaptureSink;
use domain::cod::{CourierId, Handover, HandoverWrite};
use domain::courier::CourierKind;
use domain::record::ShipmentRecord;
use domain::{Money, Payment, ShipmentStatus};
use fakes::sample;
use fakes::World;
use serde_json::Value;
use time::macros::date;

const DAY: Date = date!(2026 - 11 - 24);
const REPORTS: [&str; 3] = [
    "cod/2026-11-24/couriers.csv",
    "cod/2026-11-24/exceptions.csv",
    "cod/2026-11-24/report.html",
];

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    fleet: Arc<fakes::FakeFleet>,
    step: CodReconcile,
}

fn setup() -> Setup {
    let world = World::new();
    let metrics = Arc::new(CaptureSink::default());
    let fleet = Arc::new(fakes::FakeFleet::default());
    let step = CodReconcile {
        shipments: world.shipments.clone(),
        cash: world.cash.clone(),
        reports: world.reports.clone(),
        fleet: fleet.clone(),
        metrics: Metrics::with_sink(metrics.clone()),
    };
    Setup {
        world,
        metrics,
        fleet,
        step,
    }
}

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".parse().unwrap(),
    }
}

fn ms(rfc3339: &str) -> i64 {
    domain::clock::parse_time(rfc3339)
        .map(domain::clock::ms_of)
        .unwrap()
}

/// Order `order_id`, cash on delivery of `due` EUR minor units, delivered by `driver` of
/// the sandbox courier at `at`, which reported collecting `collected`.
fn delivered_cod(
    s: &Setup,
    order_id: &str,
    driver: &str,
    due: i64,
    collected: Option<i64>,
    at: &str,
) -> ShipmentRecord {
    let mut shipment = sample::shipment("acme", order_id);
    shipment.payment = Payment::CashOnDelivery { amount: eur(due) };
    let mut record = sample::with_task(&shipment, &sample::task(1), ShipmentStatus::Delivered);
    record.courier = Some(CourierKind::Sandbox);
    record.transitions = vec![(ShipmentStatus::Delivered, ms(at))];
    record.delivery.driver = Some(driver.to_owned());
    record.delivery.cod_collected = collected.map(eur);
    record.delivery.cod_collected_ms = collected.map(|_| ms(at));
    s.world.shipments.insert(record.clone());
    record
}

fn courier(driver: &str) -> CourierId {
    CourierId::new("sandbox", Some(driver))
}

async fn hand_over(s: &Setup, driver: &str, receipt: &str, minor: i64) {
    let handover = Handover {
        courier: courier(driver),
        receipt: receipt.into(),
        amount: eur(minor),
    };
    let write = s
        .world
        .cash
        .record_handover(DAY, &handover, "dispatcher")
        .await
        .unwrap();
    assert_eq!(write, HandoverWrite::Recorded);
}

/// Ana delivers two orders (42.50 and 19.90) and hands over all of it; Ben delivers one
/// (30.00) and hands over 10.00. Around them: a prepaid delivery, a COD delivery of the
/// day before, and a COD shipment still on its way.
async fn a_day(s: &Setup) {
    delivered_cod(
        s,
        "1001",
        "drv_ana",
        4250,
        Some(4250),
        "2026-11-24T09:12:00Z",
    );
    delivered_cod(
        s,
        "1002",
        "drv_ana",
        1990,
        Some(1990),
        "2026-11-24T23:59:59Z",
    );
    delivered_cod(
        s,
        "1003",
        "drv_ben",
        3000,
        Some(3000),
        "2026-11-24T00:00:00Z",
    );
    delivered_cod(
        s,
        "0999",
        "drv_ben",
        5000,
        Some(5000),
        "2026-11-23T23:59:59Z",
    );
    let mut prepaid = sample::with_task(
        &sample::shipment("acme", "1004"),
        &sample::task(4),
        ShipmentStatus::Delivered,
    );
    prepaid.transitions = vec![(ShipmentStatus::Delivered, ms("2026-11-24T12:00:00Z"))];
    s.world.shipments.insert(prepaid);
    let mut on_its_way = sample::shipment("acme", "1005");
    on_its_way.payment = Payment::CashOnDelivery { amount: eur(700) };
    s.world.shipments.insert(sample::with_task(
        &on_its_way,
        &sample::task(5),
        ShipmentStatus::OutForDelivery,
    ));
    hand_over(s, "drv_ana", "R-1", 6240).await;
    hand_over(s, "drv_ben", "R-2", 1000).await;
}

async fn report_files(s: &Setup) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for key in REPORTS {
        files.push(s.world.reports.get(key).await.unwrap().expect(key));
    }
    files
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

fn request() -> Request {
    Request::for_day(DAY)
}

fn accuracy_points(s: &Setup) -> Vec<Value> {
    s.metrics
        .documents()
        .into_iter()
        .filter(|d| d.get(names::COD_RECONCILIATION_ACCURACY).is_some())
        .collect()
}

#[tokio::test]
async fn a_days_cash_on_delivery_becomes_cash_out_tasks_and_the_three_report_files() {
    let s = setup();
    a_day(&s).await;

    let report = s.step.handle(request()).await.unwrap();

    assert_eq!(report.day, "2026-11-24");
    assert_eq!(report.couriers, 2, "one line per courier and currency");
    assert_eq!(report.shipments_checked, 3, "only the day's cash");
    assert_eq!(report.cash_outs_created, 2);
    assert_eq!(
        (report.cash_outs_revised, report.cash_outs_unchanged),
        (0, 0)
    );
    assert_eq!(report.report_keys, REPORTS);

    let mut tasks = s.world.cash.cash_outs(DAY).await.unwrap();
    tasks.sort_by_key(|t| t.sort_key());
    let amounts: Vec<(String, i64, i64, i64)> = tasks
        .iter()
        .map(|t| {
            (
                t.courier.to_string(),
                t.collected.minor,
                t.handed_over.minor,
                t.due.minor,
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [
            ("sandbox/drv_ana".to_owned(), 6240, 6240, 0),
            ("sandbox/drv_ben".to_owned(), 3000, 1000, 2000),
        ]
    );

    let files = report_files(&s).await;
    let couriers = text(&files[0]);
    assert!(
        couriers.starts_with("day,courier,currency,cod_deliveries,"),
        "{couriers}"
    );
    assert!(
        couriers.contains("2026-11-24,sandbox/drv_ana,EUR,2,62.40,62.40,62.40,0.00,0.00"),
        "{couriers}"
    );
    assert!(
        couriers.contains("2026-11-24,sandbox/drv_ben,EUR,1,30.00,30.00,10.00,0.00,20.00"),
        "{couriers}"
    );
    assert!(text(&files[2]).contains("Cash on delivery, 2026-11-24"));
}

#[tokio::test]
async fn a_rerun_changes_nothing_and_writes_the_same_report_bytes() {
    let s = setup();
    a_day(&s).await;
    let first = s.step.handle(request()).await.unwrap();
    let first_files = report_files(&s).await;
    let first_tasks = s.world.cash.cash_outs(DAY).await.unwrap();

    let again = s.step.handle(request()).await.unwrap();

    assert_eq!(again.cash_outs_created, 0);
    assert_eq!(again.cash_outs_revised, 0);
    assert_eq!(again.cash_outs_unchanged, first.cash_outs_created);
    assert_eq!(report_files(&s).await, first_files, "the same bytes");
    assert_eq!(s.world.cash.cash_outs(DAY).await.unwrap(), first_tasks);
    assert_eq!(
        DayReport {
            cash_outs_created: first.cash_outs_created,
            cash_outs_unchanged: 0,
            ..again
        },
        first,
        "the same day, the same findings"
    );
}

#[tokio::test]
async fn a_short_hand_over_is_an_exception_until_the_rest_is_handed_over() {
    let s = setup();
    a_day(&s).await;

    let report = s.step.handle(request()).await.unwrap();

    assert!(!report.balanced);
    assert_eq!(
        report.exceptions,
        BTreeMap::from([("handed_over_less_than_collected".to_owned(), 1)])
    );
    let exceptions = report_files(&s).await.remove(1);
    let rows: Vec<&str> = text(&exceptions).lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].starts_with("2026-11-24,sandbox/drv_ben,handed_over_less_than_collected,"),
        "{}",
        rows[0]
    );
    assert!(rows[0].ends_with(",EUR,30.00,10.00"), "{}", rows[0]);

    // Ben brings the rest; the next run revises his task and balances the day.
    hand_over(&s, "drv_ben", "R-3", 2000).await;
    let rerun = s.step.handle(request()).await.unwrap();
    assert!(rerun.balanced, "{rerun:?}");
    assert_eq!(rerun.cash_outs_revised, 1);
    assert_eq!(rerun.cash_outs_unchanged, 1);
    let ben = s
        .world
        .cash
        .cash_outs(DAY)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.courier == courier("drv_ben"))
        .unwrap();
    assert_eq!((ben.due.minor, ben.revision), (0, 1));
}

#[tokio::test]
async fn the_metrics_carry_the_days_accuracy_and_how_far_the_cash_is_off() {
    let s = setup();
    delivered_cod(
        &s,
        "2001",
        "drv_ana",
        2500,
        Some(2000),
        "2026-11-24T10:00:00Z",
    );
    delivered_cod(
        &s,
        "2002",
        "drv_ana",
        1500,
        Some(1500),
        "2026-11-24T11:00:00Z",
    );
    delivered_cod(&s, "2003", "drv_ben", 1000, None, "2026-11-24T12:00:00Z");
    delivered_cod(
        &s,
        "2004",
        "drv_ben",
        800,
        Some(800),
        "2026-11-24T13:00:00Z",
    );
    hand_over(&s, "drv_ana", "R-1", 3000).await;
    hand_over(&s, "drv_ben", "R-2", 800).await;

    let report = s.step.handle(request()).await.unwrap();

    assert_eq!(report.accuracy_percent, 50.0);
    assert_eq!(
        report.exceptions,
        BTreeMap::from([
            ("delivered_nothing_reported".to_owned(), 1),
            ("handed_over_less_than_collected".to_owned(), 1),
            ("underpaid".to_owned(), 1)
        ])
    );
    let accuracy = accuracy_points(&s);
    assert_eq!(
        accuracy.len(),
        1,
        "one point per courier platform: {accuracy:?}"
    );
    assert_eq!(accuracy[0]["Courier"], "sandbox");
    assert_eq!(accuracy[0][names::COD_RECONCILIATION_ACCURACY], 50.0);
    assert_eq!(accuracy[0]["ShipmentsChecked"], 4);
    let difference: Vec<Value> = s
        .metrics
        .documents()
        .into_iter()
        .filter(|d| d.get(names::COD_DIFFERENCE_MINOR).is_some())
        .collect();
    assert_eq!(difference.len(), 1, "{difference:?}");
    assert_eq!(difference[0]["Currency"], "EUR");
    // Ana: |3500 − 4000| + |3000 − 3500|; Ben: |800 − 1800| + |800 − 800|.
    assert_eq!(difference[0][names::COD_DIFFERENCE_MINOR], 2000.0);
    assert!(
        s.metrics
            .documents()
            .iter()
            .all(|d| !d.to_string().contains("drv_")),
        "driver ids stay in the report, out of the metrics"
    );
}

#[tokio::test]
async fn a_day_without_cash_on_delivery_is_balanced_and_fully_accurate() {
    let s = setup();

    let report = s.step.handle(request()).await.unwrap();

    assert!(report.balanced);
    assert_eq!(report.couriers, 0);
    assert_eq!(report.cash_outs_created, 0);
    assert_eq!(report.accuracy_percent, 100.0);
    assert_eq!(
        report_files(&s).await.len(),
        3,
        "the report is written anyway"
    );
    assert!(accuracy_points(&s).is_empty(), "no courier, no data point");
}

#[tokio::test]
async fn a_request_without_a_day_is_refused_for_good_and_writes_nothing() {
    let s = setup();
    a_day(&s).await;

    for request in [
        Request::default(),
        Request {
            day: Some("yesterday".into()),
            time: None,
        },
    ] {
        let err = s.step.handle(request).await.unwrap_err();
        assert!(matches!(err, ReconcileError::NoDay(_)), "{err}");
        assert_eq!(err.transience(), Transience::Permanent);
    }
    assert!(s.world.reports.list("cod/").await.unwrap().is_empty());
    assert!(s.world.cash.cash_outs(DAY).await.unwrap().is_empty());
    assert!(s.metrics.documents().is_empty());
}

#[tokio::test]
async fn a_storage_outage_is_a_transient_error_that_writes_no_report() {
    let s = setup();
    a_day(&s).await;
    s.world
        .shipments
        .faults
        .inject("all", fakes::unavailable("Scan"));

    let err = s.step.handle(request()).await.unwrap_err();

    assert!(matches!(err, ReconcileError::Run(_)), "{err}");
    assert_eq!(
        err.transience(),
        Transience::Transient,
        "the schedule's retry helps"
    );
    assert!(s.world.reports.list("cod/").await.unwrap().is_empty());
    assert!(s.world.cash.cash_outs(DAY).await.unwrap().is_empty());

    let retry = s.step.handle(request()).await.unwrap();
    assert_eq!(retry.cash_outs_created, 2);
}

fn parsed(json: &str) -> Request {
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_schedule_reconciles_the_day_before_its_time_and_an_operator_names_a_day() {
    // EventBridge's scheduled event, as it arrives (02:30 UTC on the 25th).
    let scheduled = parsed(
        r#"{"version":"0","id":"89d1a02d","detail-type":"Scheduled Event","source":"aws.events",
            "account":"123456789012","time":"2026-11-25T02:30:00Z","region":"eu-west-1",
            "resources":["arn:aws:events:eu-west-1:123456789012:rule/daily"],"detail":{}}"#,
    );
    assert_eq!(day_text(scheduled.day(None).unwrap()), "2026-11-24");
    // Across a month and a year.
    assert_eq!(
        day_text(
            parsed(r#"{"time":"2027-01-01T02:30:00Z"}"#)
                .day(None)
                .unwrap()
        ),
        "2026-12-31"
    );
    assert_eq!(
        day_text(parsed(r#"{"day":"2026-11-20"}"#).day(None).unwrap()),
        "2026-11-20"
    );
}

#[test]
fn an_event_without_a_day_is_refused_for_good() {
    for json in [
        r#"{}"#,
        r#"{"day":"24.11.2026"}"#,
        r#"{"time":"yesterday"}"#,
    ] {
        let err = parsed(json).day(None).unwrap_err();
        assert!(matches!(err, ReconcileError::NoDay(_)), "{json}: {err}");
        assert_eq!(err.transience(), Transience::Permanent);
    }
}

#[tokio::test]
async fn the_scheduled_event_reconciles_the_day_before() {
    let s = setup();
    a_day(&s).await;
    let scheduled = parsed(r#"{"detail-type":"Scheduled Event","time":"2026-11-25T02:30:00Z"}"#);

    let report = s.step.handle(scheduled).await.unwrap();

    assert_eq!(report.day, "2026-11-24");
    assert_eq!(report.shipments_checked, 3);
}

#[test]
fn with_a_fleet_the_scheduled_day_is_the_fleets_local_day() {
    // 20:00 UTC on the 24th is 01:30 on the 25th in India: the day before is the 24th
    // there, the 23rd in UTC.
    let scheduled = parsed(r#"{"time":"2026-11-24T20:00:00Z"}"#);
    assert_eq!(day_text(scheduled.day(None).unwrap()), "2026-11-23");
    assert_eq!(
        day_text(scheduled.day(Some("Asia/Kolkata")).unwrap()),
        "2026-11-24"
    );
}

#[tokio::test]
async fn with_a_fleet_cash_collected_late_in_the_evening_belongs_to_the_local_working_day() {
    let s = setup();
    // Collected at 20:00 UTC on the 23rd: still the 23rd in UTC, already the 24th in India.
    delivered_cod(
        &s,
        "1001",
        "drv_01",
        4250,
        Some(4250),
        "2026-11-23T20:00:00Z",
    );
    let utc = s.step.handle(request()).await.unwrap();
    assert_eq!(utc.shipments_checked, 0, "not the 24th in UTC");

    let fleet = domain::dispatch::Fleet::from_json(
        r#"{"time_zone": "Asia/Kolkata", "courier": "sandbox", "drivers": [
            {"id": "drv_01", "vehicle": "scooter", "shift": {"start": "09:00", "end": "18:00"},
             "start": {"lat": 12.97, "lon": 77.59}}]}"#,
    )
    .unwrap();
    domain::ports::FleetStore::put(s.fleet.as_ref(), &fleet, "test")
        .await
        .unwrap();
    let local = s.step.handle(request()).await.unwrap();
    assert_eq!(local.day, "2026-11-24");
    assert_eq!(local.shipments_checked, 1, "the 24th in India");
}
