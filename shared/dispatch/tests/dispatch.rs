//! A dispatch run on the domain's fakes: what gets planned, what the courier is told, what
//! becomes a review item, and that duplicates, races and a crash between solving and
//! applying still give each stop to one driver once.

use std::sync::Arc;

use dispatch::{run, Ports, Ran, Request};
use domain::dispatch::{Fleet, PlanDay};
use domain::ports::ShipmentStore;
use domain::record::ShipmentRecord;
use domain::{ReviewReason, ShipmentKey, ShipmentStatus};
use fakes::sample::{shipment, task, with_task};
use fakes::{
    FakeCourier, FakeCouriers, FakeFleet, FakeIdempotency, FakePlans, FakeReviews, FakeShipments,
};
use routing::Budget;

const DAY: &str = "2026-12-07";

/// Two bikes out of one depot in Berlin-Mitte, one of them carrying cash; the van takes
/// oversized parcels and serves only the "south" zone.
fn fleet() -> Fleet {
    Fleet::from_json(
        r#"{
      "time_zone": "Europe/Berlin",
      "courier": "sandbox",
      "service_minutes": 4,
      "zones": [{"name": "south", "postal_prefixes": ["12"]}],
      "drivers": [
        {"id": "bike-west", "vehicle": "bicycle", "capacity": {"pieces": 10},
         "shift": {"start": "08:00", "end": "16:00"}, "start": {"lat": 52.520, "lon": 13.400},
         "end": {"lat": 52.520, "lon": 13.400}},
        {"id": "bike-east", "vehicle": "bicycle", "capacity": {"pieces": 10}, "skills": ["carries_cash"],
         "shift": {"start": "08:00", "end": "16:00"}, "start": {"lat": 52.520, "lon": 13.400},
         "end": {"lat": 52.520, "lon": 13.400}},
        {"id": "van-south", "vehicle": "van", "skills": ["oversized"], "zones": ["south"],
         "shift": {"start": "09:00", "end": "17:00"}, "start": {"lat": 52.470, "lon": 13.400}}
      ]
    }"#,
    )
    .unwrap()
}

struct World {
    shipments: FakeShipments,
    fleet: FakeFleet,
    plans: FakePlans,
    reviews: FakeReviews,
    idempotency: FakeIdempotency,
    courier: Arc<FakeCourier>,
    couriers: FakeCouriers,
}

impl World {
    fn new(fleet: Fleet) -> World {
        let courier = Arc::new(FakeCourier::default());
        World {
            shipments: FakeShipments::default(),
            fleet: FakeFleet::new(fleet),
            plans: FakePlans::default(),
            reviews: FakeReviews::default(),
            idempotency: FakeIdempotency::default(),
            couriers: FakeCouriers::new(courier.clone()),
            courier,
        }
    }

    fn ports(&self) -> Ports<'_> {
        Ports {
            shipments: &self.shipments,
            fleet: &self.fleet,
            plans: &self.plans,
            reviews: &self.reviews,
            idempotency: &self.idempotency,
            couriers: &self.couriers,
            geocoder: None,
            roads: None,
            reports: None,
            clarify: None,
        }
    }

    /// Adds a created shipment with task `tsk_{n}`, at the given place and postal code.
    fn add(&self, n: u32, lat: f64, lon: f64, postal: &str) -> ShipmentKey {
        self.add_with(n, lat, lon, postal, |_| {})
    }

    fn add_with(
        &self,
        n: u32,
        lat: f64,
        lon: f64,
        postal: &str,
        change: impl FnOnce(&mut ShipmentRecord),
    ) -> ShipmentKey {
        let mut s = shipment("acme", &format!("10{n:02}"));
        s.address.latitude = Some(lat);
        s.address.longitude = Some(lon);
        s.address.postal_code = Some(postal.to_owned());
        let mut record = with_task(&s, &task(n), ShipmentStatus::Created);
        change(&mut record);
        self.shipments.insert(record);
        s.key
    }
}

fn request(run_id: &str) -> Request {
    Request {
        day: Some(DAY.into()),
        requested_by: "test".into(),
        scheduled: false,
        run_id: run_id.into(),
        now_ms: 1_796_600_000_000,
        budget: Budget {
            seconds: 5,
            generations: Some(50),
            until_settled: false,
        },
    }
}

fn applied(ran: Ran) -> (domain::dispatch::DispatchPlan, bool) {
    match ran {
        Ran::Applied { plan, resumed } => (*plan, resumed),
        other => panic!("expected an applied plan, got {other:?}"),
    }
}

/// Every task on exactly one driver's route at the courier.
fn assert_each_task_once(courier: &FakeCourier, expected: usize) {
    let mut all: Vec<String> = courier.routes().into_values().flatten().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(
        before,
        all.len(),
        "a task on two routes: {:?}",
        courier.routes()
    );
    assert_eq!(all.len(), expected, "{:?}", courier.routes());
}

