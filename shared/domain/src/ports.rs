//! The ports: every capability the pipeline needs from outside, as small traits the domain
//! owns. Adapters implement them at the edges — DynamoDB, SQS, S3 and Secrets Manager in
//! `courier-bridge-aws`, partner APIs in `courier-bridge-partners`, in-memory fakes in
//! `courier-bridge-fakes` for the fast test tier — and each function is handed only the
//! ones it uses.
//!
//! Two error types cross them: [`StorageError`] for what holds the pipeline's state (a
//! table, a queue, a bucket, a secret) and [`PartnerError`] (or a partner's own error that
//! wraps it) for partners. A conditional write that loses is not an error: it is an answer
//! (`false`, [`Recorded::Kept`], [`Receipt::Duplicate`], ...).

use crate::audit::{AuditOutcome, InboundRecord, InboundState, NewInbound, Receipt, Rejection};
use crate::cod::cash::{CashOutTask, CashOutWrite, HandoverWrite};
use crate::cod::Handover;
use crate::courier::{CourierError, CourierKind, CourierTask, ProofOfDelivery};
use crate::dispatch::{DayPlans, DispatchPlan, Fleet, PlanStart};
use crate::error::{Classify, Transience};
use crate::history::HistoryEntry;
use crate::idempotency::{Claim, Completion};
use crate::notify::{NotifyChannel, OutboxClaim, OutboxEntry, OutboxState, OutgoingMessage, Sent};
use crate::order::OrderEvent;
use crate::partner::PartnerError;
use crate::record::{DeliveryFacts, Dispatched, Recorded, ShipmentRecord, TaskStored};
use crate::review::{ReviewItem, ReviewReason};
use crate::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use crate::{Channel, Money, Shipment, ShipmentDraft, ShipmentKey, ShipmentStatus, StoreConfig};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use time::Date;

/// A failure of what holds the pipeline's state: a table, a queue, a bucket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The call failed; `transient` when AWS (or the emulator) says "later": no answer,
    /// throttling, an internal error.
    #[error("{operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
        transient: bool,
    },
    /// A stored item does not have the shape this code writes: a bug or a manual edit.
    #[error("stored item {key} is malformed: {problem}")]
    Corrupt { key: String, problem: String },
    /// A conditional write lost in a way the protocol says cannot happen (e.g. a second,
    /// different task id for one shipment). Loud, permanent, and reviewed by a person.
    #[error("conflict on {key}: {problem}")]
    Conflict { key: String, problem: String },
}

impl StorageError {
    pub fn corrupt(key: impl Into<String>, problem: impl ToString) -> Self {
        StorageError::Corrupt {
            key: key.into(),
            problem: problem.to_string(),
        }
    }
}

impl Classify for StorageError {
    fn transience(&self) -> Transience {
        match self {
            StorageError::Call {
                transient: true, ..
            } => Transience::Transient,
            _ => Transience::Permanent,
        }
    }
}

