//! Dispatch end to end: orders become sandbox tasks through the whole pipeline, the
//! dispatch function plans the day over a fleet stored in DynamoDB, each driver gets their
//! route at the sandbox courier once, and the courier's "assigned" webhooks come back
//! through status sync. Also: a crash between solving and applying, two runs at once, and
//! an order with no coordinates.

use dispatch_function::DispatchReport;
use domain::dispatch::{Fleet, PlanDay};
use domain::ports::{FleetStore, Outbox, PlanStore, ReportShelf};
use domain::{Channel, ShipmentKey, ShipmentStatus};
use end_to_end::{paid_order, wait_for, Harness, STORE};
use sandbox::Fault;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn fleet() -> Fleet {
    Fleet::from_json(
        &json!({
            "time_zone": "Europe/Berlin",
            "courier": "sandbox",
            "drivers": [
                {"id": "drv_01", "vehicle": "bicycle", "capacity": {"pieces": 3},
                 "shift": {"start": "06:00", "end": "22:00"},
                 "start": {"lat": 52.529, "lon": 13.401}, "end": {"lat": 52.529, "lon": 13.401}},
                {"id": "drv_02", "vehicle": "bicycle", "capacity": {"pieces": 3},
                 "shift": {"start": "06:00", "end": "22:00"},
                 "start": {"lat": 52.529, "lon": 13.401}, "end": {"lat": 52.529, "lon": 13.401}}
            ]
        })
        .to_string(),
    )
    .expect("a valid fleet")
}

/// Tomorrow in the fleet's time zone: the whole of its shifts lies ahead, whatever the
/// time the test runs (a plan for today starts from now).
fn plan_day() -> String {
    PlanDay::containing(domain::clock::now_ms() + 86_400_000, "Europe/Berlin")
        .expect("a known zone")
        .day()
}

/// Where an order goes: at coordinates, or without any at a postal code (the geocoder's).
#[derive(Clone, Copy)]
enum Place {
    At(f64, f64),
    Unplaced(&'static str),
}

/// Posts paid orders to these places and waits until each has its task; returns their
/// shipment keys.
async fn order(h: &Harness, base: u64, places: &[Place]) -> Vec<ShipmentKey> {
    let mut keys = Vec::new();
    for (i, place) in places.iter().enumerate() {
        let id = base + i as u64;
        let mut order = paid_order(id);
        match place {
            Place::At(lat, lon) => {
                order["shipping_address"]["latitude"] = json!(lat);
                order["shipping_address"]["longitude"] = json!(lon);
            }
            Place::Unplaced(zip) => order["shipping_address"]["zip"] = json!(zip),
        }
        let (status, _, _) = h
            .deliver(
                "orders/create",
                &format!("w-{id}"),
                order.to_string().as_bytes(),
            )
            .await;
        assert_eq!(status, 200);
        keys.push(ShipmentKey::new(
            Channel::Shopify,
            STORE,
            &id.to_string(),
            "1",
        ));
    }
    for key in &keys {
        // The task first (the shipment is recorded before it), then its status.
        h.task_for(&key.to_string()).await;
        h.wait_for_status(key, ShipmentStatus::Created).await;
    }
    keys
}

/// Five stops around Mitte: more than one bicycle holds (3 pieces each).
const PLACES: [Place; 5] = [
    Place::At(52.5200, 13.3700),
    Place::At(52.5210, 13.3650),
    Place::At(52.5300, 13.4400),
    Place::At(52.5310, 13.4450),
    Place::At(52.5100, 13.4000),
];

/// Every task id on the sandbox's routes, each at most once.
fn routed_once(h: &Harness) -> Vec<String> {
    let mut all: Vec<String> = h.sandbox.routes().into_values().flatten().collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        count,
        all.len(),
        "a task on two routes: {:?}",
        h.sandbox.routes()
    );
    all
}