#[tokio::test]
async fn two_clusters_go_to_two_drivers_in_order_and_the_courier_gets_each_route_once() {
    let world = World::new(fleet());
    // West of the depot and east of it, 3 km apart; one bike holds 10 pieces.
    let west = [
        world.add(1, 52.520, 13.360, "10115"),
        world.add(2, 52.521, 13.355, "10115"),
    ];
    let east = [
        world.add(3, 52.520, 13.440, "10243"),
        world.add(4, 52.519, 13.445, "10243"),
    ];

    let (plan, resumed) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert!(!resumed);
    assert!(plan.unplanned.is_empty(), "{:?}", plan.unplanned);
    assert_eq!(plan.day, DAY);
    assert_eq!(plan.time_zone, "Europe/Berlin");
    let served: Vec<Vec<ShipmentKey>> = plan
        .routes
        .iter()
        .map(|r| r.stops.iter().map(|s| s.shipment.clone()).collect())
        .collect();
    // Fewest vehicles first: one bike does both clusters (4 pieces, an hour's ride).
    assert_eq!(served.len(), 1, "{served:?}");
    let mut all: Vec<ShipmentKey> = served.concat();
    all.sort_by_key(ToString::to_string);
    let mut expected: Vec<ShipmentKey> = west.iter().chain(&east).cloned().collect();
    expected.sort_by_key(ToString::to_string);
    assert_eq!(all, expected);
    // The two of a cluster are next to each other on the route.
    let route = &served[0];
    let cluster = |k: &ShipmentKey| west.contains(k);
    let switches = route
        .windows(2)
        .filter(|p| cluster(&p[0]) != cluster(&p[1]))
        .count();
    assert_eq!(switches, 1, "{route:?}");

    // ETAs are on the plan day, local 08:00 or later, in route order.
    let day = PlanDay::new(DAY, "Europe/Berlin").unwrap();
    let stops = &plan.routes[0].stops;
    assert!(stops[0].eta_ms >= day.ms_at(8. * 3600.));
    assert!(stops.windows(2).all(|p| p[0].leaves_ms <= p[1].eta_ms));

    assert_eq!(world.courier.calls("assign_route"), 1);
    assert_each_task_once(&world.courier, 4);
    let driver = &plan.routes[0].driver;
    assert_eq!(world.courier.routes()[driver], plan.routes[0].task_ids());
    for key in expected {
        let record = world.shipments.record(&key).unwrap();
        let mark = record.dispatch.expect("marked with its plan");
        assert_eq!((&mark.plan_id, &mark.driver), (&plan.id, driver));
    }
    // Nothing waits any more: a second run plans nothing and tells the courier nothing.
    assert_eq!(
        run(&world.ports(), &request("r2")).await.unwrap(),
        Ran::NothingToPlan {
            day: DAY.into(),
            waiting: 0
        }
    );
    assert_eq!(world.courier.calls("assign_route"), 1);
}

#[tokio::test]
async fn shipments_no_driver_can_take_become_review_items_with_the_reason() {
    let world = World::new(fleet());
    let fine = world.add(1, 52.520, 13.360, "10115");
    // Outside the depot's bikes' reach? No: bikes serve anywhere. A sofa needs the van,
    // and the van serves only postal codes 12…: a sofa in 10… has no driver.
    let sofa_north = world.add_with(2, 52.530, 13.380, "10435", |r| {
        r.shipment.parcel.weight_grams = Some(45_000);
    });
    let sofa_south = world.add_with(3, 52.470, 13.410, "12049", |r| {
        r.shipment.parcel.weight_grams = Some(45_000);
    });
    // Cash on delivery and oversized: nobody has both skills.
    let cod_sofa = world.add_with(4, 52.470, 13.410, "12049", |r| {
        r.shipment.parcel.weight_grams = Some(45_000);
        r.shipment.payment = domain::Payment::CashOnDelivery {
            amount: domain::Money::parse("20.00", "EUR".parse().unwrap()).unwrap(),
        };
    });
    let nowhere = world.add_with(5, 0., 0., "10115", |r| {
        r.shipment.address.latitude = None;
        r.shipment.address.longitude = None;
    });
    // A window before any shift starts.
    let dawn = world.add_with(6, 52.520, 13.360, "10115", |r| {
        let day = PlanDay::new(DAY, "Europe/Berlin").unwrap();
        let at = |h: f64| domain::clock::utc_from_ms(day.ms_at(h * 3600.)).unwrap();
        r.shipment.window = Some(domain::DeliveryWindow {
            start: at(5.),
            end: at(6.),
        });
    });

    let (plan, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    let reason = |key: &ShipmentKey| {
        plan.unplanned
            .iter()
            .find(|u| &u.shipment == key)
            .map(|u| u.reason.code())
    };
    assert_eq!(reason(&fine), None);
    assert_eq!(reason(&sofa_south), None, "the van takes it");
    assert_eq!(reason(&sofa_north), Some("skill"));
    assert_eq!(reason(&cod_sofa), Some("skill"));
    assert_eq!(reason(&nowhere), Some("no_location"));
    assert_eq!(reason(&dawn), Some("time_window"));
    assert_eq!(plan.unplanned.len(), 4);

    let items = world.reviews.open_items();
    assert_eq!(items.len(), 4);
    for item in &items {
        assert_eq!(item.kind, "dispatch");
        let [ReviewReason::NotPlanned {
            day,
            reason,
            detail,
        }] = &item.reasons[..]
        else {
            panic!("{item:?}");
        };
        assert_eq!(day, DAY);
        assert!(!detail.is_empty());
        let key: ShipmentKey = item.shipment_key.as_deref().unwrap().parse().unwrap();
        assert_eq!(Some(reason.as_str()), reason_of(&plan, &key));
    }
    assert!(world.shipments.record(&nowhere).unwrap().dispatch.is_none());
}

fn reason_of<'a>(plan: &'a domain::dispatch::DispatchPlan, key: &ShipmentKey) -> Option<&'a str> {
    plan.unplanned
        .iter()
        .find(|u| &u.shipment == key)
        .map(|u| u.reason.code())
}

