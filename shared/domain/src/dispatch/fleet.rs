//! The fleet as data: drivers with their vehicles, shifts, skills and zones, the stores'
//! pickup points, and the fleet's time zone. Operators write it as JSON
//! (`courier-bridge fleet put`); [`Fleet::check`] names every mistake at once.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

use crate::CourierKind;

/// Everything the planner needs to know about who delivers, and from where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// The fleet's IANA time zone ("Europe/Berlin"): shifts, cut-offs and plan days are
    /// in it.
    pub time_zone: String,
    /// The courier platform the drivers work on.
    pub courier: CourierKind,
    /// Same-day cut-off, local "HH:MM": the scheduled plan runs then. Orders that arrive
    /// later are planned the next day unless a dispatcher plans again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_off: Option<String>,
    /// Minutes a driver spends at each stop (parking, the door, a signature).
    #[serde(default = "default_service_minutes")]
    pub service_minutes: u32,
    /// What makes a parcel need a driver with the `oversized` skill.
    #[serde(default)]
    pub oversized: Oversized,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<Zone>,
    pub drivers: Vec<Driver>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pickups: Vec<PickupPoint>,
}

fn default_service_minutes() -> u32 {
    5
}

/// A parcel is oversized when its longest side or its weight is over these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oversized {
    pub longest_side_mm: u64,
    pub weight_g: u64,
}

impl Default for Oversized {
    fn default() -> Self {
        Oversized {
            longest_side_mm: 1_200,
            weight_g: 30_000,
        }
    }
}

/// The skill a driver needs for an oversized parcel.
pub const OVERSIZED: &str = "oversized";
/// The skill a driver needs to collect cash on delivery.
pub const CARRIES_CASH: &str = "carries_cash";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Driver {
    /// The driver's id at the courier platform (an Onfleet worker id, a sandbox `drv_01`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub vehicle: VehicleType,
    /// What the vehicle carries; a missing dimension is not limited.
    #[serde(default)]
    pub capacity: Capacity,
    /// `oversized`, `carries_cash`, or the fleet's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    pub shift: Shift,
    pub start: GeoPoint,
    /// Where the shift ends; absent: at the last stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<GeoPoint>,
    /// Names of the fleet's zones the driver serves; empty: anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
}

impl Driver {
    pub fn has_skill(&self, skill: &str) -> bool {
        self.skills.iter().any(|s| s == skill)
    }
}

/// The kinds of vehicle, each with its own travel times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VehicleType {
    Bicycle,
    Scooter,
    Car,
    Van,
    Truck,
}

impl VehicleType {
    pub const ALL: [VehicleType; 5] = [
        VehicleType::Bicycle,
        VehicleType::Scooter,
        VehicleType::Car,
        VehicleType::Van,
        VehicleType::Truck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VehicleType::Bicycle => "bicycle",
            VehicleType::Scooter => "scooter",
            VehicleType::Car => "car",
            VehicleType::Van => "van",
            VehicleType::Truck => "truck",
        }
    }

    /// Average door-to-door speed in a city, metres per second, for straight-line travel
    /// times when no road router is configured (stops, lights and parking included).
    pub fn city_speed(self) -> f64 {
        let km_h = match self {
            VehicleType::Bicycle => 14.,
            VehicleType::Scooter => 22.,
            VehicleType::Car => 24.,
            VehicleType::Van => 21.,
            VehicleType::Truck => 18.,
        };
        km_h / 3.6
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_g: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_cm3: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pieces: Option<u32>,
}

/// A working day's hours, local "HH:MM" in the fleet's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub start: String,
    pub end: String,
}

/// A place, in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn is_valid(&self) -> bool {
        (-90.0..=90.).contains(&self.lat) && (-180.0..=180.).contains(&self.lon)
    }
}

/// An area some drivers serve: postal-code prefixes, a GeoJSON polygon, or both (a stop is
/// in the zone when either holds it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postal_prefixes: Vec<String>,
    /// A GeoJSON Polygon geometry: `{"type": "Polygon", "coordinates": [[[lon, lat], …]]}`;
    /// the first ring is the outline, the others holes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<GeoJsonPolygon>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoJsonPolygon {
    #[serde(rename = "type")]
    pub kind: String,
    /// Rings of `[lon, lat]` positions (GeoJSON's order), each closed.
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

