//! An SQS queue: send JSON messages (the domain's [`Queue`] port, typed by message), change
//! a received message's visibility (the backoff of [`crate::batch`]), read its depth.

use crate::batch::RetryDelay;
use crate::classify;
use async_trait::async_trait;
use domain::ports::Queue;
use domain::StorageError;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `message` as JSON; returns SQS's message id.
    pub async fn send_json<T: Serialize>(&self, message: &T) -> Result<String, StorageError> {
        let body = serde_json::to_string(message).map_err(|e| StorageError::Call {
            operation: "SendMessage",
            message: format!("message does not serialize: {e}"),
            transient: false,
        })?;
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| classify("SendMessage", e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Hides a received message for `delay`: how a failed message waits before its retry.
    pub async fn delay_retry(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), StorageError> {
        // SQS caps visibility at 12 hours.
        let secs = delay.as_secs().min(43_200) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| classify("ChangeMessageVisibility", e))?;
        Ok(())
    }

    /// `ApproximateNumberOfMessages`: the messages waiting to be received (what a DLQ holds).
    pub async fn approximate_depth(&self) -> Result<u64, StorageError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        let text = out
            .attributes
            .as_ref()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .cloned()
            .unwrap_or_default();
        text.parse().map_err(|_| StorageError::Call {
            operation: "GetQueueAttributes",
            message: format!("ApproximateNumberOfMessages is {text:?}, not a number"),
            transient: false,
        })
    }
}

#[async_trait]
impl<M: Serialize + Sync> Queue<M> for SqsQueue {
    async fn send(&self, message: &M) -> Result<(), StorageError> {
        self.send_json(message).await.map(drop)
    }
}

/// How many messages wait in a queue (what a dead-letter queue holds).
#[async_trait]
pub trait QueueDepth: Send + Sync {
    async fn approximate_depth(&self) -> Result<u64, StorageError>;
}

#[async_trait]
impl QueueDepth for SqsQueue {
    async fn approximate_depth(&self) -> Result<u64, StorageError> {
        SqsQueue::approximate_depth(self).await
    }
}

#[async_trait]
impl RetryDelay for SqsQueue {
    async fn delay_retry(&self, receipt_handle: &str, delay: Duration) -> Result<(), StorageError> {
        SqsQueue::delay_retry(self, receipt_handle, delay).await
    }
}