#[tokio::test]
async fn outside_every_zone_is_zone_when_every_driver_has_zones() {
    let mut zoned = fleet();
    for driver in &mut zoned.drivers {
        driver.zones = vec!["south".into()];
    }
    let world = World::new(zoned);
    let north = world.add(1, 52.530, 13.380, "10435");
    let south = world.add(2, 52.470, 13.410, "12049");
    let (plan, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert_eq!(reason_of(&plan, &north), Some("zone"));
    assert_eq!(reason_of(&plan, &south), None);
}

#[tokio::test]
async fn a_crash_between_solving_and_applying_is_finished_by_the_next_run_with_the_same_plan() {
    let world = World::new(fleet());
    for n in 1..=6 {
        world.add(
            n,
            52.50 + f64::from(n) * 0.004,
            13.38 + f64::from(n) * 0.01,
            "10115",
        );
    }
    // The courier call fails after the plan is stored: the run ends with an error.
    world.courier.faults.inject(
        "assign_route",
        domain::PartnerError::unavailable("sandbox", "connection reset").into(),
    );
    let err = run(&world.ports(), &request("r1")).await.unwrap_err();
    assert!(domain::Classify::is_transient(&err), "{err}");
    let stored = world.plans.all();
    assert_eq!(stored.len(), 1);
    assert!(world.courier.routes().is_empty());
    assert!(world
        .shipments
        .records()
        .iter()
        .all(|r| r.dispatch.is_none()));

    // The retry (a new run id) applies the stored plan, not a new one.
    let (plan, resumed) = applied(run(&world.ports(), &request("r2")).await.unwrap());
    assert!(resumed);
    assert_eq!(plan, stored[0]);
    assert_eq!(world.plans.all().len(), 1);
    assert_each_task_once(&world.courier, 6);
    assert!(world
        .shipments
        .records()
        .iter()
        .all(|r| r.dispatch.as_ref().is_some_and(|d| d.plan_id == plan.id)));
    assert_eq!(
        run(&world.ports(), &request("r3")).await.unwrap(),
        Ran::NothingToPlan {
            day: DAY.into(),
            waiting: 0
        }
    );
}

#[tokio::test]
async fn an_answer_lost_after_the_courier_took_the_route_is_sent_again_and_changes_nothing() {
    let world = World::new(fleet());
    for n in 1..=3 {
        world.add(n, 52.52, 13.36 + f64::from(n) * 0.01, "10115");
    }
    world.courier.lose_answers.inject(
        "assign_route",
        domain::PartnerError::ambiguous("sandbox", "timed out after sending").into(),
    );
    assert!(run(&world.ports(), &request("r1")).await.is_err());
    let after_first = world.courier.routes();
    assert_each_task_once(&world.courier, 3);
    let (plan, resumed) = applied(run(&world.ports(), &request("r2")).await.unwrap());
    assert!(resumed);
    assert_eq!(world.courier.routes(), after_first);
    assert_eq!(world.courier.calls("assign_route"), 2);
    assert_eq!(plan.routes.iter().map(|r| r.stops.len()).sum::<usize>(), 3);
}

/// The plan store as a run sees it when another run gets in between its reading the day
/// and its opening a plan: the other run goes first, whole.
struct Overtaking<'a> {
    world: &'a World,
    /// The other run's courier call fails, leaving its plan open.
    other_crashes: bool,
    raced: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl domain::ports::PlanStore for Overtaking<'_> {
    async fn day(&self, day: &str) -> Result<domain::dispatch::DayPlans, domain::StorageError> {
        self.world.plans.day(day).await
    }

    async fn start(
        &self,
        plan: &domain::dispatch::DispatchPlan,
        seen_latest: Option<&str>,
    ) -> Result<domain::dispatch::PlanStart, domain::StorageError> {
        if !self.raced.swap(true, std::sync::atomic::Ordering::SeqCst) {
            if self.other_crashes {
                self.world.courier.faults.inject(
                    "assign_route",
                    domain::PartnerError::unavailable("sandbox", "down").into(),
                );
            }
            let other = run(&self.world.ports(), &request("other")).await;
            assert_eq!(other.is_err(), self.other_crashes, "{other:?}");
        }
        self.world.plans.start(plan, seen_latest).await
    }

    async fn finish(
        &self,
        plan: &domain::dispatch::DispatchPlan,
    ) -> Result<(), domain::StorageError> {
        self.world.plans.finish(plan).await
    }

    async fn plans(
        &self,
        day: &str,
    ) -> Result<Vec<domain::dispatch::DispatchPlan>, domain::StorageError> {
        self.world.plans.plans(day).await
    }
}

