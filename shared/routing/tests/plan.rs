//! Plans against problems whose best answer is known, stops that no vehicle can serve, and
//! properties every plan must keep whatever the problem.

use proptest::prelude::*;
use routing::{
    plan, Budget, Load, Objective, Pickup, Problem, Stop, TravelMatrix, UnservedReason, Vehicle,
    Window,
};
use std::collections::HashMap;

const QUICK: Budget = Budget {
    seconds: 5,
    generations: Some(200),
    until_settled: false,
};

/// Locations on a line at the given positions; travel time equals distance.
fn line(positions: &[f64]) -> TravelMatrix {
    let n = positions.len();
    let mut distances = vec![0.; n * n];
    for i in 0..n {
        for j in 0..n {
            distances[i * n + j] = (positions[i] - positions[j]).abs();
        }
    }
    TravelMatrix {
        durations: distances.clone(),
        distances,
    }
}

fn stop(id: &str, location: usize) -> Stop {
    Stop {
        id: id.into(),
        location,
        service: 0.,
        windows: Vec::new(),
        demand: Load {
            pieces: 1,
            ..Load::default()
        },
        skills: Vec::new(),
        vehicles: None,
        pickup: None,
    }
}

fn van(id: &str, pieces: i32) -> Vehicle {
    Vehicle {
        id: id.into(),
        profile: 0,
        start: 0,
        end: Some(0),
        shift: Window {
            start: 0.,
            end: 1_000.,
        },
        capacity: Load {
            pieces,
            weight_g: 100_000,
            volume_cm3: 1_000_000,
        },
        skills: Vec::new(),
    }
}

#[test]
fn stops_on_both_sides_of_the_depot_are_served_in_two_sweeps_by_the_two_vans_it_takes() {
    // Depot at 0; two stops each side. One van holds two parcels: the best is one van per
    // side, 2 × 10 + 2 × 10 = 40.
    let problem = Problem {
        stops: vec![stop("w1", 1), stop("w2", 2), stop("e1", 3), stop("e2", 4)],
        vehicles: vec![van("a", 2), van("b", 2), van("c", 2)],
        matrices: vec![line(&[0., -5., -10., 5., 10.])],
    };
    let plan = plan(&problem, Objective::FewestVehicles, QUICK).unwrap();
    assert!(plan.unserved.is_empty(), "{plan:?}");
    assert_eq!(plan.routes.len(), 2);
    assert!((plan.distance - 40.).abs() < 1e-9, "{plan:?}");
    for route in &plan.routes {
        let side: Vec<char> = route
            .visits
            .iter()
            .map(|v| v.stop.chars().next().unwrap())
            .collect();
        assert!(
            side.iter().all(|c| *c == side[0]),
            "one side per van: {route:?}"
        );
    }
}

