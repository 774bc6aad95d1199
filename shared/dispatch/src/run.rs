//! One dispatch run: plan the day's waiting shipments, or finish applying the plan an
//! earlier run left open; give each driver their route at the courier once; make every
//! shipment left out a review item.

use std::time::Duration;

use domain::courier::CourierError;
use domain::dispatch::{
    DispatchPlan, Fleet, FleetErrors, LocalTimeError, PlanDay, PlanStart, UnplannedReason,
};
use domain::error::{Classify, Transience};
use domain::idempotency::{run_once, Outcome, ProtocolError};
use domain::ports::{
    Courier, Couriers, FleetStore, Geocoder, IdempotencyStore, PlanStore, ReportShelf, ReviewInbox,
    RoadRouter, ShipmentStore,
};
use domain::record::Dispatched;
use domain::{ReviewItem, ReviewReason, StorageError};
use routing::{Budget, Objective};

use crate::problem::{self, Candidate, Made, Running};
use domain::ShipmentKey;
use domain::ShipmentStatus;
use std::collections::{HashMap, HashSet};

/// The ports a run uses.
pub struct Ports<'a> {
    pub shipments: &'a dyn ShipmentStore,
    pub fleet: &'a dyn FleetStore,
    pub plans: &'a dyn PlanStore,
    pub reviews: &'a dyn ReviewInbox,
    pub idempotency: &'a dyn IdempotencyStore,
    pub couriers: &'a dyn Couriers,
    /// Places addresses that came without coordinates; `None`: they wait as `no_location`.
    pub geocoder: Option<&'a dyn Geocoder>,
    /// Travel times by road; `None`: estimated from the straight line.
    pub roads: Option<&'a dyn RoadRouter>,
    /// Where each plan's page goes (the reports bucket); `None`: no page.
    pub reports: Option<&'a dyn ReportShelf>,
    /// Asks the customer to clarify an address the geocoder cannot place (as create-task
    /// does for one the courier cannot); `None`: only the review item.
    pub clarify: Option<domain::notify::Composer<'a>>,
}

