//! A realistic city day: stops scattered around a depot, three vehicle types, delivery
//! windows, oversized parcels and cash on delivery, planned once; beside it, what handing
//! the same stops to the drivers in turn (the sandbox's assignment today) would drive.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use routing::{plan, Budget, Load, Objective, Point, Problem, Stop, TravelMatrix, Vehicle, Window};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

pub struct Options {
    pub stops: usize,
    pub drivers: usize,
    pub seconds: usize,
    pub seed: u64,
}

/// A vehicle type: its travel profile and what it carries.
struct Kind {
    name: &'static str,
    speed: f64,
    capacity: Load,
    skills: &'static [&'static str],
    share: f64,
}

const KINDS: [Kind; 3] = [
    Kind {
        name: "bicycle",
        speed: 4.5,
        capacity: Load {
            weight_g: 40_000,
            volume_cm3: 120_000,
            pieces: 30,
        },
        skills: &[],
        share: 0.25,
    },
    Kind {
        name: "car",
        speed: 8.0,
        capacity: Load {
            weight_g: 400_000,
            volume_cm3: 1_200_000,
            pieces: 100,
        },
        skills: &[],
        share: 0.5,
    },
    Kind {
        name: "van",
        speed: 7.0,
        capacity: Load {
            weight_g: 1_000_000,
            volume_cm3: 6_000_000,
            pieces: 200,
        },
        skills: &["oversized"],
        share: 0.25,
    },
];

/// Roads are longer than the straight line.
const DETOUR: f64 = 1.3;
const HOUR: f64 = 3_600.;

#[derive(Debug, Serialize)]
pub struct CityDay {
    pub stops: usize,
    pub drivers: usize,
    pub seconds_budget: usize,
    pub seconds: f64,
    pub peak_rss_mib: Option<f64>,
    pub routes: usize,
    pub unserved: BTreeMap<&'static str, usize>,
    pub distance_km: f64,
    pub in_turn_distance_km: f64,
    /// Of the in-turn routes, how many carry more than their vehicle holds or a parcel it
    /// has not the skill for (windows are not even looked at).
    pub in_turn_routes_over_capacity_or_skill: usize,
}

fn problem(o: &Options) -> Problem {
    let mut rng = StdRng::seed_from_u64(o.seed);
    let depot = Point {
        lat: 52.52,
        lon: 13.405,
    };
    // Within about 12 km of the depot: degrees of latitude are 111 km, of longitude 68 km here.
    let mut points = vec![depot];
    for _ in 0..o.stops {
        let (r, a): (f64, f64) = (
            rng.gen::<f64>().sqrt() * 12_000.,
            rng.gen_range(0.0..std::f64::consts::TAU),
        );
        points.push(Point {
            lat: depot.lat + r * a.sin() / 111_000.,
            lon: depot.lon + r * a.cos() / 68_000.,
        });
    }
    let matrices = KINDS
        .iter()
        .map(|k| TravelMatrix::haversine(&points, k.speed, DETOUR))
        .collect();
    let stops = (1..=o.stops)
        .map(|i| {
            let oversized = rng.gen_bool(0.05);
            let cod = rng.gen_bool(0.3);
            let mut skills = Vec::new();
            if oversized {
                skills.push("oversized".to_owned());
            }
            if cod {
                skills.push("carries_cash".to_owned());
            }
            let windows = if rng.gen_bool(0.5) {
                let start = rng.gen_range(9..18) as f64 * HOUR;
                vec![Window {
                    start,
                    end: start + 2. * HOUR,
                }]
            } else {
                Vec::new()
            };
            Stop {
                id: format!("s{i}"),
                location: i,
                service: 120.,
                windows,
                demand: Load {
                    weight_g: if oversized {
                        40_000
                    } else {
                        rng.gen_range(500..8_000)
                    },
                    volume_cm3: if oversized {
                        400_000
                    } else {
                        rng.gen_range(1_000..20_000)
                    },
                    pieces: rng.gen_range(1..=3),
                },
                skills,
                vehicles: None,
                pickup: None,
            }
        })
        .collect();
    let mut vehicles = Vec::new();
    let mut left = o.drivers;
    for (profile, kind) in KINDS.iter().enumerate() {
        // The last type takes what the shares' rounding left.
        let count = if profile + 1 == KINDS.len() {
            left
        } else {
            ((o.drivers as f64 * kind.share).round() as usize).min(left)
        };
        left -= count;
        for n in 0..count {
            let mut skills: Vec<String> = kind.skills.iter().map(|s| (*s).to_owned()).collect();
            if n % 2 == 0 {
                skills.push("carries_cash".to_owned());
            }
            vehicles.push(Vehicle {
                id: format!("{}-{n}", kind.name),
                profile,
                start: 0,
                end: Some(0),
                shift: Window {
                    start: 8. * HOUR,
                    end: 20. * HOUR,
                },
                capacity: kind.capacity,
                skills,
            });
        }
    }
    Problem {
        stops,
        vehicles,
        matrices,
    }
}

/// Stop i to driver i mod n, each driver visiting them in the order handed out, from the
/// depot and back.
fn in_turn(problem: &Problem) -> (f64, usize) {
    let n = problem.vehicles.len();
    let size = problem.stops.len() + 1;
    let mut distance = 0.;
    let mut broken = 0;
    for (d, vehicle) in problem.vehicles.iter().enumerate() {
        let mine: Vec<&Stop> = problem.stops.iter().skip(d).step_by(n).collect();
        let matrix = &problem.matrices[vehicle.profile];
        let mut at = vehicle.start;
        for stop in &mine {
            distance += matrix.distances[at * size + stop.location];
            at = stop.location;
        }
        distance += matrix.distances[at * size + vehicle.start];
        let load: i32 = mine.iter().map(|s| s.demand.pieces).sum();
        let weight: i32 = mine.iter().map(|s| s.demand.weight_g).sum();
        let skilled = mine
            .iter()
            .all(|s| s.skills.iter().all(|k| vehicle.skills.contains(k)));
        if load > vehicle.capacity.pieces || weight > vehicle.capacity.weight_g || !skilled {
            broken += 1;
        }
    }
    (distance, broken)
}

/// The process's peak resident memory so far (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.)
}

pub fn run(o: &Options) -> Result<CityDay, String> {
    let problem = problem(o);
    let (in_turn_distance, broken) = in_turn(&problem);
    let started = Instant::now();
    let result = plan(
        &problem,
        Objective::LeastDistance,
        Budget {
            seconds: o.seconds,
            generations: None,
            until_settled: false,
        },
    )
    .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let mut unserved = BTreeMap::new();
    for u in &result.unserved {
        *unserved.entry(u.reason.code()).or_default() += 1;
    }
    Ok(CityDay {
        stops: o.stops,
        drivers: problem.vehicles.len(),
        seconds_budget: o.seconds,
        seconds,
        peak_rss_mib: peak_rss_mib(),
        routes: result.routes.len(),
        unserved,
        distance_km: result.distance / 1000.,
        in_turn_distance_km: in_turn_distance / 1000.,
        in_turn_routes_over_capacity_or_skill: broken,
    })
}
