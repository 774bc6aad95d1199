//! The domain's [`RoadRouter`] on Amazon Location Service's Routes API,
//! `CalculateRouteMatrix` (`POST /v2/route-matrix`,
//! <https://docs.aws.amazon.com/location/latest/APIReference/API_CalculateRouteMatrix.html>).
//!
//! One call routes some origins to some destinations, within limits that depend on the
//! routing boundary: with `Unbounded` at most 15 origins, 100 destinations and 100 pairs;
//! within a geometry 500, 500 and 160,000, if the geometry's diagonal is at most 400 km.
//! So the points are [`tile`]d: when they fit (with a margin) a bounding box of at most
//! 400 km diagonal, blocks of 400 × 400 within that box; otherwise blocks of 10 × 10
//! unbounded. The blocks' answers make the `n × n` matrix.
//!
//! - A pair the service could not route (an `Error` entry: `NoMatch`, `NoRoute`,
//!   `OutOfBounds`, …) is [`Leg::NoRoute`].
//! - An answer without a row or an entry asked for is a permanent error: retrying the
//!   same question gets the same malformed answer.
//! - Call errors as the geocoder's ([`super::call_failed`]).
//!
//! `DepartureTime` is the plan's departure, in UTC to the second, sent as is: the service
//! uses it for the traffic typical at that time (a plan is for today or a later day).

use std::ops::Range;

use async_trait::async_trait;
use aws_sdk_georoutes::operation::calculate_route_matrix::CalculateRouteMatrixOutput;
use aws_sdk_georoutes::types::{
    RouteMatrixBoundary, RouteMatrixBoundaryGeometry, RouteMatrixDestination, RouteMatrixEntry,
    RouteMatrixOrigin, RouteMatrixTravelMode, RoutingObjective,
};
use domain::dispatch::{GeoPoint, VehicleType};
use domain::ports::{Leg, RoadMatrix, RoadRouter};
use domain::PartnerError;
use futures::{StreamExt, TryStreamExt};

use super::{call_failed, PARTNER};

/// Origins (and destinations) of one call routed within a bounding box: 400 × 400 is the
/// service's 160,000 pairs.
pub const BOUNDED_BLOCK: usize = 400;
/// Origins (and destinations) of one unbounded call: 10 × 10 is the service's 100 pairs.
pub const UNBOUNDED_BLOCK: usize = 10;
/// The longest diagonal of a routing boundary the service accepts.
pub const MAX_DIAGONAL_M: f64 = 400_000.;
/// Added around the points, so a road just outside their box can still be taken.
pub const MARGIN_M: f64 = 1_000.;
/// Calls in flight at once: enough to overlap their latency, few enough to stay well
/// inside the account's request rate (the SDK retries throttling anyway).
const CONCURRENT_CALLS: usize = 4;

/// The mean earth radius (IUGG), in metres, as the planner's straight-line estimate uses.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

pub struct AmazonLocationRouter {
    client: aws_sdk_georoutes::Client,
    /// Origins and destinations per call, when not the service's limits.
    block: Option<usize>,
}

impl AmazonLocationRouter {
    /// `endpoint`: another endpoint than Amazon Location's own (a local fake).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: Option<&str>) -> AmazonLocationRouter {
        let mut config = aws_sdk_georoutes::config::Builder::from(sdk);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        AmazonLocationRouter {
            client: aws_sdk_georoutes::Client::from_conf(config.build()),
            block: None,
        }
    }

    /// `side` origins and destinations per call (at least 1) instead of as many as the
    /// service takes: for tests, so that a few points take several calls, or so many that
    /// the service refuses them.
    pub fn with_block(mut self, side: usize) -> AmazonLocationRouter {
        self.block = Some(side);
        self
    }

    async fn ask(
        &self,
        points: &[GeoPoint],
        boundary: &Boundary,
        block: Block,
        request: &Request,
    ) -> Result<(Block, Vec<Leg>), PartnerError> {
        let answer = self
            .client
            .calculate_route_matrix()
            .set_origins(Some(origins(&points[block.origins.clone()])?))
            .set_destinations(Some(destinations(&points[block.destinations.clone()])?))
            .routing_boundary(boundary.to_sdk())
            .travel_mode(request.mode.clone())
            .optimize_routing_for(RoutingObjective::FastestRoute)
            .set_departure_time(request.departure.clone())
            .send()
            .await
            .map_err(|e| call_failed(&e))?;
        let legs = block_legs(&answer, &block)?;
        Ok((block, legs))
    }
}

