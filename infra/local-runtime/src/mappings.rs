//! SQS event source mappings, as Lambda runs them: long-poll the queue, hand a batch of up to
//! `batch_size` records to the handler, delete the records it did not report as failed, and
//! leave the failed ones to come back after their visibility timeout (which the handler set
//! for its backoff). The emulator counts receives and moves a message to the DLQ after the
//! queue's `maxReceiveCount`, as SQS does.

use crate::functions::Function;
use crate::process::FunctionProcesses;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::watch;

pub struct Mapping {
    /// The function, built in this process (its handler is called here unless it runs as
    /// its own binary, see `process`).
    pub function: Arc<Function>,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: u32,
    /// Long-poll wait; also how quickly a poller notices shutdown.
    pub wait_secs: u32,
    /// The function's processes, when it runs as its own binary; else its handler is
    /// called here.
    pub process: Option<Arc<FunctionProcesses>>,
}

/// Invokes the function's process with the event as Lambda would send it. An error or a
/// timeout fails the whole batch, as on Lambda: every record comes back after its
/// visibility timeout.
async fn invoke_process(process: &FunctionProcesses, event: SqsEvent) -> SqsBatchResponse {
    let ids: Vec<String> = event
        .records
        .iter()
        .filter_map(|r| r.message_id.clone())
        .collect();
    let answer = match serde_json::to_vec(&event) {
        Ok(bytes) => process.invoke(bytes).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let parsed = answer.and_then(|bytes| {
        serde_json::from_slice::<SqsBatchResponse>(&bytes).map_err(|e| e.to_string())
    });
    parsed.unwrap_or_else(|error| {
        tracing::warn!(function = %process.logical_id, %error, "invocation failed; the batch returns to the queue");
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = ids
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        response
    })
}

/// Polls until `stop` turns true.
pub async fn poll(mapping: Arc<Mapping>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let received = tokio::select! {
            r = mapping
                .sqs
                .receive_message()
                .queue_url(&mapping.queue_url)
                .max_number_of_messages(mapping.batch_size.clamp(1, 10) as i32)
                .wait_time_seconds(mapping.wait_secs as i32)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send() => r,
            _ = stop.changed() => return,
        };
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(queue = %mapping.queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let receipts: Vec<(String, String)> = messages
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
            .collect();
        let mut event = SqsEvent::default();
        event.records = messages
            .into_iter()
            .map(|m| to_record(m, &mapping.queue_arn))
            .collect();
        let response = match &mapping.process {
            Some(process) => invoke_process(process, event).await,
            None => mapping.function.invoke_sqs(event).await,
        };
        let failed: HashSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        let done: Vec<DeleteMessageBatchRequestEntry> = receipts
            .into_iter()
            .filter(|(id, _)| !failed.contains(id))
            .enumerate()
            .filter_map(|(i, (_, receipt))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty() {
            if let Err(e) = mapping
                .sqs
                .delete_message_batch()
                .queue_url(&mapping.queue_url)
                .set_entries(Some(done))
                .send()
                .await
            {
                // As on Lambda: undeleted records are delivered again; handlers are idempotent.
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete failed");
            }
        }
    }
}

fn to_record(message: aws_sdk_sqs::types::Message, queue_arn: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id;
    record.receipt_handle = message.receipt_handle;
    record.body = message.body;
    record.md5_of_body = message.md5_of_body;
    record.attributes = message
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(queue_arn.to_owned());
    record
}