impl Zone {
    /// Whether a stop at `point` with `postal_code` lies in the zone.
    pub fn holds(&self, point: GeoPoint, postal_code: Option<&str>) -> bool {
        let by_postal = postal_code.is_some_and(|code| {
            let code = normalize_postal(code);
            self.postal_prefixes
                .iter()
                .any(|prefix| code.starts_with(&normalize_postal(prefix)))
        });
        by_postal
            || self.polygon.as_ref().is_some_and(|polygon| {
                let mut rings = polygon.coordinates.iter();
                rings.next().is_some_and(|outline| in_ring(outline, point))
                    && !rings.any(|hole| in_ring(hole, point))
            })
    }
}

/// Postal codes compare without spaces or case ("SW1A 1AA" starts with "sw1a").
fn normalize_postal(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The even-odd rule on a ring of `[lon, lat]` positions, treating degrees as a plane
/// (true for the city-sized zones a fleet draws). Hand-written: the georust `geo` crate
/// does this and much more, but its boolean-operation stack is many times the size of the
/// domain crate for one loop.
fn in_ring(ring: &[[f64; 2]], point: GeoPoint) -> bool {
    let (x, y) = (point.lon, point.lat);
    let mut inside = false;
    for (a, b) in ring.iter().zip(ring.iter().cycle().skip(1)) {
        let ([xa, ya], [xb, yb]) = (*a, *b);
        if (ya > y) != (yb > y) && x < xa + (y - ya) * (xb - xa) / (yb - ya) {
            inside = !inside;
        }
    }
    inside
}

/// Where a store's parcels are collected: its warehouse or shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickupPoint {
    /// "channel:store" ("shopify:demo-store").
    pub store: String,
    pub name: String,
    pub location: GeoPoint,
}

/// One mistake in a fleet, with where it is ("drivers[2].shift").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetProblem {
    pub at: String,
    pub message: String,
}

impl fmt::Display for FleetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A fleet that cannot be planned with, and every reason. Permanent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the fleet is not valid:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
pub struct FleetErrors(pub Vec<FleetProblem>);

