//! Running an SQS batch the way Lambda's event source mapping expects: each record on its
//! own, a partial batch response naming the failures, and every failure hidden for an
//! exponentially growing, jittered delay (`ChangeMessageVisibility`) before its retry. After
//! the queue's `maxReceiveCount` receives, SQS moves it to the DLQ. A record that cannot even
//! be read fails too: it reaches the DLQ, never a panic or a silent success.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::StorageError;
use futures::stream::{self, StreamExt};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// Why a record failed; the record goes back to its queue either way.
#[derive(Debug)]
pub enum Retry {
    /// Back off per the policy; `at_least` honours a partner's `Retry-After`.
    Backoff {
        at_least: Option<Duration>,
        error: String,
    },
    /// Another attempt holds the work (a live idempotency lease): come back when it ends.
    After(Duration),
    /// The message itself is unreadable; retrying only walks it to the DLQ.
    Poison(String),
}

impl Retry {
    /// The path of an error that says whether trying again can help: a transient one backs
    /// off (at least `at_least`, a partner's `Retry-After`), a permanent one can never
    /// succeed, so its message walks to the DLQ where a person sees it.
    pub fn classified<E: domain::Classify + std::fmt::Display>(
        error: &E,
        at_least: Option<Duration>,
    ) -> Retry {
        if error.is_transient() {
            Retry::Backoff {
                at_least,
                error: error.to_string(),
            }
        } else {
            Retry::Poison(error.to_string())
        }
    }

    /// A transient failure with no partner's wait to honour.
    pub fn backoff(error: impl std::fmt::Display) -> Retry {
        Retry::Backoff {
            at_least: None,
            error: error.to_string(),
        }
    }
}

/// Exponential backoff with "equal jitter": between half and all of
/// `min(max, base * 2^(receives - 1))`, so retries spread out but always grow.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, receive_count: u32) -> Duration {
        let exponent = receive_count.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.max);
        let half = ceiling / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

/// Hides a received message for a while before its retry (SQS's
/// `ChangeMessageVisibility`; a fake in the fast tests).
#[async_trait]
pub trait RetryDelay: Send + Sync {
    async fn delay_retry(&self, receipt_handle: &str, delay: Duration) -> Result<(), StorageError>;
}

/// How many records of one batch run at once.
const CONCURRENCY: usize = 10;

/// Processes every record of `event` with `handle` and builds the partial batch response.
pub async fn process<F, Fut>(
    event: SqsEvent,
    queue: &dyn RetryDelay,
    backoff: Backoff,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), Retry>>,
{
    let handle = &handle;
    let failures: Vec<String> = stream::iter(event.records)
        .map(|record| async move {
            let id = record.message_id.clone().unwrap_or_default();
            let receipt = record.receipt_handle.clone();
            let receives = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let span = tracing::info_span!("message", message_id = %id, receives);
            let outcome = tracing::Instrument::instrument(handle(record), span.clone()).await;
            let delay = match outcome {
                Ok(()) => return None,
                Err(Retry::Backoff { at_least, error }) => {
                    let delay = backoff.delay(receives).max(at_least.unwrap_or_default());
                    tracing::warn!(parent: &span, %error, retry_in_ms = delay.as_millis() as u64, "transient failure, will retry");
                    delay
                }
                Err(Retry::After(delay)) => {
                    tracing::info!(parent: &span, retry_in_ms = delay.as_millis() as u64, "work in progress elsewhere, will retry");
                    delay
                }
                Err(Retry::Poison(error)) => {
                    tracing::error!(parent: &span, %error, "unreadable message, on its way to the DLQ");
                    Duration::ZERO
                }
            };
            if let Some(receipt) = receipt {
                // SQS visibility has whole seconds; round up so a short delay is not zero.
                let delay = Duration::from_secs(delay.as_secs() + u64::from(delay.subsec_nanos() > 0));
                if let Err(e) = queue.delay_retry(&receipt, delay).await {
                    tracing::warn!(parent: &span, error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
            }
            Some(id)
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for id in failures {
        response.add_failure(id);
    }
    response
}

/// Fails every record of the batch (they come back after the visibility timeout): for a
/// function that cannot work at all, e.g. misconfigured.
pub fn fail_all(event: &SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        response.add_failure(record.message_id.clone().unwrap_or_default());
    }
    response
}

/// Reads a record's JSON body into `T`, or says why it is poison.
pub fn parse_body<T: serde::de::DeserializeOwned>(record: &SqsMessage) -> Result<T, Retry> {
    let body = record
        .body
        .as_deref()
        .ok_or_else(|| Retry::Poison("message has no body".into()))?;
    serde_json::from_str(body)
        .map_err(|e| Retry::Poison(format!("message body is not the expected JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_stops_at_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        for _ in 0..200 {
            let first = backoff.delay(1);
            assert!(
                first >= Duration::from_secs(1) && first <= Duration::from_secs(2),
                "{first:?}"
            );
            let fourth = backoff.delay(4);
            assert!(
                fourth >= Duration::from_secs(8) && fourth <= Duration::from_secs(16),
                "{fourth:?}"
            );
            let late = backoff.delay(30);
            assert!(
                late >= Duration::from_secs(30) && late <= Duration::from_secs(60),
                "{late:?}"
            );
        }
    }
}