/// What every call of one matrix asks besides its points.
struct Request {
    mode: RouteMatrixTravelMode,
    departure: Option<String>,
}

#[async_trait]
impl RoadRouter for AmazonLocationRouter {
    async fn matrix(
        &self,
        points: &[GeoPoint],
        vehicle: VehicleType,
        depart_ms: i64,
    ) -> Result<RoadMatrix, PartnerError> {
        if let Some(bad) = points.iter().find(|p| !p.is_valid()) {
            return Err(PartnerError::rejected(
                PARTNER,
                "invalid",
                format!("no such place: {bad:?}"),
            ));
        }
        let n = points.len();
        let tiling = tile(points, self.block);
        let request = Request {
            mode: travel_mode(vehicle),
            departure: departure_time(depart_ms),
        };
        let answers: Vec<(Block, Vec<Leg>)> = futures::stream::iter(tiling.blocks)
            .map(|block| self.ask(points, &tiling.boundary, block, &request))
            .buffer_unordered(CONCURRENT_CALLS)
            .try_collect()
            .await?;
        let mut legs = vec![Leg::NoRoute; n * n];
        for (block, block_legs) in answers {
            place(&mut legs, n, &block, block_legs);
        }
        Ok(RoadMatrix { legs })
    }
}

/// Amazon Location's travel mode for a vehicle. It has no bicycle mode: a bicycle goes as a
/// scooter, the nearest speed class that keeps to roads a bicycle may use (Pedestrian
/// would be three or four times too slow and take footpaths). A van drives as a car.
pub fn travel_mode(vehicle: VehicleType) -> RouteMatrixTravelMode {
    match vehicle {
        VehicleType::Bicycle | VehicleType::Scooter => RouteMatrixTravelMode::Scooter,
        VehicleType::Car | VehicleType::Van => RouteMatrixTravelMode::Car,
        VehicleType::Truck => RouteMatrixTravelMode::Truck,
    }
}

/// `depart_ms` as the service's `DepartureTime` (`2026-12-07T09:00:00Z`); `None` for an
/// instant it cannot write (before year 0 or after 9999), leaving the service's default.
pub fn departure_time(depart_ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(depart_ms.div_euclid(1000)).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Where the calls route: `[west, south, east, north]` in degrees, or anywhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary {
    Box([f64; 4]),
    Unbounded,
}

impl Boundary {
    fn to_sdk(self) -> RouteMatrixBoundary {
        match self {
            Boundary::Box(corners) => RouteMatrixBoundary::builder()
                .geometry(
                    RouteMatrixBoundaryGeometry::builder()
                        .set_bounding_box(Some(corners.to_vec()))
                        .build(),
                )
                .build(),
            Boundary::Unbounded => RouteMatrixBoundary::builder().unbounded(true).build(),
        }
    }
}

/// One call's share of the matrix: these origins to these destinations (indices into the
/// points).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub origins: Range<usize>,
    pub destinations: Range<usize>,
}

/// The calls that make a matrix, each within `boundary`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiling {
    pub boundary: Boundary,
    pub blocks: Vec<Block>,
}

