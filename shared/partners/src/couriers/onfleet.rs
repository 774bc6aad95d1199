//! Onfleet's task API as a [`Courier`], following Onfleet's published reference:
//!
//! - Auth: HTTP Basic, the API key as user name and an empty password
//!   (<https://docs.onfleet.com/reference/setup-tutorial>).
//! - Create: `POST /tasks` with an embedded destination and recipient
//!   (<https://docs.onfleet.com/reference/create-task>,
//!   <https://docs.onfleet.com/reference/create-destination>,
//!   <https://docs.onfleet.com/reference/create-recipient>); the answer's `id`, `shortId` and
//!   `trackingURL` become the [`CourierTask`].
//! - Our reference travels as task metadata (<https://docs.onfleet.com/reference/working-with-metadata>)
//!   and is found again with `POST /tasks/metadata`
//!   (<https://docs.onfleet.com/reference/querying-by-metadata>): Onfleet has no idempotency
//!   key, and listing `GET /tasks/all` (<https://docs.onfleet.com/reference/list-tasks>) would
//!   mean paging through the whole organization for one task.
//! - Update: `PUT /tasks/{id}` (<https://docs.onfleet.com/reference/update-task>). Embedded
//!   updates are not supported there, so a new destination is created first
//!   (`POST /destinations`) and the recipient is found by phone
//!   (<https://docs.onfleet.com/reference/find-recipient>) or created, and the task is pointed
//!   at their ids. Active tasks accept only notes and metadata, completed ones only metadata.
//!   A changed name goes through `PUT /recipients/{id}` (the route of Onfleet's own
//!   `node-onfleet` SDK; its reference page was not at hand).
//! - Cancel: `DELETE /tasks/{id}`.
//! - Task `state`: 0 unassigned, 1 assigned, 2 active (the driver is on the way), 3 completed
//!   (<https://docs.onfleet.com/reference/get-single-task>).
//! - Errors: `{"code": "...", "message": {"error": <subcode>, "message", "cause", "request"}}`
//!   (<https://docs.onfleet.com/reference/an-invalid-request>); subcode 1011 is "Geocoding
//!   issues were found" in the list of error codes that page links
//!   (<https://gist.github.com/euskode/8a34b2152cb35ddeb659>).
//! - Throttling: at most 20 requests per second across all of an organization's API keys; a
//!   429 first, a temporary ban if the rate does not drop. Onfleet documents
//!   `X-RateLimit-Limit` and `X-RateLimit-Remaining` but no reset time
//!   (<https://docs.onfleet.com/reference/throttling>). The client makes one attempt per call:
//!   the wait and retry live in batch processing, fed by [`PartnerError::Throttled`].

use crate::http::{self, Effect, Reply};
use async_trait::async_trait;
use channels::onfleet::REFERENCE_METADATA;
use domain::courier::{CourierError, CourierKind, CourierTask};
use domain::ports::Courier;
use domain::{Address, PartnerError, Shipment};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The metadata entry that carries the cash-on-delivery amount: Onfleet has no COD field.
pub const COD_METADATA: &str = "courier_bridge_cod";
/// Onfleet's production API.
pub const DEFAULT_BASE_URL: &str = "https://onfleet.com/api/v2";
/// "Field length cannot exceed 10,000 characters" (create task, `notes`). A last guard:
/// the domain's text limits (`domain::text`) keep the notes of a validated shipment, with
/// everything composed into them, well under it, so no text is ever cut here.
const NOTES_MAX_CHARS: usize = 10_000;
/// Onfleet's error subcode for an address it could not geocode.
const GEOCODING_FAILED: u64 = 1011;
/// The limit is per second and Onfleet sends no reset time: one second restores headroom.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the courier secret holds (Secrets Manager, `{prefix}courier/onfleet`).
#[derive(Clone, Deserialize)]
pub struct OnfleetCredentials {
    pub api_key: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

impl std::fmt::Debug for OnfleetCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnfleetCredentials")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

pub struct OnfleetCourier {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

/// A created task: what becomes the [`CourierTask`].
#[derive(Debug, Deserialize)]
struct CreatedTask {
    id: String,
    #[serde(rename = "shortId")]
    short_id: String,
    #[serde(rename = "trackingURL", default)]
    tracking_url: Option<String>,
}

impl From<CreatedTask> for CourierTask {
    fn from(t: CreatedTask) -> Self {
        CourierTask {
            task_id: t.id,
            tracking_number: t.short_id,
            tracking_url: t.tracking_url,
        }
    }
}

/// A task as a metadata query returns it. The documented example shows only `id` and
/// `metadata`, so a match without its `shortId` is read in full.
#[derive(Debug, Deserialize)]
struct MatchedTask {
    id: String,
    #[serde(rename = "shortId", default)]
    short_id: Option<String>,
    #[serde(rename = "trackingURL", default)]
    tracking_url: Option<String>,
    #[serde(default)]
    metadata: Vec<Value>,
}

/// What an update needs from the current task.
#[derive(Debug, Deserialize)]
struct CurrentTask {
    #[serde(default)]
    state: Option<u8>,
    #[serde(default)]
    recipients: Vec<RecipientBody>,
    /// Kept verbatim: a PUT replaces the whole array, so others' entries are written back.
    #[serde(default)]
    metadata: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct RecipientBody {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

/// Onfleet's task states (get single task).
fn state_name(state: u8) -> Option<&'static str> {
    match state {
        2 => Some("active"),
        3 => Some("completed"),
        _ => None,
    }
}

impl OnfleetCourier {
    /// `http` carries the per-request timeout: a create that times out is ambiguous, so
    /// keep it well under the idempotency lease.
    pub fn new(http: reqwest::Client, credentials: OnfleetCredentials) -> Self {
        OnfleetCourier {
            http,
            base_url: credentials.base_url.trim_end_matches('/').to_owned(),
            api_key: credentials.api_key,
        }
    }

