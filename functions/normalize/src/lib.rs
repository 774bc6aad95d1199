//! normalize: intake queue → shipments. For each stored payload: read it with its channel's
//! reader into an order event (fetching what the event lacks, e.g. a marketplace's buyer
//! address), apply the store's trigger policy, and then per shipment: admit it (record it,
//! ask for its task, or for its update after an edit), or file it for review with every
//! reason; a cancellation cancels the order's tasks. The outcome goes back onto the
//! payload's audit record.

mod wiring;

pub use wiring::Config;

use aws::batch::{self, Backoff, Retry, RetryDelay};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::audit::{AuditOutcome, InboundRecord, InboundState};
use domain::clock::{ms_of, now_ms, parse_time};
use domain::error::{Classify, Transience};
use domain::messages::{InboundReceived, TaskRequested};
use domain::order::{Blocked, OrderEvent, OrderFacts, PaymentState, Trigger};
use domain::pipeline::{CancelStep, Intake};
use domain::ports::{AuditTrail, OrderSource, Queue, ReviewInbox, ShipmentStore, StoreRules};
use domain::{Channel, PartnerError, ReviewItem, ReviewReason, ShipmentDraft, StorageError};
use std::sync::Arc;
use tracing::Instrument;

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "normalize";

/// What normalize reads and writes, each behind the domain's port.
pub struct Normalize {
    pub audit: Arc<dyn AuditTrail>,
    pub shipments: Arc<dyn ShipmentStore>,
    pub reviews: Arc<dyn ReviewInbox>,
    pub tasks: Arc<dyn Queue<TaskRequested>>,
    pub rules: Arc<dyn StoreRules>,
    /// Orders a marketplace's notification only names (Amazon), metered.
    pub orders: Arc<dyn OrderSource>,
    /// The intake queue's retry delays.
    pub retries: Arc<dyn RetryDelay>,
    pub backoff: Backoff,
}

