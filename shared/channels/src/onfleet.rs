//! Onfleet webhooks: the signature, the URL validation handshake, the payload, and the one
//! place where an Onfleet trigger becomes a shipment status.
//!
//! Pure: no I/O, no clock. The webhook function (issue 4) answers the handshake, verifies the
//! signature over the raw body, then calls [`parse`].
//!
//! Contract followed:
//! - Triggers, their numbers and what each payload includes:
//!   <https://docs.onfleet.com/reference/webhooks>. A webhook is registered for one trigger
//!   *number* and the payload carries it as `triggerId`; `triggerName` is display text. We
//!   map by `triggerId` and fall back to the name only when the number is absent. Ids 14–17
//!   (SMS and worker triggers) are named as in n8n's Onfleet node
//!   (n8n-io/n8n `packages/nodes-base/nodes/Onfleet/WebhookMapping.ts`).
//! - Payload shape: <https://docs.onfleet.com/reference-link/webhook-payload-examples> and
//!   Onfleet's own `taskupdate.txt` example (tests/fixtures/onfleet). The page notes that
//!   `taskUpdated` "can be various status changes, including assigned, unassigned,
//!   completed".
//! - Task state numbers (0 unassigned, 1 assigned, 2 active, 3 completed "both successful and
//!   failed"): <https://docs.onfleet.com/reference-link/state>.
//! - `completionDetails` (events with `location` [lng, lat], `signatureUploadId`,
//!   `photoUploadId(s)`): <https://docs.onfleet.com/reference/get-single-task>.
//! - Signature: <https://docs.onfleet.com/reference/secrets>. `X-Onfleet-Signature` is the
//!   hex HMAC-SHA512 of the raw body, keyed with the hex-DECODED webhook secret.
//! - Handshake: <https://docs.onfleet.com/reference/validation> and
//!   <https://docs.onfleet.com/reference/create-webhook>. Onfleet sends `GET <url>?check=<random>`
//!   and expects the value back "exactly …, untouched, as a simple string response" with
//!   HTTP 200 (204 is refused).
//!
//! # Trigger → status
//!
//! | id | name | status change | also |
//! |---|---|---|---|
//! | 0 | taskStarted | OutForDelivery (pickup task: none) | |
//! | 1 | taskEta | none | ETA (`etaSeconds`) |
//! | 2 | taskArrival | none | distance in metres |
//! | 3 | taskCompleted | Delivered; Failed if `success` is false; pickup task: PickedUp | proof of delivery |
//! | 4 | taskFailed | Failed | failure reason and notes |
//! | 5 | workerDuty | not a task event | |
//! | 6 | taskCreated | none | |
//! | 7 | taskUpdated | from the task's `state`, see below | proof when completed |
//! | 8 | taskDeleted | Cancelled (actor: dispatcher) | |
//! | 9 | taskAssigned | Assigned | |
//! | 10 | taskUnassigned | none | recorded as an event |
//! | 12 | taskDelayed | none | delay in seconds |
//! | 13 | taskCloned | none | |
//! | 14–17 | SMS and worker triggers | not a task event | |
//!
//! Decisions:
//! - **taskStarted is OutForDelivery, not PickedUp.** A standard (dropoff) task is started
//!   when the driver sets off for its destination with the parcel; Onfleet models a pickup
//!   as a separate task (`pickupTask: true`), so there is no pickup event on a dropoff task.
//!   The status machine lets a courier skip PickedUp. On a pickup task, starting means
//!   driving to the pickup, which changes nothing, and its success means PickedUp.
//! - **taskCompleted checks `success`.** Onfleet documents the trigger as "Task marked as
//!   successful" (earlier revisions said "completed by worker"); a completion that says
//!   `success: false` is treated as the failure it reports.
//! - **taskUpdated follows the task's `state`.** It is a catch-all trigger (assignment,
//!   completion, attachments arriving later), so the status comes from the snapshot it
//!   carries: state 1 → Assigned, 2 → OutForDelivery, 3 with `success` → Delivered or
//!   Failed, 3 without `success` and 0 → none. Status moves are monotonic and repeats change
//!   nothing (`ShipmentStatus::may_become`), so this only fills in a missed or late
//!   taskCompleted; and the signature and photos, which may arrive after the completion,
//!   come with it as proof of delivery.
//! - **taskUnassigned changes nothing.** The shipment never moves backwards (Assigned →
//!   Created is refused); the event is kept so a dispatcher can see the task is unowned.
//! - **taskDeleted is Cancelled, asked by a dispatcher.** Deleting is a dashboard or API act
//!   (an admin's, or ours echoing our own cancel, which then changes nothing), not a step of
//!   the delivery, so it goes through the dispatcher's rule: a terminal shipment stays as it
//!   is. Deleting a task in Onfleet therefore cancels the delivery; re-dispatching is done by
//!   reassigning.
//! - **taskCreated and taskCloned change nothing.** We record Created ourselves when we
//!   create the task; a clone is a different task that may carry a copy of our metadata, so
//!   consumers must match [`CourierEvent::task_id`] to the task recorded for the reference.
//! - taskAssigned does not fire for a task assigned at creation (webhooks page); a later
//!   taskStarted or taskUpdated still moves the shipment on.
//!
//! [`CourierEvent`] and its parts are courier-neutral ([`domain::courier`]).

