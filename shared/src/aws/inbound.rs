//! The inbound table: every webhook that reached us, its signature result, and what it
//! produced. It is both the dedupe record (one item per channel + store + webhook id,
//! written with `attribute_not_exists`) and the audit trail: its `by_order` index answers
//! "which payloads touched this order, and which one created the task" in one query.

use super::item::{n, now_ms, rfc3339_now, s, Item, Reader};
use super::{classify, AwsError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

/// Where an inbound payload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundState {
    /// Stored, not yet on the intake queue.
    Received,
    /// On the intake queue.
    Enqueued,
    /// Valid but not for us (unknown topic): acknowledged and kept.
    Ignored,
    /// Normalized: see `outcome`.
    Processed,
    /// Could not be read; a review item holds it.
    Review,
}

impl InboundState {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundState::Received => "received",
            InboundState::Enqueued => "enqueued",
            InboundState::Ignored => "ignored",
            InboundState::Processed => "processed",
            InboundState::Review => "review",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "received" => InboundState::Received,
            "enqueued" => InboundState::Enqueued,
            "ignored" => InboundState::Ignored,
            "processed" => InboundState::Processed,
            "review" => InboundState::Review,
            _ => return None,
        })
    }
}

/// A verified payload as intake stores it.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub channel: &'a str,
    pub store: &'a str,
    pub topic: &'a str,
    pub webhook_id: &'a str,
    /// When the channel says the event happened (Shopify: `X-Shopify-Triggered-At`).
    pub triggered_at: Option<&'a str>,
    pub body: &'a [u8],
    pub state: InboundState,
}

impl NewInbound<'_> {
    pub fn id(&self) -> String {
        inbound_id(self.channel, self.store, self.webhook_id)
    }
}

pub fn inbound_id(channel: &str, store: &str, webhook_id: &str) -> String {
    format!("{channel}:{store}:{webhook_id}")
}

/// The answer to "have we seen this webhook?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    New,
    /// Seen before; `state` says whether the first delivery got as far as the queue.
    Duplicate {
        state: InboundState,
        count: u32,
        received_ms: i64,
    },
}

/// A stored inbound payload, as the audit trail shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InboundRecord {
    pub id: String,
    pub channel: String,
    pub store: String,
    pub topic: String,
    pub webhook_id: String,
    pub received_at: String,
    pub triggered_at: Option<String>,
    pub signature: String,
    pub state: InboundState,
    pub duplicates: u32,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub order_key: Option<String>,
    pub shipment_key: Option<String>,
    pub outcome: Option<String>,
    pub task_id: Option<String>,
    pub task_created_at: Option<String>,
    pub review_id: Option<String>,
}

/// What a payload produced, for the audit trail.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub state: InboundState,
    /// One line an operator reads: "task requested", "waiting: payment not captured", ...
    pub summary: &'a str,
    pub order_key: Option<&'a str>,
    pub shipment_key: Option<&'a str>,
    pub review_id: Option<&'a str>,
}