/// Why a secret (a store's webhook secret, a partner's credentials) could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} does not exist")]
    NotFound(String),
    #[error("secret {name} is not valid JSON of the expected shape: {problem}")]
    Malformed { name: String, problem: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Classify for SecretError {
    fn transience(&self) -> Transience {
        match self {
            SecretError::Storage(e) => e.transience(),
            // An operator creates or fixes the secret; messages meanwhile retry.
            SecretError::NotFound(_) | SecretError::Malformed { .. } => Transience::Transient,
        }
    }
}

impl SecretError {
    /// What a partner client makes of it: an unreachable secret store is the partner being
    /// unavailable for now; a missing or malformed secret is our configuration.
    pub fn for_partner(self, partner: &'static str) -> PartnerError {
        match self {
            SecretError::Storage(e) => PartnerError::unavailable(partner, e.to_string()),
            other => PartnerError::config(partner, other.to_string()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

/// The shipments: one record per shipment key, every state change a conditional write
/// (DESIGN.md, principle 2). Duplicates and races resolve here, not in memory.
#[async_trait]
pub trait ShipmentStore: Send + Sync {
    /// Writes the shipment as of a channel event at `event_ms`, unless a newer event
    /// already wrote it or a task exists (then an edit that changes what the courier was
    /// told replaces the data: [`Recorded::Edited`]).
    async fn record(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<Recorded, StorageError>;

    /// Marks the shipment's order cancelled; returns the record as it is now, or `None`
    /// for an unknown shipment.
    async fn request_cancel(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<ShipmentRecord>, StorageError>;

    /// Moves the status to `to` if it is still one of `from`; returns whether it moved.
    async fn set_status(
        &self,
        key: &ShipmentKey,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
    ) -> Result<bool, StorageError>;

    /// Remembers that the order was cancelled as of `event_ms` (kept apart from its
    /// shipments: the order may have none yet).
    async fn record_order_cancelled(
        &self,
        order_key: &str,
        event_ms: i64,
    ) -> Result<(), StorageError>;

    /// When the order was cancelled (its event time), if it was.
    async fn order_cancelled_at(&self, order_key: &str) -> Result<Option<i64>, StorageError>;

    /// Every shipment of one order.
    async fn by_order(&self, order_key: &str) -> Result<Vec<ShipmentRecord>, StorageError>;

    /// Stores the courier task (Pending → Created). A repeat with the same task is a no-op;
    /// a different task id for the same shipment is [`StorageError::Conflict`].
    async fn record_task(
        &self,
        key: &ShipmentKey,
        courier: CourierKind,
        task: &CourierTask,
    ) -> Result<TaskStored, StorageError>;

    /// Notes that the store shows the tracking now (`reference` is the store's id for it).
    async fn record_tracking_written_back(
        &self,
        key: &ShipmentKey,
        reference: &str,
    ) -> Result<(), StorageError>;

    /// Moves the shipment to a status its courier reported, if its task is `task_id` and
    /// its status is still one of `from`, recording the transition and `facts` in the same
    /// write. Returns whether it moved.
    async fn apply_courier_status(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
        at_ms: i64,
        facts: &DeliveryFacts,
    ) -> Result<bool, StorageError>;

    /// Keeps cash reported with an event that was not applied; a later report replaces an
    /// earlier one, never the reverse.
    async fn record_cash_collected(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        cash: &Money,
        driver: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError>;

    /// Keeps proof that arrives after the delivery, unless newer proof is stored.
    async fn record_proof(
        &self,
        key: &ShipmentKey,
        proof: &ProofOfDelivery,
        at_ms: i64,
    ) -> Result<bool, StorageError>;

    /// Keeps the courier's latest ETA; an older event's never replaces a newer one.
    async fn record_eta(
        &self,
        key: &ShipmentKey,
        eta_ms: i64,
        at_ms: i64,
    ) -> Result<bool, StorageError>;

    async fn get(&self, key: &ShipmentKey) -> Result<Option<ShipmentRecord>, StorageError>;

    /// Every shipment (ship-by watch, cash reconciliation, the demo).
    async fn all(&self) -> Result<Vec<ShipmentRecord>, StorageError>;

    /// The shipments with a task that no applied plan has given to a driver yet.
    async fn awaiting_dispatch(&self) -> Result<Vec<ShipmentRecord>, StorageError>;

    /// The shipments a plan for `day` gave a driver that are not done yet: assigned, picked
    /// up or out for delivery (the routes running that day).
    async fn dispatched_on(&self, day: &str) -> Result<Vec<ShipmentRecord>, StorageError>;

    /// Notes the plan that put the shipment on a driver's route, if its task is `task_id`
    /// and no plan gave it to another driver first (the same plan again is a no-op; a
    /// later plan for the same driver replaces the mark, with its new ETA). Returns whether
    /// the shipment carries this plan's mark now.
    async fn record_dispatched(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        dispatched: &Dispatched,
    ) -> Result<bool, StorageError>;

    /// One page of the shipments `query` finds, from an index (never a scan, so a page
    /// costs the same at a million shipments).
    async fn search(&self, query: &ShipmentQuery) -> Result<ShipmentPage, StorageError>;
}

/// What a search of the shipments looks for: the console's shipment list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipmentFind {
    /// The shipment whose courier task has this tracking number.
    Tracking(String),
    /// Every shipment of one order (the order id as the channel gives it).
    Order {
        channel: Channel,
        store: String,
        order_id: String,
    },
    /// The shipments of orders that came in on `day` (YYYY-MM-DD, UTC: the day of the
    /// channel event that first recorded the shipment), newest first; only one store's,
    /// or only those with one status, when given.
    Day {
        day: String,
        store: Option<(Channel, String)>,
        status: Option<ShipmentStatus>,
    },
}

impl ShipmentFind {
    /// Whether `record` is one this search finds.
    pub fn matches(&self, record: &ShipmentRecord) -> bool {
        let key = &record.shipment.key;
        match self {
            ShipmentFind::Tracking(number) => record
                .task
                .as_ref()
                .is_some_and(|task| &task.tracking_number == number),
            ShipmentFind::Order {
                channel,
                store,
                order_id,
            } => key.channel == *channel && &key.store == store && &key.order_id == order_id,
            ShipmentFind::Day { store, status, .. } => {
                store
                    .as_ref()
                    .is_none_or(|(channel, store)| key.channel == *channel && &key.store == store)
                    && status.is_none_or(|status| record.status == status)
            }
        }
    }
}

/// A search of the shipments, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentQuery {
    pub find: ShipmentFind,
    pub limit: u32,
    /// Where the previous page stopped (opaque).
    pub after: Option<String>,
}

/// A page of shipments, and where the next one starts (`None`: the last page).
#[derive(Debug, Clone, Default)]
pub struct ShipmentPage {
    pub shipments: Vec<ShipmentRecord>,
    pub next: Option<String>,
}

/// The UTC day (YYYY-MM-DD) of a moment, as [`ShipmentFind::Day`] lists shipments by.
pub fn utc_day(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    ))
}

/// Where an address is, from a geocoding service (Amazon Location's Places API).
#[async_trait]
pub trait Geocoder: Send + Sync {
    /// Places the address, or says why it cannot: never a guessed point.
    async fn geocode(&self, address: &crate::Address) -> Result<Placement, PartnerError>;
}

/// Travel by road between places, from a routing service (Amazon Location's Routes API).
/// Without one, the planner estimates travel from the straight line.
#[async_trait]
pub trait RoadRouter: Send + Sync {
    /// Distance and time from every one of `points` to every other, by `vehicle`, leaving
    /// around `depart_ms`: a square matrix in row-major order (`from * n + to`).
    async fn matrix(
        &self,
        points: &[crate::dispatch::GeoPoint],
        vehicle: crate::dispatch::VehicleType,
        depart_ms: i64,
    ) -> Result<RoadMatrix, PartnerError>;
}

/// A [`RoadRouter`]'s answer: `n * n` legs, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadMatrix {
    pub legs: Vec<Leg>,
}

/// One origin–destination pair of a [`RoadMatrix`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leg {
    /// By road: metres and seconds.
    Road { metres: f64, seconds: f64 },
    /// The router found no road between the two (a place off every road, an island).
    NoRoute,
}

/// A geocoder's answer for one address.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    Placed(crate::dispatch::GeoPoint),
    /// Nothing matches the address.
    NotFound {
        message: String,
    },
    /// Several places match it about equally well.
    Ambiguous {
        message: String,
    },
}

/// The deployment's fleet: one document, replaced whole.
#[async_trait]
pub trait FleetStore: Send + Sync {
    async fn get(&self) -> Result<Option<Fleet>, StorageError>;
    async fn put(&self, fleet: &Fleet, by: &str) -> Result<(), StorageError>;
}

/// The day plans. At most one plan per day is open (made, not yet applied everywhere), and
/// a plan is only opened on top of the day's latest plan as its run saw it: a run that
/// finds one open applies that one, and a run that another overtook plans again. So a
/// crash between solving and applying, or two runs at once, never hand a stop to two
/// drivers.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// The day's open plan, and the id of its latest plan.
    async fn day(&self, day: &str) -> Result<DayPlans, StorageError>;

    /// Opens `plan` for its day, if none is open and the latest plan is still `seen_latest`.
    async fn start(
        &self,
        plan: &DispatchPlan,
        seen_latest: Option<&str>,
    ) -> Result<PlanStart, StorageError>;

    /// Closes the day's open plan `plan` once every route is at the courier.
    async fn finish(&self, plan: &DispatchPlan) -> Result<(), StorageError>;

    /// The day's plans, oldest first.
    async fn plans(&self, day: &str) -> Result<Vec<DispatchPlan>, StorageError>;
}

