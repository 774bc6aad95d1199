//! The notifications outbox: one item per message the customer should get, keyed by
//! shipment and event ("<shipment key>#delivered"), so composing it twice writes it once.
//! The notify function claims an item, sends it, and records the end: each message goes
//! out at most once (DESIGN.md, idempotency; README, "Customer notifications").
//!
//! ```text
//! PENDING ──claim──> SENDING ──accepted──> SENT
//!    ^                  │ ──refused──────> FAILED   (the provider will never take it)
//!    └──not taken───────┘ ──unknown──────> UNKNOWN  (it may have gone out: never resent)
//! PENDING ──no longer true when sent──> SKIPPED (e.g. "on the way" after the delivery)
//! ```

use super::item::{n, now_ms, s, Item, Reader};
use super::{conditional, AwsError};
use crate::notify::NotifyChannel;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    Failed,
    Unknown,
    Skipped,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "PENDING",
            OutboxState::Sending => "SENDING",
            OutboxState::Sent => "SENT",
            OutboxState::Failed => "FAILED",
            OutboxState::Unknown => "UNKNOWN",
            OutboxState::Skipped => "SKIPPED",
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, OutboxState::Pending | OutboxState::Sending)
    }

    fn parse(text: &str) -> Option<OutboxState> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// "<shipment key>#<template>".
    pub id: String,
    pub shipment_key: String,
    /// The template's name ("delivered"): the notify function checks it is still true.
    pub template: String,
    pub channel: NotifyChannel,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_ms: i64,
}

impl OutboxEntry {
    pub fn id_for(shipment_key: &str, template: &str) -> String {
        format!("{shipment_key}#{template}")
    }
}

/// What trying to claim a message for sending found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send now.
    Claimed(Box<OutboxEntry>),
    /// Already ended (sent, failed, unknown, skipped): nothing to do.
    Ended(OutboxState),
    /// Another sender holds it until `until_ms`.
    InFlight {
        until_ms: i64,
    },
    /// A sender took it and never said how it ended: it may have gone out.
    Abandoned,
    Missing,
}

#[derive(Clone, Debug)]
pub struct OutboxStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl OutboxStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        OutboxStore {
            client,
            table: table.into(),
        }
    }

    /// Adds the message unless it is already there. Returns whether this call added it.
    pub async fn add(&self, entry: &OutboxEntry) -> Result<bool, AwsError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&entry.id))
            .item("shipment_key", s(&entry.shipment_key))
            .item("template", s(&entry.template))
            .item("channel", s(entry.channel.as_str()))
            .item("recipient", s(&entry.to))
            .item("body", s(&entry.body))
            .item("state", s(OutboxState::Pending.as_str()))
            .item("attempts", n(0))
            .item("created_ms", n(entry.created_ms))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(subject) = &entry.subject {
            put = put.item("subject", s(subject));
        }
        Ok(conditional("PutItem", put.send().await)?.is_some())
    }

    pub async fn get(&self, id: &str) -> Result<Option<OutboxEntry>, AwsError> {
        let found = super::get_by_pk(&self.client, &self.table, id).await?;
        found.map(|item| entry(id, &item)).transpose()
    }

    /// PENDING → SENDING for `lease_ms`, counting the attempt.
    pub async fn claim(&self, id: &str, lease_ms: i64) -> Result<Claim, AwsError> {
        let now = now_ms();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("SET #state = :sending, lease_until = :until ADD attempts :one")
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(OutboxState::Sending.as_str()))
            .expression_attribute_values(":pending", s(OutboxState::Pending.as_str()))
            .expression_attribute_values(":until", n(now + lease_ms))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        if let Some(out) = conditional("UpdateItem", result)? {
            let item = out.attributes.unwrap_or_default();
            return Ok(Claim::Claimed(Box::new(entry(id, &item)?)));
        }
        let Some(item) = self.raw(id).await? else {
            return Ok(Claim::Missing);
        };
        let current = entry(id, &item)?;
        if current.state.is_final() {
            return Ok(Claim::Ended(current.state));
        }
        let until = Reader::new(id, &item)
            .opt_n::<i64>("lease_until")?
            .unwrap_or(0);
        if until > now {
            Ok(Claim::InFlight { until_ms: until })
        } else {
            Ok(Claim::Abandoned)
        }
    }

    /// SENDING → `to` (a final state), with the provider's answer. Conditional on SENDING:
    /// a sender whose lease was declared abandoned cannot overwrite that verdict.
    pub async fn finish(
        &self,
        id: &str,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, AwsError> {
        self.transition(id, OutboxState::Sending, to, provider, provider_id, error)
            .await
    }

    /// SENDING → PENDING: the provider did not take it; a retry may send it.
    pub async fn release(&self, id: &str, error: &str) -> Result<bool, AwsError> {
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

    /// SENDING (lease over) → UNKNOWN: whoever held it stopped without a word.
    pub async fn abandon(&self, id: &str) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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

    /// PENDING → SKIPPED: no longer true (checked before claiming).
    pub async fn skip(&self, id: &str, why: &str) -> Result<bool, AwsError> {
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

    async fn transition(
        &self,
        id: &str,
        from: OutboxState,
        to: OutboxState,
        provider: Option<&str>,
        provider_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool, AwsError> {
        let mut set = vec!["#state = :to", "updated_ms = :now"];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
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

    async fn raw(&self, id: &str) -> Result<Option<Item>, AwsError> {
        super::get_by_pk(&self.client, &self.table, id).await
    }

    /// Every message (for the demo, tests and the CLI; a scan).
    pub async fn all(&self) -> Result<Vec<OutboxEntry>, AwsError> {
        let mut entries = super::scan_all(&self.client, &self.table)
            .await?
            .iter()
            .map(|item| {
                let id = Reader::new("outbox", item).s("pk")?;
                entry(&id, item)
            })
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.created_ms);
        Ok(entries)
    }
}

fn entry(id: &str, item: &Item) -> Result<OutboxEntry, AwsError> {
    let r = Reader::new(id, item);
    let corrupt = |problem: String| AwsError::Corrupt {
        key: id.to_owned(),
        problem,
    };
    let state_text = r.s("state")?;
    let channel_text = r.s("channel")?;
    Ok(OutboxEntry {
        id: id.to_owned(),
        shipment_key: r.s("shipment_key")?,
        template: r.s("template")?,
        channel: serde_json::from_value(serde_json::Value::String(channel_text.clone()))
            .map_err(|_| corrupt(format!("unknown channel {channel_text:?}")))?,
        to: r.s("recipient")?,
        subject: r.opt_s("subject")?,
        body: r.s("body")?,
        state: OutboxState::parse(&state_text)
            .ok_or_else(|| corrupt(format!("unknown state {state_text:?}")))?,
        attempts: r.opt_n("attempts")?.unwrap_or(0),
        provider: r.opt_s("provider")?,
        provider_id: r.opt_s("provider_id")?,
        last_error: r.opt_s("last_error")?,
        created_ms: r.opt_n("created_ms")?.unwrap_or(0),
    })
}