/// Five shipments waiting around Mitte.
fn five_waiting() -> World {
    let world = World::new(fleet());
    for n in 1..=5 {
        let n_f = f64::from(n);
        world.add(n, 52.51 + n_f * 0.003, 13.37 + n_f * 0.01, "10115");
    }
    world
}

#[tokio::test]
async fn a_run_overtaken_by_another_plans_again_and_finds_nothing_left() {
    let world = five_waiting();
    let plans = Overtaking {
        world: &world,
        other_crashes: false,
        raced: Default::default(),
    };
    let ports = Ports {
        plans: &plans,
        ..world.ports()
    };
    // Ours was solved over the same five shipments, but the other run's plan was applied
    // first: ours is dropped, and planning again finds nothing waiting.
    assert_eq!(
        run(&ports, &request("ours")).await.unwrap(),
        Ran::NothingToPlan {
            day: DAY.into(),
            waiting: 0
        }
    );
    assert_eq!(world.plans.all().len(), 1);
    assert_eq!(
        world.courier.calls("assign_route"),
        world.plans.all()[0].routes.len() as u32
    );
    assert_each_task_once(&world.courier, 5);
}

#[tokio::test]
async fn a_run_that_finds_another_runs_plan_open_applies_that_one() {
    let world = five_waiting();
    let plans = Overtaking {
        world: &world,
        other_crashes: true,
        raced: Default::default(),
    };
    let ports = Ports {
        plans: &plans,
        ..world.ports()
    };
    let (plan, resumed) = applied(run(&ports, &request("ours")).await.unwrap());
    assert!(resumed);
    assert!(plan.id.ends_with("#other"), "{}", plan.id);
    assert_eq!(world.plans.all().len(), 1);
    assert_each_task_once(&world.courier, 5);
}