    /// `{base_url}/{segments...}`, each segment escaped on its own so a stored id or a phone
    /// number can never address another route.
    fn url(&self, segments: &[&str]) -> Result<reqwest::Url, CourierError> {
        let config = |detail: &str| {
            CourierError::from(PartnerError::config(
                PARTNER,
                format!("base_url {:?}: {detail}", self.base_url),
            ))
        };
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| config(&e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| config("not a base URL"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Basic auth as documented: the key is the user name, the password is empty.
    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.api_key, Some(""))
    }

    /// Sends a request with our key; an error answer read by [`classify`]. A write that
    /// fails after sending is ambiguous; a read has no side effect, so any failure of it is
    /// simply "try again".
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        effect: Effect,
    ) -> Result<Reply, CourierError> {
        let reply = http::exchange(PARTNER, self.authed(request), effect).await?;
        if !reply.is_success() {
            return Err(classify(&reply));
        }
        Ok(reply)
    }

    async fn write(&self, request: reqwest::RequestBuilder) -> Result<Reply, CourierError> {
        self.call(request, Effect::Write).await
    }

    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, CourierError> {
        Ok(self
            .call(request, Effect::Read)
            .await?
            .json(PARTNER, Effect::Read)?)
    }

    /// The body of a successful create of a destination or recipient: its id. Unreadable
    /// means the entity may exist; the update is repeated as a whole, so that is ambiguous.
    async fn created_id(&self, request: reqwest::RequestBuilder) -> Result<String, CourierError> {
        let created: Created = self.write(request).await?.json(PARTNER, Effect::Write)?;
        Ok(created.id)
    }

    async fn current_task(&self, task_id: &str) -> Result<CurrentTask, CourierError> {
        let url = self.url(&["tasks", task_id])?;
        self.read_json(self.http.get(url)).await
    }

    /// After Onfleet refused a change to a task, whether that is because the task is
    /// already under way: the documented rule is the task's state, not an error text.
    /// `None` when the task no longer exists.
    async fn explain_refusal(&self, task_id: &str, refused: CourierError) -> Option<CourierError> {
        if !is_rejected(&refused) {
            return Some(refused);
        }
        match self.current_task(task_id).await {
            Ok(task) => Some(match task.state.and_then(state_name) {
                Some(status) => CourierError::TooLate {
                    status: status.to_owned(),
                },
                None => refused,
            }),
            Err(e) if is_not_found(&e) => None,
            // The state is unknown: the refusal itself is the best answer we have.
            Err(_) => Some(refused),
        }
    }