use crate::webhook::{delivery_id_is_key, DeliveryId, Handshake, TopicSource, WebhookContract};
pub use domain::courier::{
    CourierEvent, EventKind, Failure, LocationSource, PodLocation, ProofOfDelivery,
};
use domain::error::{Classify, Transience};
use domain::ShipmentStatus;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

/// The header carrying the signature (lower case, as API Gateway hands headers over).
pub const SIGNATURE_HEADER: &str = "x-onfleet-signature";

/// The query parameter of the validation handshake.
pub const HANDSHAKE_QUERY_PARAM: &str = "check";

/// Content type for the handshake answer: the echoed value is attacker-controllable (anyone
/// can call the URL), so it must never be served as HTML.
pub const HANDSHAKE_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The task metadata entry that carries our idempotency reference on every task we create
/// (the client writes it; events are matched to shipments by it).
pub const REFERENCE_METADATA: &str = "courier_bridge_reference";

/// How Onfleet signs its webhooks and checks a webhook's URL. It sends no delivery id: a
/// re-sent event is the same bytes, so the body's digest dedupes.
pub static WEBHOOK: WebhookContract = WebhookContract {
    signature_header: SIGNATURE_HEADER,
    verify: verify_signature,
    topic: TopicSource::Body(trigger_name),
    delivery_id: DeliveryId::BodyDigest,
    triggered_at_header: None,
    acts_on: |name| Trigger::from_name(name).is_some_and(Trigger::is_task_trigger),
    dedupe_key: delivery_id_is_key,
    unsigned_ping: None,
    handshake: Some(Handshake {
        query_param: HANDSHAKE_QUERY_PARAM,
        answer: handshake_answer,
        content_type: HANDSHAKE_CONTENT_TYPE,
    }),
};

// ---------------------------------------------------------------------------------------
// Signature and handshake
// ---------------------------------------------------------------------------------------

/// Checks `X-Onfleet-Signature`: the hex HMAC-SHA512 of the raw `body`, keyed with the
/// hex-decoded `secret_hex` (the webhook secret as the Onfleet dashboard shows it).
///
/// Surrounding whitespace of the secret and the signature is ignored (a secret stored with a
/// trailing newline); hex of either case is accepted. An empty or non-hex secret never
/// verifies: it would let anyone sign. The comparison is constant-time (`Mac::verify_slice`).
pub fn verify_signature(secret_hex: &str, body: &[u8], signature_hex: &str) -> bool {
    let Some(mac) = keyed_mac(secret_hex, body) else {
        return false;
    };
    let Ok(expected) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    mac.verify_slice(&expected).is_ok()
}

/// Signs a body the way Onfleet does (lower-case hex); `None` for a secret that
/// [`verify_signature`] would refuse. Used by the tests and the demo to play Onfleet.
pub fn sign(secret_hex: &str, body: &[u8]) -> Option<String> {
    keyed_mac(secret_hex, body).map(|mac| hex::encode(mac.finalize().into_bytes()))
}

