//! A fake of Amazon Location Service's Routes API, `CalculateRouteMatrix`
//! (`POST /v2/route-matrix`; also `POST /route-matrix`, the path SDKs generated before AWS
//! moved `/v2` into the operation send to a custom endpoint). The contract's shapes and
//! limits, with no map behind them: a road is the great circle × [`ROUTE_MATRIX_DETOUR`],
//! driven at a fixed speed per travel mode.
//!
//! A position within [`ROUTE_MATRIX_NO_ROAD_RADIUS_M`] of Null Island (`[0, 0]`) has no
//! road: every pair touching it answers `NoMatch`. A position outside the request's
//! routing boundary answers `OutOfBounds`. docs/sandbox-courier-api.md, Appendix F.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::geo::{Invalid, Reason};
use crate::state::AppState;

/// How much longer than the great circle a road is.
pub const ROUTE_MATRIX_DETOUR: f64 = 1.3;
/// Positions this close to Null Island (`[0, 0]`) are on no road.
pub const ROUTE_MATRIX_NO_ROAD_RADIUS_M: f64 = 1_000.;
/// The mean earth radius (IUGG) the great circles are measured on.
pub const ROUTE_MATRIX_EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The longest diagonal (bounding box) or vertex distance (polygon) of a boundary.
const MAX_EXTENT_M: f64 = 400_000.;
/// The largest circle radius, and AutoCircle's `Margin` + `MaxRadius`.
const MAX_RADIUS_M: f64 = 200_000.;

/// Every member of `CalculateRouteMatrixRequest`'s body; those not listed in the docs are
/// accepted and ignored.
const MEMBERS: &[&str] = &[
    "Allow",
    "Avoid",
    "DepartNow",
    "DepartureTime",
    "Destinations",
    "Exclude",
    "OptimizeRoutingFor",
    "Origins",
    "RoutingBoundary",
    "Traffic",
    "TravelMode",
    "TravelModeOptions",
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/route-matrix", post(calculate))
        .route("/route-matrix", post(calculate))
}

/// One accepted `CalculateRouteMatrix` call, for tests to see how a client tiles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteMatrixCallView {
    /// `/v2/route-matrix` or `/route-matrix`.
    pub path: String,
    pub origins: usize,
    pub destinations: usize,
    pub travel_mode: String,
    /// As answered: `{"Unbounded": true}` or `{"Geometry": {...}}`.
    pub routing_boundary: Value,
    pub departure_time: Option<String>,
}

/// `[longitude, latitude]`, as the API has them.
type Position = [f64; 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Car,
    Pedestrian,
    Scooter,
    Truck,
}

impl Mode {
    const ALL: [Mode; 4] = [Mode::Car, Mode::Pedestrian, Mode::Scooter, Mode::Truck];

    fn name(self) -> &'static str {
        match self {
            Mode::Car => "Car",
            Mode::Pedestrian => "Pedestrian",
            Mode::Scooter => "Scooter",
            Mode::Truck => "Truck",
        }
    }

    /// Door to door in a city, lights and junctions included.
    fn km_h(self) -> f64 {
        match self {
            Mode::Car => 30.,
            Mode::Pedestrian => 5.,
            Mode::Scooter | Mode::Truck => 25.,
        }
    }
}

/// Where routes may go.
#[derive(Debug, Clone, PartialEq)]
enum Area {
    Unbounded,
    /// `[west, south, east, north]`.
    Box([f64; 4]),
    Circle {
        center: Position,
        radius: f64,
    },
    /// One closed ring.
    Polygon(Vec<Position>),
}

impl Area {
    fn holds(&self, p: Position) -> bool {
        match self {
            Area::Unbounded => true,
            Area::Box([west, south, east, north]) => {
                (*west..=*east).contains(&p[0]) && (*south..=*north).contains(&p[1])
            }
            Area::Circle { center, radius } => metres(*center, p) <= *radius,
            Area::Polygon(ring) => inside(ring, p),
        }
    }

    /// The boundary as the answer's `RoutingBoundary` has it.
    fn echo(&self) -> Value {
        match self {
            Area::Unbounded => json!({"Unbounded": true}),
            Area::Box(corners) => json!({"Geometry": {"BoundingBox": corners}}),
            Area::Circle { center, radius } => {
                json!({"Geometry": {"Circle": {"Center": center, "Radius": radius}}})
            }
            Area::Polygon(ring) => json!({"Geometry": {"Polygon": [ring]}}),
        }
    }

