//! A plan as a page a dispatcher opens: an SVG drawing of every route (no map tiles exist
//! offline, so the routes are drawn on their own coordinates), then a table per driver.
//! Pure, and a function of the plan only, so writing it again writes the same bytes.

use domain::dispatch::{local_clock, DispatchPlan, GeoPoint, Visit};
use domain::html::escape;
use std::fmt::Write as _;

/// Where a plan's page is kept in the reports bucket.
pub fn key(plan: &DispatchPlan) -> String {
    let id: String = plan
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("dispatch/{}/{id}.html", plan.day)
}

/// Distinct on white, in route order; more routes reuse them.
const COLOURS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];
const WIDTH: f64 = 800.;
const HEIGHT: f64 = 600.;
const MARGIN: f64 = 30.;

/// Longitude scaled by the cosine of the middle latitude: distances look right on a city.
struct Projection {
    west: f64,
    north: f64,
    scale: f64,
    squeeze: f64,
}

impl Projection {
    fn over(points: &[GeoPoint]) -> Projection {
        let (mut south, mut north, mut west, mut east) = (90f64, -90f64, 180f64, -180f64);
        for p in points {
            south = south.min(p.lat);
            north = north.max(p.lat);
            west = west.min(p.lon);
            east = east.max(p.lon);
        }
        if points.is_empty() {
            (south, north, west, east) = (0., 0., 0., 0.);
        }
        let squeeze = ((south + north) / 2.).to_radians().cos().max(0.01);
        let span_x = ((east - west) * squeeze).max(1e-6);
        let span_y = (north - south).max(1e-6);
        let scale = ((WIDTH - 2. * MARGIN) / span_x).min((HEIGHT - 2. * MARGIN) / span_y);
        Projection {
            west,
            north,
            scale,
            squeeze,
        }
    }

    fn xy(&self, p: GeoPoint) -> (f64, f64) {
        (
            MARGIN + (p.lon - self.west) * self.squeeze * self.scale,
            MARGIN + (self.north - p.lat) * self.scale,
        )
    }
}

/// The page: title, the drawing, a table per driver, what was left out.
pub fn render(plan: &DispatchPlan) -> String {
    let zone = plan.time_zone.as_str();
    let points: Vec<GeoPoint> = plan
        .routes
        .iter()
        .flat_map(|r| {
            std::iter::once(r.start)
                .chain(r.end)
                .chain(r.stops.iter().map(|s| s.location))
                .chain(r.pickups.iter().map(|p| p.location))
        })
        .collect();
    let projection = Projection::over(&points);
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Plan {day}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style></head><body>\n\
         <h1>Routes for {day} ({zone})</h1>\n<p>Plan {id}, by {by}: {routes} routes, {stops} stops, \
         {km:.1} km, {left} not planned.</p>\n",
        day = escape(&plan.day),
        zone = escape(zone),
        id = escape(&plan.id),
        by = escape(&plan.requested_by),
        routes = plan.routes.len(),
        stops = plan.routes.iter().map(|r| r.stops.len()).sum::<usize>(),
        km = plan.distance_m as f64 / 1000.,
        left = plan.unplanned.len(),
    );
    let _ = writeln!(
        html,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"routes\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>"
    );
    for (i, route) in plan.routes.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let visits = route.visits();
        let path: Vec<String> = std::iter::once(route.start)
            .chain(visits.iter().map(|v| v.location()))
            .chain(route.end)
            .map(|p| {
                let (x, y) = projection.xy(p);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            html,
            "<polyline class=\"route\" data-driver=\"{driver}\" points=\"{points}\" fill=\"none\" \
             stroke=\"{colour}\" stroke-width=\"2\"/>",
            driver = escape(&route.driver),
            points = path.join(" "),
        );
        let (x, y) = projection.xy(route.start);
        let _ = writeln!(
            html,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"><title>{} start</title></rect>",
            x - 5.,
            y - 5.,
            escape(&route.driver)
        );
        for pickup in &route.pickups {
            let (x, y) = projection.xy(pickup.location);
            let _ = writeln!(
                html,
                "<polygon class=\"pickup\" points=\"{x:.1},{top:.1} {right:.1},{y:.1} {x:.1},{bottom:.1} {left:.1},{y:.1}\" \
                 fill=\"white\" stroke=\"{colour}\" stroke-width=\"2\"><title>{driver}: pick up at {place} {eta}</title></polygon>",
                top = y - 7.,
                bottom = y + 7.,
                left = x - 7.,
                right = x + 7.,
                driver = escape(&route.driver),
                place = escape(&pickup.place),
                eta = local_clock(pickup.eta_ms, zone),
            );
        }
        for (n, stop) in route.stops.iter().enumerate() {
            let (x, y) = projection.xy(stop.location);
            let _ = writeln!(
                html,
                "<circle class=\"stop\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{colour}\">\
                 <title>{driver} #{n}: {order} {eta}</title></circle>\
                 <text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"10\">{n}</text>",
                driver = escape(&route.driver),
                n = n + 1,
                order = escape(stop.order_name.as_deref().unwrap_or("")),
                eta = local_clock(stop.eta_ms, zone),
                tx = x + 7.,
                ty = y - 7.,
            );
        }
    }
    html.push_str("</svg>\n");
    for (i, route) in plan.routes.iter().enumerate() {
        let _ = writeln!(
            html,
            "<h2 style=\"color:{colour}\">{driver} ({vehicle})</h2>\n<p>Leaves {leaves}, done {done}, \
             {km:.1} km.</p>\n<table><tr><th>#</th><th>arrives</th><th>order</th><th>shipment</th>\
             <th>task</th></tr>",
            colour = COLOURS[i % COLOURS.len()],
            driver = escape(&route.driver),
            vehicle = route.vehicle.as_str(),
            leaves = local_clock(route.departs_ms, zone),
            done = local_clock(route.done_ms, zone),
            km = route.distance_m as f64 / 1000.,
        );
        let mut delivered = 0;
        for visit in route.visits() {
            let row = match visit {
                Visit::Pickup(pickup) => format!(
                    "<tr class=\"pickup\"><td>pick up</td><td>{}</td><td>at {}</td><td>{}</td><td></td></tr>",
                    local_clock(pickup.eta_ms, zone),
                    escape(&pickup.place),
                    escape(&pickup.shipment.to_string()),
                ),
                Visit::Delivery(stop) => {
                    delivered += 1;
                    format!(
                        "<tr><td>{delivered}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        local_clock(stop.eta_ms, zone),
                        escape(stop.order_name.as_deref().unwrap_or("")),
                        escape(&stop.shipment.to_string()),
                        escape(&stop.task_id),
                    )
                }
            };
            let _ = writeln!(html, "{row}");
        }
        html.push_str("</table>\n");
    }
    if !plan.unplanned.is_empty() {
        html.push_str(
            "<h2>Not planned</h2>\n<table><tr><th>shipment</th><th>reason</th><th>detail</th></tr>\n",
        );
        for left in &plan.unplanned {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&left.shipment.to_string()),
                left.reason.code(),
                escape(&left.detail)
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    html
}
