//! AWS adapters: DynamoDB stores, SQS queues, Secrets Manager. The endpoint comes from the
//! standard `AWS_ENDPOINT_URL`, so the same code talks to AWS, moto server or LocalStack.

pub mod cash;
pub mod dlq;
pub mod history;
pub mod idempotency;
pub mod inbound;
pub mod item;
pub mod outbox;
pub mod queue;
pub mod reports;
pub mod reviews;
pub mod secrets;
pub mod shipments;
pub mod stores;

use crate::error::{Classify, Transience};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// A failed AWS call, classified.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("{operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
        transient: bool,
    },
    /// An item in a table does not have the shape this code writes: a bug or a manual edit.
    #[error("stored item {key} is malformed: {problem}")]
    Corrupt { key: String, problem: String },
    /// A conditional write lost in a way the protocol says cannot happen (e.g. a second,
    /// different task id for one shipment). Loud, permanent, and reviewed by a person.
    #[error("conflict on {key}: {problem}")]
    Conflict { key: String, problem: String },
}

impl Classify for AwsError {
    fn transience(&self) -> Transience {
        match self {
            AwsError::Call {
                transient: true, ..
            } => Transience::Transient,
            _ => Transience::Permanent,
        }
    }
}

/// Error codes AWS documents as "retry later" across DynamoDB, SQS and Secrets Manager.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "InternalServiceError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "LimitExceededException",
    "RequestThrottled",
];

/// Classifies any SDK error: no answer (timeout, connection) and throttling are transient;
/// a service's "no" is permanent.
/// A conditional write's result: `Some(output)` when it was applied, `None` when its
/// condition did not hold (another writer got there first: an expected answer, not an
/// error), and the classified error otherwise.
pub fn conditional<T, E, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error().and_then(|s| s.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(operation, e)),
    }
}

/// One item by its partition key, read consistently (every read that decides a write is).
pub async fn get_by_pk(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Result<Option<item::Item>, AwsError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", item::s(pk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify("GetItem", e))?;
    Ok(out.item)
}

/// Every item of a table, page by page (consistent reads). For the small tables an operator
/// or the demo lists whole: the review inbox, the outbox, shipments in tests.
pub async fn scan_all(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<item::Item>, AwsError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("Scan", e))?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// Every item under one partition key, in sort-key order, page by page (consistent reads).
pub async fn query_pk(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Result<Vec<item::Item>, AwsError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", item::s(pk))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

pub fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let (transient, message) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            (
                TRANSIENT_CODES.contains(&code),
                format!("{code}: {}", e.message().unwrap_or("")),
            )
        }
        SdkError::ConstructionFailure(_) => (false, format!("{err:?}")),
        _ => (
            true,
            format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)),
        ),
    };
    AwsError::Call {
        operation,
        message,
        transient,
    }
}