#[derive(Debug, thiserror::Error)]
enum NormalizeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Fetching what the event lacks from the channel (a marketplace's orders API).
    #[error("channel fetch: {0}")]
    Fetch(#[from] PartnerError),
}

impl Classify for NormalizeError {
    fn transience(&self) -> Transience {
        match self {
            NormalizeError::Storage(e) => e.transience(),
            NormalizeError::Fetch(e) => e.transience(),
        }
    }
}

/// What a payload turned out to be.
enum Read {
    Event(OrderEvent),
    /// It cannot become an order event: these reasons go to the review inbox.
    Review(Vec<ReviewReason>),
}

impl Normalize {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        batch::process(
            event,
            self.retries.as_ref(),
            self.backoff,
            |record| async move {
                let message: InboundReceived = batch::parse_body(&record)?;
                // The span is attached to this record's future: records of one batch run
                // concurrently, and each log line must carry its own payload's ids.
                let span = tracing::info_span!(
                    "normalize",
                    inbound = %message.inbound_id,
                    channel = %message.channel,
                    store = %message.store
                );
                self.normalize(&message)
                    .instrument(span)
                    .await
                    .map_err(|e| {
                        let at_least = match &e {
                            NormalizeError::Fetch(e) => e.retry_after(),
                            _ => None,
                        };
                        Retry::classified(&e, at_least)
                    })
            },
        )
        .await
    }

    fn intake(&self) -> Intake<'_> {
        Intake {
            shipments: self.shipments.as_ref(),
            reviews: self.reviews.as_ref(),
            tasks: self.tasks.as_ref(),
        }
    }

    async fn normalize(&self, message: &InboundReceived) -> Result<(), NormalizeError> {
        let Some(inbound) = self.audit.get(&message.inbound_id).await? else {
            return Err(StorageError::corrupt(
                &message.inbound_id,
                "queued payload is not in the audit trail",
            )
            .into());
        };
        let (channel, event) = match self.read(&inbound).await? {
            (_, Read::Review(reasons)) => {
                return Ok(self.review_payload(&inbound, reasons).await?)
            }
            (channel, Read::Event(event)) => (channel, event),
        };
        let order_key = format!("{}:{}:{}", channel, inbound.store, event.order_id);
        let config = self.rules.get(channel, &inbound.store).await?;
        let event_ms = event_time_ms(&inbound, &event);
        let summary = match event.facts.trigger(config.trigger) {
            Trigger::Ship if event.shipments.is_empty() => {
                return Ok(self.nothing_to_ship(&inbound, &order_key).await?);
            }
            Trigger::Ship => {
                return Ok(self
                    .ship(&inbound, &order_key, &event.shipments, &config, event_ms)
                    .await?);
            }
            Trigger::Wait { why } => format!("waiting: {why}"),
            Trigger::Ignore { why } => format!("ignored: {why}"),
            Trigger::Cancel { why } => self.cancel(&order_key, &why, event_ms).await?,
        };
        tracing::info!(order = %order_key, summary, "normalized");
        self.outcome(&inbound, &summary, &order_key, None, None)
            .await?;
        Ok(())
    }

    /// The channel's reader: payload (plus what the channel must be asked) → order event,
    /// or the reasons it cannot be one. An error is trouble fetching.
    async fn read(&self, inbound: &InboundRecord) -> Result<(Channel, Read), NormalizeError> {
        let channel: Channel = match inbound.channel.parse() {
            Ok(c) => c,
            Err(e) => {
                let reasons = vec![ReviewReason::UnparseablePayload {
                    error: e.to_string(),
                }];
                return Ok((Channel::Api, Read::Review(reasons)));
            }
        };
        let read = match channel {
            Channel::Amazon => self.amazon_event(inbound).await,
            _ => Ok(
                channels::order_event(channel, &inbound.topic, &inbound.body, &inbound.store)
                    .map_or_else(|e| Read::Review(vec![e.review_reason()]), Read::Event),
            ),
        };
        match read {
            Ok(read) => Ok((channel, read)),
            // The channel refuses to give the order (unknown order, no access): a person
            // must look, retrying will not help.
            Err(NormalizeError::Fetch(e)) if !e.is_transient() => Ok((
                channel,
                Read::Review(vec![ReviewReason::StoreRejected {
                    message: e.to_string(),
                }]),
            )),
            Err(e) => Err(e),
        }
    }

    /// Amazon's ORDER_CHANGE notification names the order but carries no address: the
    /// order, its address, buyer info and items are fetched from the Orders API (only what
    /// the order's status makes necessary, to spare the seller's quota).
    async fn amazon_event(&self, inbound: &InboundRecord) -> Result<Read, NormalizeError> {
        let change = match channels::amazon::parse_notification(&inbound.body) {
            Ok(change) => change,
            Err(e) => return Ok(Read::Review(vec![e.review_reason()])),
        };
        // The notification already says when Amazon fulfils the order itself: nothing for a
        // courier, and no reason to spend the seller's quota finding that out.
        if change.is_fulfilled_by_amazon() {
            return Ok(Read::Event(OrderEvent {
                order_id: change.amazon_order_id.clone(),
                facts: OrderFacts {
                    cancelled: false,
                    payment: PaymentState::Captured,
                    cash_on_delivery: false,
                    confirmed: false,
                    ready_to_ship: false,
                    readiness_only: false,
                    blocked: Some(Blocked::NotForCourier("fulfilled by Amazon".into())),
                },
                shipments: Vec::new(),
                occurred_at: change.event_time,
            }));
        }
        let event = self
            .orders
            .order_event(Channel::Amazon, &inbound.store, &change.amazon_order_id)
            .await?;
        Ok(Read::Event(event))
    }

    /// Each shipment of the order on its own: one invalid parcel does not hold back the
    /// others, and each has its own key, task and review item. Validation reads each draft
    /// without its bidi controls and holds every text field to its limit (`too_long`
    /// otherwise, never a cut; domain::text), and a draft filed for review is kept without
    /// them: nothing a driver or a customer sees carries one.
    async fn ship(
        &self,
        inbound: &InboundRecord,
        order_key: &str,
        drafts: &[ShipmentDraft],
        config: &domain::StoreConfig,
        event_ms: i64,
    ) -> Result<(), StorageError> {
        let mut summaries = Vec::new();
        let mut last_key = None;
        let mut last_review = None;
        for draft in drafts {
            let key = draft.key().to_string();
            match draft.validate(config) {
                Ok(shipment) => {
                    let admitted = self
                        .intake()
                        .admit(&shipment, event_ms, &inbound.id)
                        .await?;
                    tracing::info!(shipment = %key, service = %shipment.service, summary = admitted.summary(), "normalized");
                    summaries.push((key.clone(), admitted.summary().to_owned()));
                }
                Err(reasons) => {
                    let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
                    let line = format!("needs review: {}", codes.join(", "));
                    let item = self
                        .intake()
                        .file_for_review(draft, reasons, event_ms, &inbound.id)
                        .await?;
                    tracing::warn!(shipment = %key, review = %item.id, reasons = %codes.join(","), "shipment needs review");
                    summaries.push((key.clone(), line));
                    last_review = Some(item.id);
                }
            }
            last_key = Some(key);
        }
        // One shipment: its line alone; several: each prefixed by its key.
        let summary = match summaries.as_slice() {
            [(_, only)] => only.clone(),
            many => many
                .iter()
                .map(|(key, line)| format!("{key}: {line}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        self.outcome(
            inbound,
            &summary,
            order_key,
            last_key.as_deref(),
            last_review.as_deref(),
        )
        .await
    }

    async fn cancel(
        &self,
        order_key: &str,
        why: &str,
        event_ms: i64,
    ) -> Result<String, StorageError> {
        let steps = self.intake().cancel_order(order_key, event_ms).await?;
        let requested = steps
            .iter()
            .filter(|s| matches!(s, CancelStep::CancelRequested(_)))
            .count();
        tracing::info!(order = %order_key, steps = ?steps, "order cancelled");
        Ok(if steps.is_empty() {
            format!("ignored: {why} (no shipment existed)")
        } else {
            format!(
                "cancelled: {why}; {} shipment(s), {requested} courier cancellation(s) requested",
                steps.len()
            )
        })
    }

    async fn nothing_to_ship(
        &self,
        inbound: &InboundRecord,
        order_key: &str,
    ) -> Result<(), StorageError> {
        let mut item = ReviewItem::new(order_key, "order", vec![ReviewReason::NothingToShip]);
        item.order_key = Some(order_key.to_owned());
        item.source_inbound = Some(inbound.id.clone());
        self.reviews.open(&item).await?;
        self.outcome(
            inbound,
            "needs review: nothing_to_ship",
            order_key,
            None,
            Some(&item.id),
        )
        .await
    }

    async fn review_payload(
        &self,
        inbound: &InboundRecord,
        reasons: Vec<ReviewReason>,
    ) -> Result<(), StorageError> {
        let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
        let summary = format!("needs review: {}", codes.join(", "));
        let mut item = ReviewItem::new(&inbound.id, "payload", reasons);
        item.source_inbound = Some(inbound.id.clone());
        self.reviews.open(&item).await?;
        tracing::warn!(review = %item.id, reasons = %codes.join(","), "payload needs review");
        let outcome = AuditOutcome {
            state: InboundState::Review,
            summary: &summary,
            order_key: None,
            shipment_key: None,
            review_id: Some(&item.id),
        };
        self.audit.record_outcome(&inbound.id, &outcome).await
    }

    async fn outcome(
        &self,
        inbound: &InboundRecord,
        summary: &str,
        order_key: &str,
        shipment_key: Option<&str>,
        review_id: Option<&str>,
    ) -> Result<(), StorageError> {
        let outcome = AuditOutcome {
            state: InboundState::Processed,
            summary,
            order_key: Some(order_key),
            shipment_key,
            review_id,
        };
        self.audit.record_outcome(&inbound.id, &outcome).await
    }
}

/// When the event happened: the channel's own "last changed" time when the payload has
/// one, else the delivery header (Shopify's `X-Shopify-Triggered-At`), else the receipt
/// time. Shipment writes compare these, so a late retry of an old payload never overwrites
/// newer data.
fn event_time_ms(inbound: &InboundRecord, event: &OrderEvent) -> i64 {
    event
        .occurred_at
        .or_else(|| inbound.triggered_at.as_deref().and_then(parse_time))
        .or_else(|| parse_time(&inbound.received_at))
        .map(ms_of)
        .unwrap_or_else(now_ms)
}

#[cfg(test)]
mod tests;
