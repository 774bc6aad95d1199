//! Route planning: which driver serves which stops, in what order and when, under vehicle
//! capacities (weight, volume, pieces), delivery windows, shifts and skills.
//!
//! The problem is stated in delivery terms ([`Problem`]: stops, vehicles, travel matrices)
//! and solved by `vrp-core` (reinterpretcat/vrp), a metaheuristic VRP solver; this crate
//! only translates both ways and checks the answer's shape. A stop no vehicle can serve comes
//! back as [`Unserved`] with the reason, never dropped. Pure: no I/O, no clock; times are
//! seconds from an origin the caller chooses (the plan day's midnight in the fleet's time
//! zone), distances in the caller's unit (metres for real roads).

pub mod solomon;
mod solve;

use serde::{Deserialize, Serialize};

pub use solve::plan;

/// What a vehicle can carry and what a stop needs room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Load {
    pub weight_g: i32,
    pub volume_cm3: i32,
    pub pieces: i32,
}

impl Load {
    fn as_vec(self) -> Vec<i32> {
        vec![self.weight_g, self.volume_cm3, self.pieces]
    }

    fn is_negative(self) -> bool {
        self.weight_g < 0 || self.volume_cm3 < 0 || self.pieces < 0
    }
}

/// An interval of time in seconds from the plan's origin, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

/// A delivery to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The caller's id (the shipment key).
    pub id: String,
    /// Index into the travel matrices.
    pub location: usize,
    /// Time spent at the stop, in seconds.
    pub service: f64,
    /// When the vehicle may arrive (any one of them); empty means any time.
    pub windows: Vec<Window>,
    pub demand: Load,
    /// Skills the vehicle must all have (`oversized`, `carries_cash`).
    pub skills: Vec<String>,
    /// Only these vehicles may serve it (the drivers whose zones hold it); `None`: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicles: Option<Vec<String>>,
    /// Where the parcel must be fetched first, when it is not loaded at the vehicle's
    /// start (a shop away from the depot): the same vehicle visits it earlier on the same
    /// route, carrying the parcel from there to the stop. `None`: loaded at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<Pickup>,
}

/// Where a stop's parcel is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pickup {
    /// Index into the travel matrices.
    pub location: usize,
    /// Time spent fetching it, in seconds.
    pub service: f64,
}

/// A driver with a vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    /// The caller's id (courier platform and driver).
    pub id: String,
    /// Which travel matrix applies (the vehicle type: bicycle, van, ...).
    pub profile: usize,
    /// Where the shift starts, as a matrix index.
    pub start: usize,
    /// Where it must end; `None` ends at the last stop.
    pub end: Option<usize>,
    pub shift: Window,
    pub capacity: Load,
    pub skills: Vec<String>,
}

/// Travel between every pair of locations for one vehicle profile, as square matrices in
/// row-major order (`from * n + to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TravelMatrix {
    pub durations: Vec<f64>,
    pub distances: Vec<f64>,
}

impl TravelMatrix {
    /// Locations the matrix covers, if it is square.
    pub fn size(&self) -> Option<usize> {
        let n = (self.durations.len() as f64).sqrt().round() as usize;
        (n * n == self.durations.len() && self.distances.len() == self.durations.len()).then_some(n)
    }

    fn distance(&self, n: usize, from: usize, to: usize) -> f64 {
        self.distances[from * n + to]
    }

    /// Great-circle distances in metres between `points`, and the time to cover each at
    /// `speed` metres per second: the default when no road router is configured. A road is
    /// longer than the straight line; `detour` (e.g. 1.3) scales both to make up for it.
    pub fn haversine(points: &[Point], speed: f64, detour: f64) -> TravelMatrix {
        let n = points.len();
        let mut distances = vec![0.; n * n];
        for (i, a) in points.iter().enumerate() {
            for (j, b) in points.iter().enumerate() {
                distances[i * n + j] = a.metres_to(b) * detour;
            }
        }
        TravelMatrix {
            durations: distances.iter().map(|d| d / speed).collect(),
            distances,
        }
    }
}

/// A place on the earth, in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// The mean earth radius (IUGG), in metres.
    const EARTH_RADIUS: f64 = 6_371_008.8;

    /// The great-circle distance, by the haversine formula.
    pub fn metres_to(&self, other: &Point) -> f64 {
        let (phi1, phi2) = (self.lat.to_radians(), other.lat.to_radians());
        let dphi = phi2 - phi1;
        let dlambda = (other.lon - self.lon).to_radians();
        let h = (dphi / 2.).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.).sin().powi(2);
        2. * Self::EARTH_RADIUS * h.sqrt().min(1.).asin()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub stops: Vec<Stop>,
    pub vehicles: Vec<Vehicle>,
    /// One per vehicle profile, all over the same locations.
    pub matrices: Vec<TravelMatrix>,
}

/// What a better plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// Serve every stop you can, with as few vehicles as possible, then the least distance
    /// (the Solomon benchmark's hierarchy; a dispatcher's usual wish: fewer drivers out).
    FewestVehicles,
    /// Serve every stop you can with the least total distance.
    LeastDistance,
}

/// How long the solver may search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub seconds: usize,
    /// Stop earlier after this many generations (for tests and small problems).
    pub generations: Option<usize>,
    /// Stop earlier once the search stops improving: the objective's coefficient of
    /// variation over the last 200 generations falls under 1 % (a small day settles in a
    /// second or two instead of using the whole budget). Off for benchmarks, which compare
    /// solvers at equal time.
    #[serde(default)]
    pub until_settled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub routes: Vec<Route>,
    pub unserved: Vec<Unserved>,
    /// Total over the routes.
    pub distance: f64,
}

/// One vehicle's stops in order, with when it gets to each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub vehicle: String,
    pub visits: Vec<Visit>,
    /// From the shift's start to its end (or last stop).
    pub distance: f64,
    /// When the vehicle leaves its start and when it is done.
    pub departure: f64,
    pub arrival: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub stop: String,
    /// Whether this is where the stop's parcel is fetched rather than the stop itself.
    #[serde(default)]
    pub pickup: bool,
    /// When the vehicle gets there; service starts at the window's opening if it is early.
    pub arrival: f64,
    pub departure: f64,
}

/// A stop no vehicle serves in the plan, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unserved {
    pub stop: String,
    pub reason: UnservedReason,
}

/// Ordered by how far a vehicle got in serving the stop: skills, then capacity, then time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnservedReason {
    /// No vehicle may serve it at all: it lies outside every driver's zone.
    Zone,
    /// No vehicle has every skill it needs.
    Skill,
    /// No vehicle with those skills could carry it even empty.
    Capacity,
    /// No such vehicle can be there within its window and back within its shift, even
    /// driving to it alone.
    TimeWindow,
    /// A vehicle could serve it alone, but none has room or time left in this plan (or no
    /// vehicle is on shift): a driver more, a later window or a longer search would help.
    NoRoom,
}

impl UnservedReason {
    pub fn code(self) -> &'static str {
        match self {
            UnservedReason::Zone => "zone",
            UnservedReason::Skill => "skill",
            UnservedReason::Capacity => "capacity",
            UnservedReason::TimeWindow => "time_window",
            UnservedReason::NoRoom => "no_room",
        }
    }
}

/// Why no plan was made. Both are permanent: the same problem fails the same way again.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("invalid planning problem: {0}")]
    Invalid(String),
    #[error("the solver failed: {0}")]
    Solver(String),
}

impl PlanError {
    pub fn is_transient(&self) -> bool {
        false
    }
}