/// Minutes since local midnight of an "HH:MM" time (00:00–24:00).
pub fn local_minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl Fleet {
    /// Reads and checks a fleet document: the JSON's own errors, then every rule broken.
    pub fn from_json(text: &str) -> Result<Fleet, FleetErrors> {
        let fleet: Fleet = serde_json::from_str(text).map_err(|e| {
            FleetErrors(vec![FleetProblem {
                at: format!("line {} column {}", e.line(), e.column()),
                message: e.to_string(),
            }])
        })?;
        fleet.check()?;
        Ok(fleet)
    }

    /// Every rule the fleet breaks.
    pub fn check(&self) -> Result<(), FleetErrors> {
        let mut problems = Vec::new();
        let mut problem = |at: String, message: String| problems.push(FleetProblem { at, message });
        if let Err(e) = super::time::zone(&self.time_zone) {
            problem("time_zone".into(), e.to_string());
        }
        if let Some(cut_off) = &self.cut_off {
            if local_minutes(cut_off).is_none() {
                problem(
                    "cut_off".into(),
                    format!("{cut_off:?} is not a local time HH:MM"),
                );
            }
        }
        if self.service_minutes > 240 {
            problem(
                "service_minutes".into(),
                format!(
                    "{} minutes at each stop is more than 4 hours",
                    self.service_minutes
                ),
            );
        }
        let mut zone_names = HashSet::new();
        for (i, zone) in self.zones.iter().enumerate() {
            let at = format!("zones[{i}]");
            if zone.name.trim().is_empty() {
                problem(format!("{at}.name"), "is empty".into());
            } else if !zone_names.insert(zone.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    format!("zone {:?} is defined twice", zone.name),
                );
            }
            if zone.postal_prefixes.is_empty() && zone.polygon.is_none() {
                problem(
                    at.clone(),
                    "has neither postal_prefixes nor a polygon".into(),
                );
            }
            if zone
                .postal_prefixes
                .iter()
                .any(|p| normalize_postal(p).is_empty())
            {
                problem(
                    format!("{at}.postal_prefixes"),
                    "holds an empty prefix".into(),
                );
            }
            if let Some(polygon) = &zone.polygon {
                if let Err(message) = check_polygon(polygon) {
                    problem(format!("{at}.polygon"), message);
                }
            }
        }
        if self.drivers.is_empty() {
            problem(
                "drivers".into(),
                "no drivers: nothing can be planned".into(),
            );
        }
        let mut driver_ids = HashSet::new();
        for (i, driver) in self.drivers.iter().enumerate() {
            let at = format!("drivers[{i}]");
            if driver.id.trim().is_empty() || driver.id.len() > 64 {
                problem(format!("{at}.id"), "must be 1–64 characters".into());
            } else if !driver_ids.insert(driver.id.as_str()) {
                problem(
                    format!("{at}.id"),
                    format!("driver {:?} is listed twice", driver.id),
                );
            }
            match (
                local_minutes(&driver.shift.start),
                local_minutes(&driver.shift.end),
            ) {
                (Some(start), Some(end)) if start < end => {}
                (Some(_), Some(_)) => problem(
                    format!("{at}.shift"),
                    format!(
                        "ends ({}) before it starts ({}); a shift past midnight is two shifts",
                        driver.shift.end, driver.shift.start
                    ),
                ),
                _ => problem(
                    format!("{at}.shift"),
                    format!(
                        "{:?}–{:?} is not a pair of local times HH:MM",
                        driver.shift.start, driver.shift.end
                    ),
                ),
            }
            for (field, point) in [("start", Some(driver.start)), ("end", driver.end)] {
                if point.is_some_and(|p| !p.is_valid()) {
                    problem(
                        format!("{at}.{field}"),
                        "latitude must be within ±90 and longitude within ±180".into(),
                    );
                }
            }
            for zone in &driver.zones {
                if !self.zones.iter().any(|z| &z.name == zone) {
                    problem(format!("{at}.zones"), format!("no zone named {zone:?}"));
                }
            }
            if driver.skills.iter().any(|s| s.trim().is_empty()) {
                problem(format!("{at}.skills"), "holds an empty skill".into());
            }
        }
        let mut stores = HashSet::new();
        for (i, pickup) in self.pickups.iter().enumerate() {
            let at = format!("pickups[{i}]");
            if !pickup.location.is_valid() {
                problem(
                    format!("{at}.location"),
                    "latitude must be within ±90 and longitude within ±180".into(),
                );
            }
            let store_ok = pickup
                .store
                .split_once(':')
                .is_some_and(|(channel, store)| {
                    channel.parse::<crate::Channel>().is_ok()
                        && crate::shipment::is_valid_store_name(store)
                });
            if !store_ok {
                problem(
                    format!("{at}.store"),
                    format!(
                        "{:?} is not channel:store (shopify:demo-store)",
                        pickup.store
                    ),
                );
            } else if !stores.insert(pickup.store.as_str()) {
                problem(
                    format!("{at}.store"),
                    format!("store {} has two pickup points", pickup.store),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FleetErrors(problems))
        }
    }

    /// The drivers whose zones hold a stop; `None` when any driver may go (the fleet has no
    /// zones, or a driver serves anywhere).
    pub fn drivers_for(&self, point: GeoPoint, postal_code: Option<&str>) -> Option<Vec<&Driver>> {
        if self.zones.is_empty() || self.drivers.iter().all(|d| d.zones.is_empty()) {
            return None;
        }
        let zones: Vec<&str> = self
            .zones
            .iter()
            .filter(|z| z.holds(point, postal_code))
            .map(|z| z.name.as_str())
            .collect();
        Some(
            self.drivers
                .iter()
                .filter(|d| {
                    d.zones.is_empty() || d.zones.iter().any(|z| zones.contains(&z.as_str()))
                })
                .collect(),
        )
    }

    pub fn pickup_for(&self, store: &str) -> Option<&PickupPoint> {
        self.pickups.iter().find(|p| p.store == store)
    }
}

fn check_polygon(polygon: &GeoJsonPolygon) -> Result<(), String> {
    if polygon.kind != "Polygon" {
        return Err(format!(
            "type is {:?}; only \"Polygon\" is read",
            polygon.kind
        ));
    }
    if polygon.coordinates.is_empty() {
        return Err("has no rings".into());
    }
    for (r, ring) in polygon.coordinates.iter().enumerate() {
        if ring.len() < 4 || ring.first() != ring.last() {
            return Err(format!(
                "ring {r} must be closed (first position repeated last) with at least 4 positions"
            ));
        }
        if let Some([lon, lat]) = ring.iter().find(|[lon, lat]| {
            !GeoPoint {
                lat: *lat,
                lon: *lon,
            }
            .is_valid()
        }) {
            return Err(format!(
                "ring {r} has [{lon}, {lat}]: positions are [longitude, latitude] within ±180, ±90"
            ));
        }
    }
    Ok(())
}