    /// The recipient ids for an update: the task's own recipient when it is the same person,
    /// else the organization's recipient with that phone (phones are Onfleet's unique key),
    /// else a new one.
    async fn recipient_ids(
        &self,
        current: &[RecipientBody],
        shipment: &Shipment,
    ) -> Result<Vec<String>, CourierError> {
        let Some(phone) = &shipment.recipient.phone else {
            return Ok(Vec::new());
        };
        let name = &shipment.recipient.name;
        if let Some(same) = current
            .iter()
            .find(|r| r.phone.as_deref() == Some(phone.e164.as_str()))
        {
            if same.name.as_deref() != Some(name.as_str()) {
                self.rename_recipient(&same.id, name).await?;
            }
            return Ok(vec![same.id.clone()]);
        }
        let url = self.url(&["recipients", "phone", &phone.e164])?;
        match self.read_json::<RecipientBody>(self.http.get(url)).await {
            Ok(found) => {
                if found.name.as_deref() != Some(name.as_str()) {
                    self.rename_recipient(&found.id, name).await?;
                }
                Ok(vec![found.id])
            }
            Err(e) if is_not_found(&e) => {
                let url = self.url(&["recipients"])?;
                let id = self
                    .created_id(self.http.post(url).json(&recipient(shipment, &phone.e164)))
                    .await?;
                Ok(vec![id])
            }
            Err(e) => Err(e),
        }
    }

    /// Names are not a key, so they may change; the phone never does (create recipient).
    async fn rename_recipient(&self, id: &str, name: &str) -> Result<(), CourierError> {
        let url = self.url(&["recipients", id])?;
        self.write(self.http.put(url).json(&json!({ "name": name })))
            .await
            .map(drop)
    }

