//! A delivery's way back: the courier's tracking and each status it reports, applied to the
//! shipment through the state machine (DESIGN.md, "Statuses") and passed on to the store
//! and the customer.
//!
//! Every side effect is keyed by (shipment, status): the store write-back runs through the
//! idempotency protocol, the customer message through the outbox. A redelivered event, or a
//! second event reporting the same status, repeats nothing; a late or out-of-order one
//! never moves a shipment backwards.

use crate::courier::{CourierEvent, CourierTask};
use crate::error::{Classify, Transience};
use crate::history::HistoryEntry;
use crate::idempotency::{run_once, Outcome, ProtocolError};
use crate::notify::{template_for, Composer, Template};
use crate::partner::PartnerError;
use crate::ports::{IdempotencyStore, StatusHistory, StorageError, StoreWriters};
use crate::record::{DeliveryFacts, ShipmentRecord};
use crate::sla::{self, Verdict};
use crate::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use crate::{ShipmentKey, ShipmentStatus};
use std::time::Duration;

/// A duplicate that meets a live lease comes back after at most this long: the holder
/// usually finishes in milliseconds, and then the retry finds the stored result.
pub const BUSY_RETRY: Duration = Duration::from_secs(2);

/// A status write-back waits for the tracking write-back it attaches to.
pub const TRACKING_FIRST: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    WriteBack(#[from] ProtocolError<PartnerError>),
    /// The message names something that is not there (a shipment without a task).
    #[error("{0}")]
    Unprocessable(String),
}

impl Classify for DeliveryError {
    fn transience(&self) -> Transience {
        match self {
            DeliveryError::Storage(e) => e.transience(),
            DeliveryError::WriteBack(e) => e.transience(),
            DeliveryError::Unprocessable(_) => Transience::Permanent,
        }
    }
}

impl DeliveryError {
    /// The store's permanent refusal of a write-back, which a person must look at.
    pub fn store_refusal(&self) -> Option<&PartnerError> {
        match self {
            DeliveryError::WriteBack(ProtocolError::Effect(e @ PartnerError::Rejected { .. })) => {
                Some(e)
            }
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::WriteBack(ProtocolError::Effect(e)) => e.retry_after(),
            _ => None,
        }
    }
}

/// What applying one courier event did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// One line for the audit trail: "Delivered: applied", "PickedUp: not applied, ...".
    pub summary: String,
    /// A side effect must wait (a live lease, the tracking write-back first): come back.
    pub wait: Option<Duration>,
    /// This event moved the shipment to Delivered: the promise kept or missed.
    pub delivered: Option<Verdict>,
}

/// What the way back reads and writes.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    pub shipments: &'a dyn crate::ports::ShipmentStore,
    pub history: &'a dyn StatusHistory,
    pub idempotency: &'a dyn IdempotencyStore,
    pub writers: &'a dyn StoreWriters,
    pub composer: Composer<'a>,
    /// The idempotency lease of each write-back.
    pub lease: Duration,
}

/// The tracking a store shows for the shipment's task.
pub fn tracking_of(record: &ShipmentRecord, task: &CourierTask) -> Tracking {
    Tracking {
        number: task.tracking_number.clone(),
        url: task.tracking_url.clone(),
        company: record
            .courier
            .map_or("courier", |c| c.display_name())
            .to_owned(),
    }
}

