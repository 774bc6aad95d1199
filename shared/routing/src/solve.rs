//! The translation to vrp-core and back.

use crate::{
    Budget, Load, Objective, Plan, PlanError, Problem, Route, Stop, Unserved, UnservedReason,
    Vehicle, Visit,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use vrp_core::construction::features::{
    create_minimize_tours_feature, create_skills_feature, JobSkills, JobSkillsDimension,
    VehicleSkillsDimension,
};
use vrp_core::models::common::{MultiDimLoad, TimeWindow};
use vrp_core::models::problem::{
    create_matrix_transport_cost, JobIdDimension, MatrixData, VehicleIdDimension,
};
use vrp_core::prelude::{
    CapacityFeatureBuilder, Demand, Environment, GoalContext, GoalContextBuilder, InfoLogger, Job,
    MinimizeUnassignedBuilder, MultiBuilder, ProblemBuilder, SingleBuilder, Solution, Solver,
    TransportCost, TransportFeatureBuilder, VehicleBuilder, VehicleDetailBuilder, ViolationCode,
    VrpConfigBuilder,
};
use vrp_core::rosomaxa::evolution::TelemetryMode;

// The codes our constraints report when a stop fits no vehicle.
const CAPACITY: ViolationCode = ViolationCode(1);
const TIME: ViolationCode = ViolationCode(2);
const SKILLS: ViolationCode = ViolationCode(3);

/// Plans routes for `problem` within `budget`. Every stop is in exactly one route or in
/// `unserved`.
pub fn plan(problem: &Problem, objective: Objective, budget: Budget) -> Result<Plan, PlanError> {
    let size = validate(problem)?;
    if problem.stops.is_empty() || problem.vehicles.is_empty() {
        return Ok(Plan {
            routes: Vec::new(),
            unserved: problem
                .stops
                .iter()
                .map(|stop| Unserved {
                    stop: stop.id.clone(),
                    reason: reason(problem, size, stop),
                })
                .collect(),
            distance: 0.,
        });
    }
    let transport = create_matrix_transport_cost(
        problem
            .matrices
            .iter()
            .enumerate()
            .map(|(profile, m)| {
                MatrixData::new(profile, None, m.durations.clone(), m.distances.clone())
            })
            .collect(),
    )
    .map_err(solver)?;
    let jobs = problem
        .stops
        .iter()
        .map(job)
        .collect::<Result<Vec<_>, _>>()?;
    let vehicles = problem
        .vehicles
        .iter()
        .map(|v| vehicle(v, problem.stops.iter().any(|s| s.vehicles.is_some())))
        .collect::<Result<Vec<_>, _>>()?;
    // The solver logs its progress to stdout, which is a function's log stream: silenced.
    let silent: InfoLogger = Arc::new(|_: &str| {});
    let vrp = Arc::new(
        ProblemBuilder::default()
            .with_logger(silent.clone())
            .add_jobs(jobs.into_iter())
            .add_vehicles(vehicles.into_iter())
            .with_goal(goal(objective, transport.clone())?)
            .with_transport_cost(transport)
            .build()
            .map_err(solver)?,
    );
    let quiet = Arc::new(Environment {
        logger: silent,
        ..Environment::default()
    });
    let config = VrpConfigBuilder::new(vrp.clone())
        .set_environment(quiet)
        .set_telemetry_mode(TelemetryMode::None)
        .prebuild()
        .map_err(solver)?
        .with_max_time(Some(budget.seconds))
        .with_max_generations(budget.generations)
        .with_min_cv(
            budget
                .until_settled
                .then(|| ("sample".to_owned(), 200, 0.01, true)),
            "min-cv".to_owned(),
        )
        .build()
        .map_err(solver)?;
    let solution = Solver::new(vrp, config).solve().map_err(solver)?;
    Ok(read(problem, size, &solution))
}

fn solver(e: impl std::fmt::Display) -> PlanError {
    PlanError::Solver(e.to_string())
}

fn invalid(message: String) -> Result<usize, PlanError> {
    Err(PlanError::Invalid(message))
}

/// Checks what vrp-core would otherwise panic on or silently misread; returns the number of
/// locations.
fn validate(problem: &Problem) -> Result<usize, PlanError> {
    let Some(first) = problem.matrices.first() else {
        return invalid("no travel matrix".into());
    };
    let Some(size) = first.size() else {
        return invalid("travel matrix 0 is not square".into());
    };
    for (i, matrix) in problem.matrices.iter().enumerate() {
        if matrix.size() != Some(size) {
            return invalid(format!(
                "travel matrix {i} does not cover the same {size} locations"
            ));
        }
        if matrix
            .durations
            .iter()
            .chain(&matrix.distances)
            .any(|v| !v.is_finite() || *v < 0.)
        {
            return invalid(format!(
                "travel matrix {i} has a negative or non-finite entry"
            ));
        }
    }
    let mut ids = HashSet::new();
    for stop in &problem.stops {
        if !ids.insert(stop.id.as_str()) {
            return invalid(format!("stop {} appears twice", stop.id));
        }
        if stop.location >= size {
            return invalid(format!(
                "stop {}: location {} is outside the matrix",
                stop.id, stop.location
            ));
        }
        if stop.demand.is_negative() || !in_order(0., stop.service) {
            return invalid(format!("stop {}: negative demand or service time", stop.id));
        }
        if stop.windows.iter().any(|w| !in_order(w.start, w.end)) {
            return invalid(format!("stop {}: a window ends before it starts", stop.id));
        }
        if let Some(pickup) = stop.pickup {
            if pickup.location >= size || !in_order(0., pickup.service) {
                return invalid(format!(
                    "stop {}: its pickup is outside the matrix or has a negative service time",
                    stop.id
                ));
            }
        }
    }
    let mut ids = HashSet::new();
    for v in &problem.vehicles {
        if !ids.insert(v.id.as_str()) {
            return invalid(format!("vehicle {} appears twice", v.id));
        }
        if v.profile >= problem.matrices.len() {
            return invalid(format!(
                "vehicle {}: no travel matrix for profile {}",
                v.id, v.profile
            ));
        }
        if v.start >= size || v.end.is_some_and(|end| end >= size) {
            return invalid(format!(
                "vehicle {}: start or end is outside the matrix",
                v.id
            ));
        }
        if v.capacity.is_negative() || !in_order(v.shift.start, v.shift.end) {
            return invalid(format!(
                "vehicle {}: negative capacity or a shift that ends before it starts",
                v.id
            ));
        }
    }
    for stop in &problem.stops {
        if let Some(unknown) = stop
            .vehicles
            .iter()
            .flatten()
            .find(|id| !ids.contains(id.as_str()))
        {
            return invalid(format!("stop {}: no vehicle {unknown}", stop.id));
        }
    }
    Ok(size)
}

/// `a <= b`, and false when either is NaN (which a plain `!(a > b)` would let through).
fn in_order(a: f64, b: f64) -> bool {
    matches!(
        a.partial_cmp(&b),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    )
}

fn load(load: Load) -> MultiDimLoad {
    MultiDimLoad::new(load.as_vec())
}

fn job(stop: &Stop) -> Result<Job, PlanError> {
    let invalid =
        |e: vrp_core::prelude::GenericError| PlanError::Invalid(format!("stop {}: {e}", stop.id));
    let windows = if stop.windows.is_empty() {
        vec![TimeWindow::max()]
    } else {
        stop.windows
            .iter()
            .map(|w| TimeWindow::new(w.start, w.end))
            .collect()
    };
    let none = load(Load::default());
    let skills = stop.skills.clone();
    // "Only these vehicles" is a one-of over the skill each vehicle has for its own id; "no
    // vehicle" is a skill none has (an empty one-of would mean no limit).
    let one_of = stop.vehicles.as_ref().map(|ids| match ids.as_slice() {
        [] => vec!["no-vehicle".to_owned()],
        ids => ids.iter().map(|id| own_skill(id)).collect(),
    });
    let limits = move |dimens: &mut vrp_core::models::common::Dimensions| {
        if !skills.is_empty() || one_of.is_some() {
            let all_of = (!skills.is_empty()).then_some(skills);
            dimens.set_job_skills(JobSkills::new(all_of, one_of, None));
        }
    };
    let delivery = SingleBuilder::default()
        .id(&stop.id)
        .location(stop.location)
        .and_then(|b| b.duration(stop.service))
        .and_then(|b| b.times(windows))
        .map_err(invalid)?;
    let Some(pickup) = stop.pickup else {
        // Loaded at the start: a static delivery, on board from the start.
        return delivery
            .demand(Demand {
                pickup: (none, none),
                delivery: (load(stop.demand), none),
            })
            .dimension(limits)
            .build_as_job()
            .map_err(invalid);
    };
    // Fetched on the way: a pair of sub-jobs, the pickup first (the order vrp-core keeps
    // without a permutation), whose dynamic demand is on board only between the two.
    let fetch = SingleBuilder::default()
        .id(&stop.id)
        .location(pickup.location)
        .and_then(|b| b.duration(pickup.service))
        .map_err(invalid)?
        .demand(Demand {
            pickup: (none, load(stop.demand)),
            delivery: (none, none),
        })
        .build()
        .map_err(invalid)?;
    let deliver = delivery
        .demand(Demand {
            pickup: (none, none),
            delivery: (none, load(stop.demand)),
        })
        .build()
        .map_err(invalid)?;
    MultiBuilder::default()
        .id(&stop.id)
        .add_job(fetch)
        .add_job(deliver)
        .dimension(limits)
        .build_as_job()
        .map_err(invalid)
}

/// Whether `activity` is the pickup of a pair: the first sub-job of its multi-job.
fn is_pickup(single: &Arc<vrp_core::models::problem::Single>) -> bool {
    vrp_core::models::problem::Multi::roots(single)
        .and_then(|multi| multi.jobs.first().map(|first| Arc::ptr_eq(first, single)))
        .unwrap_or(false)
}

/// The skill only vehicle `id` has: how a stop is limited to some vehicles.
fn own_skill(id: &str) -> String {
    format!("vehicle:{id}")
}

/// `restricted`: some stop may be served only by some vehicles, so each vehicle carries the
/// skill of its own id.
fn vehicle(v: &Vehicle, restricted: bool) -> Result<vrp_core::prelude::Vehicle, PlanError> {
    let mut detail = VehicleDetailBuilder::default()
        .set_start_location(v.start)
        .set_start_time(v.shift.start);
    // Without an end place the route ends at its last stop, and the shift's end bounds only
    // the windows the stops themselves have.
    if let Some(end) = v.end {
        detail = detail.set_end_location(end).set_end_time(v.shift.end);
    }
    let mut skills: HashSet<String> = v.skills.iter().cloned().collect();
    if restricted {
        skills.insert(own_skill(&v.id));
    }
    VehicleBuilder::default()
        .id(&v.id)
        .set_profile_idx(v.profile)
        .set_distance_cost(1.)
        .capacity(load(v.capacity))
        .dimension(|dimens| {
            if !skills.is_empty() {
                dimens.set_vehicle_skills(skills);
            }
        })
        .add_detail(
            detail
                .build()
                .map_err(|e| PlanError::Invalid(format!("vehicle {}: {e}", v.id)))?,
        )
        .build()
        .map_err(|e| PlanError::Invalid(format!("vehicle {}: {e}", v.id)))
}

/// Serve all that can be served first; then fewer vehicles (if asked) and less distance.
fn goal(objective: Objective, transport: Arc<dyn TransportCost>) -> Result<GoalContext, PlanError> {
    let unassigned = MinimizeUnassignedBuilder::new("min-unassigned")
        .build()
        .map_err(solver)?;
    let distance = TransportFeatureBuilder::new("min-distance")
        .set_violation_code(TIME)
        .set_transport_cost(transport)
        .set_time_constrained(true)
        .build_minimize_distance()
        .map_err(solver)?;
    let capacity = CapacityFeatureBuilder::<MultiDimLoad>::new("capacity")
        .set_violation_code(CAPACITY)
        .build()
        .map_err(solver)?;
    let skills = create_skills_feature("skills", SKILLS).map_err(solver)?;
    let features = match objective {
        Objective::FewestVehicles => {
            let tours = create_minimize_tours_feature("min-tours").map_err(solver)?;
            vec![unassigned, tours, distance, capacity, skills]
        }
        Objective::LeastDistance => vec![unassigned, distance, capacity, skills],
    };
    GoalContextBuilder::with_features(&features)
        .and_then(GoalContextBuilder::build)
        .map_err(solver)
}

fn read(problem: &Problem, size: usize, solution: &Solution) -> Plan {
    let profiles: HashMap<&str, usize> = problem
        .vehicles
        .iter()
        .map(|v| (v.id.as_str(), v.profile))
        .collect();
    let routes: Vec<Route> = solution
        .routes
        .iter()
        .map(|route| {
            let vehicle = route
                .actor
                .vehicle
                .dimens
                .get_vehicle_id()
                .cloned()
                .unwrap_or_default();
            let matrix = &problem.matrices[profiles.get(vehicle.as_str()).copied().unwrap_or(0)];
            let activities: Vec<_> = route.tour.all_activities().collect();
            let distance = activities
                .windows(2)
                .map(|pair| matrix.distance(size, pair[0].place.location, pair[1].place.location))
                .sum();
            Route {
                visits: activities
                    .iter()
                    .filter_map(|activity| {
                        let single = activity.job.as_ref()?;
                        let stop = single.dimens.get_job_id()?.clone();
                        Some(Visit {
                            stop,
                            pickup: is_pickup(single),
                            arrival: activity.schedule.arrival,
                            departure: activity.schedule.departure,
                        })
                    })
                    .collect(),
                distance,
                departure: activities.first().map_or(0., |a| a.schedule.departure),
                arrival: activities.last().map_or(0., |a| a.schedule.arrival),
                vehicle,
            }
        })
        .filter(|route: &Route| !route.visits.is_empty())
        .collect();
    let stops: HashMap<&str, &Stop> = problem.stops.iter().map(|s| (s.id.as_str(), s)).collect();
    let unserved = solution
        .unassigned
        .iter()
        .filter_map(|(job, _)| {
            let id = job.dimens().get_job_id()?;
            let stop = stops.get(id.as_str())?;
            Some(Unserved {
                stop: id.clone(),
                reason: reason(problem, size, stop),
            })
        })
        .collect();
    Plan {
        distance: routes.iter().map(|r| r.distance).sum(),
        routes,
        unserved,
    }
}

/// Why `stop` is not served, decided from the problem itself rather than from the solver's
/// last failed insertion (which names whatever stopped it on the routes it tried, even when
/// vehicles stay home): checked against each vehicle driving to it alone, in the order
/// skills, capacity, time; the reason is the furthest any vehicle got. If one passes all
/// three, the stop was left out for want of room in this plan.
fn reason(problem: &Problem, size: usize, stop: &Stop) -> UnservedReason {
    let mut furthest = None;
    let allowed = |v: &&Vehicle| stop.vehicles.as_ref().is_none_or(|ids| ids.contains(&v.id));
    for v in problem.vehicles.iter().filter(allowed) {
        let reason = if !stop.skills.iter().all(|s| v.skills.contains(s)) {
            UnservedReason::Skill
        } else if !fits(stop.demand, v.capacity) {
            UnservedReason::Capacity
        } else if !reachable(problem, size, stop, v) {
            UnservedReason::TimeWindow
        } else {
            return UnservedReason::NoRoom;
        };
        furthest = furthest.max(Some(reason));
    }
    match furthest {
        Some(reason) => reason,
        // No vehicle may go there: a zone shut them all out (or there are none at all).
        None if stop.vehicles.is_some() && !problem.vehicles.is_empty() => UnservedReason::Zone,
        None => UnservedReason::NoRoom,
    }
}

fn fits(demand: Load, capacity: Load) -> bool {
    demand.weight_g <= capacity.weight_g
        && demand.volume_cm3 <= capacity.volume_cm3
        && demand.pieces <= capacity.pieces
}

/// Whether `v` can leave at its shift's start, fetch the parcel if it has a pickup, serve
/// `stop` within one of its windows and be back at its end place (if it has one) by the
/// shift's end.
fn reachable(problem: &Problem, size: usize, stop: &Stop, v: &Vehicle) -> bool {
    let matrix = &problem.matrices[v.profile];
    let travel = |from: usize, to: usize| matrix.durations[from * size + to];
    let arrival = match stop.pickup {
        None => v.shift.start + travel(v.start, stop.location),
        Some(pickup) => {
            v.shift.start
                + travel(v.start, pickup.location)
                + pickup.service
                + travel(pickup.location, stop.location)
        }
    };
    let any_time = [crate::Window {
        start: f64::NEG_INFINITY,
        end: f64::INFINITY,
    }];
    let windows = if stop.windows.is_empty() {
        &any_time[..]
    } else {
        &stop.windows[..]
    };
    windows.iter().any(|w| {
        let start = arrival.max(w.start);
        let back = start + stop.service + v.end.map_or(0., |end| travel(stop.location, end));
        start <= w.end && (v.end.is_none() || back <= v.shift.end)
    })
}