    /// The one task a metadata match stands for, with its short id.
    async fn task_of(&self, matched: MatchedTask) -> Result<CourierTask, CourierError> {
        if let Some(short_id) = matched.short_id {
            return Ok(CourierTask {
                task_id: matched.id,
                tracking_number: short_id,
                tracking_url: matched.tracking_url,
            });
        }
        let url = self.url(&["tasks", &matched.id])?;
        self.read_json::<CreatedTask>(self.http.get(url))
            .await
            .map(CourierTask::from)
    }
}

pub(crate) const PARTNER: &str = "onfleet";

fn is_rejected(e: &CourierError) -> bool {
    matches!(e, CourierError::Partner(PartnerError::Rejected { .. }))
}

fn is_not_found(e: &CourierError) -> bool {
    matches!(e, CourierError::Partner(p) if p.rejected_status() == Some(404))
}

/// Onfleet's error body, read leniently: `message` is an object in the documented form
/// but a plain string in some answers.
pub(crate) struct OnfleetError {
    subcode: Option<u64>,
    pub(crate) summary: String,
}

pub(crate) fn parse_error(text: &str) -> OnfleetError {
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return OnfleetError {
            subcode: None,
            summary: text.chars().take(500).collect(),
        };
    };
    let code = body.get("code").and_then(Value::as_str);
    let detail = body.get("message");
    let subcode = detail.and_then(|m| m.get("error")).and_then(Value::as_u64);
    let message = detail
        .and_then(|m| m.get("message").and_then(Value::as_str).or(m.as_str()))
        .unwrap_or_default();
    let cause = detail.and_then(|m| m.get("cause")).and_then(|c| match c {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    });
    let request = detail
        .and_then(|m| m.get("request"))
        .and_then(Value::as_str);
    let mut summary = match (code, subcode) {
        (Some(code), Some(sub)) => format!("{code} {sub}: {message}"),
        (Some(code), None) => format!("{code}: {message}"),
        (None, Some(sub)) => format!("{sub}: {message}"),
        (None, None) => message.to_owned(),
    };
    if let Some(cause) = cause {
        summary.push_str(&format!(" ({cause})"));
    }
    // Onfleet support asks for the request id.
    if let Some(request) = request {
        summary.push_str(&format!(" [request {request}]"));
    }
    OnfleetError { subcode, summary }
}

/// What an error answer means, from its status, `Retry-After` and Onfleet's error body.
fn classify(reply: &Reply) -> CourierError {
    let error = parse_error(&reply.text(10_000));
    match (reply.status.as_u16(), error.subcode) {
        // The limit is per second: without a Retry-After, one window.
        (429, _) => PartnerError::Throttled {
            partner: PARTNER,
            retry_after: Some(reply.retry_after().unwrap_or(RATE_WINDOW)),
        }
        .into(),
        (401 | 403 | 500..=599, _) => http::refusal(PARTNER, reply, error.summary).into(),
        (_, Some(GEOCODING_FAILED)) => CourierError::AddressUnresolved {
            ambiguous: false,
            message: error.summary,
        },
        // Including 404 (no such task): the callers that expect it decide what it means.
        _ => http::refusal(PARTNER, reply, error.summary).into(),
    }
}

/// Milliseconds since the epoch, Onfleet's only time format.
fn unix_ms(t: time::OffsetDateTime) -> Option<i64> {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The destination object. Onfleet wants the house number apart from the street; a street
/// line that still holds it is sent as `unparsed`, Onfleet's documented single-line form,
/// and geocoded there. `unparsed` may not be combined with `location`, so coordinates are
/// sent only with a structured address. `country` is the ISO 3166-1 alpha-2 code as stored:
/// the reference asks for "the name of the country" without listing accepted forms.
fn destination(a: &Address, company: Option<&str>) -> Value {
    let mut address = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            address.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    };
    put("name", company);
    put("apartment", a.details_line().as_deref());
    let mut destination = Map::new();
    match a.house.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(house) => {
            put("number", Some(house));
            put("street", Some(a.street.as_str()));
            put("city", Some(a.city.as_str()));
            put("state", a.region.as_deref());
            put("postalCode", a.postal_code.as_deref());
            put("country", Some(a.country_code.as_str()));
            if let (Some(lat), Some(lng)) = (a.latitude, a.longitude) {
                // GeoJSON order: longitude first.
                destination.insert("location".into(), json!([lng, lat]));
            }
        }
        None => {
            let line = [
                Some(a.street.as_str()),
                Some(a.city.as_str()),
                a.region.as_deref(),
                a.postal_code.as_deref(),
                Some(a.country_code.as_str()),
            ]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
            put("unparsed", Some(line.as_str()));
        }
    }
    destination.insert("address".into(), Value::Object(address));
    Value::Object(destination)
}

/// The recipient object. No `notes`: Onfleet keeps recipient notes across tasks, and ours
/// are about this delivery. No `skipPhoneNumberValidation`: Onfleet validates with Google's
/// libphonenumber, the library our phones were parsed with, so a refusal is rare and shows a
/// number Onfleet could not text rather than letting it pass silently.
fn recipient(s: &Shipment, phone: &str) -> Value {
    json!({ "name": s.recipient.name, "phone": phone })
}

/// The task's notes for the driver: the order number, the customer's notes, the cash to
/// collect (Onfleet has no COD field), and whatever the recipient object cannot carry.
fn task_notes(s: &Shipment) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(order) = &s.order_name {
        parts.push(format!("Order {order}"));
    }
    if let Some(cod) = s.payment.cod_amount() {
        parts.push(format!("Cash on delivery: collect {cod}"));
    }
    parts.extend(s.notes.to_text(s.address.intercom.as_deref()));
    match &s.recipient.phone {
        Some(phone) => parts.extend(
            phone
                .extension
                .as_ref()
                .map(|ext| format!("Phone extension {ext}")),
        ),
        None => parts.push(match &s.recipient.alternate_contact {
            Some(contact) => format!(
                "Recipient: {} (phone withheld by the marketplace; contact via {})",
                s.recipient.name, contact.address
            ),
            None => format!("Recipient: {} (no phone)", s.recipient.name),
        }),
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("\n").chars().take(NOTES_MAX_CHARS).collect())
}

/// Our metadata entries: the reference (API only, for lookup) and the COD amount, which
/// dispatchers see too. Amounts stay decimal strings: never a float.
fn our_metadata(reference: &str, s: &Shipment) -> Vec<Value> {
    let mut entries = vec![json!({
        "name": REFERENCE_METADATA,
        "type": "string",
        "value": reference,
        "visibility": ["api"],
    })];
    if let Some(cod) = s.payment.cod_amount() {
        entries.push(json!({
            "name": COD_METADATA,
            "type": "object",
            "value": {
                "amount": cod.decimal(),
                "currency": cod.currency.code(),
                "amount_minor": cod.minor,
            },
            "visibility": ["api", "dashboard"],
        }));
    }
    entries
}

fn metadata_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

fn carries_reference(metadata: &[Value], reference: &str) -> bool {
    metadata.iter().any(|m| {
        metadata_name(m) == Some(REFERENCE_METADATA)
            && m.get("value").and_then(Value::as_str) == Some(reference)
    })
}