/// What to plan.
#[derive(Debug, Clone)]
pub struct Request {
    /// The local day, YYYY-MM-DD; `None`: today in the fleet's time zone.
    pub day: Option<String>,
    /// "schedule", or the dispatcher who asked.
    pub requested_by: String,
    /// A run of the schedule (every quarter hour): with a cut-off in the fleet, it plans
    /// the day once, at the first run past the cut-off; without one, every run plans what
    /// waits. A dispatcher's run always plans.
    pub scheduled: bool,
    /// Unique per run (the Lambda request id): part of the plan's id.
    pub run_id: String,
    pub now_ms: i64,
    pub budget: Budget,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Ran {
    /// No driver can be given anything on that day: nothing waits, or what waits no driver
    /// can take (`waiting`, each with its review item refreshed).
    NothingToPlan { day: String, waiting: usize },
    /// The plan is at the courier. `resumed`: it was an earlier run's open plan.
    Applied {
        plan: Box<DispatchPlan>,
        resumed: bool,
    },
    /// A scheduled run before the fleet's cut-off, or after the day's plan at the cut-off
    /// was made (`planned`): nothing to do until then, or until a dispatcher asks.
    NotDue {
        day: String,
        cut_off: String,
        planned: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("no fleet is configured: `courier-bridge fleet put FILE` first")]
    NoFleet,
    #[error(transparent)]
    Fleet(#[from] FleetErrors),
    #[error(transparent)]
    Day(#[from] LocalTimeError),
    #[error("the fleet works on {fleet}, but the deployment's courier is {courier}")]
    CourierMismatch { fleet: String, courier: String },
    #[error(transparent)]
    Plan(#[from] routing::PlanError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("driver {driver}'s route: {source}")]
    Courier {
        driver: String,
        #[source]
        source: CourierError,
    },
    #[error("idempotency record for driver {driver}'s route: {problem}")]
    Corrupt { driver: String, problem: String },
    #[error("another run is applying driver {driver}'s route; try again in {retry_in:?}")]
    Busy { driver: String, retry_in: Duration },
    #[error("other runs kept planning {day} at the same time; the next run plans it")]
    Contended { day: String },
    #[error("geocoding: {0}")]
    Geocoder(#[source] domain::PartnerError),
    #[error("road travel times: {0}")]
    Roads(#[source] domain::PartnerError),
    #[error("{day} is over in {time_zone}: only today and later days can be planned")]
    DayOver { day: String, time_zone: String },
}

impl Classify for DispatchError {
    fn transience(&self) -> Transience {
        match self {
            DispatchError::Storage(e) => e.transience(),
            DispatchError::Courier { source, .. } => source.transience(),
            DispatchError::Busy { .. } | DispatchError::Contended { .. } => Transience::Transient,
            DispatchError::Geocoder(e) | DispatchError::Roads(e) => e.transience(),
            DispatchError::NoFleet
            | DispatchError::Fleet(_)
            | DispatchError::Day(_)
            | DispatchError::CourierMismatch { .. }
            | DispatchError::Plan(_)
            | DispatchError::Corrupt { .. }
            | DispatchError::DayOver { .. } => Transience::Permanent,
        }
    }
}

/// A route's idempotency lease: long enough for one courier call with its retries.
const ROUTE_LEASE: Duration = Duration::from_secs(60);

/// Plans `request`'s day, or resumes its open plan, and applies it.
pub async fn run(ports: &Ports<'_>, request: &Request) -> Result<Ran, DispatchError> {
    let fleet = ports.fleet.get().await?.ok_or(DispatchError::NoFleet)?;
    fleet.check()?;
    let day = match &request.day {
        Some(day) => PlanDay::new(day, &fleet.time_zone)?,
        None => PlanDay::containing(request.now_ms, &fleet.time_zone)?,
    };
    if request.now_ms >= day.ms_at(day.length_s()? as f64) {
        return Err(DispatchError::DayOver {
            day: day.day(),
            time_zone: fleet.time_zone.clone(),
        });
    }
    // The drivers are the deployment courier's: a fleet on another platform is a mistake.
    let courier = ports
        .couriers
        .courier()
        .await
        .map_err(|source| DispatchError::Courier {
            driver: String::new(),
            source,
        })?;
    if courier.kind() != fleet.courier {
        return Err(DispatchError::CourierMismatch {
            fleet: fleet.courier.to_string(),
            courier: courier.kind().to_string(),
        });
    }
    // Overtaken three times in a row means runs keep racing: the next scheduled run plans.
    for _ in 0..3 {
        let state = ports.plans.day(&day.day()).await?;
        if let Some(open) = state.open {
            tracing::info!(plan = %open.id, "applying the day's open plan");
            apply(ports, courier.as_ref(), &open).await?;
            return Ok(Ran::Applied {
                plan: Box::new(open),
                resumed: true,
            });
        }
        if let Some(not_due) = not_due(request, &fleet, &day, state.latest.as_deref())? {
            return Ok(not_due);
        }
        let Some((mut plan, new)) = make_plan(ports, request, &fleet, &day).await? else {
            return Ok(Ran::NothingToPlan {
                day: day.day(),
                waiting: 0,
            });
        };
        if !plan
            .routes
            .iter()
            .flat_map(|r| &r.stops)
            .any(|s| new.contains(&s.shipment))
        {
            // No waiting shipment found a driver: nothing for the courier, no plan to keep,
            // only the reasons to refresh (the running routes stay as they are).
            plan.unplanned.retain(|u| new.contains(&u.shipment));
            open_reviews(ports, &plan).await?;
            return Ok(Ran::NothingToPlan {
                day: day.day(),
                waiting: plan.unplanned.len(),
            });
        }
        let (plan, resumed) = match ports.plans.start(&plan, state.latest.as_deref()).await? {
            PlanStart::Started => (plan, false),
            // Another run planned first: its plan stands, ours is dropped unapplied.
            PlanStart::AlreadyOpen(theirs) => (*theirs, true),
            PlanStart::Overtaken => continue,
        };
        apply(ports, courier.as_ref(), &plan).await?;
        return Ok(Ran::Applied {
            plan: Box::new(plan),
            resumed,
        });
    }
    Err(DispatchError::Contended { day: day.day() })
}

/// Whether a scheduled run has nothing to do yet: the fleet has a cut-off, and it has not
/// passed, or a plan was made since it passed (by this schedule or a dispatcher). Checked
/// after an open plan is finished, so a crash is repaired whatever the hour.
fn not_due(
    request: &Request,
    fleet: &Fleet,
    day: &PlanDay,
    latest: Option<&str>,
) -> Result<Option<Ran>, DispatchError> {
    let (true, Some(cut_off)) = (request.scheduled, &fleet.cut_off) else {
        return Ok(None);
    };
    let at = day.ms_at(day.seconds_at(cut_off)? as f64);
    // A plan's id begins with when it was made.
    let made_since = latest
        .and_then(|id| id.split('#').next())
        .and_then(domain::clock::parse_time)
        .is_some_and(|made| domain::clock::ms_of(made) >= at);
    Ok((request.now_ms < at || made_since).then(|| Ran::NotDue {
        day: day.day(),
        cut_off: cut_off.clone(),
        planned: made_since,
    }))
}

/// The day's plan for the shipments waiting now, inserted into the routes running, with the
/// keys of the waiting ones; `None` when none waits.
async fn make_plan(
    ports: &Ports<'_>,
    request: &Request,
    fleet: &Fleet,
    day: &PlanDay,
) -> Result<Option<(DispatchPlan, HashSet<ShipmentKey>)>, DispatchError> {
    let length = day.length_s()?;
    let mut candidates: Vec<Candidate> = ports
        .shipments
        .awaiting_dispatch()
        .await?
        .into_iter()
        .filter(|r| r.courier == Some(fleet.courier) && r.task.is_some())
        .filter(|r| problem::is_for_day(r, day, length))
        .map(Candidate::from_record)
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let new: HashSet<ShipmentKey> = candidates
        .iter()
        .map(|c| c.record.shipment.key.clone())
        .collect();
    let mut running = running_routes(ports, fleet, day, request.now_ms).await?;
    if let Some(geocoder) = ports.geocoder {
        let pending = running.pending.iter_mut().map(|(c, _)| c);
        for candidate in candidates
            .iter_mut()
            .chain(pending)
            .filter(|c| c.location.is_none())
        {
            candidate.placement = Some(
                geocoder
                    .geocode(&candidate.record.shipment.address)
                    .await
                    .map_err(DispatchError::Geocoder)?,
            );
        }
    }
    let mut stated =
        problem::state(fleet, day, candidates, running).map_err(routing::PlanError::Invalid)?;
    if let Some(roads) = ports.roads {
        stated = by_road(roads, stated, day, request.now_ms).await?;
    }
    let solved = routing::plan(&stated.problem, Objective::FewestVehicles, request.budget)?;
    let created_at = domain::clock::rfc3339_from_ms(request.now_ms);
    let plan = stated.read(
        fleet,
        day,
        &solved,
        Made {
            id: format!("{created_at}#{}", request.run_id),
            created_at,
            requested_by: &request.requested_by,
            budget_s: request.budget.seconds as u64,
        },
    );
    Ok(Some((plan, new)))
}

/// The problem with road travel times, asked for each vehicle type leaving at the earliest
/// shift's start, or now if that has passed (a router may refuse a time in the past).
async fn by_road(
    roads: &dyn RoadRouter,
    stated: problem::Stated,
    day: &PlanDay,
    now_ms: i64,
) -> Result<problem::Stated, DispatchError> {
    if stated.problem.stops.is_empty() {
        return Ok(stated);
    }
    let leaves = stated
        .problem
        .vehicles
        .iter()
        .map(|v| v.shift.start)
        .fold(f64::INFINITY, f64::min);
    let depart_ms = day
        .ms_at(if leaves.is_finite() { leaves } else { 0. })
        .max(now_ms);
    let mut matrices = Vec::with_capacity(stated.profiles.len());
    for vehicle in &stated.profiles {
        matrices.push(
            roads
                .matrix(stated.points(), *vehicle, depart_ms)
                .await
                .map_err(DispatchError::Roads)?,
        );
    }
    Ok(stated
        .with_roads(matrices)
        .map_err(routing::PlanError::Invalid)?)
}

/// What earlier plans of the day left running: each driver's stops not started yet (planned
/// again, kept with their driver) and where a driver with started stops is now.
async fn running_routes(
    ports: &Ports<'_>,
    fleet: &Fleet,
    day: &PlanDay,
    now_ms: i64,
) -> Result<Running, DispatchError> {
    let mut running = Running {
        // A plan for today starts from now; one for another day from the shifts.
        not_before: day.seconds_from_origin(now_ms).max(0) as f64,
        ..Running::default()
    };
    let mut last_started: HashMap<String, i64> = HashMap::new();
    for record in ports.shipments.dispatched_on(&day.day()).await? {
        let Some(mark) = record.dispatch.clone() else {
            continue;
        };
        if record.courier != Some(fleet.courier) {
            continue;
        }
        if record.status == ShipmentStatus::Assigned {
            running
                .pending
                .push((Candidate::from_record(record), mark.driver));
        } else if let Some(location) = Candidate::from_record(record).location {
            // The latest started stop (by its planned time) is where the driver is now.
            if last_started
                .get(&mark.driver)
                .is_none_or(|eta| *eta < mark.eta_ms)
            {
                last_started.insert(mark.driver.clone(), mark.eta_ms);
                running.at.insert(mark.driver, location);
            }
        }
    }
    Ok(running)
}

/// Each route to the courier once per (plan, driver); each stop marked with its plan; each
/// shipment left out a review item; then the plan is closed. Safe to run again from any
/// point: every step is idempotent.
async fn apply(
    ports: &Ports<'_>,
    courier: &dyn Courier,
    plan: &DispatchPlan,
) -> Result<(), DispatchError> {
    for route in &plan.routes {
        let key = format!("dispatch:{}:{}", plan.id, route.driver);
        let tasks = route.task_ids();
        // The courier's route call is itself idempotent (the same list again changes
        // nothing), so an attempt that may have reached it simply sends it again.
        let outcome = run_once(
            ports.idempotency,
            &key,
            ROUTE_LEASE,
            || async { Ok::<Option<usize>, CourierError>(None) },
            || async {
                courier
                    .assign_route(&route.driver, &plan.id, &tasks)
                    .await
                    .map(|()| tasks.len())
            },
        )
        .await;
        match outcome {
            Ok(Outcome::Done { .. }) => {}
            Ok(Outcome::Busy { retry_in }) => {
                return Err(DispatchError::Busy {
                    driver: route.driver.clone(),
                    retry_in,
                })
            }
            Err(ProtocolError::Store(e)) => return Err(e.into()),
            // Refused for good (a task cancelled or started meanwhile, a driver the courier
            // does not know): the route's shipments stay waiting, each with a review item
            // saying why, and the other routes go ahead. A later run plans them again.
            Err(ProtocolError::Effect(source)) if !source.is_transient() => {
                tracing::warn!(driver = %route.driver, error = %source, "the courier refused a route");
                route_refused(ports, plan, route, &source).await?;
                continue;
            }
            Err(ProtocolError::Effect(source)) => {
                return Err(DispatchError::Courier {
                    driver: route.driver.clone(),
                    source,
                })
            }
            Err(ProtocolError::Corrupt { problem, .. }) => {
                return Err(DispatchError::Corrupt {
                    driver: route.driver.clone(),
                    problem,
                })
            }
        }
        for stop in &route.stops {
            let marked = ports
                .shipments
                .record_dispatched(
                    &stop.shipment,
                    &stop.task_id,
                    &Dispatched {
                        plan_id: plan.id.clone(),
                        day: plan.day.clone(),
                        driver: route.driver.clone(),
                        eta_ms: stop.eta_ms,
                        time_zone: plan.time_zone.clone(),
                    },
                )
                .await?;
            if !marked {
                // Cancelled or re-created since planning: the courier has the route; the
                // shipment's own state says what became of it.
                tracing::warn!(shipment = %stop.shipment, plan = %plan.id, "stop not marked with its plan");
            }
        }
    }
    open_reviews(ports, plan).await?;
    if let Some(reports) = ports.reports {
        let page = crate::page::render(plan);
        reports
            .put(
                &crate::page::key(plan),
                page.into_bytes(),
                "text/html; charset=utf-8",
            )
            .await?;
    }
    ports.plans.finish(plan).await?;
    Ok(())
}

/// A review item per stop of a route the courier refused.
async fn route_refused(
    ports: &Ports<'_>,
    plan: &DispatchPlan,
    route: &domain::dispatch::DriverRoute,
    refusal: &CourierError,
) -> Result<(), DispatchError> {
    for stop in &route.stops {
        let reason = ReviewReason::NotPlanned {
            day: plan.day.clone(),
            reason: "courier_refused".into(),
            detail: format!(
                "the courier refused driver {}'s route of plan {}: {refusal}",
                route.driver, plan.id
            ),
        };
        open_review(ports, &stop.shipment, reason).await?;
    }
    Ok(())
}

async fn open_review(
    ports: &Ports<'_>,
    shipment: &domain::ShipmentKey,
    reason: ReviewReason,
) -> Result<(), DispatchError> {
    let mut item = ReviewItem::new(&format!("dispatch:{shipment}"), "dispatch", vec![reason]);
    item.order_key = Some(shipment.order_key());
    item.shipment_key = Some(shipment.to_string());
    ports.reviews.open(&item).await?;
    Ok(())
}

/// A review item per shipment the plan leaves out; a repeat counts one more occurrence.
async fn open_reviews(ports: &Ports<'_>, plan: &DispatchPlan) -> Result<(), DispatchError> {
    for left in &plan.unplanned {
        if let (Some(composer), true) = (ports.clarify, left.reason.asks_customer()) {
            let reason = if left.reason == UnplannedReason::AddressAmbiguous {
                ReviewReason::AddressAmbiguous {
                    message: left.detail.clone(),
                }
            } else {
                ReviewReason::AddressNotFound {
                    message: left.detail.clone(),
                }
            };
            // The shipment as stored now (the plan's copy of it is only its key).
            match ports.shipments.get(&left.shipment).await? {
                Some(record) => {
                    domain::pipeline::ask_to_clarify(ports.reviews, composer, &record, reason)
                        .await?
                }
                None => open_review(ports, &left.shipment, reason).await?,
            }
            continue;
        }
        let reason = match left.reason {
            UnplannedReason::AddressNotFound => ReviewReason::AddressNotFound {
                message: left.detail.clone(),
            },
            UnplannedReason::AddressAmbiguous => ReviewReason::AddressAmbiguous {
                message: left.detail.clone(),
            },
            _ => ReviewReason::NotPlanned {
                day: plan.day.clone(),
                reason: left.reason.code().to_owned(),
                detail: left.detail.clone(),
            },
        };
        open_review(ports, &left.shipment, reason).await?;
    }
    Ok(())
}