fn route_calls(h: &Harness) -> usize {
    h.sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/route"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_is_planned_once_each_driver_gets_their_route_and_the_tasks_come_back_assigned() {
    let h = Harness::start("dispatch-day", &[]).await;
    let dispatch = h
        .stores()
        .dispatch
        .as_ref()
        .expect("the stack has a dispatch table");
    dispatch.put(&fleet(), "test").await.unwrap();
    // Four with the channel's coordinates, one the geocoder places (Torstraße 1, 10119),
    // one it finds twice (the sandbox's documented ambiguous postal code).
    let mut places = PLACES[..4].to_vec();
    places.push(Place::Unplaced("10119"));
    places.push(Place::Unplaced(sandbox::GEOCODE_AMBIGUOUS_POSTAL_CODE));
    let keys = order(&h, 7_730_000_000_000_000_000, &places).await;
    let day = plan_day();

    let report = h.runtime.dispatch(&day, "ana").await.expect("planned");
    let DispatchReport::Applied {
        plan: plan_id,
        resumed,
        routes,
        stops,
        unplanned,
        ..
    } = report
    else {
        panic!("{report:?}");
    };
    assert!(!resumed);
    assert_eq!(
        (routes, stops, unplanned),
        (2, 5, 1),
        "two bicycles of three pieces"
    );

    // The stored plan is what the courier was told, driver by driver, in order.
    let plans = dispatch.plans(&day).await.unwrap();
    assert_eq!(plans.len(), 1);
    let plan = &plans[0];
    assert_eq!(plan.id, plan_id);
    assert_eq!(plan.requested_by, "ana");
    let told: BTreeMap<String, Vec<String>> = plan
        .routes
        .iter()
        .map(|r| (r.driver.clone(), r.task_ids()))
        .collect();
    assert_eq!(h.sandbox.routes(), told);
    assert_eq!(routed_once(&h).len(), 5);
    assert_eq!(route_calls(&h), 2);
    // Travel came from the road router (the sandbox's fake of Amazon Location's route
    // matrix): one call for the fleet's one vehicle type, every place to every place —
    // each bicycle's start and end, and the five stops — within one bounding box.
    let matrices = h.sandbox.route_matrix_calls();
    assert_eq!(matrices.len(), 1, "{matrices:?}");
    assert_eq!(
        (
            matrices[0].origins,
            matrices[0].destinations,
            matrices[0].travel_mode.as_str()
        ),
        (9, 9, "Scooter")
    );
    assert!(matrices[0].routing_boundary["Geometry"]["BoundingBox"].is_array());
    // Its page is in the reports bucket, the two routes drawn.
    let page = h
        .stores()
        .reports
        .get(&dispatch::page::key(plan))
        .await
        .unwrap()
        .expect("the plan's page");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(page.matches("<polyline class=\"route\"").count(), 2);

    // The sandbox moved each task to assigned with its driver; status sync recorded it.
    for route in &plan.routes {
        for stop in &route.stops {
            let record = h
                .wait_for_status(&stop.shipment, ShipmentStatus::Assigned)
                .await;
            assert_eq!(
                record.delivery.driver.as_deref(),
                Some(route.driver.as_str())
            );
            let mark = record.dispatch.expect("marked with its plan");
            assert_eq!(
                (mark.plan_id.as_str(), mark.eta_ms, mark.time_zone.as_str()),
                (plan.id.as_str(), stop.eta_ms, "Europe/Berlin")
            );
        }
    }
    // The geocoded order is planned at the geocoder's point, near its anchor city.
    let geocoded = plan
        .routes
        .iter()
        .flat_map(|r| &r.stops)
        .find(|s| s.shipment == keys[4])
        .expect("the geocoded order is planned");
    assert!(
        (geocoded.location.lat - 52.52).abs() < 0.1 && (geocoded.location.lon - 13.405).abs() < 0.2,
        "{:?}",
        geocoded.location
    );
    // The ambiguous one is a review item that asks the customer, and waits.
    let unplaced = &keys[5];
    assert_eq!(plan.unplanned[0].shipment, *unplaced);
    let items = h.open_reviews("address_ambiguous").await;
    assert_eq!(items.len(), 1);
    // As for an address the courier refuses: the draft to fix and release, and the
    // customer asked to clarify through the outbox.
    assert_eq!(items[0].kind, "shipment");
    assert!(items[0].draft.is_some());
    assert!(items[0].reasons[0].asks_customer());
    let asked = domain::notify::OutboxEntry::id_for(&unplaced.to_string(), "address_clarification");
    let entry = wait_for("the clarification request", WAIT, || async {
        h.stores().outbox.get(&asked).await.unwrap()
    })
    .await;
    assert_eq!(entry.shipment_key, unplaced.to_string());
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(unplaced.to_string().as_str())
    );
    assert_eq!(h.shipment(unplaced).await.status, ShipmentStatus::Created);

    // Planning again gives nobody anything: the unplaced order still waits, its review
    // item counted once more, and no plan is stored for it.
    let again = h.runtime.dispatch(&day, "ana").await.expect("ran");
    assert_eq!(
        again,
        DispatchReport::NothingToPlan {
            day: day.clone(),
            waiting: 1
        }
    );
    let items = h.open_reviews("address_ambiguous").await;
    assert_eq!((items.len(), items[0].occurrences), (1, 2));
    assert_eq!(route_calls(&h), 2);
    assert_eq!(dispatch.plans(&day).await.unwrap().len(), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_solving_and_applying_is_finished_by_the_next_run_and_no_stop_is_given_twice(
) {
    let h = Harness::start("dispatch-crash", &[]).await;
    let dispatch = h.stores().dispatch.as_ref().expect("dispatch table");
    dispatch.put(&fleet(), "test").await.unwrap();
    order(&h, 7_731_000_000_000_000_000, &PLACES).await;
    let day = plan_day();

    // The courier fails on the first route: the plan is stored, open, half applied at most.
    h.sandbox
        .set_assign_route_fault(Fault::ServerError { times: 1 });
    let err = h.runtime.dispatch(&day, "ana").await.unwrap_err();
    assert!(err.to_string().contains("route"), "{err}");
    let open = dispatch
        .day(&day)
        .await
        .unwrap()
        .open
        .expect("the plan stays open");

    // Whatever runs next finishes that plan: the same routes, each task once.
    let report = h.runtime.dispatch(&day, "schedule").await.expect("applied");
    assert!(
        matches!(&report, DispatchReport::Applied { plan, resumed: true, .. } if *plan == open.id),
        "{report:?}"
    );
    assert!(dispatch.day(&day).await.unwrap().open.is_none());
    assert_eq!(dispatch.plans(&day).await.unwrap(), vec![open.clone()]);
    assert_eq!(routed_once(&h).len(), 5);
    let told: BTreeMap<String, Vec<String>> = open
        .routes
        .iter()
        .map(|r| (r.driver.clone(), r.task_ids()))
        .collect();
    assert_eq!(h.sandbox.routes(), told);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_apply_one_plan_and_each_task_lands_on_one_route() {
    let h = Harness::start("dispatch-race", &[]).await;
    let dispatch = h.stores().dispatch.as_ref().expect("dispatch table");
    dispatch.put(&fleet(), "test").await.unwrap();
    order(&h, 7_732_000_000_000_000_000, &PLACES).await;
    let day = plan_day();

    let (a, b) = tokio::join!(
        h.runtime.dispatch(&day, "ana"),
        h.runtime.dispatch(&day, "ben")
    );
    // A run that finds the other one applying a driver's route stops with a transient error
    // (Lambda retries it); the retry finds the plan applied.
    let retried = |result: Result<DispatchReport, local_runtime::RuntimeError>,
                   by: &'static str| {
        let day = day.clone();
        let h = &h;
        async move {
            match result {
                Err(e) if e.to_string().contains("another run is applying") => {
                    h.runtime.dispatch(&day, by).await
                }
                other => other,
            }
        }
    };
    let a = retried(a, "ana").await.expect("run a");
    let b = retried(b, "ben").await.expect("run b");
    let applied: Vec<&DispatchReport> = [&a, &b]
        .into_iter()
        .filter(|r| matches!(r, DispatchReport::Applied { .. }))
        .collect();
    assert!(!applied.is_empty(), "{a:?} {b:?}");
    // Both applied the same plan, or one applied it and the other found nothing left.
    let plans = dispatch.plans(&day).await.unwrap();
    assert_eq!(plans.len(), 1, "{a:?} {b:?}");
    for report in applied {
        assert!(matches!(report, DispatchReport::Applied { plan, .. } if *plan == plans[0].id));
    }
    assert_eq!(
        routed_once(&h).len(),
        5,
        "runs {a:?} {b:?}; plan {:?}; at the sandbox {:?}; review items {:?}",
        plans[0],
        h.sandbox.routes(),
        h.open_reviews("not_planned").await
    );
    wait_for("every task assigned", WAIT, || async {
        let sandbox_tasks = h.sandbox.tasks();
        sandbox_tasks
            .iter()
            .all(|t| t.status == "assigned")
            .then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_order_is_inserted_into_the_running_route_and_the_started_stop_stays_first() {
    let h = Harness::start("dispatch-insert", &[]).await;
    let dispatch = h.stores().dispatch.as_ref().expect("dispatch table");
    dispatch.put(&fleet(), "test").await.unwrap();
    let first = order(&h, 7_733_000_000_000_000_000, &PLACES[..3]).await;
    let day = plan_day();
    h.runtime.dispatch(&day, "ana").await.expect("first plan");
    let plan1 = dispatch.plans(&day).await.unwrap().remove(0);
    assert_eq!(plan1.routes.len(), 1, "three pieces fit one bicycle");
    let route1 = &plan1.routes[0];
    for stop in &route1.stops {
        h.wait_for_status(&stop.shipment, ShipmentStatus::Assigned)
            .await;
    }
    // The driver picks up the route's first stop.
    let started = &route1.stops[0];
    h.advance_task(&started.task_id, 1).await;
    h.wait_for_status(&started.shipment, ShipmentStatus::PickedUp)
        .await;

    let late = order(&h, 7_733_000_000_000_000_100, &PLACES[3..4]).await;
    h.runtime.dispatch(&day, "ana").await.expect("second plan");
    let plans = dispatch.plans(&day).await.unwrap();
    assert_eq!(plans.len(), 2);
    let plan2 = &plans[1];
    let on = |key: &ShipmentKey| {
        plan2
            .routes
            .iter()
            .find(|r| r.stops.iter().any(|s| s.shipment == *key))
            .map(|r| r.driver.clone())
    };
    assert_eq!(
        on(&started.shipment),
        None,
        "a started stop is not planned again"
    );
    for key in first.iter().filter(|k| **k != started.shipment) {
        assert_eq!(
            on(key),
            Some(route1.driver.clone()),
            "{key} stays with its driver"
        );
    }
    assert!(on(&late[0]).is_some());
    // At the sandbox the started task is still first on the driver's route.
    let routes = h.sandbox.routes();
    assert_eq!(routes[&route1.driver][0], started.task_id);
    assert_eq!(routed_once(&h).len(), 4);
    h.stop().await;
}