/// The `POST /tasks` body.
fn create_request(reference: &str, s: &Shipment) -> Value {
    let mut body = Map::new();
    body.insert(
        "destination".into(),
        destination(&s.address, s.recipient.company.as_deref()),
    );
    // Zero recipients is allowed and documented for when the phone is not available; a
    // recipient object needs one.
    let recipients: Vec<Value> = s
        .recipient
        .phone
        .iter()
        .map(|p| recipient(s, &p.e164))
        .collect();
    body.insert("recipients".into(), Value::Array(recipients));
    if let Some(w) = &s.window {
        body.insert("completeAfter".into(), json!(unix_ms(w.start)));
        body.insert("completeBefore".into(), json!(unix_ms(w.end)));
    }
    if let Some(notes) = task_notes(s) {
        body.insert("notes".into(), Value::String(notes));
    }
    body.insert("quantity".into(), json!(s.parcel.pieces));
    body.insert("metadata".into(), Value::Array(our_metadata(reference, s)));
    Value::Object(body)
}

#[async_trait]
impl Courier for OnfleetCourier {
    fn kind(&self) -> CourierKind {
        CourierKind::Onfleet
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        let url = self.url(&["tasks"])?;
        let reply = self
            .write(
                self.http
                    .post(url)
                    .json(&create_request(reference, shipment)),
            )
            .await?;
        // The task exists once Onfleet answered 2xx: an unreadable body is ambiguous, not a
        // failure to create.
        Ok(reply.json::<CreatedTask>(PARTNER, Effect::Write)?.into())
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        let url = self.url(&["tasks", "metadata"])?;
        let query = json!([{ "name": REFERENCE_METADATA, "type": "string", "value": reference }]);
        let matches: Vec<MatchedTask> = self.read_json(self.http.post(url).json(&query)).await?;
        // Checked again here: a match must carry exactly our entry.
        let mut ours: Vec<MatchedTask> = matches
            .into_iter()
            .filter(|t| carries_reference(&t.metadata, reference))
            .collect();
        match ours.len() {
            0 => Ok(None),
            1 => match ours.pop() {
                Some(task) => self.task_of(task).await.map(Some),
                None => Ok(None),
            },
            n => Err(PartnerError::ambiguous(
                PARTNER,
                format!(
                    "{n} tasks carry reference {reference:?}: {}",
                    ours.iter()
                        .map(|t| t.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into()),
        }
    }

    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError> {
        let current = self.current_task(task_id).await?;
        // Checked before anything is written: an active task takes only notes and metadata,
        // and a changed address or window must not half-apply.
        if let Some(status) = current.state.and_then(state_name) {
            return Err(CourierError::TooLate {
                status: status.to_owned(),
            });
        }
        let stored_reference = current
            .metadata
            .iter()
            .find(|m| metadata_name(m) == Some(REFERENCE_METADATA))
            .and_then(|m| m.get("value"))
            .and_then(Value::as_str);
        if stored_reference.is_some_and(|r| r != reference) {
            return Err(PartnerError::rejected(
                PARTNER,
                "409",
                format!("task {task_id} carries reference {stored_reference:?}, not {reference:?}"),
            )
            .into());
        }

        let url = self.url(&["destinations"])?;
        let destination_id = self
            .created_id(self.http.post(url).json(&destination(
                &shipment.address,
                shipment.recipient.company.as_deref(),
            )))
            .await?;
        let recipients = self.recipient_ids(&current.recipients, shipment).await?;
        let metadata: Vec<Value> = current
            .metadata
            .into_iter()
            .filter(|m| !matches!(metadata_name(m), Some(REFERENCE_METADATA | COD_METADATA)))
            .chain(our_metadata(reference, shipment))
            .collect();
        let window = shipment.window.as_ref();
        // Every field is sent, cleared ones as null or empty: the update replaces what
        // Onfleet was told, so sending it twice is the same task.
        let body = json!({
            "destination": destination_id,
            "recipients": recipients,
            "completeAfter": window.and_then(|w| unix_ms(w.start)),
            "completeBefore": window.and_then(|w| unix_ms(w.end)),
            "notes": task_notes(shipment).unwrap_or_default(),
            "quantity": shipment.parcel.pieces,
            "metadata": metadata,
        });
        let url = self.url(&["tasks", task_id])?;
        match self.write(self.http.put(url).json(&body)).await {
            Ok(_) => Ok(()),
            // The task may have started between our read and the write.
            Err(e) => Err(self.explain_refusal(task_id, e).await.unwrap_or_else(|| {
                PartnerError::rejected(PARTNER, "404", format!("task {task_id} no longer exists"))
                    .into()
            })),
        }
    }

    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError> {
        let url = self.url(&["tasks", task_id])?;
        match self.write(self.http.delete(url)).await {
            Ok(_) => Ok(()),
            // Already deleted: cancelling twice is the same outcome.
            Err(e) if is_not_found(&e) => Ok(()),
            // A refusal is too late if the task is under way, done if it is gone.
            Err(e) => self.explain_refusal(task_id, e).await.map_or(Ok(()), Err),
        }
    }

    /// The worker's container (<https://docs.onfleet.com/reference/containers>) holds their
    /// unstarted tasks in order; a started task leaves it (it is the `activeTask`), so it is
    /// never moved. The container is replaced with the route's tasks followed by any the
    /// worker had and the route does not list: a plain-list `PUT` sends omitted tasks back
    /// to the organization, and a plan that did not mean to take a task away must not.
    /// Onfleet answers 412 when concurrent writes contend for the container's lock and
    /// asks callers to slow down and go one at a time: read and write again, after a pause.
    async fn assign_route(
        &self,
        driver: &str,
        _plan: &str,
        task_ids: &[String],
    ) -> Result<(), CourierError> {
        let url = self.url(&["containers", "workers", driver])?;
        let mut pause = CONTAINER_RETRY_PAUSE;
        let mut attempt = 1;
        loop {
            let current: Container = self.read_json(self.http.get(url.clone())).await?;
            let mut tasks: Vec<&str> = task_ids.iter().map(String::as_str).collect();
            tasks.extend(
                current
                    .tasks
                    .iter()
                    .map(String::as_str)
                    .filter(|t| !task_ids.iter().any(|id| id == t)),
            );
            let body = json!({"tasks": tasks, "considerDependencies": false});
            match self.write(self.http.put(url.clone()).json(&body)).await {
                Ok(_) => return Ok(()),
                Err(e) if is_contended(&e) && attempt < CONTAINER_ATTEMPTS => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A worker's container as `GET /containers/workers/{id}` answers it.
#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    tasks: Vec<String>,
}

/// Tries at a contended container before the 412 goes back to the caller (whose retry
/// starts over), and the first pause between them.
const CONTAINER_ATTEMPTS: u32 = 4;
const CONTAINER_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Onfleet's "412 PreconditionFailedError": another write holds the container's lock.
fn is_contended(e: &CourierError) -> bool {
    matches!(e, CourierError::Partner(p) if p.rejected_status() == Some(412))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipment() -> Shipment {
        serde_json::from_value(json!({
            "key": "shopify:demo-store:1001:1",
            "recipient": { "name": "Ana Ruiz", "phone": { "e164": "+14155550100" } },
            "address": {
                "street": "Howard St", "house": "543", "apartment": "5th Floor",
                "city": "San Francisco", "region": "CA", "postal_code": "94105",
                "country_code": "US"
            },
            "parcel": { "pieces": 2 },
            "payment": { "kind": "prepaid", "order_total": { "minor": 100, "currency": "USD" } },
            "service": "standard"
        }))
        .unwrap()
    }

    fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> CourierError {
        super::classify(&crate::http::test_reply(status, retry_after, body))
    }

    fn error(code: &str, sub: u64, message: &str) -> String {
        json!({"code": code, "message": {
            "error": sub, "message": message, "cause": "why", "request": "req-1"
        }})
        .to_string()
    }

    #[test]
    fn errors_keep_onfleets_code_message_cause_and_request() {
        let e = classify(400, None, &error("InvalidContent", 1000, "bad value"));
        assert!(
            matches!(
                &e,
                CourierError::Partner(PartnerError::Rejected { code, message, .. })
                    if code == "400" && message == "InvalidContent 1000: bad value (why) [request req-1]"
            ),
            "{e:?}"
        );
        let e = classify(400, None, &error("InvalidContent", GEOCODING_FAILED, "geo"));
        assert!(matches!(
            e,
            CourierError::AddressUnresolved {
                ambiguous: false,
                ..
            }
        ));
        assert!(matches!(
            classify(401, None, &error("InvalidCredentials", 1102, "key")),
            CourierError::Partner(PartnerError::Config { .. })
        ));
        assert!(matches!(
            classify(502, None, "<html>bad gateway</html>"),
            CourierError::Partner(PartnerError::Unavailable { message, .. })
                if message == "502 Bad Gateway: <html>bad gateway</html>"
        ));
        // A plain-string message is read too.
        assert!(matches!(
            classify(400, None, r#"{"code":"X","message":"plain"}"#),
            CourierError::Partner(PartnerError::Rejected { message, .. }) if message == "X: plain"
        ));
    }

    #[test]
    fn rate_limits_wait_for_retry_after_or_one_window() {
        assert_eq!(
            classify(429, Some(Duration::from_secs(4)), "").retry_after(),
            Some(Duration::from_secs(4))
        );
        assert_eq!(classify(429, None, "").retry_after(), Some(RATE_WINDOW));
    }

    #[test]
    fn a_street_line_without_house_number_is_unparsed_and_drops_coordinates() {
        let mut s = shipment();
        s.address.house = None;
        s.address.street = "543 Howard St".into();
        s.address.latitude = Some(37.78);
        s.address.longitude = Some(-122.39);
        assert_eq!(
            destination(&s.address, None),
            json!({"address": {
                "apartment": "5th Floor",
                "unparsed": "543 Howard St, San Francisco, CA, 94105, US"
            }})
        );
        s.address.house = Some("543".into());
        s.address.street = "Howard St".into();
        assert_eq!(
            destination(&s.address, Some("Acme")),
            json!({"location": [-122.39, 37.78], "address": {
                "name": "Acme", "apartment": "5th Floor", "number": "543",
                "street": "Howard St", "city": "San Francisco", "state": "CA",
                "postalCode": "94105", "country": "US"
            }})
        );
    }

    #[test]
    fn the_notes_of_a_shipment_with_every_field_at_its_limit_fit_onfleets_cap_uncut() {
        use domain::text;
        let at_limit = |limit: text::Limit| "é".repeat(limit.max_chars);
        let mut s = shipment();
        s.order_name = Some(at_limit(text::ORDER_NAME));
        s.recipient.name = at_limit(text::RECIPIENT_NAME);
        s.recipient.phone = None;
        s.recipient.alternate_contact = Some(domain::Contact {
            kind: domain::ContactKind::MarketplaceMessaging,
            address: at_limit(text::ALTERNATE_CONTACT),
        });
        s.address.intercom = Some(at_limit(text::INTERCOM));
        s.notes = domain::Notes {
            text: Some(at_limit(text::NOTES)),
            fragile: true,
            call_before_arrival: true,
        };
        s.payment = domain::Payment::CashOnDelivery {
            amount: domain::Money::parse("99999999.99", "USD".parse().unwrap()).unwrap(),
        };
        let notes = task_notes(&s).unwrap();
        // Some 5,720 characters: domain::text documents "under 6,000".
        assert!(notes.chars().count() < 6_000, "{}", notes.chars().count());
        for whole in [
            s.notes.text.as_deref().unwrap(),
            s.recipient.name.as_str(),
            s.recipient
                .alternate_contact
                .as_ref()
                .unwrap()
                .address
                .as_str(),
        ] {
            assert!(notes.contains(whole));
        }
    }

    #[test]
    fn notes_are_capped_at_onfleets_limit() {
        let mut s = shipment();
        s.notes.text = Some("é".repeat(NOTES_MAX_CHARS + 50));
        let notes = task_notes(&s).unwrap();
        assert_eq!(notes.chars().count(), NOTES_MAX_CHARS);
    }

    #[test]
    fn windows_are_milliseconds() {
        let t = time::macros::datetime!(2026-03-02 14:00:00.250 UTC);
        assert_eq!(unix_ms(t), Some(1_772_460_000_250));
    }

    #[test]
    fn urls_escape_segments_and_keep_the_base_path() {
        let courier = OnfleetCourier::new(
            reqwest::Client::new(),
            OnfleetCredentials {
                api_key: "k".into(),
                base_url: "http://127.0.0.1:1/api/v2/".into(),
            },
        );
        assert_eq!(
            courier.url(&["tasks", "a/../b?c"]).unwrap().as_str(),
            "http://127.0.0.1:1/api/v2/tasks/a%2F..%2Fb%3Fc"
        );
        let credentials: OnfleetCredentials =
            serde_json::from_value(json!({"api_key": "k"})).unwrap();
        assert_eq!(credentials.base_url, DEFAULT_BASE_URL);
        assert!(!format!("{credentials:?}").contains("\"k\""));
    }
}