/// The review inbox: what needs a person, with its reasons.
#[async_trait]
pub trait ReviewInbox: Send + Sync {
    /// Opens the item, or counts one more occurrence of an open one (whose draft a newer
    /// event replaces). Returns whether it was opened.
    async fn open(&self, item: &ReviewItem) -> Result<bool, StorageError>;

    /// Stores an operator's corrected draft on an open item; false if it is not open.
    async fn fix(
        &self,
        id: &str,
        draft: &ShipmentDraft,
        reasons: &[ReviewReason],
        note: &str,
    ) -> Result<bool, StorageError>;

    /// Closes an open item (released, dismissed, superseded); exactly one closer wins.
    async fn close(&self, id: &str, to: &str, resolution: &str) -> Result<bool, StorageError>;

    async fn get(&self, id: &str) -> Result<Option<ReviewItem>, StorageError>;

    async fn all(&self) -> Result<Vec<ReviewItem>, StorageError>;

    /// One page of the items with `status`, newest first, from an index (never a scan, so
    /// a page costs the same at a million items); only those with a reason `code` when
    /// given. `after` is the previous page's `next`.
    async fn page(&self, query: &ReviewQuery) -> Result<ReviewPage, StorageError>;
}

/// Which review items a page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewQuery {
    pub status: String,
    /// A [`ReviewReason::code`](crate::ReviewReason::code) the items must have.
    pub code: Option<String>,
    pub limit: u32,
    /// Where the previous page stopped (opaque).
    pub after: Option<String>,
}