#[tokio::test]
async fn a_later_run_plans_only_the_shipments_that_came_since() {
    let world = World::new(fleet());
    world.add(1, 52.52, 13.37, "10115");
    let (first, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    let late = world.add(2, 52.52, 13.43, "10243");
    let (second, resumed) = applied(run(&world.ports(), &request("r2")).await.unwrap());
    assert!(!resumed);
    assert_ne!(first.id, second.id);
    let keys: Vec<&ShipmentKey> = second.shipments().collect();
    assert_eq!(keys, [&late]);
    assert_eq!(world.plans.all().len(), 2);
    assert_each_task_once(&world.courier, 2);
}

#[tokio::test]
async fn shipments_for_another_day_or_another_courier_or_already_moving_wait() {
    let world = World::new(fleet());
    let tomorrow = world.add_with(1, 52.52, 13.37, "10115", |r| {
        let day = PlanDay::new("2026-12-08", "Europe/Berlin").unwrap();
        let at = |h: f64| domain::clock::utc_from_ms(day.ms_at(h * 3600.)).unwrap();
        r.shipment.window = Some(domain::DeliveryWindow {
            start: at(10.),
            end: at(12.),
        });
    });
    world.add_with(2, 52.52, 13.37, "10115", |r| {
        r.courier = Some(domain::CourierKind::Onfleet);
    });
    world.add_with(3, 52.52, 13.37, "10115", |r| {
        r.status = ShipmentStatus::PickedUp
    });
    assert_eq!(
        run(&world.ports(), &request("r1")).await.unwrap(),
        Ran::NothingToPlan {
            day: DAY.into(),
            waiting: 0
        }
    );
    let mut next_day = request("r2");
    next_day.day = Some("2026-12-08".into());
    let (plan, _) = applied(run(&world.ports(), &next_day).await.unwrap());
    assert_eq!(plan.shipments().collect::<Vec<_>>(), [&tomorrow]);
    let eta = plan.routes[0].stops[0].eta_ms;
    let day = PlanDay::new("2026-12-08", "Europe/Berlin").unwrap();
    assert!(
        eta >= day.ms_at(10. * 3600.) && eta <= day.ms_at(12. * 3600.),
        "within its window"
    );
}

#[tokio::test]
async fn without_a_fleet_nothing_is_planned_and_the_error_says_what_to_do() {
    let world = World::new(fleet());
    world.add(1, 52.52, 13.37, "10115");
    let empty = FakeFleet::default();
    let ports = Ports {
        fleet: &empty,
        ..world.ports()
    };
    let err = run(&ports, &request("r1")).await.unwrap_err();
    assert!(
        err.to_string().contains("courier-bridge fleet put"),
        "{err}"
    );
    assert!(!domain::Classify::is_transient(&err));
    assert_eq!(world.shipments.awaiting_dispatch().await.unwrap().len(), 1);
    assert_eq!(world.courier.calls("assign_route"), 0);
}

#[tokio::test]
async fn addresses_without_coordinates_are_geocoded_and_unplaceable_ones_ask_the_customer() {
    let world = World::new(fleet());
    let strip = |r: &mut ShipmentRecord| {
        r.shipment.address.latitude = None;
        r.shipment.address.longitude = None;
    };
    let placed = world.add_with(1, 0., 0., "10115", strip);
    let lost = world.add_with(2, 0., 0., "10115", |r| {
        strip(r);
        r.shipment.address.street = "Nirgendwo".into();
        r.shipment.address.house = None;
    });
    let vague = world.add_with(3, 0., 0., "10115", |r| {
        strip(r);
        r.shipment.address.street = "Hauptstraße".into();
        r.shipment.address.house = None;
    });
    let geocoder = fakes::FakeGeocoder::placing_at(domain::dispatch::GeoPoint {
        lat: 52.525,
        lon: 13.39,
    });
    geocoder.answer(
        "Nirgendwo",
        domain::ports::Placement::NotFound {
            message: "no place matches Nirgendwo".into(),
        },
    );
    geocoder.answer(
        "Hauptstraße",
        domain::ports::Placement::Ambiguous {
            message: "Hauptstraße matches several places".into(),
        },
    );
    let rules = fakes::FakeStoreRules::default();
    let notifiers = fakes::FakeNotifiers::default();
    let outbox = fakes::FakeOutbox::default();
    let wake = fakes::FakeQueue::default();
    let ports = Ports {
        geocoder: Some(&geocoder),
        clarify: Some(domain::notify::Composer {
            rules: &rules,
            notifiers: &notifiers,
            outbox: &outbox,
            wake: &wake,
            links: None,
        }),
        ..world.ports()
    };

    // A geocoder that is down stops the run before anything is stored or sent.
    geocoder.faults.inject(
        "geocode",
        domain::PartnerError::unavailable("amazon-location", "503"),
    );
    let err = run(&ports, &request("r0")).await.unwrap_err();
    assert!(domain::Classify::is_transient(&err), "{err}");
    assert!(world.plans.all().is_empty());

    let (plan, _) = applied(run(&ports, &request("r1")).await.unwrap());
    assert_eq!(plan.routes[0].stops.len(), 1);
    assert_eq!(plan.routes[0].stops[0].shipment, placed);
    assert_eq!(plan.routes[0].stops[0].location.lat, 52.525);
    assert_eq!(reason_of(&plan, &lost), Some("address_not_found"));
    assert_eq!(reason_of(&plan, &vague), Some("address_ambiguous"));
    let mut codes: Vec<&str> = world
        .reviews
        .open_items()
        .iter()
        .flat_map(|i| i.reasons.iter().map(ReviewReason::code))
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["address_ambiguous", "address_not_found"]);
    // As for an address the courier refuses: an item with the draft to fix and release,
    // and the customer asked to clarify, once each.
    for item in world.reviews.open_items() {
        assert!(item.reasons[0].asks_customer());
        assert_eq!(item.kind, "shipment");
        assert!(item.draft.is_some());
    }
    let asked: Vec<String> = outbox
        .entries()
        .iter()
        .filter(|e| e.template == "address_clarification")
        .map(|e| e.shipment_key.to_string())
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked.contains(&lost.to_string()) && asked.contains(&vague.to_string()));
}

#[tokio::test]
async fn a_route_the_courier_refuses_for_good_leaves_its_stops_waiting_with_the_reason() {
    let world = World::new(fleet());
    let keys: Vec<ShipmentKey> = (1..=2)
        .map(|n| world.add(n, 52.52, 13.36 + f64::from(n) * 0.01, "10115"))
        .collect();
    world.courier.faults.inject(
        "assign_route",
        domain::PartnerError::rejected("sandbox", "409", "task_in_progress").into(),
    );
    let (plan, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert_eq!(plan.routes.len(), 1);
    assert!(world.courier.routes().is_empty());
    assert!(keys
        .iter()
        .all(|k| world.shipments.record(k).unwrap().dispatch.is_none()));
    let items = world.reviews.open_items();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| matches!(
        &i.reasons[..],
        [ReviewReason::NotPlanned { reason, detail, .. }] if reason == "courier_refused" && detail.contains("task_in_progress")
    )));
    // The plan is closed; the next run plans the two again, and this time they go.
    let (again, resumed) = applied(run(&world.ports(), &request("r2")).await.unwrap());
    assert!(!resumed);
    assert_ne!(again.id, plan.id);
    assert_each_task_once(&world.courier, 2);
}

