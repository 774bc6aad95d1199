//! courier-bridge's AWS adapters: the domain's ports on DynamoDB ([`dynamo`]), SQS
//! ([`sqs`], [`batch`] for the SQS event source, [`dlq`]), Secrets Manager ([`secrets`])
//! and S3 ([`reports`], feature `s3`), plus what every function needs around them: typed
//! configuration from the environment ([`config`]), logs ([`telemetry`]) and CloudWatch
//! metrics ([`metrics`]).
//!
//! The endpoint comes from the SDK's standard `AWS_ENDPOINT_URL` (and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>`), so the same code talks to AWS or to an emulator.

pub mod batch;
pub mod config;
pub mod dlq;
pub mod dynamo;
#[cfg(feature = "geo")]
pub mod geo;
pub mod metrics;
#[cfg(feature = "s3")]
pub mod reports;
pub mod secrets;
pub mod sqs;
#[cfg(feature = "s3")]
pub mod stack;
pub mod telemetry;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use domain::StorageError;

/// Error codes AWS documents as "retry later" across DynamoDB, SQS, S3 and Secrets Manager.
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
    "SlowDown",
];

/// Classifies any SDK error: no answer (timeout, connection) and throttling are transient;
/// a service's "no" is permanent.
pub fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> StorageError
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
        _ => (true, format!("{}", DisplayErrorContext(&err))),
    };
    StorageError::Call {
        operation,
        message,
        transient,
    }
}

/// A conditional write's result: `Some(output)` when it was applied, `None` when its
/// condition did not hold (another writer got there first: an expected answer, not an
/// error), and the classified error otherwise. The one place a
/// `ConditionalCheckFailedException` is read.
pub fn conditional<T, E, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, StorageError>
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