/// A page of review items, and where the next one starts (`None`: the last page).
#[derive(Debug, Clone, Default)]
pub struct ReviewPage {
    pub items: Vec<ReviewItem>,
    pub next: Option<String>,
}

/// The audit trail: every inbound payload, whether it was seen before, and what it
/// produced. Also the deduplication record of intake.
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Stores the payload if its delivery id is new; otherwise counts the duplicate.
    async fn receive(&self, inbound: &NewInbound<'_>) -> Result<Receipt, StorageError>;

    /// Moves the payload to `to`, only from one of `from`.
    async fn advance(
        &self,
        id: &str,
        from: &[InboundState],
        to: InboundState,
    ) -> Result<bool, StorageError>;

    /// Records what the payload produced (and indexes it under its order).
    async fn record_outcome(
        &self,
        id: &str,
        outcome: &AuditOutcome<'_>,
    ) -> Result<(), StorageError>;

    /// Marks the payload that created `task_id`: the end of the audit chain.
    async fn record_task(&self, id: &str, task_id: &str) -> Result<(), StorageError>;

    async fn get(&self, id: &str) -> Result<Option<InboundRecord>, StorageError>;

    /// Every payload that touched the order, oldest first.
    async fn by_order(&self, order_key: &str) -> Result<Vec<InboundRecord>, StorageError>;

    /// Keeps a refused request's facts (not its untrusted body); returns its id.
    async fn record_rejection(&self, rejection: &Rejection<'_>) -> Result<String, StorageError>;
}

/// A queue between two steps, typed by the one message it carries.
#[async_trait]
pub trait Queue<M: Serialize + Sync>: Send + Sync {
    async fn send(&self, message: &M) -> Result<(), StorageError>;
}

/// The notifications outbox: each message once, sent at most once.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Adds the message unless it is there; returns whether this call added it.
    async fn add(&self, entry: &OutboxEntry) -> Result<bool, StorageError>;

    async fn get(&self, id: &str) -> Result<Option<OutboxEntry>, StorageError>;

    /// PENDING → SENDING for `lease_ms`, counting the attempt.
    async fn claim(&self, id: &str, lease_ms: i64) -> Result<OutboxClaim, StorageError>;

    /// SENDING → a final state, with the provider's answer.
    async fn finish(
        &self,
        id: &str,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, StorageError>;

    /// SENDING → PENDING: the provider did not take it.
    async fn release(&self, id: &str, error: &str) -> Result<bool, StorageError>;

    /// SENDING with its lease over → UNKNOWN: it may have gone out.
    async fn abandon(&self, id: &str) -> Result<bool, StorageError>;

    /// PENDING → SKIPPED: no longer true.
    async fn skip(&self, id: &str, why: &str) -> Result<bool, StorageError>;

    async fn all(&self) -> Result<Vec<OutboxEntry>, StorageError>;
}

/// Every courier event per shipment: the status history.
#[async_trait]
pub trait StatusHistory: Send + Sync {
    /// Adds the event; false when it is there already (a redelivery).
    async fn record(&self, key: &ShipmentKey, entry: &HistoryEntry) -> Result<bool, StorageError>;

    /// The shipment's events, oldest first.
    async fn list(&self, key: &ShipmentKey) -> Result<Vec<HistoryEntry>, StorageError>;
}

/// Hand-overs and the daily cash-out tasks.
#[async_trait]
pub trait CashBook: Send + Sync {
    /// Records one hand-over, once per (day, courier, receipt).
    async fn record_handover(
        &self,
        day: Date,
        handover: &Handover,
        recorded_by: &str,
    ) -> Result<HandoverWrite, StorageError>;

    async fn handovers(&self, day: Date) -> Result<Vec<Handover>, StorageError>;

    /// Creates the day's cash-out task, or brings it up to date; the same amounts write
    /// nothing.
    async fn put_cash_out(&self, task: &CashOutTask) -> Result<CashOutWrite, StorageError>;

    async fn cash_outs(&self, day: Date) -> Result<Vec<CashOutTask>, StorageError>;
}

/// One stored report file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportObject {
    pub key: String,
    pub size: i64,
}