fn keyed_mac(secret_hex: &str, body: &[u8]) -> Option<HmacSha512> {
    let key = hex::decode(secret_hex.trim()).ok()?;
    if key.is_empty() {
        return None;
    }
    let mut mac = HmacSha512::new_from_slice(&key).ok()?;
    mac.update(body);
    Some(mac)
}

/// The body to answer Onfleet's validation `GET <url>?check=<random>` with, status 200 and
/// [`HANDSHAKE_CONTENT_TYPE`].
///
/// `query_check` is the URL-decoded value of the `check` parameter, as API Gateway's
/// `queryStringParameters` or Express's `req.query.check` give it. It is echoed exactly:
/// not trimmed, not re-encoded, not length-checked, an empty value included, because Onfleet
/// compares it byte for byte. `None` (no `check` parameter) means the request is not a
/// handshake. The handshake carries no signature, and echoing a value reveals nothing.
pub fn handshake_answer(query_check: Option<&str>) -> Option<String> {
    query_check.map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// Triggers
// ---------------------------------------------------------------------------------------

/// Onfleet's webhook triggers, by the number a webhook is registered with and that its
/// payload carries as `triggerId` (<https://docs.onfleet.com/reference/webhooks>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    TaskStarted,
    TaskEta,
    TaskArrival,
    TaskCompleted,
    TaskFailed,
    WorkerDuty,
    TaskCreated,
    TaskUpdated,
    TaskDeleted,
    TaskAssigned,
    TaskUnassigned,
    TaskDelayed,
    TaskCloned,
    SmsRecipientResponseMissed,
    WorkerCreated,
    WorkerDeleted,
    SmsRecipientOptOut,
}

impl Trigger {
    /// Every trigger we know, in id order (11 is unassigned).
    pub const ALL: [Trigger; 17] = [
        Trigger::TaskStarted,
        Trigger::TaskEta,
        Trigger::TaskArrival,
        Trigger::TaskCompleted,
        Trigger::TaskFailed,
        Trigger::WorkerDuty,
        Trigger::TaskCreated,
        Trigger::TaskUpdated,
        Trigger::TaskDeleted,
        Trigger::TaskAssigned,
        Trigger::TaskUnassigned,
        Trigger::TaskDelayed,
        Trigger::TaskCloned,
        Trigger::SmsRecipientResponseMissed,
        Trigger::WorkerCreated,
        Trigger::WorkerDeleted,
        Trigger::SmsRecipientOptOut,
    ];

    /// `triggerId`, the number the webhook was created with.
    pub fn id(self) -> u64 {
        match self {
            Trigger::TaskStarted => 0,
            Trigger::TaskEta => 1,
            Trigger::TaskArrival => 2,
            Trigger::TaskCompleted => 3,
            Trigger::TaskFailed => 4,
            Trigger::WorkerDuty => 5,
            Trigger::TaskCreated => 6,
            Trigger::TaskUpdated => 7,
            Trigger::TaskDeleted => 8,
            Trigger::TaskAssigned => 9,
            Trigger::TaskUnassigned => 10,
            Trigger::TaskDelayed => 12,
            Trigger::TaskCloned => 13,
            Trigger::SmsRecipientResponseMissed => 14,
            Trigger::WorkerCreated => 15,
            Trigger::WorkerDeleted => 16,
            Trigger::SmsRecipientOptOut => 17,
        }
    }