impl Delivery<'_> {
    /// Writes the task's tracking back to the store once, then tells the customer. `Ok(Some)`:
    /// another attempt holds the write-back; come back then.
    pub async fn write_tracking(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<Duration>, DeliveryError> {
        let record = self
            .shipments
            .get(key)
            .await?
            .ok_or_else(|| DeliveryError::Unprocessable(format!("no shipment {key}")))?;
        if record.tracking_written_back.is_none() {
            let task = record.task.as_ref().ok_or_else(|| {
                DeliveryError::Unprocessable(format!("shipment {key} has no task yet"))
            })?;
            let tracking = tracking_of(&record, task);
            let store = self
                .writers
                .writer(key)
                .await
                .map_err(ProtocolError::Effect)?;
            // The store call looks for an existing fulfillment with this tracking number
            // before it writes, so the protocol's own lookup has nothing to add.
            let outcome = run_once(
                self.idempotency,
                &format!("tracking:{key}"),
                self.lease,
                || async { Ok(None) },
                || store.write_tracking(key, &tracking),
            )
            .await?;
            let written: WriteBack = match outcome {
                Outcome::Done { result, .. } => result,
                Outcome::Busy { retry_in } => return Ok(Some(retry_in.min(BUSY_RETRY))),
            };
            let reference = match &written {
                WriteBack::Written { reference } | WriteBack::AlreadyThere { reference } => {
                    reference
                }
            };
            self.shipments
                .record_tracking_written_back(key, reference)
                .await?;
            tracing::info!(fulfillment = %reference, tracking = %tracking.number, "tracking written back to the store");
        }
        self.composer
            .compose(&record, key, Template::TrackingLink, None)
            .await?;
        Ok(None)
    }

    /// Applies one courier event about the shipment's own task (the caller checked the task
    /// id): keeps it in the history, moves the status if the state machine allows, keeps
    /// what came with it, and passes a status the shipment reached on to the customer and
    /// the store. `at_ms` is when the event happened (the courier's time, else its receipt).
    pub async fn apply(
        &self,
        key: &ShipmentKey,
        record: &ShipmentRecord,
        event: &CourierEvent,
        event_id: &str,
        at_ms: i64,
    ) -> Result<Applied, DeliveryError> {
        let task_id = event.task_id.as_str();
        self.history
            .record(
                key,
                &HistoryEntry {
                    at_ms,
                    event_id: event_id.to_owned(),
                    courier: event.courier,
                    courier_event: event.courier_event.clone(),
                    status: event.status,
                },
            )
            .await?;
        if let Some(eta) = event.eta_ms {
            self.shipments.record_eta(key, eta, at_ms).await?;
        }
        let Some(to) = event.status else {
            return Ok(Applied {
                summary: format!("{}: recorded", event.courier_event),
                wait: None,
                delivered: None,
            });
        };
        let from = ShipmentStatus::ALL
            .into_iter()
            .filter(|s| s.may_become(to, event.actor()))
            .collect::<Vec<_>>();
        let facts = DeliveryFacts {
            proof: event.proof.clone(),
            failure: event.failure.clone(),
            cod_collected: event.cod_collected,
            delivery_cost: event.delivery_cost,
            eta_ms: None,
            driver: event.worker_id.clone(),
            cod_collected_ms: None,
        };
        let moved = self
            .shipments
            .apply_courier_status(key, task_id, &from, to, at_ms, &facts)
            .await?;
        if !moved {
            if let Some(cash) = &event.cod_collected {
                // Not applied (e.g. the order was cancelled meanwhile), but the driver has
                // the cash, and reconciliation must see it.
                self.shipments
                    .record_cash_collected(key, task_id, cash, event.worker_id.as_deref(), at_ms)
                    .await?;
            }
            if to == ShipmentStatus::Delivered {
                if let Some(proof) = &event.proof {
                    // Photos and the signature may follow the completion in a later update.
                    self.shipments.record_proof(key, proof, at_ms).await?;
                }
            }
        }
        let record = self
            .shipments
            .get(key)
            .await?
            .unwrap_or_else(|| record.clone());
        if !record.passed_through(to) {
            tracing::info!(status = %to, now = %record.status, "late or out-of-order event; the shipment stays");
            return Ok(Applied {
                summary: format!("{to}: not applied, the shipment is {}", record.status),
                wait: None,
                delivered: None,
            });
        }
        // Once per shipment: only the event that moved it to Delivered is judged.
        let delivered = (moved && to == ShipmentStatus::Delivered)
            .then(|| sla::verdict(&record.shipment, record.source_event_ms, at_ms));
        if moved {
            tracing::info!(status = %to, "shipment status moved");
        }
        let wait = self.pass_on(key, &record, to).await?;
        let verb = if moved { "applied" } else { "already applied" };
        Ok(Applied {
            summary: format!("{to}: {verb}"),
            wait,
            delivered,
        })
    }

    /// What a status the shipment reached means for the customer and the store. Both are
    /// keyed by (shipment, status), so running them again repeats nothing.
    async fn pass_on(
        &self,
        key: &ShipmentKey,
        record: &ShipmentRecord,
        status: ShipmentStatus,
    ) -> Result<Option<Duration>, DeliveryError> {
        if let Some(template) = template_for(status) {
            self.composer.compose(record, key, template, None).await?;
        }
        if !StatusReport::shows(status) {
            return Ok(None);
        }
        let (Some(reference), Some(task)) = (&record.tracking_written_back, &record.task) else {
            return Ok(Some(TRACKING_FIRST));
        };
        let happened_at_ms = record
            .transitions
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, at)| *at)
            .unwrap_or_else(crate::clock::now_ms);
        let report = StatusReport {
            status,
            happened_at_ms,
            tracking: tracking_of(record, task),
            tracking_reference: reference.clone(),
            failure: record.delivery.failure.clone(),
            proof: record.delivery.proof.clone(),
            eta_ms: record.delivery.eta_ms,
        };
        let store = self
            .writers
            .writer(key)
            .await
            .map_err(ProtocolError::Effect)?;
        let outcome = run_once(
            self.idempotency,
            &format!("status:{key}:{status}"),
            self.lease,
            || async { Ok(None) },
            || store.write_status(key, &report),
        )
        .await?;
        match outcome {
            Outcome::Done { result, .. } => {
                match &result {
                    StatusWriteBack::Written { reference } => {
                        tracing::info!(%status, %reference, "status written back to the store")
                    }
                    StatusWriteBack::AlreadyThere { .. } => {}
                    StatusWriteBack::NotShown => {
                        tracing::debug!(%status, "the channel shows no such status")
                    }
                }
                Ok(None)
            }
            Outcome::Busy { retry_in } => Ok(Some(retry_in.min(BUSY_RETRY))),
        }
    }
}