#[test]
fn a_window_sets_the_order_even_against_distance() {
    // Stop "far" must be served first (window 0–20), then "near" (window 30–100).
    let mut far = stop("far", 2);
    far.windows = vec![Window {
        start: 0.,
        end: 20.,
    }];
    let mut near = stop("near", 1);
    near.windows = vec![Window {
        start: 30.,
        end: 100.,
    }];
    let problem = Problem {
        stops: vec![near, far],
        vehicles: vec![van("a", 5)],
        matrices: vec![line(&[0., 5., 15.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    let order: Vec<&str> = plan.routes[0]
        .visits
        .iter()
        .map(|v| v.stop.as_str())
        .collect();
    assert_eq!(order, ["far", "near"]);
    let near_visit = &plan.routes[0].visits[1];
    assert!(
        near_visit.departure >= 30.,
        "waits for the window: {near_visit:?}"
    );
}

#[test]
fn stops_no_vehicle_can_serve_come_back_with_the_reason() {
    let mut heavy = stop("heavy", 1);
    heavy.demand.pieces = 50;
    let mut oversized = stop("oversized", 1);
    oversized.skills = vec!["oversized".into()];
    let mut too_late = stop("too-late", 2);
    too_late.windows = vec![Window { start: 0., end: 5. }]; // 100 away
    let problem = Problem {
        stops: vec![heavy, oversized, too_late, stop("fine", 1)],
        vehicles: vec![van("a", 10)],
        matrices: vec![line(&[0., 10., 100.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    let reasons: HashMap<&str, UnservedReason> = plan
        .unserved
        .iter()
        .map(|u| (u.stop.as_str(), u.reason))
        .collect();
    assert_eq!(
        reasons,
        HashMap::from([
            ("heavy", UnservedReason::Capacity),
            ("oversized", UnservedReason::Skill),
            ("too-late", UnservedReason::TimeWindow),
        ])
    );
    assert_eq!(plan.routes.len(), 1);
    assert_eq!(plan.routes[0].visits[0].stop, "fine");
}

#[test]
fn a_skilled_stop_goes_to_the_vehicle_with_the_skill() {
    let mut cash = stop("cod", 1);
    cash.skills = vec!["carries_cash".into()];
    let mut carrier = van("cash-van", 5);
    carrier.skills = vec!["carries_cash".into(), "oversized".into()];
    let problem = Problem {
        stops: vec![cash, stop("plain", 1)],
        vehicles: vec![van("plain-van", 5), carrier],
        matrices: vec![line(&[0., 10.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    assert!(plan.unserved.is_empty());
    let served_by: HashMap<&str, &str> = plan
        .routes
        .iter()
        .flat_map(|r| {
            r.visits
                .iter()
                .map(move |v| (v.stop.as_str(), r.vehicle.as_str()))
        })
        .collect();
    assert_eq!(served_by["cod"], "cash-van");
}

#[test]
fn a_problem_that_does_not_add_up_is_refused_before_solving() {
    let problem = Problem {
        stops: vec![stop("a", 7)],
        vehicles: vec![van("v", 1)],
        matrices: vec![line(&[0., 1.])],
    };
    let error = plan(&problem, Objective::LeastDistance, QUICK).unwrap_err();
    assert!(error.to_string().contains("outside the matrix"), "{error}");
    assert!(!error.is_transient());

    let valid = Problem {
        stops: vec![stop("a", 1)],
        vehicles: vec![van("v", 1)],
        matrices: vec![line(&[0., 1.])],
    };
    let mut nan_window = valid.clone();
    nan_window.stops[0].windows = vec![Window {
        start: f64::NAN,
        end: 5.,
    }];
    let mut twice = valid.clone();
    twice.stops.push(stop("a", 1));
    let mut no_profile = valid.clone();
    no_profile.vehicles[0].profile = 1;
    let mut ragged = valid.clone();
    ragged.matrices[0].distances.pop();
    for (problem, expected) in [
        (nan_window, "window ends before it starts"),
        (twice, "appears twice"),
        (no_profile, "no travel matrix for profile 1"),
        (ragged, "not square"),
    ] {
        let error = plan(&problem, Objective::LeastDistance, QUICK).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
}

fn fetched_at(mut stop: Stop, location: usize) -> Stop {
    stop.pickup = Some(Pickup {
        location,
        service: 0.,
    });
    stop
}

#[test]
fn a_parcel_fetched_from_a_shop_past_the_stop_is_fetched_first_then_delivered_on_the_way_back() {
    // Depot at 0, the stop at 5, its shop at 10: out to the shop, back past the stop.
    let problem = Problem {
        stops: vec![fetched_at(stop("a", 1), 2)],
        vehicles: vec![van("v1", 1)],
        matrices: vec![line(&[0., 5., 10.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    let visits: Vec<(&str, bool)> = plan.routes[0]
        .visits
        .iter()
        .map(|v| (v.stop.as_str(), v.pickup))
        .collect();
    assert_eq!(visits, [("a", true), ("a", false)]);
    assert_eq!(plan.distance, 20.);
}

#[test]
fn a_van_with_room_for_one_parcel_goes_back_to_the_shop_for_the_second() {
    // Depot 0, shop 10, stops at 12 and 14. Room for two: 0→10→10→12→14→0 = 28. Room for
    // one: 0→10→12→10→14→0 = 32, the shortest that never carries two.
    let stops = vec![fetched_at(stop("a", 2), 1), fetched_at(stop("b", 3), 1)];
    let matrices = vec![line(&[0., 10., 12., 14.])];
    for (room, best) in [(2, 28.), (1, 32.)] {
        let problem = Problem {
            stops: stops.clone(),
            vehicles: vec![van("v1", room)],
            matrices: matrices.clone(),
        };
        let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
        assert!(plan.unserved.is_empty(), "room {room}: {plan:?}");
        assert_eq!(plan.distance, best, "room {room}: {plan:?}");
    }
}

#[test]
fn a_window_the_detour_to_the_shop_makes_impossible_is_a_time_window_reason() {
    // Depot 0, stop at 5 open until 50, its shop at 100: reachable alone, not by way of the
    // shop.
    let mut late = fetched_at(stop("a", 1), 2);
    late.windows = vec![Window {
        start: 0.,
        end: 50.,
    }];
    let problem = Problem {
        stops: vec![late],
        vehicles: vec![van("v1", 5)],
        matrices: vec![line(&[0., 5., 100.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    assert_eq!(
        plan.unserved.iter().map(|u| u.reason).collect::<Vec<_>>(),
        [UnservedReason::TimeWindow]
    );
}

/// A random problem on a grid: up to 12 stops, 1–3 vehicles with capacities and skills,
/// windows that may be tight.
fn problems() -> impl Strategy<Value = Problem> {
    let stop = (
        0usize..6,
        1i32..5,
        0u32..3,
        prop::option::of((0u32..60, 10u32..80)),
        // The vehicles whose zones hold it, as a bit set over v0..v2; none: any vehicle.
        prop::option::of(0u8..8),
        // Where its parcel is fetched, if not at the depot.
        prop::option::of(0usize..6),
    );
    let vehicle = (2i32..12, 0u32..3, 60u32..200);
    (
        prop::collection::vec(stop, 1..12),
        prop::collection::vec(vehicle, 1..4),
    )
        .prop_map(|(stops, vehicles)| {
            let vehicle_count = vehicles.len();
            let points: Vec<(f64, f64)> = (0..6)
                .map(|i| ((i % 3) as f64 * 10., (i / 3) as f64 * 10.))
                .collect();
            let n = points.len();
            let mut distances = vec![0.; n * n];
            for i in 0..n {
                for j in 0..n {
                    distances[i * n + j] =
                        (points[i].0 - points[j].0).hypot(points[i].1 - points[j].1);
                }
            }
            let skill = |s: u32| match s {
                1 => vec!["oversized".to_owned()],
                2 => vec!["carries_cash".to_owned()],
                _ => Vec::new(),
            };
            Problem {
                stops: stops
                    .into_iter()
                    .enumerate()
                    .map(|(i, (location, pieces, s, window, zone, pickup))| Stop {
                        id: format!("s{i}"),
                        location,
                        service: 2.,
                        windows: window
                            .map(|(start, len)| Window {
                                start: start as f64,
                                end: (start + len) as f64,
                            })
                            .into_iter()
                            .collect(),
                        demand: Load {
                            pieces,
                            ..Load::default()
                        },
                        skills: skill(s),
                        vehicles: zone.map(|bits| {
                            (0..vehicle_count)
                                .filter(|v| bits & (1 << v) != 0)
                                .map(|v| format!("v{v}"))
                                .collect()
                        }),
                        pickup: pickup.map(|location| Pickup {
                            location,
                            service: 1.,
                        }),
                    })
                    .collect(),
                vehicles: vehicles
                    .into_iter()
                    .enumerate()
                    .map(|(i, (pieces, s, end))| Vehicle {
                        id: format!("v{i}"),
                        profile: 0,
                        start: 0,
                        end: Some(0),
                        shift: Window {
                            start: 0.,
                            end: end as f64,
                        },
                        capacity: Load {
                            pieces,
                            ..Load::default()
                        },
                        skills: skill(s),
                    })
                    .collect(),
                matrices: vec![TravelMatrix {
                    durations: distances.clone(),
                    distances,
                }],
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_plan_breaks_a_capacity_a_window_a_shift_a_skill_or_a_zone_and_none_loses_a_stop(problem in problems()) {
        let budget = Budget { seconds: 5, generations: Some(30) , until_settled: false};
        let plan = plan(&problem, Objective::LeastDistance, budget).unwrap();
        let stops: HashMap<&str, &Stop> = problem.stops.iter().map(|s| (s.id.as_str(), s)).collect();
        let vehicles: HashMap<&str, &Vehicle> = problem.vehicles.iter().map(|v| (v.id.as_str(), v)).collect();

        let mut seen: Vec<&str> = plan.unserved.iter().map(|u| u.stop.as_str()).collect();
        for route in &plan.routes {
            let vehicle = vehicles[route.vehicle.as_str()];
            // On board leaving the start: what is loaded there; then each pickup adds its
            // parcel and each delivery drops one, never above the capacity.
            let mut on_board: i32 = route
                .visits
                .iter()
                .filter(|v| !v.pickup && stops[v.stop.as_str()].pickup.is_none())
                .map(|v| stops[v.stop.as_str()].demand.pieces)
                .sum();
            prop_assert!(on_board <= vehicle.capacity.pieces, "over capacity at the start: {route:?}");
            prop_assert!(route.departure >= vehicle.shift.start - 1e-6);
            prop_assert!(route.arrival <= vehicle.shift.end + 1e-6, "after the shift: {route:?}");
            let mut fetched = Vec::new();
            for visit in &route.visits {
                let stop = stops[visit.stop.as_str()];
                prop_assert!(stop.skills.iter().all(|s| vehicle.skills.contains(s)), "skill: {visit:?}");
                prop_assert!(
                    stop.vehicles.as_ref().is_none_or(|ids| ids.contains(&vehicle.id)),
                    "outside the driver's zones: {visit:?}"
                );
                if visit.pickup {
                    prop_assert!(stop.pickup.is_some(), "a pickup for a stop without one: {visit:?}");
                    on_board += stop.demand.pieces;
                    prop_assert!(on_board <= vehicle.capacity.pieces, "over capacity: {route:?}");
                    fetched.push(visit.stop.as_str());
                    continue;
                }
                if stop.pickup.is_some() {
                    prop_assert!(fetched.contains(&visit.stop.as_str()), "delivered before it was fetched: {route:?}");
                }
                on_board -= stop.demand.pieces;
                let start = visit.departure - stop.service;
                prop_assert!(start + 1e-6 >= visit.arrival);
                prop_assert!(
                    stop.windows.is_empty()
                        || stop.windows.iter().any(|w| start + 1e-6 >= w.start && start <= w.end + 1e-6),
                    "outside its window: {visit:?} {:?}", stop.windows
                );
                seen.push(&visit.stop);
            }
            prop_assert_eq!(on_board, 0, "parcels left on board: {:?}", route);
        }
        seen.sort_unstable();
        let mut all: Vec<&str> = stops.keys().copied().collect();
        all.sort_unstable();
        prop_assert_eq!(seen, all, "every stop exactly once, served or unserved");
    }
}

#[test]
fn straight_line_travel_is_the_great_circle_distance_at_the_vehicles_speed() {
    use routing::Point;
    // Rosetta Code's haversine task: Nashville (BNA) to Los Angeles (LAX) is 2887.26 km
    // with a radius of 6372.8 km, so 2886.45 km with the mean radius used here.
    let (bna, lax) = (
        Point {
            lat: 36.12,
            lon: -86.67,
        },
        Point {
            lat: 33.94,
            lon: -118.40,
        },
    );
    let metres = bna.metres_to(&lax);
    assert!(
        (metres - 2_887_260. * 6_371.008_8 / 6_372.8).abs() < 50.,
        "{metres}"
    );
    // Half way round the earth along the equator.
    let far = Point { lat: 0., lon: 0. }.metres_to(&Point { lat: 0., lon: 180. });
    assert!((far - std::f64::consts::PI * 6_371_008.8).abs() < 1.);

    let matrix = TravelMatrix::haversine(&[bna, lax], 10., 1.3);
    assert_eq!(matrix.size(), Some(2));
    assert_eq!(matrix.distances[0], 0.);
    assert!((matrix.distances[1] - metres * 1.3).abs() < 1e-6);
    assert!((matrix.durations[1] - metres * 1.3 / 10.).abs() < 1e-6);
    assert_eq!(matrix.distances[1], matrix.distances[2], "symmetric");
}

#[test]
fn a_stop_a_vehicle_could_serve_alone_but_the_fleet_has_no_room_for_is_no_room() {
    // One van for two parcels, three stops of one parcel each.
    let problem = Problem {
        stops: vec![stop("a", 1), stop("b", 1), stop("c", 1)],
        vehicles: vec![van("only", 2)],
        matrices: vec![line(&[0., 10.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    assert_eq!(plan.routes[0].visits.len(), 2);
    assert_eq!(plan.unserved.len(), 1);
    assert_eq!(plan.unserved[0].reason, UnservedReason::NoRoom);

    let nobody = Problem {
        vehicles: Vec::new(),
        ..problem
    };
    let empty = routing::plan(&nobody, Objective::LeastDistance, QUICK).unwrap();
    assert!(empty
        .unserved
        .iter()
        .all(|u| u.reason == UnservedReason::NoRoom));
    assert_eq!(empty.unserved.len(), 3);
}

#[test]
fn the_reason_is_how_far_the_best_placed_vehicle_got() {
    // Needs `oversized` and 40 pieces: the bike lacks the skill, the van has it but holds 10.
    let mut sofa = stop("sofa", 1);
    sofa.skills = vec!["oversized".into()];
    sofa.demand.pieces = 40;
    let mut small_van = van("van", 10);
    small_van.skills = vec!["oversized".into()];
    let problem = Problem {
        stops: vec![sofa],
        vehicles: vec![van("bike", 50), small_van],
        matrices: vec![line(&[0., 10.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    assert_eq!(plan.unserved[0].reason, UnservedReason::Capacity);
}

#[test]
fn a_stop_is_served_only_by_a_vehicle_whose_zone_holds_it_and_outside_every_zone_it_is_zone() {
    // The near van's zone does not hold "far"; the far van's does. "nowhere" is in no zone.
    let mut far = stop("far", 1);
    far.vehicles = Some(vec!["far-van".into()]);
    let mut nowhere = stop("nowhere", 1);
    nowhere.vehicles = Some(Vec::new());
    let problem = Problem {
        stops: vec![far, nowhere, stop("anyone", 1)],
        vehicles: vec![van("near-van", 5), van("far-van", 5)],
        matrices: vec![line(&[0., 10.])],
    };
    let plan = plan(&problem, Objective::LeastDistance, QUICK).unwrap();
    let route_of = |stop: &str| {
        plan.routes
            .iter()
            .find(|r| r.visits.iter().any(|v| v.stop == stop))
            .map(|r| r.vehicle.as_str())
    };
    assert_eq!(route_of("far"), Some("far-van"));
    assert!(route_of("anyone").is_some());
    assert_eq!(
        plan.unserved,
        vec![routing::Unserved {
            stop: "nowhere".into(),
            reason: UnservedReason::Zone
        }]
    );

    let mut unknown = problem.clone();
    unknown.stops[0].vehicles = Some(vec!["ghost".into()]);
    let err = routing::plan(&unknown, Objective::LeastDistance, QUICK).unwrap_err();
    assert!(err.to_string().contains("no vehicle ghost"), "{err}");
}
