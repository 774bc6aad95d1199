//! The cash table: what dispatchers recorded couriers handing over, and the daily cash-out
//! task per courier. One table, keyed by kind and day (`handover#2026-11-24`,
//! `cashout#2026-11-24`), so that a day's items are one query.

use super::{from_item, n, now_ms, rfc3339_now, s, to_item, Table};
use crate::conditional;
use async_trait::async_trait;
use domain::cod::{day_text, CashOutTask, CashOutWrite, CourierId, Handover, HandoverWrite};
use domain::ports::CashBook;
use domain::{Currency, Money, StorageError};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Serialize, Deserialize)]
struct HandoverRow {
    pk: String,
    sk: String,
    courier: String,
    receipt: String,
    amount_minor: i64,
    currency: String,
    #[serde(default)]
    recorded_by: String,
    #[serde(default)]
    recorded_at: String,
}

#[derive(Serialize, Deserialize)]
struct CashOutRow {
    pk: String,
    sk: String,
    courier: String,
    currency: String,
    collected_minor: i64,
    handed_over_minor: i64,
    due_minor: i64,
    /// What a re-run compares: the amounts, not when they were computed.
    digest: String,
    #[serde(default)]
    revision: u64,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    created_ms: i64,
}

fn courier(pk: &str, text: &str) -> Result<CourierId, StorageError> {
    CourierId::parse(text).ok_or_else(|| StorageError::corrupt(pk, format!("courier {text:?}")))
}

fn money(pk: &str, minor: i64, code: &str) -> Result<Money, StorageError> {
    let currency: Currency = code
        .parse()
        .map_err(|_| StorageError::corrupt(pk, format!("currency {code:?}")))?;
    Ok(Money { minor, currency })
}

pub struct DynamoCashBook {
    table: Table,
}

impl DynamoCashBook {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoCashBook {
            table: Table::new(client, table),
        }
    }
}

#[async_trait]
impl CashBook for DynamoCashBook {
    /// Once per (day, courier, receipt): typing a slip in twice does not count its cash
    /// twice.
    async fn record_handover(
        &self,
        day: Date,
        handover: &Handover,
        recorded_by: &str,
    ) -> Result<HandoverWrite, StorageError> {
        let pk = format!("handover#{}", day_text(day));
        let row = HandoverRow {
            pk: pk.clone(),
            sk: format!("{}#{}", handover.courier, handover.receipt),
            courier: handover.courier.to_string(),
            receipt: handover.receipt.clone(),
            amount_minor: handover.amount.minor,
            currency: handover.amount.currency.code().to_owned(),
            recorded_by: recorded_by.to_owned(),
            recorded_at: rfc3339_now(),
        };
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&pk, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional("PutItem", put)?.is_some() {
            return Ok(HandoverWrite::Recorded);
        }
        let existing = self
            .handovers(day)
            .await?
            .into_iter()
            .find(|h| h.courier == handover.courier && h.receipt == handover.receipt)
            .ok_or_else(|| StorageError::Conflict {
                key: format!("{pk}/{}", row.sk),
                problem: "the receipt exists but could not be read back".into(),
            })?;
        Ok(if existing.amount == handover.amount {
            HandoverWrite::AlreadyRecorded
        } else {
            HandoverWrite::Conflict {
                recorded: existing.amount,
            }
        })
    }

    async fn handovers(&self, day: Date) -> Result<Vec<Handover>, StorageError> {
        let pk = format!("handover#{}", day_text(day));
        self.table
            .query_pk(&pk)
            .await?
            .into_iter()
            .map(|item| {
                let row: HandoverRow = from_item(&pk, item)?;
                Ok(Handover {
                    courier: courier(&pk, &row.courier)?,
                    receipt: row.receipt,
                    amount: money(&pk, row.amount_minor, &row.currency)?,
                })
            })
            .collect()
    }

    /// A re-run with the same amounts writes nothing.
    async fn put_cash_out(&self, task: &CashOutTask) -> Result<CashOutWrite, StorageError> {
        let pk = format!("cashout#{}", day_text(task.day));
        let now = rfc3339_now();
        let row = CashOutRow {
            pk: pk.clone(),
            sk: task.sort_key(),
            courier: task.courier.to_string(),
            currency: task.due.currency.code().to_owned(),
            collected_minor: task.collected.minor,
            handed_over_minor: task.handed_over.minor,
            due_minor: task.due.minor,
            digest: task.digest(),
            revision: 0,
            created_at: now.clone(),
            created_ms: now_ms(),
        };
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&pk, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional("PutItem", put)?.is_some() {
            return Ok(CashOutWrite::Created);
        }
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(&pk))
            .key("sk", s(task.sort_key()))
            .update_expression(
                "SET collected_minor = :c, handed_over_minor = :h, due_minor = :d, digest = :digest, revised_at = :now ADD revision :one",
            )
            .condition_expression("attribute_exists(pk) AND digest <> :digest")
            .expression_attribute_values(":c", n(task.collected.minor))
            .expression_attribute_values(":h", n(task.handed_over.minor))
            .expression_attribute_values(":d", n(task.due.minor))
            .expression_attribute_values(":digest", s(task.digest()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        Ok(match conditional("UpdateItem", update)? {
            Some(_) => CashOutWrite::Revised,
            None => CashOutWrite::Unchanged,
        })
    }

    async fn cash_outs(&self, day: Date) -> Result<Vec<CashOutTask>, StorageError> {
        let pk = format!("cashout#{}", day_text(day));
        self.table
            .query_pk(&pk)
            .await?
            .into_iter()
            .map(|item| {
                let row: CashOutRow = from_item(&pk, item)?;
                Ok(CashOutTask {
                    courier: courier(&pk, &row.courier)?,
                    day,
                    collected: money(&pk, row.collected_minor, &row.currency)?,
                    handed_over: money(&pk, row.handed_over_minor, &row.currency)?,
                    due: money(&pk, row.due_minor, &row.currency)?,
                    revision: row.revision,
                })
            })
            .collect()
    }
}
