//! The cash table: what dispatchers recorded couriers handing over, and the daily cash-out
//! task per courier. One table, keyed by kind and day (`handover#2026-11-24`,
//! `cashout#2026-11-24`), so that a day's items are one query.

use super::item::{n, now_ms, rfc3339_now, s, Item, Reader};
use super::{conditional, query_pk, AwsError};
use crate::domain::cod::{CourierId, Handover};
use crate::domain::Money;
use time::Date;

/// Calendar days as the table and the reports name them: `2026-11-24` (UTC).
pub fn day_text(day: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    day.format(&format).unwrap_or_else(|_| day.to_string())
}

/// Parses `2026-11-24`.
pub fn parse_day(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}

/// What recording a hand-over did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverWrite {
    Recorded,
    /// The same receipt was recorded before with the same amount: nothing changed.
    AlreadyRecorded,
    /// The receipt was recorded before with another amount: nothing changed.
    Conflict {
        recorded: Money,
    },
}

/// The cash a courier owes the depot for a day, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOutTask {
    pub courier: CourierId,
    pub day: Date,
    pub collected: Money,
    pub handed_over: Money,
    /// Collected minus handed over, never below zero.
    pub due: Money,
    /// How many times a re-run changed the task after it was created.
    pub revision: u64,
}

impl CashOutTask {
    pub fn is_settled(&self) -> bool {
        self.due.minor == 0
    }
    fn sort_key(&self) -> String {
        format!("{}#{}", self.courier, self.due.currency)
    }
    /// What a re-run compares: the amounts, not when they were computed.
    fn digest(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.collected.minor, self.handed_over.minor, self.due.minor, self.due.currency
        )
    }
}

/// What writing a cash-out task did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashOutWrite {
    Created,
    /// The amounts changed since the last run (e.g. a hand-over recorded since).
    Revised,
    Unchanged,
}

pub struct CashStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl CashStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        CashStore {
            client,
            table: table.to_owned(),
        }
    }

    /// Records one hand-over, once per (day, courier, receipt): typing a slip in twice
    /// does not count its cash twice.
    pub async fn record_handover(
        &self,
        day: Date,
        handover: &Handover,
        recorded_by: &str,
    ) -> Result<HandoverWrite, AwsError> {
        let pk = format!("handover#{}", day_text(day));
        let sk = format!("{}#{}", handover.courier, handover.receipt);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("courier", s(handover.courier.to_string()))
            .item("receipt", s(&handover.receipt))
            .item("amount_minor", n(handover.amount.minor))
            .item("currency", s(handover.amount.currency.code()))
            .item("recorded_by", s(recorded_by))
            .item("recorded_at", s(rfc3339_now()))
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
            .ok_or_else(|| AwsError::Conflict {
                key: format!("{pk}/{sk}"),
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

    /// Every hand-over recorded for `day`.
    pub async fn handovers(&self, day: Date) -> Result<Vec<Handover>, AwsError> {
        let pk = format!("handover#{}", day_text(day));
        query_pk(&self.client, &self.table, &pk)
            .await?
            .iter()
            .map(|item| {
                let r = Reader::new(&pk, item);
                Ok(Handover {
                    courier: courier(&pk, &r)?,
                    receipt: r.s("receipt")?,
                    amount: money(&pk, &r, "amount_minor")?,
                })
            })
            .collect()
    }

    /// Creates the day's cash-out task for the courier and currency, or brings it up to
    /// date; a re-run with the same amounts writes nothing.
    pub async fn put_cash_out(&self, task: &CashOutTask) -> Result<CashOutWrite, AwsError> {
        let pk = format!("cashout#{}", day_text(task.day));
        let now = rfc3339_now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(task.sort_key()))
            .item("courier", s(task.courier.to_string()))
            .item("currency", s(task.due.currency.code()))
            .item("collected_minor", n(task.collected.minor))
            .item("handed_over_minor", n(task.handed_over.minor))
            .item("due_minor", n(task.due.minor))
            .item("digest", s(task.digest()))
            .item("revision", n(0))
            .item("created_at", s(&now))
            .item("created_ms", n(now_ms()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional("PutItem", put)?.is_some() {
            return Ok(CashOutWrite::Created);
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
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

    /// The day's cash-out tasks, by courier and currency.
    pub async fn cash_outs(&self, day: Date) -> Result<Vec<CashOutTask>, AwsError> {
        let pk = format!("cashout#{}", day_text(day));
        query_pk(&self.client, &self.table, &pk)
            .await?
            .iter()
            .map(|item| cash_out(&pk, day, item))
            .collect()
    }
}

fn cash_out(pk: &str, day: Date, item: &Item) -> Result<CashOutTask, AwsError> {
    let r = Reader::new(pk, item);
    Ok(CashOutTask {
        courier: courier(pk, &r)?,
        day,
        collected: money(pk, &r, "collected_minor")?,
        handed_over: money(pk, &r, "handed_over_minor")?,
        due: money(pk, &r, "due_minor")?,
        revision: r.opt_n("revision")?.unwrap_or(0),
    })
}

fn courier(pk: &str, r: &Reader) -> Result<CourierId, AwsError> {
    let text = r.s("courier")?;
    CourierId::parse(&text).ok_or_else(|| AwsError::Corrupt {
        key: pk.to_owned(),
        problem: format!("courier {text:?}"),
    })
}

fn money(pk: &str, r: &Reader, amount: &str) -> Result<Money, AwsError> {
    let code = r.s("currency")?;
    Ok(Money {
        minor: r.n(amount)?,
        currency: code.parse().map_err(|_| AwsError::Corrupt {
            key: pk.to_owned(),
            problem: format!("currency {code:?}"),
        })?,
    })
}
