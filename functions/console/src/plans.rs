//! A day's dispatch plans (`/console/plans`): the newest, or the one chosen, with each
//! driver's route in order, read from the plan store the dispatch run writes.

use crate::{page, unavailable, App};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use pages::console::PlansView;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PlanQuery {
    day: String,
    plan: String,
}

pub(crate) async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<PlanQuery>,
) -> Response {
    let signed = match app.operator(&headers).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let day = match query.day.trim() {
        "" => domain::ports::utc_day(domain::clock::now_ms()).unwrap_or_default(),
        day if domain::cod::parse_day(day).is_some() => day.to_owned(),
        _ => return crate::not_found().await,
    };
    let plans = match app.plans.plans(&day).await {
        Ok(plans) => plans,
        Err(error) => {
            tracing::error!(%error, day, "plans unreadable");
            return unavailable();
        }
    };
    let shown = if query.plan.is_empty() {
        plans.last()
    } else {
        match plans.iter().find(|plan| plan.id == query.plan) {
            Some(plan) => Some(plan),
            None => return crate::not_found().await,
        }
    };
    page(
        StatusCode::OK,
        pages::console::plans(&PlansView {
            operator: &signed.operator(),
            day: &day,
            plans: &plans,
            shown,
        }),
    )
}