#[tokio::test]
async fn each_plan_is_a_page_with_its_routes_drawn_and_hostile_names_escaped() {
    let world = World::new(fleet());
    world.add_with(1, 52.52, 13.37, "10115", |r| {
        r.shipment.order_name = Some("<script>alert(1)</script>".into());
    });
    world.add(2, 52.53, 13.44, "10243");
    let reports = fakes::FakeReports::default();
    let ports = Ports {
        reports: Some(&reports),
        ..world.ports()
    };
    let (plan, _) = applied(run(&ports, &request("r1")).await.unwrap());
    let key = dispatch::page::key(&plan);
    assert!(
        key.starts_with("dispatch/2026-12-07/") && key.ends_with(".html"),
        "{key}"
    );
    let page = String::from_utf8(
        domain::ports::ReportShelf::get(&reports, &key)
            .await
            .unwrap()
            .expect("the page is stored"),
    )
    .unwrap();
    assert_eq!(
        page.matches("<polyline class=\"route\"").count(),
        plan.routes.len()
    );
    assert_eq!(page.matches("<circle class=\"stop\"").count(), 2);
    assert!(!page.contains("<script>"), "escaped");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        page,
        dispatch::page::render(&plan),
        "a function of the plan only"
    );
}

#[tokio::test]
async fn a_new_order_is_inserted_into_a_running_route_without_moving_the_started_stop() {
    let world = World::new(fleet());
    let first: Vec<ShipmentKey> = (1..=3)
        .map(|n| world.add(n, 52.52, 13.36 - f64::from(n) * 0.005, "10115"))
        .collect();
    let (plan1, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert_eq!(plan1.routes.len(), 1);
    let driver = plan1.routes[0].driver.clone();
    let order1 = plan1.routes[0].task_ids();

    // The driver picks up the first stop of the route; the others are still assigned.
    for (i, task) in order1.iter().enumerate() {
        let key = plan1.routes[0].stops[i].shipment.clone();
        let mut record = world.shipments.record(&key).unwrap();
        record.status = if i == 0 {
            world.courier.pick_up(task);
            ShipmentStatus::PickedUp
        } else {
            ShipmentStatus::Assigned
        };
        world.shipments.insert(record);
    }

    // At 10:00 a new order comes in east of the depot.
    let late = world.add(4, 52.52, 13.45, "10243");
    let day = PlanDay::new(DAY, "Europe/Berlin").unwrap();
    let mut later = request("r2");
    later.now_ms = day.ms_at(10. * 3600.);
    let (plan2, resumed) = applied(run(&world.ports(), &later).await.unwrap());
    assert!(!resumed);

    // The two not yet started are planned again on the same driver, with the new one.
    let started = &plan1.routes[0].stops[0].shipment;
    let route = plan2
        .routes
        .iter()
        .find(|r| r.driver == driver)
        .expect("the running route goes on");
    let on_route: Vec<&ShipmentKey> = route.stops.iter().map(|s| &s.shipment).collect();
    assert!(
        !on_route.contains(&started),
        "a started stop is never planned again"
    );
    for key in first.iter().filter(|k| *k != started) {
        assert!(on_route.contains(&key), "{key} stays with {driver}");
    }
    assert!(plan2.shipments().any(|k| *k == late));
    assert!(
        route.stops.iter().all(|s| s.eta_ms >= later.now_ms),
        "nothing before now"
    );

    // At the courier: the started task first, in place; then the new plan's order.
    let courier_route = &world.courier.routes()[&driver];
    assert_eq!(courier_route[0], order1[0]);
    assert_eq!(
        courier_route[1..1 + route.stops.len()],
        route.task_ids()[..]
    );
    assert_each_task_once(&world.courier, 4);
    for stop in &route.stops {
        let mark = world
            .shipments
            .record(&stop.shipment)
            .unwrap()
            .dispatch
            .unwrap();
        assert_eq!(
            (mark.plan_id.as_str(), mark.eta_ms),
            (plan2.id.as_str(), stop.eta_ms)
        );
    }
}

#[tokio::test]
async fn a_day_that_is_over_is_not_planned() {
    let world = World::new(fleet());
    world.add(1, 52.52, 13.37, "10115");
    let mut past = request("r1");
    past.day = Some("2026-12-05".into());
    let err = run(&world.ports(), &past).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("2026-12-05 is over in Europe/Berlin"),
        "{err}"
    );
    assert_eq!(world.courier.calls("assign_route"), 0);
}

#[tokio::test]
async fn a_fleet_on_another_courier_than_the_deployments_is_refused() {
    let mut onfleet = fleet();
    onfleet.courier = domain::CourierKind::Onfleet;
    let world = World::new(onfleet);
    world.add(1, 52.52, 13.37, "10115");
    let err = run(&world.ports(), &request("r1")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the fleet works on onfleet, but the deployment's courier is sandbox"
    );
    assert!(world.plans.all().is_empty());
}

