//! Cash on delivery, end to end: the sandbox's drivers deliver cash-on-delivery orders and
//! report the cash with each delivery; a dispatcher records what each driver hands over
//! (the CLI's code); the day's reconciliation, its cash-out tasks and its report come out
//! of cod-reconcile's run against the emulator (DynamoDB, S3).

use domain::cod::day_text;
use domain::cod::{CourierId, ExceptionKind, Handover};
use domain::{Channel, Money, ShipmentKey, ShipmentStatus};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness, STORE};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// A confirmed cash-on-delivery order that owes `outstanding` EUR.
fn cod_order(id: u64, outstanding: &str) -> Value {
    let mut order = paid_order(id);
    order["financial_status"] = json!("pending");
    order["payment_gateway_names"] = json!(["Cash on Delivery (COD)"]);
    order["total_price"] = json!(outstanding);
    order["total_outstanding"] = json!(outstanding);
    order
}

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".parse().unwrap(),
    }
}

/// Posts the order, waits for its task; returns the shipment key and the task id.
async fn ordered(h: &Harness, id: u64, order: Value) -> (ShipmentKey, String) {
    let (status, _, _) = h
        .deliver(
            "orders/create",
            &format!("w-{id}"),
            order.to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
    let task = h.task_for(&key.to_string()).await;
    (key, task.id)
}

/// The day's cash per driver, as the shipments record it once delivered.
async fn collected_by_driver(h: &Harness, keys: &[ShipmentKey]) -> BTreeMap<String, i64> {
    let mut cash = BTreeMap::new();
    for key in keys {
        let record = h.shipment(key).await;
        let driver = record.delivery.driver.clone().expect("the driver is known");
        let collected = record.delivery.cod_collected.expect("cash reported");
        *cash.entry(driver).or_insert(0) += collected.minor;
    }
    cash
}

async fn hand_over(h: &Harness, driver: &str, receipt: &str, minor: i64) -> String {
    let handover = Handover {
        courier: CourierId::new("sandbox", Some(driver)),
        receipt: receipt.into(),
        amount: eur(minor),
    };
    let today = time::OffsetDateTime::now_utc().date();
    cli::cod::handover(h.stores(), today, &handover, "dispatcher")
        .await
        .expect("hand-over recorded")
        .outcome
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_day_reconciles_to_zero_and_a_rerun_changes_nothing() {
    let h = Harness::start("cod-day", &[]).await;
    let base = 7_720_000_000_000_000_000u64;
    // Six cash-on-delivery orders and a prepaid one, on the roster's three drivers.
    let amounts = ["42.50", "19.99", "120.00", "7.05", "63.40", "250.00"];
    let mut keys = Vec::new();
    let mut tasks = Vec::new();
    for (i, amount) in amounts.iter().enumerate() {
        let (key, task) = ordered(&h, base + i as u64, cod_order(base + i as u64, amount)).await;
        keys.push(key);
        tasks.push(task);
    }
    let (prepaid, prepaid_task) = ordered(&h, base + 99, paid_order(base + 99)).await;
    for task in tasks.iter().chain([&prepaid_task]) {
        h.advance_task(task, 4).await;
    }
    for key in keys.iter().chain([&prepaid]) {
        wait_for(&format!("{key} delivered with its cash"), WAIT, || async {
            let record = h.shipment(key).await;
            (record.status == ShipmentStatus::Delivered
                && (key == &prepaid || record.delivery.cod_collected.is_some()))
            .then_some(())
        })
        .await;
    }

    // Each driver hands over exactly what it collected; one slip is typed in twice.
    let cash = collected_by_driver(&h, &keys).await;
    assert_eq!(cash.len(), 3, "three drivers had cash: {cash:?}");
    assert_eq!(
        cash.values().sum::<i64>(),
        4250 + 1999 + 12000 + 705 + 6340 + 25000
    );
    for (driver, minor) in &cash {
        assert_eq!(hand_over(&h, driver, "slip-1", *minor).await, "recorded");
    }
    let (driver, minor) = cash.iter().next().unwrap();
    assert_eq!(
        hand_over(&h, driver, "slip-1", *minor).await,
        "already recorded"
    );

    let today = time::OffsetDateTime::now_utc().date();
    let first = h.runtime.reconcile_cod(today).await.expect("reconciled");
    assert!(first.balanced, "{first:?}");
    assert!(first.exceptions.is_empty(), "{first:?}");
    assert_eq!(
        first.shipments_checked, 6,
        "the prepaid order is not checked"
    );
    assert_eq!(first.accuracy_percent, 100.0);
    assert_eq!((first.couriers, first.cash_outs_created), (3, 3));

    let stores = h.stores();
    let r = stores.cash_desk(None).reconcile_day(today).await.unwrap();
    for line in &r.lines {
        assert_eq!(line.collection_difference().minor, 0, "{line:?}");
        assert_eq!(line.due().minor, 0, "{line:?}");
        assert_eq!(
            line.collected_minor,
            cash[line.courier.driver.as_ref().unwrap()]
        );
    }
    let cash_outs = stores.cash.cash_outs(today).await.unwrap();
    assert_eq!(cash_outs.len(), 3);
    assert!(cash_outs.iter().all(|t| t.is_settled()), "{cash_outs:?}");

    let files = cli::cod::reports(stores, Some(today)).await.unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let prefix = format!("cod/{}/", day_text(today));
    assert_eq!(
        names,
        ["couriers.csv", "exceptions.csv", "report.html"].map(|f| format!("{prefix}{f}"))
    );
    let csv = cli::cod::report(stores, today, "couriers.csv")
        .await
        .unwrap();
    let html = cli::cod::report(stores, today, "report.html")
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&csv).lines().count(),
        4,
        "a header and 3 drivers"
    );
    assert!(String::from_utf8_lossy(&html).contains("Balanced"));

    // The same day again: the same result, nothing created twice, the same report bytes.
    let again = h
        .runtime
        .reconcile_cod(today)
        .await
        .expect("reconciled again");
    assert_eq!(
        (
            again.cash_outs_created,
            again.cash_outs_revised,
            again.cash_outs_unchanged
        ),
        (0, 0, 3)
    );
    assert_eq!(
        (
            again.balanced,
            again.couriers,
            &again.exceptions,
            again.accuracy_percent
        ),
        (
            first.balanced,
            first.couriers,
            &first.exceptions,
            first.accuracy_percent
        )
    );
    assert_eq!(stores.cash.cash_outs(today).await.unwrap(), cash_outs);
    assert_eq!(
        cli::cod::reports(stores, Some(today)).await.unwrap().len(),
        3
    );
    assert_eq!(
        cli::cod::report(stores, today, "couriers.csv")
            .await
            .unwrap(),
        csv
    );
    assert_eq!(
        cli::cod::report(stores, today, "report.html")
            .await
            .unwrap(),
        html
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_cash_and_a_short_hand_over_are_exceptions_until_the_rest_comes_in() {
    let h = Harness::start("cod-short", &[]).await;
    let id = 7_730_000_000_000_000_001u64;
    let (key, task) = ordered(&h, id, cod_order(id, "80.00")).await;
    // Ana takes the task and collects 75.00 of 80.00.
    h.advance_task_with(&task, json!({"driver_id": "drv_ana"}))
        .await;
    h.advance_task(&task, 2).await;
    h.advance_task_with(&task, json!({"cod_collected_minor": 7500}))
        .await;
    wait_for("the short cash recorded", WAIT, || async {
        let record = h.shipment(&key).await;
        (record.delivery.cod_collected == Some(eur(7500))).then_some(record)
    })
    .await;
    assert_eq!(
        h.shipment(&key).await.delivery.driver.as_deref(),
        Some("drv_ana")
    );
    // She hands over 50.00 first.
    assert_eq!(hand_over(&h, "drv_ana", "slip-7", 5000).await, "recorded");

    let today = time::OffsetDateTime::now_utc().date();
    let first = h.runtime.reconcile_cod(today).await.expect("reconciled");
    assert!(!first.balanced);
    assert_eq!(
        first.exceptions,
        BTreeMap::from([
            ("handed_over_less_than_collected".to_owned(), 1),
            ("underpaid".to_owned(), 1)
        ])
    );
    assert_eq!(first.accuracy_percent, 0.0);
    let task_due = |tasks: Vec<domain::cod::CashOutTask>| {
        assert_eq!(tasks.len(), 1);
        (tasks[0].due, tasks[0].revision)
    };
    assert_eq!(
        task_due(h.stores().cash.cash_outs(today).await.unwrap()),
        (eur(2500), 0)
    );
    let r = h
        .stores()
        .cash_desk(None)
        .reconcile_day(today)
        .await
        .unwrap();
    let underpaid = r
        .exceptions
        .iter()
        .find(|e| e.kind == ExceptionKind::Underpaid)
        .unwrap();
    assert_eq!(
        (
            underpaid.expected,
            underpaid.actual,
            underpaid.order.as_deref()
        ),
        (Some(eur(8000)), Some(eur(7500)), Some("#1"))
    );

    // The rest of the cash comes in; the re-run revises the one cash-out task.
    assert_eq!(hand_over(&h, "drv_ana", "slip-8", 2500).await, "recorded");
    let second = h.runtime.reconcile_cod(today).await.expect("reconciled");
    assert_eq!(
        second.exceptions,
        BTreeMap::from([("underpaid".to_owned(), 1)])
    );
    assert_eq!((second.cash_outs_created, second.cash_outs_revised), (0, 1));
    assert_eq!(
        task_due(h.stores().cash.cash_outs(today).await.unwrap()),
        (eur(0), 1)
    );
    let exceptions = cli::cod::report(h.stores(), today, "exceptions.csv")
        .await
        .unwrap();
    let exceptions = String::from_utf8(exceptions).unwrap();
    assert!(exceptions.contains("underpaid"), "{exceptions}");
    assert!(!exceptions.contains("handed_over_less"), "{exceptions}");

    // A receipt typed again with another amount is refused, and nothing changes.
    let handover = Handover {
        courier: CourierId::new("sandbox", Some("drv_ana")),
        receipt: "slip-8".into(),
        amount: eur(2400),
    };
    let refused = cli::cod::handover(h.stores(), today, &handover, "dispatcher").await;
    assert!(
        matches!(refused, Err(cli::CliError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(h.stores().cash.handovers(today).await.unwrap().len(), 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_reported_on_a_cancelled_order_is_kept_and_is_an_exception() {
    let h = Harness::start("cod-cancelled", &[]).await;
    let id = 7_740_000_000_000_000_001u64;
    let (key, task) = ordered(&h, id, cod_order(id, "30.00")).await;
    let mut cancelled = cod_order(id, "30.00");
    cancelled["cancelled_at"] = json!("2026-11-24T10:09:00Z");
    let (status, _, _) = h
        .deliver(
            "orders/cancelled",
            &format!("cancel-{id}"),
            cancelled.to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    h.wait_for_status(&key, ShipmentStatus::Cancelled).await;

    // The courier still reports a delivery with cash (a driver who had the parcel): the
    // state machine keeps the shipment cancelled, but the cash must not vanish.
    let now = time::OffsetDateTime::now_utc();
    let occurred = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let event = json!({
        "event_id": "evt_late_delivery_with_cash",
        "type": "task.status_changed",
        "task_id": task,
        "reference": key.to_string(),
        "tracking_number": "SBXLATE",
        "tracking_url": null,
        "status": "delivered",
        "driver_id": "drv_ben",
        "sequence": 9,
        "occurred_at": occurred,
        "eta": null,
        "failure": null,
        "proof": null,
        "cod_collected": {"amount_minor": 3000, "currency": "EUR"},
        "delivery_cost": null
    })
    .to_string();
    let signature = channels::signature::sign_hex_hmac_sha256(
        end_to_end::COURIER_WEBHOOK_SECRET.as_bytes(),
        event.as_bytes(),
    );
    let (status, _) = h
        .post_raw(
            "courier",
            "sandbox",
            &[
                ("x-sandbox-signature", &signature),
                ("x-sandbox-event-id", "evt_late_delivery_with_cash"),
            ],
            event.as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    let record = wait_for("the cash kept on the cancelled shipment", WAIT, || async {
        let record = h.shipment(&key).await;
        record.delivery.cod_collected.is_some().then_some(record)
    })
    .await;
    assert_eq!(record.status, ShipmentStatus::Cancelled);
    assert_eq!(record.delivery.cod_collected, Some(eur(3000)));
    assert_eq!(record.delivery.driver.as_deref(), Some("drv_ben"));

    let day = now.date();
    let report = h.runtime.reconcile_cod(day).await.expect("reconciled");
    assert_eq!(
        report.exceptions,
        BTreeMap::from([
            ("collected_on_cancelled_or_returned".to_owned(), 1),
            ("handed_over_less_than_collected".to_owned(), 1)
        ])
    );
    // Ben owes the depot the 30.00 he holds.
    let tasks = h.stores().cash.cash_outs(day).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].courier.to_string(), tasks[0].due),
        ("sandbox/drv_ben".to_owned(), eur(3000))
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_fleet_the_days_cash_is_counted_on_the_fleets_local_day() {
    let h = Harness::start("cod-local-day", &[]).await;
    let id = 7_740_000_000_000_000_000u64;
    let (key, task) = ordered(&h, id, cod_order(id, "42.50")).await;
    h.advance_task(&task, 4).await;
    let record = wait_for("delivered with its cash", WAIT, || async {
        let record = h.shipment(&key).await;
        record.delivery.cod_collected_ms.is_some().then_some(record)
    })
    .await;
    let collected_ms = record.delivery.cod_collected_ms.unwrap();
    // A zone whose day at that moment is not the UTC day: +14 h from 10:00 UTC on, -11 h
    // before.
    let utc_hour = domain::clock::utc_from_ms(collected_ms).unwrap().hour();
    let zone = if utc_hour >= 10 {
        "Pacific/Kiritimati"
    } else {
        "Pacific/Pago_Pago"
    };
    let local = domain::cod::day_of(collected_ms, Some(zone)).unwrap();
    let utc = domain::cod::day_of(collected_ms, None).unwrap();
    assert_ne!(local, utc);
    let fleet = domain::dispatch::Fleet::from_json(
        &json!({
            "time_zone": zone, "courier": "sandbox",
            "drivers": [{"id": "drv_01", "vehicle": "car",
                         "shift": {"start": "08:00", "end": "18:00"},
                         "start": {"lat": 0.0, "lon": 0.0}}]
        })
        .to_string(),
    )
    .unwrap();
    domain::ports::FleetStore::put(h.stores().dispatch.as_ref().unwrap(), &fleet, "test")
        .await
        .unwrap();

    // cod-reconcile reads the fleet: the cash is on the local day, not on the UTC one.
    let on_local = h.runtime.reconcile_cod(local).await.expect("reconciled");
    assert_eq!(on_local.shipments_checked, 1, "{on_local:?}");
    let on_utc = h.runtime.reconcile_cod(utc).await.expect("reconciled");
    assert_eq!(on_utc.shipments_checked, 0, "{on_utc:?}");
    h.stop().await;
}