    /// At most (origins, destinations, pairs) per call.
    fn limits(&self) -> (usize, usize, usize) {
        match self {
            Area::Unbounded => (15, 100, 100),
            _ => (500, 500, 160_000),
        }
    }
}

/// A valid request.
#[derive(Debug)]
struct Matrix {
    origins: Vec<Position>,
    destinations: Vec<Position>,
    mode: Mode,
    area: Area,
    departure_time: Option<String>,
}

async fn calculate(State(app): State<AppState>, uri: Uri, body: Bytes) -> Response {
    let matrix = match parse(&body) {
        Ok(matrix) => matrix,
        Err(invalid) => return invalid.into_response(),
    };
    let call = RouteMatrixCallView {
        path: uri.path().to_owned(),
        origins: matrix.origins.len(),
        destinations: matrix.destinations.len(),
        travel_mode: matrix.mode.name().to_owned(),
        routing_boundary: matrix.area.echo(),
        departure_time: matrix.departure_time.clone(),
    };
    app.with(|store| store.route_matrix_calls.push(call));
    answer(&matrix)
}

fn answer(matrix: &Matrix) -> Response {
    let rows: Vec<Vec<Value>> = matrix
        .origins
        .iter()
        .map(|o| {
            matrix
                .destinations
                .iter()
                .map(|d| entry(matrix, *o, *d))
                .collect()
        })
        .collect();
    let errors = rows
        .iter()
        .flatten()
        .filter(|e| e.get("Error").is_some())
        .count();
    (
        StatusCode::OK,
        [(
            HeaderName::from_static("x-amz-geo-pricing-bucket"),
            "Standard",
        )],
        Json(json!({
            "ErrorCount": errors,
            "RouteMatrix": rows,
            "RoutingBoundary": matrix.area.echo(),
        })),
    )
        .into_response()
}

fn entry(matrix: &Matrix, from: Position, to: Position) -> Value {
    let failed = |code: &str| json!({"Distance": 0, "Duration": 0, "Error": code});
    if [from, to]
        .iter()
        .any(|p| metres(*p, [0., 0.]) <= ROUTE_MATRIX_NO_ROAD_RADIUS_M)
    {
        return failed("NoMatch");
    }
    if !(matrix.area.holds(from) && matrix.area.holds(to)) {
        return failed("OutOfBounds");
    }
    let distance = (metres(from, to) * ROUTE_MATRIX_DETOUR).round();
    let duration = (distance / (matrix.mode.km_h() / 3.6)).round();
    json!({"Distance": distance as i64, "Duration": duration as i64})
}

/// The great-circle distance, by the haversine formula.
fn metres(a: Position, b: Position) -> f64 {
    let (phi1, phi2) = (a[1].to_radians(), b[1].to_radians());
    let h = ((phi2 - phi1) / 2.).sin().powi(2)
        + phi1.cos() * phi2.cos() * ((b[0] - a[0]).to_radians() / 2.).sin().powi(2);
    2. * ROUTE_MATRIX_EARTH_RADIUS_M * h.sqrt().min(1.).asin()
}

/// Ray casting on the plane of longitude and latitude: enough for a city's outline.
fn inside(ring: &[Position], p: Position) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (pair[0], pair[1]);
        if (y1 > p[1]) != (y2 > p[1]) && p[0] < x1 + (p[1] - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

fn parse(body: &[u8]) -> Result<Matrix, Invalid> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Invalid::new(
            Reason::CannotParse,
            "body",
            format!("the body is not JSON: {e}"),
        )
    })?;
    let fields = object(&value, "body")?;
    known(fields, MEMBERS, "")?;
    let origins = positions(fields.get("Origins"), "Origins")?;
    let destinations = positions(fields.get("Destinations"), "Destinations")?;
    let mode = travel_mode(fields.get("TravelMode"))?;
    one_of(
        fields.get("OptimizeRoutingFor"),
        "OptimizeRoutingFor",
        &["FastestRoute", "ShortestRoute"],
    )?;
    if let Some(now) = fields.get("DepartNow") {
        now.as_bool()
            .ok_or_else(|| wrong_type("DepartNow", "a boolean"))?;
    }
    let departure_time = departure(fields.get("DepartureTime"))?;
    let every: Vec<Position> = origins.iter().chain(&destinations).copied().collect();
    let area = boundary(fields.get("RoutingBoundary"), &every)?;
    within_limits(&area, origins.len(), destinations.len())?;
    Ok(Matrix {
        origins,
        destinations,
        mode,
        area,
        departure_time,
    })
}