/// Where the cash reports are kept (S3 on AWS).
#[async_trait]
pub trait ReportShelf: Send + Sync {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StorageError>;

    /// The files under `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ReportObject>, StorageError>;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
}

/// Each store's rules ([`StoreConfig`]); a store without any runs on the defaults.
#[async_trait]
pub trait StoreRules: Send + Sync {
    /// The store's rules (cached), or the defaults when it has none. Rules that no longer
    /// parse are an error, never the defaults.
    async fn get(&self, channel: Channel, store: &str) -> Result<Arc<StoreConfig>, StorageError>;

    /// The stored rules, uncached; `None` when the store has none.
    async fn read(
        &self,
        channel: Channel,
        store: &str,
    ) -> Result<Option<StoreConfig>, StorageError>;

    async fn put(
        &self,
        channel: Channel,
        store: &str,
        config: &StoreConfig,
    ) -> Result<(), StorageError>;
}

/// The create-once protocol's record of each effect ([`crate::idempotency`]).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StorageError>;
    async fn complete(
        &self,
        key: &str,
        token: &str,
        result: &serde_json::Value,
    ) -> Result<Completion, StorageError>;
    /// Gives the key back after a failure, so the next attempt need not wait for the lease.
    async fn release(&self, key: &str, token: &str, error: &str) -> Result<(), StorageError>;
}

/// Secrets by name under the deployment's prefix (Secrets Manager on AWS).
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The secret's text.
    async fn text(&self, name: &str) -> Result<Arc<String>, SecretError>;

    /// The secret's text as the store holds it now, past a cache (which may still hold it
    /// from before a rotation). A cache may answer from itself if it read the secret a
    /// moment ago, so that a stream of forged requests cannot become a stream of reads.
    async fn fresh_text(&self, name: &str) -> Result<Arc<String>, SecretError> {
        self.text(name).await
    }

    /// The full name `name` has in the secret store (for messages to operators).
    fn full_name(&self, name: &str) -> String;
}

/// Links to the stack's own pages about a shipment, for customer messages: signed, so they
/// work without a login, and expiring.
#[async_trait]
pub trait CustomerLinks: Send + Sync {
    /// The link to the shipment's `page`, valid for a while from `now_ms`.
    async fn page(
        &self,
        page: CustomerPage,
        shipment: &ShipmentKey,
        now_ms: i64,
    ) -> Result<String, SecretError>;
}

/// The pages a customer reaches from a message, each by its own link: a link to one page
/// opens no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerPage {
    /// Where the parcel is: statuses, ETA, proof of delivery.
    Track,
    /// Correct an address the courier could not place (the clarification request).
    FixAddress,
    /// Pick another of the store's delivery slots (the failed-delivery message).
    Reschedule,
}

impl CustomerPage {
    pub const ALL: [CustomerPage; 3] = [
        CustomerPage::Track,
        CustomerPage::FixAddress,
        CustomerPage::Reschedule,
    ];

    /// Its name in a link's signed payload.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerPage::Track => "track",
            CustomerPage::FixAddress => "fix-address",
            CustomerPage::Reschedule => "reschedule",
        }
    }

    /// The path under the pages' base URL its links start with (short: links go in SMS).
    pub fn path(self) -> &'static str {
        match self {
            CustomerPage::Track => "t",
            CustomerPage::FixAddress => "a",
            CustomerPage::Reschedule => "r",
        }
    }
}

