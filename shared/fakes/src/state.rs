//! Fakes of the state ports (tables, queues, secrets), keeping the adapters' conditions.

use crate::{lock, Faults};
use async_trait::async_trait;
use aws::batch::RetryDelay;
use domain::audit::{AuditOutcome, InboundRecord, InboundState, NewInbound, Receipt, Rejection};
use domain::clock::{now_ms, rfc3339_now};
use domain::cod::{CashOutTask, CashOutWrite, Handover, HandoverWrite};
use domain::courier::{CourierKind, CourierTask, ProofOfDelivery};
use domain::dispatch::{DayPlans, DispatchPlan, Fleet, PlanStart};
use domain::history::HistoryEntry;
use domain::idempotency::{Claim, Completion};
use domain::notify::{OutboxClaim, OutboxEntry, OutboxState};
use domain::ports::{
    AuditTrail, CashBook, FleetStore, IdempotencyStore, Outbox, PlanStore, Queue, ReportObject,
    ReportShelf, ReviewInbox, SecretError, Secrets, ShipmentStore, StatusHistory, StoreRules,
};
use domain::record::{DeliveryFacts, Dispatched, Recorded, ShipmentRecord, TaskStored};
use domain::review::OPEN;
use domain::{
    Channel, Money, ReviewItem, ReviewReason, Shipment, ShipmentDraft, ShipmentKey, ShipmentStatus,
    StorageError, StoreConfig,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::Date;

/// The answer of a write whose item must exist and does not (DynamoDB's condition
/// `attribute_exists(pk)` failing on a write that does not expect it).
fn missing(operation: &'static str, key: &str) -> StorageError {
    StorageError::Call {
        operation,
        message: format!("ConditionalCheckFailedException: no item {key}"),
        transient: false,
    }
}

// ---------------------------------------------------------------------------------------
// Shipments
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct ShipmentRow {
    record: ShipmentRecord,
    proof_event_ms: Option<i64>,
    eta_event_ms: Option<i64>,
}

/// The shipments table.
#[derive(Default)]
pub struct FakeShipments {
    rows: Mutex<BTreeMap<String, ShipmentRow>>,
    cancellations: Mutex<HashMap<String, i64>>,
    pub faults: Faults<StorageError>,
}

impl FakeShipments {
    /// Puts a record as it is (a test's starting point).
    pub fn insert(&self, record: ShipmentRecord) {
        lock(&self.rows).insert(
            record.shipment.key.to_string(),
            ShipmentRow {
                record,
                proof_event_ms: None,
                eta_event_ms: None,
            },
        );
    }

    /// The record now, for assertions.
    pub fn record(&self, key: &ShipmentKey) -> Option<ShipmentRecord> {
        lock(&self.rows)
            .get(&key.to_string())
            .map(|row| row.record.clone())
    }

    pub fn records(&self) -> Vec<ShipmentRecord> {
        lock(&self.rows)
            .values()
            .map(|row| row.record.clone())
            .collect()
    }

    fn update<T>(
        &self,
        key: &ShipmentKey,
        change: impl FnOnce(&mut ShipmentRow) -> T,
    ) -> Option<T> {
        lock(&self.rows).get_mut(&key.to_string()).map(change)
    }
}

/// A shipment as a channel event first records it.
pub fn new_record(shipment: &Shipment, event_ms: i64, inbound_id: &str) -> ShipmentRecord {
    ShipmentRecord {
        shipment: shipment.clone(),
        status: ShipmentStatus::Pending,
        source_event_ms: event_ms,
        source_inbound: inbound_id.to_owned(),
        courier: None,
        task: None,
        version: 1,
        tracking_written_back: None,
        cancel_requested: false,
        edited_after_task: false,
        transitions: Vec::new(),
        delivery: DeliveryFacts::default(),
        dispatch: None,
    }
}

#[async_trait]
impl ShipmentStore for FakeShipments {
    async fn record(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<Recorded, StorageError> {
        self.faults.check("record")?;
        let mut rows = lock(&self.rows);
        let pk = shipment.key.to_string();
        let fresh = ShipmentRow {
            record: new_record(shipment, event_ms, inbound_id),
            proof_event_ms: None,
            eta_event_ms: None,
        };
        let Some(existing) = rows.get_mut(&pk) else {
            rows.insert(pk, fresh);
            return Ok(Recorded::New);
        };
        let r = &existing.record;
        if r.source_event_ms < event_ms && r.status == ShipmentStatus::Pending && r.task.is_none() {
            *existing = fresh;
            return Ok(Recorded::Updated);
        }
        let is_edit = r.task.is_some()
            && !r.cancel_requested
            && !r.status.is_terminal()
            && r.source_event_ms < event_ms
            && r.shipment.courier_facing_change(shipment);
        if is_edit {
            let r = &mut existing.record;
            r.shipment = shipment.clone();
            r.source_event_ms = event_ms;
            r.source_inbound = inbound_id.to_owned();
            r.version += 1;
            r.edited_after_task = true;
            return Ok(Recorded::Edited);
        }
        Ok(Recorded::Kept(Box::new(existing.record.clone())))
    }

    async fn request_cancel(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<ShipmentRecord>, StorageError> {
        self.faults.check("request_cancel")?;
        Ok(self.update(key, |row| {
            row.record.cancel_requested = true;
            row.record.clone()
        }))
    }

    async fn set_status(
        &self,
        key: &ShipmentKey,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
    ) -> Result<bool, StorageError> {
        self.faults.check("set_status")?;
        Ok(self
            .update(key, |row| {
                let moves = from.contains(&row.record.status);
                if moves {
                    row.record.status = to;
                    row.record.version += 1;
                }
                moves
            })
            .unwrap_or(false))
    }

    async fn record_order_cancelled(
        &self,
        order_key: &str,
        event_ms: i64,
    ) -> Result<(), StorageError> {
        self.faults.check("record_order_cancelled")?;
        let mut markers = lock(&self.cancellations);
        let at = markers.entry(order_key.to_owned()).or_insert(event_ms);
        *at = (*at).max(event_ms);
        Ok(())
    }

    async fn order_cancelled_at(&self, order_key: &str) -> Result<Option<i64>, StorageError> {
        self.faults.check("order_cancelled_at")?;
        Ok(lock(&self.cancellations).get(order_key).copied())
    }

    async fn by_order(&self, order_key: &str) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.faults.check("by_order")?;
        Ok(lock(&self.rows)
            .values()
            .filter(|row| row.record.shipment.key.order_key() == order_key)
            .map(|row| row.record.clone())
            .collect())
    }

    async fn record_task(
        &self,
        key: &ShipmentKey,
        courier: CourierKind,
        task: &CourierTask,
    ) -> Result<TaskStored, StorageError> {
        self.faults.check("record_task")?;
        let conflict = || StorageError::Conflict {
            key: key.to_string(),
            problem: format!(
                "shipment is missing or already has another task than {}",
                task.task_id
            ),
        };
        self.update(key, |row| {
            let r = &mut row.record;
            match &r.task {
                None => {
                    r.task = Some(task.clone());
                    r.courier = Some(courier);
                    r.status = ShipmentStatus::Created;
                    r.version += 1;
                    Ok(TaskStored {
                        first: true,
                        cancel_requested: r.cancel_requested,
                        shipment: Box::new(r.shipment.clone()),
                    })
                }
                Some(stored) if stored.task_id == task.task_id => Ok(TaskStored {
                    first: false,
                    cancel_requested: r.cancel_requested,
                    shipment: Box::new(r.shipment.clone()),
                }),
                Some(_) => Err(conflict()),
            }
        })
        .unwrap_or_else(|| Err(conflict()))
    }

    async fn record_tracking_written_back(
        &self,
        key: &ShipmentKey,
        reference: &str,
    ) -> Result<(), StorageError> {
        self.faults.check("record_tracking_written_back")?;
        let written = self
            .update(key, |row| match row.record.task {
                Some(_) => {
                    row.record.tracking_written_back = Some(reference.to_owned());
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if written {
            Ok(())
        } else {
            Err(missing("UpdateItem", &key.to_string()))
        }
    }

    async fn apply_courier_status(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
        at_ms: i64,
        facts: &DeliveryFacts,
    ) -> Result<bool, StorageError> {
        self.faults.check("apply_courier_status")?;
        Ok(self
            .update(key, |row| {
                let r = &mut row.record;
                let ours = r.task.as_ref().is_some_and(|t| t.task_id == task_id);
                if !ours || !from.contains(&r.status) {
                    return false;
                }
                r.status = to;
                r.transitions.push((to, at_ms));
                r.version += 1;
                let d = &mut r.delivery;
                if let Some(proof) = &facts.proof {
                    d.proof = Some(proof.clone());
                    row.proof_event_ms = Some(at_ms);
                }
                if let Some(failure) = &facts.failure {
                    d.failure = Some(failure.clone());
                }
                if let Some(cod) = facts.cod_collected {
                    d.cod_collected = Some(cod);
                    d.cod_collected_ms = Some(at_ms);
                }
                if let Some(driver) = &facts.driver {
                    d.driver = Some(driver.clone());
                }
                if let Some(cost) = facts.delivery_cost {
                    d.delivery_cost = Some(cost);
                }
                true
            })
            .unwrap_or(false))
    }

    async fn record_cash_collected(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        cash: &Money,
        driver: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        self.faults.check("record_cash_collected")?;
        Ok(self
            .update(key, |row| {
                let r = &mut row.record;
                let ours = r.task.as_ref().is_some_and(|t| t.task_id == task_id);
                if !ours || r.delivery.cod_collected_ms.is_some_and(|t| t >= at_ms) {
                    return false;
                }
                r.delivery.cod_collected = Some(*cash);
                r.delivery.cod_collected_ms = Some(at_ms);
                if let Some(driver) = driver {
                    r.delivery.driver = Some(driver.to_owned());
                }
                true
            })
            .unwrap_or(false))
    }

    async fn record_proof(
        &self,
        key: &ShipmentKey,
        proof: &ProofOfDelivery,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        self.faults.check("record_proof")?;
        Ok(self
            .update(key, |row| {
                let newer = row.proof_event_ms.is_none_or(|t| t < at_ms);
                if row.record.status != ShipmentStatus::Delivered || !newer {
                    return false;
                }
                row.record.delivery.proof = Some(proof.clone());
                row.proof_event_ms = Some(at_ms);
                true
            })
            .unwrap_or(false))
    }

    async fn record_eta(
        &self,
        key: &ShipmentKey,
        eta_ms: i64,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        self.faults.check("record_eta")?;
        Ok(self
            .update(key, |row| {
                let newer = row.eta_event_ms.is_none_or(|t| t < at_ms);
                if row.record.task.is_none() || !newer {
                    return false;
                }
                row.record.delivery.eta_ms = Some(eta_ms);
                row.eta_event_ms = Some(at_ms);
                true
            })
            .unwrap_or(false))
    }

    async fn get(&self, key: &ShipmentKey) -> Result<Option<ShipmentRecord>, StorageError> {
        self.faults.check("get")?;
        Ok(self.record(key))
    }

    async fn all(&self) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.faults.check("all")?;
        Ok(self.records())
    }

    async fn awaiting_dispatch(&self) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.faults.check("awaiting_dispatch")?;
        Ok(self
            .records()
            .into_iter()
            .filter(|r| r.status == ShipmentStatus::Created && r.dispatch.is_none())
            .collect())
    }

    /// Newest first by the recording event, then key; the cursor is the last key.
    async fn search(
        &self,
        query: &domain::ports::ShipmentQuery,
    ) -> Result<domain::ports::ShipmentPage, StorageError> {
        use domain::ports::ShipmentFind;
        self.faults.check("search")?;
        // The day is the recording event's (the adapter's `by_day` partition).
        let wanted = |r: &ShipmentRecord| {
            query.find.matches(r)
                && match &query.find {
                    ShipmentFind::Day { day, .. } => {
                        domain::ports::utc_day(r.source_event_ms).as_ref() == Some(day)
                    }
                    _ => true,
                }
        };
        let mut found: Vec<ShipmentRecord> =
            self.records().into_iter().filter(|r| wanted(r)).collect();
        found.sort_by(|a, b| {
            b.source_event_ms
                .cmp(&a.source_event_ms)
                .then(b.shipment.key.to_string().cmp(&a.shipment.key.to_string()))
        });
        if let Some(after) = &query.after {
            if let Some(at) = found
                .iter()
                .position(|r| &r.shipment.key.to_string() == after)
            {
                found.drain(..=at);
            }
        }
        let more = found.len() > query.limit as usize;
        found.truncate(query.limit as usize);
        let next = more
            .then(|| found.last().map(|r| r.shipment.key.to_string()))
            .flatten();
        Ok(domain::ports::ShipmentPage {
            shipments: found,
            next,
        })
    }

    async fn dispatched_on(&self, day: &str) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.faults.check("dispatched_on")?;
        Ok(self
            .records()
            .into_iter()
            .filter(|r| {
                matches!(
                    r.status,
                    ShipmentStatus::Assigned
                        | ShipmentStatus::PickedUp
                        | ShipmentStatus::OutForDelivery
                ) && r.dispatch.as_ref().is_some_and(|d| d.day == day)
            })
            .collect())
    }

    async fn record_dispatched(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        dispatched: &Dispatched,
    ) -> Result<bool, StorageError> {
        self.faults.check("record_dispatched")?;
        Ok(self
            .update(key, |row| {
                let record = &mut row.record;
                let ours = record.task.as_ref().is_some_and(|t| t.task_id == task_id)
                    && !record.cancel_requested;
                match &record.dispatch {
                    Some(existing) if existing.plan_id == dispatched.plan_id => ours,
                    Some(existing) if existing.driver != dispatched.driver => false,
                    _ if ours => {
                        record.dispatch = Some(dispatched.clone());
                        record.version += 1;
                        true
                    }
                    _ => false,
                }
            })
            .unwrap_or(false))
    }
}

// ---------------------------------------------------------------------------------------
// Review inbox, audit trail, history
// ---------------------------------------------------------------------------------------

/// The review inbox.
#[derive(Default)]
pub struct FakeReviews {
    items: Mutex<BTreeMap<String, ReviewItem>>,
    pub faults: Faults<StorageError>,
}

impl FakeReviews {
    pub fn items(&self) -> Vec<ReviewItem> {
        lock(&self.items).values().cloned().collect()
    }

    pub fn open_items(&self) -> Vec<ReviewItem> {
        self.items()
            .into_iter()
            .filter(|i| i.status == OPEN)
            .collect()
    }
}

#[async_trait]
impl ReviewInbox for FakeReviews {
    async fn open(&self, item: &ReviewItem) -> Result<bool, StorageError> {
        self.faults.check("open")?;
        let mut items = lock(&self.items);
        match items.get_mut(&item.id) {
            Some(existing) if existing.status == OPEN => {
                if let (Some(draft), Some(ms)) = (&item.draft, item.event_ms) {
                    if existing.event_ms.is_none_or(|t| t < ms) {
                        existing.draft = Some(draft.clone());
                        existing.reasons = item.reasons.clone();
                        existing.event_ms = Some(ms);
                    }
                }
                existing.occurrences += 1;
                Ok(false)
            }
            _ => {
                let mut fresh = item.clone();
                fresh.occurrences = 1;
                items.insert(item.id.clone(), fresh);
                Ok(true)
            }
        }
    }

    async fn fix(
        &self,
        id: &str,
        draft: &ShipmentDraft,
        reasons: &[ReviewReason],
        note: &str,
    ) -> Result<bool, StorageError> {
        self.faults.check("fix")?;
        Ok(match lock(&self.items).get_mut(id) {
            Some(item) if item.status == OPEN => {
                item.draft = Some(draft.clone());
                item.reasons = reasons.to_vec();
                item.fixes.push(note.to_owned());
                true
            }
            _ => false,
        })
    }

    async fn close(&self, id: &str, to: &str, resolution: &str) -> Result<bool, StorageError> {
        self.faults.check("close")?;
        Ok(match lock(&self.items).get_mut(id) {
            Some(item) if item.status == OPEN => {
                item.status = to.to_owned();
                item.resolution = Some(resolution.to_owned());
                true
            }
            _ => false,
        })
    }

    async fn get(&self, id: &str) -> Result<Option<ReviewItem>, StorageError> {
        self.faults.check("get")?;
        Ok(lock(&self.items).get(id).cloned())
    }

    async fn all(&self) -> Result<Vec<ReviewItem>, StorageError> {
        self.faults.check("all")?;
        Ok(self.items())
    }

    /// Newest first by creation, then id; the cursor is the last item's id.
    async fn page(
        &self,
        query: &domain::ports::ReviewQuery,
    ) -> Result<domain::ports::ReviewPage, StorageError> {
        self.faults.check("page")?;
        let mut items: Vec<ReviewItem> = self
            .items()
            .into_iter()
            .filter(|i| i.status == query.status)
            .filter(|i| {
                query
                    .code
                    .as_deref()
                    .is_none_or(|code| i.reasons.iter().any(|r| r.code() == code))
            })
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        if let Some(after) = &query.after {
            if let Some(at) = items.iter().position(|i| &i.id == after) {
                items.drain(..=at);
            }
        }
        let more = items.len() > query.limit as usize;
        items.truncate(query.limit as usize);
        let next = more.then(|| items.last().map(|i| i.id.clone())).flatten();
        Ok(domain::ports::ReviewPage { items, next })
    }
}

/// The audit trail.
#[derive(Default)]
pub struct FakeAudit {
    records: Mutex<BTreeMap<String, (InboundRecord, i64)>>,
    rejections: Mutex<Vec<String>>,
    pub faults: Faults<StorageError>,
}

impl FakeAudit {
    pub fn records(&self) -> Vec<InboundRecord> {
        lock(&self.records)
            .values()
            .map(|(r, _)| r.clone())
            .collect()
    }

    pub fn record(&self, id: &str) -> Option<InboundRecord> {
        lock(&self.records).get(id).map(|(r, _)| r.clone())
    }

    /// The refused requests' reasons, in order.
    pub fn rejections(&self) -> Vec<String> {
        lock(&self.rejections).clone()
    }

    /// Puts a stored payload as a test's starting point, received `age_ms` ago.
    pub fn insert(&self, record: InboundRecord, age_ms: i64) {
        lock(&self.records).insert(record.id.clone(), (record, now_ms() - age_ms));
    }
}

#[async_trait]
impl AuditTrail for FakeAudit {
    async fn receive(&self, inbound: &NewInbound<'_>) -> Result<Receipt, StorageError> {
        self.faults.check("receive")?;
        let id = inbound.id();
        let mut records = lock(&self.records);
        if let Some((existing, received_ms)) = records.get_mut(&id) {
            existing.duplicates += 1;
            return Ok(Receipt::Duplicate {
                state: existing.state,
                count: existing.duplicates,
                received_ms: *received_ms,
            });
        }
        let record = InboundRecord {
            id: id.clone(),
            channel: inbound.channel.to_owned(),
            store: inbound.store.to_owned(),
            topic: inbound.topic.to_owned(),
            webhook_id: inbound.webhook_id.to_owned(),
            received_at: rfc3339_now(),
            triggered_at: inbound.triggered_at.map(str::to_owned),
            signature: inbound.signed_with.as_str().into(),
            state: inbound.state,
            duplicates: 0,
            body: inbound.body.to_vec(),
            order_key: None,
            shipment_key: None,
            outcome: None,
            task_id: None,
            task_created_at: None,
            review_id: None,
        };
        records.insert(id, (record, now_ms()));
        Ok(Receipt::New)
    }

    async fn advance(
        &self,
        id: &str,
        from: &[InboundState],
        to: InboundState,
    ) -> Result<bool, StorageError> {
        self.faults.check("advance")?;
        Ok(match lock(&self.records).get_mut(id) {
            Some((record, _)) if from.contains(&record.state) => {
                record.state = to;
                true
            }
            _ => false,
        })
    }

    async fn record_outcome(
        &self,
        id: &str,
        outcome: &AuditOutcome<'_>,
    ) -> Result<(), StorageError> {
        self.faults.check("record_outcome")?;
        let mut records = lock(&self.records);
        let (record, _) = records
            .get_mut(id)
            .ok_or_else(|| missing("UpdateItem", id))?;
        record.state = outcome.state;
        record.outcome = Some(outcome.summary.to_owned());
        if let Some(k) = outcome.order_key {
            record.order_key = Some(k.to_owned());
        }
        if let Some(k) = outcome.shipment_key {
            record.shipment_key = Some(k.to_owned());
        }
        if let Some(r) = outcome.review_id {
            record.review_id = Some(r.to_owned());
        }
        Ok(())
    }

    async fn record_task(&self, id: &str, task_id: &str) -> Result<(), StorageError> {
        self.faults.check("record_task")?;
        let mut records = lock(&self.records);
        let (record, _) = records
            .get_mut(id)
            .ok_or_else(|| missing("UpdateItem", id))?;
        record.task_id = Some(task_id.to_owned());
        record.task_created_at = Some(rfc3339_now());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<InboundRecord>, StorageError> {
        self.faults.check("get")?;
        Ok(self.record(id))
    }

    async fn by_order(&self, order_key: &str) -> Result<Vec<InboundRecord>, StorageError> {
        self.faults.check("by_order")?;
        Ok(self
            .records()
            .into_iter()
            .filter(|r| r.order_key.as_deref() == Some(order_key))
            .collect())
    }

    async fn record_rejection(&self, rejection: &Rejection<'_>) -> Result<String, StorageError> {
        self.faults.check("record_rejection")?;
        let mut rejections = lock(&self.rejections);
        rejections.push(rejection.reason.to_owned());
        Ok(format!(
            "rejected:{}:{}:{}",
            rejection.channel,
            rejection.store,
            rejections.len()
        ))
    }
}

/// The status history.
#[derive(Default)]
pub struct FakeHistory {
    entries: Mutex<BTreeMap<(String, i64, String), HistoryEntry>>,
    pub faults: Faults<StorageError>,
}

#[async_trait]
impl StatusHistory for FakeHistory {
    async fn record(&self, key: &ShipmentKey, entry: &HistoryEntry) -> Result<bool, StorageError> {
        self.faults.check("record")?;
        let id = (key.to_string(), entry.at_ms, entry.event_id.clone());
        let mut entries = lock(&self.entries);
        if entries.contains_key(&id) {
            return Ok(false);
        }
        entries.insert(id, entry.clone());
        Ok(true)
    }

    async fn list(&self, key: &ShipmentKey) -> Result<Vec<HistoryEntry>, StorageError> {
        self.faults.check("list")?;
        let pk = key.to_string();
        Ok(lock(&self.entries)
            .iter()
            .filter(|((k, _, _), _)| *k == pk)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

// ---------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------

/// A queue that keeps what was sent.
pub struct FakeQueue<M> {
    sent: Mutex<Vec<M>>,
    pub faults: Faults<StorageError>,
}

impl<M> Default for FakeQueue<M> {
    fn default() -> Self {
        FakeQueue {
            sent: Mutex::new(Vec::new()),
            faults: Faults::default(),
        }
    }
}

impl<M: Clone> FakeQueue<M> {
    pub fn sent(&self) -> Vec<M> {
        lock(&self.sent).clone()
    }

    /// Takes what was sent (a test hands it to the next function).
    pub fn drain(&self) -> Vec<M> {
        std::mem::take(&mut *lock(&self.sent))
    }
}

#[async_trait]
impl<M: Serialize + Clone + Send + Sync> Queue<M> for FakeQueue<M> {
    async fn send(&self, message: &M) -> Result<(), StorageError> {
        self.faults.check("send")?;
        lock(&self.sent).push(message.clone());
        Ok(())
    }
}

/// The retry delays a batch asked for, by receipt handle.
#[derive(Default)]
pub struct FakeRetryDelay {
    delays: Mutex<Vec<(String, Duration)>>,
}

impl FakeRetryDelay {
    pub fn delays(&self) -> Vec<(String, Duration)> {
        lock(&self.delays).clone()
    }
}

#[async_trait]
impl RetryDelay for FakeRetryDelay {
    async fn delay_retry(&self, receipt_handle: &str, delay: Duration) -> Result<(), StorageError> {
        lock(&self.delays).push((receipt_handle.to_owned(), delay));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Outbox, idempotency
// ---------------------------------------------------------------------------------------

/// The notifications outbox.
#[derive(Default)]
pub struct FakeOutbox {
    entries: Mutex<BTreeMap<String, (OutboxEntry, i64)>>,
    pub faults: Faults<StorageError>,
}

impl FakeOutbox {
    pub fn entries(&self) -> Vec<OutboxEntry> {
        lock(&self.entries)
            .values()
            .map(|(e, _)| e.clone())
            .collect()
    }

    pub fn entry(&self, id: &str) -> Option<OutboxEntry> {
        lock(&self.entries).get(id).map(|(e, _)| e.clone())
    }

    /// Puts a message as a test's starting point; `lease_until_ms` for one being sent.
    pub fn insert(&self, entry: OutboxEntry, lease_until_ms: i64) {
        lock(&self.entries).insert(entry.id.clone(), (entry, lease_until_ms));
    }

    fn transition(
        &self,
        id: &str,
        from: OutboxState,
        to: OutboxState,
        change: impl FnOnce(&mut OutboxEntry),
    ) -> bool {
        match lock(&self.entries).get_mut(id) {
            Some((entry, _)) if entry.state == from => {
                entry.state = to;
                change(entry);
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl Outbox for FakeOutbox {
    async fn add(&self, entry: &OutboxEntry) -> Result<bool, StorageError> {
        self.faults.check("add")?;
        let mut entries = lock(&self.entries);
        if entries.contains_key(&entry.id) {
            return Ok(false);
        }
        let mut fresh = entry.clone();
        fresh.state = OutboxState::Pending;
        fresh.attempts = 0;
        entries.insert(entry.id.clone(), (fresh, 0));
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<OutboxEntry>, StorageError> {
        self.faults.check("get")?;
        Ok(self.entry(id))
    }

    async fn claim(&self, id: &str, lease_ms: i64) -> Result<OutboxClaim, StorageError> {
        self.faults.check("claim")?;
        let now = now_ms();
        let mut entries = lock(&self.entries);
        let Some((entry, lease_until)) = entries.get_mut(id) else {
            return Ok(OutboxClaim::Missing);
        };
        Ok(match entry.state {
            OutboxState::Pending => {
                entry.state = OutboxState::Sending;
                entry.attempts += 1;
                *lease_until = now + lease_ms;
                OutboxClaim::Claimed(Box::new(entry.clone()))
            }
            state if state.is_final() => OutboxClaim::Ended(state),
            _ if *lease_until > now => OutboxClaim::InFlight {
                until_ms: *lease_until,
            },
            _ => OutboxClaim::Abandoned,
        })
    }

    async fn finish(
        &self,
        id: &str,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, StorageError> {
        self.faults.check("finish")?;
        Ok(self.transition(id, OutboxState::Sending, to, |e| {
            e.provider = provider.map(str::to_owned).or(e.provider.take());
            e.provider_id = provider_id.map(str::to_owned).or(e.provider_id.take());
            e.last_error = error.map(str::to_owned).or(e.last_error.take());
        }))
    }

    async fn release(&self, id: &str, error: &str) -> Result<bool, StorageError> {
        self.faults.check("release")?;
        Ok(
            self.transition(id, OutboxState::Sending, OutboxState::Pending, |e| {
                e.last_error = Some(error.to_owned())
            }),
        )
    }

    async fn abandon(&self, id: &str) -> Result<bool, StorageError> {
        self.faults.check("abandon")?;
        let now = now_ms();
        Ok(match lock(&self.entries).get_mut(id) {
            Some((entry, lease_until))
                if entry.state == OutboxState::Sending && *lease_until < now =>
            {
                entry.state = OutboxState::Unknown;
                true
            }
            _ => false,
        })
    }

    async fn skip(&self, id: &str, why: &str) -> Result<bool, StorageError> {
        self.faults.check("skip")?;
        Ok(
            self.transition(id, OutboxState::Pending, OutboxState::Skipped, |e| {
                e.last_error = Some(why.to_owned())
            }),
        )
    }

    async fn all(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        self.faults.check("all")?;
        let mut entries = self.entries();
        entries.sort_by_key(|e| e.created_ms);
        Ok(entries)
    }
}

#[derive(Clone)]
struct KeyState {
    completed: Option<Value>,
    token: String,
    lease_until_ms: i64,
    in_progress: bool,
}

/// The idempotency table: claims with leases, takeovers, stored results.
#[derive(Default)]
pub struct FakeIdempotency {
    keys: Mutex<HashMap<String, KeyState>>,
    tokens: Mutex<u64>,
    pub faults: Faults<StorageError>,
}

impl FakeIdempotency {
    /// Marks `key` as held by an attempt whose lease ends `remaining_ms` from now (negative:
    /// already over, as after a crash).
    pub fn hold(&self, key: &str, remaining_ms: i64) {
        lock(&self.keys).insert(
            key.to_owned(),
            KeyState {
                completed: None,
                token: "held-by-another-attempt".into(),
                lease_until_ms: now_ms() + remaining_ms,
                in_progress: true,
            },
        );
    }

    /// The stored result of `key`, once completed.
    pub fn result(&self, key: &str) -> Option<Value> {
        lock(&self.keys).get(key).and_then(|k| k.completed.clone())
    }

    fn token(&self) -> String {
        let mut n = lock(&self.tokens);
        *n += 1;
        format!("token-{n}")
    }
}

#[async_trait]
impl IdempotencyStore for FakeIdempotency {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StorageError> {
        self.faults.check("claim")?;
        let token = self.token();
        let now = now_ms();
        let lease_until_ms = now + lease.as_millis() as i64;
        let mut keys = lock(&self.keys);
        let Some(state) = keys.get_mut(key) else {
            keys.insert(
                key.to_owned(),
                KeyState {
                    completed: None,
                    token: token.clone(),
                    lease_until_ms,
                    in_progress: true,
                },
            );
            return Ok(Claim::Acquired {
                token,
                resumed: false,
            });
        };
        if let Some(result) = &state.completed {
            return Ok(Claim::Completed(result.clone()));
        }
        if state.in_progress && state.lease_until_ms > now {
            return Ok(Claim::Busy {
                remaining: Duration::from_millis((state.lease_until_ms - now) as u64),
            });
        }
        state.token = token.clone();
        state.lease_until_ms = lease_until_ms;
        state.in_progress = true;
        Ok(Claim::Acquired {
            token,
            resumed: true,
        })
    }

    async fn complete(
        &self,
        key: &str,
        token: &str,
        result: &Value,
    ) -> Result<Completion, StorageError> {
        self.faults.check("complete")?;
        let mut keys = lock(&self.keys);
        let state = keys
            .get_mut(key)
            .ok_or_else(|| missing("UpdateItem", key))?;
        if let Some(stored) = &state.completed {
            return Ok(Completion::AlreadyCompleted(stored.clone()));
        }
        if state.in_progress && state.token == token {
            state.completed = Some(result.clone());
            state.in_progress = false;
            return Ok(Completion::Stored);
        }
        Ok(Completion::LeaseLost)
    }

    async fn release(&self, key: &str, token: &str, _error: &str) -> Result<(), StorageError> {
        self.faults.check("release")?;
        if let Some(state) = lock(&self.keys).get_mut(key) {
            if state.in_progress && state.token == token {
                state.in_progress = false;
                state.lease_until_ms = now_ms();
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Cash, reports, rules, secrets
// ---------------------------------------------------------------------------------------

/// Hand-overs and cash-out tasks.
#[derive(Default)]
pub struct FakeCashBook {
    handovers: Mutex<Vec<(Date, Handover)>>,
    cash_outs: Mutex<Vec<CashOutTask>>,
    pub faults: Faults<StorageError>,
}

#[async_trait]
impl CashBook for FakeCashBook {
    async fn record_handover(
        &self,
        day: Date,
        handover: &Handover,
        _recorded_by: &str,
    ) -> Result<HandoverWrite, StorageError> {
        self.faults.check("record_handover")?;
        let mut all = lock(&self.handovers);
        let same = all.iter().find(|(d, h)| {
            *d == day && h.courier == handover.courier && h.receipt == handover.receipt
        });
        Ok(match same {
            Some((_, h)) if h.amount == handover.amount => HandoverWrite::AlreadyRecorded,
            Some((_, h)) => HandoverWrite::Conflict { recorded: h.amount },
            None => {
                all.push((day, handover.clone()));
                HandoverWrite::Recorded
            }
        })
    }

    async fn handovers(&self, day: Date) -> Result<Vec<Handover>, StorageError> {
        self.faults.check("handovers")?;
        Ok(lock(&self.handovers)
            .iter()
            .filter(|(d, _)| *d == day)
            .map(|(_, h)| h.clone())
            .collect())
    }

    async fn put_cash_out(&self, task: &CashOutTask) -> Result<CashOutWrite, StorageError> {
        self.faults.check("put_cash_out")?;
        let mut all = lock(&self.cash_outs);
        let same = all.iter_mut().find(|t| {
            t.day == task.day && t.courier == task.courier && t.due.currency == task.due.currency
        });
        Ok(match same {
            Some(existing) if existing.digest() == task.digest() => CashOutWrite::Unchanged,
            Some(existing) => {
                let revision = existing.revision + 1;
                *existing = CashOutTask {
                    revision,
                    ..task.clone()
                };
                CashOutWrite::Revised
            }
            None => {
                all.push(task.clone());
                CashOutWrite::Created
            }
        })
    }

    async fn cash_outs(&self, day: Date) -> Result<Vec<CashOutTask>, StorageError> {
        self.faults.check("cash_outs")?;
        Ok(lock(&self.cash_outs)
            .iter()
            .filter(|t| t.day == day)
            .cloned()
            .collect())
    }
}

/// The reports bucket.
#[derive(Default)]
pub struct FakeReports {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    pub faults: Faults<StorageError>,
}

#[async_trait]
impl ReportShelf for FakeReports {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<(), StorageError> {
        self.faults.check("put")?;
        lock(&self.files).insert(key.to_owned(), body);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ReportObject>, StorageError> {
        self.faults.check("list")?;
        Ok(lock(&self.files)
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| ReportObject {
                key: k.clone(),
                size: v.len() as i64,
            })
            .collect())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.faults.check("get")?;
        Ok(lock(&self.files).get(key).cloned())
    }
}

/// Each store's rules; a store without any runs on the defaults.
#[derive(Default)]
pub struct FakeStoreRules {
    configs: Mutex<HashMap<(Channel, String), StoreConfig>>,
    pub faults: Faults<StorageError>,
}

#[async_trait]
impl StoreRules for FakeStoreRules {
    async fn get(&self, channel: Channel, store: &str) -> Result<Arc<StoreConfig>, StorageError> {
        self.faults.check("get")?;
        Ok(Arc::new(
            lock(&self.configs)
                .get(&(channel, store.to_owned()))
                .cloned()
                .unwrap_or_default(),
        ))
    }

    async fn read(
        &self,
        channel: Channel,
        store: &str,
    ) -> Result<Option<StoreConfig>, StorageError> {
        self.faults.check("read")?;
        Ok(lock(&self.configs)
            .get(&(channel, store.to_owned()))
            .cloned())
    }

    async fn put(
        &self,
        channel: Channel,
        store: &str,
        config: &StoreConfig,
    ) -> Result<(), StorageError> {
        self.faults.check("put")?;
        lock(&self.configs).insert((channel, store.to_owned()), config.clone());
        Ok(())
    }
}

/// Secrets by name.
#[derive(Default)]
pub struct FakeSecrets {
    secrets: Mutex<HashMap<String, Arc<String>>>,
    pub faults: Faults<SecretError>,
}

impl FakeSecrets {
    pub fn put(&self, name: &str, text: impl Into<String>) {
        lock(&self.secrets).insert(name.to_owned(), Arc::new(text.into()));
    }
}

#[async_trait]
impl Secrets for FakeSecrets {
    async fn text(&self, name: &str) -> Result<Arc<String>, SecretError> {
        if let Some(e) = self.faults.take("text") {
            return Err(e);
        }
        lock(&self.secrets)
            .get(name)
            .cloned()
            .ok_or_else(|| SecretError::NotFound(self.full_name(name)))
    }

    fn full_name(&self, name: &str) -> String {
        format!("test/{name}")
    }
}

// ---------------------------------------------------------------------------------------
// Dispatch: the fleet and the day plans
// ---------------------------------------------------------------------------------------

#[derive(Default)]
pub struct FakeFleet {
    fleet: Mutex<Option<Fleet>>,
    pub faults: Faults<StorageError>,
}

impl FakeFleet {
    pub fn new(fleet: Fleet) -> FakeFleet {
        FakeFleet {
            fleet: Mutex::new(Some(fleet)),
            faults: Faults::default(),
        }
    }
}

#[async_trait]
impl FleetStore for FakeFleet {
    async fn get(&self) -> Result<Option<Fleet>, StorageError> {
        self.faults.check("get")?;
        Ok(lock(&self.fleet).clone())
    }

    async fn put(&self, fleet: &Fleet, _by: &str) -> Result<(), StorageError> {
        self.faults.check("put")?;
        *lock(&self.fleet) = Some(fleet.clone());
        Ok(())
    }
}

type DayPointers = (Option<String>, Option<String>);

/// The plans, each day's open and latest one marked.
#[derive(Default)]
pub struct FakePlans {
    plans: Mutex<Vec<DispatchPlan>>,
    /// Day → (open plan, latest plan).
    days: Mutex<HashMap<String, DayPointers>>,
    pub faults: Faults<StorageError>,
}

impl FakePlans {
    pub fn all(&self) -> Vec<DispatchPlan> {
        lock(&self.plans).clone()
    }

    fn find(&self, id: &str) -> Option<DispatchPlan> {
        lock(&self.plans).iter().find(|p| p.id == id).cloned()
    }
}

#[async_trait]
impl PlanStore for FakePlans {
    async fn day(&self, day: &str) -> Result<DayPlans, StorageError> {
        self.faults.check("day")?;
        let (open, latest) = lock(&self.days).get(day).cloned().unwrap_or_default();
        Ok(DayPlans {
            open: open.and_then(|id| self.find(&id)),
            latest,
        })
    }

    async fn start(
        &self,
        plan: &DispatchPlan,
        seen_latest: Option<&str>,
    ) -> Result<PlanStart, StorageError> {
        self.faults.check("start")?;
        let mut days = lock(&self.days);
        let (open, latest) = days.entry(plan.day.clone()).or_default();
        if let Some(id) = open.clone() {
            if let Some(theirs) = self.find(&id) {
                return Ok(PlanStart::AlreadyOpen(Box::new(theirs)));
            }
        }
        if latest.as_deref() != seen_latest {
            return Ok(PlanStart::Overtaken);
        }
        *open = Some(plan.id.clone());
        *latest = Some(plan.id.clone());
        lock(&self.plans).push(plan.clone());
        Ok(PlanStart::Started)
    }

    async fn finish(&self, plan: &DispatchPlan) -> Result<(), StorageError> {
        self.faults.check("finish")?;
        if let Some((open, _)) = lock(&self.days).get_mut(&plan.day) {
            if open.as_deref() == Some(plan.id.as_str()) {
                *open = None;
            }
        }
        Ok(())
    }

    async fn plans(&self, day: &str) -> Result<Vec<DispatchPlan>, StorageError> {
        self.faults.check("plans")?;
        Ok(lock(&self.plans)
            .iter()
            .filter(|p| p.day == day)
            .cloned()
            .collect())
    }
}