fn wrong_type(field: &str, expected: &str) -> Invalid {
    Invalid::new(
        Reason::CannotParse,
        field,
        format!("{field} must be {expected}"),
    )
}

fn failed(field: &str, message: impl Into<String>) -> Invalid {
    Invalid::new(Reason::FieldValidationFailed, field, message)
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Invalid> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(field, "an object"))
}

/// `prefix`: the path of the object whose members these are ("" at the top).
fn known(fields: &Map<String, Value>, members: &[&str], prefix: &str) -> Result<(), Invalid> {
    match fields.keys().find(|k| !members.contains(&k.as_str())) {
        Some(unknown) => {
            let path = format!("{prefix}{unknown}");
            Err(Invalid::new(
                Reason::UnknownField,
                &path,
                format!("{path} is not a member of the request"),
            ))
        }
        None => Ok(()),
    }
}

fn required<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a Value, Invalid> {
    value.ok_or_else(|| Invalid::new(Reason::Missing, field, format!("{field} is required")))
}

/// `Origins` or `Destinations`: at least one `{"Position": [lng, lat], "Options"?}`.
fn positions(value: Option<&Value>, field: &str) -> Result<Vec<Position>, Invalid> {
    let list = required(value, field)?
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list"))?;
    if list.is_empty() {
        return Err(failed(
            field,
            format!("{field} must have at least 1 element"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, place)| {
            let path = format!("{field}[{i}]");
            let members = object(place, &path)?;
            known(members, &["Position", "Options"], &format!("{path}."))?;
            let position = format!("{path}.Position");
            point(required(members.get("Position"), &position)?, &position)
        })
        .collect()
}

/// `[longitude, latitude]` on the earth.
fn point(value: &Value, field: &str) -> Result<Position, Invalid> {
    let numbers = numbers(value, field)?;
    let [lng, lat] = numbers[..] else {
        return Err(failed(
            field,
            format!("{field} must be [longitude, latitude]"),
        ));
    };
    if !(-180.0..=180.).contains(&lng) || !(-90.0..=90.).contains(&lat) {
        return Err(failed(
            field,
            format!("{field} [{lng}, {lat}] is not on the earth"),
        ));
    }
    Ok([lng, lat])
}

fn numbers(value: &Value, field: &str) -> Result<Vec<f64>, Invalid> {
    value
        .as_array()
        .and_then(|items| items.iter().map(Value::as_f64).collect::<Option<Vec<_>>>())
        .ok_or_else(|| wrong_type(field, "a list of numbers"))
}

fn one_of<'a>(
    value: Option<&'a Value>,
    field: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, Invalid> {
    let Some(value) = value else {
        return Ok(None);
    };
    let name = value
        .as_str()
        .ok_or_else(|| wrong_type(field, "a string"))?;
    if allowed.contains(&name) {
        Ok(Some(name))
    } else {
        Err(failed(field, format!("{field} must be one of {allowed:?}")))
    }
}

fn travel_mode(value: Option<&Value>) -> Result<Mode, Invalid> {
    let names = Mode::ALL.map(Mode::name);
    let name = one_of(value, "TravelMode", &names)?.unwrap_or("Car");
    Ok(Mode::ALL
        .into_iter()
        .find(|mode| mode.name() == name)
        .unwrap_or(Mode::Car))
}

/// `YYYY-MM-DDThh:mm:ss(.s{0,9})?(Z|±hh:mm)`.
fn departure(value: Option<&Value>) -> Result<Option<String>, Invalid> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type("DepartureTime", "a string"))?;
    let rfc3339 = time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(text, &rfc3339) {
        Ok(_) if text.as_bytes().get(10) == Some(&b'T') => Ok(Some(text.to_owned())),
        _ => Err(failed(
            "DepartureTime",
            format!("DepartureTime {text:?} is not YYYY-MM-DDThh:mm:ssZ"),
        )),
    }
}