/// The calls for a matrix over `points`, within the points' box when it is small enough,
/// with as many origins and destinations each as that boundary allows, or `side`.
pub fn tile(points: &[GeoPoint], side: Option<usize>) -> Tiling {
    let boundary = match bounding_box(points) {
        Some(corners) if diagonal_m(corners) <= MAX_DIAGONAL_M => Boundary::Box(corners),
        _ => Boundary::Unbounded,
    };
    let limit = match boundary {
        Boundary::Box(_) => BOUNDED_BLOCK,
        Boundary::Unbounded => UNBOUNDED_BLOCK,
    };
    Tiling {
        boundary,
        blocks: blocks(points.len(), side.unwrap_or(limit).max(1)),
    }
}

fn blocks(n: usize, side: usize) -> Vec<Block> {
    let chunks = || (0..n).step_by(side).map(move |s| s..(s + side).min(n));
    chunks()
        .flat_map(|origins| {
            chunks().map(move |destinations| Block {
                origins: origins.clone(),
                destinations,
            })
        })
        .collect()
}

/// The points' box grown by [`MARGIN_M`] on every side, within the world's coordinates.
fn bounding_box(points: &[GeoPoint]) -> Option<[f64; 4]> {
    let first = points.first()?;
    let [mut west, mut south, mut east, mut north] = [first.lon, first.lat, first.lon, first.lat];
    for p in points {
        (west, east) = (west.min(p.lon), east.max(p.lon));
        (south, north) = (south.min(p.lat), north.max(p.lat));
    }
    let lat_margin = (MARGIN_M / EARTH_RADIUS_M).to_degrees();
    // A degree of longitude is shortest at the latitude farthest from the equator.
    let widest = south.abs().max(north.abs()).min(89.).to_radians().cos();
    let lon_margin = lat_margin / widest;
    Some([
        (west - lon_margin).max(-180.),
        (south - lat_margin).max(-90.),
        (east + lon_margin).min(180.),
        (north + lat_margin).min(90.),
    ])
}

/// From the south-west corner to the north-east one. A box half the world wide or more
/// is never small (the great circle between its corners would go round the other way:
/// points on both sides of the antimeridian).
fn diagonal_m([west, south, east, north]: [f64; 4]) -> f64 {
    if east - west >= 180. {
        return f64::INFINITY;
    }
    let (phi1, phi2) = (south.to_radians(), north.to_radians());
    let h = ((phi2 - phi1) / 2.).sin().powi(2)
        + phi1.cos() * phi2.cos() * ((east - west).to_radians() / 2.).sin().powi(2);
    2. * EARTH_RADIUS_M * h.sqrt().min(1.).asin()
}

fn origins(points: &[GeoPoint]) -> Result<Vec<RouteMatrixOrigin>, PartnerError> {
    let origin = |p: &GeoPoint| {
        RouteMatrixOrigin::builder()
            .set_position(Some(vec![p.lon, p.lat]))
            .build()
    };
    points
        .iter()
        .map(origin)
        .collect::<Result<_, _>>()
        .map_err(unbuildable)
}

fn destinations(points: &[GeoPoint]) -> Result<Vec<RouteMatrixDestination>, PartnerError> {
    let destination = |p: &GeoPoint| {
        RouteMatrixDestination::builder()
            .set_position(Some(vec![p.lon, p.lat]))
            .build()
    };
    points
        .iter()
        .map(destination)
        .collect::<Result<_, _>>()
        .map_err(unbuildable)
}

/// The SDK refused to build a request (it cannot: every position is set).
fn unbuildable(e: aws_sdk_georoutes::error::BuildError) -> PartnerError {
    PartnerError::rejected(PARTNER, "invalid", e.to_string())
}

