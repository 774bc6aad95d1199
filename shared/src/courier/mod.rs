//! Couriers: where a shipment becomes a delivery task. Adding a courier is one module that
//! implements [`Courier`].

pub mod event;
pub mod onfleet;
pub mod sandbox;

use crate::domain::Shipment;
use crate::error::{Classify, Transience};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a courier gives back for a task: enough to track it and to write it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierTask {
    pub task_id: String,
    pub tracking_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

#[async_trait]
pub trait Courier: Send + Sync {
    /// A short, stable name ("sandbox", "onfleet"), stored with each task.
    fn name(&self) -> &str;

    /// Creates the task. `reference` is our idempotency reference: the courier stores it so
    /// that [`Courier::find_by_reference`] can find the task after an ambiguous failure.
    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError>;

    /// The task carrying `reference`, if the courier has one.
    async fn find_by_reference(&self, reference: &str)
        -> Result<Option<CourierTask>, CourierError>;

    /// Replaces what the courier was told about the delivery (address, contact, window,
    /// notes, COD amount) on an existing task. Idempotent: the same update twice is the same
    /// task. [`CourierError::TooLate`] when the parcel is already picked up.
    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError>;

    /// Cancels the task. Idempotent: cancelling a cancelled task succeeds.
    /// [`CourierError::TooLate`] when the parcel is already with the driver or delivered.
    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError>;
}

#[derive(Debug, thiserror::Error)]
pub enum CourierError {
    /// The request did not reach the courier, or the courier said "not now" (5xx).
    #[error("courier unavailable: {0}")]
    Unavailable(String),
    /// 429: the courier's rate limit.
    #[error("courier rate limit reached")]
    RateLimited { retry_after: Option<Duration> },
    /// The request may have reached the courier and done its work (timeout after sending, a
    /// cut connection, an unreadable success). Never re-create blindly after this.
    #[error("courier outcome unknown: {0}")]
    Ambiguous(String),
    /// A 4xx answer: the courier will refuse this request every time.
    #[error("courier rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The task has moved past the point where this change is possible (picked up, out for
    /// delivery, delivered): a dispatcher must act.
    #[error("too late for the courier to change the task (status {status})")]
    TooLate { status: String },
    /// The courier could not place the address (not found, or several candidates): the
    /// customer is asked to clarify it.
    #[error("courier could not place the address: {message}")]
    AddressUnresolved { ambiguous: bool, message: String },
    /// Our own configuration (e.g. the API key) is wrong: retrying won't help, people must.
    #[error("courier configuration: {0}")]
    Config(String),
}

impl CourierError {
    /// Whether the courier may have acted on the request although we saw no success.
    pub fn may_have_succeeded(&self) -> bool {
        matches!(self, CourierError::Ambiguous(_))
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CourierError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

impl Classify for CourierError {
    fn transience(&self) -> Transience {
        match self {
            CourierError::Unavailable(_)
            | CourierError::RateLimited { .. }
            | CourierError::Ambiguous(_)
            // A wrong key is fixed by an operator, after which the waiting messages must
            // still go through: keep them in the retry/DLQ path, not in review.
            | CourierError::Config(_) => Transience::Transient,
            CourierError::Rejected { .. }
            | CourierError::TooLate { .. }
            | CourierError::AddressUnresolved { .. } => Transience::Permanent,
        }
    }
}

/// Maps a reqwest failure to what it means for an idempotent create: a connection that was
/// never made is safe to retry as new; anything after the request was sent is ambiguous.
pub fn classify_send_error(err: &reqwest::Error) -> CourierError {
    if err.is_connect() || err.is_builder() {
        CourierError::Unavailable(err.to_string())
    } else {
        CourierError::Ambiguous(err.to_string())
    }
}

/// Reads `Retry-After` in seconds (the form couriers use; HTTP dates are rare in APIs).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The configured courier (`COURIER_NAME`), with its credentials from Secrets Manager
/// (`{prefix}courier/{name}`, cached).
pub async fn configured(
    services: &crate::services::Services,
) -> Result<Box<dyn Courier>, CourierError> {
    let name = services.config.courier_name.as_str();
    match name {
        "sandbox" => {
            let credentials = services
                .secrets
                .get_json::<sandbox::SandboxCredentials>("courier/sandbox")
                .await
                .map_err(|e| CourierError::Config(e.to_string()))?;
            Ok(Box::new(sandbox::SandboxCourier::new(
                services.http.clone(),
                credentials,
            )))
        }
        "onfleet" => {
            let credentials = services
                .secrets
                .get_json::<onfleet::client::OnfleetCredentials>("courier/onfleet")
                .await
                .map_err(|e| CourierError::Config(e.to_string()))?;
            Ok(Box::new(onfleet::client::OnfleetCourier::new(
                services.http.clone(),
                credentials,
            )))
        }
        other => Err(CourierError::Config(format!(
            "unknown courier {other:?} (COURIER_NAME)"
        ))),
    }
}

/// The carrier name a store shows its customer next to the tracking number.
pub fn display_name(courier: &str) -> String {
    match courier {
        "sandbox" => "courier-bridge Sandbox Courier".into(),
        "onfleet" => "Onfleet".into(),
        other => other.to_owned(),
    }
}
