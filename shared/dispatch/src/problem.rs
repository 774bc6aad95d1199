//! A day's shipments and the fleet, stated as a routing problem, and the solver's answer
//! read back as a [`DispatchPlan`].

use std::collections::HashMap;

use domain::dispatch::{
    DispatchPlan, DriverRoute, Fleet, GeoPoint, PickupPoint, PlanDay, PlannedPickup, PlannedStop,
    Unplanned, UnplannedReason, VehicleType, CARRIES_CASH, OVERSIZED,
};
use domain::ports::{Leg, Placement, RoadMatrix};
use domain::{Payment, ShipmentKey, ShipmentRecord};
use routing::{Load, Pickup, Point, Problem, Stop, TravelMatrix, Vehicle, Window};

/// Roads are longer than the straight line: straight-line distances are scaled by this
/// when no road router is configured (a usual circuity factor for city streets).
pub const DETOUR: f64 = 1.3;

/// A pickup point this close to where a driver sets out is where the driver loads: no
/// separate pickup visit.
const SAME_PLACE_M: f64 = 100.;

/// What no vehicle limit stands for: large, yet far from overflowing the solver's i32 sums.
const UNLIMITED: i32 = 1 << 28;

/// A shipment the day may plan: its record and where it goes.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub record: ShipmentRecord,
    pub location: Option<GeoPoint>,
    /// What the geocoder said, for an address that came without coordinates.
    pub placement: Option<Placement>,
}

impl Candidate {
    /// The address's own coordinates, when the channel gave them.
    pub fn from_record(record: ShipmentRecord) -> Candidate {
        let address = &record.shipment.address;
        let location = match (address.latitude, address.longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }).filter(GeoPoint::is_valid),
            _ => None,
        };
        Candidate {
            record,
            location,
            placement: None,
        }
    }

    fn key(&self) -> &ShipmentKey {
        &self.record.shipment.key
    }
}

/// Whether the shipment is for `day`: its delivery window touches the day, or it has none
/// (then the first plan made takes it).
pub fn is_for_day(record: &ShipmentRecord, day: &PlanDay, day_length_s: i64) -> bool {
    match &record.shipment.window {
        None => true,
        Some(window) => {
            let start = day.seconds_from_origin(domain::clock::ms_of(window.start));
            let end = day.seconds_from_origin(domain::clock::ms_of(window.end));
            end >= 0 && start < day_length_s
        }
    }
}

/// The problem, with what it takes to read the answer back.
pub struct Stated {
    pub problem: Problem,
    /// The vehicle type of each travel matrix.
    pub profiles: Vec<VehicleType>,
    /// Shipments left out before solving (no coordinates).
    pub unplanned: Vec<Unplanned>,
    candidates: HashMap<String, Candidate>,
    /// The pickup point of each stop fetched on the way.
    fetched_at: HashMap<String, PickupPoint>,
    points: Vec<GeoPoint>,
}

/// The routes already running on the plan day, which a new plan inserts into.
#[derive(Debug, Clone, Default)]
pub struct Running {
    /// Stops earlier plans gave a driver that the driver has not started: planned again
    /// with the new ones, each kept with its driver (the courier has them on that route).
    pub pending: Vec<(Candidate, String)>,
    /// Where a driver with started stops is: the last of them. The route goes on from
    /// there; started stops themselves are never moved.
    pub at: HashMap<String, GeoPoint>,
    /// Nothing starts before this (seconds from the origin: now, when planning today).
    pub not_before: f64,
}

