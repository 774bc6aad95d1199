//! Drivers' routes: `PUT /v1/drivers/{driver_id}/route` gives a driver an ordered list of
//! tasks (what a dispatch plan applies), `GET` reads it back. docs/sandbox-courier-api.md
//! has the contract.
//!
//! A route call never takes a task from a driver except by giving it to another, and never
//! moves a task the driver has started: the driver's picked-up and out-for-delivery tasks
//! stay first, in their order; then the listed tasks, in the listed order; then any task
//! the driver had and the call did not list. The same call twice changes nothing.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use axum::response::{IntoResponse, Response};

use super::errors::TaskError;
use super::model::{StatusChange, TaskStatus};
use super::store::{ChangeError, TaskStore};
use super::webhooks;
use crate::error::{parse_json, ApiError};
use crate::state::AppState;

/// At most this many tasks per call (Onfleet's optimization takes 2,000 at once too).
pub(crate) const MAX_ROUTE_TASKS: usize = 2_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteRequest {
    /// The caller's plan id, kept with the route for the log.
    plan: String,
    tasks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) driver_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<String>,
    pub(crate) tasks: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RouteAnswer {
    #[serde(flatten)]
    route: Route,
    /// Tasks this call moved from `created` to `assigned`.
    assigned: usize,
    /// Tasks this call took from another driver's route.
    reassigned: usize,
}

/// The drivers' routes.
#[derive(Debug, Default)]
pub(crate) struct RouteBook {
    routes: HashMap<String, Route>,
}

fn valid_driver_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn started(status: TaskStatus) -> bool {
    matches!(status, TaskStatus::PickedUp | TaskStatus::OutForDelivery)
}

impl RouteBook {
    pub(crate) fn all(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.routes
            .iter()
            .map(|(driver, route)| (driver.clone(), route.tasks.clone()))
            .collect()
    }

    pub(crate) fn get(&self, driver: &str) -> Route {
        self.routes.get(driver).cloned().unwrap_or_else(|| Route {
            driver_id: driver.to_owned(),
            plan: None,
            tasks: Vec::new(),
        })
    }

    /// Checks every listed task, then applies the route; nothing changes on an error.
    /// Returns the route and the ids of the tasks whose status changed.
    fn assign(
        &mut self,
        tasks: &mut TaskStore,
        driver: &str,
        plan: &str,
        listed: &[String],
        now: OffsetDateTime,
    ) -> Result<(RouteAnswer, Vec<String>), ChangeError> {
        for id in listed {
            let task = tasks
                .get(id)
                .ok_or_else(|| ChangeError::NotFound(id.clone()))?;
            match task.status {
                TaskStatus::Cancelled => return Err(ChangeError::Cancelled(id.clone())),
                TaskStatus::Delivered | TaskStatus::Failed | TaskStatus::Returned => {
                    return Err(ChangeError::InProgress {
                        id: id.clone(),
                        status: task.status,
                    })
                }
                status if started(status) && task.driver_id.as_deref() != Some(driver) => {
                    return Err(ChangeError::InProgress {
                        id: id.clone(),
                        status,
                    })
                }
                _ => {}
            }
        }

        let mut reassigned = 0;
        for (other, route) in &mut self.routes {
            if other != driver {
                let before = route.tasks.len();
                route.tasks.retain(|t| !listed.contains(t));
                reassigned += before - route.tasks.len();
            }
        }
        let previous = self.get(driver).tasks;
        let is_started = |id: &String| tasks.get(id).is_some_and(|t| started(t.status));
        let mut order: Vec<String> = previous
            .iter()
            .filter(|id| is_started(id))
            .cloned()
            .collect();
        // Started tasks the driver got some other way (an advance) come first too.
        let more: Vec<String> = listed
            .iter()
            .filter(|id| is_started(id) && !order.contains(id))
            .cloned()
            .collect();
        order.extend(more);
        order.extend(listed.iter().filter(|id| !is_started(id)).cloned());
        let kept: Vec<String> = previous
            .iter()
            .filter(|id| !order.contains(id))
            .cloned()
            .collect();
        order.extend(kept);

        let mut changed = Vec::new();
        let mut assigned = 0;
        for id in listed {
            let Some(task) = tasks.get_mut(id) else {
                continue;
            };
            if task.status == TaskStatus::Created {
                task.status = TaskStatus::Assigned;
                task.status_history.push(StatusChange {
                    status: TaskStatus::Assigned,
                    at: now,
                });
                assigned += 1;
                changed.push(id.clone());
            }
            task.driver_id = Some(driver.to_owned());
        }
        let route = Route {
            driver_id: driver.to_owned(),
            plan: Some(plan.to_owned()),
            tasks: order,
        };
        self.routes.insert(driver.to_owned(), route.clone());
        Ok((
            RouteAnswer {
                route,
                assigned,
                reassigned,
            },
            changed,
        ))
    }
}

fn driver_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(driver) = path?;
    if !valid_driver_id(&driver) {
        return Err(ApiError::invalid(
            "driver_id",
            "a driver id is 1-64 letters, digits, '_' or '-'",
        ));
    }
    Ok(driver)
}

/// `PUT /v1/drivers/{driver_id}/route`.
pub(super) async fn put_route(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Faults strike before anything else, like an outage in front of the real service.
    let hold_back =
        match super::handlers::struck(app.with(|store| store.faults.assign_route.strike())) {
            Ok(hold_back) => hold_back,
            Err(answer) => return *answer,
        };
    let mut response = match assign(&app, path, body) {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error.into_response(),
    };
    if let Some(hold_back) = hold_back {
        response.extensions_mut().insert(hold_back);
    }
    response
}

fn assign(
    app: &AppState,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<RouteAnswer, TaskError> {
    let driver = driver_path(path)?;
    let request: RouteRequest = parse_json(&body.map_err(ApiError::from)?)?;
    if request.plan.trim().is_empty() || request.plan.len() > 200 {
        return Err(ApiError::invalid("plan", "plan must be 1-200 characters").into());
    }
    if request.tasks.len() > MAX_ROUTE_TASKS {
        return Err(ApiError::invalid(
            "tasks",
            format!("at most {MAX_ROUTE_TASKS} tasks per route"),
        )
        .into());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = request.tasks.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(ApiError::invalid("tasks", format!("task {twice} is listed twice")).into());
    }
    let now = OffsetDateTime::now_utc();
    let (answer, outgoing) = app.with(|store| {
        let (answer, changed) = store.routes.assign(
            &mut store.tasks,
            &driver,
            &request.plan,
            &request.tasks,
            now,
        )?;
        let outgoing: Vec<_> = changed
            .iter()
            .filter_map(|id| store.tasks.get(id))
            .filter_map(|task| store.webhooks.prepare(task, app.base_url()))
            .collect();
        Ok::<_, TaskError>((answer, outgoing))
    })?;
    for one in outgoing {
        webhooks::dispatch(app, Some(one));
    }
    Ok(answer)
}

/// `GET /v1/drivers/{driver_id}/route`.
pub(super) async fn get_route(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Route>, ApiError> {
    let driver = driver_path(path)?;
    Ok(Json(app.with(|store| store.routes.get(&driver))))
}