/// Two orders west of the depot from the sample store "acme", whose pickup point (a shop)
/// the fleet has at (`lat`, `lon`).
async fn two_orders_from_a_shop_at(lat: f64, lon: f64) -> (World, [ShipmentKey; 2]) {
    let world = World::new(fleet());
    let keys = [
        world.add(1, 52.520, 13.360, "10115"),
        world.add(2, 52.521, 13.355, "10115"),
    ];
    let mut with_shop = fleet();
    with_shop.pickups.push(domain::dispatch::PickupPoint {
        store: format!("{}:{}", keys[0].channel, keys[0].store),
        name: "Laden Prenzlauer Berg".into(),
        location: domain::dispatch::GeoPoint { lat, lon },
    });
    with_shop.check().unwrap();
    domain::ports::FleetStore::put(&world.fleet, &with_shop, "test")
        .await
        .unwrap();
    (world, keys)
}

#[tokio::test]
async fn a_shop_away_from_the_depot_is_visited_before_each_of_its_deliveries() {
    // The shop is 2 km north-east of the depot the bikes leave from.
    let (world, keys) = two_orders_from_a_shop_at(52.535, 13.420).await;

    let (plan, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert!(plan.unplanned.is_empty(), "{:?}", plan.unplanned);
    for key in &keys {
        let route = plan
            .routes
            .iter()
            .find(|r| r.stops.iter().any(|s| &s.shipment == key))
            .expect("delivered");
        let delivery = route.stops.iter().find(|s| &s.shipment == key).unwrap();
        let pickup = route
            .pickups
            .iter()
            .find(|p| &p.shipment == key)
            .expect("fetched by the same driver");
        assert_eq!(pickup.place, "Laden Prenzlauer Berg");
        assert!(
            pickup.leaves_ms <= delivery.eta_ms,
            "fetched before delivered"
        );
    }
    // The driver's first visit is the shop.
    let visits = plan.routes[0].visits();
    assert!(matches!(visits[0], domain::dispatch::Visit::Pickup(_)));
    // The courier is told the deliveries only: pickups are no courier tasks.
    assert_each_task_once(&world.courier, 2);
    // The page draws and lists each pickup.
    let page = dispatch::page::render(&plan);
    assert_eq!(page.matches("<polygon class=\"pickup\"").count(), 2);
    assert_eq!(
        page.matches("<tr class=\"pickup\"><td>pick up</td>")
            .count(),
        2
    );
    assert!(page.contains("at Laden Prenzlauer Berg"));
}

#[tokio::test]
async fn a_shop_where_the_drivers_set_out_is_where_they_load_with_no_pickup_visit() {
    // 50 m from the bikes' depot; the van, which starts elsewhere, may not go to 10115.
    let (world, _) = two_orders_from_a_shop_at(52.5204, 13.4003).await;

    let (plan, _) = applied(run(&world.ports(), &request("r1")).await.unwrap());
    assert!(plan.unplanned.is_empty(), "{:?}", plan.unplanned);
    assert_eq!(plan.routes.iter().map(|r| r.stops.len()).sum::<usize>(), 2);
    assert!(plan.routes.iter().all(|r| r.pickups.is_empty()), "{plan:?}");
}

/// A road router with one answer for every leg, and places no road reaches.
struct FlatRoads {
    leg_s: f64,
    leg_m: f64,
    stranded: Vec<(f64, f64)>,
    down: bool,
    asked: std::sync::Mutex<Vec<domain::dispatch::VehicleType>>,
}

impl FlatRoads {
    fn new(leg_s: f64, leg_m: f64) -> FlatRoads {
        FlatRoads {
            leg_s,
            leg_m,
            stranded: Vec::new(),
            down: false,
            asked: std::sync::Mutex::new(Vec::new()),
        }
    }
}

#[async_trait::async_trait]
impl domain::ports::RoadRouter for FlatRoads {
    async fn matrix(
        &self,
        points: &[domain::dispatch::GeoPoint],
        vehicle: domain::dispatch::VehicleType,
        _depart_ms: i64,
    ) -> Result<domain::ports::RoadMatrix, domain::PartnerError> {
        if self.down {
            return Err(domain::PartnerError::Unavailable {
                partner: "roads",
                message: "503".into(),
            });
        }
        self.asked.lock().unwrap().push(vehicle);
        let off_road = |p: &domain::dispatch::GeoPoint| self.stranded.contains(&(p.lat, p.lon));
        let mut legs = Vec::new();
        for from in points {
            for to in points {
                legs.push(if from == to {
                    domain::ports::Leg::Road {
                        metres: 0.,
                        seconds: 0.,
                    }
                } else if off_road(from) || off_road(to) {
                    domain::ports::Leg::NoRoute
                } else {
                    domain::ports::Leg::Road {
                        metres: self.leg_m,
                        seconds: self.leg_s,
                    }
                });
            }
        }
        Ok(domain::ports::RoadMatrix { legs })
    }
}

#[tokio::test]
async fn with_a_road_router_its_times_and_distances_make_the_plan() {
    let world = World::new(fleet());
    let key = world.add(1, 52.520, 13.360, "10115");
    // Every leg 25 minutes and 7 km by road: far from the straight line's 2.7 km.
    let roads = FlatRoads::new(1_500., 7_000.);
    let ports = Ports {
        roads: Some(&roads),
        ..world.ports()
    };

    let (plan, _) = applied(run(&ports, &request("r1")).await.unwrap());
    let route = &plan.routes[0];
    assert_eq!(route.stops[0].shipment, key);
    let day = PlanDay::new(DAY, "Europe/Berlin").unwrap();
    // Out at 08:00, there 25 minutes later; out and back, 14 km.
    assert_eq!(route.stops[0].eta_ms, day.ms_at(8. * 3600. + 1_500.));
    assert_eq!(route.distance_m, 14_000);
    // Asked once per vehicle type of the fleet (bicycle, van).
    assert_eq!(roads.asked.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_stop_no_road_reaches_is_left_out_as_no_location_and_the_rest_are_planned() {
    let world = World::new(fleet());
    let reached = world.add(1, 52.520, 13.360, "10115");
    let island = world.add(2, 52.4312, 13.1790, "14109");
    let mut roads = FlatRoads::new(600., 3_000.);
    roads.stranded.push((52.4312, 13.1790));
    let ports = Ports {
        roads: Some(&roads),
        ..world.ports()
    };

    let (plan, _) = applied(run(&ports, &request("r1")).await.unwrap());
    let served: Vec<&ShipmentKey> = plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| &s.shipment))
        .collect();
    assert_eq!(served, [&reached]);
    assert_eq!(reason_of(&plan, &island), Some("no_location"));
    let items = world.reviews.open_items();
    let [item] = &items[..] else {
        panic!("one review item: {items:?}");
    };
    assert_eq!(item.shipment_key, Some(island.to_string()));
    assert!(
        matches!(&item.reasons[..], [ReviewReason::NotPlanned { reason, detail, .. }]
            if reason == "no_location" && detail.contains("no road")),
        "{:?}",
        item.reasons
    );
}

#[tokio::test]
async fn a_road_router_that_is_down_stops_the_run_before_anything_is_stored_or_sent() {
    let world = World::new(fleet());
    world.add(1, 52.520, 13.360, "10115");
    let mut roads = FlatRoads::new(600., 3_000.);
    roads.down = true;
    let ports = Ports {
        roads: Some(&roads),
        ..world.ports()
    };

    let error = run(&ports, &request("r1")).await.unwrap_err();
    assert!(
        matches!(error, dispatch::DispatchError::Roads(_)),
        "{error}"
    );
    assert_eq!(
        domain::error::Classify::transience(&error),
        domain::error::Transience::Transient
    );
    assert!(world.plans.all().is_empty());
    assert_eq!(world.courier.calls("assign_route"), 0);
}

#[tokio::test]
async fn with_a_cut_off_the_schedule_plans_the_day_once_past_it_and_a_dispatcher_any_time() {
    let mut with_cut_off = fleet();
    with_cut_off.cut_off = Some("10:30".into());
    let world = World::new(with_cut_off);
    let day = PlanDay::new(DAY, "Europe/Berlin").unwrap();
    let scheduled_at = |local_s: f64, run: &str| Request {
        day: None,
        requested_by: "schedule".into(),
        scheduled: true,
        now_ms: day.ms_at(local_s),
        ..request(run)
    };
    let morning = world.add(1, 52.520, 13.360, "10115");

    // 10:15: before the cut-off, the schedule leaves the order waiting.
    let early = run(&world.ports(), &scheduled_at(10.25 * 3600., "r1"))
        .await
        .unwrap();
    assert_eq!(
        early,
        Ran::NotDue {
            day: DAY.into(),
            cut_off: "10:30".into(),
            planned: false
        }
    );
    assert_eq!(world.courier.calls("assign_route"), 0);

    // 10:45: the first run past it plans the day.
    let (plan, _) = applied(
        run(&world.ports(), &scheduled_at(10.75 * 3600., "r2"))
            .await
            .unwrap(),
    );
    assert_eq!(plan.routes[0].stops[0].shipment, morning);

    // 11:00: a later order waits for a dispatcher; the schedule has planned the day.
    let afternoon = world.add(2, 52.521, 13.355, "10115");
    let later = run(&world.ports(), &scheduled_at(11. * 3600., "r3"))
        .await
        .unwrap();
    assert!(
        matches!(later, Ran::NotDue { planned: true, .. }),
        "{later:?}"
    );
    let asked = Request {
        now_ms: day.ms_at(11. * 3600.),
        ..request("r4")
    };
    let (plan, _) = applied(run(&world.ports(), &asked).await.unwrap());
    assert!(plan
        .routes
        .iter()
        .any(|r| r.stops.iter().any(|s| s.shipment == afternoon)));
}
