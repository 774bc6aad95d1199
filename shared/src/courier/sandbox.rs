//! The sandbox courier's HTTP API (docs/sandbox-courier-api.md): bearer key, an
//! `Idempotency-Key` header, lookup by reference. It is also the model for a generic REST
//! courier.

use super::{classify_send_error, retry_after, Courier, CourierError, CourierTask};
use crate::domain::Shipment;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

/// What the courier secret holds (Secrets Manager, `{prefix}courier/sandbox`).
#[derive(Clone, Deserialize)]
pub struct SandboxCredentials {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for SandboxCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxCredentials")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

pub struct SandboxCourier {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

#[derive(Debug, Deserialize)]
struct TaskBody {
    id: String,
    tracking_number: String,
    tracking_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TaskList {
    tasks: Vec<TaskBody>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize, Serialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
}

impl From<TaskBody> for CourierTask {
    fn from(t: TaskBody) -> Self {
        CourierTask {
            task_id: t.id,
            tracking_number: t.tracking_number,
            tracking_url: t.tracking_url,
        }
    }
}

impl SandboxCourier {
    /// `http` carries the per-request timeout: a create that times out is ambiguous, so
    /// keep it well under the idempotency lease.
    pub fn new(http: reqwest::Client, credentials: SandboxCredentials) -> Self {
        SandboxCourier {
            http,
            base_url: credentials.base_url.trim_end_matches('/').to_owned(),
            api_key: credentials.api_key,
        }
    }

    async fn error_from(response: reqwest::Response) -> CourierError {
        let status = response.status();
        let wait = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| match b.error.field {
                Some(field) => format!("{}: {} ({field})", b.error.code, b.error.message),
                None => format!("{}: {}", b.error.code, b.error.message),
            })
            .unwrap_or(text);
        match status.as_u16() {
            429 => CourierError::RateLimited { retry_after: wait },
            401 | 403 => CourierError::Config(format!("{status}: {message}")),
            s if status.is_server_error() => CourierError::Unavailable(format!("{s}: {message}")),
            s => CourierError::Rejected { status: s, message },
        }
    }
}

fn task_request(reference: &str, s: &Shipment) -> serde_json::Value {
    let a = &s.address;
    json!({
        "reference": reference,
        "recipient": {
            "name": s.recipient.name,
            "phone": s.recipient.phone.as_ref().map(|p| &p.e164),
            "email": s.recipient.email,
            "alternate_contact": s.recipient.alternate_contact.as_ref().map(|c| &c.address),
        },
        "destination": {
            "line1": a.street_line(),
            "line2": a.details_line(),
            "city": a.city,
            "region": a.region,
            "postal_code": a.postal_code,
            "country_code": a.country_code,
            "latitude": a.latitude,
            "longitude": a.longitude,
        },
        "parcel": {"pieces": s.parcel.pieces, "weight_grams": s.parcel.weight_grams},
        "cash_on_delivery": s.payment.cod_amount().map(|m| json!({
            "amount_minor": m.minor,
            "currency": m.currency.code(),
        })),
        "notes": s.notes.to_text(a.intercom.as_deref()),
        "service": s.service.as_str(),
        "complete_after": s.window.as_ref().and_then(|w| w.start.format(&Rfc3339).ok()),
        "complete_before": s.window.as_ref().and_then(|w| w.end.format(&Rfc3339).ok()),
    })
}

#[async_trait]
impl Courier for SandboxCourier {
    fn name(&self) -> &str {
        "sandbox"
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        let response = self
            .http
            .post(format!("{}/v1/tasks", self.base_url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", reference)
            .json(&task_request(reference, shipment))
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        if !response.status().is_success() {
            return Err(Self::error_from(response).await);
        }
        // The task exists once the courier answered 2xx: an unreadable body is ambiguous,
        // not a failure to create.
        response
            .json::<TaskBody>()
            .await
            .map(CourierTask::from)
            .map_err(|e| CourierError::Ambiguous(format!("unreadable success response: {e}")))
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        let response = self
            .http
            .get(format!("{}/v1/tasks", self.base_url))
            .bearer_auth(&self.api_key)
            .query(&[("reference", reference)])
            .send()
            .await
            // A lookup has no side effect: any failure is simply "try again".
            .map_err(|e| CourierError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Self::error_from(response).await);
        }
        let list: TaskList = response
            .json()
            .await
            .map_err(|e| CourierError::Unavailable(format!("unreadable lookup response: {e}")))?;
        Ok(list.tasks.into_iter().next().map(CourierTask::from))
    }

    async fn update_task(
        &self,
        _task_id: &str,
        _reference: &str,
        _shipment: &Shipment,
    ) -> Result<(), CourierError> {
        Err(CourierError::Config(
            "sandbox update_task: not built yet".into(),
        ))
    }

    async fn cancel_task(&self, _task_id: &str) -> Result<(), CourierError> {
        Err(CourierError::Config(
            "sandbox cancel_task: not built yet".into(),
        ))
    }
}