/// `RoutingBoundary`: `{"Unbounded": true}` (also when absent) or `{"Geometry": {...}}`.
fn boundary(value: Option<&Value>, every: &[Position]) -> Result<Area, Invalid> {
    let Some(value) = value else {
        return Ok(Area::Unbounded);
    };
    let field = "RoutingBoundary";
    let members = object(value, field)?;
    known(members, &["Geometry", "Unbounded"], "RoutingBoundary.")?;
    let unbounded = match members.get("Unbounded") {
        Some(flag) => flag
            .as_bool()
            .ok_or_else(|| wrong_type("RoutingBoundary.Unbounded", "a boolean"))?,
        None => false,
    };
    match (members.get("Geometry"), unbounded) {
        (None, true) => Ok(Area::Unbounded),
        (Some(geometry), false) => geometry_area(geometry, every),
        (Some(_), true) => Err(Invalid::new(
            Reason::Other,
            field,
            "RoutingBoundary takes Geometry or Unbounded: true, not both",
        )),
        (None, false) => Err(failed(
            field,
            "RoutingBoundary needs either Geometry or Unbounded: true",
        )),
    }
}

fn geometry_area(value: &Value, every: &[Position]) -> Result<Area, Invalid> {
    let field = "RoutingBoundary.Geometry";
    let members = object(value, field)?;
    let kinds = ["AutoCircle", "Circle", "BoundingBox", "Polygon"];
    known(members, &kinds, "RoutingBoundary.Geometry.")?;
    let [(kind, shape)] = members.iter().collect::<Vec<_>>()[..] else {
        return Err(failed(
            field,
            format!("{field} must have exactly one of {kinds:?}"),
        ));
    };
    let path = format!("{field}.{kind}");
    match kind.as_str() {
        "BoundingBox" => bounding_box(shape, &path),
        "Circle" => circle(shape, &path),
        "Polygon" => polygon(shape, &path),
        _ => auto_circle(shape, &path, every),
    }
}

fn bounding_box(value: &Value, field: &str) -> Result<Area, Invalid> {
    let corners = numbers(value, field)?;
    let [west, south, east, north] = corners[..] else {
        return Err(failed(
            field,
            format!("{field} must be [west, south, east, north]"),
        ));
    };
    point(&json!([west, south]), field)?;
    point(&json!([east, north]), field)?;
    if west >= east || south >= north {
        return Err(failed(
            field,
            format!("{field} must be south-west then north-east"),
        ));
    }
    let diagonal = extent([west, south], [east, north]);
    if diagonal > MAX_EXTENT_M {
        return Err(failed(
            field,
            format!("{field}'s diagonal is {diagonal:.0} m, more than {MAX_EXTENT_M} m"),
        ));
    }
    Ok(Area::Box([west, south, east, north]))
}

/// As [`metres`], but a span half the world wide or more is never short (the great circle
/// would go round the other way).
fn extent(a: Position, b: Position) -> f64 {
    if (b[0] - a[0]).abs() >= 180. {
        f64::INFINITY
    } else {
        metres(a, b)
    }
}

fn circle(value: &Value, field: &str) -> Result<Area, Invalid> {
    let members = object(value, field)?;
    known(members, &["Center", "Radius"], &format!("{field}."))?;
    let center_path = format!("{field}.Center");
    let center = point(required(members.get("Center"), &center_path)?, &center_path)?;
    let radius_path = format!("{field}.Radius");
    let radius = radius_m(required(members.get("Radius"), &radius_path)?, &radius_path)?;
    Ok(Area::Circle { center, radius })
}

fn radius_m(value: &Value, field: &str) -> Result<f64, Invalid> {
    let radius = value
        .as_f64()
        .ok_or_else(|| wrong_type(field, "a number"))?;
    if (0.0..=MAX_RADIUS_M).contains(&radius) {
        Ok(radius)
    } else {
        Err(failed(
            field,
            format!("{field} must be 0 to {MAX_RADIUS_M} m"),
        ))
    }
}