/// The secret `name` read as JSON into `T`.
pub async fn secret_json<T: DeserializeOwned>(
    secrets: &dyn Secrets,
    name: &str,
) -> Result<T, SecretError> {
    let text = secrets.text(name).await?;
    parse_secret(secrets, name, &text)
}

/// [`secret_json`] past the cache ([`Secrets::fresh_text`]).
pub async fn fresh_secret_json<T: DeserializeOwned>(
    secrets: &dyn Secrets,
    name: &str,
) -> Result<T, SecretError> {
    let text = secrets.fresh_text(name).await?;
    parse_secret(secrets, name, &text)
}

fn parse_secret<T: DeserializeOwned>(
    secrets: &dyn Secrets,
    name: &str,
    text: &str,
) -> Result<T, SecretError> {
    serde_json::from_str(text).map_err(|e| SecretError::Malformed {
        name: secrets.full_name(name),
        problem: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// Partners
// ---------------------------------------------------------------------------------------

/// A courier platform's task API.
#[async_trait]
pub trait Courier: Send + Sync {
    fn kind(&self) -> CourierKind;

    /// Creates the task. `reference` is our idempotency reference: the courier stores it so
    /// that [`Courier::find_by_reference`] finds the task after an ambiguous failure.
    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError>;

    /// The task carrying `reference`, if the courier has one.
    async fn find_by_reference(&self, reference: &str)
        -> Result<Option<CourierTask>, CourierError>;

    /// Replaces what the courier was told (address, contact, window, notes, COD amount).
    /// Idempotent. [`CourierError::TooLate`] once the parcel is picked up.
    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError>;

    /// Cancels the task. Idempotent. [`CourierError::TooLate`] once the parcel is with the
    /// driver or delivered.
    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError>;

    /// Gives `driver` the tasks, in this order, after the tasks they have already started
    /// (picked up or out for delivery), which stay first and in place; tasks the driver
    /// had and the call does not list stay after them (a route never takes a task away but
    /// by giving it to another driver). Idempotent: the same route again changes nothing.
    /// `plan` is the plan's id, for the courier's log.
    async fn assign_route(
        &self,
        driver: &str,
        plan: &str,
        task_ids: &[String],
    ) -> Result<(), CourierError>;
}

/// The deployment's courier, with its credentials (which an operator may fix or rotate
/// while the function runs, so it is asked for per use).
#[async_trait]
pub trait Couriers: Send + Sync {
    async fn courier(&self) -> Result<Arc<dyn Courier>, CourierError>;
}

/// Writes what the customer should see back to the channel the order came from.
#[async_trait]
pub trait StoreWriter: Send + Sync {
    /// Shows the tracking on the order. Idempotent: it looks for its own earlier write.
    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError>;

    /// Shows a delivery status on the order. Idempotent per (shipment, status).
    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError>;
}

/// The write-back client of a shipment's channel and store, with its credentials.
#[async_trait]
pub trait StoreWriters: Send + Sync {
    async fn writer(&self, key: &ShipmentKey) -> Result<Box<dyn StoreWriter>, PartnerError>;
}

/// A marketplace whose notifications name an order without its contents (Amazon): the
/// order is fetched and read into an [`OrderEvent`].
#[async_trait]
pub trait OrderSource: Send + Sync {
    async fn order_event(
        &self,
        channel: Channel,
        store: &str,
        order_id: &str,
    ) -> Result<OrderEvent, PartnerError>;
}

/// A provider that carries customer messages on one channel.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// "twilio", "ses", "capture".
    fn name(&self) -> &'static str;

    /// Sends once. Never retries by itself: the caller decides, from the error, whether a
    /// retry could send the message twice ([`PartnerError::may_have_succeeded`]).
    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError>;
}

/// The provider of each notification channel, as the deployment configures them.
#[async_trait]
pub trait Notifiers: Send + Sync {
    /// Whether the channel has a provider at all (an "off" channel reaches nobody).
    fn is_on(&self, channel: NotifyChannel) -> bool;

    /// The channel's provider with its credentials; `None` when the channel is off.
    async fn notifier(
        &self,
        channel: NotifyChannel,
    ) -> Result<Option<Arc<dyn Notifier>>, PartnerError>;
}