/// A request refused before it was trusted (bad signature, unknown store, too large).
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub channel: &'a str,
    pub store: &'a str,
    pub reason: &'a str,
    pub http_status: u16,
    pub body_len: usize,
    pub body_sha256: String,
    pub webhook_id: Option<&'a str>,
    pub topic: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct InboundStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl InboundStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        InboundStore {
            client,
            table: table.into(),
        }
    }

    /// Stores the payload if this webhook id is new; otherwise counts the duplicate.
    pub async fn receive(&self, inbound: &NewInbound<'_>) -> Result<Receipt, AwsError> {
        let id = inbound.id();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&id))
            .item("channel", s(inbound.channel))
            .item("store", s(inbound.store))
            .item("topic", s(inbound.topic))
            .item("webhook_id", s(inbound.webhook_id))
            .item("received_at", s(rfc3339_now()))
            .item("received_ms", n(now_ms()))
            .item("signature", s("valid"))
            .item("state", s(inbound.state.as_str()))
            .item("duplicates", n(0))
            .item("body", AttributeValue::B(Blob::new(inbound.body)))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(at) = inbound.triggered_at {
            put = put.item("triggered_at", s(at));
        }
        match put.send().await {
            Ok(_) => Ok(Receipt::New),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                self.count_duplicate(&id).await
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    async fn count_duplicate(&self, id: &str) -> Result<Receipt, AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("ADD duplicates :one SET last_duplicate_at = :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        let item = out.attributes.unwrap_or_default();
        let r = Reader::new(id, &item);
        let state = parse_state(&r)?;
        Ok(Receipt::Duplicate {
            state,
            count: r.opt_n("duplicates")?.unwrap_or(1),
            received_ms: r.opt_n("received_ms")?.unwrap_or(0),
        })
    }

    /// Moves the payload to `to`, only from `from` (so a late writer never undoes progress).
    pub async fn advance(
        &self,
        id: &str,
        from: &[InboundState],
        to: InboundState,
    ) -> Result<bool, AwsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("SET #state = :to")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":to", s(to.as_str()));
        let mut allowed = Vec::new();
        for (i, state) in from.iter().enumerate() {
            let name = format!(":from{i}");
            update = update.expression_attribute_values(&name, s(state.as_str()));
            allowed.push(name);
        }
        update = update.condition_expression(format!("#state IN ({})", allowed.join(", ")));
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    /// Records what normalizing this payload produced; setting `order_key` puts the payload
    /// in the `by_order` index.
    pub async fn record_outcome(&self, id: &str, outcome: &Outcome<'_>) -> Result<(), AwsError> {
        let mut sets = vec![
            "#state = :state",
            "outcome = :outcome",
            "processed_at = :now",
        ];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(outcome.state.as_str()))
            .expression_attribute_values(":outcome", s(outcome.summary))
            .expression_attribute_values(":now", s(rfc3339_now()));
        let optional = [
            ("order_key = :order", ":order", outcome.order_key),
            (
                "shipment_key = :shipment",
                ":shipment",
                outcome.shipment_key,
            ),
            ("review_id = :review", ":review", outcome.review_id),
        ];
        for (set, name, value) in optional {
            if let Some(value) = value {
                sets.push(set);
                update = update.expression_attribute_values(name, s(value));
            }
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    /// Marks the payload that created `task_id`: the end of the audit chain.
    pub async fn record_task(&self, id: &str, task_id: &str) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("SET task_id = :task, task_created_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":task", s(task_id))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<InboundRecord>, AwsError> {
        let found = super::get_by_pk(&self.client, &self.table, id).await?;
        found.map(|item| record(id, &item)).transpose()
    }

    /// Every payload that touched `order_key`, oldest first: the order's audit trail.
    pub async fn by_order(&self, order_key: &str) -> Result<Vec<InboundRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by_order")
                .key_condition_expression("order_key = :k")
                .expression_attribute_values(":k", s(order_key))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let id = Reader::new(order_key, &item).s("pk")?;
                records.push(record(&id, &item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(records);
            }
        }
    }

    /// Keeps a refused request's facts (not its untrusted body) for the audit trail.
    pub async fn record_rejection(&self, rejection: &Rejection<'_>) -> Result<String, AwsError> {
        let id = format!(
            "rejected:{}:{}:{}",
            rejection.channel,
            rejection.store,
            uuid_like()
        );
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&id))
            .item("channel", s(rejection.channel))
            .item("store", s(rejection.store))
            .item("received_at", s(rfc3339_now()))
            .item("state", s("rejected"))
            .item("reason", s(rejection.reason))
            .item("http_status", n(rejection.http_status))
            .item("body_len", n(rejection.body_len))
            .item("body_sha256", s(&rejection.body_sha256));
        if let Some(w) = rejection.webhook_id {
            put = put.item("webhook_id", s(w));
        }
        if let Some(t) = rejection.topic {
            put = put.item("topic", s(t));
        }
        put.send().await.map_err(|e| classify("PutItem", e))?;
        Ok(id)
    }
}

fn uuid_like() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn parse_state(r: &Reader<'_>) -> Result<InboundState, AwsError> {
    let text = r.s("state")?;
    InboundState::parse(&text).ok_or_else(|| AwsError::Corrupt {
        key: "state".into(),
        problem: format!("unknown inbound state {text:?}"),
    })
}

fn record(id: &str, item: &Item) -> Result<InboundRecord, AwsError> {
    let r = Reader::new(id, item);
    Ok(InboundRecord {
        id: id.to_owned(),
        channel: r.s("channel")?,
        store: r.s("store")?,
        topic: r.s("topic")?,
        webhook_id: r.s("webhook_id")?,
        received_at: r.s("received_at")?,
        triggered_at: r.opt_s("triggered_at")?,
        signature: r.s("signature")?,
        state: parse_state(&r)?,
        duplicates: r.opt_n("duplicates")?.unwrap_or(0),
        body: r.opt_b("body")?.unwrap_or_default(),
        order_key: r.opt_s("order_key")?,
        shipment_key: r.opt_s("shipment_key")?,
        outcome: r.opt_s("outcome")?,
        task_id: r.opt_s("task_id")?,
        task_created_at: r.opt_s("task_created_at")?,
        review_id: r.opt_s("review_id")?,
    })
}
