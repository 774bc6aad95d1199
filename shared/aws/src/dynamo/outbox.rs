//! The notifications outbox (see [`domain::notify::outbox`] for its life): one item per
//! message, keyed "<shipment key>#<template>", every move a conditional write.

use super::{from_item, n, now_ms, pk_of, s, to_item, Table};
use crate::conditional;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use domain::notify::{NotifyChannel, OutboxClaim, OutboxEntry, OutboxState};
use domain::ports::Outbox;
use domain::StorageError;
use serde::{Deserialize, Serialize};

/// A message's item.
#[derive(Debug, Serialize, Deserialize)]
struct OutboxRow {
    pk: String,
    shipment_key: String,
    template: String,
    channel: NotifyChannel,
    /// The address (a phone, an e-mail address): `recipient`, as the table names it.
    recipient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    body: String,
    state: OutboxState,
    #[serde(default)]
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(default)]
    created_ms: i64,
    /// While SENDING: until when the sender holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_until: Option<i64>,
}

impl From<OutboxRow> for OutboxEntry {
    fn from(row: OutboxRow) -> OutboxEntry {
        OutboxEntry {
            id: row.pk,
            shipment_key: row.shipment_key,
            template: row.template,
            channel: row.channel,
            to: row.recipient,
            subject: row.subject,
            body: row.body,
            state: row.state,
            attempts: row.attempts,
            provider: row.provider,
            provider_id: row.provider_id,
            last_error: row.last_error,
            created_ms: row.created_ms,
        }
    }
}

fn row(item: super::Item) -> Result<OutboxRow, StorageError> {
    let pk = pk_of(&item);
    from_item(&pk, item)
}

#[derive(Clone, Debug)]
pub struct DynamoOutbox {
    table: Table,
}

impl DynamoOutbox {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoOutbox {
            table: Table::new(client, table),
        }
    }

    async fn transition(
        &self,
        id: &str,
        from: OutboxState,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, StorageError> {
        let mut set = vec!["#state = :to", "updated_ms = :now"];
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":now", n(now_ms()));
        if let Some(p) = provider {
            set.push("provider = :provider");
            update = update.expression_attribute_values(":provider", s(p));
        }
        if let Some(p) = provider_id {
            set.push("provider_id = :pid");
            update = update.expression_attribute_values(":pid", s(p));
        }
        if let Some(e) = error {
            set.push("last_error = :error");
            update = update.expression_attribute_values(":error", s(e));
        }
        let update = update.update_expression(format!("SET {}", set.join(", ")));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }
}

#[async_trait]
impl Outbox for DynamoOutbox {
    async fn add(&self, entry: &OutboxEntry) -> Result<bool, StorageError> {
        let row = OutboxRow {
            pk: entry.id.clone(),
            shipment_key: entry.shipment_key.clone(),
            template: entry.template.clone(),
            channel: entry.channel,
            recipient: entry.to.clone(),
            subject: entry.subject.clone(),
            body: entry.body.clone(),
            state: OutboxState::Pending,
            attempts: 0,
            provider: None,
            provider_id: None,
            last_error: None,
            created_ms: entry.created_ms,
            lease_until: None,
        };
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&entry.id, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional("PutItem", put)?.is_some())
    }

    async fn get(&self, id: &str) -> Result<Option<OutboxEntry>, StorageError> {
        self.table
            .get(id)
            .await?
            .map(|item| row(item).map(OutboxEntry::from))
            .transpose()
    }

    async fn claim(&self, id: &str, lease_ms: i64) -> Result<OutboxClaim, StorageError> {
        let now = now_ms();
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .update_expression("SET #state = :sending, lease_until = :until ADD attempts :one")
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(OutboxState::Sending.as_str()))
            .expression_attribute_values(":pending", s(OutboxState::Pending.as_str()))
            .expression_attribute_values(":until", n(now + lease_ms))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        if let Some(out) = conditional("UpdateItem", result)? {
            let claimed = row(out.attributes.unwrap_or_default())?;
            return Ok(OutboxClaim::Claimed(Box::new(claimed.into())));
        }
        let Some(item) = self.table.get(id).await? else {
            return Ok(OutboxClaim::Missing);
        };
        let current = row(item)?;
        if current.state.is_final() {
            return Ok(OutboxClaim::Ended(current.state));
        }
        let until = current.lease_until.unwrap_or(0);
        if until > now {
            Ok(OutboxClaim::InFlight { until_ms: until })
        } else {
            Ok(OutboxClaim::Abandoned)
        }
    }

    /// Conditional on SENDING: a sender whose lease was declared abandoned cannot overwrite
    /// that verdict.
    async fn finish(
        &self,
        id: &str,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, StorageError> {
        self.transition(id, OutboxState::Sending, to, provider, provider_id, error)
            .await
    }

    async fn release(&self, id: &str, error: &str) -> Result<bool, StorageError> {
        self.transition(
            id,
            OutboxState::Sending,
            OutboxState::Pending,
            None,
            None,
            Some(error),
        )
        .await
    }

    async fn abandon(&self, id: &str) -> Result<bool, StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .update_expression("SET #state = :unknown, last_error = :why")
            .condition_expression("#state = :sending AND lease_until < :now")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":unknown", s(OutboxState::Unknown.as_str()))
            .expression_attribute_values(":sending", s(OutboxState::Sending.as_str()))
            .expression_attribute_values(":now", n(now_ms()))
            .expression_attribute_values(
                ":why",
                s("the sender stopped mid-send; it may have gone out, so it is not resent"),
            )
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    async fn skip(&self, id: &str, why: &str) -> Result<bool, StorageError> {
        self.transition(
            id,
            OutboxState::Pending,
            OutboxState::Skipped,
            None,
            None,
            Some(why),
        )
        .await
    }

    async fn all(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        let mut entries = self
            .table
            .scan()
            .await?
            .into_iter()
            .map(|item| row(item).map(OutboxEntry::from))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.created_ms);
        Ok(entries)
    }
}
