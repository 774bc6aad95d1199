//! An SQS queue: send JSON messages, change a received message's visibility (the backoff).

use super::{classify, AwsError};
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Queue {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<String, AwsError> {
        let body = serde_json::to_string(message).map_err(|e| AwsError::Call {
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
    pub async fn delay_retry(&self, receipt_handle: &str, delay: Duration) -> Result<(), AwsError> {
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
    pub async fn approximate_depth(&self) -> Result<u64, AwsError> {
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
        text.parse().map_err(|_| AwsError::Call {
            operation: "GetQueueAttributes",
            message: format!("ApproximateNumberOfMessages is {text:?}, not a number"),
            transient: false,
        })
    }
}