    /// Onfleet's `triggerName`.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::TaskStarted => "taskStarted",
            Trigger::TaskEta => "taskEta",
            Trigger::TaskArrival => "taskArrival",
            Trigger::TaskCompleted => "taskCompleted",
            Trigger::TaskFailed => "taskFailed",
            Trigger::WorkerDuty => "workerDuty",
            Trigger::TaskCreated => "taskCreated",
            Trigger::TaskUpdated => "taskUpdated",
            Trigger::TaskDeleted => "taskDeleted",
            Trigger::TaskAssigned => "taskAssigned",
            Trigger::TaskUnassigned => "taskUnassigned",
            Trigger::TaskDelayed => "taskDelayed",
            Trigger::TaskCloned => "taskCloned",
            Trigger::SmsRecipientResponseMissed => "smsRecipientResponseMissed",
            Trigger::WorkerCreated => "workerCreated",
            Trigger::WorkerDeleted => "workerDeleted",
            Trigger::SmsRecipientOptOut => "SMSRecipientOptOut",
        }
    }

    pub fn from_id(id: u64) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.id() == id)
    }

    /// Exact, case-sensitive, as Onfleet spells the names.
    pub fn from_name(name: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the payload is about one task (`taskId`, `data.task`).
    pub fn is_task_trigger(self) -> bool {
        !matches!(
            self,
            Trigger::WorkerDuty
                | Trigger::SmsRecipientResponseMissed
                | Trigger::WorkerCreated
                | Trigger::WorkerDeleted
                | Trigger::SmsRecipientOptOut
        )
    }
}

// ---------------------------------------------------------------------------------------
// Payload model
// ---------------------------------------------------------------------------------------