/// States the day's problem. Every candidate, and every pending stop of `running`, ends
/// as a stop or in `unplanned`.
pub fn state(
    fleet: &Fleet,
    day: &PlanDay,
    candidates: Vec<Candidate>,
    running: Running,
) -> Result<Stated, String> {
    let mut points = Vec::new();
    let mut place = |p: GeoPoint| {
        points.push(p);
        points.len() - 1
    };
    let profiles: Vec<VehicleType> = {
        let mut used: Vec<VehicleType> = fleet.drivers.iter().map(|d| d.vehicle).collect();
        used.sort();
        used.dedup();
        used
    };
    let mut vehicles = Vec::new();
    // Where each driver sets out in this plan: the shift's start, or the last started stop.
    let mut sets_out: HashMap<&str, GeoPoint> = HashMap::new();
    for driver in &fleet.drivers {
        let end = day
            .seconds_at(&driver.shift.end)
            .map_err(|e| e.to_string())? as f64;
        let start = (day
            .seconds_at(&driver.shift.start)
            .map_err(|e| e.to_string())? as f64)
            .max(running.not_before)
            .min(end);
        let shift = Window { start, end };
        let origin = running.at.get(&driver.id).copied().unwrap_or(driver.start);
        sets_out.insert(&driver.id, origin);
        vehicles.push(Vehicle {
            id: driver.id.clone(),
            profile: profiles
                .iter()
                .position(|p| *p == driver.vehicle)
                .unwrap_or(0),
            start: place(origin),
            end: driver.end.map(&mut place),
            shift,
            capacity: Load {
                weight_g: driver.capacity.weight_g.map_or(UNLIMITED, clamp),
                volume_cm3: driver.capacity.volume_cm3.map_or(UNLIMITED, clamp),
                pieces: driver
                    .capacity
                    .pieces
                    .map_or(UNLIMITED, |p| clamp(p.into())),
            },
            skills: driver.skills.clone(),
        });
    }

    let service = f64::from(fleet.service_minutes) * 60.;
    let mut stops = Vec::new();
    let mut unplanned = Vec::new();
    let mut by_id = HashMap::new();
    let mut fetched_at = HashMap::new();
    let pinned = running
        .pending
        .into_iter()
        .map(|(candidate, driver)| (candidate, Some(driver)));
    for (candidate, pinned_to) in candidates.into_iter().map(|c| (c, None)).chain(pinned) {
        let id = candidate.key().to_string();
        let placed = match &candidate.placement {
            Some(Placement::Placed(point)) => Some(*point),
            _ => candidate.location,
        };
        let Some(location) = placed else {
            let (reason, detail) = match &candidate.placement {
                Some(Placement::NotFound { message }) => {
                    (UnplannedReason::AddressNotFound, message.clone())
                }
                Some(Placement::Ambiguous { message }) => {
                    (UnplannedReason::AddressAmbiguous, message.clone())
                }
                _ => (
                    UnplannedReason::NoLocation,
                    "the address has no coordinates and no geocoder is configured".into(),
                ),
            };
            unplanned.push(Unplanned {
                shipment: candidate.key().clone(),
                reason,
                detail,
            });
            continue;
        };
        let shipment = &candidate.record.shipment;
        let windows = shipment
            .window
            .iter()
            .map(|w| Window {
                start: day.seconds_from_origin(domain::clock::ms_of(w.start)) as f64,
                end: day.seconds_from_origin(domain::clock::ms_of(w.end)) as f64,
            })
            .collect();
        let mut skills = Vec::new();
        if matches!(shipment.payment, Payment::CashOnDelivery { .. }) {
            skills.push(CARRIES_CASH.to_owned());
        }
        let parcel = &shipment.parcel;
        let longest = parcel.dimensions.map_or(0, |d| d.longest_side_mm());
        if longest > fleet.oversized.longest_side_mm
            || parcel.weight_grams.unwrap_or(0) > fleet.oversized.weight_g
        {
            skills.push(OVERSIZED.to_owned());
        }
        let allowed = match pinned_to {
            Some(driver) => Some(vec![driver]),
            None => fleet
                .drivers_for(location, shipment.address.postal_code.as_deref())
                .map(|drivers| drivers.iter().map(|d| d.id.clone()).collect()),
        };
        let shop = fleet
            .pickup_for(&format!("{}:{}", shipment.key.channel, shipment.key.store))
            .filter(|shop| !loaded_at_start(shop, allowed.as_deref(), &sets_out));
        let pickup = shop.map(|shop| {
            fetched_at.insert(id.clone(), shop.clone());
            Pickup {
                location: place(shop.location),
                service,
            }
        });
        stops.push(Stop {
            id: id.clone(),
            location: place(location),
            service,
            windows,
            demand: demand(&candidate.record),
            skills,
            vehicles: allowed,
            pickup,
        });
        by_id.insert(id, candidate);
    }

    let matrices = profiles
        .iter()
        .map(|p| {
            let route_points: Vec<Point> = points.iter().map(point).collect();
            TravelMatrix::haversine(&route_points, p.city_speed(), DETOUR)
        })
        .collect();
    Ok(Stated {
        problem: Problem {
            stops,
            vehicles,
            matrices,
        },
        profiles,
        unplanned,
        candidates: by_id,
        fetched_at,
        points,
    })
}

