//! The inbound table: every webhook that reached us, its signature result, and what it
//! produced. It is both the dedupe record (one item per channel + store + webhook id,
//! written with `attribute_not_exists`) and the audit trail: its `by_order` index answers
//! "which payloads touched this order, and which one created the task" in one query.

use super::{from_item, n, now_ms, pk_of, rfc3339_now, s, to_item, Table};
use crate::{classify, conditional};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use domain::audit::{AuditOutcome, InboundRecord, InboundState, NewInbound, Receipt, Rejection};
use domain::ports::AuditTrail;
use domain::StorageError;
use serde::{Deserialize, Serialize};

/// A stored payload's item.
#[derive(Debug, Serialize, Deserialize)]
struct InboundRow {
    pk: String,
    channel: String,
    store: String,
    topic: String,
    webhook_id: String,
    received_at: String,
    #[serde(default)]
    received_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    triggered_at: Option<String>,
    signature: String,
    state: InboundState,
    #[serde(default)]
    duplicates: u32,
    #[serde(default, with = "serde_bytes")]
    body: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shipment_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review_id: Option<String>,
}

impl From<InboundRow> for InboundRecord {
    fn from(row: InboundRow) -> InboundRecord {
        InboundRecord {
            id: row.pk,
            channel: row.channel,
            store: row.store,
            topic: row.topic,
            webhook_id: row.webhook_id,
            received_at: row.received_at,
            triggered_at: row.triggered_at,
            signature: row.signature,
            state: row.state,
            duplicates: row.duplicates,
            body: row.body,
            order_key: row.order_key,
            shipment_key: row.shipment_key,
            outcome: row.outcome,
            task_id: row.task_id,
            task_created_at: row.task_created_at,
            review_id: row.review_id,
        }
    }
}

/// A refused request's item: its facts, never its untrusted body.
#[derive(Serialize)]
struct RejectionRow<'a> {
    pk: &'a str,
    channel: &'a str,
    store: &'a str,
    received_at: String,
    state: &'static str,
    reason: &'a str,
    http_status: u16,
    body_len: usize,
    body_sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<&'a str>,
}

/// What counting a duplicate reads back.
#[derive(Deserialize)]
struct DuplicateRow {
    state: InboundState,
    #[serde(default)]
    duplicates: u32,
    #[serde(default)]
    received_ms: i64,
}

fn record(item: super::Item) -> Result<InboundRecord, StorageError> {
    let pk = pk_of(&item);
    Ok(from_item::<InboundRow>(&pk, item)?.into())
}

#[derive(Clone, Debug)]
pub struct DynamoAuditTrail {
    table: Table,
}

impl DynamoAuditTrail {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoAuditTrail {
            table: Table::new(client, table),
        }
    }

    async fn count_duplicate(&self, id: &str) -> Result<Receipt, StorageError> {
        let out = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .update_expression("ADD duplicates :one SET last_duplicate_at = :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        let row: DuplicateRow = from_item(id, out.attributes.unwrap_or_default())?;
        Ok(Receipt::Duplicate {
            state: row.state,
            count: row.duplicates.max(1),
            received_ms: row.received_ms,
        })
    }
}

fn uuid_like() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[async_trait]
impl AuditTrail for DynamoAuditTrail {
    async fn receive(&self, inbound: &NewInbound<'_>) -> Result<Receipt, StorageError> {
        let id = inbound.id();
        let row = InboundRow {
            pk: id.clone(),
            channel: inbound.channel.to_owned(),
            store: inbound.store.to_owned(),
            topic: inbound.topic.to_owned(),
            webhook_id: inbound.webhook_id.to_owned(),
            received_at: rfc3339_now(),
            received_ms: now_ms(),
            triggered_at: inbound.triggered_at.map(str::to_owned),
            signature: inbound.signed_with.as_str().to_owned(),
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
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&id, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match conditional("PutItem", put)? {
            Some(_) => Ok(Receipt::New),
            None => self.count_duplicate(&id).await,
        }
    }

    async fn advance(
        &self,
        id: &str,
        from: &[InboundState],
        to: InboundState,
    ) -> Result<bool, StorageError> {
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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
        let update = update.condition_expression(format!("#state IN ({})", allowed.join(", ")));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    async fn record_outcome(
        &self,
        id: &str,
        outcome: &AuditOutcome<'_>,
    ) -> Result<(), StorageError> {
        let mut sets = vec![
            "#state = :state",
            "outcome = :outcome",
            "processed_at = :now",
        ];
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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

    async fn record_task(&self, id: &str, task_id: &str) -> Result<(), StorageError> {
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
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

    async fn get(&self, id: &str) -> Result<Option<InboundRecord>, StorageError> {
        self.table.get(id).await?.map(record).transpose()
    }

    async fn by_order(&self, order_key: &str) -> Result<Vec<InboundRecord>, StorageError> {
        self.table
            .query_index("by_order", "order_key", order_key)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    async fn record_rejection(&self, rejection: &Rejection<'_>) -> Result<String, StorageError> {
        let id = format!(
            "rejected:{}:{}:{}",
            rejection.channel,
            rejection.store,
            uuid_like()
        );
        let row = RejectionRow {
            pk: &id,
            channel: rejection.channel,
            store: rejection.store,
            received_at: rfc3339_now(),
            state: "rejected",
            reason: rejection.reason,
            http_status: rejection.http_status,
            body_len: rejection.body_len,
            body_sha256: &rejection.body_sha256,
            webhook_id: rejection.webhook_id,
            topic: rejection.topic,
        };
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&id, &row)?))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(id)
    }
}
