//! A day's dispatch plans: each driver's route in order with its expected times (in the
//! fleet's time zone), and the shipments no driver could take. The newest plan first; the
//! earlier ones a click away.

use super::{encode, layout, shipment_link, Operator};
use domain::dispatch::{local_clock, DispatchPlan, Visit};
use maud::html;

pub struct PlansView<'a> {
    pub operator: &'a Operator<'a>,
    /// YYYY-MM-DD, the fleet's local day.
    pub day: &'a str,
    /// The day's plans, oldest first.
    pub plans: &'a [DispatchPlan],
    /// The plan shown (its id); the newest when none is chosen.
    pub shown: Option<&'a DispatchPlan>,
}

pub fn plans(view: &PlansView) -> String {
    let day = view.day;
    let body = html! {
        h1 { "Dispatch plan · " (day) }
        form.filter method="get" action="/console/plans" {
            label for="day" { "Day" }
            input id="day" name="day" type="date" value=(day) required;
            button type="submit" { "Show" }
        }
        @match view.shown {
            None => {
                p { "No plan for " (day) " yet. The scheduled run plans each day; " code { "courier-bridge dispatch plan --day " (day) } " plans it now." }
            }
            Some(plan) => {
                @let zone = plan.time_zone.as_str();
                @let stops: usize = plan.routes.iter().map(|r| r.stops.len()).sum();
                p { "Plan " strong { (plan.id) } ", made " (plan.created_at) " by " (plan.requested_by) ": "
                    (plan.routes.len()) " routes, " (stops) " stops, "
                    (format!("{:.1}", plan.distance_m as f64 / 1000.)) " km, "
                    (plan.unplanned.len()) " not planned. Times in " (zone) "." }
                @for route in &plan.routes {
                    table {
                        caption { (route.driver) " (" (route.vehicle.as_str()) "): leaves "
                            (local_clock(route.departs_ms, zone)) ", done " (local_clock(route.done_ms, zone)) ", "
                            (format!("{:.1}", route.distance_m as f64 / 1000.)) " km" }
                        thead { tr {
                            th scope="col" { "#" } th scope="col" { "Arrives" } th scope="col" { "Order" }
                            th scope="col" { "Shipment" } th scope="col" { "Task" }
                        } }
                        tbody {
                            @for (n, visit) in route.visits().iter().enumerate() {
                                @match visit {
                                    Visit::Pickup(pickup) => tr {
                                        td { (n + 1) } td { (local_clock(pickup.eta_ms, zone)) }
                                        td { "pick up at " (pickup.place) }
                                        td { a href=(shipment_link(&pickup.shipment.to_string())) { (pickup.shipment) } }
                                        td {}
                                    },
                                    Visit::Delivery(stop) => tr {
                                        td { (n + 1) } td { (local_clock(stop.eta_ms, zone)) }
                                        td { (stop.order_name.as_deref().unwrap_or("")) }
                                        td { a href=(shipment_link(&stop.shipment.to_string())) { (stop.shipment) } }
                                        td { (stop.task_id) }
                                    },
                                }
                            }
                        }
                    }
                }
                @if !plan.unplanned.is_empty() {
                    h2 { "Not planned" }
                    p { "Each is a review item in the inbox." }
                    ul {
                        @for left in &plan.unplanned {
                            li { a href=(shipment_link(&left.shipment.to_string())) { (left.shipment) } ": " (left.detail) }
                        }
                    }
                }
            }
        }
        @if view.plans.len() > 1 {
            h2 { "Plans of " (day) }
            ol {
                @for plan in view.plans {
                    li {
                        @if view.shown.is_some_and(|shown| shown.id == plan.id) {
                            strong { (plan.id) } " (shown)"
                        } @else {
                            a href=(format!("/console/plans?day={}&plan={}", encode(day), encode(&plan.id))) { (plan.id) }
                        }
                        " · " (plan.created_at) " · " (plan.requested_by)
                    }
                }
            }
        }
    };
    layout(&format!("Dispatch plan {day}"), Some(view.operator), body)
}