/// Whether every driver who may take the stop sets out from its pickup point (a depot that
/// is also the shop): then the parcel is loaded there, and no pickup visit is planned.
fn loaded_at_start(
    shop: &PickupPoint,
    allowed: Option<&[String]>,
    sets_out: &HashMap<&str, GeoPoint>,
) -> bool {
    let near = |p: &GeoPoint| point(p).metres_to(&point(&shop.location)) <= SAME_PLACE_M;
    match allowed {
        Some(ids) => ids
            .iter()
            .all(|id| sets_out.get(id.as_str()).is_some_and(near)),
        None => sets_out.values().all(near),
    }
}

fn point(g: &GeoPoint) -> Point {
    Point {
        lat: g.lat,
        lon: g.lon,
    }
}

/// A leg the road router finds no road for: long enough that no shift can use it, finite
/// so the solver's sums stay numbers.
const NO_ROAD_S: f64 = 1e7;
const NO_ROAD_M: f64 = 1e9;

impl Stated {
    /// Every place in the problem, in matrix order: what a road router is asked about.
    pub fn points(&self) -> &[GeoPoint] {
        &self.points
    }

    /// Travel by road instead of the straight line, one [`RoadMatrix`] per profile. A leg
    /// with no road is made unusable; a stop no road reaches from anywhere is left out as
    /// `no_location` (its coordinates are likely wrong), never guessed.
    pub fn with_roads(mut self, roads: Vec<RoadMatrix>) -> Result<Stated, String> {
        let n = self.points.len();
        if roads.len() != self.profiles.len() || roads.iter().any(|m| m.legs.len() != n * n) {
            return Err(format!(
                "the road router answered {} matrices for {} vehicle types over {n} places",
                roads.len(),
                self.profiles.len()
            ));
        }
        let cut_off = |place: usize| {
            roads.iter().all(|m| {
                (0..n).filter(|&other| other != place).all(|other| {
                    m.legs[place * n + other] == Leg::NoRoute
                        && m.legs[other * n + place] == Leg::NoRoute
                })
            })
        };
        let (reached, stranded): (Vec<Stop>, Vec<Stop>) = std::mem::take(&mut self.problem.stops)
            .into_iter()
            .partition(|stop| n < 2 || !cut_off(stop.location));
        self.problem.stops = reached;
        for stop in stranded {
            if let Some(candidate) = self.candidates.remove(&stop.id) {
                self.unplanned.push(Unplanned {
                    shipment: candidate.key().clone(),
                    reason: UnplannedReason::NoLocation,
                    detail: "the road router finds no road to or from its coordinates".into(),
                });
            }
        }
        self.problem.matrices = roads
            .iter()
            .map(|m| {
                let (distances, durations) = m
                    .legs
                    .iter()
                    .map(|leg| match *leg {
                        Leg::Road { metres, seconds } => (metres, seconds),
                        Leg::NoRoute => (NO_ROAD_M, NO_ROAD_S),
                    })
                    .unzip();
                TravelMatrix {
                    durations,
                    distances,
                }
            })
            .collect();
        Ok(self)
    }
}

/// Weight as given (unknown counts as nothing), volume from the dimensions, pieces.
fn demand(record: &ShipmentRecord) -> Load {
    let parcel = &record.shipment.parcel;
    let volume_cm3 = parcel.dimensions.map_or(0, |d| {
        (d.length_mm
            .saturating_mul(d.width_mm)
            .saturating_mul(d.height_mm))
        .div_ceil(1_000)
    });
    Load {
        weight_g: clamp(parcel.weight_grams.unwrap_or(0)),
        volume_cm3: clamp(volume_cm3),
        pieces: clamp(parcel.pieces.into()),
    }
}

fn clamp(v: u64) -> i32 {
    v.min(UNLIMITED as u64) as i32
}

/// Who asked for the plan and under which id.
pub struct Made<'a> {
    pub id: String,
    pub created_at: String,
    pub requested_by: &'a str,
    pub budget_s: u64,
}

