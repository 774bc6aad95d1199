//! Handlers of the `/v1` routes. Auth and request logging are middleware (see `super::router`).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::{internal_error, TaskError};
use super::model::{NewTask, Task, TaskUpdate};
use super::store::AdvanceError;
use super::validate::TaskRequest;
use super::IDEMPOTENCY_KEY;
use super::{advance, geocode, webhooks};
use crate::error::{parse_json, ApiError};
use crate::faults::{HoldBack, Injected, Strike};
use crate::state::AppState;

/// Longest accepted `Idempotency-Key`, as most courier and payment APIs cap it.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// `POST /v1/tasks`.
pub(super) async fn create_task(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Faults strike before anything else, like an outage in front of the real service.
    let hold_back = match struck(app.with(|store| store.faults.create_task.strike())) {
        Ok(hold_back) => hold_back,
        Err(answer) => return *answer,
    };

    let mut response = match create(&app, &headers, body) {
        Ok((status, task)) => {
            let location = format!("/v1/tasks/{}", task.id);
            (status, [(header::LOCATION, location)], Json(task)).into_response()
        }
        Err(error) => error.into_response(),
    };
    if let Some(hold_back) = hold_back {
        response.extensions_mut().insert(hold_back);
    }
    response
}

/// Creates the task, or returns the one already created with the same idempotency key
/// (whatever this request's body says — a retry must never create a second task).
fn create(
    app: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Task), TaskError> {
    let key = idempotency_key(headers)?;
    // Parsed outside the lock; any error is reported only if this is not a replay.
    let new_task = new_task(body);
    let now = OffsetDateTime::now_utc();

    // Lookup and insert under one lock: concurrent creates with one key yield one task.
    app.with(|store| {
        if let Some(existing) = key
            .as_deref()
            .and_then(|key| store.tasks.by_idempotency_key(key))
        {
            return Ok((StatusCode::OK, existing.clone()));
        }
        let task = store.tasks.insert(new_task?, key, app.base_url(), now);
        Ok((StatusCode::CREATED, task.clone()))
    })
}

fn task_request(body: Result<Bytes, BytesRejection>) -> Result<TaskRequest, ApiError> {
    parse_json(&body?)
}

/// The create body, validated and its destination placed.
fn new_task(body: Result<Bytes, BytesRejection>) -> Result<NewTask, TaskError> {
    let new_task = task_request(body)?.into_new_task()?;
    geocode::resolve(&new_task.delivery.destination)?;
    Ok(new_task)
}

/// The update body, validated and its destination placed.
fn task_update(body: Result<Bytes, BytesRejection>) -> Result<TaskUpdate, TaskError> {
    let update = task_request(body)?.into_update()?;
    geocode::resolve(&update.delivery.destination)?;
    Ok(update)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|key| !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_LEN)
        .map(|key| Some(key.to_owned()))
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!(
                    "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
                ),
            )
        })
}

/// `GET /v1/tasks/{id}`.
pub(super) async fn get_task(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    app.with(|store| store.tasks.get(&id).cloned())
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no task with id {id}")))
}

#[derive(Debug, Deserialize)]
pub(super) struct ListTasks {
    reference: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct TaskList {
    tasks: Vec<Task>,
}

/// `GET /v1/tasks?reference=...`.
pub(super) async fn list_tasks(
    State(app): State<AppState>,
    query: Result<Query<ListTasks>, QueryRejection>,
) -> Result<Json<TaskList>, ApiError> {
    let Query(ListTasks { reference }) = query?;
    let reference = reference
        .filter(|reference| !reference.is_empty())
        .ok_or_else(|| {
            ApiError::invalid("reference", "the reference query parameter is required")
        })?;
    let tasks = app.with(|store| store.tasks.with_reference(&reference));
    Ok(Json(TaskList { tasks }))
}

/// `POST /v1/tasks/{id}/advance`: the simulated driver's next step, or a failed attempt
/// (see [`advance`] for the optional body). The change is sent to the webhook, if any.
pub(super) async fn advance_task(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    // Parsed outside the lock; a bad body is reported only if the task exists.
    let report = body
        .map_err(ApiError::from)
        .and_then(|body| advance::driver_report(&body));
    let now = OffsetDateTime::now_utc();
    let (task, outgoing) = app.with(|store| {
        if store.tasks.get(&id).is_none() {
            return Err(ApiError::NotFound(format!("no task with id {id}")));
        }
        let task = store
            .tasks
            .advance_with(&id, report?, now)
            .map_err(|error| match error {
                AdvanceError::NotFound(_) => ApiError::NotFound(error.to_string()),
                AdvanceError::Final { .. } | AdvanceError::CannotFail { .. } => {
                    ApiError::InvalidTransition(error.to_string())
                }
                AdvanceError::CodNotDelivering { .. } | AdvanceError::NoCashOnDelivery(_) => {
                    ApiError::invalid("cod_collected_minor", error.to_string())
                }
                AdvanceError::DriverNotAssigning { .. } => {
                    ApiError::invalid("driver_id", error.to_string())
                }
            })?
            .clone();
        let outgoing = store.webhooks.prepare(&task, app.base_url());
        Ok((task, outgoing))
    })?;
    webhooks::dispatch(&app, outgoing);
    Ok(Json(task))
}

/// `PUT /v1/tasks/{id}`: replaces the delivery details of a task the driver has not picked
/// up yet.
pub(super) async fn update_task(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Task>, TaskError> {
    let Path(id) = id.map_err(ApiError::from)?;
    // Parsed outside the lock; a bad body is reported only if the task could change at all.
    let update = task_update(body);
    app.with(|store| match update {
        Ok(update) => Ok(store.tasks.update(&id, update)?.clone()),
        Err(error) => {
            store.tasks.check_changeable(&id)?;
            Err(error)
        }
    })
    .map(Json)
}

/// `POST /v1/tasks/{id}/cancel`.
pub(super) async fn cancel_task(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Task>, TaskError> {
    let Path(id) = id.map_err(ApiError::from)?;
    let now = OffsetDateTime::now_utc();
    let (task, outgoing) = app.with(|store| {
        let changes_before = store.tasks.get(&id).map(|task| task.status_history.len());
        let task = store.tasks.cancel(&id, now)?.clone();
        // Cancelling a cancelled task changes nothing, so it sends nothing either.
        let outgoing = (changes_before != Some(task.status_history.len()))
            .then(|| store.webhooks.prepare(&task, app.base_url()))
            .flatten();
        Ok::<_, TaskError>((task, outgoing))
    })?;
    webhooks::dispatch(&app, outgoing);
    Ok(Json(task))
}

/// What an armed fault does to a courier API request: answer now (`Err`), or go ahead and
/// perhaps hold the answer back.
pub(super) fn struck(strike: Option<Strike>) -> Result<Option<HoldBack>, Box<Response>> {
    match strike {
        Some(Strike::ServerError) => Err(Box::new(internal_error())),
        Some(Strike::Injected(Injected::Unavailable)) => {
            Err(Box::new(ApiError::Unavailable.into_response()))
        }
        Some(Strike::Injected(Injected::RateLimited)) => {
            Err(Box::new(ApiError::RateLimited.into_response()))
        }
        Some(Strike::Injected(Injected::LoseResponse(delay))) => Ok(Some(HoldBack(delay))),
        None => Ok(None),
    }
}

/// Unknown `/v1` paths answer in the API's error format.
pub(super) async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

/// Known `/v1` paths with the wrong method; axum still sets the `Allow` header.
pub(super) async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
