//! normalize: intake queue → shipments. For each stored payload: read it with its channel's
//! adapter into an order event (fetching what the event lacks, e.g. a marketplace's buyer
//! address), apply the store's trigger policy, and then per shipment: admit it (record it,
//! ask for its task, or for its update after an edit), or file it for review with every
//! reason; a cancellation cancels the order's tasks. The outcome goes back onto the
//! payload's audit record.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use shared::aws::inbound::{InboundRecord, InboundState, Outcome};
use shared::aws::reviews::ReviewItem;
use shared::aws::AwsError;
use shared::batch::{self, Retry};
use shared::channel::{self, OrderEvent, ParseError, Trigger};
use shared::domain::{Channel, ReviewReason};
use shared::error::{Classify, Transience};
use shared::messages::InboundReceived;
use shared::pipeline::{self, CancelStep};
use shared::services::Services;
use shared::store::StoreError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
enum NormalizeError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Fetching what the event lacks from the channel (a marketplace's orders API).
    #[error("channel fetch: {0}")]
    Fetch(#[from] StoreError),
}

impl Classify for NormalizeError {
    fn transience(&self) -> Transience {
        match self {
            NormalizeError::Aws(e) => e.transience(),
            NormalizeError::Fetch(e) => e.transience(),
        }
    }
}

pub async fn handle(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    batch::process(
        event,
        &services.intake_queue,
        services.backoff(),
        |record| async move {
            let message: InboundReceived = batch::parse_body(&record)?;
            normalize(services, &message).await.map_err(|e| match e {
                e if e.is_transient() => Retry::Backoff {
                    at_least: match &e {
                        NormalizeError::Fetch(StoreError::Throttled { retry_after }) => {
                            *retry_after
                        }
                        _ => None,
                    },
                    error: e.to_string(),
                },
                e => Retry::Poison(e.to_string()),
            })
        },
    )
    .await
}

async fn normalize(services: &Services, message: &InboundReceived) -> Result<(), NormalizeError> {
    let Some(inbound) = services.inbound.get(&message.inbound_id).await? else {
        return Err(AwsError::Corrupt {
            key: message.inbound_id.clone(),
            problem: "queued payload is not in the audit trail".into(),
        }
        .into());
    };
    let span = tracing::info_span!("normalize", inbound = %inbound.id, channel = %inbound.channel, store = %inbound.store);
    let _guard = span.enter();
    let channel: Channel = match inbound.channel.parse() {
        Ok(c) => c,
        Err(e) => {
            let reasons = vec![ReviewReason::UnparseablePayload {
                error: e.to_string(),
            }];
            return Ok(review_payload(services, &inbound, reasons).await?);
        }
    };
    let event = match read_event(services, channel, &inbound).await {
        Ok(Ok(event)) => event,
        Ok(Err(e)) => return Ok(review_payload(services, &inbound, vec![e.review_reason()]).await?),
        // The channel refuses to give the order (unknown order, no access): a person must
        // look, retrying will not help.
        Err(NormalizeError::Fetch(e)) if !e.is_transient() => {
            let reasons = vec![ReviewReason::StoreRejected {
                message: e.to_string(),
            }];
            return Ok(review_payload(services, &inbound, reasons).await?);
        }
        Err(e) => return Err(e),
    };
    let order_key = format!("{}:{}:{}", channel, inbound.store, event.order_id);
    let config = services.stores.get(channel, &inbound.store).await?;
    let event_ms = event_time_ms(&inbound, &event);

    match event.facts.trigger(config.trigger) {
        Trigger::Ship => {}
        Trigger::Wait { why } => {
            return Ok(outcome(
                services,
                &inbound,
                &format!("waiting: {why}"),
                &order_key,
                None,
            )
            .await?)
        }
        Trigger::Ignore { why } => {
            return Ok(outcome(
                services,
                &inbound,
                &format!("ignored: {why}"),
                &order_key,
                None,
            )
            .await?)
        }
        Trigger::Cancel { why } => {
            let steps = pipeline::cancel_order(services, &order_key, event_ms).await?;
            let requested = steps
                .iter()
                .filter(|s| matches!(s, CancelStep::CancelRequested(_)))
                .count();
            let summary = if steps.is_empty() {
                format!("ignored: {why} (no shipment existed)")
            } else {
                format!(
                    "cancelled: {why}; {} shipment(s), {requested} courier cancellation(s) requested",
                    steps.len()
                )
            };
            tracing::info!(order = %order_key, steps = ?steps, "order cancelled");
            return Ok(outcome(services, &inbound, &summary, &order_key, None).await?);
        }
    }

    if event.shipments.is_empty() {
        let reasons = vec![ReviewReason::NothingToShip];
        let mut item = ReviewItem::new(&order_key, "order", reasons);
        item.order_key = Some(order_key.clone());
        item.source_inbound = Some(inbound.id.clone());
        services.reviews.open(&item).await?;
        return Ok(outcome_with(
            services,
            &inbound,
            "needs review: nothing_to_ship",
            &order_key,
            None,
            Some(&item.id),
        )
        .await?);
    }

    // Each shipment of the order on its own: one invalid parcel does not hold back the
    // others, and each has its own key, task and review item.
    let mut summaries = Vec::new();
    let mut last_key = None;
    let mut last_review = None;
    for draft in &event.shipments {
        let key = draft.key().to_string();
        match draft.validate(&config) {
            Ok(shipment) => {
                let admitted = pipeline::admit(services, &shipment, event_ms, &inbound.id).await?;
                tracing::info!(shipment = %key, service = %shipment.service, summary = admitted.summary(), "normalized");
                summaries.push(format!("{key}: {}", admitted.summary()));
            }
            Err(reasons) => {
                let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
                let line = format!("{key}: needs review: {}", codes.join(", "));
                let item =
                    pipeline::file_for_review(services, draft, reasons, event_ms, &inbound.id)
                        .await?;
                tracing::warn!(shipment = %key, review = %item.id, reasons = %codes.join(","), "shipment needs review");
                summaries.push(line);
                last_review = Some(item.id);
            }
        }
        last_key = Some(key);
    }
    let summary = if summaries.len() == 1 {
        summaries[0]
            .split_once(": ")
            .map(|(_, s)| s.to_owned())
            .unwrap_or_default()
    } else {
        summaries.join("; ")
    };
    Ok(outcome_with(
        services,
        &inbound,
        &summary,
        &order_key,
        last_key.as_deref(),
        last_review.as_deref(),
    )
    .await?)
}

/// The channel's adapter: payload (plus what the channel must be asked) → order event. The
/// outer error is transient trouble fetching; the inner one a payload that is not what the
/// channel's contract says.
async fn read_event(
    services: &Services,
    channel: Channel,
    inbound: &InboundRecord,
) -> Result<Result<OrderEvent, ParseError>, NormalizeError> {
    let (topic, body, store) = (&inbound.topic, &inbound.body, &inbound.store);
    Ok(match channel {
        Channel::Shopify => channel::shopify::order_event(topic, body, store),
        Channel::WooCommerce => channel::woocommerce::order_event(topic, body, store),
        Channel::Api => channel::api::order_event(topic, body, store),
        Channel::Amazon => return amazon_event(services, inbound).await,
    })
}

/// Amazon's ORDER_CHANGE notification names the order but carries no address: the order,
/// its address, buyer info and items are fetched from the Orders API (only what the
/// order's status makes necessary, to spare the seller's quota).
async fn amazon_event(
    services: &Services,
    inbound: &InboundRecord,
) -> Result<Result<OrderEvent, ParseError>, NormalizeError> {
    let change = match channel::amazon::parse_notification(&inbound.body) {
        Ok(change) => change,
        Err(e) => return Ok(Err(e)),
    };
    // The notification already says when Amazon fulfils the order itself: nothing for a
    // courier, and no reason to spend the seller's Orders API quota finding that out.
    if change.is_fulfilled_by_amazon() {
        return Ok(Ok(OrderEvent {
            order_id: change.amazon_order_id.clone(),
            facts: channel::OrderFacts {
                cancelled: false,
                payment: channel::PaymentState::Captured,
                cash_on_delivery: false,
                confirmed: false,
                ready_to_ship: false,
                readiness_only: false,
                blocked: Some(channel::Blocked::NotForCourier(
                    "fulfilled by Amazon".into(),
                )),
            },
            shipments: Vec::new(),
            occurred_at: change.event_time,
        }));
    }
    let secret = format!("amazon/{}", inbound.store);
    let client = shared::store::amazon::client(services, &secret).await?;
    let fetched = client
        .fetch_order(&change.amazon_order_id)
        .await
        .map_err(StoreError::from);
    services
        .metrics
        .partner_call("normalize", Channel::Amazon.as_str(), &fetched);
    let fetched = fetched?;
    Ok(Ok(fetched.event(&inbound.store)))
}

async fn review_payload(
    services: &Services,
    inbound: &InboundRecord,
    reasons: Vec<ReviewReason>,
) -> Result<(), AwsError> {
    let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
    let summary = format!("needs review: {}", codes.join(", "));
    let mut item = ReviewItem::new(&inbound.id, "payload", reasons);
    item.source_inbound = Some(inbound.id.clone());
    services.reviews.open(&item).await?;
    tracing::warn!(review = %item.id, reasons = %codes.join(","), "payload needs review");
    let outcome = Outcome {
        state: InboundState::Review,
        summary: &summary,
        order_key: None,
        shipment_key: None,
        review_id: Some(&item.id),
    };
    services.inbound.record_outcome(&inbound.id, &outcome).await
}

async fn outcome(
    services: &Services,
    inbound: &InboundRecord,
    summary: &str,
    order_key: &str,
    shipment_key: Option<&str>,
) -> Result<(), AwsError> {
    tracing::info!(order = order_key, summary, "normalized");
    outcome_with(services, inbound, summary, order_key, shipment_key, None).await
}

async fn outcome_with(
    services: &Services,
    inbound: &InboundRecord,
    summary: &str,
    order_key: &str,
    shipment_key: Option<&str>,
    review_id: Option<&str>,
) -> Result<(), AwsError> {
    let outcome = Outcome {
        state: InboundState::Processed,
        summary,
        order_key: Some(order_key),
        shipment_key,
        review_id,
    };
    services.inbound.record_outcome(&inbound.id, &outcome).await
}

/// When the event happened: the channel's own "last changed" time when the payload has
/// one, else the delivery header (Shopify's `X-Shopify-Triggered-At`), else the receipt
/// time. Shipment writes compare these, so a late retry of an old payload never overwrites
/// newer data.
fn event_time_ms(inbound: &InboundRecord, event: &OrderEvent) -> i64 {
    event
        .occurred_at
        .or_else(|| {
            inbound
                .triggered_at
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        })
        .or_else(|| OffsetDateTime::parse(&inbound.received_at, &Rfc3339).ok())
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(shared::aws::item::now_ms)
}