/// The smallest circle round the points' box centre that holds them all, plus `Margin`,
/// but no wider than `MaxRadius` (defaults 0 and 200,000 m): answered as that `Circle`.
fn auto_circle(value: &Value, field: &str, every: &[Position]) -> Result<Area, Invalid> {
    let members = object(value, field)?;
    known(members, &["Margin", "MaxRadius"], &format!("{field}."))?;
    let setting = |name: &str, default: f64| match members.get(name) {
        Some(v) => radius_m(v, &format!("{field}.{name}")),
        None => Ok(default),
    };
    // Without a MaxRadius the circle may grow as far as the margin leaves room for.
    let margin = setting("Margin", 0.)?;
    let max = setting("MaxRadius", MAX_RADIUS_M - margin)?;
    if margin + max > MAX_RADIUS_M {
        return Err(failed(
            field,
            format!("{field}'s Margin + MaxRadius exceeds {MAX_RADIUS_M} m"),
        ));
    }
    let fold =
        |f: fn(f64, f64) -> f64, start: f64, i: usize| every.iter().fold(start, |m, p| f(m, p[i]));
    let center = [
        (fold(f64::min, 180., 0) + fold(f64::max, -180., 0)) / 2.,
        (fold(f64::min, 90., 1) + fold(f64::max, -90., 1)) / 2.,
    ];
    let reach = every.iter().map(|p| metres(center, *p)).fold(0., f64::max);
    Ok(Area::Circle {
        center,
        radius: (reach + margin).min(max).round(),
    })
}

/// Exactly one closed ring of at least 4 positions, no two more than 400 km apart.
fn polygon(value: &Value, field: &str) -> Result<Area, Invalid> {
    let rings = value
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of rings"))?;
    let [ring] = &rings[..] else {
        return Err(failed(field, format!("{field} must have exactly one ring")));
    };
    let vertices = ring
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of positions"))?
        .iter()
        .enumerate()
        .map(|(i, p)| point(p, &format!("{field}[0][{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if vertices.len() < 4 || vertices.first() != vertices.last() {
        return Err(failed(
            field,
            format!("{field}'s ring must be closed, with at least 4 positions"),
        ));
    }
    let widest = vertices
        .iter()
        .flat_map(|a| vertices.iter().map(move |b| extent(*a, *b)))
        .fold(0., f64::max);
    if widest > MAX_EXTENT_M {
        return Err(failed(
            field,
            format!("{field}'s vertices are more than {MAX_EXTENT_M} m apart"),
        ));
    }
    Ok(Area::Polygon(vertices))
}

fn within_limits(area: &Area, origins: usize, destinations: usize) -> Result<(), Invalid> {
    let (most_origins, most_destinations, most_pairs) = area.limits();
    if origins > most_origins {
        return Err(failed(
            "Origins",
            format!("at most {most_origins} Origins with this RoutingBoundary, not {origins}"),
        ));
    }
    if destinations > most_destinations {
        return Err(failed(
            "Destinations",
            format!("at most {most_destinations} Destinations with this RoutingBoundary, not {destinations}"),
        ));
    }
    if origins * destinations > most_pairs {
        return Err(Invalid {
            reason: Reason::FieldValidationFailed,
            fields: vec!["Origins".into(), "Destinations".into()],
            message: format!(
                "at most {most_pairs} origin-destination pairs with this RoutingBoundary, not {}",
                origins * destinations
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_holds_what_is_inside_it() {
        let square = vec![[0., 0.], [2., 0.], [2., 2.], [0., 2.], [0., 0.]];
        assert!(inside(&square, [1., 1.]));
        assert!(!inside(&square, [3., 1.]));
        assert!(!inside(&square, [1., -0.5]));
    }

    #[test]
    fn an_auto_circle_reaches_every_point_plus_the_margin() {
        let every = [[13.30, 52.50], [13.50, 52.50]];
        let Ok(Area::Circle { center, radius }) =
            auto_circle(&json!({"Margin": 500}), "AutoCircle", &every)
        else {
            panic!("a circle");
        };
        assert!((center[0] - 13.40).abs() < 1e-9 && (center[1] - 52.50).abs() < 1e-9);
        assert!((radius - (metres(center, every[0]) + 500.).round()).abs() < 1e-9);
        assert!(auto_circle(
            &json!({"Margin": 100_000, "MaxRadius": 150_000}),
            "A",
            &every
        )
        .is_err());
    }
}