/// The block's legs, row-major, from an answer that must have a row per origin and an
/// entry per destination in each.
fn block_legs(
    answer: &CalculateRouteMatrixOutput,
    block: &Block,
) -> Result<Vec<Leg>, PartnerError> {
    let rows = answer.route_matrix();
    let (height, width) = (block.origins.len(), block.destinations.len());
    if rows.len() != height || rows.iter().any(|row| row.len() != width) {
        let shape: Vec<usize> = rows.iter().map(Vec::len).collect();
        return Err(PartnerError::rejected(
            PARTNER,
            "malformed",
            format!(
                "malformed answer: {height} rows of {width} asked for, rows of {shape:?} answered"
            ),
        ));
    }
    Ok(rows.iter().flatten().map(leg).collect())
}

fn leg(entry: &RouteMatrixEntry) -> Leg {
    match entry.error() {
        Some(_) => Leg::NoRoute,
        None => Leg::Road {
            metres: entry.distance() as f64,
            seconds: entry.duration() as f64,
        },
    }
}

/// Copies a block's legs into their places in the `n × n` matrix.
fn place(legs: &mut [Leg], n: usize, block: &Block, block_legs: Vec<Leg>) {
    let width = block.destinations.len();
    for (k, leg) in block_legs.into_iter().enumerate() {
        let (from, to) = (
            block.origins.start + k / width,
            block.destinations.start + k % width,
        );
        legs[from * n + to] = leg;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    /// Every (origin, destination) pair of the blocks, in order, each once.
    fn covered(tiling: &Tiling) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(usize, usize)> = tiling
            .blocks
            .iter()
            .flat_map(|b| {
                b.origins
                    .clone()
                    .flat_map(move |o| b.destinations.clone().map(move |d| (o, d)))
            })
            .collect();
        pairs.sort();
        pairs
    }

    fn all_pairs(n: usize) -> Vec<(usize, usize)> {
        (0..n).flat_map(|o| (0..n).map(move |d| (o, d))).collect()
    }

    #[test]
    fn points_in_a_city_go_in_one_call_within_their_box_grown_by_the_margin() {
        let berlin = [
            point(52.50, 13.30),
            point(52.55, 13.45),
            point(52.52, 13.40),
        ];
        let tiling = tile(&berlin, None);
        let Boundary::Box([west, south, east, north]) = tiling.boundary else {
            panic!("unbounded: {tiling:?}");
        };
        assert!(west < 13.30 && east > 13.45 && south < 52.50 && north > 52.55);
        // About 1 km each way: 0.009° of latitude, 0.015° of longitude at 52.55°N.
        assert!((52.50 - south - 0.009).abs() < 0.001, "{south}");
        assert!((west - (13.30 - 0.0148)).abs() < 0.001, "{west}");
        assert_eq!(
            tiling.blocks,
            vec![Block {
                origins: 0..3,
                destinations: 0..3
            }]
        );
    }

    #[test]
    fn points_farther_apart_than_the_limit_go_unbounded_in_blocks_of_ten_by_ten() {
        // Berlin to Munich: some 500 km.
        let mut points: Vec<GeoPoint> = (0..12)
            .map(|i| point(52.5, 13.3 + 0.01 * i as f64))
            .collect();
        points.push(point(48.14, 11.58));
        let tiling = tile(&points, None);
        assert_eq!(tiling.boundary, Boundary::Unbounded);
        assert_eq!(tiling.blocks.len(), 4);
        assert!(tiling
            .blocks
            .iter()
            .all(|b| b.origins.len() <= 10 && b.destinations.len() <= 10));
        assert_eq!(covered(&tiling), all_pairs(13));
    }

    #[test]
    fn the_box_decides_by_its_diagonal_with_the_margin_and_never_wraps_round_the_world() {
        // 2.5° of latitude is 278 km: a box; 3.7° is 411 km: not one.
        assert!(matches!(
            tile(&[point(50., 10.), point(52.5, 10.)], None).boundary,
            Boundary::Box(_)
        ));
        assert_eq!(
            tile(&[point(50., 10.), point(53.7, 10.)], None).boundary,
            Boundary::Unbounded
        );
        // 3.58° is 398 km: the points fit, but not with 1 km round them.
        assert_eq!(
            tile(&[point(50., 10.), point(53.58, 10.)], None).boundary,
            Boundary::Unbounded
        );
        // Across the antimeridian the box is the world's width.
        assert_eq!(
            tile(&[point(-17., 179.9), point(-17., -179.9)], None).boundary,
            Boundary::Unbounded
        );
        // At the pole it stops at 90°.
        assert!(matches!(
            tile(&[point(89.999, 0.)], None).boundary,
            Boundary::Box([_, _, _, north]) if north == 90.
        ));
    }

    #[test]
    fn a_smaller_block_tiles_every_pair_once() {
        let city: Vec<GeoPoint> = (0..25)
            .map(|i| point(52.5 + 0.002 * i as f64, 13.4))
            .collect();
        let tiling = tile(&city, Some(7));
        assert_eq!(tiling.blocks.len(), 16);
        assert_eq!(covered(&tiling), all_pairs(25));
        assert_eq!(
            tiling.blocks.last(),
            Some(&Block {
                origins: 21..25,
                destinations: 21..25
            })
        );
        assert_eq!(tile(&city, Some(0)).blocks.len(), 625);
        assert_eq!(tile(&city, None).blocks.len(), 1);
        assert!(tile(&[], None).blocks.is_empty());
    }

    #[test]
    fn vehicles_travel_as_the_nearest_mode_amazon_has() {
        let modes: Vec<RouteMatrixTravelMode> =
            VehicleType::ALL.into_iter().map(travel_mode).collect();
        assert_eq!(
            modes,
            [
                RouteMatrixTravelMode::Scooter,
                RouteMatrixTravelMode::Scooter,
                RouteMatrixTravelMode::Car,
                RouteMatrixTravelMode::Car,
                RouteMatrixTravelMode::Truck,
            ]
        );
    }

    #[test]
    fn the_departure_is_utc_to_the_second() {
        assert_eq!(
            departure_time(1_796_634_000_999).as_deref(),
            Some("2026-12-07T09:00:00Z")
        );
        assert_eq!(departure_time(i64::MAX), None);
    }

    #[test]
    fn a_block_is_placed_row_by_row_and_an_entry_with_an_error_has_no_route() {
        let road = |m: i64| {
            RouteMatrixEntry::builder()
                .distance(m)
                .duration(m / 10)
                .build()
        };
        let none = RouteMatrixEntry::builder()
            .error(aws_sdk_georoutes::types::RouteMatrixErrorCode::NoMatch)
            .build();
        let block = Block {
            origins: 1..3,
            destinations: 0..2,
        };
        let full = answered(vec![vec![road(100), none], vec![road(300), road(400)]]);
        let legs = block_legs(&full, &block).expect("the block's shape");
        let mut matrix = vec![Leg::NoRoute; 9];
        place(&mut matrix, 3, &block, legs);
        let road = |metres: f64| Leg::Road {
            metres,
            seconds: metres / 10.,
        };
        assert_eq!(matrix[3], road(100.));
        assert_eq!(matrix[4], Leg::NoRoute);
        assert_eq!((matrix[6], matrix[7]), (road(300.), road(400.)));

        let short = answered(vec![vec![road_entry(1)]]);
        let error = block_legs(&short, &block).expect_err("a row short");
        assert!(!domain::error::Classify::is_transient(&error), "{error}");
        assert!(error.to_string().contains("malformed answer"), "{error}");
    }

    fn answered(rows: Vec<Vec<RouteMatrixEntry>>) -> CalculateRouteMatrixOutput {
        CalculateRouteMatrixOutput::builder()
            .error_count(0)
            .pricing_bucket("Standard")
            .set_route_matrix(Some(rows))
            .build()
            .expect("an answer")
    }

    fn road_entry(m: i64) -> RouteMatrixEntry {
        RouteMatrixEntry::builder().distance(m).duration(m).build()
    }
}
