//! The idempotency table behind [`crate::idempotency::IdempotencyStore`]. Item per key:
//! `status` (IN_PROGRESS, RELEASED, COMPLETED), `token` (the holder), `lease_until_ms`,
//! `attempts`, `result` (JSON), and `expires_at` for DynamoDB's TTL.

use super::item::{n, now_ms, s, Reader};
use super::{classify, AwsError};
use crate::idempotency::{Claim, Completion, IdempotencyStore};
use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

const IN_PROGRESS: &str = "IN_PROGRESS";
const RELEASED: &str = "RELEASED";
const COMPLETED: &str = "COMPLETED";

/// Records outlive any retry and redrive window (SQS keeps messages 14 days at most).
const RETENTION_SECS: i64 = 30 * 24 * 3600;

#[derive(Clone, Debug)]
pub struct DynamoIdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoIdempotencyStore {
            client,
            table: table.into(),
        }
    }

    fn new_token() -> String {
        format!("{:032x}", rand::random::<u128>())
    }

    fn expires_at() -> aws_sdk_dynamodb::types::AttributeValue {
        n(now_ms() / 1000 + RETENTION_SECS)
    }
}

fn conditional_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, AwsError> {
        let lease_ms = lease.as_millis() as i64;
        let token = Self::new_token();
        let fresh = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("status", s(IN_PROGRESS))
            .item("token", s(&token))
            .item("lease_until_ms", n(now_ms() + lease_ms))
            .item("attempts", n(1))
            .item("expires_at", Self::expires_at())
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match fresh {
            Ok(_) => {
                return Ok(Claim::Acquired {
                    token,
                    resumed: false,
                })
            }
            Err(e) if e.as_service_error().is_some_and(conditional_failed) => {}
            Err(e) => return Err(classify("PutItem", e)),
        }

        let current = super::get_by_pk(&self.client, &self.table, key)
            .await?
            .unwrap_or_default();
        let r = Reader::new(key, &current);
        let status = r.s("status")?;
        if status == COMPLETED {
            return Ok(Claim::Completed(r.json("result")?));
        }
        let lease_until: i64 = r.n("lease_until_ms")?;
        let now = now_ms();
        if status == IN_PROGRESS && lease_until > now {
            return Ok(Claim::Busy {
                remaining: Duration::from_millis((lease_until - now) as u64),
            });
        }

        // Take over from the holder we just read, and only from it: if another attempt
        // takes over first, the condition fails and we wait for its lease instead.
        let previous_token = r.s("token")?;
        let takeover = self
            .client
            .update_item()
            .table_name(&self.table)
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
            .expression_attribute_values(":exp", Self::expires_at())
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":previous", s(previous_token))
            .expression_attribute_values(":seen", s(&status))
            .send()
            .await;
        match takeover {
            Ok(_) => Ok(Claim::Acquired {
                token,
                resumed: true,
            }),
            Err(e) if e.as_service_error().is_some_and(conditional_failed) => {
                Ok(Claim::Busy { remaining: lease })
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn complete(
        &self,
        key: &str,
        token: &str,
        result: &Value,
    ) -> Result<Completion, AwsError> {
        let stored = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET #status = :completed, #result = :result, completed_ms = :now, expires_at = :exp")
            .condition_expression("#token = :token AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#result", "result")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":result", s(result.to_string()))
            .expression_attribute_values(":now", n(now_ms()))
            .expression_attribute_values(":exp", Self::expires_at())
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match stored {
            Ok(_) => Ok(Completion::Stored),
            Err(e) if e.as_service_error().is_some_and(conditional_failed) => {
                let item = super::get_by_pk(&self.client, &self.table, key)
                    .await?
                    .unwrap_or_default();
                let r = Reader::new(key, &item);
                if r.opt_s("status")?.as_deref() == Some(COMPLETED) {
                    Ok(Completion::AlreadyCompleted(r.json("result")?))
                } else {
                    Ok(Completion::LeaseLost)
                }
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn release(&self, key: &str, token: &str, error: &str) -> Result<(), AwsError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
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
        match released {
            // Someone else holds it now: nothing of ours to give back.
            Err(e) if e.as_service_error().is_some_and(conditional_failed) => Ok(()),
            Err(e) => Err(classify("UpdateItem", e)),
            Ok(_) => Ok(()),
        }
    }
}