/// A task trigger's payload: the subset courier-bridge reads. Unknown fields are ignored and
/// every field may be absent or `null`; numbers are read as `f64` because Onfleet mixes
/// integers and fractions (`delayTime` 3369816.002), which is exact for millisecond times.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub trigger_id: Option<f64>,
    pub trigger_name: Option<String>,
    pub task_id: Option<String>,
    pub worker_id: Option<String>,
    pub admin_id: Option<String>,
    /// When the event happened, ms since the epoch.
    pub time: Option<f64>,
    pub action_context: Option<ActionContext>,
    /// taskEta: seconds until arrival.
    pub eta_seconds: Option<f64>,
    /// taskArrival: metres from the destination.
    pub distance: Option<f64>,
    /// taskDelayed: seconds of delay.
    pub delay: Option<f64>,
    pub data: Option<PayloadData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionContext {
    /// "WORKER", "ADMIN", …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PayloadData {
    pub task: Option<Task>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: Option<String>,
    pub short_id: Option<String>,
    #[serde(rename = "trackingURL")]
    pub tracking_url: Option<String>,
    /// 0 unassigned, 1 assigned, 2 active, 3 completed (successfully or not).
    pub state: Option<f64>,
    pub pickup_task: Option<bool>,
    /// The assigned worker's id.
    pub worker: Option<String>,
    pub metadata: Option<Vec<Metadatum>>,
    pub recipients: Option<Vec<Recipient>>,
    pub destination: Option<Destination>,
    pub completion_details: Option<CompletionDetails>,
    pub estimated_arrival_time: Option<f64>,
    pub estimated_completion_time: Option<f64>,
    /// Seconds.
    pub delay_time: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadatum {
    pub name: Option<String>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Recipient {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Destination {
    /// [longitude, latitude].
    pub location: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionDetails {
    pub success: Option<bool>,
    /// When the task was completed, ms.
    pub time: Option<f64>,
    pub notes: Option<String>,
    pub success_notes: Option<String>,
    /// "NONE" when there is none.
    pub failure_reason: Option<String>,
    pub failure_notes: Option<String>,
    pub signature_upload_id: Option<String>,
    pub signature_text: Option<String>,
    /// The first photo; older payloads have only this.
    pub photo_upload_id: Option<String>,
    pub photo_upload_ids: Option<Vec<String>>,
    pub events: Option<Vec<CompletionEvent>>,
    /// [longitude, latitude] of the driver at completion, or empty.
    pub last_location: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompletionEvent {
    /// "start", "arrival", "departure".
    pub name: Option<String>,
    pub time: Option<f64>,
    pub location: Option<Vec<f64>>,
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("Onfleet webhook body is not JSON: {0}")]
    NotJson(String),
    #[error("Onfleet webhook body is not a webhook payload: {0}")]
    Malformed(String),
    #[error("Onfleet webhook names no trigger (no triggerId, no known triggerName)")]
    NoTrigger,
    #[error("unknown Onfleet trigger (triggerId {id:?}, triggerName {name:?})")]
    UnknownTrigger {
        id: Option<u64>,
        name: Option<String>,
    },
    #[error("Onfleet trigger {} ({}) is not about a task", .0.id(), .0.name())]
    NotATaskTrigger(Trigger),
    #[error("Onfleet {trigger} payload carries no task id")]
    MissingTaskId { trigger: &'static str },
    #[error("Onfleet payload names two tasks: taskId {task_id}, data.task.id {data_task_id}")]
    TaskIdMismatch {
        task_id: String,
        data_task_id: String,
    },
}

impl WebhookError {
    /// A well-formed payload that is simply not for us (a worker or SMS trigger, a trigger
    /// added after this code): answer 200 and drop it. Anything else deserves a record.
    pub fn is_ignorable(&self) -> bool {
        matches!(
            self,
            WebhookError::UnknownTrigger { .. } | WebhookError::NotATaskTrigger(_)
        )
    }
}

impl Classify for WebhookError {
    /// The same body fails the same way every time.
    fn transience(&self) -> Transience {
        Transience::Permanent
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and mapping
// ---------------------------------------------------------------------------------------

/// Reads a verified webhook body into a [`CourierEvent`]. Never panics.
pub fn parse(body: &[u8]) -> Result<CourierEvent, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    if !value.is_object() {
        return Err(WebhookError::Malformed("not a JSON object".into()));
    }
    let trigger = trigger_of(&value)?;
    if !trigger.is_task_trigger() {
        return Err(WebhookError::NotATaskTrigger(trigger));
    }
    let payload =
        Payload::deserialize(value).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    event(trigger, payload)
}

/// The trigger's name ("taskCompleted"), for the audit trail's topic: intake reads it
/// before it queues the body; status-sync parses the rest.
pub fn trigger_name(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    trigger_of(&value).ok().map(|t| t.name().to_owned())
}

/// By `triggerId`; by `triggerName` only when the id is absent.
fn trigger_of(value: &Value) -> Result<Trigger, WebhookError> {
    let name = value
        .get("triggerName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match value.get("triggerId") {
        None | Some(Value::Null) => match name.as_deref().and_then(Trigger::from_name) {
            Some(trigger) => Ok(trigger),
            None if name.is_none() => Err(WebhookError::NoTrigger),
            None => Err(WebhookError::UnknownTrigger { id: None, name }),
        },
        Some(id) => {
            let id = id
                .as_u64()
                .or_else(|| {
                    id.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                        .map(|f| f as u64)
                })
                .ok_or_else(|| {
                    WebhookError::Malformed(format!("triggerId {id} is not a trigger number"))
                })?;
            Trigger::from_id(id).ok_or(WebhookError::UnknownTrigger { id: Some(id), name })
        }
    }
}

/// What a trigger says happened to the task, before pickup/dropoff is considered.
#[derive(Clone, Copy)]
enum Outcome {
    Nothing,
    Assigned,
    Started,
    Succeeded,
    Failed,
    Deleted,
}

fn event(trigger: Trigger, payload: Payload) -> Result<CourierEvent, WebhookError> {
    let task = payload.data.and_then(|d| d.task).unwrap_or_default();
    let task_id = match (clean(payload.task_id), clean(task.id.clone())) {
        (Some(a), Some(b)) if a != b => {
            return Err(WebhookError::TaskIdMismatch {
                task_id: a,
                data_task_id: b,
            })
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            return Err(WebhookError::MissingTaskId {
                trigger: trigger.name(),
            })
        }
    };
    let details = task.completion_details.clone().unwrap_or_default();

    let kind = match trigger {
        Trigger::TaskStarted => EventKind::Started,
        Trigger::TaskEta => EventKind::Eta {
            seconds: finite(payload.eta_seconds),
        },
        Trigger::TaskArrival => EventKind::Arrival {
            distance_m: finite(payload.distance),
        },
        Trigger::TaskCompleted => EventKind::Completed,
        Trigger::TaskFailed => EventKind::Failed,
        Trigger::TaskCreated => EventKind::Created,
        Trigger::TaskUpdated => EventKind::Updated,
        Trigger::TaskDeleted => EventKind::Deleted,
        Trigger::TaskAssigned => EventKind::Assigned,
        Trigger::TaskUnassigned => EventKind::Unassigned,
        Trigger::TaskDelayed => EventKind::Delayed {
            seconds: finite(payload.delay).or(finite(task.delay_time)),
        },
        Trigger::TaskCloned => EventKind::Cloned,
        // Filtered out by the caller; kept total rather than panicking.
        Trigger::WorkerDuty
        | Trigger::SmsRecipientResponseMissed
        | Trigger::WorkerCreated
        | Trigger::WorkerDeleted
        | Trigger::SmsRecipientOptOut => return Err(WebhookError::NotATaskTrigger(trigger)),
    };

    let outcome = match trigger {
        Trigger::TaskAssigned => Outcome::Assigned,
        Trigger::TaskStarted => Outcome::Started,
        Trigger::TaskCompleted if details.success == Some(false) => Outcome::Failed,
        Trigger::TaskCompleted => Outcome::Succeeded,
        Trigger::TaskFailed => Outcome::Failed,
        Trigger::TaskDeleted => Outcome::Deleted,
        Trigger::TaskUpdated => match (whole(task.state), details.success) {
            (Some(1), _) => Outcome::Assigned,
            (Some(2), _) => Outcome::Started,
            (Some(3), Some(true)) => Outcome::Succeeded,
            (Some(3), Some(false)) => Outcome::Failed,
            _ => Outcome::Nothing,
        },
        _ => Outcome::Nothing,
    };

    let pickup = task.pickup_task == Some(true);
    let status = match outcome {
        Outcome::Nothing => None,
        Outcome::Assigned => Some(ShipmentStatus::Assigned),
        Outcome::Started if pickup => None,
        Outcome::Started => Some(ShipmentStatus::OutForDelivery),
        Outcome::Succeeded if pickup => Some(ShipmentStatus::PickedUp),
        Outcome::Succeeded => Some(ShipmentStatus::Delivered),
        Outcome::Failed => Some(ShipmentStatus::Failed),
        Outcome::Deleted => Some(ShipmentStatus::Cancelled),
    };

    let failure = (status == Some(ShipmentStatus::Failed)).then(|| Failure {
        reason: clean(details.failure_reason.clone()).filter(|r| r != "NONE"),
        notes: clean(details.failure_notes.clone()),
    });
    let proof =
        (status == Some(ShipmentStatus::Delivered)).then(|| proof_of_delivery(&task, &details));

    let time_ms = ms(payload.time);
    let eta_ms = ms(task.estimated_arrival_time)
        .or(ms(task.estimated_completion_time))
        .or_else(|| {
            let (time, seconds) = (time_ms?, finite(payload.eta_seconds)?);
            Some(time.saturating_add((seconds * 1000.0).round() as i64))
        });

    Ok(CourierEvent {
        courier: domain::CourierKind::Onfleet,
        courier_event: trigger.name().into(),
        kind,
        task_id,
        reference: reference(&task),
        time_ms,
        status,
        failure,
        proof,
        eta_ms,
        tracking_url: clean(task.tracking_url.clone()),
        worker_id: clean(payload.worker_id).or(clean(task.worker.clone())),
        cod_collected: None,
        delivery_cost: None,
    })
}

/// Our reference: the string value of the `courier_bridge_reference` metadata entry.
fn reference(task: &Task) -> Option<String> {
    task.metadata
        .iter()
        .flatten()
        .find(|m| m.name.as_deref() == Some(REFERENCE_METADATA))
        .and_then(|m| m.value.as_ref()?.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn proof_of_delivery(task: &Task, details: &CompletionDetails) -> ProofOfDelivery {
    let mut photo_upload_ids: Vec<String> = Vec::new();
    let photos = details.photo_upload_ids.iter().flatten();
    for id in photos.chain(details.photo_upload_id.iter()) {
        if !id.trim().is_empty() && !photo_upload_ids.contains(id) {
            photo_upload_ids.push(id.clone());
        }
    }
    ProofOfDelivery {
        signature_upload_id: clean(details.signature_upload_id.clone()),
        photo_upload_ids,
        signature_text: clean(details.signature_text.clone()),
        recipient_name: task
            .recipients
            .iter()
            .flatten()
            .next()
            .and_then(|r| clean(r.name.clone())),
        notes: clean(details.notes.clone()).or(clean(details.success_notes.clone())),
        location: pod_location(task, details),
        completed_at_ms: ms(details.time),
    }
}

fn pod_location(task: &Task, details: &CompletionDetails) -> Option<PodLocation> {
    let at = |point: &Option<Vec<f64>>, source| {
        let (lng, lat) = lng_lat(point.as_deref()?)?;
        Some(PodLocation { lng, lat, source })
    };
    at(&details.last_location, LocationSource::DriverAtCompletion)
        .or_else(|| {
            details
                .events
                .iter()
                .flatten()
                .filter_map(|e| {
                    Some((
                        ms(e.time),
                        at(&e.location, LocationSource::CompletionEvent)?,
                    ))
                })
                // The latest; on equal (or missing) times, the last listed.
                .max_by_key(|(time, _)| *time)
                .map(|(_, location)| location)
        })
        .or_else(|| {
            let destination = task.destination.as_ref()?;
            at(&destination.location, LocationSource::Destination)
        })
}

/// A GeoJSON-ordered [lng, lat] pair on the globe; anything else (Onfleet's `[]`) is none.
fn lng_lat(point: &[f64]) -> Option<(f64, f64)> {
    match point {
        [lng, lat] if lng.abs() <= 180.0 && lat.abs() <= 90.0 => Some((*lng, *lat)),
        _ => None,
    }
}

/// Onfleet writes "" for "none".
fn clean(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// A whole number (Onfleet's states and ids), not 1.5.
fn whole(value: Option<f64>) -> Option<i64> {
    finite(value).filter(|v| v.fract() == 0.0).map(|v| v as i64)
}

/// Milliseconds as an integer; `as` saturates, so a huge value cannot panic.
fn ms(value: Option<f64>) -> Option<i64> {
    finite(value).map(|v| v.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_ids_and_names_are_unique_and_round_trip() {
        for t in Trigger::ALL {
            assert_eq!(Trigger::from_id(t.id()), Some(t));
            assert_eq!(Trigger::from_name(t.name()), Some(t));
        }
        let mut ids: Vec<u64> = Trigger::ALL.iter().map(|t| t.id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), Trigger::ALL.len(), "ids are sorted and distinct");
        assert_eq!(Trigger::from_id(11), None, "11 is not a documented trigger");
        assert_eq!(Trigger::from_name("TaskCompleted"), None, "names are exact");
    }

    #[test]
    fn a_secret_that_is_empty_or_not_hex_never_signs_nor_verifies() {
        for secret in ["", "  ", "not hex", "abc"] {
            assert_eq!(sign(secret, b"x"), None, "{secret:?}");
        }
        let sig = sign("00ff", b"x").unwrap();
        assert!(verify_signature("00ff", b"x", &sig));
        assert!(verify_signature(" 00FF\n", b"x", &sig.to_uppercase()));
        assert!(!verify_signature("", b"x", &sig));
        assert!(!verify_signature("zz", b"x", &sig));
        assert!(!verify_signature("00ff", b"x", ""));
        assert!(
            !verify_signature("00ff", b"x", &sig[..64]),
            "a truncated MAC fails"
        );
    }

    #[test]
    fn coordinates_must_be_a_pair_on_the_globe() {
        assert_eq!(lng_lat(&[-117.8, 33.8]), Some((-117.8, 33.8)));
        assert_eq!(lng_lat(&[]), None);
        assert_eq!(lng_lat(&[1.0]), None);
        assert_eq!(lng_lat(&[1.0, 2.0, 3.0]), None);
        assert_eq!(
            lng_lat(&[33.8, -117.8]),
            None,
            "lat beyond 90: swapped order"
        );
    }
}
