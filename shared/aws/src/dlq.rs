//! DLQ inspection and redrive, shared by `courier-bridge dlq` (operators, on AWS or an
//! emulator) and `courier-bridge-local dlq`. On AWS, `aws sqs start-message-move-task
//! --source-arn <DLQ>` does the redrive; this does the same with plain receive/send/delete so
//! it also works on emulators without message-move tasks. A message is deleted from the DLQ
//! only after it is safely on the source queue: a crash in between duplicates it, never
//! loses it, and the functions are idempotent.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde::Serialize;

/// The dead-letter queue's logical id for a source queue's (`TasksQueue` -> `TasksDLQ`):
/// template.yaml names every DLQ that way. `None` for an id that is not a queue's.
pub fn dead_letter_queue_of(queue_logical_id: &str) -> Option<String> {
    queue_logical_id
        .strip_suffix("Queue")
        .filter(|base| !base.is_empty())
        .map(|base| format!("{base}DLQ"))
}

#[derive(Debug, thiserror::Error)]
#[error("{operation} on {queue}: {message}")]
pub struct DlqError {
    pub operation: &'static str,
    pub queue: String,
    pub message: String,
}

fn error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    queue: &str,
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> DlqError {
    DlqError {
        operation,
        queue: queue.to_owned(),
        message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
    }
}

/// A message waiting in a DLQ.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
}

/// Lists up to `max` messages without consuming them (they reappear at once).
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    max: usize,
) -> Result<Vec<DeadLetter>, DlqError> {
    let mut seen = Vec::new();
    let mut receipts = Vec::new();
    while seen.len() < max {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| error("ReceiveMessage", dlq_url, e))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            receipts.extend(m.receipt_handle.clone());
            seen.push(DeadLetter {
                message_id: m.message_id.clone().unwrap_or_default(),
                body: m.body.clone().unwrap_or_default(),
                receive_count: m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0),
            });
        }
    }
    // Make them visible again right away: listing must not delay a redrive.
    for receipt in receipts {
        sqs.change_message_visibility()
            .queue_url(dlq_url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| error("ChangeMessageVisibility", dlq_url, e))?;
    }
    Ok(seen)
}

/// Moves every message from `dlq_url` back to `source_url`; returns how many.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    source_url: &str,
) -> Result<usize, DlqError> {
    let mut moved = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| error("ReceiveMessage", dlq_url, e))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for m in messages {
            let (Some(body), Some(receipt)) = (m.body, m.receipt_handle) else {
                continue;
            };
            sqs.send_message()
                .queue_url(source_url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| error("SendMessage", source_url, e))?;
            sqs.delete_message()
                .queue_url(dlq_url)
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|e| error("DeleteMessage", dlq_url, e))?;
            moved += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dead_letter_queue_of;

    #[test]
    fn every_source_queue_has_its_dlq_named_after_it() {
        assert_eq!(
            dead_letter_queue_of("TasksQueue").as_deref(),
            Some("TasksDLQ")
        );
        assert_eq!(
            dead_letter_queue_of("AmazonNotificationsQueue").as_deref(),
            Some("AmazonNotificationsDLQ")
        );
        assert_eq!(dead_letter_queue_of("Queue"), None);
        assert_eq!(dead_letter_queue_of("TasksDLQ"), None);
    }
}