impl Stated {
    /// The solver's plan as the day's [`DispatchPlan`].
    pub fn read(
        self,
        fleet: &Fleet,
        day: &PlanDay,
        plan: &routing::Plan,
        made: Made,
    ) -> DispatchPlan {
        let drivers: HashMap<&str, &domain::dispatch::Driver> =
            fleet.drivers.iter().map(|d| (d.id.as_str(), d)).collect();
        let stops: HashMap<&str, &Stop> = self
            .problem
            .stops
            .iter()
            .map(|s| (s.id.as_str(), s))
            .collect();
        let mut routes = Vec::new();
        for route in &plan.routes {
            let Some(driver) = drivers.get(route.vehicle.as_str()) else {
                continue;
            };
            let pickups: Vec<PlannedPickup> = route
                .visits
                .iter()
                .filter(|visit| visit.pickup)
                .filter_map(|visit| {
                    let candidate = self.candidates.get(&visit.stop)?;
                    let shop = self.fetched_at.get(&visit.stop)?;
                    let service = stops.get(visit.stop.as_str())?.pickup?.service;
                    Some(PlannedPickup {
                        shipment: candidate.key().clone(),
                        place: shop.name.clone(),
                        location: shop.location,
                        eta_ms: day.ms_at(visit.departure - service),
                        leaves_ms: day.ms_at(visit.departure),
                    })
                })
                .collect();
            let planned: Vec<PlannedStop> = route
                .visits
                .iter()
                .filter(|visit| !visit.pickup)
                .filter_map(|visit| {
                    let candidate = self.candidates.get(&visit.stop)?;
                    let stop = stops.get(visit.stop.as_str())?;
                    Some(PlannedStop {
                        shipment: candidate.key().clone(),
                        task_id: candidate.record.task.as_ref()?.task_id.clone(),
                        order_name: candidate.record.shipment.order_name.clone(),
                        location: self.points[stop.location],
                        eta_ms: day.ms_at(visit.departure - stop.service),
                        leaves_ms: day.ms_at(visit.departure),
                    })
                })
                .collect();
            routes.push(DriverRoute {
                driver: driver.id.clone(),
                vehicle: driver.vehicle,
                start: driver.start,
                end: driver.end,
                departs_ms: day.ms_at(route.departure),
                done_ms: day.ms_at(route.arrival),
                distance_m: route.distance.round() as u64,
                stops: planned,
                pickups,
            });
        }
        let mut unplanned = self.unplanned;
        for left in &plan.unserved {
            let Some(candidate) = self.candidates.get(&left.stop) else {
                continue;
            };
            let stop = stops.get(left.stop.as_str());
            unplanned.push(Unplanned {
                shipment: candidate.key().clone(),
                reason: reason(left.reason),
                detail: detail(left.reason, candidate, stop.copied()),
            });
        }
        DispatchPlan {
            id: made.id,
            day: day.day(),
            time_zone: fleet.time_zone.clone(),
            created_at: made.created_at,
            requested_by: made.requested_by.to_owned(),
            distance_m: routes.iter().map(|r| r.distance_m).sum(),
            duration_s: routes
                .iter()
                .map(|r| (r.done_ms - r.departs_ms).max(0) as u64 / 1000)
                .sum(),
            routes,
            unplanned,
            budget_s: made.budget_s,
        }
    }
}

fn reason(reason: routing::UnservedReason) -> UnplannedReason {
    match reason {
        routing::UnservedReason::Zone => UnplannedReason::Zone,
        routing::UnservedReason::Skill => UnplannedReason::Skill,
        routing::UnservedReason::Capacity => UnplannedReason::Capacity,
        routing::UnservedReason::TimeWindow => UnplannedReason::TimeWindow,
        routing::UnservedReason::NoRoom => UnplannedReason::NoRoom,
    }
}

fn detail(reason: routing::UnservedReason, candidate: &Candidate, stop: Option<&Stop>) -> String {
    let address = &candidate.record.shipment.address;
    match (reason, stop) {
        (routing::UnservedReason::Zone, _) => format!(
            "{}, {} {} is outside every zone a driver serves",
            address.street_line(),
            address.postal_code.as_deref().unwrap_or(""),
            address.city
        ),
        (routing::UnservedReason::Skill, Some(stop)) => format!(
            "needs a driver with {}; none has them all",
            stop.skills.join(" and ")
        ),
        (routing::UnservedReason::Capacity, Some(stop)) => format!(
            "{} g, {} cm³, {} pieces: more than any vehicle that may take it carries",
            stop.demand.weight_g, stop.demand.volume_cm3, stop.demand.pieces
        ),
        (routing::UnservedReason::TimeWindow, _) => {
            "no driver's shift can reach it within its delivery window".into()
        }
        _ => "a driver could take it, but none has room or time left in this plan".into(),
    }
}
