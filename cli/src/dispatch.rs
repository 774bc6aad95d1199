//! `courier-bridge fleet` and `courier-bridge dispatch`: the fleet document (checked before
//! it is stored: every mistake named at once), planning a day on demand (the same run the
//! scheduled function makes), and a day's plans as a table per driver.

use crate::error::CliError;
use aws::stack::StackStores;
use domain::dispatch::{local_clock, DispatchPlan, Fleet, Visit};
use domain::ports::{Couriers, FleetStore, PlanStore};
use std::fmt::Write as _;

fn dispatch_table(stores: &StackStores) -> Result<&aws::dynamo::DynamoDispatch, CliError> {
    stores.dispatch.as_ref().ok_or_else(|| {
        CliError::Refused(
            "this stack has no dispatch table: deploy this version of template.yaml first".into(),
        )
    })
}

/// Reads and checks a fleet document; `what` names it in errors.
pub fn parse_fleet(text: &str, what: &str) -> Result<Fleet, CliError> {
    Fleet::from_json(text).map_err(|e| CliError::Input {
        what: what.to_owned(),
        error: e.to_string(),
    })
}

/// Checks the fleet and stores it, replacing the current one.
pub async fn put_fleet(stores: &StackStores, fleet: &Fleet, by: &str) -> Result<String, CliError> {
    fleet.check().map_err(|e| CliError::Input {
        what: "fleet".into(),
        error: e.to_string(),
    })?;
    dispatch_table(stores)?.put(fleet, by).await?;
    Ok(format!(
        "fleet stored: {} drivers, {} zones, {} pickup points ({})",
        fleet.drivers.len(),
        fleet.zones.len(),
        fleet.pickups.len(),
        fleet.time_zone
    ))
}

pub async fn show_fleet(stores: &StackStores) -> Result<String, CliError> {
    match dispatch_table(stores)?.get().await? {
        Some(fleet) => serde_json::to_string_pretty(&fleet).map_err(|e| CliError::Input {
            what: "fleet".into(),
            error: e.to_string(),
        }),
        None => Err(CliError::Refused(
            "no fleet is stored: `courier-bridge fleet put --file FLEET.json`".into(),
        )),
    }
}

/// The deployment's Amazon Location services, as the function has them.
pub struct Geo<'a> {
    pub geocoder: Option<&'a dyn domain::ports::Geocoder>,
    pub roads: Option<&'a dyn domain::ports::RoadRouter>,
}

/// Plans `day` now, as the scheduled run does, and applies the plan at the courier.
pub async fn plan(
    stores: &StackStores,
    couriers: &dyn Couriers,
    geo: Geo<'_>,
    day: &str,
    by: &str,
    budget_seconds: u64,
) -> Result<dispatch::Ran, CliError> {
    let table = dispatch_table(stores)?;
    let ports = dispatch::Ports {
        shipments: &stores.shipments,
        fleet: table,
        plans: table,
        reviews: &stores.reviews,
        idempotency: &stores.idempotency,
        couriers,
        geocoder: geo.geocoder,
        roads: geo.roads,
        reports: Some(&stores.reports),
        // The CLI sends no customer messages: an address the geocoder cannot place is a
        // review item here; the scheduled function also asks the customer.
        clarify: None,
    };
    let request = dispatch::Request {
        day: Some(day.to_owned()),
        requested_by: by.to_owned(),
        // A dispatcher's run plans whatever the hour.
        scheduled: false,
        // Unique per run, as Lambda's request ids are (the plan's id is made from it).
        run_id: format!(
            "cli-{}-{:08x}",
            domain::clock::now_ms(),
            rand::random::<u32>()
        ),
        now_ms: domain::clock::now_ms(),
        budget: routing::Budget {
            seconds: budget_seconds as usize,
            generations: None,
            until_settled: true,
        },
    };
    dispatch::run(&ports, &request)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))
}

pub fn render_ran(ran: &dispatch::Ran) -> String {
    match ran {
        dispatch::Ran::NothingToPlan { day, waiting: 0 } => {
            format!("{day}: no shipment waits for a driver")
        }
        dispatch::Ran::NothingToPlan { day, waiting } => format!(
            "{day}: {waiting} shipments wait, and no driver can take them (see `review list`)"
        ),
        // Only a scheduled run is ever not due.
        dispatch::Ran::NotDue { day, cut_off, .. } => {
            format!("{day}: the fleet's cut-off is {cut_off}")
        }
        dispatch::Ran::Applied { plan, resumed } => {
            let mut text = String::new();
            if *resumed {
                text.push_str("an earlier run's plan was open; it is applied now\n");
            }
            text.push_str(&render_plan(plan));
            text
        }
    }
}

/// The day's plans, oldest first.
pub async fn plans(stores: &StackStores, day: &str) -> Result<Vec<DispatchPlan>, CliError> {
    domain::dispatch::PlanDay::new(day, "UTC").map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(dispatch_table(stores)?.plans(day).await?)
}

/// The page of the day's plan `id` (its latest without one).
pub async fn page(stores: &StackStores, day: &str, id: Option<&str>) -> Result<Vec<u8>, CliError> {
    let plans = plans(stores, day).await?;
    let plan = match id {
        Some(id) => plans.iter().find(|p| p.id == id),
        None => plans.last(),
    }
    .ok_or_else(|| CliError::Refused(format!("no such plan for {day}")))?;
    let key = ::dispatch::page::key(plan);
    domain::ports::ReportShelf::get(&stores.reports, &key)
        .await?
        .ok_or_else(|| CliError::Refused(format!("the plan's page {key} is not there")))
}

/// A plan as a dispatcher reads it: a table per driver, then what was left out.
pub fn render_plan(plan: &DispatchPlan) -> String {
    let zone = plan.time_zone.as_str();
    let stops: usize = plan.routes.iter().map(|r| r.stops.len()).sum();
    let mut text = format!(
        "plan {} for {} ({zone}), by {}: {} routes, {stops} stops, {:.1} km, {} not planned\n",
        plan.id,
        plan.day,
        plan.requested_by,
        plan.routes.len(),
        plan.distance_m as f64 / 1000.,
        plan.unplanned.len()
    );
    let _ = writeln!(
        text,
        "page: {} in the reports bucket (`courier-bridge dispatch page --day {}`)",
        ::dispatch::page::key(plan),
        plan.day
    );
    for route in &plan.routes {
        let _ = writeln!(
            text,
            "\n{} ({}) leaves {}, done {}, {:.1} km",
            route.driver,
            route.vehicle.as_str(),
            local_clock(route.departs_ms, zone),
            local_clock(route.done_ms, zone),
            route.distance_m as f64 / 1000.
        );
        let mut delivered = 0;
        for visit in route.visits() {
            let _ = match visit {
                Visit::Pickup(pickup) => writeln!(
                    text,
                    "   up  {}  {:<10}  {}  (pick up)",
                    local_clock(pickup.eta_ms, zone),
                    pickup.place,
                    pickup.shipment,
                ),
                Visit::Delivery(stop) => {
                    delivered += 1;
                    writeln!(
                        text,
                        "  {delivered:>3}  {}  {:<10}  {}  {}",
                        local_clock(stop.eta_ms, zone),
                        stop.order_name.as_deref().unwrap_or("-"),
                        stop.shipment,
                        stop.task_id
                    )
                }
            };
        }
    }
    if !plan.unplanned.is_empty() {
        text.push_str("\nnot planned (each is a review item):\n");
        for left in &plan.unplanned {
            let _ = writeln!(
                text,
                "  {}  {}: {}",
                left.shipment,
                left.reason.code(),
                left.detail
            );
        }
    }
    text
}
