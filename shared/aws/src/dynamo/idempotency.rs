//! The idempotency table behind [`domain::ports::IdempotencyStore`]. Item per key:
//! `status` (IN_PROGRESS, RELEASED, COMPLETED), `token` (the holder), `lease_until_ms`,
//! `attempts`, `result` (JSON text), and `expires_at` for DynamoDB's TTL.

use super::{from_item, n, now_ms, s, to_item, Table};
use crate::conditional;
use async_trait::async_trait;
use domain::idempotency::{Claim, Completion};
use domain::ports::IdempotencyStore;
use domain::StorageError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

const IN_PROGRESS: &str = "IN_PROGRESS";
const RELEASED: &str = "RELEASED";
const COMPLETED: &str = "COMPLETED";

/// Records outlive any retry and redrive window (SQS keeps messages 14 days at most).
const RETENTION_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct KeyRow {
    pk: String,
    status: String,
    token: String,
    lease_until_ms: i64,
    #[serde(default)]
    attempts: u32,
    expires_at: i64,
    /// The effect's result, once COMPLETED (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
}

impl KeyRow {
    fn result(&self) -> Result<Value, StorageError> {
        let text = self
            .result
            .as_deref()
            .ok_or_else(|| StorageError::corrupt(&self.pk, "a completed key has no result"))?;
        serde_json::from_str(text).map_err(|e| StorageError::corrupt(&self.pk, e))
    }
}

fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn expires_at() -> i64 {
    now_ms() / 1000 + RETENTION_SECS
}

#[derive(Clone, Debug)]
pub struct DynamoIdempotencyStore {
    table: Table,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoIdempotencyStore {
            table: Table::new(client, table),
        }
    }

    async fn current(&self, key: &str) -> Result<Option<KeyRow>, StorageError> {
        self.table
            .get(key)
            .await?
            .map(|item| from_item(key, item))
            .transpose()
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StorageError> {
        let lease_ms = lease.as_millis() as i64;
        let token = new_token();
        let row = KeyRow {
            pk: key.to_owned(),
            status: IN_PROGRESS.to_owned(),
            token: token.clone(),
            lease_until_ms: now_ms() + lease_ms,
            attempts: 1,
            expires_at: expires_at(),
            result: None,
        };
        let fresh = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(key, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional("PutItem", fresh)?.is_some() {
            return Ok(Claim::Acquired {
                token,
                resumed: false,
            });
        }

        let Some(current) = self.current(key).await? else {
            // Gone between the put and the read (its TTL ran out): the next attempt claims it.
            return Ok(Claim::Busy {
                remaining: Duration::ZERO,
            });
        };
        if current.status == COMPLETED {
            return Ok(Claim::Completed(current.result()?));
        }
        let now = now_ms();
        if current.status == IN_PROGRESS && current.lease_until_ms > now {
            return Ok(Claim::Busy {
                remaining: Duration::from_millis((current.lease_until_ms - now) as u64),
            });
        }

        // Take over from the holder we just read, and only from it: if another attempt
        // takes over first, the condition fails and we wait for its lease instead.
        let takeover = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key))
            .update_expression(
                "SET #status = :in_progress, #token = :token, lease_until_ms = :lease, expires_at = :exp ADD attempts :one",
            )
            .condition_expression("#token = :previous AND #status = :seen")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":token", s(&token))
            .expression_attribute_values(":lease", n(now + lease_ms))
            .expression_attribute_values(":exp", n(expires_at()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":previous", s(&current.token))
            .expression_attribute_values(":seen", s(&current.status))
            .send()
            .await;
        Ok(match conditional("UpdateItem", takeover)? {
            Some(_) => Claim::Acquired {
                token,
                resumed: true,
            },
            None => Claim::Busy { remaining: lease },
        })
    }

    async fn complete(
        &self,
        key: &str,
        token: &str,
        result: &Value,
    ) -> Result<Completion, StorageError> {
        let stored = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key))
            .update_expression(
                "SET #status = :completed, #result = :result, completed_ms = :now, expires_at = :exp",
            )
            .condition_expression("#token = :token AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#result", "result")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":result", s(result.to_string()))
            .expression_attribute_values(":now", n(now_ms()))
            .expression_attribute_values(":exp", n(expires_at()))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        if conditional("UpdateItem", stored)?.is_some() {
            return Ok(Completion::Stored);
        }
        match self.current(key).await? {
            Some(row) if row.status == COMPLETED => Ok(Completion::AlreadyCompleted(row.result()?)),
            _ => Ok(Completion::LeaseLost),
        }
    }

    async fn release(&self, key: &str, token: &str, error: &str) -> Result<(), StorageError> {
        let released = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key))
            .update_expression(
                "SET #status = :released, last_error = :error, lease_until_ms = :now",
            )
            .condition_expression("#token = :token AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":released", s(RELEASED))
            .expression_attribute_values(":error", s(error))
            .expression_attribute_values(":now", n(now_ms()))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        // Someone else holds it now: nothing of ours to give back.
        conditional("UpdateItem", released).map(drop)
    }
}
